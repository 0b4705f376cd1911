import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Readable } from 'node:stream';
import { SourceCursor } from './source-cursor.js';
import { BackendError } from '../errors.js';

function counted(data: Buffer, chunk = 3): { source: { size: number; open(): Readable }; opens: () => number } {
  let opens = 0;
  return {
    source: {
      size: data.length,
      open: () => {
        opens++;
        const pieces: Buffer[] = [];
        for (let i = 0; i < data.length; i += chunk) pieces.push(data.subarray(i, i + chunk));
        return Readable.from(pieces);
      },
    },
    opens: () => opens,
  };
}

async function collect(it: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts).toString();
}

test('consecutive ranges read the source once; a repeated range reopens it and skips', async () => {
  const { source, opens } = counted(Buffer.from('abcdefghijklmnopqrstuvwxyz'));
  const cursor = new SourceCursor(source);
  assert.equal(await collect(cursor.range(0, 10)), 'abcdefghij');
  assert.equal(await collect(cursor.range(10, 10)), 'klmnopqrst');
  assert.equal(opens(), 1);
  assert.equal(await collect(cursor.range(10, 10)), 'klmnopqrst', 'a retried part');
  assert.equal(opens(), 2);
  assert.equal(await collect(cursor.range(20, 6)), 'uvwxyz');
  assert.equal(opens(), 2);
  cursor.close();
});

test('a source shorter or longer than announced is a permanent error, remembered as the source\'s', async () => {
  const short = new SourceCursor({ size: 10, open: () => Readable.from([Buffer.from('abc')]) });
  await assert.rejects(collect(short.range(0, 10)), (e: unknown) => e instanceof BackendError && e.kind === 'permanent');
  assert.ok(short.failure instanceof BackendError);
  const long = new SourceCursor({ size: 2, open: () => Readable.from([Buffer.from('abc')]) });
  await assert.rejects(collect(long.range(0, 2)), /longer than the 2 bytes announced/);
  const empty = new SourceCursor({ size: 0, open: () => Readable.from([]) });
  assert.equal(await collect(empty.range(0, 0)), '');
});
