// Carries out a retention plan against a target: duplicity's remove-older-than, remove-all-but-n-full,
// remove-all-inc-of-but-n-full and cleanup. Without `force` nothing is deleted; the plan is listed.
// Deletions go one file at a time in the plan's order (src/retention/plan.ts), so a run killed at any
// point leaves every kept backup restorable, and running the command again finishes the job.
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { listArchiveDir } from '../cache/archive-dir.js';
import { buildCollection, lastFullBackupTime } from '../duplicity/collection.js';
import { formatHumanTime } from '../duplicity/time.js';
import { planMessages, planRetention, type RetentionCommand, type RetentionPlan } from '../retention/plan.js';
import type { Target } from './target.js';

export interface RetentionOptions {
  target: Target;
  command: RetentionCommand;
  /** delete; without it only list (duplicity's --force) */
  force: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
  notice(line: string): void;
  warning(line: string): void;
  /**
   * the target's listing when the caller knows it is current (from openTarget, or the previous run's
   * `remoteNamesAfter`); default: list the target afresh
   */
  remoteNames?: readonly string[];
  /** called before each single deletion (tests interrupt runs here) */
  beforeDelete?(where: 'local' | 'remote', name: string): void | Promise<void>;
}

export interface RetentionResult {
  plan: RetentionPlan;
  deletedRemote: string[];
  deletedLocal: string[];
  /** steps kept because a file of theirs is under object lock: a later run deletes them */
  locked: { what: string; until: Date }[];
  /** the target's listing after the run */
  remoteNamesAfter: string[];
}

export async function runRetention(options: RetentionOptions): Promise<RetentionResult> {
  const { target } = options;
  let remoteNames = options.remoteNames === undefined ? undefined : [...options.remoteNames];
  if (remoteNames === undefined) {
    remoteNames = [];
    for await (const { name } of target.backend.list({ signal: options.signal })) remoteNames.push(name);
  }
  const localNames = await listArchiveDir(target.cacheDir);
  const collection = buildCollection(remoteNames, localNames);
  const lastFull = lastFullBackupTime(collection);
  options.notice(`Last full backup date: ${lastFull === null ? 'none' : formatHumanTime(lastFull)}`);
  const plan = planRetention(options.command, { collection, localNames });
  const messages = planMessages(plan, { force: options.force });
  for (const line of messages.warnings) options.warning(line);
  for (const line of messages.notices) options.notice(line);
  const result: RetentionResult = { plan, deletedRemote: [], deletedLocal: [], locked: [], remoteNamesAfter: remoteNames };
  if (!options.force || options.dryRun === true) return result;
  // object lock: a set with a locked file stays whole (and so do the older sets of its chain, which
  // it needs); it is still older than the removal time, so the next run plans it again
  let checkLocks = target.backend.lockedUntil !== undefined;
  const lockedChains = new Set<number>();
  for (const step of plan.steps) {
    if (step.chain !== undefined && lockedChains.has(step.chain)) {
      const until = result.locked.at(-1)!.until;
      result.locked.push({ what: step.what, until });
      options.warning(`Kept ${step.what}: a newer set of its chain, under object lock until ${until.toISOString()}, needs it; a later purge deletes it.`);
      continue;
    }
    let until: Date | null = null;
    for (const name of checkLocks ? step.remote : []) {
      options.signal?.throwIfAborted();
      const lock = await target.backend.lockedUntil!(name, { signal: options.signal });
      // the backend cannot tell: deletes go ahead, and the store refuses what is locked
      if (lock === undefined) { checkLocks = false; break; }
      if (lock !== null && (until === null || lock > until)) until = lock;
    }
    if (until !== null) {
      result.locked.push({ what: step.what, until });
      if (step.chain !== undefined) lockedChains.add(step.chain);
      options.warning(`Kept ${step.what}: under object lock until ${until.toISOString()}; a later purge deletes it.`);
      continue;
    }
    for (const name of step.local) {
      options.signal?.throwIfAborted();
      await options.beforeDelete?.('local', name);
      await unlink(join(target.cacheDir, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      result.deletedLocal.push(name);
    }
    for (const name of step.remote) {
      options.signal?.throwIfAborted();
      await options.beforeDelete?.('remote', name);
      await target.backend.delete([name], { signal: options.signal });
      result.deletedRemote.push(name);
    }
  }
  const deleted = new Set(result.deletedRemote);
  result.remoteNamesAfter = remoteNames.filter((n) => !deleted.has(n));
  return result;
}
