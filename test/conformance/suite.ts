// The one conformance suite every backend passes against a real server on 127.0.0.1 (issue 8).
// A backend test file starts its server, then calls backendConformance() with a factory.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Backend, PutSource } from '../../src/backend/types.js';
import { BackendError } from '../../src/backend/errors.js';

export interface ConformanceSetup {
  /** a backend on an empty target; called once per suite */
  open(): Promise<Backend>;
  /** stops servers, removes directories */
  cleanup?(): Promise<void>;
  /** skip the big-file test's size (bytes); default 24 MiB, over S3's and B2's multipart thresholds in tests */
  bigFileSize?: number;
}

export function bufferSource(data: Buffer): PutSource {
  return { size: data.length, open: () => Readable.from([data]) };
}

/** A source of `size` deterministic pseudo-random bytes, made in 1 MiB chunks, never held whole. */
export function generatedSource(size: number, seed: string): PutSource {
  return {
    size,
    open: () => Readable.from((function* () {
      let counter = 0;
      for (let done = 0; done < size;) {
        const block = createHash('sha512').update(`${seed}:${counter++}`).digest();
        const chunk = Buffer.alloc(Math.min(1 << 20, size - done));
        for (let i = 0; i < chunk.length; i += block.length) block.copy(chunk, i);
        if (chunk.length >= 4) chunk.writeUInt32LE(counter, 0);
        done += chunk.length;
        yield chunk;
      }
    })()),
  };
}

async function digestOf(source: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of source) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readAll(backend: Backend, name: string): Promise<Buffer> {
  return backend.read(name, async (body) => {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  });
}

async function names(backend: Backend): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for await (const { name, size } of backend.list()) {
    assert.ok(!found.has(name), `list gives ${name} once`);
    found.set(name, size);
  }
  return found;
}

/** A source that sends part of its data, then fails, as a dropped connection or a crash would. */
function failingSource(size: number): PutSource {
  return {
    size,
    open: () => new Readable({
      read() {
        if (!(this as Readable & { sent?: boolean }).sent) {
          (this as Readable & { sent?: boolean }).sent = true;
          this.push(randomBytes(Math.floor(size / 2)));
        } else {
          this.destroy(new Error('source failed halfway'));
        }
      },
    }),
  };
}

export function backendConformance(label: string, setup: ConformanceSetup): void {
  describe(`backend conformance: ${label}`, () => {
    let backend: Backend;
    before(async () => { backend = await setup.open(); });
    after(async () => {
      await backend?.close();
      await setup.cleanup?.();
    });

    it('lists nothing on an empty target', async () => {
      assert.deepEqual([...(await names(backend)).keys()], []);
    });

    it('puts, lists with sizes and reads back exactly', async () => {
      const data = randomBytes(100_000);
      await backend.put('duplicity-full.20240101T000000Z.vol1.difftar.gz', bufferSource(data));
      await backend.put('empty', bufferSource(Buffer.alloc(0)));
      const listed = await names(backend);
      assert.equal(listed.get('duplicity-full.20240101T000000Z.vol1.difftar.gz'), data.length);
      assert.equal(listed.get('empty'), 0);
      assert.deepEqual(await readAll(backend, 'duplicity-full.20240101T000000Z.vol1.difftar.gz'), data);
      assert.equal((await readAll(backend, 'empty')).length, 0);
    });

    it('replaces a file put again under the same name', async () => {
      await backend.put('replaced', bufferSource(Buffer.from('first version, longer')));
      await backend.put('replaced', bufferSource(Buffer.from('second')));
      assert.equal((await readAll(backend, 'replaced')).toString(), 'second');
      assert.equal((await names(backend)).get('replaced'), 6);
    });

    it('keeps names with spaces, UTF-8 and shell characters', async () => {
      const odd = ['with space.txt', 'ünïcødé-日本語.gz', "quote'and\"dollar$(x)&;", 'percent%20plus+hash#q?'];
      for (const name of odd) await backend.put(name, bufferSource(Buffer.from(name)));
      const listed = await names(backend);
      for (const name of odd) {
        assert.equal(listed.get(name), Buffer.byteLength(name), `${name} is listed with its size`);
        assert.equal((await readAll(backend, name)).toString(), name);
      }
      await backend.delete(odd);
      const after = await names(backend);
      for (const name of odd) assert.ok(!after.has(name), `${name} is deleted`);
    });

    it('streams a big file both ways', async () => {
      const size = setup.bigFileSize ?? 24 * 1024 * 1024 + 17;
      const source = generatedSource(size, 'big');
      const expected = await digestOf(source.open());
      await backend.put('big.vol', source);
      assert.equal((await names(backend)).get('big.vol'), size);
      assert.equal(await backend.read('big.vol', digestOf), expected);
      await backend.delete(['big.vol']);
    });

    it('lists by prefix', async () => {
      await backend.put('prefix-a', bufferSource(Buffer.from('a')));
      await backend.put('prefix-b', bufferSource(Buffer.from('b')));
      const listed: string[] = [];
      for await (const { name } of backend.list({ prefix: 'prefix-' })) listed.push(name);
      assert.deepEqual(listed.sort(), ['prefix-a', 'prefix-b']);
    });

    it('reports a missing file as not-found, and deleting one is no error', async () => {
      await assert.rejects(readAll(backend, 'no-such-file'), (err: unknown) => err instanceof BackendError && err.kind === 'not-found');
      await backend.delete(['no-such-file', 'no-such-file-either']);
    });

    it('deletes several files at once', async () => {
      for (const n of ['d1', 'd2', 'd3']) await backend.put(n, bufferSource(Buffer.from(n)));
      await backend.delete(['d1', 'd3']);
      const listed = await names(backend);
      assert.ok(!listed.has('d1') && !listed.has('d3') && listed.has('d2'));
    });

    it('takes concurrent puts', async () => {
      const files = Array.from({ length: 8 }, (_, i) => ({ name: `concurrent-${i}`, data: randomBytes(50_000 + i) }));
      await Promise.all(files.map((f) => backend.put(f.name, bufferSource(f.data))));
      const listed = await names(backend);
      for (const f of files) {
        assert.equal(listed.get(f.name), f.data.length);
        assert.deepEqual(await readAll(backend, f.name), f.data);
      }
    });

    it('leaves nothing visible after an interrupted upload', async () => {
      await assert.rejects(backend.put('interrupted.vol', failingSource(6 * 1024 * 1024)));
      const controller = new AbortController();
      const slow: PutSource = {
        size: 4 * 1024 * 1024,
        open: () => Readable.from((async function* () {
          yield randomBytes(1024 * 1024);
          controller.abort();
          await new Promise((r) => setTimeout(r, 50));
          yield randomBytes(3 * 1024 * 1024);
        })()),
      };
      await assert.rejects(backend.put('aborted.vol', slow, { signal: controller.signal }));
      const listed = await names(backend);
      assert.ok(!listed.has('interrupted.vol'), 'the failed upload is not listed');
      assert.ok(!listed.has('aborted.vol'), 'the aborted upload is not listed');
      for (const name of listed.keys()) assert.ok(!name.startsWith('interrupted') && !name.startsWith('aborted'), `no leftover ${name}`);
    });

    it('rejects a put whose source is shorter than announced, and keeps nothing', async () => {
      const liar: PutSource = { size: 1000, open: () => Readable.from([Buffer.alloc(10)]) };
      await assert.rejects(backend.put('short.vol', liar));
      assert.ok(!(await names(backend)).has('short.vol'));
    });

    it('displays its URL without credentials', () => {
      assert.doesNotMatch(backend.displayUrl, /:[^/@:]+@/, 'no password in displayUrl');
    });
  });
}
