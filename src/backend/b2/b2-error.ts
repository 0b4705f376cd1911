// B2's error answers ({status, code, message} in JSON, plus Retry-After on 429/503) and what a
// caller should do about each, as B2's documentation lists them. Messages never carry credentials:
// only the API name, the status, B2's code and B2's message (which names files, never keys).
import { BackendError, type BackendErrorKind } from '../errors.js';

export class B2ApiError extends Error {
  constructor(
    readonly api: string,
    readonly status: number,
    readonly code: string,
    message: string,
    /** from Retry-After, when B2 sent one */
    readonly retryAfterMs?: number,
  ) {
    super(`B2 ${api}: ${status} ${code}${message ? `: ${message}` : ''}`);
  }

  override get name(): string {
    return 'B2ApiError';
  }
}

/** A connection that could not be made or broke: B2 says to retry (with a new upload URL for uploads). */
export class B2ConnectionError extends Error {
  constructor(readonly api: string, cause: unknown) {
    super(`B2 ${api}: connection failed (${describeNetworkError(cause)})`);
  }

  override get name(): string {
    return 'B2ConnectionError';
  }
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

export async function errorFromResponse(api: string, response: Response): Promise<B2ApiError> {
  let code = 'unknown';
  let message = '';
  try {
    const body = await response.json() as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON (a proxy's page, or a HEAD answer): the status says enough
  }
  return new B2ApiError(api, response.status, code, message, retryAfter(response.headers.get('retry-after')));
}

/** Retry-After as seconds or an HTTP date, in milliseconds. */
export function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** B2's documented retry rule: 408, 429 and every 5xx, and broken or refused connections. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof B2ConnectionError) return true;
  return err instanceof B2ApiError && (err.status === 408 || err.status === 429 || err.status >= 500);
}

export function isExpiredToken(err: unknown): boolean {
  return err instanceof B2ApiError && err.status === 401 && err.code === 'expired_auth_token';
}

/** The BackendError a caller sees once the B2-level retries are used up (or do not apply). */
export function toBackendError(err: unknown, what?: string): BackendError {
  const prefix = what ? `${what}: ` : '';
  if (err instanceof BackendError) return err;
  if (err instanceof B2ConnectionError) {
    return new BackendError('transient', `${prefix}${err.message}`, { cause: err, hint: 'check the network connection to Backblaze B2' });
  }
  if (!(err instanceof B2ApiError)) {
    return new BackendError('permanent', `${prefix}${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  const [kind, hint] = classify(err);
  return new BackendError(kind, `${prefix}${err.message}`, { cause: err, hint });
}

function classify(err: B2ApiError): [BackendErrorKind, string | undefined] {
  if (isRetryable(err)) return ['transient', 'B2 is busy or unavailable; try again later'];
  if (err.code.includes('cap_exceeded')) return ['no-space', 'a B2 cap is reached: raise it under "Caps & Alerts" in the B2 web UI'];
  switch (err.status) {
    case 401:
      if (err.api === 'b2_authorize_account') return ['auth', 'B2 refused the key: check the key ID (URL user) and the application key (FTP_PASSWORD or URL password)'];
      if (err.code === 'expired_auth_token') return ['auth', 'B2 kept expiring the authorization; try again'];
      if (err.code === 'unauthorized') return ['auth', 'the B2 application key lacks a capability or access to this bucket or folder'];
      return ['auth', 'check the B2 key ID (URL user) and application key (URL password or FTP_PASSWORD)'];
    case 403:
      return ['auth', 'B2 denied access to this bucket or file'];
    case 404:
      return ['not-found', undefined];
    case 400:
      if (err.code === 'bad_bucket_id') return ['not-found', 'the bucket does not exist (any more)'];
      if (err.code === 'file_not_present' || err.code === 'no_such_file') return ['not-found', undefined];
      return ['permanent', undefined];
    default:
      return ['permanent', undefined];
  }
}
