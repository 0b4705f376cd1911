// Backup sets, backup chains and signature chains from file listings, matched as duplicity does (§1.6, §10.1).
import { ExitCode } from '../errors/exit-codes.js';
import { IntegrityError, LifeboatError } from '../errors/lifeboat-error.js';
import { parseArchiveName, type ArchiveName, type NamePrefixes } from './file-names.js';

/** The files of one backup run. */
export interface BackupSet {
  type: 'full' | 'inc';
  /** full: the backup time; inc: the end time of the set it extends */
  startTime: number;
  /** full: the backup time; inc: the time of this backup */
  endTime: number;
  /** data volumes, by volume number */
  volumes: { volumeNumber: number; name: string }[];
  /** the remote manifest, or the cache's `.part` manifest of an interrupted run; null: incomplete set */
  manifestName: string | null;
  /** the cache's (plain text) copy of the manifest, which duplicity reads in preference to the remote one */
  localManifestName: string | null;
  encrypted: boolean;
  /** an interrupted run (its manifest is a cache `.part` file) that the next backup would resume */
  partial: boolean;
}

/** A full set and the incremental sets that extend it, each starting where the previous one ended. */
export interface BackupChain {
  fullSet: BackupSet;
  incrementalSets: BackupSet[];
  startTime: number;
  endTime: number;
}

export interface SignatureChain {
  location: 'local' | 'remote';
  fullSignatureName: string;
  newSignatures: { name: string; startTime: number; endTime: number }[];
  startTime: number;
  endTime: number;
}

export interface Collection {
  /** every complete chain, oldest end time first (the primary one included) */
  backupChains: BackupChain[];
  /** the newest backup chain and the signature chain ending where it ends; null: none matches */
  primary: { backupChain: BackupChain; signatureChain: SignatureChain } | null;
  /** backupChains without the primary chain */
  secondaryChains: BackupChain[];
  /** local and remote signature chains, oldest end time first, local after remote on a tie */
  signatureChains: SignatureChain[];
  /** complete incremental sets that extend no chain */
  orphanedSets: BackupSet[];
  /** sets without a manifest, plus a last incremental discarded for lack of its signature file */
  incompleteSets: BackupSet[];
  /** that discarded incremental; duplicity still prints its end time as the primary chain's end */
  discardedSet: BackupSet | null;
  /** incrementals replaced by a later set with the same start ("Preferring Backupset over previous one") */
  supersededSets: BackupSet[];
  orphanedLocalSignatureNames: string[];
  orphanedRemoteSignatureNames: string[];
}

/**
 * Builds the collection from the remote listing and the archive dir (cache) listing. Names that are not
 * duplicity's are ignored; of the cache's files only `.part` manifests join sets (an interrupted run), and
 * cache manifests are remembered as the preferred copies.
 * @throws IntegrityError when one set has two files for the same volume or two manifests (duplicity asserts)
 */
export function buildCollection(
  remoteNames: readonly string[],
  localNames: readonly string[],
  options: { prefixes?: NamePrefixes } = {},
): Collection {
  const parse = (names: readonly string[]): ArchiveName[] =>
    names.map((n) => parseArchiveName(n, options.prefixes)).filter((p): p is ArchiveName => p !== null);
  const remote = parse(remoteNames);
  const local = parse(localNames);

  const sets = groupIntoSets([...local.filter((p) => p.partial), ...remote], local);
  const complete = sets.filter((s) => s.manifestName !== null).sort((a, b) => a.endTime - b.endTime);
  const incompleteSets = sets.filter((s) => s.manifestName === null);

  const chains: BackupChain[] = [];
  const orphanedSets: BackupSet[] = [];
  const supersededSets: BackupSet[] = [];
  for (const set of complete) {
    if (set.type === 'full') {
      chains.push({ fullSet: set, incrementalSets: [], startTime: set.startTime, endTime: set.endTime });
    } else if (!chains.some((chain) => extendChain(chain, set, supersededSets))) {
      orphanedSets.push(set);
    }
  }
  const backupChains = chains.sort((a, b) => a.endTime - b.endTime);

  const localSignatures = buildSignatureChains(local, 'local');
  const remoteSignatures = buildSignatureChains(remote, 'remote');
  const signatureChains = [...localSignatures.chains, ...remoteSignatures.chains].sort(
    (a, b) => a.endTime - b.endTime || rank(a) - rank(b),
  );

  let primary: Collection['primary'] = null;
  let discardedSet: BackupSet | null = null;
  const newest = backupChains.at(-1);
  if (newest !== undefined) {
    for (const signatureChain of [...signatureChains].reverse()) {
      if (signatureChain.endTime === newest.endTime) {
        primary = { backupChain: newest, signatureChain };
        break;
      }
      // only an incremental counts as "the set before last": a full set has no end time in duplicity
      const beforeLast = newest.incrementalSets.at(-2);
      if (beforeLast !== undefined && signatureChain.endTime === beforeLast.endTime) {
        discardedSet = newest.incrementalSets.pop() ?? null;
        if (discardedSet !== null) incompleteSets.push(discardedSet);
        newest.endTime = beforeLast.endTime;
        primary = { backupChain: newest, signatureChain };
        break;
      }
    }
  }

  return {
    backupChains,
    primary,
    secondaryChains: backupChains.filter((chain) => chain !== primary?.backupChain),
    signatureChains,
    orphanedSets,
    incompleteSets,
    discardedSet,
    supersededSets,
    orphanedLocalSignatureNames: localSignatures.orphans,
    orphanedRemoteSignatureNames: remoteSignatures.orphans,
  };
}

/** Time of the newest full backup in any chain ("Last full backup date"), or null when there is none. */
export function lastFullBackupTime(collection: Collection): number | null {
  const times = collection.backupChains.map((chain) => chain.fullSet.startTime);
  return times.length === 0 ? null : Math.max(...times);
}

/** The chain's sets in order: the full set, then the incrementals. */
export function chainSets(chain: BackupChain): BackupSet[] {
  return [chain.fullSet, ...chain.incrementalSets];
}

/** Volume names of a set in volume order, then its manifest unless that is a cache `.part` file. */
export function remoteSetNames(set: BackupSet): string[] {
  const names = set.volumes.map((v) => v.name);
  return set.manifestName !== null && !set.partial ? [...names, set.manifestName] : names;
}

/**
 * §10.1: the chain to restore from at `time`: the one covering it, else the newest ending before it,
 * else the oldest.
 */
export function backupChainAt(collection: Collection, time: number): BackupChain {
  const chains = collection.backupChains;
  if (chains.length === 0) {
    // duplicity 0.8.22 exits 30 here (an uncaught CollectionsError); scripts may test for it
    throw new LifeboatError('No backup chains found', {
      code: 'no-backup-chains',
      exitCode: ExitCode.unexpected,
      hint: 'check the target URL; "lifeboat collection-status" shows what is there',
    });
  }
  const covering = chains.filter((c) => c.startTime <= time && time <= c.endTime);
  if (covering.length > 1) {
    throw new LifeboatError('Two chains cover the given time', {
      code: 'overlapping-chains',
      exitCode: ExitCode.userError,
      hint: 'the archive holds overlapping chains; remove one or choose another --time',
    });
  }
  return covering[0] ?? chains.filter((c) => c.endTime < time).at(-1) ?? chains[0];
}

/** §10.1: the sets to replay for `time`: the full set (even when `time` is earlier) and incrementals ending by then. */
export function setsToRestoreAt(chain: BackupChain, time: number): BackupSet[] {
  return [chain.fullSet, ...chain.incrementalSets.filter((s) => s.endTime <= time)];
}

/**
 * The signature chain for list-current-files at `time`: the covering one (local preferred), else the
 * newest ending before it, else the oldest; when `time` is before that one starts, duplicity warns
 * "No signature chain for the requested time" and uses it anyway.
 */
export function signatureChainAt(collection: Collection, time: number): SignatureChain {
  const chains = collection.signatureChains;
  if (chains.length === 0) {
    // duplicity 0.8.22 exits 30 here too (an uncaught CollectionsError)
    throw new LifeboatError('No signature chains found', {
      code: 'no-signature-chains',
      exitCode: ExitCode.unexpected,
      hint: 'check the target URL; "lifeboat collection-status" shows what is there',
    });
  }
  const covering = chains.filter((c) => c.startTime <= time && time <= c.endTime);
  return covering.at(-1) ?? chains.filter((c) => c.endTime < time).at(-1) ?? chains[0];
}

/** Signature file names to overlay for `time`, full signature first. */
export function signatureNamesAt(chain: SignatureChain, time: number): string[] {
  return [chain.fullSignatureName, ...chain.newSignatures.filter((s) => s.endTime <= time).map((s) => s.name)];
}

function groupIntoSets(files: ArchiveName[], local: ArchiveName[]): BackupSet[] {
  const sets = new Map<string, BackupSet>();
  for (const file of files) {
    if (file.kind === 'full-signature' || file.kind === 'new-signature') continue;
    const type = file.kind === 'full-volume' || file.kind === 'full-manifest' ? 'full' : 'inc';
    const [startTime, endTime] = 'time' in file ? [file.time, file.time] : [file.startTime, file.endTime];
    const key = `${type} ${startTime} ${endTime}`;
    let set = sets.get(key);
    if (set === undefined) {
      set = { type, startTime, endTime, volumes: [], manifestName: null, localManifestName: null, encrypted: file.encrypted, partial: file.partial };
      sets.set(key, set);
    } else if (set.partial && file.encrypted) {
      set.encrypted = true;
    }
    if (file.kind === 'full-volume' || file.kind === 'inc-volume') {
      const clash = set.volumes.find((v) => v.volumeNumber === file.volumeNumber);
      if (clash !== undefined) throw duplicateFiles(`volume ${file.volumeNumber}`, clash.name, file.name);
      set.volumes.push({ volumeNumber: file.volumeNumber, name: file.name });
    } else {
      if (set.manifestName !== null) throw duplicateFiles('manifest', set.manifestName, file.name);
      set.manifestName = file.name;
      set.localManifestName = local.find((l) => sameManifest(l, file))?.name ?? null;
    }
  }
  for (const set of sets.values()) set.volumes.sort((a, b) => a.volumeNumber - b.volumeNumber);
  return [...sets.values()];
}

function sameManifest(candidate: ArchiveName, manifest: ArchiveName): boolean {
  if (candidate.kind === 'full-manifest' && manifest.kind === 'full-manifest') return candidate.time === manifest.time;
  if (candidate.kind === 'inc-manifest' && manifest.kind === 'inc-manifest') {
    return candidate.startTime === manifest.startTime && candidate.endTime === manifest.endTime;
  }
  return false;
}

/** Appends `set` if it starts where the chain ends, or replaces a last incremental with the same start. */
function extendChain(chain: BackupChain, set: BackupSet, superseded: BackupSet[]): boolean {
  const last = chain.incrementalSets.at(-1);
  if (chain.endTime === set.startTime) {
    chain.incrementalSets.push(set);
  } else if (last !== undefined && last.startTime === set.startTime && set.endTime > last.endTime) {
    superseded.push(last);
    chain.incrementalSets[chain.incrementalSets.length - 1] = set;
  } else {
    return false;
  }
  chain.endTime = set.endTime;
  return true;
}

function buildSignatureChains(files: ArchiveName[], location: 'local' | 'remote'): { chains: SignatureChain[]; orphans: string[] } {
  const chains: SignatureChain[] = [];
  const newSignatures: { name: string; startTime: number; endTime: number }[] = [];
  for (const file of files) {
    if (file.kind === 'full-signature') {
      chains.push({ location, fullSignatureName: file.name, newSignatures: [], startTime: file.time, endTime: file.time });
    } else if (file.kind === 'new-signature') {
      newSignatures.push({ name: file.name, startTime: file.startTime, endTime: file.endTime });
    }
  }
  const orphans: string[] = [];
  for (const signature of newSignatures.sort((a, b) => a.startTime - b.startTime)) {
    const chain = chains.find((c) => c.endTime === signature.startTime);
    if (chain === undefined) {
      orphans.push(signature.name);
    } else {
      chain.newSignatures.push(signature);
      chain.endTime = signature.endTime;
    }
  }
  return { chains, orphans };
}

function rank(chain: SignatureChain): number {
  return chain.location === 'local' ? 1 : 0;
}

function duplicateFiles(what: string, first: string, second: string): IntegrityError {
  return new IntegrityError(`two files claim ${what} of the same backup set: "${first}" and "${second}"`, {
    hint: 'remove the stray file from the backend (duplicity refuses such a set as well)',
  });
}
