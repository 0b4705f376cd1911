// pre and post scripts as duply runs them (specs/duply.md §10): an executable runs directly, a readable
// non-executable one is sourced by bash; the output is collected and shown after the script ends.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export interface HookResult {
  /** undefined when there is no readable script: duply counts that as success */
  code?: number;
  output: string;
}

/** Output beyond this is cut from the middle: a runaway script must not fill memory. */
const MAX_OUTPUT = 1 << 20;

export function hookState(path: string): 'missing' | 'executable' | 'sourced' {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    try {
      accessSync(path, constants.X_OK);
      return 'executable';
    } catch {
      return 'missing';
    }
  }
  try {
    accessSync(path, constants.X_OK);
    return 'executable';
  } catch {
    return 'sourced';
  }
}

export function runHook(path: string, env: Record<string, string>, signal?: AbortSignal): Promise<HookResult> {
  const state = hookState(path);
  if (state === 'missing') return Promise.resolve({ output: '' });
  const [program, args] = state === 'executable' ? [path, []] : ['bash', ['-c', '. "$1"', 'bash', path]];
  return new Promise((resolve) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'], signal });
    const chunks: Buffer[] = [];
    let size = 0;
    let cut = false;
    const collect = (chunk: Buffer) => {
      if (size + chunk.length > MAX_OUTPUT) {
        cut = true;
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => resolve({ code: 126, output: `cannot run ${path}: ${err.message}` }));
    child.on('close', (code, sig) => {
      const output = Buffer.concat(chunks).toString() + (cut ? '\n[output cut at 1 MiB]\n' : '');
      resolve({ code: code ?? (sig ? 128 : 1), output });
    });
  });
}
