// The storage backend contract: whole files by name, listed, written atomically, read, deleted.
// Every backend (file, s3, b2, sftp, ...) implements exactly this; wrappers add retry and limits.
import type { Readable } from 'node:stream';

export interface BackendCapabilities {
  /** how many operations may run at once */
  connections: number;
  /** a put is never visible half-written (temp name + rename, or the store's own atomic upload) */
  atomicPut: boolean;
  /** objects cannot be deleted or overwritten (object lock) */
  immutable?: boolean;
}

export interface OperationOptions {
  signal?: AbortSignal;
}

export interface PutSource {
  size: number;
  /** opens the data from its start; called again on each retry */
  open(): Readable;
}

export interface Backend {
  /** credentials stripped: safe to print and log */
  readonly displayUrl: string;
  readonly capabilities: BackendCapabilities;
  /** every file at the target, each exactly once; a missing target lists nothing */
  list(options?: OperationOptions & { prefix?: string }): AsyncIterable<{ name: string; size: number }>;
  /** MUST be atomic: readers see the old state or the whole new file, never part of it */
  put(name: string, source: PutSource, options?: OperationOptions): Promise<void>;
  /** `consume` may run more than once (on retry), so it must be idempotent */
  read<T>(name: string, consume: (body: Readable) => Promise<T>, options?: OperationOptions): Promise<T>;
  /** a missing name is not an error */
  delete(names: readonly string[], options?: OperationOptions): Promise<void>;
  close(): Promise<void>;
}
