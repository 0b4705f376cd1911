// End to end through a backend, as a user runs it: `lifeboat duplicity full`, a change, an
// incremental, then restores by Lifeboat (latest and at the full's time) with an empty archive dir,
// so everything comes back from the target; trees are compared line by line (describeTree).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTree, mutateTree } from './make-tree.js';
import { lifeboatBin, oracleEnv, runProgram, type Run } from './run.js';
import { describeTree, asRestored, assertSameTree } from './tree.js';

export function lifeboat(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  return runProgram(process.execPath, [lifeboatBin, 'duplicity', '--no-encryption', '--no-print-statistics', ...args], { ...oracleEnv, ...env });
}

export function ok(r: Run): Run {
  if (r.code !== 0) assert.fail(`exit ${r.code}: ${r.command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

/** Runs the round trip against `url`, credentials in `env` (never in the arguments). */
export async function backupRoundTrip(url: string, env: NodeJS.ProcessEnv, extraArgs: string[] = []): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'lifeboat-round-trip-'));
  try {
    const source = join(work, 'source');
    const cache = join(work, 'cache');
    await makeTree(source);
    const before = asRestored(await describeTree(source));
    ok(await lifeboat(env, ...extraArgs, '--archive-dir', cache, 'full', source, url));
    await mutateTree(source);
    const after = asRestored(await describeTree(source));
    await sleep(1100); // set times are whole seconds and must increase
    ok(await lifeboat(env, ...extraArgs, '--archive-dir', cache, 'incremental', source, url));

    const status = ok(await lifeboat(env, ...extraArgs, '--archive-dir', join(work, 'status-cache'), 'collection-status', url));
    assert.match(status.stdout, /Full\s+.*\n\s*Incremental\s+/, `one full and one incremental:\n${status.stdout}`);

    const latest = join(work, 'restored-latest');
    ok(await lifeboat(env, ...extraArgs, '--archive-dir', join(work, 'restore-cache'), 'restore', url, latest));
    assertSameTree(await describeTree(latest), after, 'restore of the incremental');

    const atFull = join(work, 'restored-at-full');
    ok(await lifeboat(env, ...extraArgs, '--archive-dir', join(work, 'restore-cache-2'), 'restore', '--time', fullTime(status.stdout), url, atFull));
    assertSameTree(await describeTree(atFull), before, 'restore at the full\'s time');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** the full set's time, from collection-status ("Full  Tue Nov 26 10:00:00 2026  1") as an epoch */
function fullTime(status: string): string {
  const m = /^\s*Full\s+(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\s+\d+\s*$/m.exec(status);
  assert.ok(m, `a full's time in:\n${status}`);
  return String(Math.floor(Date.parse(`${m[1]} UTC`) / 1000));
}
