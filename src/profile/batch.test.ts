import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandBatch, runBatch, tokenContext } from './batch.js';
import { ProfileError } from './conf.js';

const none = {};

test('expands separators, brackets, macros and case as duply does', () => {
  assert.deepEqual(expandBatch('pre+bkp-post', none), ['pre', 'and', 'bkp', 'or', 'post']);
  assert.deepEqual(expandBatch('BKP_Status', none), ['bkp', 'status']);
  assert.deepEqual(expandBatch('backup', none), ['groupin', 'pre', 'bkp', 'post', 'groupout']);
  assert.deepEqual(expandBatch('pre_and_groupIn_bkp_or_verify_groupOut_post', none),
    ['pre', 'and', 'groupin', 'bkp', 'or', 'verify', 'groupout', 'post']);
  assert.deepEqual(expandBatch('purgeAuto', { maxAge: '1Y', maxFullsWithIncrs: '2' }), ['groupin', 'purge', 'purgeincr', 'groupout']);
  assert.deepEqual(expandBatch('bkp_', none), ['bkp'], 'one trailing separator makes no token');
});

test("duply's own bracket example works (duply 2.4.1 fails on it with an empty command)", () => {
  assert.deepEqual(expandBatch('pre+[bkp-verify]_post', none), ['pre', 'and', 'groupin', 'bkp', 'or', 'verify', 'groupout', 'post']);
  assert.deepEqual(expandBatch('[pre_post]', none), ['groupin', 'pre', 'post', 'groupout']);
});

test('unknown commands, "__", an empty batch and purgeAuto without settings are fatal before anything runs', () => {
  for (const [batch, message] of [['bkp_nonsense', /Unknown command 'nonsense'/], ['pre__post', /Unknown command ''/], ['', /No command given/], ['purgeAuto', /neither of the purge conf vars/], ['create_bkp', /Unknown command 'create'/]] as const) {
    assert.throws(() => expandBatch(batch, none), (err: unknown) => err instanceof ProfileError && message.test(err.message) && err.exitCode === 255, batch);
  }
});

async function trace(batch: string, failing: Record<string, number>, preview = false) {
  const ran: string[] = [];
  const skipped: string[] = [];
  const seen: Record<string, unknown>[] = [];
  const ok = await runBatch(expandBatch(batch, none), {
    preview,
    skipped: (t) => skipped.push(t),
    execute: async (t, context) => {
      ran.push(t);
      seen.push({ token: t, ...context });
      return failing[t] ?? 0;
    },
  });
  return { ran, skipped, ok, seen };
}

test('backup runs bkp and post even when pre fails, and the run fails', async () => {
  const r = await trace('backup', { pre: 3 });
  assert.deepEqual(r.ran, ['pre', 'bkp', 'post']);
  assert.equal(r.ok, false);
});

test('"+" skips exactly the next command or group when the previous one failed (duply skipped one more)', async () => {
  assert.deepEqual((await trace('pre+bkp+post', { pre: 1 })).ran, ['pre'], 'pre+bkp+post: a failed pre skips bkp; the failed chain skips post');
  assert.deepEqual((await trace('pre+post_post', { pre: 1 })).ran, ['pre', 'post'], 'only the first post is skipped');
  assert.deepEqual((await trace('pre+backup_status', { pre: 1 })).ran, ['pre', 'status'], 'the whole backup group is skipped, status runs');
  assert.deepEqual((await trace('pre-post_post', {})).ran, ['pre', 'post'], '"-" after success skips one post');
  assert.deepEqual((await trace('pre-post', { pre: 3 })).ran, ['pre', 'post']);
  assert.equal((await trace('pre-post', { pre: 3 })).ok, false, 'a failure "handled" by - still fails the run, as in duply');
  assert.deepEqual((await trace('pre+bkp', { pre: 1 }, true)).ran, ['pre', 'bkp'], 'preview never skips');
});

test("scripts see duply's CMD_PREV, CMD_NEXT, CND_* and CMD_ERR (specs/duply.md §9.2 table)", async () => {
  const backup = await trace('backup', { bkp: 7 });
  assert.deepEqual(backup.seen.map((s) => [s.token, s.CMD_PREV, s.CMD_NEXT, s.CMD_ERR]), [
    ['pre', 'START', 'bkp', undefined], ['bkp', 'START', 'post', '0'], ['post', 'pre', 'END', '7'],
  ]);
  const plain = await trace('pre_bkp_post', {});
  assert.deepEqual(plain.seen.map((s) => [s.CMD_PREV, s.CMD_NEXT]), [['START', 'bkp'], ['pre', 'post'], ['bkp', 'END']]);
  assert.equal(tokenContext(expandBatch('pre+bkp-post', none), 0, 0).CND_NEXT, 'and');
  const orRun = await trace('pre-post', { pre: 3 });
  assert.deepEqual([orRun.seen[1].CMD_PREV, orRun.seen[1].CMD_ERR, orRun.seen[1].CND_PREV], ['pre', '3', 'or']);
  const twoPosts = await trace('pre+post_post', {});
  assert.deepEqual([twoPosts.seen[2].CMD_PREV, twoPosts.seen[2].CND_PREV], ['pre', 'and']);
});
