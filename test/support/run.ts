// Runs a program (the lifeboat CLI, duplicity, rdiff) as a child process and collects its output.
import { spawn } from 'node:child_process';

export interface Run {
  /** the exit code; 128 when the child died of a signal */
  code: number;
  stdout: string;
  /** stdout as bytes, for output with raw (non-UTF-8) paths */
  stdoutBytes: Buffer;
  stderr: string;
  /** the command line, for assertion messages */
  command: string;
}

/** The environment oracle tests run both programs in: duplicity prints local times, so UTC. */
export const oracleEnv: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };

export const lifeboatBin = new URL('../../../bin/lifeboat.js', import.meta.url).pathname;

export function runProgram(program: string, args: string[], env: NodeJS.ProcessEnv = oracleEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code: code ?? 128, stdout: stdoutBytes.toString(), stdoutBytes, stderr: Buffer.concat(err).toString(), command: [program, ...args].join(' ') });
    });
  });
}
