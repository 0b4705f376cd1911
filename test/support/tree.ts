// A tree described line by line (type, mode, uid, gid, size, mtime, sha1 / link target / device
// numbers, path), in the format of the samples' logs/expected-restored-trees.txt, so restored trees
// can be compared with each other and with what duplicity restored.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { deviceNumbers } from '../../src/fsmeta/read.js';

export interface DescribeOptions {
  /** leave out symlink mtimes (duplicity does not restore them); they are never printed anyway */
  skip?: (relative: Buffer) => boolean;
}

/** Python's os.fsencode(rel).decode('utf-8', 'backslashreplace') */
function displayPath(bytes: Buffer): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    const seq = len ? bytes.subarray(i, i + len) : null;
    if (seq && seq.length === len && Buffer.from(seq.toString('utf8')).equals(seq)) {
      out += seq.toString('utf8');
      i += len;
    } else {
      out += `\\x${b.toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

async function* walk(root: Buffer, rel: Buffer | null): AsyncGenerator<Buffer> {
  const dir = rel ? Buffer.concat([root, Buffer.from('/'), rel]) : root;
  for (const name of await readdir(dir, { encoding: 'buffer' })) {
    const child = rel ? Buffer.concat([rel, Buffer.from('/'), name]) : name;
    yield child;
    const s = await lstat(Buffer.concat([root, Buffer.from('/'), child]));
    if (s.isDirectory()) yield* walk(root, child);
  }
}

export async function describeTree(rootPath: string, options: DescribeOptions = {}): Promise<string[]> {
  const root = Buffer.from(rootPath);
  const rootStat = await lstat(root);
  const relatives: Buffer[] = [];
  if (rootStat.isDirectory()) {
    for await (const rel of walk(root, null)) relatives.push(rel);
    // Python sorts the joined path strings (as the samples' script does)
    relatives.sort((a, b) => Buffer.compare(a, b));
  }
  const lines: string[] = [];
  for (const rel of [null, ...relatives]) {
    if (rel && options.skip?.(rel)) continue;
    const path = rel ? Buffer.concat([root, Buffer.from('/'), rel]) : root;
    const s = await lstat(path, { bigint: true });
    const mode = Number(s.mode);
    let type: string;
    let extra = '';
    if (s.isFile()) { type = 'reg'; extra = createHash('sha1').update(await readFile(path)).digest('hex'); }
    else if (s.isSymbolicLink()) { type = 'sym'; extra = `-> ${displayPath(await readlink(path, { encoding: 'buffer' }))}`; }
    else if (s.isDirectory()) type = 'dir';
    else if (s.isFIFO()) type = 'fifo';
    else { const d = deviceNumbers(s.rdev); extra = `${d.devMajor},${d.devMinor}`; type = s.isCharacterDevice() ? 'chr' : 'blk'; }
    const mtime = type === 'sym' ? '-' : String(s.mtimeMs / 1000n >= 0n ? Number(s.mtimeMs / 1000n) : Math.floor(Number(s.mtimeMs) / 1000));
    const size = type === 'reg' ? String(s.size) : '0';
    lines.push(`${type} ${(mode & 0o7777).toString(8).padStart(4, '0')} ${s.uid} ${s.gid} ${size} ${mtime} ${extra} ${rel ? displayPath(rel) : '.'}`);
  }
  return lines;
}

/** The listings in the samples' expected-restored-trees.txt, by tree name. */
export async function expectedTrees(samples: string): Promise<Map<string, string[]>> {
  const text = await readFile(join(samples, 'logs', 'expected-restored-trees.txt'), 'utf8');
  const trees = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('== ')) trees.set(line.slice(3), (current = []));
    else if (line !== '' && current) current.push(line);
  }
  return trees;
}

/** A source's description as duplicity restores it: negative mtimes become 0 (specs §3). */
export function asRestored(lines: string[]): string[] {
  return lines.map((line) => {
    const f = line.split(' ');
    if (/^-\d+$/.test(f[5])) f[5] = '0';
    return f.join(' ');
  });
}

/** Two tree descriptions are equal; on failure, the lines missing and the lines extra. */
export function assertSameTree(actual: string[], expected: string[], label: string): void {
  const have = new Set(actual);
  const want = new Set(expected);
  const missing = expected.filter((l) => !have.has(l));
  const extra = actual.filter((l) => !want.has(l));
  if (missing.length > 0 || extra.length > 0) {
    assert.fail(`${label}: trees differ\n- expected, not found:\n${missing.join('\n')}\n+ found, not expected:\n${extra.join('\n')}`);
  }
  assert.deepEqual(actual, expected, `${label}: same lines in another order`);
}
