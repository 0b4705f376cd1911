// The error model: every failure a user can cause or meet is a LifeboatError carrying a stable code,
// the exit code to leave with, and a hint saying what to do. Anything else that reaches the CLI is a bug.
import { ExitCode, type ExitCodeNumber } from './exit-codes.js';

export interface LifeboatErrorOptions {
  /** stable machine-readable code, e.g. 'usage', 'integrity' */
  code: string;
  exitCode: ExitCodeNumber;
  /** one line telling the user what to do about it */
  hint?: string;
  cause?: unknown;
}

export class LifeboatError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeNumber;
  readonly hint: string | undefined;

  constructor(message: string, options: LifeboatErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.exitCode = options.exitCode;
    this.hint = options.hint;
  }

  override get name(): string {
    return 'LifeboatError';
  }
}

/** The command line is wrong: unknown command or option, missing or malformed argument. */
export class UsageError extends LifeboatError {
  constructor(message: string, hint = 'run "lifeboat --help" for usage') {
    super(message, { code: 'usage', exitCode: ExitCode.usage, hint });
  }

  override get name(): string {
    return 'UsageError';
  }
}

/**
 * Data that fails its own format or checksum: a truncated or corrupt signature, delta, volume or
 * manifest. Callers branch on it to keep partial output away from final names.
 */
export class IntegrityError extends LifeboatError {
  /** byte offset in the input where the problem was found, when known */
  readonly offset: number | undefined;

  constructor(message: string, options: { offset?: number; hint?: string; cause?: unknown } = {}) {
    super(message, {
      code: 'integrity',
      exitCode: ExitCode.hashMismatch,
      hint: options.hint ?? 'the file is damaged or not what it claims to be; use another copy',
      cause: options.cause,
    });
    this.offset = options.offset;
  }

  override get name(): string {
    return 'IntegrityError';
  }
}

/** Wraps an error so its message names the file it came from, keeping code, exit code and hint. */
export function inFile(err: unknown, file: string): unknown {
  if (err instanceof IntegrityError) {
    return new IntegrityError(`${file}: ${err.message}`, { offset: err.offset, hint: err.hint, cause: err });
  }
  if (err instanceof LifeboatError) {
    return new LifeboatError(`${file}: ${err.message}`, {
      code: err.code,
      exitCode: err.exitCode,
      hint: err.hint,
      cause: err,
    });
  }
  return err;
}
