// Oracle: archives that Lifeboat writes are judged by the real duplicity 0.8.22. duplicity restores
// them (latest, at the full's time, multi-volume, uncompressed), verifies them against the source with
// --compare-data, continues our chains with its own incrementals and lets us continue its chains; and
// our own restore of our archives must give what duplicity gives. Trees are compared with
// describeTree (type, mode, owner, size, mtime, SHA-1 / link target / device numbers of every path),
// allowing only what duplicity itself does not keep (specs §3, §10.3): symlink mtimes (never
// described), hard links (split), sparseness (dense), negative mtimes (stored as 0). Last, for two
// identical trees Lifeboat's archive content must be duplicity's own: the same tar bytes for a full,
// the same members (deltas aside), manifests and statistics for an incremental.
// DEBUG_ORACLE=1 prints every command with its output.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { runProgram, type Run } from '../support/run.js';
import { after, test, type TestContext } from 'node:test';
import { makeTree, mutateTree, type TreeOptions } from '../support/make-tree.js';
import { requireProgram } from '../support/programs.js';
import { describeTree, asRestored, assertSameTree } from '../support/tree.js';
import { randomBytes } from '../support/random.js';
import { planRuns } from '../../src/pipeline/parallel-gzip.js';

const work = mkdtempSync(join(tmpdir(), 'lifeboat-engine-writes-'));
after(() => rmSync(work, { recursive: true, force: true }));
const lifeboatBin = new URL('../../../bin/lifeboat.js', import.meta.url).pathname;
const env = { ...process.env, TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };

let counter = 0;
/** a new path under the test's temporary directory (not created) */
function fresh(label: string): string {
  return join(work, `${label}-${counter++}`);
}

/** a new source directory whose files each get `tree.mtime` as written (a step advances it) */
function sourceTree(label: string): { src: string; mtime: number; write(name: string, data: Buffer): void } {
  const src = fresh(label);
  mkdirSync(src);
  const tree = {
    src,
    mtime: 1_600_000_000,
    write(name: string, data: Buffer) {
      writeFileSync(join(src, name), data);
      utimesSync(join(src, name), tree.mtime, tree.mtime);
    },
  };
  return tree;
}


const run = (command: string, args: string[]) => runProgram(command, args, env);

function ok(r: Run): Run {
  if (process.env.DEBUG_ORACLE) process.stderr.write(`\n### ${r.command}\n${r.stdout}${r.stderr}`);
  if (r.code !== 0) assert.fail(`exit ${r.code}: ${r.command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

/** the real duplicity, unencrypted, with an archive dir of its own (so it reads only the target) */
function duplicity(...args: string[]): Promise<Run> {
  return run('duplicity', ['--no-encryption', '--no-print-statistics', '--archive-dir', fresh('duplicity-cache'), ...args]);
}

/** a backup by duplicity that prints its statistics */
function duplicityBackup(...args: string[]): Promise<Run> {
  return run('duplicity', ['--no-encryption', '--archive-dir', fresh('duplicity-cache'), ...args]);
}

/** a chain: its target and Lifeboat's archive dir, kept across the chain's runs like a user's */
class Chain {
  readonly dir = fresh('target');
  readonly url = `file://${this.dir}`;
  readonly cache = fresh('lifeboat-cache');
  constructor(readonly source: string) {}

  lifeboat(...args: string[]): Promise<Run> {
    return run(process.execPath, [lifeboatBin, 'duplicity', '--no-encryption', '--no-print-statistics', '--archive-dir', this.cache, ...args]);
  }

  /** a backup by Lifeboat that prints its statistics */
  lifeboatBackup(...args: string[]): Promise<Run> {
    return run(process.execPath, [lifeboatBin, 'duplicity', '--no-encryption', '--archive-dir', this.cache, ...args]);
  }

  /** the one file whose name matches */
  file(pattern: RegExp): string {
    const found = this.files().filter((f) => pattern.test(f));
    assert.equal(found.length, 1, `one file like ${pattern} expected:\n${this.files().join('\n')}`);
    return join(this.dir, found[0]);
  }

  files(): string[] {
    return readdirSync(this.dir).sort();
  }

  /** the time strings of the sets, oldest first: the full's, then each incremental's end */
  setTimes(): string[] {
    const times: string[] = [];
    for (const name of this.files()) {
      const m = /^duplicity-(?:full|inc\.\d{8}T\d{6}Z\.to)\.(\d{8}T\d{6}Z)\.manifest$/.exec(name);
      if (m) times.push(m[1]);
    }
    return times.sort();
  }

  /** waits until the clock is past the newest set's time: set times are whole seconds and must increase */
  async waitPastLastSet(): Promise<void> {
    const last = this.setTimes().at(-1);
    if (!last) return;
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(last)!;
    const epoch = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    const wait = epoch + 1000 - Date.now();
    if (wait > 0) await sleep(wait + 20);
  }
}

/** `duplicity restore [args] URL DIR` into a new directory; returns its description */
async function duplicityRestore(chain: Chain, ...args: string[]): Promise<string[]> {
  const dest = fresh('duplicity-restored');
  ok(await duplicity('restore', ...args, chain.url, dest));
  return describeTree(dest);
}

async function lifeboatRestore(chain: Chain, ...args: string[]): Promise<string[]> {
  const dest = fresh('lifeboat-restored');
  ok(await chain.lifeboat('restore', ...args, chain.url, dest));
  return describeTree(dest);
}

async function assertVerifies(chain: Chain): Promise<void> {
  const r = ok(await duplicity('verify', '--compare-data', chain.url, chain.source));
  assert.match(r.stdout, /Verify complete: \d+ files? compared, 0 differences found\./, r.stdout);
}

async function newTree(label: string, options: TreeOptions = {}): Promise<string> {
  const src = fresh(label);
  await makeTree(src, options);
  return src;
}

/** a chain made by Lifeboat: full, mutateTree, incremental; shared by the tests that only read it */
interface LifeboatChain { chain: Chain; before: string[]; after: string[] }
let lifeboatChain: Promise<LifeboatChain> | undefined;
function sharedLifeboatChain(): Promise<LifeboatChain> {
  lifeboatChain ??= (async () => {
    const chain = new Chain(await newTree('src-chain'));
    const before = await describeTree(chain.source);
    ok(await chain.lifeboat('full', chain.source, chain.url));
    await mutateTree(chain.source);
    const after = await describeTree(chain.source);
    await chain.waitPastLastSet();
    ok(await chain.lifeboat('incr', chain.source, chain.url));
    assert.equal(chain.setTimes().length, 2, chain.files().join('\n'));
    return { chain, before, after };
  })();
  return lifeboatChain;
}

/**
 * Python's tarfile (duplicity's reader) lists a tar stream, one line per member: every header field,
 * the pax records and the payload's SHA-1; with `deltas` false the payload of diff members is left out.
 */
const tarDumpScript = `
import sys, tarfile, hashlib
deltas = sys.argv[2] == '1'
with tarfile.open(sys.argv[1], 'r:*') as t:
    for m in t:
        data = t.extractfile(m).read() if m.isreg() else b''
        delta = m.name.startswith(('diff/', 'multivol_diff/'))
        payload = '(delta)' if delta and not deltas else '%d %s' % (m.size, hashlib.sha1(data).hexdigest())
        print(repr(m.name), m.type, oct(m.mode), m.uid, m.gid, repr(m.uname), repr(m.gname), m.mtime,
              repr(m.linkname), m.devmajor, m.devminor, sorted(m.pax_headers.items()), payload)
`;

async function tarDump(path: string, deltas: boolean): Promise<string[]> {
  const r = ok(await run('python3', ['-c', tarDumpScript, path, deltas ? '1' : '0']));
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** the statistics block without what differs between any two runs (times, gzip'd sizes) */
function statistics(output: string): string[] {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.includes('[ Backup Statistics ]'));
  assert.ok(start >= 0, `no statistics in:\n${output}`);
  const end = lines.findIndex((l, i) => i > start && /^-+$/.test(l));
  return lines.slice(start + 1, end).filter((l) => !/^(StartTime|EndTime|ElapsedTime|TotalDestinationSizeChange) /.test(l));
}

/** a manifest without the lines that must differ between two sources (Localdir) and two gzips (Hash) */
function manifestLines(path: string): string[] {
  return readFileSync(path, 'latin1').split('\n').filter((l) => !/^Localdir |^ {4}Hash /.test(l));
}

function skipWithoutDuplicity(t: TestContext): boolean {
  return !requireProgram(t, 'duplicity');
}

test('duplicity restores and verifies a full backup written by Lifeboat', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  const chain = new Chain(await newTree('src-full'));
  const source = await describeTree(chain.source);
  ok(await chain.lifeboat('full', chain.source, chain.url));
  assert.ok(chain.files().some((f) => f.endsWith('.difftar.gz')), chain.files().join('\n'));
  assertSameTree(await duplicityRestore(chain), asRestored(source), 'duplicity restore');
  await assertVerifies(chain);
});

test('duplicity restores and verifies multi-volume backups (--volsize 1)', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  const chain = new Chain(await newTree('src-multi', { bigFileBytes: 3_000_000 }));
  const source = await describeTree(chain.source);
  ok(await chain.lifeboat('full', '--volsize', '1', chain.source, chain.url));
  const fullVolumes = chain.files().filter((f) => /^duplicity-full\..*\.vol\d+\.difftar\.gz$/.test(f));
  assert.ok(fullVolumes.length >= 3, `expected >= 3 volumes:\n${chain.files().join('\n')}`);
  assertSameTree(await duplicityRestore(chain), asRestored(source), 'duplicity restore');
  await assertVerifies(chain);

  // big.bin changes in the middle and grows by 1.2 MB of random data: a multivol_diff over volumes
  await mutateTree(chain.source);
  const after = await describeTree(chain.source);
  await chain.waitPastLastSet();
  ok(await chain.lifeboat('incr', '--volsize', '1', chain.source, chain.url));
  const incVolumes = chain.files().filter((f) => /^duplicity-inc\..*\.vol\d+\.difftar\.gz$/.test(f));
  assert.ok(incVolumes.length >= 2, `expected >= 2 incremental volumes:\n${chain.files().join('\n')}`);
  assertSameTree(await duplicityRestore(chain), asRestored(after), 'duplicity restore (latest)');
  assertSameTree(await duplicityRestore(chain, '-t', chain.setTimes()[0]), asRestored(source), 'duplicity restore at the full');
  await assertVerifies(chain);
});

test('duplicity restores and verifies an uncompressed full backup (--no-compression)', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  const chain = new Chain(await newTree('src-nocomp'));
  const source = await describeTree(chain.source);
  ok(await chain.lifeboat('full', '--no-compression', chain.source, chain.url));
  const files = chain.files();
  assert.ok(files.some((f) => f.endsWith('.difftar')) && files.some((f) => f.endsWith('.sigtar')), files.join('\n'));
  assert.ok(!files.some((f) => f.endsWith('.gz')), files.join('\n'));
  assertSameTree(await duplicityRestore(chain), asRestored(source), 'duplicity restore');
  await assertVerifies(chain);
});

test('--compress-level: level 1 and 9 archives (random data stored, small random files run-length coded, text deflated in parallel blocks) restore and verify with duplicity', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  // 3 MB of random bytes beside text: blocks of stored and deflated runs in one gzip member
  const chain = new Chain(await newTree('src-level', { bigFileBytes: 3_000_000 }));
  const source = await describeTree(chain.source);
  const bad = await chain.lifeboat('full', '--compress-level', '10', chain.source, chain.url);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr.trim(), /^lifeboat: option --compress-level: bad level "10"\nhint: give a gzip level from 0/, bad.stderr);
  assert.ok(!existsSync(chain.dir), 'no target made on a bad level');
  ok(await chain.lifeboat('full', '--compress-level', '1', chain.source, chain.url));
  const fast = readFileSync(chain.file(/\.vol1\.difftar\.gz$/)).length;
  assertSameTree(await duplicityRestore(chain), asRestored(source), 'duplicity restore (level 1)');
  await assertVerifies(chain);

  const small = new Chain(chain.source);
  ok(await small.lifeboat('full', '--compress-level', '9', small.source, small.url));
  const smallest = readFileSync(small.file(/\.vol1\.difftar\.gz$/)).length;
  assert.ok(smallest < fast, `level 9 (${smallest} bytes) smaller than level 1 (${fast})`);
  // the random 3 MB are stored at any level: the volume is at least that big, and not much bigger
  assert.ok(smallest > 3_000_000 && smallest < 3_000_000 * 1.05 + 200_000, `level 9 volume: ${smallest} bytes`);
  assertSameTree(await duplicityRestore(small), asRestored(source), 'duplicity restore (level 9)');
  await assertVerifies(small);

  // small random files, as uploads are: between their tar headers and padding, nearly random
  // stretches that are run-length coded (zlib's Z_RLE), neither stored nor deflated
  const uploads = new Chain(await newTree('src-uploads'));
  mkdirSync(join(uploads.source, 'uploads'));
  const upload = (i: number) => randomBytes(100 + i, 4000 + 37 * i);
  for (let i = 0; i < 120; i++) writeFileSync(join(uploads.source, 'uploads', `u${i}.bin`), upload(i));
  const tarLike = Buffer.concat(Array.from({ length: 8 }, (_, i) => [Buffer.alloc(512), upload(i).subarray(0, 7680)]).flat());
  assert.ok(planRuns(tarLike, 5).some((r) => r.rle), 'files like these are run-length coded');
  ok(await uploads.lifeboat('full', uploads.source, uploads.url));
  assertSameTree(await duplicityRestore(uploads), asRestored(await describeTree(uploads.source)), 'duplicity restore (run-length coded uploads)');
  await assertVerifies(uploads);
});

test('duplicity restores Lifeboat\'s incremental, latest and at the full\'s time', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  const { chain, before, after } = await sharedLifeboatChain();
  const [fullTime] = chain.setTimes();
  assertSameTree(await duplicityRestore(chain), asRestored(after), 'duplicity restore (latest)');
  assertSameTree(await duplicityRestore(chain, '-t', fullTime), asRestored(before), `duplicity restore -t ${fullTime}`);
  await assertVerifies(chain);
});

test('duplicity continues a chain Lifeboat started, and Lifeboat continues it again', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  const chain = new Chain(await newTree('src-mixed'));
  ok(await chain.lifeboat('full', chain.source, chain.url));
  await mutateTree(chain.source, 1);
  const afterOne = await describeTree(chain.source);
  await chain.waitPastLastSet();
  ok(await duplicity('incremental', chain.source, chain.url));
  assert.equal(chain.setTimes().length, 2, chain.files().join('\n'));
  assertSameTree(await duplicityRestore(chain), asRestored(afterOne), 'duplicity restore after duplicity\'s incremental');

  await mutateTree(chain.source, 2);
  const afterTwo = await describeTree(chain.source);
  await chain.waitPastLastSet();
  ok(await chain.lifeboat('incr', chain.source, chain.url));
  const times = chain.setTimes();
  assert.equal(times.length, 3, chain.files().join('\n'));
  assertSameTree(await duplicityRestore(chain), asRestored(afterTwo), 'duplicity restore after Lifeboat\'s incremental');
  assertSameTree(await lifeboatRestore(chain), asRestored(afterTwo), 'lifeboat restore after Lifeboat\'s incremental');
  assertSameTree(await duplicityRestore(chain, '-t', times[1]), asRestored(afterOne), `duplicity restore -t ${times[1]}`);
  await assertVerifies(chain);
});

test('Lifeboat continues a chain duplicity started', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  const chain = new Chain(await newTree('src-theirs'));
  const before = await describeTree(chain.source);
  ok(await duplicity('full', chain.source, chain.url));
  await mutateTree(chain.source, 1);
  const afterOne = await describeTree(chain.source);
  await chain.waitPastLastSet();
  ok(await chain.lifeboat('incr', chain.source, chain.url));
  const times = chain.setTimes();
  assert.equal(times.length, 2, chain.files().join('\n'));
  assertSameTree(await duplicityRestore(chain), asRestored(afterOne), 'duplicity restore (latest)');
  assertSameTree(await lifeboatRestore(chain), asRestored(afterOne), 'lifeboat restore (latest)');
  assertSameTree(await duplicityRestore(chain, '-t', times[0]), asRestored(before), `duplicity restore -t ${times[0]}`);
  await assertVerifies(chain);
});

test('Lifeboat restores its own archives exactly as duplicity does', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  const { chain, before, after } = await sharedLifeboatChain();
  const [fullTime] = chain.setTimes();
  const cases: [string, string[], string[]][] = [
    ['latest', [], asRestored(after)],
    [`-t ${fullTime}`, ['-t', fullTime], asRestored(before)],
    ['-r dir1/numbers.txt', ['-r', 'dir1/numbers.txt'], await describeTree(join(chain.source, 'dir1', 'numbers.txt'))],
    ['-r dir1/sub', ['-r', 'dir1/sub'], await describeTree(join(chain.source, 'dir1', 'sub'))],
  ];
  for (const [label, args, expected] of cases) {
    const theirs = await duplicityRestore(chain, ...args);
    assertSameTree(theirs, expected, `duplicity restore ${label}`);
    assertSameTree(await lifeboatRestore(chain, ...args), theirs, `lifeboat restore ${label} vs duplicity's`);
  }
});

test('patched files restore as duplicity restores them at every time: deltas that copy forward (read as the basis streams), backward, or spooled to disk, leaving no temporary file', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  const tree = sourceTree('src-patched');
  const { src } = tree;
  const write = tree.write;
  const read = (name: string) => readFileSync(join(src, name));
  const swapHalves = (data: Buffer) => Buffer.concat([data.subarray(data.length >> 1), data.subarray(0, data.length >> 1)]);
  const editInPlace = (data: Buffer, seed: number) => {
    const out = Buffer.from(data);
    for (let i = 0; i < 8; i++) randomBytes(seed + i, 4096).copy(out, (i * 7_919_993) % (out.length - 4096));
    return out;
  };
  write('edited.bin', randomBytes(21, 3 << 20));
  write('moved.bin', randomBytes(22, 3 << 20));
  write('rewritten.bin', randomBytes(23, 10 << 20));
  write('replaced.bin', randomBytes(24, 4 << 20));
  const chain = new Chain(src);
  const states = [await describeTree(src)];
  ok(await chain.lifeboat('full', src, chain.url));
  const steps: [string, (data: Buffer, step: number) => Buffer][][] = [
    // forward; backward; rewritten (a 10 MiB literal delta, more than is kept in memory); 12 MiB
    // appended (a forward delta, spooled)
    [['edited.bin', (d, n) => Buffer.concat([editInPlace(d, 100 * n), randomBytes(n, 9_999)])], ['moved.bin', swapHalves], ['rewritten.bin', (_, n) => randomBytes(900 + n, 10 << 20)],
      ['replaced.bin', (d, n) => Buffer.concat([d, randomBytes(800 + n, 12 << 20)])]],
    // forward on top of a version made backward, and on top of one made from a spooled delta; a
    // delta with no copy at all (the version before it, and its spooled delta, are never read)
    [['edited.bin', (d, n) => editInPlace(d, 100 * n)], ['moved.bin', (d, n) => Buffer.concat([d, randomBytes(n, 5_000)])], ['rewritten.bin', (d, n) => editInPlace(d, 100 * n)],
      ['replaced.bin', (_, n) => randomBytes(800 + n, 256 << 10)]],
    // backward on top of versions made forward
    [['edited.bin', swapHalves], ['moved.bin', (d, n) => editInPlace(d, 100 * n)], ['rewritten.bin', swapHalves], ['replaced.bin', (d, n) => editInPlace(d, 100 * n)]],
  ];
  for (const [n, step] of steps.entries()) {
    tree.mtime += 86_400;
    for (const [name, change] of step) write(name, change(read(name), n + 1));
    states.push(await describeTree(src));
    await chain.waitPastLastSet();
    ok(await chain.lifeboat('incr', src, chain.url));
  }
  const times = chain.setTimes();
  assert.equal(times.length, 4, chain.files().join('\n'));
  // the versions and deltas kept on disk while a file is patched are all removed
  const tempdir = fresh('restore-tempdir');
  mkdirSync(tempdir);
  const restore = async (...args: string[]) => {
    const restored = await lifeboatRestore(chain, '--tempdir', tempdir, ...args);
    assert.deepEqual(readdirSync(tempdir), [], `temporary files left by lifeboat restore ${args.join(' ')}`);
    return restored;
  };
  for (const [i, time] of times.entries()) {
    const theirs = await duplicityRestore(chain, '-t', time);
    assertSameTree(theirs, asRestored(states[i]), `duplicity restore -t ${time}`);
    assertSameTree(await restore('-t', time), theirs, `lifeboat restore -t ${time} vs duplicity's`);
  }
  assertSameTree(await restore('-r', 'moved.bin'), await describeTree(join(src, 'moved.bin')), 'lifeboat restore -r moved.bin');
});

test('uncompressed volumes keep the deltas of big files the delta workers made (their pieces share one buffer): duplicity restores them', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  const tree = sourceTree('src-uncompressed-deltas');
  const { src } = tree;
  const write = tree.write;
  // over 1 MiB each, so their deltas are made on the workers; a literal delta of many pieces, and one
  // of copies with a few literals
  write('rewritten.bin', randomBytes(31, 3 << 20));
  write('edited.bin', randomBytes(32, 2 << 20));
  const chain = new Chain(src);
  ok(await chain.lifeboat('full', '--no-compression', src, chain.url));
  tree.mtime += 86_400;
  write('rewritten.bin', randomBytes(33, 3 << 20));
  const edited = readFileSync(join(src, 'edited.bin'));
  for (let i = 0; i < 6; i++) randomBytes(40 + i, 3000).copy(edited, i * 300_001);
  write('edited.bin', edited);
  const after = await describeTree(src);
  await chain.waitPastLastSet();
  ok(await chain.lifeboat('incr', '--no-compression', src, chain.url));
  assertSameTree(await duplicityRestore(chain), asRestored(after), 'duplicity restore of the uncompressed incremental');
});

test('duplicity accepts an empty incremental written by Lifeboat', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  const chain = new Chain(await newTree('src-empty-inc'));
  const source = await describeTree(chain.source);
  ok(await chain.lifeboat('full', chain.source, chain.url));
  await chain.waitPastLastSet();
  ok(await chain.lifeboat('incr', chain.source, chain.url));
  const [, incTime] = chain.setTimes();
  assert.ok(incTime, chain.files().join('\n'));
  const status = ok(await duplicity('collection-status', chain.url)).stdout;
  assert.match(status, /Number of contained backup sets: 2\n/, status);
  assert.match(status, /^ {9}Incremental {9}\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} {17}1$/m, status);
  assert.match(status, /No orphaned or incomplete backup sets found\./, status);
  assertSameTree(await duplicityRestore(chain), asRestored(source), 'duplicity restore');
  assertSameTree(await duplicityRestore(chain, '-t', incTime), asRestored(source), `duplicity restore -t ${incTime}`);
  await assertVerifies(chain);
  // and duplicity can build on it
  await chain.waitPastLastSet();
  ok(await duplicity('incremental', chain.source, chain.url));
  assert.equal(chain.setTimes().length, 3, chain.files().join('\n'));
});

test('Lifeboat writes the same archive content as duplicity for the same trees', async (t) => {
  if (skipWithoutDuplicity(t)) return;
  // two identical trees (everything seeded, every mtime fixed): one backed up by each program
  const ours = new Chain(await newTree('src-ours'));
  const theirs = new Chain(await newTree('src-theirs'));
  const [ourFull, theirFull] = [await ours.lifeboatBackup('full', ours.source, ours.url), await duplicityBackup('full', theirs.source, theirs.url)];
  ok(ourFull);
  ok(theirFull);
  const full = { volume: /^duplicity-full\..*\.vol1\.difftar\.gz$/, signatures: /^duplicity-full-signatures\..*\.sigtar\.gz$/, manifest: /^duplicity-full\..*\.manifest$/ };
  // a full holds no deltas: the tar streams are the same bytes
  for (const kind of ['volume', 'signatures'] as const) {
    const [a, b] = [ours.file(full[kind]), theirs.file(full[kind])];
    if (!gunzipSync(readFileSync(a)).equals(gunzipSync(readFileSync(b)))) {
      assertSameTree(await tarDump(a, true), await tarDump(b, true), `full ${kind} members`);
      assert.fail(`full ${kind}: same members, other bytes (header encoding?): ${a} vs ${b}`);
    }
  }
  assertSameTree(manifestLines(ours.file(full.manifest)), manifestLines(theirs.file(full.manifest)), 'full manifest');
  assert.deepEqual(statistics(ourFull.stdout), statistics(theirFull.stdout), 'full backup statistics');

  await mutateTree(ours.source);
  await mutateTree(theirs.source);
  await ours.waitPastLastSet();
  await theirs.waitPastLastSet();
  const ourInc = ok(await ours.lifeboatBackup('incr', ours.source, ours.url));
  const theirInc = ok(await duplicityBackup('incr', theirs.source, theirs.url));
  const inc = { volume: /^duplicity-inc\..*\.vol1\.difftar\.gz$/, signatures: /^duplicity-new-signatures\..*\.sigtar\.gz$/, manifest: /^duplicity-inc\..*\.manifest$/ };
  // signatures are deterministic (librsync's format, §7); deltas need only be valid, not librsync's bytes
  assertSameTree(await tarDump(ours.file(inc.signatures), true), await tarDump(theirs.file(inc.signatures), true), 'incremental signatures');
  assertSameTree(await tarDump(ours.file(inc.volume), false), await tarDump(theirs.file(inc.volume), false), 'incremental volume');
  assertSameTree(manifestLines(ours.file(inc.manifest)), manifestLines(theirs.file(inc.manifest)), 'incremental manifest');
  const withoutDeltaSizes = (lines: string[]) => lines.filter((l) => !/^RawDeltaSize /.test(l));
  assert.deepEqual(withoutDeltaSizes(statistics(ourInc.stdout)), withoutDeltaSizes(statistics(theirInc.stdout)), 'incremental statistics');
});
