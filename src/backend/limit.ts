// A cap on how many operations run against a backend at once: servers limit sessions (SFTP's
// MaxSessions, rclone's remotes), and a cloud store is faster with a few streams than with many.
// A put or delete holds its slot until it has finished, a list until the iteration ends or is
// abandoned (break, return, throw). A read holds its slot until its data starts to flow (consume is
// called): restore merges every set of a chain at once, so it keeps one download open per set, and
// a limit that counted open downloads would wait forever on a chain longer than the limit.
// Waiting operations start in the order they asked.
import type { Readable } from 'node:stream';
import type { Backend, OperationOptions, ProtectionFacts, PutSource } from './types.js';

export function withLimit(backend: Backend, connections: number): Backend {
  if (!Number.isInteger(connections) || connections < 1) {
    throw new RangeError(`a backend needs at least one connection, not ${connections}`);
  }
  return new LimitedBackend(backend, new Slots(connections));
}

class LimitedBackend implements Backend {
  readonly #inner: Backend;
  readonly #slots: Slots;

  constructor(inner: Backend, slots: Slots) {
    this.#inner = inner;
    this.#slots = slots;
  }

  get displayUrl(): string {
    return this.#inner.displayUrl;
  }

  get capabilities() {
    return this.#inner.capabilities;
  }

  async *list(options: OperationOptions & { prefix?: string } = {}): AsyncIterable<{ name: string; size: number }> {
    // a generator's body runs at the first next(), so a listing never iterated holds no slot
    const release = await this.#slots.acquire(options.signal);
    try {
      yield* this.#inner.list(options);
    } finally {
      release();
    }
  }

  put(name: string, source: PutSource, options: OperationOptions = {}): Promise<void> {
    return this.#holding(options.signal, () => this.#inner.put(name, source, options));
  }

  async read<T>(name: string, consume: (body: Readable) => Promise<T>, options: OperationOptions = {}): Promise<T> {
    const release = await this.#slots.acquire(options.signal);
    try {
      return await this.#inner.read(name, (body) => {
        release();
        return consume(body);
      }, options);
    } finally {
      release();
    }
  }

  delete(names: readonly string[], options: OperationOptions = {}): Promise<void> {
    return this.#holding(options.signal, () => this.#inner.delete(names, options));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async protection(options: OperationOptions = {}): Promise<ProtectionFacts | undefined> {
    if (!this.#inner.protection) return undefined;
    return this.#holding(options.signal, () => this.#inner.protection!(options));
  }

  async lockedUntil(name: string, options: OperationOptions = {}): Promise<Date | null | undefined> {
    if (!this.#inner.lockedUntil) return undefined;
    return this.#holding(options.signal, () => this.#inner.lockedUntil!(name, options));
  }
  async writableInPlace(name: string, options: OperationOptions = {}): Promise<boolean | undefined> {
    if (!this.#inner.writableInPlace) return undefined;
    return this.#holding(options.signal, () => this.#inner.writableInPlace!(name, options));
  }


  async #holding<T>(signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    const release = await this.#slots.acquire(signal);
    try {
      return await run();
    } finally {
      release();
    }
  }
}

/** A counting semaphore whose waiters leave the queue when their signal aborts. */
class Slots {
  #free: number;
  readonly #waiting: { grant(): void }[] = [];

  constructor(count: number) {
    this.#free = count;
  }

  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#releaser());
        },
      };
      const onAbort = () => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // the slot passes straight to the next waiter, so a newcomer cannot jump the queue
      if (next) next.grant();
      else this.#free++;
    };
  }
}
