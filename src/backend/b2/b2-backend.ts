// b2://keyID[:applicationKey]@bucket/[folder/]: Backblaze B2 through its native API (v2).
// Files are the folder plus duplicity's name. An upload is atomic on B2 (a file appears only when its
// upload or its large file is finished). A delete removes every version of the name, unless
// --b2-hide-files asks for b2_hide_file (the versions stay, for the bucket's lifecycle rules).
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Backend, OperationOptions, ProtectionFacts, PutSource } from '../types.js';
import { retainUntil, type ObjectLockSetting } from '../object-lock.js';
import { BackendError } from '../errors.js';
import { B2ApiError, toBackendError } from './b2-error.js';
import { checkName, encodeFileName } from './names.js';
import type { B2Session } from './session.js';
import { upload, UploadUrlPool } from './upload.js';

export interface B2Target {
  bucketName: string;
  /** "" or "dir/sub/" */
  folder: string;
  /** --b2-hide-files: delete hides instead */
  hideFiles: boolean;
  /** OBJECT_LOCK: every upload carries a file retention */
  objectLock?: ObjectLockSetting;
  displayUrl: string;
}

interface FileEntry {
  fileName: string; fileId: string; action: string; contentLength: number;
  /** present when the key has readFileRetentions (B2's file lock) */
  fileRetention?: { isClientAuthorizedToRead?: boolean; value?: { mode?: string | null; retainUntilTimestamp?: number | null } | null };
}

interface BucketEntry {
  bucketId: string; bucketName: string;
  lifecycleRules?: { fileNamePrefix?: string; daysFromHidingToDeleting?: number | null; daysFromUploadingToHiding?: number | null }[];
  fileLockConfiguration?: {
    isClientAuthorizedToRead?: boolean;
    value?: { isFileLockEnabled?: boolean; defaultRetention?: { mode?: string | null; period?: { duration?: number; unit?: string } | null } | null } | null;
  };
}

export class B2Backend implements Backend {
  readonly displayUrl: string;
  readonly capabilities = { connections: 4, atomicPut: true };
  readonly #session: B2Session;
  readonly #target: B2Target;
  #bucketId: Promise<string | null> | undefined;
  #uploadUrls: UploadUrlPool | undefined;

  constructor(session: B2Session, target: B2Target) {
    this.#session = session;
    this.#target = target;
    this.displayUrl = target.displayUrl;
  }

  async *list(options: OperationOptions & { prefix?: string } = {}): AsyncIterable<{ name: string; size: number }> {
    const bucketId = await this.#bucket();
    if (bucketId === null) return;
    const { folder } = this.#target;
    let startFileName: string | null = null;
    do {
      const page: { files: FileEntry[]; nextFileName: string | null } = await this.#session.call('b2_list_file_names', {
        bucketId, prefix: folder + (options.prefix ?? ''), maxFileCount: 1000,
        ...(startFileName === null ? {} : { startFileName }),
      }, options.signal);
      for (const file of page.files) {
        const name = file.fileName.slice(folder.length);
        // files in sub-folders are not this target's
        if (file.action === 'upload' && file.fileName.startsWith(folder) && name !== '' && !name.includes('/')) {
          yield { name, size: file.contentLength };
        }
      }
      startFileName = page.nextFileName;
    } while (startFileName !== null);
  }

  async put(name: string, source: PutSource, options: OperationOptions = {}): Promise<void> {
    checkName(name);
    const bucketId = await this.#requireBucket();
    this.#uploadUrls ??= new UploadUrlPool((signal) => this.#session.call('b2_get_upload_url', { bucketId }, signal));
    const lock = this.#target.objectLock;
    await upload({
      session: this.#session, bucketId, fileName: this.#target.folder + name, source, pool: this.#uploadUrls, signal: options.signal,
      ...(lock ? { retention: { mode: lock.mode, retainUntilTimestamp: retainUntil(lock).getTime() } } : {}),
    });
  }

  async read<T>(name: string, consume: (body: Readable) => Promise<T>, options: OperationOptions = {}): Promise<T> {
    checkName(name);
    const fileName = this.#target.folder + name;
    const path = `/file/${encodeURIComponent(this.#target.bucketName)}/${encodeFileName(fileName)}`;
    const response = await this.#session.download(path, options.signal).catch((err: unknown) => {
      throw toBackendError(err, `reading ${fileName}`);
    });
    const raw = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
    const expected = response.headers.get('x-bz-content-sha1') ?? '';
    // large files have no SHA-1 ("none"); small ones are checked as they stream
    const body = /^[0-9a-f]{40}$/.test(expected) ? raw.pipe(sha1Check(expected, fileName)) : raw;
    if (body !== raw) raw.on('error', (err) => body.destroy(err));
    try {
      return await consume(body);
    } finally {
      body.destroy();
      raw.destroy();
    }
  }

  async delete(names: readonly string[], options: OperationOptions = {}): Promise<void> {
    for (const name of names) checkName(name);
    if (names.length === 0) return;
    const bucketId = await this.#bucket();
    if (bucketId === null) return;
    for (const name of names) {
      const fileName = this.#target.folder + name;
      if (this.#target.hideFiles) await this.#hide(bucketId, fileName, options.signal);
      else await this.#deleteAllVersions(bucketId, fileName, options.signal);
    }
  }

  async close(): Promise<void> {}

  /** The key's capabilities (b2_authorize_account) and the bucket's file lock and lifecycle rules. */
  async protection(options: OperationOptions = {}): Promise<ProtectionFacts> {
    const auth = await this.#session.authorization();
    const facts: ProtectionFacts = { mayDelete: auth.capabilities.includes('deleteFiles'), keepsVersions: true, notes: [] };
    facts.notes.push(`the B2 key's capabilities: ${auth.capabilities.join(', ') || 'none'}`);
    if (auth.capabilities.includes('bypassGovernance')) facts.notes.push('the key has bypassGovernance: it may delete files under governance-mode lock');
    if (auth.capabilities.includes('writeBuckets')) facts.notes.push('the key has writeBuckets: it may change the bucket\'s lifecycle rules and default retention');
    if (!auth.capabilities.includes('listBuckets')) return facts;
    const answer = await this.#session.call<{ buckets: BucketEntry[] }>('b2_list_buckets', { accountId: auth.accountId, bucketName: this.#target.bucketName }, options.signal);
    const bucket = answer.buckets.find((b) => b.bucketName === this.#target.bucketName);
    if (!bucket) return facts;
    const lock = bucket.fileLockConfiguration;
    if (lock?.isClientAuthorizedToRead === true && lock.value) {
      facts.lockEnabled = lock.value.isFileLockEnabled === true;
      const d = lock.value.defaultRetention;
      if (d?.mode && d.period?.duration) facts.defaultRetention = `${d.mode}, ${d.period.duration} ${d.period.unit ?? 'days'}`;
    }
    for (const rule of bucket.lifecycleRules ?? []) {
      if (!this.#target.folder.startsWith(rule.fileNamePrefix ?? '') && !(rule.fileNamePrefix ?? '').startsWith(this.#target.folder)) continue;
      if (rule.daysFromHidingToDeleting) facts.notes.push(`a lifecycle rule deletes hidden files ${rule.daysFromHidingToDeleting} days after they are hidden`);
      if (rule.daysFromUploadingToHiding) facts.notes.push(`a lifecycle rule hides files ${rule.daysFromUploadingToHiding} days after upload: it would hide backups still needed`);
    }
    return facts;
  }

  /** The latest retain-until date over the name's versions (a delete must remove them all). */
  async lockedUntil(name: string, options: OperationOptions = {}): Promise<Date | null | undefined> {
    checkName(name);
    const bucketId = await this.#bucket();
    if (bucketId === null) return null;
    const auth = await this.#session.authorization();
    if (!auth.capabilities.includes('readFileRetentions')) return undefined;
    const fileName = this.#target.folder + name;
    const page: { files: FileEntry[] } = await this.#session.call('b2_list_file_versions', {
      bucketId, prefix: fileName, startFileName: fileName, maxFileCount: 100,
    }, options.signal);
    let latest: number | null = null;
    for (const file of page.files) {
      if (file.fileName !== fileName) continue;
      if (file.fileRetention?.isClientAuthorizedToRead === false) return undefined;
      const until = file.fileRetention?.value?.retainUntilTimestamp;
      if (file.fileRetention?.value?.mode && typeof until === 'number' && (latest === null || until > latest)) latest = until;
    }
    return latest === null || latest <= Date.now() ? null : new Date(latest);
  }

  async #hide(bucketId: string, fileName: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#session.call('b2_hide_file', { bucketId, fileName }, signal);
    } catch (err) {
      // a missing or already hidden name is deleted already
      const code = ((err as BackendError).cause as B2ApiError | undefined)?.code;
      if (code !== 'no_such_file' && code !== 'already_hidden' && code !== 'file_not_present') throw err;
    }
  }

  /** Every version, hide markers included: deleting only the newest would bring an older one back. */
  async #deleteAllVersions(bucketId: string, fileName: string, signal?: AbortSignal): Promise<void> {
    const versions: FileEntry[] = [];
    let start: { startFileName: string; startFileId?: string } = { startFileName: fileName };
    for (;;) {
      const page: { files: FileEntry[]; nextFileName: string | null; nextFileId: string | null } = await this.#session.call(
        'b2_list_file_versions', { bucketId, prefix: fileName, maxFileCount: 1000, ...start }, signal);
      const mine = page.files.filter((f) => f.fileName === fileName);
      versions.push(...mine);
      // versions are sorted by name: once another name shows up, this one's are all seen
      if (page.nextFileName !== fileName || mine.length < page.files.length) break;
      start = { startFileName: page.nextFileName, ...(page.nextFileId ? { startFileId: page.nextFileId } : {}) };
    }
    for (const version of versions) {
      try {
        await this.#session.call('b2_delete_file_version', { fileName, fileId: version.fileId }, signal);
      } catch (err) {
        const cause = (err as BackendError).cause as B2ApiError | undefined;
        if (cause?.code === 'file_not_present') continue;
        // B2 itself refuses (the key's capabilities are its word, not ours): one clear line
        if (cause?.status === 401 && cause.code === 'unauthorized') {
          throw new BackendError('auth', `the B2 application key may not delete files in ${this.#target.bucketName}`, {
            cause: err, hint: 'purge and cleanup need a key with the deleteFiles capability (or --b2-hide-files with writeFiles): LIFEBOAT_PURGE_USER and LIFEBOAT_PURGE_PASS give them one (docs/hardening.md)',
          });
        }
        if (cause?.status === 401 && cause.code === 'access_denied') {
          throw new BackendError('auth', `B2 refused to delete ${fileName}: ${cause.message.replace(/^B2 \S+: /, '')}`, {
            cause: err, hint: 'a file under object lock (file retention) cannot be deleted before its retain-until date',
          });
        }
        throw err;
      }
    }
  }

  /** The bucket's id, or null when it does not exist; a key restricted elsewhere is refused. */
  #bucket(): Promise<string | null> {
    if (!this.#bucketId) {
      const pending = this.#findBucket();
      pending.catch(() => { if (this.#bucketId === pending) this.#bucketId = undefined; });
      this.#bucketId = pending;
    }
    return this.#bucketId;
  }

  async #findBucket(): Promise<string | null> {
    const auth = await this.#session.authorization();
    const { bucketName, folder } = this.#target;
    if (auth.namePrefix !== null && !folder.startsWith(auth.namePrefix)) {
      throw new BackendError('auth', `the B2 application key is restricted to names starting with "${auth.namePrefix}"`, {
        hint: 'use a folder inside that prefix in the target URL, or another key',
      });
    }
    if (auth.bucketName !== null) {
      if (auth.bucketName !== bucketName) {
        throw new BackendError('auth', `the B2 application key is restricted to bucket "${auth.bucketName}", not "${bucketName}"`, {
          hint: 'use that bucket in the target URL, or a key for this one',
        });
      }
      if (auth.bucketId !== null) return auth.bucketId;
    }
    const answer = await this.#session.call<{ buckets: { bucketId: string; bucketName: string }[] }>(
      'b2_list_buckets', { accountId: auth.accountId, bucketName });
    return answer.buckets.find((b) => b.bucketName === bucketName)?.bucketId ?? null;
  }

  async #requireBucket(): Promise<string> {
    const bucketId = await this.#bucket();
    if (bucketId === null) {
      throw new BackendError('not-found', `B2 bucket "${this.#target.bucketName}" does not exist`, {
        hint: 'create it (private) in the B2 web UI or with "b2 bucket create", then run again',
      });
    }
    return bucketId;
  }
}

function sha1Check(expected: string, fileName: string): Transform {
  const hash = createHash('sha1');
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      const actual = hash.digest('hex');
      callback(actual === expected ? null : new BackendError('transient', `${fileName}: downloaded bytes have SHA-1 ${actual}, B2 stored ${expected}`));
    },
  });
}
