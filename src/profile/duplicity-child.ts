// Each duplicity command of a profile runs as `lifeboat duplicity ...` in a child process, as duply runs
// duplicity: the exit status is the command's, passwords travel in the environment, and DUPL_PRECMD
// (nice, trickle, ionice) can wrap it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const lifeboatBin = fileURLToPath(new URL('../../../bin/lifeboat.js', import.meta.url));

export interface ChildIo {
  /** stdout and stderr of the child go to the terminal directly (progress is shown there) */
  inherit: boolean;
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

export function runLifeboatDuplicity(argv: string[], env: Record<string, string>, precmd: string | undefined, io: ChildIo): Promise<number> {
  const [program, args] = precmd
    ? ['bash', ['-c', `${precmd} "$@"`, 'lifeboat', process.execPath, lifeboatBin, 'duplicity', ...argv]]
    : [process.execPath, [lifeboatBin, 'duplicity', ...argv]];
  return new Promise((resolve) => {
    const child = spawn(program, args, { env, stdio: io.inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', io.stdout);
    child.stderr?.on('data', io.stderr);
    child.on('error', (err) => {
      io.stderr(Buffer.from(`cannot start ${program}: ${err.message}\n`));
      resolve(127);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 4 : 128)));
  });
}
