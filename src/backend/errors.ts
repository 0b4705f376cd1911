// Backend errors classified by what a caller should do about them (retry, give up, tell the user).
import { ExitCode, type ExitCodeNumber } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';

export type BackendErrorKind = 'not-found' | 'auth' | 'no-space' | 'transient' | 'permanent';

const exitCodes: Record<BackendErrorKind, ExitCodeNumber> = {
  'not-found': ExitCode.backendNotFound,
  auth: ExitCode.backendPermissionDenied,
  'no-space': ExitCode.backendNoSpace,
  transient: ExitCode.backendError,
  permanent: ExitCode.backendError,
};

export class BackendError extends LifeboatError {
  readonly kind: BackendErrorKind;
  /** the server asked to wait this long before trying again (HTTP Retry-After, B2's back-off) */
  readonly retryAfterMs: number | undefined;

  constructor(kind: BackendErrorKind, message: string, options: { hint?: string; cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, { code: `backend-${kind}`, exitCode: exitCodes[kind], hint: options.hint, cause: options.cause });
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
  }

  override get name(): string {
    return 'BackendError';
  }
}

/**
 * An HTTP Retry-After value in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3);
 * undefined when absent or unreadable. For backends that set BackendError.retryAfterMs.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
