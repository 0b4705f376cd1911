// Turns any thrown value into what the user sees: "lifeboat: <what failed>: <why>" and "hint: ...".
// Stack traces only at debug verbosity; an unexpected error is reported as a bug, never as a trace.
import { ExitCode } from './exit-codes.js';
import { LifeboatError } from './lifeboat-error.js';

export interface FormattedError {
  text: string;
  exitCode: number;
}

/** Node's system errors (ENOENT, EACCES, ...) are the user's environment, not our bugs. */
const systemErrorHints: Record<string, string> = {
  ENOENT: 'check the path',
  EACCES: 'check the permissions, or run as a user that may access it',
  EPERM: 'check the permissions, or run as a user that may access it',
  EISDIR: 'give a file, not a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOSPC: 'free some disk space and run again',
  EEXIST: 'remove it first, or use --force where the command offers it',
  EROFS: 'the file system is read-only',
  EBUSY: 'something is mounted there or it is in use: unmount it, or give another path',
};

export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' &&
    (err as NodeJS.ErrnoException).syscall !== undefined;
}

export function formatError(err: unknown, options: { debug: boolean }): FormattedError {
  const lines: string[] = [];
  let exitCode: number;
  if (err instanceof LifeboatError) {
    lines.push(`lifeboat: ${err.message}`);
    if (err.hint) lines.push(`hint: ${err.hint}`);
    exitCode = err.exitCode;
  } else if (isSystemError(err)) {
    const where = err.path ? `${err.path}: ` : '';
    lines.push(`lifeboat: ${where}${describeSystemError(err)}`);
    const hint = systemErrorHints[err.code ?? ''];
    if (hint) lines.push(`hint: ${hint}`);
    exitCode = ExitCode.userError;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    lines.push(`lifeboat: unexpected error: ${message}`);
    lines.push('hint: this is a bug in Lifeboat; run again with "-v debug" and report what it prints');
    exitCode = ExitCode.unexpected;
  }
  if (options.debug && err instanceof Error && err.stack) lines.push(err.stack);
  return { text: lines.join('\n') + '\n', exitCode };
}

function describeSystemError(err: NodeJS.ErrnoException): string {
  const known: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
    ENOSPC: 'no space left on device',
    EEXIST: 'already exists',
    EROFS: 'read-only file system',
    EBUSY: 'device or resource busy',
  };
  return known[err.code ?? ''] ?? `${err.syscall} failed: ${err.code}`;
}
