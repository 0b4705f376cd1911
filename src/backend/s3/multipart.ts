// One multipart upload: parts cut from the stream, a few in flight at once (each held in memory, so
// memory stays at partSize × concurrency), completed only when every part is in. Any failure or an
// abort waits for the parts still in flight, then aborts the upload, as AWS advises, so no part is
// stored after the abort and nothing becomes visible.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand,
  type CompletedPart, type CreateMultipartUploadCommandInput, type S3Client,
} from '@aws-sdk/client-s3';

export interface MultipartRequest {
  /** sends Create, Complete and Abort */
  client: S3Client;
  /** sends the parts; may retry a failed part, since a part is a buffer it can send again */
  partClient: S3Client;
  params: CreateMultipartUploadCommandInput & { Bucket: string; Key: string };
  body: Readable;
  partSize: number;
  concurrency: number;
  signal: AbortSignal;
  /** send each part's Content-MD5 (S3 requires an integrity header when the object gets a retention) */
  partMd5?: boolean;
}

export async function uploadMultipart(request: MultipartRequest): Promise<void> {
  const { client, partClient, params, signal } = request;
  const { Bucket, Key } = params;
  const created = await client.send(new CreateMultipartUploadCommand(params), { abortSignal: signal });
  const UploadId = created.UploadId;
  if (!UploadId) throw new Error('the server gave no UploadId for a multipart upload');
  const completed: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  try {
    let partNumber = 0;
    for await (const part of partsOf(request.body, request.partSize)) {
      if (failure !== undefined) break;
      signal.throwIfAborted();
      const PartNumber = ++partNumber;
      const sent: Promise<void> = partClient
        .send(new UploadPartCommand({
          Bucket, Key, UploadId, PartNumber, Body: part, ContentLength: part.length,
          ...(request.partMd5 ? { ContentMD5: createHash('md5').update(part).digest('base64') } : {}),
        }), { abortSignal: signal })
        .then((result) => { completed.push({ PartNumber, ETag: result.ETag }); })
        .catch((err: unknown) => { failure ??= err; })
        .finally(() => { inFlight.delete(sent); });
      inFlight.add(sent);
      while (inFlight.size >= request.concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    signal.throwIfAborted();
    completed.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: completed } }), { abortSignal: signal });
  } catch (err) {
    await Promise.allSettled(inFlight);
    // no signal: the abort must go out even when the caller gave up; a server without
    // AbortMultipartUpload (s3rver) leaves the parts invisible, and S3's lifecycle rules can expire them
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
    throw err;
  }
}

/** Buffers of exactly `size` bytes (the last one shorter), copied out of the stream's chunks. */
async function* partsOf(body: Readable, size: number): AsyncGenerator<Buffer> {
  let part = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(size - filled, chunk.length - offset);
      chunk.copy(part, filled, offset, offset + n);
      filled += n;
      offset += n;
      if (filled === size) {
        yield part;
        part = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
}
