import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatArchiveName } from '../duplicity/file-names.js';
import type { RetentionCommand } from '../retention/plan.js';
import type { Backend } from '../backend/types.js';
import { runMain } from '../../test/support/run-main.js';
import { runRetention } from './retention.js';
import { openTarget } from './target.js';

const work = mkdtempSync(join(tmpdir(), 'lifeboat-retention-unit-'));
after(() => rmSync(work, { recursive: true, force: true }));
const day = (d: number): number => Date.UTC(2024, 0, d) / 1000;
let counter = 0;

/** A target of synthetic sets (names matter, contents do not): chains 1-3, 4-5, 6-8, plus leftovers. */
function makeTarget(): { url: string; dir: string; cache: string } {
  const dir = join(work, `target-${counter}`);
  const base = join(work, `cache-${counter++}`);
  const cache = join(base, 'x');
  mkdirSync(dir, { recursive: true });
  mkdirSync(cache, { recursive: true });
  const put = (where: string, name: string) => writeFileSync(join(where, name), 'x');
  let last = 0;
  const full = (d: number) => {
    const time = day(d);
    put(dir, formatArchiveName({ kind: 'full-volume', time, volumeNumber: 1 }, { compressed: true }));
    for (const where of [dir, cache]) {
      put(where, formatArchiveName({ kind: 'full-signature', time }, { compressed: true }));
      put(where, formatArchiveName({ kind: 'full-manifest', time }));
    }
    last = d;
  };
  const inc = (d: number) => {
    const [startTime, endTime] = [day(last), day(d)];
    put(dir, formatArchiveName({ kind: 'inc-volume', startTime, endTime, volumeNumber: 1 }, { compressed: true }));
    for (const where of [dir, cache]) {
      put(where, formatArchiveName({ kind: 'new-signature', startTime, endTime }, { compressed: true }));
      put(where, formatArchiveName({ kind: 'inc-manifest', startTime, endTime }));
    }
    last = d;
  };
  full(1); inc(2); inc(3); full(4); inc(5); full(6); inc(7); inc(8);
  put(dir, 'duplicity-full.20240301T000000Z.vol1.difftar.gz');
  put(dir, 'duplicity-new-signatures.20240401T000000Z.to.20240402T000000Z.sigtar.gz');
  put(cache, 'duplicity-full-signatures.20240301T000000Z.sigtar.part');
  put(dir, 'unrelated.txt');
  return { url: `file://${dir}`, dir, cache: base };
}

const state = (t: { dir: string; cache: string }) => [...readdirSync(t.dir).sort(), ...readdirSync(join(t.cache, 'x')).sort().map((n) => `cache/${n}`)];

const commands: RetentionCommand[] = [
  { kind: 'remove-older-than', time: day(30) },
  { kind: 'remove-all-but-n-full', count: 1 },
  { kind: 'remove-all-inc-of-but-n-full', count: 1 },
  { kind: 'cleanup' },
];

test('without force nothing is deleted, with force the plan is carried out', async () => {
  for (const command of commands) {
    const t = makeTarget();
    const before = state(t);
    const target = await openTarget(t.url, { archiveDir: t.cache, name: 'x', sync: false, notice: () => undefined });
    const notices: string[] = [];
    const listed = await runRetention({ target, command, force: false, notice: (l) => notices.push(l), warning: () => undefined });
    assert.ok(listed.plan.steps.length > 0, command.kind);
    assert.deepEqual(state(t), before, `${command.kind} without force`);
    assert.match(notices.at(-1)!, /--force option to actually delete/);
    const done = await runRetention({ target, command, force: true, notice: () => undefined, warning: () => undefined });
    const gone = new Set([...done.deletedRemote, ...done.deletedLocal.map((n) => `cache/${n}`)]);
    assert.deepEqual(state(t), before.filter((n) => !gone.has(n)), `${command.kind} with force`);
    assert.deepEqual(done.remoteNamesAfter.sort(), readdirSync(t.dir).sort());
    assert.ok(readdirSync(t.dir).includes('unrelated.txt'));
  }
});

test('a run interrupted at many points (every third), then re-run, ends where an uninterrupted run ends', async () => {
  for (const command of commands) {
    const reference = makeTarget();
    const refTarget = await openTarget(reference.url, { archiveDir: reference.cache, name: 'x', sync: false, notice: () => undefined });
    const full = await runRetention({ target: refTarget, command, force: true, notice: () => undefined, warning: () => undefined });
    const expected = state(reference).map((n) => n.replace(/^/, ''));
    const total = full.deletedLocal.length + full.deletedRemote.length;
    for (let k = 0; k < total; k += 3) {
      const t = makeTarget();
      const target = await openTarget(t.url, { archiveDir: t.cache, name: 'x', sync: false, notice: () => undefined });
      let seen = 0;
      await assert.rejects(runRetention({
        target, command, force: true, notice: () => undefined, warning: () => undefined,
        beforeDelete: () => { if (seen++ === k) throw new Error('killed'); },
      }), /killed/);
      await runRetention({ target, command, force: true, notice: () => undefined, warning: () => undefined });
      assert.deepEqual(state(t), expected, `${command.kind} interrupted before deletion ${k}`);
    }
  }
});

test('the CLI lists without --force and exits 0, for every retention action', async () => {
  const t = makeTarget();
  const before = state(t);
  for (const action of [['remove-older-than', '2024-01-30'], ['remove-all-but-n-full', '1'], ['remove-all-inc-of-but-n-full', '1'], ['cleanup']]) {
    const r = await runMain(['duplicity', ...action, '--archive-dir', t.cache, '--name', 'x', t.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--force option to actually delete/, action[0]);
    assert.deepEqual(state(t), before, action[0]);
  }
  const bad = await runMain(['duplicity', 'remove-all-but-n-full', '0', t.url]);
  assert.equal(bad.code, 2);
  const forced = await runMain(['duplicity', 'remove-all-but-n-full', '1', '--force', '--archive-dir', t.cache, '--name', 'x', t.url]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /Deleting backup chains at times:\n/);
  assert.ok(!readdirSync(t.dir).some((n) => n.includes('20240101T') || n.includes('20240104T')));
  const help = await runMain(['duplicity', '--help']);
  assert.match(help.stdout, /remove-all-inc-of-but-n-full COUNT/);
});

test('object lock: a set with a locked file stays whole with the older sets of its chain; other chains go; a later run finishes', async () => {
  const t = makeTarget();
  const target = await openTarget(t.url, { archiveDir: t.cache, name: 'x', sync: false, notice: () => undefined });
  // chain 1-3: its newest incremental (day 3) is locked; chain 4-5: nothing locked
  const lockedDay3 = formatArchiveName({ kind: 'inc-volume', startTime: day(2), endTime: day(3), volumeNumber: 1 }, { compressed: true });
  let until: Date | null = new Date(Date.now() + 3_600_000);
  const asked: string[] = [];
  const inner = target.backend;
  const backend: Backend = {
    displayUrl: inner.displayUrl, capabilities: inner.capabilities,
    list: (o) => inner.list(o), put: (n, s, o) => inner.put(n, s, o), read: (n, c, o) => inner.read(n, c, o),
    delete: (n, o) => inner.delete(n, o), close: () => inner.close(),
    lockedUntil: async (name: string) => { asked.push(name); return name === lockedDay3 ? until : null; },
  };
  const command: RetentionCommand = { kind: 'remove-older-than', time: day(6) };
  const warnings: string[] = [];
  const first = await runRetention({ target: { ...target, backend }, command, force: true, notice: () => undefined, warning: (l) => warnings.push(l) });
  assert.ok(asked.includes(lockedDay3), 'locks were asked for');
  const left = readdirSync(t.dir);
  for (const d of ['20240101T', '20240102T', '20240103T']) assert.ok(left.some((n) => n.includes(d)), `chain 1-3 kept whole (${d})`);
  assert.ok(!left.some((n) => n.includes('20240104T') || n.includes('20240105T')), 'chain 4-5 deleted');
  assert.equal(first.locked.length, 3, 'three sets of chain 1-3 kept');
  assert.match(warnings[0], /^Kept inc set .*: under object lock until \d{4}-.*; a later purge deletes it\.$/);
  assert.match(warnings[1], /^Kept inc set .*: a newer set of its chain, under object lock until .*, needs it; a later purge deletes it\.$/);
  assert.ok(!first.deletedRemote.some((n) => n.includes('20240101T')));

  // the lock has ended: the next run plans the chain again and deletes it
  until = null;
  const second = await runRetention({ target: { ...target, backend }, command, force: true, notice: () => undefined, warning: () => undefined });
  assert.equal(second.locked.length, 0);
  assert.ok(!readdirSync(t.dir).some((n) => n.includes('20240101T') || n.includes('20240103T')), 'chain 1-3 gone now');
});
