// The storage backend contract: whole files by name, listed, written atomically, read, deleted.
// Every backend (file, s3, b2, sftp, ...) implements exactly this; openBackend wraps each one in
// withLimit (limit.ts) and withRetry (retry.ts): a backend classifies its errors and leaves the backoff to withRetry.
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
  /** opens the data from its start; called again on each attempt (withRetry), which must get the same bytes */
  open(): Readable;
  /** a local file holding exactly these bytes, when there is one (a spooled volume): the file backend copies it in the kernel */
  localPath?: string;
}

/** What a store's own API says about how well existing files are protected (`lifeboat PROFILE audit`). */
export interface ProtectionFacts {
  /** the credentials may delete files, as the API says (B2: the key's deleteFiles); undefined: it does not say */
  mayDelete?: boolean;
  /** a put under an existing name keeps the older version (B2 always; S3 with versioning on) */
  keepsVersions?: boolean;
  /** object lock (S3 Object Lock, B2 file lock) on the bucket; undefined: unknown */
  lockEnabled?: boolean;
  /** the bucket's default retention, as words ("governance, 30 days") */
  defaultRetention?: string;
  /** more facts, one line each, for the audit */
  notes: string[];
}

export interface Backend {
  /** credentials stripped: safe to print and log */
  readonly displayUrl: string;
  readonly capabilities: BackendCapabilities;
  /** every file at the target, each exactly once; a missing target lists nothing */
  list(options?: OperationOptions & { prefix?: string }): AsyncIterable<{ name: string; size: number }>;
  /** MUST be atomic: readers see the old state or the whole new file, never part of it */
  put(name: string, source: PutSource, options?: OperationOptions): Promise<void>;
  /**
   * `consume` may run more than once: withRetry calls read again, with a fresh body from the start,
   * when the read fails with a transient BackendError (a backend destroys the body with one when the
   * connection drops mid-file). So consume must be idempotent. withLimit counts a read until consume
   * is called, so several downloads may stream at once (restore reads every set of a chain together).
   */
  read<T>(name: string, consume: (body: Readable) => Promise<T>, options?: OperationOptions): Promise<T>;
  /** a missing name is not an error */
  delete(names: readonly string[], options?: OperationOptions): Promise<void>;
  close(): Promise<void>;
  /** the store's protection facts, where its API tells them (b2, s3); others leave this out */
  protection?(options?: OperationOptions): Promise<ProtectionFacts | undefined>;
  /**
   * until when the stored file is under object lock (null: not locked; undefined: the backend cannot
   * tell). A file under lock cannot be deleted before that date, whatever the credentials.
   */
  lockedUntil?(name: string, options?: OperationOptions): Promise<Date | null | undefined>;
  /**
   * whether a stored file can be opened for writing in place (file systems, SFTP), which would let its
   * bytes be overwritten without a delete or a put; the file is opened and closed, never written.
   * undefined: the backend cannot tell (object stores have no such thing)
   */
  writableInPlace?(name: string, options?: OperationOptions): Promise<boolean | undefined>;
}
