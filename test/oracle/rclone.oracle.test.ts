// End to end through rclone://: `lifeboat duplicity full` and an incremental through the real rclone
// program to a local remote defined only in the environment; restored by Lifeboat and by duplicity
// 0.8's own rclone backend from the same URL, both compared with the source tree.
// DEBUG_ORACLE=1 prints every command with its output.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { makeTree, mutateTree } from '../support/make-tree.js';
import { requireProgram } from '../support/programs.js';
import { lifeboatBin, runProgram, type Run } from '../support/run.js';
import { describeTree, asRestored } from '../support/tree.js';

const work = mkdtempSync(join(tmpdir(), 'lifeboat-rclone-oracle-'));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;
const fresh = (label: string) => join(work, `${label}-${counter++}`);

const env: NodeJS.ProcessEnv = {
  ...process.env, TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', HOME: work,
  RCLONE_CONFIG: join(work, 'no-rclone.conf'), RCLONE_CONFIG_OFFSITE_TYPE: 'local',
};

function ok(r: Run): Run {
  if (process.env.DEBUG_ORACLE) process.stderr.write(`\n### ${r.command}\n${r.stdout}${r.stderr}`);
  if (r.code !== 0) assert.fail(`exit ${r.code}: ${r.command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

test('full + incremental through rclone; Lifeboat and duplicity restore them', async (t) => {
  if (!requireProgram(t, 'rclone') || !requireProgram(t, 'duplicity')) return;
  const source = fresh('source');
  await makeTree(source, { bigFileBytes: 2 * 1024 * 1024 });
  const before = await describeTree(source);
  const remoteDir = fresh('remote');
  const url = `rclone://offsite://${remoteDir.slice(1)}`;
  const cache = fresh('lifeboat-cache');
  const lifeboat = (...args: string[]) => runProgram(process.execPath, [lifeboatBin, 'duplicity', '--no-encryption', '--no-print-statistics', ...args], env);

  ok(await lifeboat('--archive-dir', cache, 'full', '--volsize', '1', source, url));
  const fullTime = readdirSync(remoteDir).find((n) => /^duplicity-full\.\d{8}T\d{6}Z\.manifest$/.test(n))!.slice(15, 31);
  await mutateTree(source);
  const changed = await describeTree(source);
  await sleep(1100 - (Date.now() % 1000));
  ok(await lifeboat('--archive-dir', cache, 'incr', '--volsize', '1', source, url));
  const files = readdirSync(remoteDir);
  assert.ok(files.filter((n) => n.includes('.vol')).length > 2, files.join('\n'));
  assert.ok(files.some((n) => /^duplicity-inc\..*\.manifest$/.test(n)), files.join('\n'));
  assert.ok(!files.some((n) => n.includes('.lifeboat-part-')), 'no temporary names left');

  const ours = fresh('lifeboat-restored');
  ok(await lifeboat('--archive-dir', fresh('lifeboat-cache'), 'restore', url, ours));
  assert.deepEqual(await describeTree(ours), asRestored(changed), 'Lifeboat restore through rclone');

  for (const [args, expected, label] of [[[], changed, 'latest'], [['--time', fullTime], before, 'the full']] as const) {
    const dest = fresh('duplicity-restored');
    ok(await runProgram('duplicity', ['restore', '--no-encryption', '--archive-dir', fresh('duplicity-cache'), ...args, url, dest], env));
    assert.deepEqual(await describeTree(dest), asRestored([...expected]), `duplicity restore (${label}) through rclone`);
  }
});
