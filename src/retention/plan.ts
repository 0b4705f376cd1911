// The retention planner (duply's purge*, duplicity's remove-* and cleanup): a pure function from the
// collection (sets, chains, signature chains) and the archive dir's listing to an ordered list of
// deletions, with the lines duplicity 0.8 prints. Which chains go is duplicity's rule
// (dup_main.remove_old / cleanup, dup_collections.get_chains_older_than / get_extraneous); the order
// is Lifeboat's, chosen so that a run killed after any single deletion leaves a target whose kept
// backups all restore, and a re-run finishes the job:
//   * chains newest first, within a chain the newest incremental first, the full set last;
//   * within a set: the archive dir's copies, its signature file, then the manifest (the set turns
//     incomplete, never a chain with a hole in the middle), then the volumes (highest first);
//   * a re-run also removes incomplete sets older than the removal time (the leftovers of a run
//     killed between a manifest and its volumes), which duplicity itself would leave to `cleanup`.
import {
  chainSets, remoteSetNames, type BackupChain, type BackupSet, type Collection, type SignatureChain,
} from '../duplicity/collection.js';
import { parseArchiveName, type ArchiveName } from '../duplicity/file-names.js';
import { formatHumanTime, type TimeZone } from '../duplicity/time.js';

export type RetentionCommand =
  | { kind: 'remove-older-than'; time: number }
  | { kind: 'remove-all-but-n-full'; count: number }
  | { kind: 'remove-all-inc-of-but-n-full'; count: number }
  | { kind: 'cleanup' };

/** One unit of deletion: the archive dir's files first, then the target's, each in the given order. */
export interface DeletionStep {
  /** what the step removes, for messages and tests */
  what: string;
  local: string[];
  remote: string[];
  /** the backup chain a set step belongs to (its index in the plan's order); none for other steps */
  chain?: number;
}

export interface RetentionPlan {
  command: RetentionCommand;
  /** the time sets must be older than (remove-*); null for cleanup */
  removeTime: number | null;
  /** complete backup chains that go (or, incrementals-only, whose incrementals go), oldest first */
  backupChains: BackupChain[];
  /** signature chains that go (whole, or their new-signature files), oldest first */
  signatureChains: SignatureChain[];
  /** sets older than the removal time that stay because newer sets depend on them */
  requiredSets: BackupSet[];
  /** the newest (active) chain is older than the removal time and stays */
  activeChainKept: boolean;
  /** incomplete sets older than the removal time (left by an interrupted removal); Lifeboat only */
  leftoverSets: BackupSet[];
  /** cleanup: the extraneous file names duplicity lists (remote, then local) */
  extraneous: string[];
  /** every deletion, in execution order */
  steps: DeletionStep[];
}

export interface RetentionInput {
  collection: Collection;
  /** the archive dir's file names */
  localNames: readonly string[];
}

export function planRetention(command: RetentionCommand, input: RetentionInput): RetentionPlan {
  switch (command.kind) {
    case 'remove-older-than':
      return planRemoveOlder(command, input, command.time, false);
    case 'remove-all-but-n-full':
      return planRemoveOlder(command, input, nthLastFullTime(input.collection, command.count), false);
    case 'remove-all-inc-of-but-n-full':
      return planRemoveOlder(command, input, nthLastFullTime(input.collection, command.count), true);
    case 'cleanup':
      return planCleanup(command, input);
  }
}

/** The start time of the n-th newest full backup; 0 (nothing is older) when there are fewer chains. */
export function nthLastFullTime(collection: Collection, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('the count must be a whole number > 0');
  const fulls = collection.backupChains.map((c) => c.fullSet.startTime).sort((a, b) => b - a);
  return fulls[n - 1] ?? 0;
}

/** duplicity's BackupSet.get_time: a full's time, an incremental's end time. */
function setTime(set: BackupSet): number {
  return set.endTime;
}

/** The primary chain's end as duplicity keeps it: a discarded last incremental still counts. */
function chainEnd(chain: BackupChain, collection: Collection): number {
  if (collection.primary?.backupChain === chain && collection.discardedSet !== null) {
    return Math.max(chain.endTime, collection.discardedSet.endTime);
  }
  return chain.endTime;
}

function planRemoveOlder(command: RetentionCommand, input: RetentionInput, t: number, incrementalsOnly: boolean): RetentionPlan {
  const { collection } = input;
  const primary = collection.primary;
  const requiredSets = collection.backupChains
    .filter((c) => chainEnd(c, collection) >= t)
    .flatMap((c) => chainSets(c).filter((s) => setTime(s) < t))
    .sort((a, b) => setTime(a) - setTime(b));
  const activeChainKept = primary !== null && primary.backupChain.endTime < t;
  let backupChains = collection.backupChains.filter((c) => c.endTime < t && c !== primary?.backupChain);
  if (incrementalsOnly) backupChains = backupChains.filter((c) => c.incrementalSets.length > 0);
  // Lifeboat keeps every signature chain of the active chain: duplicity deletes the remote one when the
  // active chain is older than the removal time and the local copy is the matched one, and a stale
  // local copy (shorter than the remote chain) whenever it ends before the removal time.
  const activeStart = primary?.backupChain.startTime;
  const signatureChains = backupChains.length === 0 ? [] : collection.signatureChains.filter(
    (c) => c.endTime < t && c !== primary?.signatureChain && c.startTime !== activeStart,
  );

  const steps: DeletionStep[] = [];
  if (backupChains.length > 0) {
    const fullSigs: { local: string[]; remote: string[] } = { local: [], remote: [] };
    const newSigsOrdered: { location: 'local' | 'remote'; name: string }[] = [];
    for (const chain of [...signatureChains].reverse()) {
      for (const s of [...chain.newSignatures].reverse()) {
        newSigsOrdered.push({ location: chain.location, name: s.name });
      }
      if (!incrementalsOnly) fullSigs[chain.location].push(chain.fullSignatureName);
    }
    // which remote signature file goes with which set
    const sigOf = new Map<string, string>();
    for (const chain of signatureChains) {
      if (chain.location !== 'remote') continue;
      if (!incrementalsOnly) sigOf.set(`full ${chain.startTime} ${chain.startTime}`, chain.fullSignatureName);
      for (const s of chain.newSignatures) sigOf.set(`inc ${s.startTime} ${s.endTime}`, s.name);
    }
    const setSteps: DeletionStep[] = [];
    const claimed = new Set<string>();
    for (const [chainIndex, chain] of [...backupChains].reverse().entries()) {
      const sets = incrementalsOnly ? [...chain.incrementalSets] : chainSets(chain);
      for (const set of sets.reverse()) {
        const local = localFilesOf(set, input.localNames);
        const volumesAndManifest = [...remoteSetNames(set).reverse()];
        const sig = sigOf.get(`${set.type} ${set.startTime} ${set.endTime}`);
        // the signature file goes before the manifest: a run killed in between leaves a complete set
        // (deleted again by a re-run), never a signature file that no remove would find again
        const remote = sig === undefined ? volumesAndManifest : [sig, ...volumesAndManifest];
        for (const n of [...local, ...(sig === undefined ? [] : [sig])]) claimed.add(n);
        setSteps.push({ what: `${set.type} set ${describeSet(set)}`, local, remote, chain: chainIndex });
      }
    }
    // signature files without a set first (newest first), so no new-signature file outlives its full one
    for (const s of newSigsOrdered.filter((n) => !claimed.has(n.name))) {
      steps.push({ what: `signature file ${s.name}`, local: s.location === 'local' ? [s.name] : [], remote: s.location === 'remote' ? [s.name] : [] });
    }
    steps.push(...setSteps);
    for (const name of fullSigs.local.filter((n) => !claimed.has(n))) steps.push({ what: `signature file ${name}`, local: [name], remote: [] });
    for (const name of fullSigs.remote.filter((n) => !claimed.has(n))) steps.push({ what: `signature file ${name}`, local: [], remote: [name] });
  }
  // leftovers of an interrupted removal: sets older than t that lost their manifest
  const leftoverSets: BackupSet[] = [];
  for (const set of collection.incompleteSets) {
    if (set === collection.discardedSet || set.partial || set.manifestName !== null || set.endTime >= t) continue;
    if (incrementalsOnly && set.type === 'full') continue;
    leftoverSets.push(set);
    steps.push({ what: `incomplete ${set.type} set ${describeSet(set)}`, local: localFilesOf(set, input.localNames).filter((n) => !isSignature(n)), remote: [...remoteSetNames(set).reverse()] });
  }
  return { command, removeTime: t, backupChains, signatureChains, requiredSets, activeChainKept, leftoverSets, extraneous: [], steps: dedupe(steps) };
}

function planCleanup(command: RetentionCommand, input: RetentionInput): RetentionPlan {
  const { collection } = input;
  const steps: DeletionStep[] = [];
  const extraneousRemote: string[] = [];
  const extraneousLocal: string[] = [];
  // duplicity deletes a partial last set (an interrupted run it would otherwise resume) first
  const lastChain = [...collection.backupChains].sort((a, b) => a.fullSet.startTime - b.fullSet.startTime).at(-1);
  const lastSet = lastChain === undefined ? undefined : chainSets(lastChain).at(-1);
  const partialSets = lastSet?.partial === true ? [lastSet] : [];
  for (const set of [...partialSets, ...collection.orphanedSets, ...collection.incompleteSets]) {
    const remote = remoteSetNames(set);
    extraneousRemote.push(...remote);
    const local = localFilesOf(set, input.localNames).filter((n) => set.partial || !isSignature(n));
    extraneousLocal.push(...local.filter((n) => set.partial));
    steps.push({ what: `${set.partial ? 'partial' : 'extraneous'} ${set.type} set ${describeSet(set)}`, local, remote: [...remote].reverse() });
  }
  for (const name of collection.orphanedRemoteSignatureNames) {
    extraneousRemote.push(name);
    steps.push({ what: `orphaned signature file ${name}`, local: [], remote: [name] });
  }
  for (const name of collection.orphanedLocalSignatureNames) {
    extraneousLocal.push(name);
    steps.push({ what: `orphaned signature file ${name}`, local: [name], remote: [] });
  }
  // every other `.part` file in the archive dir: Lifeboat never resumes from one, duplicity only the last
  const claimed = new Set(steps.flatMap((s) => s.local));
  for (const name of input.localNames) {
    if (!claimed.has(name) && parseArchiveName(name)?.partial === true) {
      extraneousLocal.push(name);
      steps.push({ what: `partial file ${name}`, local: [name], remote: [] });
    }
  }
  const plan = dedupe(steps);
  return {
    command, removeTime: null, backupChains: [], signatureChains: [], requiredSets: [], activeChainKept: false, leftoverSets: [],
    extraneous: unique([...extraneousLocal, ...extraneousRemote]), steps: plan,
  };
}

/** The archive dir's files with the set's times, as duplicity's BackupSet.delete finds them. */
export function localFilesOf(set: BackupSet, localNames: readonly string[]): string[] {
  return localNames.filter((name) => {
    const parsed = parseArchiveName(name);
    if (parsed === null) return false;
    const [start, end, full] = timesOf(parsed);
    return full === (set.type === 'full') && start === set.startTime && end === set.endTime;
  });
}

function timesOf(parsed: ArchiveName): [number, number, boolean] {
  return 'time' in parsed ? [parsed.time, parsed.time, true] : [parsed.startTime, parsed.endTime, false];
}

function isSignature(name: string): boolean {
  const kind = parseArchiveName(name)?.kind;
  return kind === 'full-signature' || kind === 'new-signature';
}

function describeSet(set: BackupSet): string {
  return set.type === 'full' ? String(set.startTime) : `${set.startTime}..${set.endTime}`;
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

/** Each name once, in its first step; empty steps dropped. */
function dedupe(steps: DeletionStep[]): DeletionStep[] {
  const seen = new Set<string>();
  const out: DeletionStep[] = [];
  for (const step of steps) {
    const local = step.local.filter((n) => !seen.has(`l:${n}`));
    const remote = step.remote.filter((n) => !seen.has(`r:${n}`));
    for (const n of local) seen.add(`l:${n}`);
    for (const n of remote) seen.add(`r:${n}`);
    if (local.length + remote.length > 0) out.push({ ...step, local, remote });
  }
  return out;
}

export interface PlanMessages {
  warnings: string[];
  notices: string[];
}

/** The lines duplicity 0.8.22 prints for the plan, with or without --force. */
export function planMessages(plan: RetentionPlan, options: { force: boolean; timeZone?: TimeZone }): PlanMessages {
  const pretty = (t: number) => formatHumanTime(t, options.timeZone);
  const warnings: string[] = [];
  const notices: string[] = [];
  if (plan.command.kind === 'cleanup') {
    if (plan.steps.length === 0) {
      warnings.push('No extraneous files found, nothing deleted in cleanup.');
    } else {
      const list = (plan.extraneous.length > 0 ? plan.extraneous : plan.steps.flatMap((s) => [...s.local, ...s.remote])).join('\n');
      const one = plan.extraneous.length === 1;
      notices.push(options.force
        ? `${one ? 'Deleting this file from backend:' : 'Deleting these files from backend:'}\n${list}`
        : `${one ? 'Found the following file to delete:' : 'Found the following files to delete:'}\n${list}\nRun duplicity again with the --force option to actually delete.`);
    }
    return { warnings, notices };
  }
  if (plan.requiredSets.length > 0) {
    warnings.push(`There are backup set(s) at time(s):\n${plan.requiredSets.map((s) => pretty(setTime(s))).join('\n')}\nWhich can't be deleted because newer sets depend on them.`);
  }
  if (plan.activeChainKept) {
    warnings.push('Current active backup chain is older than specified time.  However, it will not be deleted.  To remove all your backups, manually purge the repository.');
  }
  if (plan.leftoverSets.length > 0) {
    const times = plan.leftoverSets.map((s) => pretty(setTime(s))).join('\n');
    notices.push(options.force
      ? `Deleting incomplete backup sets left by an interrupted removal:\n${times}`
      : `Found incomplete backup sets left by an interrupted removal:\n${times}\nRerun command with --force option to actually delete.`);
  }
  const chains = plan.backupChains;
  if (chains.length === 0) {
    notices.push('No old backup sets found, nothing deleted.');
    return { warnings, notices };
  }
  const times = chains.map((c) => pretty(c.endTime)).join('\n');
  if (!options.force) {
    notices.push(`${chains.length === 1 ? 'Found old backup chain at the following time:' : 'Found old backup chains at the following times:'}\n${times}\nRerun command with --force option to actually delete.`);
    return { warnings, notices };
  }
  notices.push(`${chains.length === 1 ? 'Deleting backup chain at time:' : 'Deleting backup chains at times:'}\n${times}`);
  const incOnly = plan.command.kind === 'remove-all-inc-of-but-n-full';
  // duplicity's order: signature chains newest first, then backup chains newest first
  for (const chain of [...plan.signatureChains].reverse()) {
    notices.push(`${incOnly ? 'Deleting any incremental signature chain rooted at' : 'Deleting complete signature chain'} ${pretty(chain.endTime)}`);
  }
  for (const chain of [...chains].reverse()) {
    notices.push(`${incOnly ? 'Deleting any incremental backup chain rooted at' : 'Deleting complete backup chain'} ${pretty(chain.endTime)}`);
  }
  return { warnings, notices };
}
