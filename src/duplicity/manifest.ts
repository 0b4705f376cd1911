// The manifest of a backup set (§4): byte-exact writing, duplicity-compatible reading, path quoting.
import { IntegrityError } from '../errors/lifeboat-error.js';
import { compareIndex } from '../fsmeta/entry.js';

/**
 * A path below the backup root as raw byte components, as duplicity's index tuples: `[]` is the root,
 * `[Buffer.from('dir1'), Buffer.from('numbers.txt')]` is `dir1/numbers.txt`. Names are bytes, not text,
 * because nothing stops them from being invalid UTF-8.
 */
export type Index = Buffer[];

export interface ManifestVolume {
  volumeNumber: number;
  /** index of the volume's first tar entry */
  startIndex: Index;
  /** multivol chunk number of that entry, or null when it is not a chunk or is the file's last chunk */
  startBlock: number | null;
  endIndex: Index;
  endBlock: number | null;
  /** hash name → hex digest of the volume file as stored, in the order written; duplicity writes only SHA1 */
  hashes: Map<string, string>;
}

export type ChangeKind = 'new' | 'changed' | 'deleted';

/** One line of the Filelist block: a regular file stored as snapshot (new), as diff (changed), or removed. */
export interface ChangedFile {
  kind: ChangeKind;
  index: Index;
}

export interface Manifest {
  /** written unquoted; null or empty omits the line */
  hostname: Buffer | null;
  /** the source path as the user typed it; null or empty omits the line */
  localDir: Buffer | null;
  volumes: ManifestVolume[];
  changedFiles: ChangedFile[];
}

export interface ParsedManifest extends Manifest {
  /** problems duplicity only logs (e.g. a Filelist count that disagrees with its lines) */
  warnings: string[];
}

const WS = '[ \\t\\n\\r\\f\\v]';
const NEEDS_QUOTING = [0x20, 0x09, 0x0a, 0x0d, 0x0c, 0x0b, 0x5c, 0x22, 0x27];
/** 1 for the bytes NEEDS_QUOTING lists: a table look-up per byte of every Filelist path */
const QUOTED_BYTE = new Uint8Array(256);
for (const byte of NEEDS_QUOTING) QUOTED_BYTE[byte] = 1;
const CHANGE_KINDS: readonly string[] = ['new', 'changed', 'deleted'];

/** A manifest as duplicity streams it during a backup: Hostname, Localdir, volumes in order, Filelist. */
export function formatManifest(manifest: Manifest): Buffer {
  return Buffer.concat([formatManifestHead(manifest, manifest.changedFiles.length), ...manifest.changedFiles.map(formatFilelistLine)]);
}

/**
 * Everything up to and including the `Filelist <count>` line, for writers that spool the Filelist
 * lines (formatFilelistLine) elsewhere and append them afterwards.
 */
export function formatManifestHead(manifest: Omit<Manifest, 'changedFiles'>, changedFileCount: number): Buffer {
  const parts: Buffer[] = [];
  const line = (...pieces: (string | Buffer)[]): void => {
    for (const piece of pieces) parts.push(typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece);
    parts.push(Buffer.from('\n'));
  };
  if (manifest.hostname !== null && manifest.hostname.length > 0) {
    if (manifest.hostname.includes(0x0a)) throw new RangeError('a hostname cannot contain a newline');
    line('Hostname ', manifest.hostname);
  }
  if (manifest.localDir !== null && manifest.localDir.length > 0) line('Localdir ', quoteManifestPath(manifest.localDir));
  for (const v of [...manifest.volumes].sort((a, b) => a.volumeNumber - b.volumeNumber)) {
    line(`Volume ${v.volumeNumber}:`);
    line('    StartingPath   ', indexText(v.startIndex), ` ${blockText(v.startBlock)}`);
    line('    EndingPath     ', indexText(v.endIndex), ` ${blockText(v.endBlock)}`);
    for (const [name, digest] of v.hashes) line(`    Hash ${name} ${digest}`);
  }
  line(`Filelist ${changedFileCount}`);
  return Buffer.concat(parts);
}

/** One Filelist line with its newline: `    <kind padded to 7>  <quoted path>`. */
export function formatFilelistLine(file: ChangedFile): Buffer {
  return Buffer.concat([Buffer.from(`    ${file.kind.padEnd(7)}  `), indexText(file.index), Buffer.from('\n')]);
}

/**
 * Reads a manifest the way duplicity does: field names in any case, Filelist before or after the volumes,
 * the last block of a repeated volume number wins, and a block number lower than the highest seen so far
 * drops the higher volumes (a restarted backup re-wrote them).
 * @throws IntegrityError when a volume block cannot be read (duplicity fails on these too)
 */
export function parseManifest(buf: Buffer): ParsedManifest {
  const text = buf.toString('latin1');
  const warnings: string[] = [];
  const volumes = new Map<number, ManifestVolume>();
  let latest = 0;
  let highest = 0;
  const blockRegex = new RegExp(`(?:^|\\n)(volume${WS}[^\\n]*(?:\\n[^\\n]*)*?)(?=\\nvolume${WS}|\\n?$)`, 'gi');
  for (const match of text.matchAll(blockRegex)) {
    const volume = parseVolumeBlock(match[1]);
    volumes.set(volume.volumeNumber, volume);
    latest = volume.volumeNumber;
    highest = Math.max(highest, latest);
  }
  for (const number of volumes.keys()) if (number > latest && number <= highest) volumes.delete(number);

  return {
    hostname: headerField(text, 'hostname'),
    localDir: headerField(text, 'localdir'),
    volumes: [...volumes.values()].sort((a, b) => a.volumeNumber - b.volumeNumber),
    changedFiles: parseFilelist(text, warnings),
    warnings,
  };
}

/** §4.3: strings holding whitespace, `\`, `"` or `'` get those bytes as `\xNN` and double quotes around. */
export function quoteManifestPath(raw: Buffer): Buffer {
  let plain = true;
  for (let i = 0; i < raw.length && plain; i++) plain = QUOTED_BYTE[raw[i]] === 0;
  if (plain) return raw;
  let out = '"';
  for (const byte of raw) {
    out += QUOTED_BYTE[byte] === 1 ? `\\x${byte.toString(16).padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return Buffer.from(`${out}"`, 'latin1');
}

/** Undoes quoteManifestPath; a string not starting with `"` is taken as it is. */
export function unquoteManifestPath(quoted: Buffer): Buffer {
  if (quoted.length === 0 || quoted[0] !== 0x22) return quoted;
  if (quoted[quoted.length - 1] !== 0x22) throw new IntegrityError(`manifest: quoted path without closing quote: ${show(quoted)}`);
  const bytes: number[] = [];
  for (let i = 1; i < quoted.length - 1; ) {
    if (quoted[i] !== 0x5c) {
      bytes.push(quoted[i]);
      i += 1;
      continue;
    }
    const hex = quoted.subarray(i + 2, i + 4).toString('latin1');
    if (quoted[i + 1] !== 0x78 || i + 4 > quoted.length - 1 || !/^[0-9a-fA-F]{2}$/.test(hex)) {
      throw new IntegrityError(`manifest: bad escape in quoted path ${show(quoted)}`);
    }
    bytes.push(parseInt(hex, 16));
    i += 4;
  }
  return Buffer.from(bytes);
}

/** Index order (§5.6): component by component in byte order, a prefix before its extensions (the one order, fsmeta/entry.ts). */
export const compareIndexes: (a: Index, b: Index) => number = compareIndex;

/** Whether the volume may hold `prefix` or anything below it (§10.1 step 4), as duplicity decides. */
export function volumeMayContain(volume: ManifestVolume, prefix: Index): boolean {
  return compareIndexes(volume.startIndex.slice(0, prefix.length), prefix) <= 0 && compareIndexes(prefix, volume.endIndex) <= 0;
}

/** The hash to check a downloaded volume against: SHA1, else MD5, else the first one listed. */
export function bestVolumeHash(volume: ManifestVolume): { algorithm: string; hex: string } | null {
  for (const algorithm of ['SHA1', 'MD5']) {
    const hex = volume.hashes.get(algorithm);
    if (hex !== undefined) return { algorithm, hex };
  }
  const first = volume.hashes.entries().next();
  return first.done === true ? null : { algorithm: first.value[0], hex: first.value[1] };
}

/** `Hostname`/`Localdir`: the first line starting with the name (any case) and one whitespace byte. */
function headerField(text: string, name: string): Buffer | null {
  const m = new RegExp(`(?:^|\\n)${name}${WS}([^\\n]*?)\\n`, 'i').exec(text);
  return m === null ? null : unquoteManifestPath(Buffer.from(m[1], 'latin1'));
}

function parseVolumeBlock(block: string): ManifestVolume {
  const lines = trimAscii(block).split('\n');
  const first = /^Volume ([0-9]+):/i.exec(lines[0]);
  if (first === null) throw new IntegrityError(`manifest: bad volume line ${JSON.stringify(lines[0])}`);
  const volumeNumber = Number(first[1]);
  const volume: Partial<ManifestVolume> & { hashes: Map<string, string> } = { volumeNumber, hashes: new Map() };
  for (const line of lines.slice(1)) {
    const [field, ...values] = splitAscii(line);
    // unknown words (Filelist lines swallowed into the last block) are ignored, as duplicity does
    switch (field?.toLowerCase()) {
      case 'startingpath':
        [volume.startIndex, volume.startBlock] = parsePosition(volumeNumber, 'StartingPath', values);
        break;
      case 'endingpath':
        [volume.endIndex, volume.endBlock] = parsePosition(volumeNumber, 'EndingPath', values);
        break;
      case 'hash':
        if (values.length < 2) throw new IntegrityError(`manifest: volume ${volumeNumber}: Hash line without a name and digest`);
        volume.hashes.set(values[0], values[1]);
        break;
    }
  }
  if (volume.startIndex === undefined || volume.endIndex === undefined) {
    throw new IntegrityError(`manifest: volume ${volumeNumber} has no StartingPath or EndingPath`);
  }
  return volume as ManifestVolume;
}

function parsePosition(volumeNumber: number, field: string, values: string[]): [Index, number | null] {
  if (values.length === 0) throw new IntegrityError(`manifest: volume ${volumeNumber}: ${field} without a path`);
  const index = textToIndex(values[0]);
  if (values.length === 1) return [index, null];
  if (!/^[0-9]+$/.test(values[1])) {
    throw new IntegrityError(`manifest: volume ${volumeNumber}: ${field} block ${JSON.stringify(values[1])} is not a number`);
  }
  return [index, Number(values[1])];
}

/** The Filelist block; duplicity itself reads it only for --file-changed, and only logs a bad count. */
function parseFilelist(text: string, warnings: string[]): ChangedFile[] {
  const m = new RegExp(`(?:^|\\n)filelist${WS}([0-9]+)\\n([\\s\\S]*?)(?=\\nvolume${WS}|\\n?$)`, 'i').exec(text);
  if (m === null) return [];
  const declared = Number(m[1]);
  if (declared === 0) return [];
  const files: ChangedFile[] = [];
  for (const line of m[2].split('\n')) {
    const [kind, ...pathWords] = splitAscii(line);
    if (kind === undefined) continue;
    if (!CHANGE_KINDS.includes(kind) || pathWords.length === 0) {
      warnings.push(`Filelist line not understood: ${JSON.stringify(line)}`);
      continue;
    }
    files.push({ kind: kind as ChangeKind, index: textToIndex(pathWords.join('')) });
  }
  if (files.length !== declared) warnings.push(`Filelist count says ${declared}, file list contains ${files.length}`);
  return files;
}

function textToIndex(word: string): Index {
  const path = unquoteManifestPath(Buffer.from(word, 'latin1'));
  if (path.length === 1 && path[0] === 0x2e) return [];
  const components: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === 0x2f) {
      components.push(path.subarray(start, i));
      start = i + 1;
    }
  }
  return components;
}

function indexText(index: Index): Buffer {
  if (index.length === 0) return Buffer.from('.');
  const joined: Buffer[] = [];
  index.forEach((component, i) => joined.push(...(i === 0 ? [component] : [Buffer.from('/'), component])));
  return quoteManifestPath(Buffer.concat(joined));
}

function blockText(block: number | null): string {
  return block === null ? ' ' : String(block);
}

function trimAscii(text: string): string {
  return text.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, '');
}

function splitAscii(text: string): string[] {
  return text.split(/[ \t\n\r\f\v]+/).filter((word) => word.length > 0);
}

function show(bytes: Buffer): string {
  return JSON.stringify(bytes.toString('latin1'));
}
