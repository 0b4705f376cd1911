import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, it } from 'node:test';
import { FaultyBackend } from '../../test/support/faulty-backend.js';
import { FileBackend } from '../backend/file/file-backend.js';
import { withRetry } from '../backend/retry.js';
import { streamStoredFile } from './set-reader.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'lifeboat-set-reader-test-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

it('a stored file read again after a dropped connection streams each byte exactly once', async () => {
  const faulty = new FaultyBackend(new FileBackend(join(dir, 'target')));
  const data = randomBytes(1 << 20);
  await faulty.put('vol1', { size: data.length, open: () => Readable.from([data.subarray(0, 500_000), data.subarray(500_000)]) });
  faulty.dropRead({ afterBytes: 300_000 }).dropRead({ afterBytes: 700_001 });
  const retries: number[] = [];
  const backend = withRetry(faulty, { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1, onRetry: (e) => retries.push(e.attempt) });
  const chunks: Buffer[] = [];
  for await (const chunk of streamStoredFile(backend, 'vol1')) chunks.push(chunk as Buffer);
  assert.deepEqual(retries, [1, 2]);
  assert.equal(faulty.callsOf('read').length, 3);
  assert.equal(sha(Buffer.concat(chunks)), sha(data));
});

it('a read that keeps failing ends the stream with the error', async () => {
  const faulty = new FaultyBackend(new FileBackend(join(dir, 'target2')));
  await faulty.put('vol1', { size: 3, open: () => Readable.from([Buffer.from('abc')]) });
  faulty.fail({ op: 'read', kind: 'transient', times: 5 });
  const backend = withRetry(faulty, { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 });
  await assert.rejects(async () => { for await (const _ of streamStoredFile(backend, 'vol1')) { /* drain */ } }, /Giving up after 2 attempts/);
});
