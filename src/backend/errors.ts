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

  constructor(kind: BackendErrorKind, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { code: `backend-${kind}`, exitCode: exitCodes[kind], hint: options.hint, cause: options.cause });
    this.kind = kind;
  }

  override get name(): string {
    return 'BackendError';
  }
}
