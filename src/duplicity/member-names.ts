// Tar member names in difftars and sigtars (specs §5.4, §6): a prefix, then the index joined by '/'.
// The root is `snapshot/./` in difftars but `snapshot/` in sigtars; directories carry a trailing '/'.
import { IntegrityError } from '../errors/lifeboat-error.js';

export type MemberKind = 'snapshot' | 'diff' | 'deleted' | 'signature';

const SLASH = 0x2f;

export interface MemberNameOptions {
  /** directories (and the root) end in '/' */
  directory: boolean;
  /** 'difftar' names the root `./`, 'sigtar' names it with nothing */
  archive: 'difftar' | 'sigtar';
  /** 1-based chunk number of a multivol payload piece */
  chunk?: number;
}

export function memberName(kind: MemberKind, index: readonly Buffer[], options: MemberNameOptions): Buffer {
  const parts: Buffer[] = [];
  if (options.chunk !== undefined) {
    parts.push(Buffer.from(`multivol_${kind}/`));
  } else {
    parts.push(Buffer.from(`${kind}/`));
  }
  if (index.length === 0) {
    if (options.archive === 'difftar' || options.chunk !== undefined) parts.push(Buffer.from('.'));
  } else {
    index.forEach((c, i) => {
      if (i > 0) parts.push(Buffer.from('/'));
      parts.push(c);
    });
  }
  if (options.chunk !== undefined) parts.push(Buffer.from(`/${options.chunk}`));
  else if (options.directory && index.length > 0) parts.push(Buffer.from('/'));
  else if (options.directory && options.archive === 'difftar') parts.push(Buffer.from('/'));
  return Buffer.concat(parts);
}

export interface ParsedMemberName {
  kind: MemberKind;
  /** true for multivol_snapshot/… and multivol_diff/… pieces */
  multivol: boolean;
  index: Buffer[];
}

const prefixes: [string, MemberKind, boolean][] = [
  ['multivol_snapshot/', 'snapshot', true],
  ['multivol_diff/', 'diff', true],
  ['snapshot/', 'snapshot', false],
  ['diff/', 'diff', false],
  ['deleted/', 'deleted', false],
  ['signature/', 'signature', false],
];

/** Reads a member name back into kind and index (§5.4 reader rules); null for names of no kind. */
export function parseMemberName(name: Buffer): ParsedMemberName | null {
  for (const [prefix, kind, multivol] of prefixes) {
    if (name.length < prefix.length || name.toString('latin1', 0, prefix.length) !== prefix) continue;
    let rest = name.subarray(prefix.length);
    if (multivol) {
      // strip the "/<chunk>" suffix
      let i = rest.length - 1;
      while (i >= 0 && rest[i] >= 0x30 && rest[i] <= 0x39) i--;
      if (i < 0 || rest[i] !== SLASH || i === rest.length - 1) return null;
      rest = rest.subarray(0, i);
    }
    while (rest.length > 0 && rest[rest.length - 1] === SLASH) rest = rest.subarray(0, rest.length - 1);
    if (rest.length === 0 || (rest.length === 1 && rest[0] === 0x2e)) return { kind, multivol, index: [] };
    const index: Buffer[] = [];
    let start = 0;
    for (let i = 0; i <= rest.length; i++) {
      if (i === rest.length || rest[i] === SLASH) {
        const component = rest.subarray(start, i);
        if (component.length === 2 && component[0] === 0x2e && component[1] === 0x2e) {
          throw new IntegrityError(`archive member "${name.toString('latin1')}" climbs out of the restore target with ".."`, {
            hint: 'this archive is damaged or malicious; it will not be restored',
          });
        }
        if (component.length > 0) index.push(Buffer.from(component));
        start = i + 1;
      }
    }
    return { kind, multivol, index };
  }
  return null;
}

/** The index as the '/'-joined relative path duplicity prints and accepts (`.` for the root). */
export function indexToPath(index: readonly Buffer[]): Buffer {
  if (index.length === 0) return Buffer.from('.');
  const parts: Buffer[] = [];
  index.forEach((c, i) => {
    if (i > 0) parts.push(Buffer.from('/'));
    parts.push(c);
  });
  return Buffer.concat(parts);
}

/** Splits a relative path such as `dir/sub/` (for --file-to-restore) into an index. */
export function pathToIndex(path: Buffer | string): Buffer[] {
  const bytes = typeof path === 'string' ? Buffer.from(path) : path;
  const index: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === SLASH) {
      const c = bytes.subarray(start, i);
      if (c.length > 0 && !(c.length === 1 && c[0] === 0x2e)) index.push(Buffer.from(c));
      start = i + 1;
    }
  }
  return index;
}
