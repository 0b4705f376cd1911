// The state index (src/pipeline/state-index.ts) stands in for the signature chain when an incremental
// compares the source: it must hold exactly the state the chain's signature files overlay to, after
// every kind of change; an incremental made with it must store what one made without it stores; it
// must really be used (a no-change run opens no signature file; without it a damaged one is named in one
// line); and when it disagrees with the chain, or is damaged past its head, the backup fails with one
// line and removes it, so the next run reads the chain (damage at its head: it is dropped at once).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { after, test } from 'node:test';
import { appendFileSync } from 'node:fs';
import { compareIndex, pathOfIndex } from '../../src/fsmeta/entry.js';
import { overlaySignatures } from '../../src/pipeline/signature-state.js';
import { openStateIndex, stateIndexKey, StateIndexWriter, STATE_INDEX_NAME, type IndexedObject } from '../../src/pipeline/state-index.js';
import { readTar } from '../../src/tar/volume-reader.js';
import { makeTree, mutateTree } from '../support/make-tree.js';
import { runMain } from '../support/run-main.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-state-index-'));
after(() => rmSync(dir, { recursive: true, force: true }));
process.env.TZ = 'UTC';

function signatureNames(cache: string): string[] {
  // the full's first, then the incrementals' by time (their names sort by time)
  return readdirSync(cache).filter((n) => /signatures\..*\.sigtar\.gz$/.test(n)).sort((a, b) => (a.includes('-full-') ? -1 : b.includes('-full-') ? 1 : a < b ? -1 : 1));
}

async function chainState(cache: string): Promise<unknown[]> {
  const names = signatureNames(cache);
  const out: unknown[] = [];
  for await (const s of overlaySignatures(names.map((n) => readTar(createReadStream(join(cache, n)).pipe(createGunzip()))), names)) {
    out.push({ entry: s.entry, kind: s.kind });
    for await (const _ of s.body) { /* skipped */ }
  }
  return out;
}

async function indexState(cache: string): Promise<unknown[] | undefined> {
  const key = await stateIndexKey(cache, signatureNames(cache));
  const state = key && await openStateIndex(cache, key);
  if (!state) return undefined;
  const out: unknown[] = [];
  for await (const s of state) out.push({ entry: s.entry, kind: s.kind });
  return out;
}

async function indexObjects(cache: string): Promise<IndexedObject[]> {
  const state = await openStateIndex(cache, (await stateIndexKey(cache, signatureNames(cache)))!);
  assert.ok(state, 'the archive dir has an index of its chain');
  const out: IndexedObject[] = [];
  for await (const object of state) out.push(object);
  return out;
}

/** The members of a set's new signature file and volumes: names, headers and a hash of each body. */
async function setContent(target: string, cache: string, stamp: RegExp): Promise<string[]> {
  const lines: string[] = [];
  const files = [...readdirSync(cache).filter((n) => stamp.test(n) && n.includes('sigtar')).map((n) => join(cache, n)),
    ...readdirSync(target).filter((n) => stamp.test(n) && n.includes('difftar')).sort().map((n) => join(target, n))];
  for (const file of files) {
    for await (const { header, body } of readTar(createReadStream(file).pipe(createGunzip()))) {
      const hash = createHash('sha1');
      for await (const chunk of body) hash.update(chunk);
      lines.push(`${header.name.toString('latin1')} ${header.type} ${header.mode} ${header.uid} ${header.gid} ${header.mtime} ${header.size} ${hash.digest('hex')}`);
    }
  }
  return lines;
}

async function backup(mode: 'full' | 'incremental', source: string, target: string, cache: string) {
  const r = await runMain(['duplicity', mode, '--no-encryption', '--archive-dir', cache, '--name', 'n', source, `file://${target}`]);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

/** A tree (makeTree with `tree`) under `name`-src, backed up full into `name`-target; `cache` is the archive dir's chain folder. */
async function fullChain(name: string, tree: Parameters<typeof makeTree>[1]) {
  const source = join(dir, `${name}-src`);
  const target = join(dir, `${name}-target`);
  const archive = join(dir, `${name}-cache`);
  await makeTree(source, tree);
  await backup('full', source, target, archive);
  return { source, target, archive, cache: join(archive, 'n') };
}

/**
 * The same incremental twice: through the state index, and on copies of the target and archive dir
 * with the index removed, through the signature files. What each stored (setContent's lines).
 */
async function incrementalBothWays(name: string, source: string, target: string, archive: string): Promise<{ withIndex: string[]; withoutIndex: string[] }> {
  const [target2, archive2] = [join(dir, `${name}-target2`), join(dir, `${name}-cache2`)];
  cpSync(target, target2, { recursive: true });
  cpSync(archive, archive2, { recursive: true });
  rmSync(join(archive2, 'n', STATE_INDEX_NAME));
  await backup('incremental', source, target, archive);
  await backup('incremental', source, target2, archive2);
  const stamp = /-inc\.|new-signatures/;
  return { withIndex: await setContent(target, join(archive, 'n'), stamp), withoutIndex: await setContent(target2, join(archive2, 'n'), stamp) };
}

test('the index holds the chain\'s state after a full and incrementals with every kind of change', async () => {
  const { source, target, archive, cache } = await fullChain('a', { bigFileBytes: 3 << 20 });
  const afterFull = await indexState(cache);
  assert.ok(afterFull && afterFull.length > 20, 'a full backup writes an index of its state');
  assert.deepStrictEqual(afterFull, await chainState(cache));
  for (const round of [1, 2] as const) {
    await mutateTree(source, round);
    await backup('incremental', source, target, archive);
    assert.deepStrictEqual(await indexState(cache), await chainState(cache), `after incremental ${round}`);
  }
  await backup('incremental', source, target, archive);
  assert.deepStrictEqual(await indexState(cache), await chainState(cache), 'after a no-change incremental');
});

test('an incremental through the index stores what one through the signature files stores', async () => {
  const { source, target, archive } = await fullChain('b', { seed: 7, bigFileBytes: 3 << 20 });
  await mutateTree(source, 1, 7);
  const { withIndex, withoutIndex } = await incrementalBothWays('b', source, target, archive);
  assert.ok(withIndex.some((l) => l.startsWith('diff/')), 'the incremental holds deltas');
  assert.deepStrictEqual(withIndex, withoutIndex);
});

test('an incremental through an index of many batches stores what one through the signature files stores', async () => {
  // the backup takes the index's records 64 at a time: changes, deletions and new objects on both
  // sides of many batch boundaries, in several directories
  const source = join(dir, 'many-src');
  const target = join(dir, 'many-target');
  const archive = join(dir, 'many-cache');
  for (const d of ['d0', 'd1', 'd2', 'd1/sub']) mkdirSync(join(source, d), { recursive: true });
  const name = (i: number) => join(source, `d${i % 3}`, i % 5 === 0 ? 'sub-less' : '', `f${String(i).padStart(4, '0')}`);
  mkdirSync(join(source, 'd0', 'sub-less'), { recursive: true });
  mkdirSync(join(source, 'd1', 'sub-less'), { recursive: true });
  mkdirSync(join(source, 'd2', 'sub-less'), { recursive: true });
  for (let i = 0; i < 600; i++) {
    writeFileSync(name(i), `file ${i}\n`.repeat(1 + (i % 17)));
    utimesSync(name(i), 1_000_000 + i, 1_000_000 + i);
  }
  await backup('full', source, target, archive);
  for (let i = 0; i < 600; i++) {
    if (i % 11 === 0) rmSync(name(i));
    else if (i % 7 === 0) {
      writeFileSync(name(i), `changed ${i}\n`.repeat(2 + (i % 13)));
      utimesSync(name(i), 2_000_000 + i, 2_000_000 + i);
    }
    if (i % 13 === 0) {
      writeFileSync(`${name(i)}-new`, `new ${i}\n`);
      utimesSync(`${name(i)}-new`, 3_000_000, 3_000_000);
    }
  }
  const { withIndex, withoutIndex } = await incrementalBothWays('many', source, target, archive);
  assert.ok(withIndex.filter((l) => l.startsWith('deleted/')).length >= 50, 'the incremental holds the deletions');
  assert.ok(withIndex.filter((l) => l.startsWith('diff/')).length >= 40, 'and the changes');
  assert.deepStrictEqual(withIndex, withoutIndex);
  // and the index it leaves is the chain's state
  assert.deepStrictEqual(await indexState(join(archive, 'n')), await chainState(join(archive, 'n')));
});

test('each signature is read where the index says, in every signature file of the chain, from an index written from an index or from the chain', async () => {
  const { source, target, archive, cache } = await fullChain('loc', { seed: 11, bigFileBytes: 2 << 20 });
  await mutateTree(source, 1, 11);
  await backup('incremental', source, target, archive);
  // the next index is written from the chain's signature files (their members' offsets), not from an index
  rmSync(join(cache, STATE_INDEX_NAME));
  await mutateTree(source, 2, 11);
  await backup('incremental', source, target, archive);
  // two files whose signatures are in each of the three signature files change once more
  const picked = new Map<number, IndexedObject[]>();
  for (const object of await indexObjects(cache)) {
    if (object.kind !== 'signature' || object.entry.type !== 'reg' || !object.location) continue;
    const list = picked.get(object.location.file) ?? [];
    if (list.length < 2) picked.set(object.location.file, [...list, object]);
  }
  assert.deepEqual([...picked.keys()].sort(), [0, 1, 2], 'the index names members of all three signature files');
  for (const object of [...picked.values()].flat()) {
    const path = pathOfIndex(source, object.entry.index);
    appendFileSync(path, 'third round\n');
    utimesSync(path, 1_900_000_000, 1_900_000_000);
  }
  const { withIndex, withoutIndex } = await incrementalBothWays('loc', source, target, archive);
  // the new set's volume comes last: its deltas are the six files
  const lastDiffs = withIndex.filter((l) => l.startsWith('diff/')).slice(-6).map((l) => l.split(' ')[0]).sort();
  assert.deepEqual(lastDiffs, [...picked.values()].flat().map((o) => `diff/${Buffer.concat(o.entry.index.flatMap((c, i) => (i ? [Buffer.from('/'), c] : [c]))).toString('latin1')}`).sort());
  assert.deepStrictEqual(withIndex, withoutIndex);
});

test('an index whose offset misses a file\'s signature member fails the backup in one line and is removed', async () => {
  const { source, target, archive, cache } = await fullChain('off', { seed: 12 });
  const objects = await indexObjects(cache);
  const victim = objects.find((o) => o.kind === 'signature' && o.entry.type === 'reg' && o.entry.size > 0)!;
  for (const shift of [1, 512]) {
    // a byte on (no tar header there), or a block on (another member's header, or none)
    const writer = new StateIndexWriter(dir);
    for (const o of objects) await writer.add(o.entry, o.kind, o === victim ? { file: 0, offset: victim.location!.offset + shift } : o.location);
    await writer.install(cache, (await stateIndexKey(cache, signatureNames(cache)))!);
    const path = pathOfIndex(source, victim.entry.index);
    appendFileSync(path, `changed ${shift}\n`);
    utimesSync(path, 1_900_000_000 + shift, 1_900_000_000 + shift);
    const r = await runMain(['duplicity', 'incremental', '--no-encryption', '--archive-dir', archive, '--name', 'n', source, `file://${target}`]);
    assert.notEqual(r.code, 0, `offset + ${shift}`);
    assert.match(r.stderr, /state index disagrees with the signature files at .*; it was removed/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(existsSync(join(cache, STATE_INDEX_NAME)), false);
    // put it back as it was for the next shift: the chain is unchanged by the failed run
    const again = new StateIndexWriter(dir);
    for (const o of objects) await again.add(o.entry, o.kind, o.location);
    await again.install(cache, (await stateIndexKey(cache, signatureNames(cache)))!);
  }
  rmSync(join(cache, STATE_INDEX_NAME));
  await backup('incremental', source, target, archive);
  assert.deepStrictEqual(await indexState(cache), await chainState(cache));
});

test('a signature file damaged at a changed file\'s member is named, not blamed on the index; a file number past the chain is the index\'s fault', async () => {
  const { source, target, archive, cache } = await fullChain('dmg', { seed: 13 });
  const objects = await indexObjects(cache);
  const victim = objects.find((o) => o.kind === 'signature' && o.entry.type === 'reg' && o.entry.size > 0 && o.entry.index.length === 1)!;
  // the signature file gzipped as stored blocks, so a flipped byte decodes as itself and only the
  // gzip check at the end finds it: 4 MiB of zeros after the tar's end put that beyond what the reader
  // inflates ahead. The index rewritten for the file's new size
  const name = signatureNames(cache)[0];
  const original = readFileSync(join(cache, name));
  const stored = gzipSync(Buffer.concat([gunzipSync(original), Buffer.alloc(4 << 20)]), { level: 0 });
  const at = stored.indexOf(Buffer.concat([Buffer.from('signature/'), victim.entry.index[0]]));
  assert.ok(at > 0, 'the member name is in the stored gzip');
  stored[at + 'signature/'.length] ^= 0x01;
  writeFileSync(join(cache, name), stored);
  const install = async (locate: (o: IndexedObject) => IndexedObject['location']) => {
    const writer = new StateIndexWriter(dir);
    for (const o of objects) await writer.add(o.entry, o.kind, locate(o));
    await writer.install(cache, (await stateIndexKey(cache, signatureNames(cache)))!);
  };
  await install((o) => o.location);
  const path = pathOfIndex(source, victim.entry.index);
  appendFileSync(path, 'changed\n');
  utimesSync(path, 1_900_000_000, 1_900_000_000);
  const damaged = await runMain(['duplicity', 'incremental', '--no-encryption', '--archive-dir', archive, '--name', 'n', source, `file://${target}`]);
  assert.notEqual(damaged.code, 0);
  assert.match(damaged.stderr, /full-signatures\.[^ ]*\.sigtar\.gz: not a valid gzip stream/);
  assert.match(damaged.stderr, /hint: the archive dir's copy is damaged/);
  assert.doesNotMatch(damaged.stderr, /\n\s+at /);
  assert.equal(existsSync(join(cache, STATE_INDEX_NAME)), true, 'the index is not to blame, and stays');
  // the file mended; then an index naming a fourth signature file of a chain of one
  writeFileSync(join(cache, name), original);
  await install((o) => (o === victim ? { file: 3, offset: 0 } : o.location));
  const beyond = await runMain(['duplicity', 'incremental', '--no-encryption', '--archive-dir', archive, '--name', 'n', source, `file://${target}`]);
  assert.notEqual(beyond.code, 0);
  assert.match(beyond.stderr, /state index disagrees with the signature files at .*; it was removed/);
  assert.doesNotMatch(beyond.stderr, /\n\s+at /);
  assert.equal(existsSync(join(cache, STATE_INDEX_NAME)), false);
});

test('an incremental through the index leaves no signature file open', async () => {
  const { source, target, archive } = await fullChain('fds', { seed: 14 });
  const changed = join(source, 'hello.txt');
  appendFileSync(changed, 'changed\n');
  utimesSync(changed, 1_900_000_000, 1_900_000_000);
  await backup('incremental', source, target, archive);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const open = readdirSync('/proc/self/fd').filter((fd) => {
    try { return readlinkSync(`/proc/self/fd/${fd}`).includes('sigtar'); } catch { return false; }
  });
  assert.deepEqual(open, []);
});

test('an index read part of the way and stopped leaves no descriptor open; it is read once', async () => {
  // an index of random-looking names, so its gzip is bigger than a read of the file (256 KiB)
  const cache = mkdtempSync(join(dir, 'stopped-'));
  const key = { signatures: [{ name: 'duplicity-full-signatures.20260101T000000Z.sigtar.gz', size: 1 }] };
  const writer = new StateIndexWriter(dir);
  for (let i = 0; i < 20_000; i++) {
    const name = Buffer.from(`${String(i).padStart(6, '0')}-${createHash('sha256').update(String(i)).digest('hex')}`);
    await writer.add({ index: [name], type: 'reg', permissions: 0o644, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: 1_700_000_000 + i, size: i }, 'signature');
  }
  await writer.install(cache, key);
  assert.ok(statSync(join(cache, STATE_INDEX_NAME)).size > 1 << 19, 'the index is more than one read of its file');
  const indexFds = () => readdirSync('/proc/self/fd').filter((fd) => {
    try { return readlinkSync(`/proc/self/fd/${fd}`).endsWith(STATE_INDEX_NAME); } catch { return false; }
  }).length;
  const state = (await openStateIndex(cache, key))!;
  const batches = state.batches();
  assert.ok(!(await batches.next()).done);
  assert.equal(indexFds(), 1, 'the index file is open while it is read');
  await batches.return?.(undefined);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(indexFds(), 0, 'the index file is closed once its reader stops');
  // a second reader would start over the stream the first half read
  assert.throws(() => state.batches(), /read once/);
});

test('a no-change incremental with the index opens no signature file', async () => {
  const { source, target, archive } = await fullChain('c', { seed: 3 });
  // the archive dir's copy of the signature file, ruined without changing its size
  const full = join(archive, 'n', signatureNames(join(archive, 'n'))[0]);
  writeFileSync(full, Buffer.alloc(statSync(full).size, 0x55));
  await backup('incremental', source, target, archive);
  // without the index the same run must read that file, and fails on it
  rmSync(join(archive, 'n', STATE_INDEX_NAME));
  const r = await runMain(['duplicity', 'incremental', '--no-encryption', '--archive-dir', archive, '--name', 'n', source, `file://${target}`]);
  assert.notEqual(r.code, 0, 'the ruined signature file is read when there is no index');
  // and it is named in one line with what to do, not an unhandled stream error with a stack trace
  assert.match(r.stderr, /full-signatures\.[^ ]*\.sigtar\.gz: not a valid gzip stream/);
  assert.match(r.stderr, /hint: the archive dir's copy is damaged: delete it/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('an index that disagrees with the signature files fails the backup in one line and is removed', async () => {
  const { source, target, archive, cache } = await fullChain('d', { seed: 5 });
  // an index for the same chain that claims a file the chain does not have
  const state = (await indexState(cache))! as { entry: import('../../src/fsmeta/entry.js').Entry; kind: 'signature' | 'snapshot' }[];
  const ghost = { ...state.find((s) => s.entry.type === 'reg')!.entry, index: [Buffer.from('zz-ghost')], mtime: 1000 };
  const writer = new StateIndexWriter(dir);
  const withGhost = [...state, { entry: ghost, kind: 'signature' as const }].sort((a, b) => compareIndex(a.entry.index, b.entry.index));
  for (const s of withGhost) await writer.add(s.entry, s.kind);
  await writer.install(cache, (await stateIndexKey(cache, signatureNames(cache)))!);
  writeFileSync(join(source, 'zz-ghost'), 'now it exists\n');
  utimesSync(join(source, 'zz-ghost'), 2000, 2000);
  const r = await runMain(['duplicity', 'incremental', '--no-encryption', '--archive-dir', archive, '--name', 'n', source, `file://${target}`]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /state index disagrees with the signature files at zz-ghost; it was removed/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(existsSync(join(cache, STATE_INDEX_NAME)), false);
  await backup('incremental', source, target, archive);
  assert.deepStrictEqual(await indexState(cache), await chainState(cache));
});

test('a damaged index: at its head it is dropped and the chain read; further on the run stops in one line, and the next one reads the chain', async () => {
  const { source, target, archive, cache } = await fullChain('e', { seed: 9 });
  const index = join(cache, STATE_INDEX_NAME);
  writeFileSync(index, 'not gzip at all');
  await backup('incremental', source, target, archive);
  assert.deepStrictEqual(await indexState(cache), await chainState(cache), 'written again from the chain');
  // cut in the middle of its records: gzip fails after the key and some objects were read
  const whole = readFileSync(index);
  writeFileSync(index, whole.subarray(0, Math.floor(whole.length * 0.6)));
  const r = await runMain(['duplicity', 'incremental', '--no-encryption', '--archive-dir', archive, '--name', 'n', source, `file://${target}`]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /lifeboat-state-index\.gz: .*the state index was removed/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(existsSync(index), false);
  await backup('incremental', source, target, archive);
  assert.deepStrictEqual(await indexState(cache), await chainState(cache));
});

test('a part an earlier run left behind (killed before its rename) is removed by the next index written; a fresh one is not', async () => {
  const { source, target, archive, cache } = await fullChain('p', { seed: 8 });
  const leftover = join(cache, `.lifeboat-part-0123456789ab.${STATE_INDEX_NAME}`);
  const recent = join(cache, `.lifeboat-part-ba9876543210.${STATE_INDEX_NAME}`);
  const other = join(cache, '.lifeboat-part-0123456789ab.something-else');
  for (const path of [leftover, recent, other]) writeFileSync(path, 'partial\n');
  const hourAgo = Date.now() / 1000 - 3600;
  for (const path of [leftover, other]) utimesSync(path, hourAgo, hourAgo);
  await backup('incremental', source, target, archive);
  assert.equal(existsSync(leftover), false, 'the hour-old part is gone');
  // a part written minutes ago may be another run's, still being written; other names are not the index's
  assert.equal(existsSync(recent), true);
  assert.equal(existsSync(other), true);
  assert.deepStrictEqual(await indexState(cache), await chainState(cache));
});

test('an index of many blocks (gzipped while the next fills) reads back in order, records copied from an older index included', async () => {
  const cache = mkdtempSync(join(dir, 'blocks-'));
  const key = { signatures: [{ name: 'duplicity-full-signatures.20260101T000000Z.sigtar.gz', size: 1 }] };
  const entryAt = (i: number) => ({
    index: [Buffer.from(`d${String(i % 97).padStart(3, '0')}`), Buffer.from(`file-${String(i).padStart(6, '0')}-${'x'.repeat(i % 150)}`)],
    type: 'reg' as const, permissions: 0o644, uid: i % 7, gid: 0, uname: i % 2 ? 'root' : '', gname: 'root', mtime: 1_700_000_000 + i, size: i * 3,
  });
  const count = 20_000; // several 256 KiB blocks
  const first = new StateIndexWriter(dir);
  for (let i = 0; i < count; i++) await first.add(entryAt(i), i % 5 ? 'signature' : 'snapshot');
  await first.install(cache, key);
  // a second index made of the first one's records, as a no-change backup writes it
  const second = new StateIndexWriter(dir);
  let n = 0;
  for await (const object of (await openStateIndex(cache, key))!) {
    assert.deepEqual(object.entry, entryAt(n));
    await second.add(object.entry, object.kind, object.record);
    n++;
  }
  assert.equal(n, count);
  await second.install(cache, key);
  const back: string[] = [];
  for await (const object of (await openStateIndex(cache, key))!) back.push(`${object.kind} ${Buffer.concat(object.entry.index).toString()} ${object.entry.mtime}`);
  assert.equal(back.length, count);
  assert.deepEqual(back.slice(0, 3), [0, 1, 2].map((i) => `${i % 5 ? 'signature' : 'snapshot'} ${Buffer.concat(entryAt(i).index).toString()} ${1_700_000_000 + i}`));
  assert.equal(back[count - 1], `signature ${Buffer.concat(entryAt(count - 1).index).toString()} ${1_700_000_000 + count - 1}`);
});
