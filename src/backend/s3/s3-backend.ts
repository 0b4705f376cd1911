// S3 and S3-compatible targets (AWS, Backblaze B2's S3 API, MinIO, Wasabi, Ceph): one object per
// file under the bucket's key prefix. A PUT is atomic on S3; a volume larger than one part goes up
// as a multipart upload that is aborted on any failure, so an interrupted upload is never visible.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand, GetBucketVersioningCommand, GetObjectCommand, GetObjectLockConfigurationCommand, GetObjectRetentionCommand,
  HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Backend, OperationOptions, ProtectionFacts, PutSource } from '../types.js';
import { retainUntil, type ObjectLockSetting } from '../object-lock.js';
import { BackendError } from '../errors.js';
import { classifyS3Error, type ClassifyContext } from './classify.js';
import { ExactLength } from './exact-length.js';
import { uploadMultipart } from './multipart.js';
import { partSizeFor, type UploadSettings } from './upload-settings.js';
import type { S3Location } from './location.js';

export interface S3BackendConfig {
  displayUrl: string;
  location: S3Location;
  /** single requests; no SDK retries (the retry wrapper decides) */
  client: S3Client;
  /** multipart parts; the SDK may retry a part */
  partClient: S3Client;
  upload: UploadSettings;
  /** for messages */
  endpointLabel: string;
  credentialSource: string;
  secrets: readonly string[];
  /** OBJECT_LOCK: every object is put with x-amz-object-lock-mode and -retain-until-date */
  objectLock?: ObjectLockSetting;
}

export class S3Backend implements Backend {
  readonly displayUrl: string;
  readonly capabilities = { connections: 4, atomicPut: true };
  readonly #config: S3BackendConfig;

  constructor(config: S3BackendConfig) {
    this.#config = config;
    this.displayUrl = config.displayUrl;
  }

  async *list(options: OperationOptions & { prefix?: string } = {}): AsyncIterable<{ name: string; size: number }> {
    const { client, location } = this.#config;
    const Prefix = location.keyPrefix + (options.prefix ?? '');
    let ContinuationToken: string | undefined;
    do {
      // Delimiter: a target's files only, not those of a target nested under its prefix
      const page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix, Delimiter: '/', ContinuationToken }), { abortSignal: options.signal })
        .catch((err) => { throw this.#classify(err, 'list', ''); });
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(location.keyPrefix.length);
        if (name) yield { name, size: object.Size ?? 0 };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async put(name: string, source: PutSource, options: OperationOptions = {}): Promise<void> {
    checkName(name);
    const { client, partClient, location, upload } = this.#config;
    const Key = location.keyPrefix + name;
    const lock = this.#config.objectLock;
    const params = {
      Bucket: location.bucket, Key, StorageClass: upload.storageClass(name), ...upload.encryption,
      // S3 takes a retention only with an integrity header (Content-MD5 here, per part for multipart)
      ...(lock ? { ObjectLockMode: lock.mode === 'compliance' ? 'COMPLIANCE' as const : 'GOVERNANCE' as const, ObjectLockRetainUntilDate: retainUntil(lock) } : {}),
    };
    // object lock needs the body's MD5 before the request: one extra read of the (local) source
    const contentMd5 = lock && source.size <= partSizeFor(source.size, upload.partSize) ? await md5Of(source) : undefined;
    // one controller for the whole put: the caller's abort and a failing source both stop the request
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const input = source.open();
    const counted = new ExactLength(source.size, `S3 put ${this.#what(name)}`);
    let sourceError: unknown;
    let settled = false;
    // noted synchronously, before the failure reaches the request as an abort
    const noteSourceError = (err: unknown) => {
      if (settled) return;
      sourceError ??= err;
      controller.abort(err);
    };
    input.on('error', noteSourceError);
    counted.on('error', (err) => { if (err instanceof BackendError) noteSourceError(err); });
    const feeding = pipeline(input, counted).catch(() => undefined);
    try {
      options.signal?.throwIfAborted();
      const partSize = partSizeFor(source.size, upload.partSize);
      if (source.size <= partSize) {
        // streamed as it comes, with its length announced
        await client.send(new PutObjectCommand({ ...params, Body: counted, ContentLength: source.size, ...(contentMd5 ? { ContentMD5: contentMd5 } : {}) }), { abortSignal: controller.signal });
      } else {
        await uploadMultipart({ client, partClient, params, body: counted, partSize, concurrency: upload.partConcurrency, signal: controller.signal, partMd5: lock !== undefined });
      }
      await feeding;
      if (sourceError !== undefined) throw sourceError;
      await this.#checkSize(Key, name, source.size);
    } catch (err) {
      settled = true;
      input.destroy();
      counted.destroy();
      await feeding;
      if (sourceError instanceof BackendError) throw sourceError;
      if (sourceError !== undefined) {
        throw new BackendError('permanent', `S3 put ${this.#what(name)}: reading the source failed: ${(sourceError as Error).message}`, { cause: sourceError });
      }
      throw this.#classify(err, 'put', name);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** What the server stored must be what we sent; a wrong object is removed rather than kept. */
  async #checkSize(Key: string, name: string, expected: number): Promise<void> {
    const { client, location } = this.#config;
    const head = await client.send(new HeadObjectCommand({ Bucket: location.bucket, Key }));
    if (head.ContentLength !== expected) {
      await client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key })).catch(() => undefined);
      throw new BackendError('transient', `S3 put ${this.#what(name)}: the server stored ${head.ContentLength} bytes, not ${expected}; removed it`);
    }
  }

  async read<T>(name: string, consume: (body: Readable) => Promise<T>, options: OperationOptions = {}): Promise<T> {
    checkName(name);
    const { client, location } = this.#config;
    const response = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.keyPrefix + name }), { abortSignal: options.signal })
      .catch((err) => { throw this.#classify(err, 'read', name); });
    const body = response.Body as Readable;
    // a connection dropped mid-body surfaces inside consume: report it as the network error it is
    let bodyError: unknown;
    body.on('error', (err) => { bodyError ??= err; });
    try {
      return await consume(body);
    } catch (err) {
      throw bodyError !== undefined ? this.#classify(bodyError, 'read', name) : err;
    } finally {
      body.destroy();
    }
  }

  async delete(names: readonly string[], options: OperationOptions = {}): Promise<void> {
    const { client, location } = this.#config;
    // one DeleteObject each: DeleteObjects needs a checksum header that not every S3-compatible store takes
    for (const name of names) {
      checkName(name);
      await client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.keyPrefix + name }), { abortSignal: options.signal })
        .catch((err) => {
          const classified = this.#classify(err, 'delete', name);
          if (classified.kind !== 'not-found' || /bucket/.test(classified.message)) throw classified;
        });
    }
  }

  /** The bucket's Object Lock configuration and versioning, where the server answers them. */
  async protection(options: OperationOptions = {}): Promise<ProtectionFacts> {
    const { client, location } = this.#config;
    const facts: ProtectionFacts = { notes: [] };
    try {
      const answer = await client.send(new GetObjectLockConfigurationCommand({ Bucket: location.bucket }), { abortSignal: options.signal });
      const config = answer.ObjectLockConfiguration;
      facts.lockEnabled = config?.ObjectLockEnabled === 'Enabled';
      const d = config?.Rule?.DefaultRetention;
      if (d?.Mode) facts.defaultRetention = `${d.Mode.toLowerCase()}, ${d.Days !== undefined ? `${d.Days} days` : `${d.Years} years`}`;
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'ObjectLockConfigurationNotFoundError') facts.lockEnabled = false;
      else facts.notes.push(`the server did not tell its Object Lock configuration (${name})`);
    }
    try {
      const answer = await client.send(new GetBucketVersioningCommand({ Bucket: location.bucket }), { abortSignal: options.signal });
      facts.keepsVersions = answer.Status === 'Enabled';
    } catch (err) {
      facts.notes.push(`the server did not tell whether versioning is on (${(err as Error).name})`);
    }
    return facts;
  }

  /** GetObjectRetention: the object's retain-until date. */
  async lockedUntil(name: string, options: OperationOptions = {}): Promise<Date | null | undefined> {
    checkName(name);
    const { client, location } = this.#config;
    try {
      const answer = await client.send(new GetObjectRetentionCommand({ Bucket: location.bucket, Key: location.keyPrefix + name }), { abortSignal: options.signal });
      const until = answer.Retention?.RetainUntilDate;
      if (!answer.Retention?.Mode || !until) return null;
      return until.getTime() > Date.now() ? until : null;
    } catch (err) {
      const code = (err as Error).name;
      if (code === 'NoSuchObjectLockConfiguration' || code === 'ObjectLockConfigurationNotFoundError' || code === 'NoSuchKey') return null;
      if (options.signal?.aborted) throw err;
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.#config.client.destroy();
    this.#config.partClient.destroy();
  }

  #what(name: string): string {
    return `s3://${this.#config.location.bucket}/${this.#config.location.keyPrefix}${name}`;
  }

  #classify(err: unknown, operation: string, name: string): BackendError {
    const context: ClassifyContext = {
      operation, what: this.#what(name), bucket: this.#config.location.bucket, endpoint: this.#config.endpointLabel,
      credentialSource: this.#config.credentialSource, secrets: this.#config.secrets,
    };
    return classifyS3Error(err, context);
  }
}

async function md5Of(source: PutSource): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of source.open()) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

function checkName(name: string): void {
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new BackendError('permanent', `bad file name "${name}" for a backend`);
  }
}
