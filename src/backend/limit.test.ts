import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { FaultyBackend } from '../../test/support/faulty-backend.js';
import { FileBackend } from './file/file-backend.js';
import { withLimit } from './limit.js';
import type { PutSource } from './types.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'lifeboat-limit-test-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

let targets = 0;
const newTarget = () => new FaultyBackend(new FileBackend(join(dir, `target-${++targets}`)));
const text = (s: string): PutSource => ({ size: Buffer.byteLength(s), open: () => Readable.from([Buffer.from(s)]) });

describe('withLimit', () => {
  it('never runs more than n operations at once, and does run n', async () => {
    for (const n of [1, 2, 3]) {
      const faulty = newTarget().delay('any', 25);
      const limited = withLimit(faulty, n);
      await Promise.all(Array.from({ length: 9 }, (_, i) => limited.put(`f${i}`, text(`${i}`))));
      await Promise.all(Array.from({ length: 9 }, (_, i) => limited.delete([`f${i}`])));
      assert.equal(faulty.maxInFlight, n, `limit ${n}`);
      assert.equal(faulty.calls.length, 18);
    }
  });

  it('counts a read until its data starts to flow', async () => {
    const faulty = newTarget();
    const limited = withLimit(faulty, 1);
    await limited.put('a', text('a'));
    faulty.delay('read', 60); // the request phase, before consume is called
    await Promise.all([1, 2, 3].map(() => limited.read('a', async (b) => (await b.toArray()).join(''))));
    const starts = faulty.callsOf('read').map((c) => c.start);
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i] - starts[i - 1] >= 55, `read ${i + 1} began ${starts[i] - starts[i - 1]} ms after read ${i}`);
  });

  it('lets more downloads stream at once than it has slots (restore merges every set of a chain)', async () => {
    const faulty = newTarget();
    const limited = withLimit(faulty, 1);
    for (const n of ['s1', 's2', 's3']) await limited.put(n, text(n));
    let release!: () => void;
    const allOpen = new Promise<void>((resolve) => { release = resolve; });
    let open = 0;
    const reads = ['s1', 's2', 's3'].map((n) => limited.read(n, async (body) => {
      if (++open === 3) release();
      await allOpen; // each consume waits until all three streams are open, as a k-way merge does
      return (await body.toArray()).join('');
    }));
    assert.deepEqual(await Promise.all(reads), ['s1', 's2', 's3']);
  });

  it('counts a listing as one operation until it ends or is abandoned', async () => {
    const faulty = newTarget();
    const limited = withLimit(faulty, 1);
    await limited.put('a', text('a'));
    await limited.put('b', text('b'));
    const iterator = limited.list()[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value.name, 'a');
    const put = limited.put('c', text('c'));
    await sleep(50);
    assert.equal(faulty.callsOf('put').length, 2, 'the put waits while the listing is open');
    await iterator.return!();
    await put;
    assert.equal(faulty.callsOf('put').length, 3);
    assert.equal(faulty.maxInFlight, 1);
  });

  it('starts waiting operations in the order they asked', async () => {
    const faulty = newTarget().delay('put', 10);
    const limited = withLimit(faulty, 1);
    await Promise.all(['p1', 'p2', 'p3', 'p4'].map((n) => limited.put(n, text(n))));
    assert.deepEqual(faulty.callsOf('put').map((c) => c.name), ['p1', 'p2', 'p3', 'p4']);
  });

  it('an operation aborted while waiting leaves the queue and takes no slot', async () => {
    const faulty = newTarget().delay('put', 60);
    const limited = withLimit(faulty, 1);
    const first = limited.put('first', text('1'));
    const controller = new AbortController();
    const waiting = limited.put('never', text('x'), { signal: controller.signal });
    controller.abort(new Error('cancelled'));
    await assert.rejects(waiting, /cancelled/);
    await first;
    await limited.put('after', text('2'));
    assert.deepEqual(faulty.callsOf('put').map((c) => c.name), ['first', 'after']);
  });

  it('a failing operation gives its slot back', async () => {
    const faulty = newTarget();
    faulty.fail({ op: 'put', kind: 'permanent', times: 3 });
    const limited = withLimit(faulty, 1);
    for (let i = 0; i < 3; i++) await assert.rejects(limited.put('x', text('x')));
    await limited.put('x', text('x'));
    assert.equal(faulty.callsOf('put').at(-1)!.outcome, 'ok');
  });
});
