// A Backend wrapper that injects faults into a real backend, for testing what sits above it (retry,
// limits, the upload queue, the backup pipeline):
//   const faulty = new FaultyBackend(new FileBackend(dir));
//   faulty.fail({ op: 'put', call: 2, kind: 'transient', retryAfterMs: 50 }); // the 2nd put fails once
//   faulty.fail({ op: 'put', kind: 'transient', when: 'after' });             // stored, but reported failed
//   faulty.dropPut({ afterBytes: 1000 });   // the next put's data stream breaks after 1000 bytes
//   faulty.dropRead({ afterBytes: 1000 });  // the next read's body breaks after 1000 bytes
//   faulty.delay('put', 200);               // every put waits 200 ms first (abortable)
// It records every call (op, name, start and end times, outcome) and the most calls ever in flight.
import { Transform, type Readable } from 'node:stream';
import { BackendError, type BackendErrorKind } from '../../src/backend/errors.js';
import type { Backend, OperationOptions, PutSource } from '../../src/backend/types.js';

export type Operation = 'list' | 'put' | 'read' | 'delete';

export interface FaultRule {
  /** which operation; default: any */
  op?: Operation;
  /** only calls about this file (delete: any of its names) */
  name?: string | RegExp;
  /** the Nth matching call from now fails (1-based); default 1: the next one */
  call?: number;
  /** how many matching calls in a row fail from there; default 1 */
  times?: number;
  kind: BackendErrorKind;
  retryAfterMs?: number;
  /**
   * 'before' (default): the call fails without reaching the backend. 'after': the backend does the
   * work, then the failure is reported, as when a response is lost; for list, the listing breaks
   * after its first entry.
   */
  when?: 'before' | 'after';
}

export interface CallRecord {
  op: Operation;
  name?: string;
  start: number;
  end?: number;
  outcome?: 'ok' | BackendErrorKind | 'other-error';
}

interface ActiveRule extends FaultRule {
  seen: number;
  left: number;
}

export class FaultyBackend implements Backend {
  readonly calls: CallRecord[] = [];
  readonly #inner: Backend;
  readonly #rules: ActiveRule[] = [];
  readonly #delays = new Map<Operation | 'any', number>();
  readonly #drops: { afterBytes: number; kind: BackendErrorKind }[] = [];
  readonly #readDrops: { afterBytes: number; kind: BackendErrorKind }[] = [];
  #inFlight = 0;
  #maxInFlight = 0;

  constructor(inner: Backend) {
    this.#inner = inner;
  }

  get displayUrl(): string {
    return this.#inner.displayUrl;
  }

  get capabilities() {
    return this.#inner.capabilities;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  fail(rule: FaultRule): this {
    this.#rules.push({ ...rule, seen: 0, left: rule.times ?? 1 });
    return this;
  }

  /** every call of `op` ('any': of every operation) waits ms before it starts */
  delay(op: Operation | 'any', ms: number): this {
    this.#delays.set(op, ms);
    return this;
  }

  /** the next put's source breaks after afterBytes bytes, as a dropped connection would */
  dropPut(options: { afterBytes: number; kind?: BackendErrorKind }): this {
    this.#drops.push({ afterBytes: options.afterBytes, kind: options.kind ?? 'transient' });
    return this;
  }

  /** the next read's body breaks after afterBytes bytes, as a connection dropped mid-download would */
  dropRead(options: { afterBytes: number; kind?: BackendErrorKind }): this {
    this.#readDrops.push({ afterBytes: options.afterBytes, kind: options.kind ?? 'transient' });
    return this;
  }

  callsOf(op: Operation): CallRecord[] {
    return this.calls.filter((c) => c.op === op);
  }

  async *list(options: OperationOptions & { prefix?: string } = {}): AsyncIterable<{ name: string; size: number }> {
    const record = this.#begin('list', undefined);
    try {
      await this.#wait('list', options.signal);
      const fault = this.#match('list', []);
      if (fault?.when !== 'after') this.#throwIf(fault, 'list');
      let given = 0;
      for await (const entry of this.#inner.list(options)) {
        yield entry;
        if (++given === 1 && fault) this.#throwIf(fault, 'list');
      }
      if (fault) this.#throwIf(fault, 'list');
      record.outcome = 'ok';
    } catch (err) {
      record.outcome = outcomeOf(err);
      throw err;
    } finally {
      this.#end(record);
    }
  }

  put(name: string, source: PutSource, options: OperationOptions = {}): Promise<void> {
    return this.#run('put', name, [name], options.signal, () => {
      const drop = this.#drops.shift();
      const wrapped = drop ? { size: source.size, open: () => breakAfter(source.open(), drop.afterBytes, drop.kind, `put ${name}`) } : source;
      return this.#inner.put(name, wrapped, options);
    });
  }

  read<T>(name: string, consume: (body: Readable) => Promise<T>, options: OperationOptions = {}): Promise<T> {
    return this.#run('read', name, [name], options.signal, () => {
      const drop = this.#readDrops.shift();
      const broken = drop ? (body: Readable) => consume(breakAfter(body, drop.afterBytes, drop.kind, `read ${name}`)) : consume;
      return this.#inner.read(name, broken, options);
    });
  }

  delete(names: readonly string[], options: OperationOptions = {}): Promise<void> {
    return this.#run('delete', names[0], names, options.signal, () => this.#inner.delete(names, options));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async #run<T>(op: Operation, name: string | undefined, names: readonly string[], signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    const record = this.#begin(op, name);
    try {
      await this.#wait(op, signal);
      const fault = this.#match(op, names);
      if (fault?.when !== 'after') this.#throwIf(fault, `${op} ${name ?? ''}`);
      const result = await work();
      this.#throwIf(fault, `${op} ${name ?? ''}`);
      record.outcome = 'ok';
      return result;
    } catch (err) {
      record.outcome = outcomeOf(err);
      throw err;
    } finally {
      this.#end(record);
    }
  }

  #begin(op: Operation, name: string | undefined): CallRecord {
    const record: CallRecord = { op, name, start: performance.now() };
    this.calls.push(record);
    this.#inFlight++;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    return record;
  }

  #end(record: CallRecord): void {
    record.end = performance.now();
    this.#inFlight--;
  }

  async #wait(op: Operation, signal: AbortSignal | undefined): Promise<void> {
    const ms = this.#delays.get(op) ?? this.#delays.get('any') ?? 0;
    if (ms > 0) await abortableDelay(ms, signal);
  }

  /** counts this call against every rule it matches; returns the rule that makes it fail */
  #match(op: Operation, names: readonly string[]): ActiveRule | undefined {
    let failing: ActiveRule | undefined;
    for (const rule of this.#rules) {
      if (rule.op && rule.op !== op) continue;
      if (rule.name !== undefined && !names.some((n) => (typeof rule.name === 'string' ? n === rule.name : rule.name!.test(n)))) continue;
      rule.seen++;
      if (!failing && rule.left > 0 && rule.seen >= (rule.call ?? 1)) {
        rule.left--;
        failing = rule;
      }
    }
    return failing;
  }

  #throwIf(rule: ActiveRule | undefined, what: string): void {
    if (!rule) return;
    throw new BackendError(rule.kind, `${what}: injected ${rule.kind} fault`, { retryAfterMs: rule.retryAfterMs });
  }
}

function outcomeOf(err: unknown): CallRecord['outcome'] {
  return err instanceof BackendError ? err.kind : 'other-error';
}

/** Passes afterBytes bytes, then fails the stream as a connection reset would. */
function breakAfter(stream: Readable, afterBytes: number, kind: BackendErrorKind, what: string): Readable {
  let passed = 0;
  const cut = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const room = afterBytes - passed;
      if (chunk.length < room) {
        passed += chunk.length;
        done(null, chunk);
        return;
      }
      if (room > 0) this.push(chunk.subarray(0, room));
      passed = afterBytes;
      done(new BackendError(kind, `${what}: connection dropped after ${afterBytes} bytes (injected)`));
    },
  });
  stream.on('error', (err) => cut.destroy(err));
  cut.on('close', () => stream.destroy());
  return stream.pipe(cut);
}

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => { clearTimeout(timer); reject(signal!.reason); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
