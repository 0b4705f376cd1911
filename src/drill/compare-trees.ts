// Compares a restored tree with its source, object by object in index order, on what duplicity's
// format preserves: type, permissions, owner, mtime (not for symlinks), content, link target, devices.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { compareIndex, formatPath, pathOfIndex, type Entry } from '../fsmeta/entry.js';
import { walkSource } from '../selection/walk.js';
import { indexToPath } from '../duplicity/member-names.js';

export interface TreeComparison {
  compared: number;
  bytes: number;
  differences: string[];
}

export async function compareTrees(source: string, restored: string, options: { compareOwners: boolean; maxReported?: number }): Promise<TreeComparison> {
  const ignore = () => undefined;
  const a = walkSource(source, { onWarning: ignore })[Symbol.asyncIterator]();
  const b = walkSource(restored, { onWarning: ignore })[Symbol.asyncIterator]();
  const result: TreeComparison = { compared: 0, bytes: 0, differences: [] };
  const report = (index: Buffer[], why: string) => {
    if (result.differences.length < (options.maxReported ?? 20)) result.differences.push(`${formatPath(indexToPath(index))}: ${why}`);
    else if (result.differences.length === (options.maxReported ?? 20)) result.differences.push('... (more differences not shown)');
  };
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    const order = x.done ? 1 : y.done ? -1 : compareIndex(x.value.index, y.value.index);
    result.compared++;
    if (order < 0) { report(x.value!.index, 'missing from the restore'); x = await a.next(); continue; }
    if (order > 0) { report(y.value!.index, 'not in the source'); y = await b.next(); continue; }
    const why = await differ(x.value!, y.value!, source, restored, options.compareOwners, result);
    if (why) report(x.value!.index, why);
    x = await a.next();
    y = await b.next();
  }
  return result;
}

async function differ(s: Entry, r: Entry, sourceRoot: string, restoredRoot: string, owners: boolean, result: TreeComparison): Promise<string | null> {
  if (s.type !== r.type) return `is a ${r.type}, expected a ${s.type}`;
  if (s.type === 'sym') return (s.linkTarget ?? Buffer.alloc(0)).equals(r.linkTarget ?? Buffer.alloc(0)) ? null : 'points elsewhere';
  if (s.permissions !== r.permissions) return `has mode ${r.permissions.toString(8)}, expected ${s.permissions.toString(8)}`;
  if (owners && (s.uid !== r.uid || s.gid !== r.gid)) return `is owned by ${r.uid}:${r.gid}, expected ${s.uid}:${s.gid}`;
  if (s.mtime !== r.mtime && s.index.length > 0) return `has mtime ${r.mtime}, expected ${s.mtime}`;
  if ((s.type === 'chr' || s.type === 'blk') && (s.devMajor !== r.devMajor || s.devMinor !== r.devMinor)) return 'has other device numbers';
  if (s.type === 'reg') {
    if (s.size !== r.size) return `has ${r.size} bytes, expected ${s.size}`;
    if (!(await sameContent(pathOfIndex(sourceRoot, s.index), pathOfIndex(restoredRoot, r.index)))) return 'content differs';
    result.bytes += s.size;
  }
  return null;
}

async function sameContent(a: Buffer, b: Buffer): Promise<boolean> {
  const [x, y] = await Promise.all([sha256(a), sha256(b)]);
  return x === y;
}

async function sha256(path: Buffer): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 16 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
