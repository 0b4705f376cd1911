// Retrying a backend's operations on transient failures (a dropped connection, HTTP 500/503/429): a
// few attempts with exponential backoff and full jitter, so many clients hitting one recovering server
// spread out instead of retrying in lockstep, and never longer than the server asks (Retry-After).
// Only errors a backend classified as 'transient' are retried: auth, not-found, no-space and permanent
// ones fail at once, as retrying them only delays the message the user needs.
import type { Readable } from 'node:stream';
import { UsageError } from '../errors/lifeboat-error.js';
import { BackendError } from './errors.js';
import type { Backend, OperationOptions, ProtectionFacts, PutSource } from './types.js';

export type RetriedOperation = 'list' | 'put' | 'read' | 'delete';

export interface RetryEvent {
  operation: RetriedOperation;
  /** the file the operation is about (none for list; the first of several for delete) */
  name?: string;
  displayUrl: string;
  /** the attempt that failed, from 1 */
  attempt: number;
  maxAttempts: number;
  /** how long the wrapper waits before the next attempt */
  delayMs: number;
  error: BackendError;
}

export interface RetryPolicy {
  /** tries in all, at least 1 (duplicity's --num-retries counts the same way) */
  maxAttempts: number;
  /** the first wait's upper bound; each further wait's bound doubles */
  baseDelayMs: number;
  /** no wait is longer than this, unless the server asks for more with Retry-After */
  maxDelayMs: number;
  /** a Retry-After longer than this is not waited for: the error is reported at once */
  maxRetryAfterMs: number;
  onRetry?(event: RetryEvent): void;
  /** for tests: a fake clock; must reject with signal.reason when the signal aborts */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
  /** for tests: the jitter's random source, [0, 1) */
  random?(): number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 2000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 5 * 60_000,
};

/**
 * The policy duplicity's options ask for: --num-retries N is the number of attempts (default 5),
 * --backend-retry-delay S the longest wait between two of them in seconds (duplicity waits exactly
 * S, default 30; we wait a random time up to min(S, 2 s doubled per attempt)).
 */
export function retryPolicyFromOptions(options: ReadonlyMap<string, string | true>, onRetry?: (event: RetryEvent) => void): RetryPolicy {
  const policy: RetryPolicy = { ...defaultRetryPolicy, onRetry };
  const attempts = options.get('num-retries');
  if (attempts !== undefined) {
    if (attempts === true || !/^\s*\d+\s*$/.test(attempts) || Number(attempts) < 1) {
      throw new UsageError(`--num-retries: "${attempts === true ? '' : attempts}" is not a whole number of at least 1`,
        'give the number of attempts, e.g. --num-retries 5');
    }
    policy.maxAttempts = Number(attempts);
  }
  const delay = options.get('backend-retry-delay');
  if (delay !== undefined) {
    if (delay === true || !/^\s*\d+(\.\d+)?\s*$/.test(delay)) {
      throw new UsageError(`--backend-retry-delay: "${delay === true ? '' : delay}" is not a number of seconds`,
        'give the longest wait between attempts in seconds, e.g. --backend-retry-delay 30');
    }
    policy.maxDelayMs = Number(delay) * 1000;
    policy.baseDelayMs = Math.min(policy.baseDelayMs, policy.maxDelayMs);
  }
  return policy;
}

/** Full jitter: a uniform wait in [0, min(max, base * 2^(attempt-1))], at least what Retry-After asks. */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = Math.floor(random() * bound);
  return retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs);
}

/** One line for the log; the URL is the display form, so no credentials. */
export function describeRetry(event: RetryEvent): string {
  const what = event.name === undefined ? event.operation : `${event.operation} ${event.name}`;
  return `${what} at ${event.displayUrl}: attempt ${event.attempt} of ${event.maxAttempts} failed (${event.error.message}); ` +
    `trying again in ${(event.delayMs / 1000).toFixed(1)} s`;
}

export function withRetry(backend: Backend, policy: RetryPolicy): Backend {
  if (!(policy.maxAttempts >= 1)) throw new RangeError('a retry policy needs at least one attempt');
  return new RetryingBackend(backend, policy);
}

class RetryingBackend implements Backend {
  readonly #inner: Backend;
  readonly #policy: RetryPolicy;

  constructor(inner: Backend, policy: RetryPolicy) {
    this.#inner = inner;
    this.#policy = policy;
  }

  get displayUrl(): string {
    return this.#inner.displayUrl;
  }

  get capabilities() {
    return this.#inner.capabilities;
  }

  /** A failed listing is started again; names it already gave are not given twice. */
  async *list(options: OperationOptions & { prefix?: string } = {}): AsyncIterable<{ name: string; size: number }> {
    const seen = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const entry of this.#inner.list(options)) {
          if (seen.has(entry.name)) continue;
          seen.add(entry.name);
          yield entry;
        }
        return;
      } catch (err) {
        await this.#beforeNextAttempt(err, attempt, 'list', undefined, options.signal);
      }
    }
  }

  async put(name: string, source: PutSource, options: OperationOptions = {}): Promise<void> {
    await this.#attempt('put', name, options.signal, async () => {
      // each attempt reads the source from its start; streams a failed attempt left open are closed
      const opened: Readable[] = [];
      let sourceError: unknown;
      const fresh: PutSource = {
        size: source.size,
        localPath: source.localPath,
        open: () => {
          const stream = source.open();
          stream.once('error', (err) => { sourceError ??= err; });
          opened.push(stream);
          return stream;
        },
      };
      try {
        await this.#inner.put(name, fresh, options);
      } catch (err) {
        for (const s of opened) s.destroy();
        // our own data failed (a spool file unreadable), not the target: however the backend
        // classified it, sending it again cannot help
        if (sourceError !== undefined && !(sourceError instanceof BackendError)) throw new FinalError(err);
        throw err;
      }
    });
  }

  async read<T>(name: string, consume: (body: Readable) => Promise<T>, options: OperationOptions = {}): Promise<T> {
    return this.#attempt('read', name, options.signal, () => this.#inner.read(name, consume, options));
  }

  async delete(names: readonly string[], options: OperationOptions = {}): Promise<void> {
    // deleting a missing name is not an error, so a repeated delete is harmless
    await this.#attempt('delete', names[0], options.signal, () => this.#inner.delete(names, options));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async protection(options: OperationOptions = {}): Promise<ProtectionFacts | undefined> {
    if (!this.#inner.protection) return undefined;
    return this.#attempt('list', undefined, options.signal, () => this.#inner.protection!(options));
  }

  async lockedUntil(name: string, options: OperationOptions = {}): Promise<Date | null | undefined> {
    if (!this.#inner.lockedUntil) return undefined;
    return this.#attempt('read', name, options.signal, () => this.#inner.lockedUntil!(name, options));
  }
  async writableInPlace(name: string, options: OperationOptions = {}): Promise<boolean | undefined> {
    if (!this.#inner.writableInPlace) return undefined;
    return this.#attempt('read', name, options.signal, () => this.#inner.writableInPlace!(name, options));
  }


  async #attempt<T>(operation: RetriedOperation, name: string | undefined, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await run();
      } catch (err) {
        if (err instanceof FinalError) throw err.error;
        await this.#beforeNextAttempt(err, attempt, operation, name, signal);
      }
    }
  }

  /** Throws when the error is final; otherwise logs it and waits. */
  async #beforeNextAttempt(err: unknown, attempt: number, operation: RetriedOperation, name: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    if (!(err instanceof BackendError) || err.kind !== 'transient') throw err;
    const policy = this.#policy;
    if (err.retryAfterMs !== undefined && err.retryAfterMs > policy.maxRetryAfterMs) {
      throw new BackendError('transient', `${err.message} (the server asks to wait ${Math.ceil(err.retryAfterMs / 1000)} s before trying again)`, {
        cause: err, hint: err.hint ?? 'try again later',
      });
    }
    if (attempt >= policy.maxAttempts) {
      if (attempt === 1) throw err;
      throw new BackendError('transient', `Giving up after ${attempt} attempts: ${err.message}`, {
        cause: err, hint: err.hint ?? 'the target kept failing; try again later, or raise --num-retries',
      });
    }
    const delayMs = retryDelay(policy, attempt, err.retryAfterMs, policy.random);
    policy.onRetry?.({ operation, name, displayUrl: this.#inner.displayUrl, attempt, maxAttempts: policy.maxAttempts, delayMs, error: err });
    await (policy.sleep ?? sleep)(delayMs, signal);
  }
}

/** Carries an error that must not be retried through #attempt. */
class FinalError {
  constructor(readonly error: unknown) {}
}

/** Waits ms, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
