// Runs the `rclone` program. Its arguments hold only remote paths; credentials reach it through its
// own config file or RCLONE_CONFIG_<REMOTE>_* variables in the environment we pass on.
import { spawn, type ChildProcess } from 'node:child_process';
import { BackendError } from '../errors.js';

export interface RcloneResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RcloneRunner {
  env: NodeJS.ProcessEnv;
  /** the program to run; "rclone" from PATH */
  program: string;
}

/** Starts rclone; stdout is piped, stderr collected (for error messages). */
export function startRclone(runner: RcloneRunner, args: string[], stdin: 'pipe' | 'ignore' = 'ignore', signal?: AbortSignal): { child: ChildProcess; done: Promise<RcloneResult> } {
  const child = spawn(runner.program, args, { env: runner.env, stdio: [stdin, 'pipe', 'pipe'], signal });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => { stderr = (stderr + text).slice(-8192); });
  const done = new Promise<RcloneResult>((resolve, reject) => {
    child.once('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new BackendError('permanent', `the rclone program was not found (${runner.program})`, { hint: 'install it: apt install rclone' }));
      } else if (err.name !== 'AbortError') {
        reject(err);
      }
    });
    child.once('close', (code) => resolve({ code: code ?? 128, stdout: '', stderr }));
  });
  done.catch(() => undefined);
  return { child, done };
}

/** Runs rclone to the end, collecting stdout (for small outputs such as a directory listing). */
export async function runRclone(runner: RcloneRunner, args: string[], signal?: AbortSignal): Promise<RcloneResult> {
  const { child, done } = startRclone(runner, args, 'ignore', signal);
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  const result = await done;
  signal?.throwIfAborted();
  return { ...result, stdout: Buffer.concat(chunks).toString('utf8') };
}

/** Hides the values of credential-looking variables, in case rclone repeats one in a message. */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv): string {
  let out = text;
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= 4 && /PASS|SECRET|KEY|TOKEN|CREDENTIAL|SAS|CONNECTION_STRING/i.test(name)) {
      out = out.split(value).join('***');
    }
  }
  return out;
}

/** rclone's last error line, without its timestamp and log level. */
function lastError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (?:[A-Z]+\s*: )?/, '').trim()).filter(Boolean);
  return lines.at(-1) ?? 'no message';
}

/** rclone's exit status (its documented codes) and message as a BackendError. */
export function classifyRclone(result: RcloneResult, what: string, env: NodeJS.ProcessEnv): BackendError {
  const message = redactSecrets(lastError(result.stderr), env);
  const text = `${what}: rclone exited with ${result.code}: ${message}`;
  if (/didn't find section in config file/.test(result.stderr)) {
    return new BackendError('permanent', text, { hint: 'configure the remote with "rclone config", or set RCLONE_CONFIG_<NAME>_TYPE and its other settings in the environment' });
  }
  if (result.code === 3 || result.code === 4 || (result.code !== 5 && /not found|doesn't exist/i.test(message))) {
    return new BackendError('not-found', text, { hint: 'check the remote and path in the target URL' });
  }
  if (/permission denied|access ?denied|forbidden|unauthori[sz]ed|\b40[13]\b|invalid credentials|authenticat/i.test(result.stderr)) {
    return new BackendError('auth', text, { hint: 'check the remote\'s credentials in rclone\'s config' });
  }
  if (/no space|quota|insufficient storage|\b507\b|storage full/i.test(result.stderr)) {
    return new BackendError('no-space', text, { hint: 'free space on the remote' });
  }
  if (result.code === 5 || result.code === 128 || /timeout|timed out|connection reset|connection refused|\b50[023]\b|\b429\b|temporar/i.test(result.stderr)) {
    return new BackendError('transient', text);
  }
  return new BackendError('permanent', text);
}
