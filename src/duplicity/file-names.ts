// Names of duplicity's remote and cache files (§1.1–§1.5): parsing every form duplicity reads, writing the long form.
import { formatNameTime, parseNameTime } from './time.js';

/** What a file is, and the times in its name as epoch seconds. */
export type ArchiveFile =
  | { kind: 'full-volume'; time: number; volumeNumber: number }
  | { kind: 'full-manifest'; time: number }
  | { kind: 'inc-volume'; startTime: number; endTime: number; volumeNumber: number }
  | { kind: 'inc-manifest'; startTime: number; endTime: number }
  | { kind: 'full-signature'; time: number }
  | { kind: 'new-signature'; startTime: number; endTime: number };

export type ArchiveFileKind = ArchiveFile['kind'];

/** What else a name says about its file. */
export interface NameFacts {
  /** the name as listed */
  name: string;
  /** ends in `gz` (sic, no dot needed) or `.z` */
  compressed: boolean;
  /** ends in `.gpg` or `.g` */
  encrypted: boolean;
  /** `.part` (`.p` in short names): an unfinished manifest or sigtar in the cache. Volumes never are. */
  partial: boolean;
  /** written with --short-filenames (base-36 times) */
  short: boolean;
}

export type ArchiveName = ArchiveFile & NameFacts;

/**
 * duplicity's --file-prefix, --file-prefix-manifest, --file-prefix-archive and --file-prefix-signature.
 * A name is only recognised with the prefixes it was written with.
 */
export interface NamePrefixes {
  file?: string;
  manifest?: string;
  archive?: string;
  signature?: string;
}

export interface NameFormatOptions {
  encrypted?: boolean;
  /** gzip volumes and sigtars; manifests are never gzipped, so they get no `.gz` */
  compressed?: boolean;
  /** `.part`, for a manifest or sigtar still being written into the cache */
  partial?: boolean;
  prefixes?: NamePrefixes;
}

type Role = 'archive' | 'manifest' | 'signature';

interface NamePattern {
  kind: ArchiveFileKind;
  role: Role;
  short: boolean;
  /** the part after the prefixes; groups are named time/start/end/num/partial */
  body: string;
}

// Patterns are anchored at the start only: `(?:$|\.)` lets any suffix (.gz, .gpg, .part.gz) follow, as in
// duplicity. Times are matched lazily, so the first `.vol`/`.manifest`/`.to.` after them ends them.
const T = '[^\\n]*?';
const B36 = '[0-9a-z]+?';
const PATTERN_GROUPS: NamePattern[][] = [
  [
    { kind: 'full-volume', role: 'archive', short: true, body: `df\\.(?<time>${B36})\\.(?<num>[0-9a-z]+)\\.dt(?<partial>\\.p)?(?:$|\\.)` },
    { kind: 'full-manifest', role: 'manifest', short: true, body: `df\\.(?<time>${B36})\\.m(?<partial>\\.p)?(?:$|\\.)` },
    { kind: 'full-volume', role: 'archive', short: false, body: `duplicity-full\\.(?<time>${T})\\.vol(?<num>[0-9]+)\\.difftar(?<partial>\\.part)?(?:$|\\.)` },
    { kind: 'full-manifest', role: 'manifest', short: false, body: `duplicity-full\\.(?<time>${T})\\.manifest(?<partial>\\.part)?(?:$|\\.)` },
  ],
  [
    { kind: 'inc-volume', role: 'archive', short: true, body: `di\\.(?<start>${B36})\\.(?<end>${B36})\\.(?<num>[0-9a-z]+)\\.dt(?:$|\\.)` },
    { kind: 'inc-manifest', role: 'manifest', short: true, body: `di\\.(?<start>${B36})\\.(?<end>${B36})\\.m(?<partial>\\.p)?(?:$|\\.)` },
    { kind: 'inc-volume', role: 'archive', short: false, body: `duplicity-inc\\.(?<start>${T})\\.to\\.(?<end>${T})\\.vol(?<num>[0-9]+)\\.difftar(?:$|\\.)` },
    { kind: 'inc-manifest', role: 'manifest', short: false, body: `duplicity-inc\\.(?<start>${T})\\.to\\.(?<end>${T})\\.manifest(?<partial>\\.part)?(?:$|\\.)` },
  ],
  [
    { kind: 'full-signature', role: 'signature', short: true, body: `dfs\\.(?<time>${B36})\\.st(?<partial>\\.p)?(?:$|\\.)` },
    { kind: 'full-signature', role: 'signature', short: false, body: `duplicity-full-signatures\\.(?<time>${T})\\.sigtar(?<partial>\\.part)?(?:$|\\.)` },
  ],
  [
    { kind: 'new-signature', role: 'signature', short: true, body: `dns\\.(?<start>${B36})\\.(?<end>${B36})\\.st(?<partial>\\.p)?(?:$|\\.)` },
    { kind: 'new-signature', role: 'signature', short: false, body: `duplicity-new-signatures\\.(?<start>${T})\\.to\\.(?<end>${T})\\.sigtar(?<partial>\\.part)?(?:$|\\.)` },
  ],
];

const compiled = new Map<string, RegExp>();

/**
 * Reads a remote or cache file name, or returns null for a name duplicity would ignore (not one of its
 * files, a time that does not parse, volume number 0). Within a group the first matching pattern
 * decides, as in duplicity: a volume pattern wins over a manifest pattern, short over long names.
 */
export function parseArchiveName(name: string, prefixes: NamePrefixes = {}): ArchiveName | null {
  for (const group of PATTERN_GROUPS) {
    for (const pattern of group) {
      const groups = regexFor(pattern, prefixes).exec(name)?.groups;
      if (groups === undefined) continue;
      const file = fileFromGroups(pattern, groups);
      if (file === null) return null;
      const facts: NameFacts = {
        name,
        compressed: name.endsWith('gz') || name.endsWith('.z'),
        encrypted: name.endsWith('.gpg') || name.endsWith('.g'),
        partial: pattern.role !== 'archive' && groups.partial !== undefined,
        short: pattern.short,
      };
      return { ...file, ...facts };
    }
  }
  return null;
}

/** The long-form name duplicity 0.8 writes: `.gpg` when encrypted, else `.gz` when compressed (not manifests). */
export function formatArchiveName(file: ArchiveFile, options: NameFormatOptions = {}): string {
  const prefixes = options.prefixes ?? {};
  const role = roleOf(file.kind);
  if (options.partial === true && role === 'archive') throw new RangeError('data volumes are never written as .part');
  const prefix = (prefixes.file ?? '') + (prefixes[role] ?? '');
  let suffix = '';
  if (options.encrypted === true) suffix = '.gpg';
  else if (options.compressed === true && role !== 'manifest') suffix = '.gz';
  const part = options.partial === true ? '.part' : '';
  return `${prefix}${longBody(file)}${part}${suffix}`;
}

/**
 * The key duplicity's cache sync compares names by (§11): the name minus one trailing `.g`, `.gpg`,
 * `.z`, `.gz` or `.part`, so `x.manifest.gpg` (remote) and `x.manifest` (cache) are the same file.
 */
export function metadataSyncKey(name: string): string {
  const m = /\.(?:g|gpg|z|gz|part)$/.exec(name);
  return m === null ? name : name.slice(0, m.index);
}

/** Whether a name is a manifest or a signature file, the files the cache holds. */
/** `.gpg` (or the short `.g`): an OpenPGP file */
export function isEncryptedName(name: string): boolean {
  return name.endsWith('.gpg') || name.endsWith('.g');
}

export function isMetadataName(file: ArchiveFile): boolean {
  return roleOf(file.kind) !== 'archive';
}

function longBody(file: ArchiveFile): string {
  switch (file.kind) {
    case 'full-volume':
      return `duplicity-full.${formatNameTime(file.time)}.vol${volumeNumberText(file.volumeNumber)}.difftar`;
    case 'full-manifest':
      return `duplicity-full.${formatNameTime(file.time)}.manifest`;
    case 'inc-volume':
      return `duplicity-inc.${span(file)}.vol${volumeNumberText(file.volumeNumber)}.difftar`;
    case 'inc-manifest':
      return `duplicity-inc.${span(file)}.manifest`;
    case 'full-signature':
      return `duplicity-full-signatures.${formatNameTime(file.time)}.sigtar`;
    case 'new-signature':
      return `duplicity-new-signatures.${span(file)}.sigtar`;
  }
}

function span(file: { startTime: number; endTime: number }): string {
  return `${formatNameTime(file.startTime)}.to.${formatNameTime(file.endTime)}`;
}

function volumeNumberText(volumeNumber: number): string {
  if (!Number.isSafeInteger(volumeNumber) || volumeNumber < 1) throw new RangeError(`bad volume number ${volumeNumber}`);
  return String(volumeNumber);
}

function fileFromGroups(pattern: NamePattern, groups: Record<string, string | undefined>): ArchiveFile | null {
  const time = (text: string | undefined): number | null => {
    if (text === undefined) return null;
    const seconds = pattern.short ? base36(text) : parseNameTime(text);
    return seconds === 0 ? null : seconds;
  };
  const volumeNumber = (): number | null => {
    const n = pattern.short ? base36(groups.num ?? '') : Number(groups.num);
    return n !== null && Number.isSafeInteger(n) && n > 0 ? n : null;
  };
  const start = time(groups.start);
  const end = time(groups.end);
  switch (pattern.kind) {
    case 'full-volume': {
      const [t, n] = [time(groups.time), volumeNumber()];
      return t === null || n === null ? null : { kind: pattern.kind, time: t, volumeNumber: n };
    }
    case 'full-manifest':
    case 'full-signature': {
      const t = time(groups.time);
      return t === null ? null : { kind: pattern.kind, time: t };
    }
    case 'inc-volume': {
      const n = volumeNumber();
      return start === null || end === null || n === null ? null : { kind: pattern.kind, startTime: start, endTime: end, volumeNumber: n };
    }
    case 'inc-manifest':
    case 'new-signature':
      return start === null || end === null ? null : { kind: pattern.kind, startTime: start, endTime: end };
  }
}

function base36(text: string): number | null {
  if (!/^[0-9a-z]+$/.test(text)) return null;
  let total = 0;
  for (const ch of text) total = total * 36 + parseInt(ch, 36);
  return Number.isSafeInteger(total) ? total : null;
}

function roleOf(kind: ArchiveFileKind): Role {
  if (kind === 'full-volume' || kind === 'inc-volume') return 'archive';
  if (kind === 'full-manifest' || kind === 'inc-manifest') return 'manifest';
  return 'signature';
}

function regexFor(pattern: NamePattern, prefixes: NamePrefixes): RegExp {
  const prefix = (prefixes.file ?? '') + (prefixes[pattern.role] ?? '');
  const key = `${pattern.kind}\u0000${pattern.short}\u0000${prefix}`;
  let regex = compiled.get(key);
  if (regex === undefined) {
    regex = new RegExp(`^${escapeRegExp(prefix)}${pattern.body}`);
    compiled.set(key, regex);
  }
  return regex;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
