// A patched file's versions (replay.ts): which are read as they stream and which go through a
// temporary file, that damage in any delta of the chain is reported, and that nothing is left behind.
// The engine oracle tests check whole chains against duplicity's restore.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { IntegrityError } from '../errors/lifeboat-error.js';
import type { TarEntryHeader } from '../tar/header.js';
import { deltaBytes, signatureBytes } from '../../test/support/librsync.js';
import { randomBytes } from '../../test/support/random.js';
import { replaySets } from './replay.js';
import type { SetMember } from './set-reader.js';

const header = (name: string, size: number): TarEntryHeader => ({
  name: Buffer.from(name), type: 'file', mode: 0o644, uid: 0, gid: 0, size, mtime: 1, linkname: Buffer.alloc(0), uname: 'root', gname: 'root', devmajor: 0, devminor: 0,
});

async function* chunks(data: Buffer, size = 65536): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

const delta = async (from: Buffer, to: Buffer) => deltaBytes(await signatureBytes(from, { blockLength: 2048, strongLength: 8 }), to);

/** descriptors of this process open on files under `dir` */
function openUnder(dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) open.push(target);
    } catch { /* closed meanwhile */ }
  }
  return open;
}

/**
 * Replays one file "f": `snapshot` in the full set, then one set per delta. `read` gets its content
 * and the temporary directory; afterwards the directory must be empty and no descriptor open in it.
 */
async function replay<T>(snapshot: Buffer, deltas: Buffer[], read: (content: AsyncIterable<Buffer>, tempdir: string) => Promise<T>): Promise<T> {
  const tempdir = mkdtempSync(join(tmpdir(), 'lifeboat-replay-'));
  try {
    const index = [Buffer.from('f')];
    const sets = [snapshot, ...deltas].map((data, i) => (async function* (): AsyncGenerator<SetMember> {
      const kind = i === 0 ? 'snapshot' : 'diff';
      yield { kind, index, header: header(`${kind}/f`, data.length), body: chunks(data) };
    })());
    let result: T | undefined;
    let failure: unknown;
    try {
      for await (const object of replaySets(sets, { prefix: [], tempdir, onWarning: (message) => assert.fail(message) })) {
        result = await read(object.content!, tempdir);
      }
    } catch (err) {
      failure = err;
    }
    assert.deepEqual(readdirSync(tempdir), [], 'temporary files left behind');
    assert.deepEqual(openUnder(tempdir), [], 'descriptors left open');
    if (failure !== undefined) throw failure;
    return result!;
  } finally {
    rmSync(tempdir, { recursive: true, force: true });
  }
}

/** the content, and the most files the temporary directory held while it was read */
async function readWatching(content: AsyncIterable<Buffer>, tempdir: string): Promise<{ data: Buffer; mostTemporaries: number }> {
  const parts: Buffer[] = [];
  let mostTemporaries = 0;
  for await (const part of content) {
    parts.push(Buffer.from(part));
    mostTemporaries = Math.max(mostTemporaries, readdirSync(tempdir).length);
  }
  return { data: Buffer.concat(parts), mostTemporaries };
}

const v0 = randomBytes(1, 1 << 20);
// an insertion, a deletion and an append: every copy reads on from the one before
const v1 = Buffer.concat([v0.subarray(0, 300_000), randomBytes(2, 3000), v0.subarray(300_000, 700_000), v0.subarray(720_000), randomBytes(3, 5000)]);
// halves swapped: the first half's copies go back
const v2 = Buffer.concat([v1.subarray(v1.length >> 1), v1.subarray(0, v1.length >> 1)]);

test('a chain of deltas that copy forward streams through with no temporary file; one that copies back writes its basis to one', async () => {
  const forward = await replay(v0, [await delta(v0, v1)], readWatching);
  assert.ok(forward.data.equals(v1));
  assert.equal(forward.mostTemporaries, 0);
  const both = await replay(v0, [await delta(v0, v1), await delta(v1, v2)], readWatching);
  assert.ok(both.data.equals(v2));
  assert.ok(both.mostTemporaries >= 1, 'the version the backward delta reads went through a temporary file');
  // the same chain the other way round: a backward delta first, then a forward one on its output
  const v3 = Buffer.concat([v2.subarray(0, 100_000), v2.subarray(150_000)]);
  const reversed = await replay(v1, [await delta(v1, v2), await delta(v2, v3)], readWatching);
  assert.ok(reversed.data.equals(v3));
});

test('a big delta that copies back is kept only up to its first copy back: the rest is read from its volume as it is applied', async () => {
  // a copy back near its start, then 12 MiB of new data (more than is kept in memory)
  const next = Buffer.concat([v0.subarray(600_000, 700_000), v0.subarray(0, 100_000), randomBytes(8, 12 << 20)]);
  const restored = await replay(v0, [await delta(v0, next)], readWatching);
  assert.ok(restored.data.equals(next));
  assert.equal(restored.mostTemporaries, 1, 'only the version the delta reads went to a temporary file');
});

test('damage in a delta is reported even where the next delta no longer reads the version it makes', async () => {
  const d1 = await delta(v0, v1);
  const damaged: [string, Buffer, RegExp][] = [
    ['without its END command', d1.subarray(0, d1.length - 1), /f: delta is truncated at offset \d+/],
    ['with a bogus command at its end', Buffer.concat([d1.subarray(0, d1.length - 1), Buffer.from([0xff])]), /f: delta has a bogus command byte 0xff/],
    ['made against a longer basis', await delta(Buffer.concat([v0, randomBytes(4, 4096)]), Buffer.concat([v1, v0.subarray(0, 10), randomBytes(4, 4096)])), /f: delta at offset \d+ copies past the end of the basis file/],
  ];
  // the next version keeps only the start of it, or none of it
  for (const next of [v1.subarray(0, 200_000), randomBytes(5, 1000)]) {
    const d2 = await delta(v1, next);
    for (const [what, d1Damaged, message] of damaged) {
      await assert.rejects(replay(v0, [d1Damaged, d2], readWatching), (err: unknown) => {
        assert.ok(err instanceof IntegrityError, String(err));
        assert.match(err.message, message, what);
        return true;
      }, `first delta ${what}, then a delta of ${next.length} bytes`);
    }
  }
});

test('a reader that stops part-way leaves no temporary file and no open descriptor', async () => {
  const big = randomBytes(6, 12 << 20); // a delta over 8 MiB waits in a temporary file
  const deltas = [await delta(v0, v1), await delta(v1, v2), await delta(v2, big), await delta(big, Buffer.concat([big, v0]))];
  // the big delta copies nothing, and neither does the one after it: its version is never read
  const unread = [await delta(v0, big), await delta(big, randomBytes(7, 300_000))];
  for (const chain of [deltas, unread]) {
    for (let stopAfter = 0; stopAfter < 3; stopAfter++) {
      await replay(v0, chain, async (content) => {
        let seen = 0;
        for await (const _ of content) if (seen++ === stopAfter) break;
      });
    }
  }
});
