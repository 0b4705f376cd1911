// The text of `collection-status` exactly as duplicity 0.8.22 prints it (§12.1), human and --log-fd forms.
import { chainSets, lastFullBackupTime, type BackupChain, type BackupSet, type Collection } from './collection.js';
import { formatHumanTime, formatNameTime, type TimeZone } from './time.js';

export interface CollectionStatusOptions {
  /** the archive dir as duplicity names it (--archive-dir joined with --name); null prints "None" */
  archiveDir: string | null;
  /** zone for the human times; undefined: the process's (TZ) */
  timeZone?: TimeZone;
  /** accepted for symmetry with the command line; 0.8.22 prints its backend wrapper's class name, never the URL */
  backendUrl?: string;
}

/** A warning duplicity logs while reading the collection, with its --log-fd warning code. */
export interface CollectionWarning {
  code: number;
  text: string;
}

const BACKEND_NAME = 'BackendWrapper';
const RULE = '-------------------------';
const WARNING_CODE = { generic: 1, orphanedSignature: 2, unmatchedSignature: 4, incompleteBackup: 5, orphanedBackup: 6 };

/**
 * The warnings duplicity prints (on stdout) whenever it reads a collection, before anything else, in its
 * order. Every command prints them, not only collection-status.
 */
export function collectionWarnings(collection: Collection): CollectionWarning[] {
  const warnings: CollectionWarning[] = [];
  const add = (code: number, text: string): void => {
    warnings.push({ code, text });
  };
  if (collection.discardedSet !== null) {
    add(WARNING_CODE.generic, 'Warning, discarding last backup set, because of missing signature file.');
  }
  for (const [place, names] of [
    ['local', collection.orphanedLocalSignatureNames],
    ['remote', collection.orphanedRemoteSignatureNames],
  ] as const) {
    if (names.length === 0) continue;
    const noun = names.length === 1 ? 'signature file:' : 'signature files:';
    add(WARNING_CODE.orphanedSignature, [`Warning, found the following ${place} orphaned ${noun}`, ...names].join('\n'));
  }
  if (collection.signatureChains.length > 0 && collection.primary === null) {
    add(WARNING_CODE.unmatchedSignature, 'Warning, found signatures but no corresponding backup files');
  }
  if (collection.incompleteSets.length > 0) {
    add(WARNING_CODE.incompleteBackup, 'Warning, found incomplete backup sets, probably left from aborted session');
  }
  const orphans = collection.orphanedSets;
  if (orphans.length > 0) {
    const noun = orphans.length === 1 ? 'backup file:' : 'backup files:';
    add(WARNING_CODE.orphanedBackup, [`Warning, found the following orphaned ${noun}`, ...orphans.map(describeSet)].join('\n'));
  }
  return warnings;
}

/** The `Last full backup date: …` line every command prints before its work. */
export function lastFullBackupLine(collection: Collection, timeZone?: TimeZone): string {
  const time = lastFullBackupTime(collection);
  return `Last full backup date: ${time === null ? 'none' : formatHumanTime(time, timeZone)}`;
}

/** The status report itself, from `Collection Status` to the orphan summary, without a final newline. */
export function formatCollectionStatus(collection: Collection, options: CollectionStatusOptions): string {
  const zone = options.timeZone;
  const secondary = collection.secondaryChains;
  const lines = [
    'Collection Status',
    '-----------------',
    `Connecting with backend: ${BACKEND_NAME}`,
    `Archive dir: ${options.archiveDir ?? 'None'}`,
    `\nFound ${secondary.length} secondary backup ${secondary.length === 1 ? 'chain.' : 'chains.'}`,
  ];
  secondary.forEach((chain, i) => {
    lines.push(`Secondary chain ${i + 1} of ${secondary.length}:`, formatChain(chain, chain.endTime, zone), '');
  });
  if (collection.primary !== null) {
    const chain = collection.primary.backupChain;
    // duplicity does not pull the chain's end back when it discards the last set
    const shownEnd = Math.max(chain.endTime, collection.discardedSet?.endTime ?? chain.endTime);
    lines.push('\nFound primary backup chain with matching signature chain:', formatChain(chain, shownEnd, zone));
  } else {
    lines.push('No backup chains with active signatures found');
  }
  const orphaned = collection.orphanedSets.length;
  const incomplete = collection.incompleteSets.length;
  if (orphaned > 0 || incomplete > 0) {
    lines.push(
      `Also found ${orphaned} ${orphaned === 1 ? 'backup set' : 'backup sets'} not part of any chain,`,
      `and ${incomplete} ${incomplete === 1 ? 'incomplete backup set.' : 'incomplete backup sets.'}`,
      'These may be deleted by running duplicity with the "cleanup" command.',
    );
  } else {
    lines.push('No orphaned or incomplete backup sets found.');
  }
  return lines.join('\n');
}

/** Everything `duplicity collection-status` writes to stdout at the default verbosity. */
export function renderCollectionStatus(collection: Collection, options: CollectionStatusOptions): string {
  const records = [
    ...collectionWarnings(collection).map((w) => w.text),
    lastFullBackupLine(collection, options.timeZone),
    formatCollectionStatus(collection, options),
  ];
  return records.map((record) => `${record}\n`).join('');
}

/** What `collection-status --log-fd N` writes to that descriptor (§12.1 machine form). */
export function renderCollectionStatusMachine(collection: Collection, options: CollectionStatusOptions): string {
  const records = collectionWarnings(collection).map((w) => machineRecord('WARNING', `${w.code}`, w.text));
  records.push(machineRecord('NOTICE', '1', lastFullBackupLine(collection, options.timeZone)));
  const extra = [`backend ${BACKEND_NAME}`, 'archive-dir (. dir)'];
  collection.secondaryChains.forEach((chain, i) => extra.push(`chain-no-sig ${i}`, ...machineChain(chain)));
  if (collection.primary !== null) extra.push('chain-complete', ...machineChain(collection.primary.backupChain));
  extra.push(`orphaned-sets-num ${collection.orphanedSets.length}`, `incomplete-sets-num ${collection.incompleteSets.length}`);
  records.push(machineRecord('INFO', `3 \n${extra.join('\n')}`, formatCollectionStatus(collection, options)));
  return records.join('');
}

function formatChain(chain: BackupChain, shownEnd: number, zone: TimeZone): string {
  const sets = chainSets(chain);
  const row = (a: string, b: string, c: string): string => `${a.padStart(20)}   ${b.padStart(30)}   ${c.padStart(15)}`;
  return [
    RULE,
    `Chain start time: ${formatHumanTime(chain.startTime, zone)}`,
    `Chain end time: ${formatHumanTime(shownEnd, zone)}`,
    `Number of contained backup sets: ${sets.length}`,
    `Total number of contained volumes: ${sets.reduce((n, s) => n + s.volumes.length, 0)}`,
    row('Type of backup set:', 'Time:', 'Num volumes:'),
    ...sets.map((s) => row(s.type === 'full' ? 'Full' : 'Incremental', formatHumanTime(s.endTime, zone), String(s.volumes.length))),
    RULE,
  ].join('\n');
}

function machineChain(chain: BackupChain): string[] {
  return chainSets(chain).map(
    (s) => ` ${s.type} ${formatNameTime(s.endTime)} ${s.volumes.length} ${s.encrypted ? 'enc' : 'noenc'}`,
  );
}

/** `LEVEL CODE[ extra]`, then the message with every line prefixed by `. `, then an empty line. */
function machineRecord(level: string, controlLine: string, message: string): string {
  return `${level} ${controlLine}${`\n${message}`.replaceAll('\n', '\n. ')}\n\n`;
}

/** `[manifest, volumes…]` as duplicity prints a set; the manifest first, volumes in volume order. */
function describeSet(set: BackupSet): string {
  const volumes = set.volumes.map((v) => v.name);
  return `[${(set.manifestName === null ? volumes : [set.manifestName, ...volumes]).join(', ')}]`;
}
