// Oracle: Lifeboat reads duplicity 0.8.22's archives as duplicity does. The recorded samples restore to
// exactly the trees listed in logs/expected-restored-trees.txt, and on an archive the real duplicity
// makes here (full + 2 incrementals, multi-volume) `restore`, `collection-status`,
// `list-current-files` and `verify --compare-data` give what duplicity gives: same trees, same stdout,
// same exit codes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync, chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync,
  rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram, type Run as ProgramRun } from '../support/run.js';
import { after, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireProgram } from '../support/programs.js';
import { randomBytes } from '../support/random.js';
import { samplesDir } from '../support/samples.js';
import { describeTree, expectedTrees } from '../support/tree.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-reads-oracle-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const bin = new URL('../../../bin/lifeboat.js', import.meta.url).pathname;
// human output uses the local time zone (specs §12): both programs run with the samples' TZ=UTC
const env = { ...process.env, TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };


/** stdout as bytes: listings carry raw path bytes */
type Run = Omit<ProgramRun, 'stdout'> & { stdout: Buffer };
const run = async (command: string, args: string[]): Promise<Run> => {
  const r = await runProgram(command, args, env);
  return { ...r, stdout: r.stdoutBytes };
};
const lifeboat = (...args: string[]) => run(process.execPath, [bin, 'duplicity', ...args]);
const duplicity = (...args: string[]) => run('duplicity', args);

function ok(result: Run, what: string): Run {
  assert.equal(result.code, 0, `${what} exited ${result.code}:\n${result.stdout}${result.stderr}`);
  return result;
}

/** Runs jobs with at most `limit` at a time; each job's promise is returned at once, in order. */
function limited<T>(limit: number, jobs: (() => Promise<T>)[]): Promise<T>[] {
  let running = 0;
  const waiting: (() => void)[] = [];
  return jobs.map(async (job) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await job();
    } finally {
      running--;
      waiting.shift()?.();
    }
  });
}

let counter = 0;
/** a path under the temp dir that does not exist yet: every run gets its own archive dir and destination */
function fresh(what: string): string {
  return join(dir, `${what}-${counter++}`);
}

/** Restoring owners, devices and other users' files needs root. */
function requireRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  process.stderr.write('\n*** SKIPPED: restoring owners and device files needs root ***\n\n');
  t.skip('needs root');
  return false;
}

/** A writable copy of a read-only sample archive. */
function copySample(name: string): string {
  const to = fresh(`sample-${name}`);
  cpSync(join(samplesDir(), name), to, { recursive: true });
  chmodSync(to, 0o755);
  for (const file of readdirSync(to)) chmodSync(join(to, file), 0o644);
  return to;
}

/** The time strings (YYYYMMDDTHHMMSSZ) of an archive's sets: the full's, then each incremental's end. */
function setTimes(archive: string): string[] {
  const times = new Set<string>();
  for (const name of readdirSync(archive)) {
    const m = /^duplicity-(?:full\.(\d{8}T\d{6}Z)|inc\.\d{8}T\d{6}Z\.to\.(\d{8}T\d{6}Z))\.manifest$/.exec(name);
    if (m) times.add(m[1] ?? m[2]);
  }
  return [...times].sort();
}

// ---------------------------------------------------------------------------------------------------
// 1. The recorded samples restore to the recorded trees

test('the sample archives restore to exactly the trees duplicity restored (expected-restored-trees.txt)', async (t) => {
  if (!requireRoot(t)) return;
  const expected = await expectedTrees(samplesDir());
  const plain = copySample('plain');
  const multi = copySample('multi');
  const [fullTime] = setTimes(plain);
  // the arguments make-samples.sh gave duplicity for each tree
  const cases: [tree: string, archive: string, args: string[]][] = [
    ['plain-latest', plain, []],
    ['plain-at-full', plain, ['--time', fullTime]],
    ['plain-one-file', plain, ['--file-to-restore', 'dir1/numbers.txt']],
    ['plain-subdir', plain, ['--file-to-restore', 'dir1/sub']],
    ['multi-latest', multi, []],
  ];
  // the restores run side by side; each subtest then judges one
  const runs = limited(4, cases.map(([tree, archive, args]) => async () => {
    const destination = fresh(tree);
    const result = await lifeboat('restore', '--no-encryption', '--archive-dir', fresh('cache'), ...args, `file://${archive}`, destination);
    return { result, destination };
  }));
  for (const [i, [tree, , args]] of cases.entries()) {
    await t.test(`${tree} (${args.join(' ') || 'latest'})`, async () => {
      const { result, destination } = await runs[i];
      ok(result, tree);
      assert.match(result.stdout.toString(), /^Last full backup date: /m);
      assert.deepEqual(await describeTree(destination), expected.get(tree), `${tree}: the restored tree differs from duplicity's`);
    });
  }
});

test('the uncompressed sample (nocomp) restores as duplicity restores it', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  const nocomp = copySample('nocomp');
  const ours = fresh('nocomp-lifeboat');
  const theirs = fresh('nocomp-duplicity');
  const [l, d] = await Promise.all([
    lifeboat('restore', '--no-encryption', '--archive-dir', fresh('cache'), `file://${nocomp}`, ours),
    duplicity('restore', '--no-encryption', '--archive-dir', fresh('cache'), `file://${nocomp}`, theirs),
  ]);
  ok(d, 'duplicity restore');
  ok(l, 'lifeboat restore');
  assert.deepEqual(l.stdout.toString(), d.stdout.toString());
  assert.deepEqual(await describeTree(ours), await describeTree(theirs));
  assert.equal(readFileSync(join(ours, 'a'), 'utf8'), 'abc\n');
});

test('collection-status and list-current-files of the plain sample print the recorded output', async () => {
  const logs = join(samplesDir(), 'logs');
  const plain = copySample('plain');
  // the recorded runs had a synchronized cache under --name plain
  const archiveDir = fresh('cache');
  cpSync(join(samplesDir(), 'cache', 'plain'), join(archiveDir, 'plain'), { recursive: true });
  chmodSync(join(archiveDir, 'plain'), 0o755);
  for (const file of readdirSync(join(archiveDir, 'plain'))) chmodSync(join(archiveDir, 'plain', file), 0o644);
  const common = ['--no-encryption', '--archive-dir', archiveDir, '--name', 'plain'];

  const status = ok(await lifeboat('collection-status', ...common, `file://${plain}`), 'collection-status');
  const recorded = readFileSync(join(logs, 'collection-status-plain.txt'), 'utf8')
    .replace(/^Archive dir: .*$/m, `Archive dir: ${join(archiveDir, 'plain')}`);
  assert.equal(status.stdout.toString(), recorded);

  const list = ok(await lifeboat('list-current-files', ...common, `file://${plain}`), 'list-current-files');
  assert.ok(list.stdout.equals(readFileSync(join(logs, 'list-current-plain.txt'))), `list-current-files differs:\n${list.stdout}`);
  const [fullTime] = setTimes(plain);
  const atFull = ok(await lifeboat('list-current-files', ...common, '--time', fullTime, `file://${plain}`), 'list-current-files --time');
  assert.ok(atFull.stdout.equals(readFileSync(join(logs, 'list-current-plain-at-full.txt'))), `list-current-files --time differs:\n${atFull.stdout}`);
});

// ---------------------------------------------------------------------------------------------------
// 2-4. An archive the real duplicity makes here: full + 2 incrementals, --volsize 1

interface Fixture {
  source: string;
  archive: string;
  url: string;
  /** duplicity's own archive dir from the backups (synchronized with the archive) */
  backupCache: string;
  /** full, first incremental, second incremental */
  times: string[];
  /** a copy of the archive continued with a second full (a second chain, of one set), its time */
  url2: string;
  secondFull: string;
}

function makeSource(root: string): void {
  mkdirSync(join(root, 'd', 'sub'), { recursive: true });
  mkdirSync(join(root, 'gone-later'));
  writeFileSync(join(root, 'hello.txt'), 'hello\n');
  writeFileSync(join(root, 'd', 'mid.bin'), randomBytes(11, 100_000)); // > 64 KiB: multivol naming
  writeFileSync(join(root, 'big.bin'), randomBytes(12, 2_600_000)); // spans 3 volumes of 1 MB
  writeFileSync(join(root, 'd', 'sub', 'x.txt'), 'x\n');
  writeFileSync(join(root, 'gone-later', 'y.txt'), 'y\n');
  writeFileSync(join(root, 'with space.txt'), 'space\n');
  writeFileSync(join(root, 'ünïcødé-文件.txt'), 'utf8\n');
  writeFileSync(join(root, 'mode-640'), 'perm\n');
  chmodSync(join(root, 'mode-640'), 0o640);
  writeFileSync(join(root, 'owned'), 'owned\n');
  if (process.getuid?.() === 0) chownSync(join(root, 'owned'), 1234, 5678);
  writeFileSync(join(root, 'old.txt'), 'old\n');
  utimesSync(join(root, 'old.txt'), 981173106, 981173106);
  symlinkSync('hello.txt', join(root, 'link'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
}

function firstChanges(root: string): void {
  appendFileSync(join(root, 'hello.txt'), 'appended\n'); // diff
  const big = readFileSync(join(root, 'big.bin'));
  big.write('CHANGED', 1_300_000); // a delta against a file that spans volumes
  writeFileSync(join(root, 'big.bin'), big);
  unlinkSync(join(root, 'd', 'sub', 'x.txt')); // deleted
  writeFileSync(join(root, 'd', 'new.txt'), 'new\n'); // new
  chmodSync(join(root, 'mode-640'), 0o600); // metadata only
  utimesSync(join(root, 'old.txt'), 1012615322, 1012615322); // mtime only
}

function secondChanges(root: string): void {
  unlinkSync(join(root, 'link'));
  symlinkSync('with space.txt', join(root, 'link')); // retargeted
  writeFileSync(join(root, 'with space.txt'), 'rewritten with space\n');
  rmSync(join(root, 'gone-later'), { recursive: true }); // a deleted directory
  appendFileSync(join(root, 'hello.txt'), 'second\n'); // a second delta on top of the first
}

let fixture: Promise<Fixture> | undefined;

/** Made once, by duplicity, for the tests that need it (each calls requireProgram first). */
function duplicityArchive(): Promise<Fixture> {
  fixture ??= (async () => {
    const source = join(dir, 'src');
    const archive = join(dir, 'archive');
    const url = `file://${archive}`;
    const backupCache = join(dir, 'backup-cache');
    const backup = (action: string) =>
      duplicity(action, '--no-encryption', '--volsize', '1', '--no-print-statistics', '--archive-dir', backupCache, source, url);
    makeSource(source);
    ok(await backup('full'), 'duplicity full');
    // set names have 1-second resolution, and duplicity only sees changes of mtime (in seconds)
    await sleep(1100);
    firstChanges(source);
    ok(await backup('incremental'), 'duplicity incremental 1');
    await sleep(1100);
    secondChanges(source);
    ok(await backup('incremental'), 'duplicity incremental 2');
    const times = setTimes(archive);
    assert.equal(times.length, 3, `expected 3 sets, found ${readdirSync(archive).join(' ')}`);
    assert.ok(readdirSync(archive).some((n) => n.includes('.vol3.')), 'the full should span 3 volumes');
    // the same tree again as a new chain, in a copy of the archive
    const archive2 = join(dir, 'archive2');
    const url2 = `file://${archive2}`;
    cpSync(archive, archive2, { recursive: true });
    await sleep(1100);
    ok(await duplicity('full', '--no-encryption', '--volsize', '1', '--no-print-statistics', '--archive-dir', fresh('cache'), source, url2), 'duplicity full 2');
    const secondFull = setTimes(archive2).at(-1)!;
    assert.ok(secondFull > times[2]);
    return { source, archive, url, backupCache, times, url2, secondFull };
  })();
  return fixture;
}

test('restore of a fresh duplicity archive equals duplicity restore: latest, each --time, one file, one directory', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  const { url, times, url2 } = await duplicityArchive();
  const [full, inc1, inc2] = times;
  const cases: [label: string, args: string[], url?: string][] = [
    ['latest', []],
    [`--time ${full} (the full)`, ['--time', full]],
    [`-t ${inc1} (first incremental)`, ['-t', inc1]],
    [`--time ${inc2} (second incremental)`, ['--time', inc2]],
    ['--time before the full (restores the full)', ['--time', '1000000000']],
    ['-r d (a directory with a deletion), latest', ['-r', 'd']],
    ['-r hello.txt (patched twice), latest', ['-r', 'hello.txt']],
    [`-r big.bin (patched, multi-volume) at ${inc1}`, ['-r', 'big.bin', '-t', inc1]],
    [`-r gone-later at ${full} (a directory deleted since)`, ['-r', 'gone-later', '-t', full]],
    // two chains: the cache sync copies only the chosen chain's metadata (--metadata-sync-mode partial)
    ['two chains: latest (the second full)', [], url2],
    [`two chains: -t ${inc1} (in the first chain)`, ['-t', inc1], url2],
  ];
  const runs = limited(3, cases.map(([, args, which = url]) => async () => {
    // Directories go to destinations whose parents do not exist yet: both programs create them.
    // (duplicity makes parents only for a directory; a single file into a missing parent gives an
    // "Error ... processing ." line, nothing restored and exit 0; Lifeboat makes the parents for both.)
    const file = args.includes('-r') && !['d', 'gone-later'].includes(args[args.indexOf('-r') + 1]);
    const nest = (path: string) => (file ? path : join(path, 'new-parent', 'restored'));
    const ours = nest(fresh('restore-lifeboat'));
    const theirs = nest(fresh('restore-duplicity'));
    const [l, d] = await Promise.all([
      lifeboat('restore', '--no-encryption', '--archive-dir', fresh('cache'), ...args, which, ours),
      duplicity('restore', '--no-encryption', '--archive-dir', fresh('cache'), ...args, which, theirs),
    ]);
    return { l, d, ours, theirs };
  }));
  for (const [i, [label, args]] of cases.entries()) {
    await t.test(label, async () => {
      const { l, d, ours, theirs } = await runs[i];
      ok(d, `duplicity restore ${args.join(' ')}`);
      ok(l, `lifeboat restore ${args.join(' ')}`);
      assert.equal(l.stdout.toString(), d.stdout.toString(), 'stdout differs');
      assert.deepEqual(await describeTree(ours), await describeTree(theirs));
    });
  }
});

test('collection-status and list-current-files print what duplicity prints (fresh, synchronized and stale caches)', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  const { url, backupCache, times, url2 } = await duplicityArchive();
  const [full, inc1, inc2] = times;
  type State = 'empty' | 'synced' | 'stale';
  /** an archive dir at `path` holding the cache in the given state */
  const prepare = (path: string, state: State) => {
    rmSync(path, { recursive: true, force: true });
    if (state === 'empty') return;
    cpSync(backupCache, path, { recursive: true });
    if (state === 'stale') {
      const [cache] = readdirSync(path);
      const at = (name: string) => join(path, cache, name);
      // a local manifest the target does not have (the sync deletes it) and a lost signature file (copied back)
      cpSync(at(`duplicity-full.${full}.manifest`), at('duplicity-full.20200101T000000Z.manifest'));
      unlinkSync(at(`duplicity-new-signatures.${inc1}.to.${inc2}.sigtar.gz`));
    }
    return path;
  };
  const check = (l: Run, d: Run, what: string) => {
    ok(d, `duplicity ${what}`);
    ok(l, `lifeboat ${what}`);
    assert.equal(l.stdout.toString('latin1'), d.stdout.toString('latin1'));
    assert.equal(l.stderr, '');
  };

  // collection-status prints the archive dir's path, and the sync of a stale cache the paths it
  // deletes: both programs run one after the other with the same --archive-dir path, reset to the
  // same contents before each run
  const sequential: [State, string[], string?][] = [
    ['empty', ['collection-status']],
    ['stale', ['collection-status']],
    ['stale', ['list-current-files', '--time', inc1]],
    ['empty', ['collection-status'], url2],
  ];
  for (const [state, args, which = url] of sequential) {
    await t.test(`${args.join(' ')} with a ${state} cache${which === url2 ? ', two chains' : ''}`, async () => {
      const archiveDir = join(dir, 'status-cache');
      prepare(archiveDir, state);
      const d = await duplicity(...args, '--no-encryption', '--archive-dir', archiveDir, which);
      prepare(archiveDir, state);
      const l = await lifeboat(...args, '--no-encryption', '--archive-dir', archiveDir, which);
      check(l, d, args.join(' '));
    });
  }

  // otherwise list-current-files prints no path of its own: each run gets its own copy of the state
  const cases: [State, string[], string?][] = [
    ['empty', []],
    ['empty', ['--time', full]],
    ['synced', ['-t', inc1]],
    // two chains: only the chosen chain's metadata is copied; before the oldest chain, a warning
    ['empty', [], url2],
    ['empty', ['-t', inc1], url2],
    ['empty', ['--time', '1000000000'], url2],
  ];
  const runs = limited(3, cases.map(([state, args, which = url]) => async () => {
    const [l, d] = await Promise.all([
      lifeboat('list-current-files', ...args, '--no-encryption', '--archive-dir', prepare(fresh('cache'), state) ?? fresh('cache'), which),
      duplicity('list-current-files', ...args, '--no-encryption', '--archive-dir', prepare(fresh('cache'), state) ?? fresh('cache'), which),
    ]);
    return { l, d };
  }));
  for (const [i, [state, args, which]] of cases.entries()) {
    await t.test(`${['list-current-files', ...args].join(' ')} with a ${state} cache${which === url2 ? ', two chains' : ''}`, async () => {
      const { l, d } = await runs[i];
      check(l, d, `list-current-files ${args.join(' ')}`);
    });
  }
});

test('verify --compare-data reports what duplicity reports, with its exit codes', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  const { url, source, times } = await duplicityArchive();
  const verify = async (label: string, expectedCode: number, expectedLine: RegExp, args: string[] = []) => {
    const [l, d] = await Promise.all([
      lifeboat('verify', '--compare-data', '--no-encryption', '--archive-dir', fresh('cache'), ...args, url, source),
      duplicity('verify', '--compare-data', '--no-encryption', '--archive-dir', fresh('cache'), ...args, url, source),
    ]);
    assert.equal(d.code, expectedCode, `${label}: duplicity exited ${d.code}:\n${d.stdout}${d.stderr}`);
    assert.equal(l.code, d.code, `${label}: lifeboat exited ${l.code}, duplicity ${d.code}:\n${l.stdout}${l.stderr}`);
    assert.equal(l.stdout.toString(), d.stdout.toString(), `${label}: stdout differs`);
    assert.match(l.stdout.toString(), expectedLine);
    assert.equal(l.stderr, '');
  };
  await verify('unchanged tree', 0, /^Verify complete: \d+ files compared, 0 differences found\.$/m);

  const mid = join(source, 'd', 'mid.bin');
  const before = statSync(mid);
  const hello = join(source, 'hello.txt');
  const helloBefore = statSync(hello);
  const helloData = readFileSync(hello);
  const link = join(source, 'link');
  const rootBefore = statSync(source);
  try {
    utimesSync(mid, 1577836800, 1577836800);
    await verify('one mtime changed', 1,
      /^Difference found: File d\/mid\.bin has mtime Wed Jan {2}1 00:00:00 2020, expected .*\nVerify complete: \d+ files compared, 1 difference found\.$/m);
    // same size and mtime, other bytes: only --compare-data sees it; and a retargeted symlink, whose
    // targets duplicity prints as Python prints bytes
    const changed = Buffer.from(helloData);
    changed[0] ^= 0x20;
    writeFileSync(hello, changed);
    utimesSync(hello, helloBefore.atime, helloBefore.mtime);
    unlinkSync(link);
    symlinkSync("it's hello.txt", link);
    utimesSync(source, rootBefore.atime, rootBefore.mtime);
    await verify('mtime, data and a link target changed', 1, new RegExp([
      '^Difference found: File d/mid\\.bin has mtime .*',
      'Difference found: Data for file hello\\.txt is different',
      `Difference found: Symlink link points to b"it's hello\\.txt", expected b'with space\\.txt'`,
      'Verify complete: \\d+ files compared, 3 differences found\\.$',
    ].join('\n'), 'm'));
  } finally {
    utimesSync(mid, before.atime, before.mtime);
    writeFileSync(hello, helloData);
    utimesSync(hello, helloBefore.atime, helloBefore.mtime);
    unlinkSync(link);
    symlinkSync('with space.txt', link);
    utimesSync(source, rootBefore.atime, rootBefore.mtime);
  }

  // against an older state: deletions, new files, other data, modes, mtimes and link targets at once
  await verify(`--time ${times[0]} (the full)`, 1, /^Verify complete: \d+ files compared, \d+ differences found\.$/m, ['--time', times[0]]);
  assert.ok(existsSync(mid));
});
