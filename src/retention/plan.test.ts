import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCollection, chainSets, type Collection } from '../duplicity/collection.js';
import { formatArchiveName, type NameFormatOptions } from '../duplicity/file-names.js';
import { nthLastFullTime, planMessages, planRetention, type RetentionCommand, type RetentionPlan } from './plan.js';
import { parseCount, purgeCommands } from './policy.js';

const gz: NameFormatOptions = { compressed: true };
const day = (d: number): number => Date.UTC(2024, 0, d) / 1000;

/** A target and archive dir as names only. */
class Names {
  remote = new Set<string>();
  local = new Set<string>();
  last = 0;
  full(d: number, volumes = 2, cached = true): this {
    const time = day(d);
    for (let n = 1; n <= volumes; n++) this.remote.add(formatArchiveName({ kind: 'full-volume', time, volumeNumber: n }, gz));
    this.remote.add(formatArchiveName({ kind: 'full-signature', time }, gz));
    this.remote.add(formatArchiveName({ kind: 'full-manifest', time }));
    if (cached) {
      this.local.add(formatArchiveName({ kind: 'full-signature', time }, gz));
      this.local.add(formatArchiveName({ kind: 'full-manifest', time }));
    }
    this.last = d;
    return this;
  }
  inc(d: number, volumes = 1, cached = true): this {
    const [startTime, endTime] = [day(this.last), day(d)];
    for (let n = 1; n <= volumes; n++) this.remote.add(formatArchiveName({ kind: 'inc-volume', startTime, endTime, volumeNumber: n }, gz));
    this.remote.add(formatArchiveName({ kind: 'new-signature', startTime, endTime }, gz));
    this.remote.add(formatArchiveName({ kind: 'inc-manifest', startTime, endTime }));
    if (cached) {
      this.local.add(formatArchiveName({ kind: 'new-signature', startTime, endTime }, gz));
      this.local.add(formatArchiveName({ kind: 'inc-manifest', startTime, endTime }));
    }
    this.last = d;
    return this;
  }
  collection(): Collection {
    return buildCollection([...this.remote].sort(), [...this.local].sort());
  }
  plan(command: RetentionCommand): RetentionPlan {
    return planRetention(command, { collection: this.collection(), localNames: [...this.local].sort() });
  }
  apply(plan: RetentionPlan, limit = Infinity): number {
    let done = 0;
    for (const step of plan.steps) {
      for (const name of step.local) { if (done++ >= limit) return done; this.local.delete(name); }
      for (const name of step.remote) { if (done++ >= limit) return done; this.remote.delete(name); }
    }
    return done;
  }
  clone(): Names {
    const c = new Names();
    c.remote = new Set(this.remote);
    c.local = new Set(this.local);
    c.last = this.last;
    return c;
  }
}

/** Each complete chain as "full:inc,inc" of day numbers. */
function chains(names: Names): string[] {
  return names.collection().backupChains.map((c) => chainSets(c).map((s) => new Date(s.endTime * 1000).getUTCDate()).join(','));
}

/** 1-3, 4-5, 6-8 (primary), with every set cached */
const three = (): Names => new Names().full(1).inc(2).inc(3).full(4).inc(5).full(6).inc(7).inc(8);

test('remove-older-than deletes whole chains ending before the time, never the active one', () => {
  const names = three();
  const plan = names.plan({ kind: 'remove-older-than', time: day(5) + 1 });
  assert.deepEqual(plan.backupChains.map((c) => c.fullSet.startTime), [day(1), day(4)]);
  assert.deepEqual(plan.requiredSets, []);
  names.apply(plan);
  assert.deepEqual(chains(names), ['6,7,8']);
  // nothing of the deleted chains is left, neither on the target nor in the archive dir
  assert.ok([...names.remote, ...names.local].every((n) => !n.includes('20240101') && !n.includes('20240104') && !n.includes('20240105')));
  assert.equal(names.local.size, 6);
});

test('remove-older-than keeps sets newer sets depend on and says so', () => {
  const names = three();
  const plan = names.plan({ kind: 'remove-older-than', time: day(5) });
  assert.deepEqual(plan.backupChains.map((c) => c.fullSet.startTime), [day(1)]);
  assert.deepEqual(plan.requiredSets.map((s) => s.endTime), [day(4)]);
  const { warnings, notices } = planMessages(plan, { force: false });
  assert.match(warnings[0], /^There are backup set\(s\) at time\(s\):\nThu Jan  4 00:00:00 2024\nWhich can't be deleted because newer sets depend on them\.$/);
  assert.deepEqual(notices, ['Found old backup chain at the following time:\nWed Jan  3 00:00:00 2024\nRerun command with --force option to actually delete.']);
  names.apply(plan);
  assert.deepEqual(chains(names), ['4,5', '6,7,8']);
});

test('remove-older-than after the last backup keeps the active chain, with its signatures', () => {
  const names = three();
  const plan = names.plan({ kind: 'remove-older-than', time: day(20) });
  assert.equal(plan.activeChainKept, true);
  assert.match(planMessages(plan, { force: true }).warnings.at(-1)!, /^Current active backup chain is older than specified time\./);
  names.apply(plan);
  assert.deepEqual(chains(names), ['6,7,8']);
  assert.equal(names.remote.size, 4 + 2 * 3);
  assert.equal(names.collection().primary?.backupChain.endTime, day(8));
  // the remote signature chain too, although the local one is the matched one (duplicity would delete it)
  assert.equal(names.collection().signatureChains.filter((c) => c.location === 'remote').length, 1);
});

test('nothing older: the listing says so and no step is planned', () => {
  const plan = three().plan({ kind: 'remove-older-than', time: day(1) });
  assert.equal(plan.steps.length, 0);
  assert.deepEqual(planMessages(plan, { force: true }).notices, ['No old backup sets found, nothing deleted.']);
});

test('remove-all-but-n-full keeps the n newest chains', () => {
  assert.equal(nthLastFullTime(three().collection(), 2), day(4));
  assert.equal(nthLastFullTime(three().collection(), 4), 0);
  assert.throws(() => nthLastFullTime(three().collection(), 0), RangeError);
  for (const [n, expected] of [[1, ['6,7,8']], [2, ['4,5', '6,7,8']], [3, ['1,2,3', '4,5', '6,7,8']], [9, ['1,2,3', '4,5', '6,7,8']]] as const) {
    const names = three();
    names.apply(names.plan({ kind: 'remove-all-but-n-full', count: n }));
    assert.deepEqual(chains(names), expected, `n=${n}`);
  }
});

test('remove-all-inc-of-but-n-full keeps the fulls and their signatures', () => {
  const names = three();
  const plan = names.plan({ kind: 'remove-all-inc-of-but-n-full', count: 1 });
  const messages = planMessages(plan, { force: true });
  assert.deepEqual(messages.notices[0], 'Deleting backup chains at times:\nWed Jan  3 00:00:00 2024\nFri Jan  5 00:00:00 2024');
  assert.ok(messages.notices.includes('Deleting any incremental backup chain rooted at Wed Jan  3 00:00:00 2024'));
  assert.ok(messages.notices.includes('Deleting any incremental signature chain rooted at Fri Jan  5 00:00:00 2024'));
  names.apply(plan);
  assert.deepEqual(chains(names), ['1', '4', '6,7,8']);
  for (const d of ['20240101', '20240104']) {
    assert.ok(names.remote.has(`duplicity-full-signatures.${d}T000000Z.sigtar.gz`));
    assert.ok(names.local.has(`duplicity-full-signatures.${d}T000000Z.sigtar.gz`));
    assert.ok(names.local.has(`duplicity-full.${d}T000000Z.manifest`));
  }
  assert.equal([...names.remote].filter((n) => n.startsWith('duplicity-new-signatures')).length, 2);
  // run again: chains without incrementals are not listed
  assert.deepEqual(planMessages(names.plan({ kind: 'remove-all-inc-of-but-n-full', count: 1 }), { force: false }).notices,
    ['No old backup sets found, nothing deleted.']);
});

test('the order: newest chain and set first, signature, manifest, then volumes', () => {
  const plan = three().plan({ kind: 'remove-all-but-n-full', count: 1 });
  const remote = plan.steps.flatMap((s) => s.remote);
  assert.deepEqual(remote.slice(0, 3), [
    'duplicity-new-signatures.20240104T000000Z.to.20240105T000000Z.sigtar.gz',
    'duplicity-inc.20240104T000000Z.to.20240105T000000Z.manifest',
    'duplicity-inc.20240104T000000Z.to.20240105T000000Z.vol1.difftar.gz',
  ]);
  assert.deepEqual(remote.slice(3, 7), [
    'duplicity-full-signatures.20240104T000000Z.sigtar.gz',
    'duplicity-full.20240104T000000Z.manifest',
    'duplicity-full.20240104T000000Z.vol2.difftar.gz',
    'duplicity-full.20240104T000000Z.vol1.difftar.gz',
  ]);
  assert.deepEqual(remote.at(-4), 'duplicity-full-signatures.20240101T000000Z.sigtar.gz');
  // every step removes the archive dir's copies before the target's files
  assert.ok(plan.steps.every((s) => s.local.every((n) => !n.endsWith('.difftar.gz'))));
});

const commands: RetentionCommand[] = [
  { kind: 'remove-older-than', time: day(5) },
  { kind: 'remove-older-than', time: day(7) },
  { kind: 'remove-older-than', time: day(30) },
  { kind: 'remove-all-but-n-full', count: 1 },
  { kind: 'remove-all-inc-of-but-n-full', count: 1 },
  { kind: 'remove-all-inc-of-but-n-full', count: 2 },
  { kind: 'cleanup' },
];

test('interrupted after any single deletion: kept backups stay whole and a re-run converges', () => {
  const layouts = [three, () => three().inc(9, 3, false), () => new Names().full(1, 3).inc(2, 2).inc(3).full(10).inc(11)];
  for (const layout of layouts) {
    for (const command of commands) {
      const base = layout();
      const plan = base.plan(command);
      const finalState = base.clone();
      finalState.apply(plan);
      const expectedChains = chains(finalState);
      const total = plan.steps.reduce((n, s) => n + s.local.length + s.remote.length, 0);
      for (let k = 0; k <= total; k++) {
        const names = base.clone();
        names.apply(plan, k);
        // each chain that the plan keeps is still there with all its sets
        const now = chains(names);
        for (const kept of expectedChains) {
          assert.ok(now.some((c) => c.startsWith(kept)), `${command.kind} k=${k}: ${kept} lost (${now.join(' | ')})`);
        }
        // the primary chain still matches its signatures (the next backup can be an incremental)
        assert.equal(names.collection().primary?.backupChain.endTime, base.collection().primary?.backupChain.endTime);
        // a re-run finishes the job
        names.apply(names.plan(command));
        assert.deepEqual([...names.remote].sort(), [...finalState.remote].sort(), `${command.kind} k=${k}: remote`);
        assert.deepEqual([...names.local].sort(), [...finalState.local].sort(), `${command.kind} k=${k}: local`);
      }
    }
  }
});

test('cleanup lists orphaned and incomplete sets, orphaned signatures and .part files, nothing else', () => {
  const names = three();
  const orphanInc = ['duplicity-inc.20240215T000000Z.to.20240216T000000Z.vol1.difftar.gz', 'duplicity-inc.20240215T000000Z.to.20240216T000000Z.manifest'];
  const incomplete = ['duplicity-full.20240301T000000Z.vol1.difftar.gz', 'duplicity-full.20240301T000000Z.vol2.difftar.gz'];
  const orphanSig = 'duplicity-new-signatures.20240401T000000Z.to.20240402T000000Z.sigtar.gz';
  for (const n of [...orphanInc, ...incomplete, orphanSig]) names.remote.add(n);
  names.local.add('duplicity-new-signatures.20240401T000000Z.to.20240403T000000Z.sigtar.gz');
  names.local.add('duplicity-full-signatures.20240301T000000Z.sigtar.part');
  names.local.add('not-ours.txt');
  const before = chains(names);
  const plan = names.plan({ kind: 'cleanup' });
  const listed = plan.extraneous;
  for (const n of [...orphanInc, ...incomplete, orphanSig, 'duplicity-full-signatures.20240301T000000Z.sigtar.part']) assert.ok(listed.includes(n), n);
  const { notices } = planMessages(plan, { force: false });
  assert.match(notices[0], /^Found the following files to delete:\n[^]*\nRun duplicity again with the --force option to actually delete\.$/);
  names.apply(plan);
  assert.deepEqual(chains(names), before);
  assert.ok(names.local.has('not-ours.txt'));
  assert.ok([...names.remote].every((n) => !/202402|202403|202404/.test(n)));
  assert.deepEqual(planMessages(names.plan({ kind: 'cleanup' }), { force: true }).warnings, ['No extraneous files found, nothing deleted in cleanup.']);
});

test('cleanup removes a partial last set (an interrupted duplicity run) with its .part files', () => {
  const names = three();
  names.remote.add('duplicity-inc.20240108T000000Z.to.20240109T000000Z.vol1.difftar.gz');
  names.local.add('duplicity-inc.20240108T000000Z.to.20240109T000000Z.manifest.part');
  names.local.add('duplicity-new-signatures.20240108T000000Z.to.20240109T000000Z.sigtar.part');
  names.apply(names.plan({ kind: 'cleanup' }));
  assert.ok(![...names.remote, ...names.local].some((n) => n.includes('20240109')));
  assert.deepEqual(chains(names), ['1,2,3', '4,5', '6,7,8']);
});

test('purge commands: duply purge, purgeFull, purgeIncr, purgeAuto', () => {
  const now = day(100);
  const policy = { maxAge: '2Y', maxFullBackups: '4', maxFullsWithIncrs: 2 };
  assert.deepEqual(purgeCommands('purge', policy, now), [{ kind: 'remove-older-than', time: now - 2 * 365 * 86400 }]);
  assert.deepEqual(purgeCommands('purge', policy, now, '30'), [{ kind: 'remove-older-than', time: 30 }]);
  assert.deepEqual(purgeCommands('purgeFull', policy, now), [{ kind: 'remove-all-but-n-full', count: 4 }]);
  assert.deepEqual(purgeCommands('purgeIncr', policy, now), [{ kind: 'remove-all-inc-of-but-n-full', count: 2 }]);
  assert.deepEqual(purgeCommands('purgeAuto', policy, now).map((c) => c.kind), ['remove-older-than', 'remove-all-but-n-full', 'remove-all-inc-of-but-n-full']);
  assert.deepEqual(purgeCommands('purgeAuto', { maxFullsWithIncrs: 1 }, now), [{ kind: 'remove-all-inc-of-but-n-full', count: 1 }]);
  assert.deepEqual(purgeCommands('cleanup', {}, now), [{ kind: 'cleanup' }]);
  assert.throws(() => purgeCommands('purge', {}, now), /Missing parameter <max_age>/);
  assert.throws(() => parseCount('0'), /count must be > 0/);
  assert.throws(() => parseCount('x'), /count must be > 0/);
});

test('a set an interrupted removal left without its manifest is listed and removed by the re-run', () => {
  const names = three();
  names.remote.delete('duplicity-full.20240101T000000Z.manifest');
  const plan = names.plan({ kind: 'remove-older-than', time: day(2) });
  assert.deepEqual(plan.leftoverSets.map((s) => s.endTime), [day(1)]);
  assert.deepEqual(planMessages(plan, { force: false }).notices[0],
    'Found incomplete backup sets left by an interrupted removal:\nMon Jan  1 00:00:00 2024\nRerun command with --force option to actually delete.');
  names.apply(plan);
  assert.ok(![...names.remote].some((n) => n.startsWith('duplicity-full.20240101T')));
  // newer incomplete sets (an interrupted backup) are cleanup's business, not a removal's
  const other = three();
  other.remote.add('duplicity-full.20240301T000000Z.vol1.difftar.gz');
  assert.deepEqual(other.plan({ kind: 'remove-older-than', time: day(2) }).leftoverSets, []);
});
