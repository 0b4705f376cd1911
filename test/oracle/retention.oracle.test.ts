// Oracle: retention judged by duplicity 0.8.22's own remove commands. Two simulated years of daily
// backups (a tiny tree, a simulated clock) with a common duply schedule: a full every 3 months
// (--full-if-older-than 3M), incrementals only for the last 2 fulls (remove-all-inc-of-but-n-full 2),
// nothing older than 2 years (remove-older-than 2Y), run daily as `purge --force; purgeIncr --force;
// backup`. Every week duplicity runs the same two remove commands on a copy of the target (and archive
// dir) as it was before that day's purge; the files it leaves must be the files Lifeboat left. Every
// backup that remains must restore to the tree it was taken of. Then the retention run is killed with
// SIGKILL at random points and re-run: no kept backup may become unrestorable, and the target must end
// in the planned state. Without --force no command deletes anything.
// DEBUG_ORACLE=1 prints the figures and every duplicity command with its output.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram, type Run } from '../support/run.js';
import { after, test } from 'node:test';
import { buildCollection, chainSets } from '../../src/duplicity/collection.js';
import { formatNameTime, parseTimeString } from '../../src/duplicity/time.js';
import { backupToTarget } from '../../src/pipeline/backup-to-target.js';
import { restoreFromTarget } from '../../src/pipeline/restore-from-target.js';
import { runRetention } from '../../src/pipeline/retention.js';
import { openTarget, type Target } from '../../src/pipeline/target.js';
import { FileBackend } from '../../src/backend/file/file-backend.js';
import { planRetention, type RetentionCommand } from '../../src/retention/plan.js';
import { purgeCommands } from '../../src/retention/policy.js';
import { requireProgram } from '../support/programs.js';
import { createRandom, randomBytes } from '../support/random.js';
import { runMain } from '../support/run-main.js';

const work = mkdtempSync(join(tmpdir(), 'lifeboat-retention-'));
after(() => rmSync(work, { recursive: true, force: true }));
const env = { ...process.env, TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
const debug = process.env.DEBUG_ORACLE !== undefined;
const quiet = { notice: () => undefined, warning: () => undefined, info: () => undefined };

const DAY = 86400;
const START = Date.UTC(2022, 0, 3, 3, 0, 0) / 1000;
/** RETENTION_SIM_DAYS shortens the simulation while working on it; the acceptance run is 730 */
const DAYS = Number(process.env.RETENTION_SIM_DAYS ?? 730);
const FILES = 4;
const FILE_BYTES = 16 * 1024;
const policy = { maxAge: '2Y', maxFullsWithIncrs: 2 };
const NAME = 'sim';


const run = (command: string, args: string[]) => runProgram(command, args, env);

function ok(r: Run): Run {
  if (debug) process.stderr.write(`\n### ${r.command}\n${r.stdout}${r.stderr}`);
  if (r.code !== 0) assert.fail(`exit ${r.code}: ${r.command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

const listing = (dir: string): string[] => readdirSync(dir).sort();

/** A copy of a target or archive dir made of hard links: fast, and safe for runs that only delete or add files. */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) linkTree(join(from, entry.name), join(to, entry.name));
    else linkSync(join(from, entry.name), join(to, entry.name));
  }
}
const sha = (data: Buffer): string => createHash('sha1').update(data).digest('hex');

/** path -> sha1 of every file in the tree (flat: the tree has no directories) */
function treeState(dir: string): Map<string, string> {
  return new Map(listing(dir).map((name) => [name, sha(readFileSync(join(dir, name)))]));
}

async function restoreAndCompare(url: string, archiveDir: string, time: number, expected: Map<string, string>, label: string): Promise<void> {
  const destination = join(work, `restore-${label}-${time}-${Math.random().toString(36).slice(2)}`);
  const target = await openTarget(url, { archiveDir, name: NAME, sync: true, time, notice: () => undefined });
  await restoreFromTarget({
    target, destination, time, force: false, restoreOwnership: false, numericOwner: false,
    tempdir: join(work, 'tmp'), dryRun: false, durable: false, ...quiet,
  });
  assert.deepEqual(treeState(destination), expected, `${label}: the backup at ${new Date(time * 1000).toISOString()} restores`);
  rmSync(destination, { recursive: true, force: true });
}

/** The target as openTarget gives it, from a directory listing (no stat per file, no archive-dir sync). */
function localTarget(url: string, targetDir: string, archiveDir: string): Target {
  const remoteNames = existsSync(targetDir) ? listing(targetDir) : [];
  const cacheDir = join(archiveDir, NAME);
  const localNames = existsSync(cacheDir) ? listing(cacheDir) : [];
  return { url, backend: new FileBackend(targetDir, url), cacheDir, remoteNames, collection: buildCollection(remoteNames, localNames) };
}

/** Lifeboat's daily purge: duply's purge then purgeIncr, both --force */
async function purge(url: string, targetDir: string, archiveDir: string, now: number): Promise<void> {
  // the test owns the target directory: list it directly, once; each run reports what it left
  const target = localTarget(url, targetDir, archiveDir);
  let remoteNames = target.remoteNames;
  for (const command of [...purgeCommands('purge', policy, now), ...purgeCommands('purgeIncr', policy, now)]) {
    remoteNames = (await runRetention({ target, command, force: true, remoteNames, ...quiet })).remoteNamesAfter;
  }
}

// duplicity takes most of a second to start (imports); two hundred runs would take minutes. This
// Python helper imports duplicity once, then forks for each run, and the child runs /usr/bin/duplicity
// as its __main__: every run is the unmodified program in a fresh process state.
const FORK_SERVER = `
import json, os, runpy, sys
os.environ['LC_ALL'] = 'POSIX'
import duplicity.dup_main, duplicity.backends.localbackend
program = sys.argv[1]
for line in sys.stdin:
    job = json.loads(line)
    out = os.open(job['out'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    pid = os.fork()
    if pid == 0:
        os.dup2(out, 1)
        os.dup2(out, 2)
        sys.argv = ['duplicity'] + job['argv']
        code = 0
        try:
            runpy.run_path(program, run_name='__main__')
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 99
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    os.close(out)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({'code': os.waitstatus_to_exitcode(status)}), flush=True)
`;

interface ForkServer { send(argv: string[]): Promise<Run>; close(): void }
const forkServers = new Map<number, ForkServer>();

/** server `index` runs one duplicity at a time; two servers run two at once */
function duplicityServer(index = 0): ForkServer {
  const existing = forkServers.get(index);
  if (existing !== undefined) return existing;
  const script = join(work, 'fork-server.py');
  writeFileSync(script, FORK_SERVER);
  // duplicity's own interpreter (its #! line) and script
  const program = spawnSync('sh', ['-c', 'command -v duplicity'], { encoding: 'utf8' }).stdout.trim();
  const python = readFileSync(program, 'utf8').split('\n')[0].replace(/^#!\s*/, '').split(/\s+/);
  const proc = spawn(python[0], [...python.slice(1), script, program], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: ((line: string) => void)[] = [];
  let buffer = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      waiting.shift()?.(line);
    }
  });
  let queue = Promise.resolve();
  let jobs = 0;
  const server: ForkServer = {
    send(argv) {
      const out = join(work, `duplicity-out-${index}-${jobs++}`);
      const result = queue.then(() => new Promise<Run>((resolve) => {
        waiting.push((line) => {
          const text = readFileSync(out, 'utf8');
          rmSync(out, { force: true });
          resolve({ code: (JSON.parse(line) as { code: number }).code, stdout: text, stdoutBytes: Buffer.from(text), stderr: '', command: ['duplicity', ...argv].join(' ') });
        });
        proc.stdin.write(JSON.stringify({ argv, out }) + '\n');
      }));
      queue = result.then(() => undefined, () => undefined);
      return result;
    },
    close() { proc.stdin.end(); },
  };
  forkServers.set(index, server);
  return server;
}
after(() => { for (const server of forkServers.values()) server.close(); });

/** duplicity's own purge on a copy of the target and archive dir */
async function duplicityPurge(copy: string, now: number, serverIndex: number): Promise<string[]> {
  const url = `file://${join(copy, 'target')}`;
  const common = ['--no-encryption', '--force', '--archive-dir', join(copy, 'cache'), '--name', NAME, url];
  const removeTime = String(parseTimeString(policy.maxAge, now));
  const server = duplicityServer(serverIndex);
  ok(await server.send(['remove-older-than', removeTime, ...common]));
  ok(await server.send(['remove-all-inc-of-but-n-full', String(policy.maxFullsWithIncrs), ...common]));
  return listing(join(copy, 'target'));
}

let simulated: { url: string; targetDir: string; archiveDir: string; states: Map<number, Map<string, string>> } | null = null;

test('two simulated years of daily purge + backup keep exactly what duplicity keeps, and all of it restores', async (t) => {
  if (!requireProgram(t, 'duplicity')) return;
  const source = join(work, 'source');
  const targetDir = join(work, 'target');
  const archiveDir = join(work, 'cache');
  const url = `file://${targetDir}`;
  mkdirSync(source);
  mkdirSync(join(work, 'tmp'));
  const random = createRandom(6);
  for (let i = 0; i < FILES; i++) writeFileSync(join(source, `file${i}`), randomBytes(100 + i, FILE_BYTES));
  const sourceBytes = FILES * FILE_BYTES;

  const states = new Map<number, Map<string, string>>();
  const comparisons: Promise<void>[] = [];
  // duplicity runs in the background while the simulation goes on; one lane (a second one only
  // competes for the CPU with the simulation: measured no faster on 2 cores)
  const lanes = [Promise.resolve()];
  let fulls = 0;
  let incrementals = 0;
  let compared = 0;
  let maxStored = 0;
  let sumStored = 0;
  let maxFullsKept = 0;
  const started = Date.now();
  const spent = { backup: 0, purge: 0, restore: 0, copy: 0, duplicity: 0 };
  const timed = async <T>(what: keyof typeof spent, work: () => Promise<T> | T): Promise<T> => {
    const t0 = Date.now();
    try { return await work(); } finally { spent[what] += Date.now() - t0; }
  };
  for (let d = 0; d < DAYS; d++) {
    const now = START + d * DAY;
    // the day's change: 512 bytes of one file rewritten in place
    const file = join(source, `file${random() % FILES}`);
    const data = readFileSync(file);
    randomBytes(1000 + d, 512).copy(data, random() % (FILE_BYTES - 512));
    writeFileSync(file, data);
    utimesSync(file, now - 60, now - 60);

    const weekly = d % 7 === 6;
    let copy: string | null = null;
    if (weekly) {
      copy = join(work, `day-${d}`);
      await timed('copy', () => {
        linkTree(targetDir, join(copy!, 'target'));
        linkTree(archiveDir, join(copy!, 'cache'));
      });
    }
    if (d > 0) await timed('purge', () => purge(url, targetDir, archiveDir, now));
    if (copy !== null) {
      const ours = listing(targetDir);
      const dir = copy;
      const lane = Math.floor(d / 7) % lanes.length;
      const comparison = lanes[lane].then(async () => {
        const theirs = await timed('duplicity', () => duplicityPurge(dir, now, lane));
        assert.deepEqual(ours, theirs, `day ${d}: the target after Lifeboat's purge is the target after duplicity's`);
        compared++;
        rmSync(dir, { recursive: true, force: true });
      });
      comparisons.push(comparison);
      lanes[lane] = comparison.catch(() => undefined);
    }

    // --full-if-older-than 3M at the boundary: duplicity (its clock set with --current-time) decides
    // full or incremental on a copy of the target, and so must Lifeboat
    let theirType: Promise<string> | null = null;
    if (d === 90 || d === 91) {
      const dir = join(work, `boundary-${d}`);
      cpSync(targetDir, join(dir, 'target'), { recursive: true });
      cpSync(archiveDir, join(dir, 'cache'), { recursive: true });
      theirType = duplicityServer().send([
        // as epoch seconds: duplicity measures ages on the command line from the real clock, not --current-time
        '--current-time', String(now), '--full-if-older-than', String(parseTimeString('3M', now)), '--no-encryption', '--no-print-statistics',
        '--archive-dir', join(dir, 'cache'), '--name', NAME, source, `file://${join(dir, 'target')}`,
      ]).then((r) => {
        ok(r);
        const made = listing(join(dir, 'target')).filter((n) => n.includes(`${formatNameTime(now)}.manifest`));
        assert.equal(made.length, 1, r.stdout);
        return made[0].startsWith('duplicity-full.') ? 'full' : 'incremental';
      });
    }
    const result = await timed('backup', async () => backupToTarget({
      // the test owns the target: list it directly, and sync the archive dir (as the CLI does) weekly only
      source, target: weekly ? await openTarget(url, { archiveDir, name: NAME, sync: true, time: now, notice: () => undefined }) : localTarget(url, targetDir, archiveDir),
      mode: 'auto', fullIfOlderThan: parseTimeString('3M', now), compress: true,
      volumeSizeBytes: 200 * 1024 * 1024, tempdir: join(work, 'tmp'), maxBlockSize: 2048, allowSourceMismatch: false,
      dryRun: false, clock: () => now * 1000, ...quiet,
    }));
    assert.equal(result.time, now);
    if (theirType !== null) assert.equal(result.type, await theirType, `day ${d}: --full-if-older-than 3M`);
    if (d === 91) assert.equal(result.type, 'full');
    if (result.type === 'full') fulls++; else incrementals++;
    states.set(now, treeState(source));

    const stored = listing(targetDir).reduce((sum, name) => sum + statSync(join(targetDir, name)).size, 0);
    maxStored = Math.max(maxStored, stored);
    sumStored += stored;
    if (weekly) {
      const collection = buildCollection(listing(targetDir), listing(join(archiveDir, NAME)));
      maxFullsKept = Math.max(maxFullsKept, collection.backupChains.length);
      // the oldest backup left is the one retention could most easily have broken
      const oldest = collection.backupChains[0].fullSet.endTime;
      await timed('restore', () => restoreAndCompare(url, archiveDir, oldest, states.get(oldest)!, `day ${d}`));
    }
  }
  await Promise.all(comparisons);
  assert.ok(compared >= Math.floor(DAYS / 7));

  // every backup that remains restores to the tree it was made of
  const collection = buildCollection(listing(targetDir), listing(join(archiveDir, NAME)));
  let restored = 0;
  for (const chain of collection.backupChains) {
    for (const set of chainSets(chain)) {
      await restoreAndCompare(url, archiveDir, set.endTime, states.get(set.endTime)!, 'end');
      restored++;
    }
  }
  const chains = collection.backupChains.map((c) => c.incrementalSets.length);
  const finalStored = listing(targetDir).reduce((sum, name) => sum + statSync(join(targetDir, name)).size, 0);
  const byKind = { volumes: 0, signatures: 0, manifests: 0 };
  for (const name of listing(targetDir)) {
    const kind = name.includes('.difftar') ? 'volumes' : name.includes('.sigtar') ? 'signatures' : 'manifests';
    byKind[kind] += statSync(join(targetDir, name)).size;
  }
  const figures = {
    days: DAYS, fulls, incrementals, chainsKept: chains.length, incrementalsPerChain: chains, maxFullsKept,
    sourceBytes, storedAtEnd: finalStored, timesStoredAtEnd: +(finalStored / sourceBytes).toFixed(2),
    timesStoredMax: +(maxStored / sourceBytes).toFixed(2), storedAtEndByKind: byKind,
    dataVolumesTimesSourceAtEnd: +(byKind.volumes / sourceBytes).toFixed(2), timesStoredAverage: +(sumStored / DAYS / sourceBytes).toFixed(2),
    weeklyComparisons: compared, restoredAtEnd: restored, seconds: (Date.now() - started) / 1000, millisecondsSpent: spent,
  };
  t.diagnostic(JSON.stringify(figures));
  if (debug) process.stderr.write(`\nretention simulation: ${JSON.stringify(figures, null, 2)}\n`);
  // the schedule's shape: 9 fulls in 730 days, 8 or 9 chains within 2 years, incrementals for the newest 2
  if (DAYS !== 730) return;
  assert.equal(fulls, 9);
  assert.ok(chains.length >= 8 && chains.length <= 9, `${chains.length} chains kept`);
  assert.ok(chains.slice(0, -2).every((n) => n === 0));
  simulated = { url, targetDir, archiveDir, states };
});

test('a retention run killed with SIGKILL at random points, then re-run: kept backups restore, the target converges', async (t) => {
  if (!requireProgram(t, 'duplicity') || simulated === null) return;
  const child = new URL('../support/retention-child.js', import.meta.url).pathname;
  const random = createRandom(7);
  const commands: RetentionCommand[] = [{ kind: 'remove-all-but-n-full', count: 3 }, { kind: 'remove-all-inc-of-but-n-full', count: 1 }];
  for (let round = 0; round < 4; round++) {
    const copy = join(work, `kill-${round}`);
    linkTree(simulated.targetDir, join(copy, 'target'));
    linkTree(simulated.archiveDir, join(copy, 'cache'));
    const url = `file://${join(copy, 'target')}`;
    const archiveDir = join(copy, 'cache');
    const command = commands[round % commands.length];
    // the planned end state, by names
    const before = buildCollection(listing(join(copy, 'target')), listing(join(archiveDir, NAME)));
    const plan = planRetention(command, { collection: before, localNames: listing(join(archiveDir, NAME)) });
    const planned = new Set(listing(join(copy, 'target')));
    for (const step of plan.steps) for (const name of step.remote) planned.delete(name);
    const deletions = plan.steps.reduce((n, s) => n + s.local.length + s.remote.length, 0);
    assert.ok(deletions > 10);
    const killAfter = 1 + (random() % (deletions - 1));

    const seen = await new Promise<number>((resolve, reject) => {
      const proc = spawn(process.execPath, [child, url, archiveDir, NAME, JSON.stringify(command)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let lines = 0;
      let buffer = '';
      proc.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const parts = buffer.split('\n');
        buffer = parts.pop()!;
        lines += parts.filter((l) => l.startsWith('deleting ')).length;
        if (lines >= killAfter) proc.kill('SIGKILL');
      });
      proc.on('error', reject);
      proc.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve(lines) : reject(new Error(`the child was not killed (${lines} deletions)`))));
    });
    assert.ok(seen >= killAfter);

    // every backup the plan keeps still restores
    const keptChains = before.backupChains.filter((c) => !plan.backupChains.includes(c) || command.kind === 'remove-all-inc-of-but-n-full');
    const mid = buildCollection(listing(join(copy, 'target')), listing(join(archiveDir, NAME)));
    for (const chain of keptChains) {
      const sets = command.kind === 'remove-all-inc-of-but-n-full' && plan.backupChains.includes(chain) ? [chain.fullSet] : chainSets(chain);
      const still = mid.backupChains.find((c) => c.fullSet.startTime === chain.fullSet.startTime);
      assert.ok(still !== undefined, `round ${round}: chain ${chain.fullSet.startTime} is still complete`);
      for (const set of [sets[0], sets.at(-1)!]) await restoreAndCompare(url, archiveDir, set.endTime, simulated.states.get(set.endTime)!, `kill ${round}`);
    }
    // the re-run finishes the job
    const target = await openTarget(url, { archiveDir, name: NAME, sync: false, notice: () => undefined });
    await runRetention({ target, command, force: true, ...quiet });
    assert.deepEqual(listing(join(copy, 'target')), [...planned].sort(), `round ${round}: killed after ${seen} deletions, the re-run converges`);
    rmSync(copy, { recursive: true, force: true });
  }
});

test('without --force no command deletes anything, Lifeboat and duplicity alike', async (t) => {
  if (!requireProgram(t, 'duplicity') || simulated === null) return;
  const copy = join(work, 'noforce');
  linkTree(simulated.targetDir, join(copy, 'target'));
  linkTree(simulated.archiveDir, join(copy, 'cache'));
  // something for cleanup to find: an incomplete set, an orphaned signature file, a .part file
  writeFileSync(join(copy, 'target', 'duplicity-full.20300101T000000Z.vol1.difftar.gz'), 'x');
  writeFileSync(join(copy, 'target', 'duplicity-new-signatures.20300101T000000Z.to.20300102T000000Z.sigtar.gz'), 'x');
  writeFileSync(join(copy, 'cache', NAME, 'duplicity-full-signatures.20300101T000000Z.sigtar.part'), 'x');
  const url = `file://${join(copy, 'target')}`;
  const snapshot = () => [...listing(join(copy, 'target')), ...listing(join(copy, 'cache', NAME)).map((n) => `cache/${n}`)];
  const before = snapshot();
  const common = ['--no-encryption', '--archive-dir', join(copy, 'cache'), '--name', NAME, url];
  const actions = [['remove-older-than', '1D'], ['remove-older-than', 'now'], ['remove-all-but-n-full', '1'], ['remove-all-inc-of-but-n-full', '1'], ['cleanup']];
  for (const action of actions) {
    const ours = await runMain(['duplicity', ...action, ...common]);
    assert.equal(ours.code, 0, ours.stderr);
    assert.match(ours.stdout, /Rerun command with --force option to actually delete\.|Run duplicity again with the --force option to actually delete\./, action.join(' '));
    assert.deepEqual(snapshot(), before, `lifeboat duplicity ${action.join(' ')} without --force`);
  }
  // duplicity's listing names the same chains
  for (const action of actions.slice(2, 4)) {
    const ours = await runMain(['duplicity', ...action, ...common]);
    const theirs = ok(await run('duplicity', [...action, ...common]));
    const chainsListed = (text: string) => text.slice(text.indexOf('Found old backup chain')).split('\n').filter((l) => /^\w{3} \w{3} [ \d]\d /.test(l));
    assert.deepEqual(chainsListed(ours.stdout), chainsListed(theirs.stdout), action.join(' '));
  }
  // and --force does delete (the cleanup finds exactly the three planted files)
  const cleaned = await runMain(['duplicity', 'cleanup', '--force', ...common]);
  assert.equal(cleaned.code, 0, cleaned.stderr);
  assert.deepEqual(snapshot(), before.filter((n) => !n.includes('2030')));
});

test('remove-older-than, remove-all-but-n-full and cleanup with --force delete what duplicity deletes', async (t) => {
  if (!requireProgram(t, 'duplicity') || simulated === null) return;
  const last = Math.max(...simulated.states.keys());
  const cases: { args: string[]; plant?: boolean }[] = [
    { args: ['remove-older-than', String(last - 365 * DAY)] },
    { args: ['remove-older-than', String(last - 100 * DAY)] },
    { args: ['remove-all-but-n-full', '3'] },
    { args: ['remove-all-inc-of-but-n-full', '1'] },
    { args: ['cleanup'], plant: true },
  ];
  for (const [i, { args, plant }] of cases.entries()) {
    const copies = ['ours', 'theirs'].map((who) => {
      const dir = join(work, `force-${i}-${who}`);
      linkTree(simulated!.targetDir, join(dir, 'target'));
      linkTree(simulated!.archiveDir, join(dir, 'cache'));
      if (plant) {
        // an orphaned incremental (a real manifest, so duplicity can read it), an incomplete set, an orphaned signature
        const manifest = listing(join(dir, 'target')).find((n) => n.startsWith('duplicity-inc.') && n.endsWith('.manifest'))!;
        cpSync(join(dir, 'target', manifest), join(dir, 'target', 'duplicity-inc.20230615T120000Z.to.20230616T120000Z.manifest'));
        writeFileSync(join(dir, 'target', 'duplicity-inc.20230615T120000Z.to.20230616T120000Z.vol1.difftar.gz'), 'x');
        writeFileSync(join(dir, 'target', 'duplicity-full.20300101T000000Z.vol1.difftar.gz'), 'x');
        writeFileSync(join(dir, 'target', 'duplicity-new-signatures.20300101T000000Z.to.20300102T000000Z.sigtar.gz'), 'x');
      }
      return dir;
    });
    const common = (dir: string) => ['--no-encryption', '--force', '--archive-dir', join(dir, 'cache'), '--name', NAME, `file://${join(dir, 'target')}`];
    const ours = await runMain(['duplicity', ...args, ...common(copies[0])]);
    assert.equal(ours.code, 0, ours.stderr);
    ok(await duplicityServer().send([...args, ...common(copies[1])]));
    const left = listing(join(copies[0], 'target'));
    assert.deepEqual(left, listing(join(copies[1], 'target')), args.join(' '));
    assert.ok(left.length < listing(simulated.targetDir).length + (plant ? 4 : 0), `${args.join(' ')} deleted something`);
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  }
});
