// A PROTOCOL TEST SERVER for Backblaze B2's native API (v2), written from Backblaze's published API
// documentation (backblaze.com/apidocs: b2_authorize_account, b2_list_buckets, b2_get_upload_url,
// b2_upload_file, b2_start_large_file, b2_get_upload_part_url, b2_upload_part, b2_finish_large_file,
// b2_cancel_large_file, b2_list_file_names, b2_list_file_versions, b2_delete_file_version,
// b2_hide_file, b2_download_file_by_name; "Native API String Encoding"; "Integration Checklist").
// It is NOT Backblaze and not an emulator of its internals: it answers what the docs promise and is
// stricter than needed where the docs state a rule, so a client that passes here follows the rules:
// - every call needs a valid account token; tokens expire on demand (expireTokens) or after N calls
//   (tokenLifetimeCalls) and then answer 401 expired_auth_token;
// - an upload URL serves one upload at a time; using it concurrently, or again after it answered a
//   failure, is a protocol violation (400, recorded in `violations`); invalidateUploadUrls() expires them;
// - uploads need Content-Length (no chunked encoding), Content-Type, a percent-encoded X-Bz-File-Name
//   (only the characters the docs list may stay unencoded; "+" means a space) and X-Bz-Content-Sha1
//   (40 hex digits, or hex_digits_at_end with the digest as the body's last 40 bytes), all checked;
// - capabilities of the key are enforced per call (401 unauthorized);
// - file lock ("Object Lock" in B2's docs): buckets named in `fileLockBuckets` have it on; an upload may
//   carry X-Bz-File-Retention-Mode and X-Bz-File-Retention-Retain-Until-Timestamp (b2_upload_file) or a
//   fileRetention object (b2_start_large_file), which need writeFileRetentions, a bucket with file lock,
//   a mode of governance or compliance and a future time in milliseconds; listings show fileRetention
//   to keys with readFileRetentions; b2_delete_file_version refuses a version still under retention
//   (governance: unless bypassGovernance is true and the key has that capability);
//   b2_list_buckets answers fileLockConfiguration (readBucketRetentions);
// - faults: failNext(api, status, code, {count, retryAfter}) answers the next calls of an API with that
//   error (the request body is read first), as B2 does under load.
// Storage is a temporary directory (one file per file version), so big files never sit in memory.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { rm, stat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

export type Capability = 'listBuckets' | 'listFiles' | 'readFiles' | 'writeFiles' | 'deleteFiles' | 'shareFiles' | 'writeBuckets'
  | 'readBucketRetentions' | 'writeBucketRetentions' | 'readFileRetentions' | 'writeFileRetentions' | 'bypassGovernance';

export const ALL_CAPABILITIES: Capability[] = ['listBuckets', 'listFiles', 'readFiles', 'writeFiles', 'deleteFiles', 'shareFiles', 'writeBuckets',
  'readBucketRetentions', 'writeBucketRetentions', 'readFileRetentions', 'writeFileRetentions', 'bypassGovernance'];

export interface TestKey {
  keyId: string;
  applicationKey: string;
  capabilities?: Capability[];
  /** a key restricted to one bucket */
  bucketName?: string;
}

export interface B2ServerOptions {
  keys: TestKey[];
  buckets: string[];
  /** what b2_authorize_account recommends; small in tests so large files happen at test sizes */
  recommendedPartSize?: number;
  absoluteMinimumPartSize?: number;
  /** an account token answers expired_auth_token after this many calls */
  tokenLifetimeCalls?: number;
  /** b2_list_file_names and b2_list_file_versions return at most this many files per page */
  listPageLimit?: number;
  /** buckets with file lock on */
  fileLockBuckets?: string[];
}

export interface FileRetention { mode: 'governance' | 'compliance'; retainUntilTimestamp: number }

interface FileVersion {
  fileId: string;
  fileName: string;
  bucketId: string;
  action: 'upload' | 'hide' | 'start';
  contentLength: number;
  contentSha1: string | null;
  contentType: string;
  uploadTimestamp: number;
  /** where the bytes are ('upload' only) */
  path?: string;
  retention?: FileRetention;
  parts?: Map<number, { path: string; size: number; sha1: string }>;
}

interface Token { keyId: string; calls: number; expired: boolean }
interface UploadUrl { bucketId?: string; fileId?: string; token: string; busy: boolean; failed: boolean; expired: boolean; key: TestKey }
interface Fault { status: number; code: string; retryAfter?: number; count: number }

class B2Failure extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly retryAfter?: number) {
    super(message);
  }
}

const API = '/b2api/v2/';

export class B2ProtocolTestServer {
  readonly violations: string[] = [];
  /** calls per API name ("b2_upload_file", "download", ...), for tests to assert on */
  readonly calls = new Map<string, number>();
  readonly #options: Required<Omit<B2ServerOptions, 'tokenLifetimeCalls' | 'fileLockBuckets'>> & { tokenLifetimeCalls?: number; fileLockBuckets?: string[] };
  readonly #dir = mkdtempSync(join(tmpdir(), 'lifeboat-b2-protocol-test-server-'));
  readonly #server: Server;
  readonly #buckets = new Map<string, { bucketId: string; bucketName: string }>();
  readonly #tokens = new Map<string, Token>();
  readonly #uploadUrls = new Map<string, UploadUrl>();
  readonly #versions: FileVersion[] = [];
  readonly #faults = new Map<string, Fault[]>();
  #counter = 0;
  #url = '';

  constructor(options: B2ServerOptions) {
    this.#options = { recommendedPartSize: 100_000_000, absoluteMinimumPartSize: 5_000_000, listPageLimit: 10_000, ...options };
    for (const name of options.buckets) this.#buckets.set(name, { bucketId: `bucket${randomBytes(8).toString('hex')}`, bucketName: name });
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        const failure = err instanceof B2Failure ? err : new B2Failure(500, 'internal_error', String((err as Error).message));
        sendError(res, failure);
      });
    });
  }

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.#url;
  }

  get url(): string {
    return this.#url;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** every account token issued so far answers 401 expired_auth_token from now on */
  expireTokens(): void {
    for (const token of this.#tokens.values()) token.expired = true;
  }

  /** every upload URL (and its token) answers 401 expired_auth_token from now on */
  invalidateUploadUrls(): void {
    for (const url of this.#uploadUrls.values()) url.expired = true;
  }

  /** the next `count` calls of `api` ("b2_upload_file", "b2_list_file_names", "download", ...) fail so */
  failNext(api: string, status: number, code: string, options: { count?: number; retryAfter?: number } = {}): void {
    const list = this.#faults.get(api) ?? [];
    list.push({ status, code, retryAfter: options.retryAfter, count: options.count ?? 1 });
    this.#faults.set(api, list);
  }

  /** the stored versions of a name, newest first (uploads, hide markers, unfinished large files) */
  versionsOf(bucketName: string, fileName: string): { action: string; contentLength: number; retention?: FileRetention }[] {
    const bucketId = this.#buckets.get(bucketName)?.bucketId;
    return this.#sorted().filter((v) => v.bucketId === bucketId && v.fileName === fileName)
      .map((v) => ({ action: v.action, contentLength: v.contentLength, ...(v.retention ? { retention: v.retention } : {}) }));
  }

  /** every stored version of a bucket (name, id, SHA-1, retention), for before/after comparisons */
  allVersions(bucketName: string): { fileName: string; fileId: string; action: string; contentSha1: string | null; retention?: FileRetention }[] {
    const bucketId = this.#buckets.get(bucketName)?.bucketId;
    return this.#sorted().filter((v) => v.bucketId === bucketId)
      .map((v) => ({ fileName: v.fileName, fileId: v.fileId, action: v.action, contentSha1: v.contentSha1, ...(v.retention ? { retention: v.retention } : {}) }));
  }

  /** unfinished large files (started, neither finished nor cancelled) */
  unfinishedLargeFiles(): string[] {
    return this.#versions.filter((v) => v.action === 'start').map((v) => v.fileName);
  }

  #count(api: string): void {
    this.calls.set(api, (this.calls.get(api) ?? 0) + 1);
  }

  #takeFault(api: string): Fault | undefined {
    const list = this.#faults.get(api);
    const fault = list?.[0];
    if (!fault) return undefined;
    if (--fault.count <= 0) list!.shift();
    return fault;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/file/')) return this.#download(req, res, url.pathname);
    if (!url.pathname.startsWith(API)) throw new B2Failure(404, 'not_found', `no such endpoint: ${url.pathname}`);
    const [api, ...rest] = url.pathname.slice(API.length).split('/');
    this.#count(api);
    if (api === 'b2_upload_file' || api === 'b2_upload_part') return this.#upload(api, req, res, rest[rest.length - 1]);
    const body = req.method === 'POST' ? await readJson(req) : Object.fromEntries(url.searchParams);
    const fault = this.#takeFault(api);
    if (fault) throw new B2Failure(fault.status, fault.code, `injected ${fault.status} for ${api}`, fault.retryAfter);
    if (api === 'b2_authorize_account') return sendJson(res, this.#authorize(req));
    const key = this.#account(req);
    const handlers: Record<string, (key: TestKey, body: Record<string, unknown>) => unknown> = {
      b2_list_buckets: (k, b) => this.#listBuckets(k, b),
      b2_get_upload_url: (k, b) => this.#getUploadUrl(k, b),
      b2_start_large_file: (k, b) => this.#startLargeFile(k, b),
      b2_get_upload_part_url: (k, b) => this.#getUploadPartUrl(k, b),
      b2_finish_large_file: (k, b) => this.#finishLargeFile(k, b),
      b2_cancel_large_file: (k, b) => this.#cancelLargeFile(k, b),
      b2_list_file_names: (k, b) => this.#listFiles(k, b, false),
      b2_list_file_versions: (k, b) => this.#listFiles(k, b, true),
      b2_delete_file_version: (k, b) => this.#deleteFileVersion(k, b),
      b2_hide_file: (k, b) => this.#hideFile(k, b),
    };
    const handler = handlers[api];
    if (!handler) throw new B2Failure(400, 'bad_request', `unknown API ${api}`);
    sendJson(res, await handler(key, body));
  }

  #authorize(req: IncomingMessage): unknown {
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) throw new B2Failure(401, 'bad_auth_token', 'missing Basic authorization');
    const text = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = text.indexOf(':');
    const key = this.#options.keys.find((k) => k.keyId === text.slice(0, colon) && k.applicationKey === text.slice(colon + 1));
    if (colon < 0 || !key) throw new B2Failure(401, 'unauthorized', '');
    const token = `4_${randomBytes(16).toString('hex')}`;
    this.#tokens.set(token, { keyId: key.keyId, calls: 0, expired: false });
    const bucket = key.bucketName ? this.#buckets.get(key.bucketName) : undefined;
    return {
      accountId: 'testaccount01',
      authorizationToken: token,
      allowed: { capabilities: key.capabilities ?? ALL_CAPABILITIES, bucketId: bucket?.bucketId ?? null, bucketName: bucket?.bucketName ?? null, namePrefix: null },
      apiUrl: this.#url,
      downloadUrl: this.#url,
      s3ApiUrl: `${this.#url}/s3-not-served`,
      recommendedPartSize: this.#options.recommendedPartSize,
      absoluteMinimumPartSize: this.#options.absoluteMinimumPartSize,
    };
  }

  /** the key behind a request's account token */
  #account(req: IncomingMessage): TestKey {
    const value = req.headers.authorization;
    if (!value) throw new B2Failure(401, 'bad_auth_token', 'no Authorization header');
    const token = this.#tokens.get(value);
    if (!token) throw new B2Failure(401, 'bad_auth_token', 'Invalid authorization token');
    token.calls++;
    if (this.#options.tokenLifetimeCalls !== undefined && token.calls > this.#options.tokenLifetimeCalls) token.expired = true;
    if (token.expired) throw new B2Failure(401, 'expired_auth_token', 'Authorization token has expired');
    return this.#options.keys.find((k) => k.keyId === token.keyId)!;
  }

  #require(key: TestKey, capability: Capability, bucketId?: string): void {
    if (!(key.capabilities ?? ALL_CAPABILITIES).includes(capability)) throw new B2Failure(401, 'unauthorized', `key lacks ${capability}`);
    if (bucketId !== undefined && key.bucketName !== undefined && this.#buckets.get(key.bucketName)?.bucketId !== bucketId) {
      throw new B2Failure(401, 'unauthorized', 'key is restricted to another bucket');
    }
  }

  #bucketById(id: unknown): { bucketId: string; bucketName: string } {
    for (const b of this.#buckets.values()) if (b.bucketId === id) return b;
    throw new B2Failure(400, 'bad_bucket_id', `Invalid bucketId: ${String(id)}`);
  }

  #listBuckets(key: TestKey, body: Record<string, unknown>): unknown {
    this.#require(key, 'listBuckets');
    if (body.accountId !== 'testaccount01') throw new B2Failure(400, 'bad_request', 'accountId must be the one b2_authorize_account returned');
    if (key.bucketName !== undefined && body.bucketName !== key.bucketName && body.bucketId === undefined) {
      throw new B2Failure(401, 'unauthorized', 'a key restricted to a bucket must name it');
    }
    const buckets = [...this.#buckets.values()].filter((b) =>
      (body.bucketName === undefined || b.bucketName === body.bucketName) && (body.bucketId === undefined || b.bucketId === body.bucketId));
    const mayRead = (key.capabilities ?? ALL_CAPABILITIES).includes('readBucketRetentions');
    return {
      buckets: buckets.map((b) => ({
        accountId: 'testaccount01', ...b, bucketType: 'allPrivate', bucketInfo: {}, lifecycleRules: [], revision: 1,
        fileLockConfiguration: mayRead
          ? { isClientAuthorizedToRead: true, value: { isFileLockEnabled: this.#fileLock(b.bucketId), defaultRetention: { mode: null, period: null } } }
          : { isClientAuthorizedToRead: false, value: null },
      })),
    };
  }

  #fileLock(bucketId: string): boolean {
    const name = this.#bucketById(bucketId).bucketName;
    return (this.#options.fileLockBuckets ?? []).includes(name);
  }

  /** A requested retention, checked as the docs state: capability, a bucket with file lock, mode, a future time. */
  #retention(key: TestKey, bucketId: string, mode: unknown, until: unknown): FileRetention | undefined {
    if (mode === undefined && until === undefined) return undefined;
    this.#require(key, 'writeFileRetentions');
    if (!this.#fileLock(bucketId)) throw new B2Failure(400, 'bad_request', 'file lock is not enabled on this bucket');
    if (mode !== 'governance' && mode !== 'compliance') throw new B2Failure(400, 'bad_request', `retention mode must be governance or compliance, not ${String(mode)}`);
    const ms = typeof until === 'number' ? until : typeof until === 'string' && /^\d+$/.test(until) ? Number(until) : NaN;
    if (!Number.isSafeInteger(ms)) throw new B2Failure(400, 'bad_request', 'retainUntilTimestamp must be milliseconds since the epoch');
    if (ms <= Date.now()) throw new B2Failure(400, 'bad_request', 'retainUntilTimestamp must be in the future');
    return { mode, retainUntilTimestamp: ms };
  }

  #newUploadUrl(target: { bucketId?: string; fileId?: string }, api: string, key: TestKey): { uploadUrl: string; authorizationToken: string } {
    const id = randomBytes(8).toString('hex');
    const token = `upload_${randomBytes(12).toString('hex')}`;
    this.#uploadUrls.set(id, { ...target, token, busy: false, failed: false, expired: false, key });
    return { uploadUrl: `${this.#url}${API}${api}/${target.bucketId ?? target.fileId}/${id}`, authorizationToken: token };
  }

  #getUploadUrl(key: TestKey, body: Record<string, unknown>): unknown {
    const bucket = this.#bucketById(body.bucketId);
    this.#require(key, 'writeFiles', bucket.bucketId);
    return { bucketId: bucket.bucketId, ...this.#newUploadUrl({ bucketId: bucket.bucketId }, 'b2_upload_file', key) };
  }

  #startLargeFile(key: TestKey, body: Record<string, unknown>): unknown {
    const bucket = this.#bucketById(body.bucketId);
    this.#require(key, 'writeFiles', bucket.bucketId);
    if (typeof body.contentType !== 'string') throw new B2Failure(400, 'bad_request', 'contentType is required');
    const fileName = checkFileName(body.fileName);
    const requested = body.fileRetention as { mode?: unknown; retainUntilTimestamp?: unknown } | undefined;
    const retention = requested === undefined ? undefined : this.#retention(key, bucket.bucketId, requested.mode, requested.retainUntilTimestamp);
    const version: FileVersion = {
      fileId: this.#newFileId(), fileName, bucketId: bucket.bucketId, action: 'start', contentLength: 0, contentSha1: 'none',
      contentType: body.contentType, uploadTimestamp: Date.now(), parts: new Map(), ...(retention ? { retention } : {}),
    };
    this.#versions.push(version);
    return fileJson(version);
  }

  #largeFile(fileId: unknown): FileVersion {
    const version = this.#versions.find((v) => v.fileId === fileId && v.action === 'start');
    if (!version) throw new B2Failure(400, 'bad_request', `no unfinished large file with id ${String(fileId)}`);
    return version;
  }

  #getUploadPartUrl(key: TestKey, body: Record<string, unknown>): unknown {
    const file = this.#largeFile(body.fileId);
    this.#require(key, 'writeFiles', file.bucketId);
    return { fileId: file.fileId, ...this.#newUploadUrl({ fileId: file.fileId }, 'b2_upload_part', key) };
  }

  async #finishLargeFile(key: TestKey, body: Record<string, unknown>): Promise<unknown> {
    const file = this.#largeFile(body.fileId);
    this.#require(key, 'writeFiles', file.bucketId);
    const shas = body.partSha1Array;
    if (!Array.isArray(shas) || shas.length < 2) throw new B2Failure(400, 'bad_request', 'large files need at least 2 parts');
    const parts = file.parts!;
    if (parts.size !== shas.length) throw new B2Failure(400, 'bad_request', `partSha1Array has ${shas.length} parts, ${parts.size} were uploaded`);
    shas.forEach((sha, i) => {
      const part = parts.get(i + 1);
      if (!part) throw new B2Failure(400, 'bad_request', `part ${i + 1} is missing`);
      if (part.sha1 !== sha) throw new B2Failure(400, 'bad_request', `part ${i + 1}: sha1 does not match`);
      if (i < shas.length - 1 && part.size < this.#options.absoluteMinimumPartSize) {
        throw new B2Failure(400, 'bad_request', `part ${i + 1} is smaller than ${this.#options.absoluteMinimumPartSize} bytes`);
      }
    });
    const path = join(this.#dir, `${file.fileId}.data`);
    const out = createWriteStream(path);
    let total = 0;
    for (let n = 1; n <= shas.length; n++) {
      const part = parts.get(n)!;
      total += part.size;
      for await (const chunk of createReadStream(part.path)) if (!out.write(chunk)) await once(out, 'drain');
      await unlink(part.path);
    }
    out.end();
    await once(out, 'finish');
    Object.assign(file, { action: 'upload', contentLength: total, path, parts: undefined, uploadTimestamp: Date.now() });
    return fileJson(file);
  }

  async #cancelLargeFile(key: TestKey, body: Record<string, unknown>): Promise<unknown> {
    const file = this.#largeFile(body.fileId);
    this.#require(key, 'writeFiles', file.bucketId);
    for (const part of file.parts!.values()) await rm(part.path, { force: true });
    this.#versions.splice(this.#versions.indexOf(file), 1);
    return { fileId: file.fileId, accountId: 'testaccount01', bucketId: file.bucketId, fileName: file.fileName };
  }

  #sorted(): FileVersion[] {
    // by name (as UTF-8 bytes), newest version first
    return [...this.#versions].sort((a, b) =>
      Buffer.compare(Buffer.from(a.fileName), Buffer.from(b.fileName)) || b.uploadTimestamp - a.uploadTimestamp || (a.fileId < b.fileId ? 1 : -1));
  }

  #listFiles(key: TestKey, body: Record<string, unknown>, allVersions: boolean): unknown {
    const bucket = this.#bucketById(body.bucketId);
    this.#require(key, 'listFiles', bucket.bucketId);
    const max = body.maxFileCount === undefined ? 100 : Number(body.maxFileCount);
    if (!Number.isInteger(max) || max < 0 || max > 10_000) throw new B2Failure(400, 'bad_request', 'maxFileCount out of range');
    if (body.delimiter !== undefined && body.delimiter !== null) throw new B2Failure(400, 'bad_request', 'this test server does not serve delimiters');
    const limit = Math.min(max || 100, this.#options.listPageLimit);
    const prefix = typeof body.prefix === 'string' ? body.prefix : '';
    const start = typeof body.startFileName === 'string' ? Buffer.from(body.startFileName) : null;
    const startId = typeof body.startFileId === 'string' ? body.startFileId : null;
    let candidates = this.#sorted().filter((v) => v.bucketId === bucket.bucketId && v.fileName.startsWith(prefix) && v.action !== 'start');
    if (!allVersions) {
      // one entry per name: its newest version, unless that is a hide marker
      const seen = new Set<string>();
      candidates = candidates.filter((v) => !seen.has(v.fileName) && (seen.add(v.fileName), true)).filter((v) => v.action === 'upload');
    }
    if (start) {
      let i = candidates.findIndex((v) => Buffer.compare(Buffer.from(v.fileName), start) >= 0);
      if (i < 0) i = candidates.length;
      if (allVersions && startId) {
        const j = candidates.findIndex((v) => v.fileId === startId);
        if (j >= 0) i = j;
      }
      candidates = candidates.slice(i);
    }
    const page = candidates.slice(0, limit);
    const next = candidates[limit];
    const readRetention = (key.capabilities ?? ALL_CAPABILITIES).includes('readFileRetentions');
    const json = (v: FileVersion) => ({
      ...fileJson(v),
      fileRetention: readRetention
        ? { isClientAuthorizedToRead: true, value: v.retention ? { mode: v.retention.mode, retainUntilTimestamp: v.retention.retainUntilTimestamp } : { mode: null, retainUntilTimestamp: null } }
        : { isClientAuthorizedToRead: false, value: null },
    });
    return allVersions
      ? { files: page.map(json), nextFileName: next?.fileName ?? null, nextFileId: next?.fileId ?? null }
      : { files: page.map(json), nextFileName: next?.fileName ?? null };
  }

  async #deleteFileVersion(key: TestKey, body: Record<string, unknown>): Promise<unknown> {
    const version = this.#versions.find((v) => v.fileId === body.fileId && v.action !== 'start');
    if (!version || version.fileName !== body.fileName) throw new B2Failure(400, 'file_not_present', `File not present: ${String(body.fileName)} ${String(body.fileId)}`);
    this.#require(key, 'deleteFiles', version.bucketId);
    if (version.retention && version.retention.retainUntilTimestamp > Date.now()) {
      const bypass = version.retention.mode === 'governance' && body.bypassGovernance === true && (key.capabilities ?? ALL_CAPABILITIES).includes('bypassGovernance');
      if (!bypass) throw new B2Failure(401, 'access_denied', `file ${version.fileName} is under ${version.retention.mode} retention until ${new Date(version.retention.retainUntilTimestamp).toISOString()}`);
    }
    this.#versions.splice(this.#versions.indexOf(version), 1);
    if (version.path) await rm(version.path, { force: true });
    return { fileId: version.fileId, fileName: version.fileName };
  }

  #hideFile(key: TestKey, body: Record<string, unknown>): unknown {
    const bucket = this.#bucketById(body.bucketId);
    this.#require(key, 'writeFiles', bucket.bucketId);
    const fileName = checkFileName(body.fileName);
    const newest = this.#sorted().find((v) => v.bucketId === bucket.bucketId && v.fileName === fileName && v.action !== 'start');
    if (!newest) throw new B2Failure(400, 'no_such_file', `File not present: ${fileName}`);
    if (newest.action === 'hide') throw new B2Failure(400, 'already_hidden', `File already hidden: ${fileName}`);
    const marker: FileVersion = {
      fileId: this.#newFileId(), fileName, bucketId: bucket.bucketId, action: 'hide', contentLength: 0, contentSha1: null,
      contentType: 'application/x-bz-hide-marker', uploadTimestamp: Math.max(Date.now(), newest.uploadTimestamp + 1),
    };
    this.#versions.push(marker);
    return fileJson(marker);
  }

  #newFileId(): string {
    return `4_ztest_f${(++this.#counter).toString(16).padStart(12, '0')}_${randomBytes(4).toString('hex')}`;
  }

  async #upload(api: 'b2_upload_file' | 'b2_upload_part', req: IncomingMessage, res: ServerResponse, urlId: string): Promise<void> {
    const slot = this.#uploadUrls.get(urlId);
    if (!slot) return drainThen(req, res, new B2Failure(400, 'bad_request', 'unknown upload URL'));
    if (req.headers.authorization !== slot.token) return drainThen(req, res, new B2Failure(401, 'bad_auth_token', 'upload authorization token does not match the upload URL'));
    if (slot.expired) return drainThen(req, res, new B2Failure(401, 'expired_auth_token', 'upload authorization token has expired'));
    if (slot.busy) {
      this.violations.push(`${api}: upload URL used by two uploads at once`);
      return drainThen(req, res, new B2Failure(400, 'bad_request', 'upload URL is in use by another upload'));
    }
    if (slot.failed) {
      this.violations.push(`${api}: upload URL used again after it answered a failure`);
      return drainThen(req, res, new B2Failure(400, 'bad_request', 'upload URL used again after a failure'));
    }
    slot.busy = true;
    const path = join(this.#dir, `upload-${randomBytes(8).toString('hex')}`);
    try {
      const result = await this.#receive(api, req, slot, path);
      sendJson(res, result);
    } catch (err) {
      await rm(path, { force: true });
      // a broken connection or a server-side failure: the docs say to get a new upload URL
      if (!req.complete || !(err instanceof B2Failure) || err.status >= 500 || err.status === 408 || err.status === 429) slot.failed = true;
      throw err;
    } finally {
      slot.busy = false;
    }
  }

  async #receive(api: string, req: IncomingMessage, slot: UploadUrl, path: string): Promise<unknown> {
    if (req.headers['transfer-encoding']) throw await drained(req, new B2Failure(400, 'bad_request', 'chunked transfer encoding is not supported; send Content-Length'));
    const lengthHeader = req.headers['content-length'];
    if (lengthHeader === undefined || !/^\d+$/.test(lengthHeader)) throw await drained(req, new B2Failure(411, 'bad_request', 'Content-Length is required'));
    const sha1Header = String(req.headers['x-bz-content-sha1'] ?? '');
    const atEnd = sha1Header === 'hex_digits_at_end';
    if (!atEnd && !/^[0-9a-f]{40}$/.test(sha1Header)) throw await drained(req, new B2Failure(400, 'bad_request', 'X-Bz-Content-Sha1 must be 40 hex digits or hex_digits_at_end'));
    let fileName = '';
    let partNumber = 0;
    let retention: FileRetention | undefined;
    if (api === 'b2_upload_file') {
      if (!req.headers['content-type']) throw await drained(req, new B2Failure(400, 'bad_request', 'Content-Type is required'));
      const raw = req.headers['x-bz-file-name'];
      if (typeof raw !== 'string') throw await drained(req, new B2Failure(400, 'bad_request', 'X-Bz-File-Name is required'));
      try {
        fileName = checkFileName(decodeB2(raw));
        const mode = req.headers['x-bz-file-retention-mode'];
        const until = req.headers['x-bz-file-retention-retain-until-timestamp'];
        retention = this.#retention(slot.key, slot.bucketId!, mode, until);
      } catch (err) {
        throw await drained(req, err as B2Failure);
      }
    } else {
      partNumber = Number(req.headers['x-bz-part-number']);
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) throw await drained(req, new B2Failure(400, 'bad_request', 'X-Bz-Part-Number must be 1..10000'));
    }
    const fault = this.#takeFault(api);
    if (fault) throw await drained(req, new B2Failure(fault.status, fault.code, `injected ${fault.status} for ${api}`, fault.retryAfter));

    const declared = Number(lengthHeader);
    const size = declared - (atEnd ? 40 : 0);
    if (size < 0) throw await drained(req, new B2Failure(400, 'bad_request', 'Content-Length too small for hex_digits_at_end'));
    const hash = createHash('sha1');
    const out = createWriteStream(path);
    let received = 0;
    let tail: Buffer = Buffer.alloc(0);
    const completed = await new Promise<boolean>((resolve, reject) => {
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        // hold back the last 40 bytes: with hex_digits_at_end they are the digest, not data
        let data = atEnd ? Buffer.concat([tail, chunk]) : chunk;
        if (atEnd) {
          tail = data.subarray(Math.max(0, data.length - 40));
          data = data.subarray(0, Math.max(0, data.length - 40));
        }
        hash.update(data);
        if (!out.write(data)) { req.pause(); out.once('drain', () => req.resume()); }
      });
      req.on('end', () => resolve(req.complete));
      req.on('aborted', () => resolve(false));
      req.on('error', () => resolve(false));
      out.on('error', reject);
    });
    out.end();
    await once(out, 'close');
    if (!completed || received !== declared) throw new B2Failure(400, 'bad_request', `received ${received} of ${declared} bytes`);
    const digest = hash.digest('hex');
    const expected = atEnd ? tail.toString('latin1') : sha1Header;
    if (expected !== digest) throw new B2Failure(400, 'bad_request', 'Checksum did not match data received');
    if ((await stat(path)).size !== size) throw new B2Failure(500, 'internal_error', 'stored size differs');

    if (api === 'b2_upload_part') {
      const file = this.#versions.find((v) => v.fileId === slot.fileId && v.action === 'start');
      if (!file) throw new B2Failure(400, 'bad_request', 'the large file was finished or cancelled');
      const old = file.parts!.get(partNumber);
      if (old) await rm(old.path, { force: true });
      file.parts!.set(partNumber, { path, size, sha1: digest });
      return { fileId: file.fileId, partNumber, contentLength: size, contentSha1: digest, uploadTimestamp: Date.now() };
    }
    const newest = this.#sorted().find((v) => v.bucketId === slot.bucketId && v.fileName === fileName && v.action !== 'start');
    const version: FileVersion = {
      fileId: this.#newFileId(), fileName, bucketId: slot.bucketId!, action: 'upload', contentLength: size, contentSha1: digest,
      contentType: String(req.headers['content-type']), uploadTimestamp: Math.max(Date.now(), (newest?.uploadTimestamp ?? 0) + 1), path,
      ...(retention ? { retention } : {}),
    };
    this.#versions.push(version);
    return fileJson(version);
  }

  async #download(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    this.#count('download');
    const m = /^\/file\/([^/]+)\/(.+)$/.exec(pathname);
    if (!m) throw new B2Failure(400, 'bad_request', 'expected /file/bucketName/fileName');
    const fault = this.#takeFault('download');
    if (fault) throw new B2Failure(fault.status, fault.code, `injected ${fault.status} for download`, fault.retryAfter);
    const key = this.#account(req);
    const bucket = this.#buckets.get(decodeB2(m[1]));
    if (!bucket) throw new B2Failure(404, 'not_found', 'bucket not found');
    this.#require(key, 'readFiles', bucket.bucketId);
    const fileName = decodeB2(m[2]);
    const newest = this.#sorted().find((v) => v.bucketId === bucket.bucketId && v.fileName === fileName && v.action !== 'start');
    if (!newest || newest.action !== 'upload') throw new B2Failure(404, 'not_found', `File not present: ${fileName}`);
    res.writeHead(200, {
      'Content-Length': String(newest.contentLength),
      'Content-Type': newest.contentType,
      'X-Bz-File-Id': newest.fileId,
      'X-Bz-File-Name': encodeURIComponent(newest.fileName).replace(/%2F/g, '/'),
      'X-Bz-Content-Sha1': newest.contentSha1 ?? 'none',
      'X-Bz-Upload-Timestamp': String(newest.uploadTimestamp),
    });
    for await (const chunk of createReadStream(newest.path!)) if (!res.write(chunk)) await once(res, 'drain');
    res.end();
  }
}

function fileJson(v: FileVersion): Record<string, unknown> {
  return {
    accountId: 'testaccount01', action: v.action, bucketId: v.bucketId, contentLength: v.contentLength,
    contentSha1: v.contentSha1, contentType: v.contentType, fileId: v.fileId, fileInfo: {}, fileName: v.fileName,
    uploadTimestamp: v.uploadTimestamp,
  };
}

/** The docs' decoding of X-Bz-File-Name and URL paths: %XX is a byte, "+" a space, and only these may stay unencoded. */
export function decodeB2(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new B2Failure(400, 'bad_request', 'bad percent-encoding in a file name');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === '+') {
      bytes.push(0x20);
    } else if (/^[A-Za-z0-9._\-/~!$'()*;=:@,]$/.test(c)) {
      bytes.push(c.charCodeAt(0));
    } else {
      throw new B2Failure(400, 'bad_request', `file name character ${JSON.stringify(c)} must be percent-encoded`);
    }
  }
  const buffer = Buffer.from(bytes);
  const decoded = buffer.toString('utf8');
  if (!Buffer.from(decoded, 'utf8').equals(buffer)) throw new B2Failure(400, 'bad_request', 'file name is not valid UTF-8');
  return decoded;
}

/** The docs' file name rules. */
function checkFileName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new B2Failure(400, 'bad_request', 'File names must contain at least one character');
  if (Buffer.byteLength(name) > 1024) throw new B2Failure(400, 'bad_request', 'File names in UTF8 must be no more than 1024 bytes');
  if (/[\x00-\x1f\x7f]/.test(name)) throw new B2Failure(400, 'bad_request', 'File names must not contain control characters or DEL');
  for (const segment of name.split('/')) {
    if (Buffer.byteLength(segment) > 250) throw new B2Failure(400, 'bad_request', 'File name segments must be at most 250 bytes');
  }
  return name;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new B2Failure(400, 'bad_request', 'request body is not a JSON object');
  }
}

/** Reads and discards a request's body, so the client gets the answer rather than a reset. */
async function drained(req: IncomingMessage, failure: B2Failure): Promise<B2Failure> {
  await new Promise<void>((resolve) => {
    req.on('end', resolve).on('error', () => resolve()).on('aborted', () => resolve()).on('close', () => resolve());
    req.resume();
  });
  return failure;
}

async function drainThen(req: IncomingMessage, res: ServerResponse, failure: B2Failure): Promise<void> {
  sendError(res, await drained(req, failure));
}

function sendJson(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, failure: B2Failure): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ status: failure.status, code: failure.code, message: failure.message });
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
  if (failure.retryAfter !== undefined) headers['Retry-After'] = String(failure.retryAfter);
  res.writeHead(failure.status, headers);
  res.end(body);
}
