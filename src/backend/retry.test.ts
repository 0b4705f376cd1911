import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FaultyBackend } from '../../test/support/faulty-backend.js';
import { BackendError, parseRetryAfter, type BackendErrorKind } from './errors.js';
import { FileBackend, TEMPORARY_MARKER } from './file/file-backend.js';
import { openBackend } from './registry.js';
import { describeRetry, retryDelay, retryPolicyFromOptions, withRetry, type RetryEvent, type RetryPolicy } from './retry.js';
import type { PutSource } from './types.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'lifeboat-retry-test-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

let targets = 0;
function target(): { faulty: FaultyBackend; dir: string } {
  const path = join(dir, `target-${++targets}`);
  return { faulty: new FaultyBackend(new FileBackend(path)), dir: path };
}

/** A policy on a fake clock: waits are recorded, not slept. */
function fakeClock(overrides: Partial<RetryPolicy> = {}): { policy: RetryPolicy; waits: number[]; events: RetryEvent[] } {
  const waits: number[] = [];
  const events: RetryEvent[] = [];
  const policy: RetryPolicy = {
    maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000, maxRetryAfterMs: 60_000,
    sleep: async (ms) => { waits.push(ms); },
    onRetry: (e) => events.push(e),
    ...overrides,
  };
  return { policy, waits, events };
}

function source(data: Buffer, chunk = 64 * 1024): PutSource & { opens: number } {
  const s = {
    size: data.length,
    opens: 0,
    open: () => {
      s.opens++;
      const parts: Buffer[] = [];
      for (let i = 0; i < data.length; i += chunk) parts.push(data.subarray(i, i + chunk));
      return Readable.from(parts);
    },
  };
  return s;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('withRetry', () => {
  it('retries a transient failure with growing jittered waits until the operation succeeds', async () => {
    const { faulty } = target();
    faulty.fail({ op: 'put', kind: 'transient', times: 3 });
    const { policy, waits, events } = fakeClock({ random: () => 0.5 });
    const data = randomBytes(1000);
    const src = source(data);
    await withRetry(faulty, policy).put('vol1', src);
    assert.equal(faulty.callsOf('put').length, 4);
    assert.deepEqual(waits, [500, 1000, 2000]);
    assert.deepEqual(events.map((e) => [e.operation, e.name, e.attempt, e.maxAttempts]), [['put', 'vol1', 1, 5], ['put', 'vol1', 2, 5], ['put', 'vol1', 3, 5]]);
    assert.match(describeRetry(events[0]), /^put vol1 at file:\/\/.*: attempt 1 of 5 failed \(put vol1: injected transient fault\); trying again in 0\.5 s$/);
  });

  for (const kind of ['auth', 'not-found', 'no-space', 'permanent'] as BackendErrorKind[]) {
    it(`does not retry a ${kind} error`, async () => {
      const { faulty } = target();
      faulty.fail({ op: 'put', kind });
      const { policy, waits } = fakeClock();
      await assert.rejects(withRetry(faulty, policy).put('x', source(Buffer.from('x'))), (err: unknown) => err instanceof BackendError && err.kind === kind);
      assert.equal(faulty.callsOf('put').length, 1);
      assert.deepEqual(waits, []);
    });
  }

  it('does not retry errors that are not BackendErrors', async () => {
    const { faulty } = target();
    const { policy } = fakeClock();
    const retried = withRetry(faulty, policy);
    await retried.put('x', source(Buffer.from('abc')));
    let runs = 0;
    await assert.rejects(retried.read('x', async () => { runs++; throw new TypeError('caller bug'); }), TypeError);
    assert.equal(runs, 1);
  });

  it('does not send again a put whose own data failed, however the backend classified it', async () => {
    const { faulty } = target();
    let attempts = 0;
    const careless = Object.create(faulty, {
      put: {
        value: async (_name: string, src: PutSource) => {
          attempts++;
          try {
            for await (const _ of src.open()) { /* upload */ }
          } catch (err) {
            throw new BackendError('transient', 'upload failed', { cause: err });
          }
        },
      },
    });
    const { policy, waits } = fakeClock();
    const broken: PutSource = { size: 10, open: () => new Readable({ read() { this.destroy(new Error('EIO: spool unreadable')); } }) };
    await assert.rejects(withRetry(careless, policy).put('x', broken), /^BackendError: upload failed$/);
    assert.equal(attempts, 1);
    assert.deepEqual(waits, []);
  });

  it('gives up after maxAttempts with the count in the message', async () => {
    const { faulty } = target();
    faulty.fail({ op: 'delete', kind: 'transient', times: 10 });
    const { policy, waits } = fakeClock({ maxAttempts: 3 });
    await assert.rejects(withRetry(faulty, policy).delete(['a']), (err: unknown) =>
      err instanceof BackendError && err.kind === 'transient' && /^Giving up after 3 attempts: delete a: injected transient fault$/.test(err.message));
    assert.equal(faulty.callsOf('delete').length, 3);
    assert.equal(waits.length, 2);
  });

  it('waits at least what Retry-After asks, even above the jitter bound', async () => {
    const { faulty } = target();
    faulty.fail({ op: 'put', kind: 'transient', retryAfterMs: 7000 });
    const { policy, waits } = fakeClock({ random: () => 0 });
    await withRetry(faulty, policy).put('x', source(Buffer.from('x')));
    assert.deepEqual(waits, [7000]);
  });

  it('waits for Retry-After on the real clock', async () => {
    const { faulty } = target();
    faulty.fail({ op: 'read', kind: 'transient', retryAfterMs: 150 });
    const retried = withRetry(faulty, { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 10_000 });
    await retried.put('x', source(Buffer.from('hello')));
    const started = performance.now();
    const text = await retried.read('x', async (body) => (await body.toArray()).join(''));
    assert.equal(text, 'hello');
    assert.ok(performance.now() - started >= 145, `waited ${performance.now() - started} ms`);
  });

  it('reports at once when Retry-After is longer than it will wait', async () => {
    const { faulty } = target();
    faulty.fail({ op: 'put', kind: 'transient', retryAfterMs: 3_600_000 });
    const { policy, waits } = fakeClock();
    await assert.rejects(withRetry(faulty, policy).put('x', source(Buffer.from('x'))), /asks to wait 3600 s/);
    assert.deepEqual(waits, []);
  });

  it('stops waiting as soon as the operation is aborted', async () => {
    const { faulty } = target();
    faulty.fail({ op: 'put', kind: 'transient', retryAfterMs: 50_000 });
    const retried = withRetry(faulty, { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryAfterMs: 60_000 });
    const controller = new AbortController();
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 50);
    const started = performance.now();
    await assert.rejects(retried.put('x', source(Buffer.from('x')), { signal: controller.signal }), (err) => err === reason);
    assert.ok(performance.now() - started < 2000);
    assert.equal(faulty.callsOf('put').length, 1);
  });

  it('does not start an attempt after an abort during one', async () => {
    const { faulty } = target();
    faulty.delay('put', 100);
    const { policy } = fakeClock();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await assert.rejects(withRetry(faulty, policy).put('x', source(Buffer.from('x')), { signal: controller.signal }), /stop/);
    assert.equal(faulty.callsOf('put').length, 1);
  });

  it('a put dropped mid-stream is sent again from the start and leaves one whole copy', async () => {
    const { faulty, dir: path } = target();
    const data = randomBytes(1 << 20);
    faulty.dropPut({ afterBytes: 300_000 });
    const { policy } = fakeClock();
    const src = source(data);
    await withRetry(faulty, policy).put('duplicity-full.20260101T000000Z.vol1.difftar.gz', src);
    assert.equal(src.opens, 2);
    assert.deepEqual(await readdir(path), ['duplicity-full.20260101T000000Z.vol1.difftar.gz']);
    assert.equal(sha(await readFile(join(path, 'duplicity-full.20260101T000000Z.vol1.difftar.gz'))), sha(data));
  });

  it('a put whose success was lost is sent again and still leaves one right copy', async () => {
    const { faulty, dir: path } = target();
    const old = randomBytes(5000);
    const data = randomBytes(200_000);
    const { policy } = fakeClock();
    const retried = withRetry(faulty, policy);
    await retried.put('manifest', source(old));
    faulty.fail({ op: 'put', kind: 'transient', when: 'after', times: 2 });
    await retried.put('manifest', source(data));
    assert.equal(faulty.callsOf('put').length, 4);
    const names = await readdir(path);
    assert.deepEqual(names, ['manifest'], `no temporary (${TEMPORARY_MARKER}) files or copies`);
    assert.equal(sha(await readFile(join(path, 'manifest'))), sha(data));
  });

  it('a retried read runs consume again on a fresh body', async () => {
    const { faulty } = target();
    const { policy } = fakeClock();
    const retried = withRetry(faulty, policy);
    await retried.put('x', source(Buffer.from('contents')));
    faulty.fail({ op: 'read', kind: 'transient', when: 'after' });
    const bodies: string[] = [];
    const result = await retried.read('x', async (body) => {
      const text = (await body.toArray()).join('');
      bodies.push(text);
      return text.length;
    });
    assert.deepEqual(bodies, ['contents', 'contents']);
    assert.equal(result, 8);
  });

  it('a listing broken midway starts again and gives every name once', async () => {
    const { faulty } = target();
    const { policy } = fakeClock();
    const retried = withRetry(faulty, policy);
    for (const name of ['a', 'b', 'c']) await retried.put(name, source(Buffer.from(name)));
    faulty.fail({ op: 'list', kind: 'transient', when: 'after' });
    const names: string[] = [];
    for await (const { name } of retried.list()) names.push(name);
    assert.deepEqual(names, ['a', 'b', 'c']);
    assert.equal(faulty.callsOf('list').length, 2);
  });
});

describe('retry policy', () => {
  it('follows duplicity options --num-retries and --backend-retry-delay', () => {
    const p = retryPolicyFromOptions(new Map([['num-retries', '3'], ['backend-retry-delay', '0']]));
    assert.equal(p.maxAttempts, 3);
    assert.equal(p.maxDelayMs, 0);
    assert.equal(p.baseDelayMs, 0);
    assert.equal(retryDelay(p, 4, undefined, () => 0.99), 0);
    const d = retryPolicyFromOptions(new Map([['backend-retry-delay', '10']]));
    assert.equal(d.maxDelayMs, 10_000);
    assert.equal(d.maxAttempts, 5);
  });

  it('keeps every wait within its doubling bound and the maximum', () => {
    const p = retryPolicyFromOptions(new Map());
    for (let attempt = 1; attempt <= 8; attempt++) {
      const bound = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
      assert.ok(retryDelay(p, attempt, undefined, () => 0.9999) < bound);
      assert.equal(retryDelay(p, attempt, undefined, () => 0), 0);
    }
    assert.equal(retryDelay(p, 1, 45_000, () => 0.5), 45_000);
  });

  it('refuses bad values with a usage error', () => {
    assert.throws(() => retryPolicyFromOptions(new Map([['num-retries', '0']])), /--num-retries: "0" is not a whole number of at least 1/);
    assert.throws(() => retryPolicyFromOptions(new Map([['num-retries', 'many']])), (err: Error & { exitCode?: number }) => err.name === 'UsageError');
    assert.throws(() => retryPolicyFromOptions(new Map([['backend-retry-delay', '-1']])), /--backend-retry-delay/);
  });

  it('openBackend checks the retry options before it opens anything', async () => {
    await assert.rejects(openBackend(`file://${join(dir, 'never')}`, { env: {}, options: new Map([['num-retries', 'x']]) }), /--num-retries/);
    await assert.rejects(readdir(join(dir, 'never')), { code: 'ENOENT' });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('120'), 120_000);
    assert.equal(parseRetryAfter('Thu, 26 Nov 2026 10:00:30 GMT', Date.parse('2026-11-26T10:00:00Z')), 30_000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });
});

describe('openBackend', () => {
  it('wraps every backend (file:// too) in retry, logged through the context, and the connection limit', async () => {
    const lines: string[] = [];
    const backend = await openBackend(`file://${join(dir, 'opened')}`, {
      env: {}, options: new Map([['num-retries', '2'], ['backend-retry-delay', '0']]), log: (l) => lines.push(l),
    });
    // the source's first stream breaks as a dropped connection would: the put is retried
    let opens = 0;
    const data = randomBytes(100_000);
    await backend.put('vol1', {
      size: data.length,
      open: () => {
        opens++;
        if (opens > 1) return Readable.from([data]);
        return new Readable({ read() { this.destroy(new BackendError('transient', 'connection reset (test)')); } });
      },
    });
    assert.equal(opens, 2);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^put vol1 at file:\/\/.*opened: attempt 1 of 2 failed \(connection reset \(test\)\); trying again in 0\.0 s$/);

    // the limit: file:// allows 2 operations at once; the third put waits for a slot
    let open = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const held = (): PutSource => ({
      size: 1,
      open: () => {
        most = Math.max(most, ++open);
        return new Readable({ read() { releases.push(() => { open--; this.push('x'); this.push(null); }); } });
      },
    });
    let finished = false;
    const puts = Promise.all([1, 2, 3, 4].map((i) => backend.put(`held${i}`, held()))).finally(() => { finished = true; });
    while (!finished) {
      // each tick lets the held uploads finish, after the waiting ones had their chance to start
      await new Promise((resolve) => setTimeout(resolve, 20));
      releases.splice(0).forEach((release) => release());
    }
    await puts;
    assert.equal(most, backend.capabilities.connections);
    assert.equal(most, 2);
  });
});
