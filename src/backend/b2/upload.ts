// Uploads as B2 documents them. Each upload URL serves one upload at a time: idle ones wait in a
// pool, a busy one belongs to one request, and one that failed (no answer, 408, 429, 5xx, expired)
// is dropped and a new one is asked for, as the integration checklist requires. The SHA-1 is
// computed while the bytes stream (X-Bz-Content-Sha1: hex_digits_at_end), so the source is read once.
// A file above the part size becomes a large file: parts one after another, each with its own
// SHA-1, then b2_finish_large_file; any failure cancels it, so nothing half-written is ever visible.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BackendError } from '../errors.js';
import type { PutSource } from '../types.js';
import { isExpiredToken } from './b2-error.js';
import { encodeFileName } from './names.js';
import { send, type Authorization, type B2Session } from './session.js';
import { SourceCursor } from './source-cursor.js';

interface UploadSlot { uploadUrl: string; authorizationToken: string }

/** Idle upload URLs for one bucket (or one large file's parts). */
export class UploadUrlPool {
  readonly #idle: UploadSlot[] = [];
  readonly #fetch: (signal?: AbortSignal) => Promise<UploadSlot>;

  constructor(fetchSlot: (signal?: AbortSignal) => Promise<UploadSlot>) {
    this.#fetch = fetchSlot;
  }

  /** an idle slot, or a new one asked for under the caller's signal */
  async take(signal?: AbortSignal): Promise<UploadSlot> {
    return this.#idle.pop() ?? this.#fetch(signal);
  }

  give(slot: UploadSlot): void {
    this.#idle.push(slot);
  }

  /** after an expired upload token: the idle ones were issued at the same time, so drop them all */
  clear(): void {
    this.#idle.length = 0;
  }
}

/** Runs one upload attempt with a slot from the pool; the slot goes back only if the upload succeeded. */
async function withSlot(pool: UploadUrlPool, signal: AbortSignal | undefined, attempt: (slot: UploadSlot) => Promise<void>): Promise<void> {
  const slot = await pool.take(signal);
  try {
    await attempt(slot);
  } catch (err) {
    if (isExpiredToken(err)) pool.clear();
    throw err;
  }
  pool.give(slot);
}

/** the largest part count B2 takes */
const MAX_PARTS = 10_000;

export function partSizeFor(size: number, auth: Authorization): number {
  const preferred = Math.max(auth.recommendedPartSize, auth.absoluteMinimumPartSize);
  return Math.max(preferred, Math.ceil(size / MAX_PARTS));
}

export interface UploadRequest {
  session: B2Session;
  bucketId: string;
  /** the B2 file name (folder included) */
  fileName: string;
  source: PutSource;
  pool: UploadUrlPool;
  signal?: AbortSignal;
  /** object lock: the file's retention, as B2's file lock takes it (needs writeFileRetentions) */
  retention?: { mode: 'governance' | 'compliance'; retainUntilTimestamp: number };
}

export async function upload(request: UploadRequest): Promise<void> {
  const auth = await request.session.authorization();
  const partSize = partSizeFor(request.source.size, auth);
  const cursor = new SourceCursor(request.source);
  try {
    if (request.source.size > partSize) await uploadLarge(request, cursor, partSize);
    else await uploadSmall(request, cursor);
  } finally {
    cursor.close();
  }
}

async function uploadSmall(request: UploadRequest, cursor: SourceCursor): Promise<void> {
  const { session, source, pool, signal } = request;
  await session.withRetries('b2_upload_file', () => withSlot(pool, signal, (slot) => streamWithSha1(cursor, 'b2_upload_file', slot.uploadUrl, {
    Authorization: slot.authorizationToken,
    'X-Bz-File-Name': encodeFileName(request.fileName),
    'Content-Type': 'application/octet-stream',
    ...(request.retention ? {
      'X-Bz-File-Retention-Mode': request.retention.mode,
      'X-Bz-File-Retention-Retain-Until-Timestamp': String(request.retention.retainUntilTimestamp),
    } : {}),
  }, 0, source.size, { hex: '' }, signal)), { signal, renewToken: false, what: `uploading ${request.fileName}` });
}

async function uploadLarge(request: UploadRequest, cursor: SourceCursor, partSize: number): Promise<void> {
  const { session, bucketId, fileName, source, signal } = request;
  const started = await session.call<{ fileId: string }>('b2_start_large_file', {
    bucketId, fileName, contentType: 'application/octet-stream',
    ...(request.retention ? { fileRetention: request.retention } : {}),
  }, signal);
  const fileId = started.fileId;
  try {
    const parts = new UploadUrlPool((partSignal) => session.call<UploadSlot>('b2_get_upload_part_url', { fileId }, partSignal));
    const sha1s: string[] = [];
    for (let offset = 0, part = 1; offset < source.size; offset += partSize, part++) {
      const length = Math.min(partSize, source.size - offset);
      const digest = { hex: '' };
      await session.withRetries('b2_upload_part', () => withSlot(parts, signal, (slot) => streamWithSha1(cursor, 'b2_upload_part', slot.uploadUrl, {
        Authorization: slot.authorizationToken,
        'X-Bz-Part-Number': String(part),
      }, offset, length, digest, signal)), { signal, renewToken: false, what: `uploading part ${part} of ${fileName}` });
      sha1s.push(digest.hex);
    }
    await session.call('b2_finish_large_file', { fileId, partSha1Array: sha1s }, signal);
  } catch (err) {
    // no signal: the cancel must happen even when the put was aborted
    await session.call('b2_cancel_large_file', { fileId }).catch(() => undefined);
    throw err;
  }
}

/** POSTs [offset, offset + length) of the source with its SHA-1 as the last 40 bytes. */
async function streamWithSha1(
  cursor: SourceCursor, api: string, url: string, headers: Record<string, string>,
  offset: number, length: number, digest: { hex: string }, signal?: AbortSignal,
): Promise<void> {
  const body = Readable.from((async function* () {
    const hash = createHash('sha1');
    for await (const chunk of cursor.range(offset, length)) {
      hash.update(chunk);
      yield chunk;
    }
    digest.hex = hash.digest('hex');
    yield Buffer.from(digest.hex, 'latin1');
  })(), { objectMode: false });
  let response: Response;
  try {
    response = await send(api, url, {
      method: 'POST',
      headers: {
        ...headers,
        'Content-Length': String(length + 40),
        'X-Bz-Content-Sha1': 'hex_digits_at_end',
        'User-Agent': 'lifeboat/0.1 (B2 native API v2)',
      },
      body: Readable.toWeb(body) as unknown as WebReadableStream as unknown as BodyInit,
      duplex: 'half',
      signal,
    });
  } catch (err) {
    body.destroy();
    // the source itself failed (a local read error, or fewer bytes than announced): not B2's fault,
    // and repeating the upload would not help
    if (cursor.failure !== undefined) {
      throw cursor.failure instanceof BackendError
        ? cursor.failure
        : new BackendError('permanent', `reading the data to upload failed: ${(cursor.failure as Error)?.message ?? String(cursor.failure)}`, { cause: cursor.failure });
    }
    throw err;
  }
  const answer = await response.json() as { contentSha1?: string };
  if (answer.contentSha1 !== undefined && answer.contentSha1 !== digest.hex) {
    throw new BackendError('transient', `B2 ${api} stored SHA-1 ${answer.contentSha1}, expected ${digest.hex}`);
  }
}
