// S3 failures as BackendErrors: what the caller should do (retry, give up, fix credentials), in one
// line that names the operation and the key but never a credential.
import { BackendError, type BackendErrorKind } from '../errors.js';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const authCodes = new Set([
  'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken',
  'TokenRefreshRequired', 'InvalidClientTokenId', 'AllAccessDisabled', 'AccountProblem', 'CredentialsProviderError',
  'RequestTimeTooSkewed',
]);
const transientCodes = new Set([
  'SlowDown', 'RequestTimeout', 'ServiceUnavailable', 'InternalError', 'Throttling', 'ThrottlingException',
  'RequestThrottled', 'TooManyRequestsException', 'TimeoutError', 'RequestTimeoutException', 'OperationAborted',
]);
const networkCodes = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED',
  'ENETDOWN', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET',
]);

export interface ClassifyContext {
  /** "put", "read", "list", "delete" */
  operation: string;
  /** bucket/key as shown to the user */
  what: string;
  bucket: string;
  endpoint: string;
  /** where the credentials came from, for auth hints */
  credentialSource: string;
  /** strings that must never appear in a message (secret key, session token) */
  secrets: readonly string[];
}

export function classifyS3Error(err: unknown, context: ClassifyContext): BackendError {
  if (err instanceof BackendError) return err;
  const e = (err ?? {}) as SdkError;
  const code = e.Code ?? e.code ?? e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const detail = scrub(firstLine(e.message), context.secrets);
  const where = `S3 ${context.operation} ${context.what}`;
  const make = (kind: BackendErrorKind, why: string, hint?: string) =>
    new BackendError(kind, `${where}: ${why}`, { hint, cause: err });
  const described = `${code}${status ? ` (HTTP ${status})` : ''}${detail && detail !== code && detail !== 'UnknownError' ? `: ${detail}` : ''}`;

  if (code === 'AbortError' || code === 'ABORT_ERR') return make('permanent', 'cancelled');
  if (code === 'NoSuchBucket') {
    return make('not-found', `the bucket "${context.bucket}" does not exist at ${context.endpoint}`,
      'create the bucket first (Lifeboat, like duplicity\'s boto3 backend, does not create buckets), or fix the bucket name, --s3-endpoint-url or --s3-region-name');
  }
  if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) return make('not-found', described, 'the file is not at the target');
  if (code === 'InvalidObjectState') {
    return make('permanent', described, 'the object is in Glacier or Deep Archive: restore it to S3 first (aws s3api restore-object), then read again');
  }
  if (code === 'CredentialsProviderError' || /could not load credentials/i.test(e.message ?? '')) {
    return make('auth', 'no AWS credentials found', 'export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or set AWS_PROFILE to a profile in ~/.aws/credentials');
  }
  // Backblaze B2's S3 API answers a full account with 403
  if (/storage cap exceeded|quota exceeded/i.test(e.message ?? '') || code === 'QuotaExceeded') {
    return make('no-space', described, 'the storage account is full: raise its cap or free space');
  }
  if (code === 'RequestTimeTooSkewed') return make('auth', described, 'this machine\'s clock is off: sync it (NTP), then run again');
  if (code === 'AccessDenied' && context.operation === 'delete') {
    return make('auth', described, `these credentials may not delete (or the object is under Object Lock): purge and cleanup need s3:DeleteObject; give them other credentials with LIFEBOAT_PURGE_AWS_ACCESS_KEY_ID and LIFEBOAT_PURGE_AWS_SECRET_ACCESS_KEY (docs/hardening.md)`);
  }
  if (authCodes.has(code) || status === 401 || status === 403) {
    return make('auth', described, `check the key (from ${context.credentialSource}) and its permissions on bucket "${context.bucket}"`);
  }
  if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || status === 301) {
    return make('permanent', described, `the bucket is in another region: pass --s3-region-name (or set AWS_DEFAULT_REGION)`);
  }
  if (code === 'ENOTFOUND') {
    return make('permanent', `cannot resolve the host of ${context.endpoint}`, 'check --s3-endpoint-url or the URL\'s host; for a custom endpoint without per-bucket DNS, leave out --s3-use-new-style');
  }
  if (transientCodes.has(code) || networkCodes.has(code) || (status !== undefined && (status >= 500 || status === 429 || status === 408))) {
    return make('transient', described, code === 'ECONNREFUSED' ? `is the S3 server at ${context.endpoint} running?` : undefined);
  }
  return make('permanent', described);
}

function firstLine(text: string | undefined): string {
  const line = (text ?? '').split('\n')[0].trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('***');
  return out;
}
