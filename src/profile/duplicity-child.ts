// Each duplicity command of a profile runs as `lifeboat duplicity ...` in a child process, as duply runs
// duplicity: the exit status is the command's, passwords travel in the environment, and DUPL_PRECMD
// (nice, trickle, ionice) can wrap it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const lifeboatBin = fileURLToPath(new URL('../../../bin/lifeboat.js', import.meta.url));
/**
 * node's flags on bin/lifeboat.js's first line, given here too: a scheduled run starts this process as
 * `node lifeboat.js` (cron's PATH may not find node), and its backups should run as the command's do
 */
const NODE_FLAGS = ['--max-semi-space-size=2'];

export interface ChildIo {
  /** stdout and stderr of the child go to the terminal directly (progress is shown there) */
  inherit: boolean;
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

export function runLifeboatDuplicity(argv: string[], env: Record<string, string>, precmd: string | undefined, io: ChildIo): Promise<number> {
  const node = [process.execPath, ...NODE_FLAGS, lifeboatBin, 'duplicity', ...argv];
  const [program, args] = precmd ? ['bash', ['-c', `${precmd} "$@"`, 'lifeboat', ...node]] : [node[0], node.slice(1)];
  // the backup runs as bin/lifeboat.js's first line starts a lifeboat: node's young generation as
  // small, glibc's malloc with one arena (peak RSS), and the caller's MALLOC_ARENA_MAX for what it runs
  const childEnv = { ...env, LIFEBOAT_CALLER_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '', MALLOC_ARENA_MAX: '1' };
  return new Promise((resolve) => {
    const child = spawn(program, args, { env: childEnv, stdio: io.inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', io.stdout);
    child.stderr?.on('data', io.stderr);
    child.on('error', (err) => {
      io.stderr(Buffer.from(`cannot start ${program}: ${err.message}\n`));
      resolve(127);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 4 : 128)));
  });
}
