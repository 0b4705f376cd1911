// Issue 14: backups never delete or replace a stored file, so they run with credentials that can only
// add files. A backend that refuses every delete and every put under a stored name (as an append-only
// SFTP account or an S3 policy without DeleteObject does) takes a full, a second full in the same
// second (its names would collide: the backup waits for new ones), and incrementals; and the audit's
// canary, with full rights on a tree of real multi-volume backups, touches nothing but itself.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { BackendError } from '../../src/backend/errors.js';
import type { Backend, OperationOptions, PutSource } from '../../src/backend/types.js';
import { openTarget } from '../../src/pipeline/target.js';
import { backupToTarget } from '../../src/pipeline/backup-to-target.js';
import { buildCollection } from '../../src/duplicity/collection.js';
import { CANARY_NAME, probeCanary } from '../../src/audit/canary.js';

const work = mkdtempSync(join(tmpdir(), 'lifeboat-write-only-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Adds files; refuses to delete or to put a name that is stored, and remembers every refusal. */
class AddOnlyBackend implements Backend {
  readonly refused: string[] = [];
  constructor(readonly inner: Backend) {}
  get displayUrl() { return this.inner.displayUrl; }
  get capabilities() { return this.inner.capabilities; }
  list(options?: OperationOptions & { prefix?: string }) { return this.inner.list(options); }
  read<T>(name: string, consume: (body: Readable) => Promise<T>, options?: OperationOptions) { return this.inner.read(name, consume, options); }
  async put(name: string, source: PutSource, options?: OperationOptions): Promise<void> {
    for await (const f of this.inner.list({ prefix: name })) {
      if (f.name === name) {
        this.refused.push(`put ${name}`);
        throw new BackendError('auth', `refused: ${name} is stored already`);
      }
    }
    return this.inner.put(name, source, options);
  }
  async delete(names: readonly string[]): Promise<void> {
    this.refused.push(...names.map((n) => `delete ${n}`));
    throw new BackendError('auth', 'refused: this account cannot delete');
  }
  close() { return this.inner.close(); }
}

function hashes(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).filter((n) => n !== CANARY_NAME).sort()
    .map((n) => [n, createHash('sha256').update(readFileSync(join(dir, n))).digest('hex')]));
}

describe('write-only operation', () => {
  const source = join(work, 'source');
  const targetDir = join(work, 'target');
  const url = `file://${targetDir}`;
  const quiet = { notice: () => undefined, warning: () => undefined, info: () => undefined };

  test('full, a colliding full and incrementals never delete or replace a stored file', async () => {
    mkdirSync(join(source, 'd'), { recursive: true });
    writeFileSync(join(source, 'd', 'big.bin'), randomBytes(3 * 1024 * 1024));
    writeFileSync(join(source, 'small.txt'), 'one\n');
    const fixed = Date.UTC(2026, 0, 1, 12, 0, 0);
    const run = async (mode: 'full' | 'incremental', clock?: () => number) => {
      const target = await openTarget(url, { archiveDir: join(work, 'cache'), name: 'wo', sync: true, notice: () => undefined });
      const backend = new AddOnlyBackend(target.backend);
      const result = await backupToTarget({
        source, target: { ...target, backend }, mode, compress: true, volumeSizeBytes: 1024 * 1024, tempdir: join(work, 'tmp'),
        maxBlockSize: 2048, allowSourceMismatch: false, dryRun: false, ...(clock ? { clock } : {}), ...quiet,
      });
      assert.deepEqual(backend.refused, [], `${mode}: nothing refused`);
      return result.time;
    };
    const first = await run('full', () => fixed);
    // the same second again: the names are taken, so the backup moves on to the next second
    const second = await run('full', () => fixed);
    assert.equal(second, first + 1);
    writeFileSync(join(source, 'small.txt'), 'two\n');
    await run('incremental');
    writeFileSync(join(source, 'small.txt'), 'three\n');
    await run('incremental');
    const names = readdirSync(targetDir);
    const collection = buildCollection(names, []);
    assert.equal(collection.backupChains.length, 2);
    assert.equal(collection.primary?.backupChain.incrementalSets.length, 2);
    assert.ok(names.filter((n) => n.includes('.vol')).length >= 8, 'multi-volume sets');
  });

  test('the canary, with full rights, writes, replaces and deletes only itself', async () => {
    const before = hashes(targetDir);
    assert.ok(before.size >= 12);
    const target = await openTarget(url, { archiveDir: join(work, 'cache'), name: 'wo', sync: false, notice: () => undefined });
    const report = await probeCanary(target.backend);
    assert.equal(report.write.result, 'done');
    assert.equal(report.overwrite.result, 'done');
    assert.equal(report.overwriteReplaced, true);
    assert.equal(report.delete.result, 'done');
    assert.deepEqual(hashes(targetDir), before, 'every backup file has the bytes it had');
    assert.ok(!readdirSync(targetDir).includes(CANARY_NAME));
    // a name that is a backup file is refused before anything is done
    const volume = [...before.keys()].find((n) => n.includes('.vol1.'))!;
    await assert.rejects(probeCanary(target.backend, volume), /refusing to probe/);
    await assert.rejects(probeCanary(target.backend, 'duplicity-anything'), /refusing to probe/);
    assert.deepEqual(hashes(targetDir), before);

    // with the add-only account the canary stays, and the next probe reuses it
    const addOnly = new AddOnlyBackend(target.backend);
    const first = await probeCanary(addOnly);
    assert.deepEqual([first.write.result, first.overwrite.result, first.delete.result], ['done', 'refused', 'refused']);
    const second = await probeCanary(addOnly);
    assert.equal(second.existed, true);
    assert.equal(second.write.result, 'skipped');
    assert.deepEqual(addOnly.refused.filter((r) => !r.endsWith(CANARY_NAME)), [], 'only the canary was ever refused');
    assert.deepEqual(hashes(targetDir), before);
    await target.backend.close();
  });
});
