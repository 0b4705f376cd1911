// A generated source tree with every kind of entry duplicity's format has to carry (specs §3, §5):
// odd names (spaces, UTF-8, invalid UTF-8, > 100 bytes, paths > 255 bytes), empty, exactly-64 KiB,
// multivol and sparse files, symlinks (dangling, long and non-UTF-8 targets), fifos, a hard-link pair,
// setuid/setgid/sticky/000 modes, mtimes before 1970, after 2038 and past the ustar field (year 2300),
// devices and foreign owners incl. ids past the ustar field (as root), names the manifest must quote,
// and mutateTree(), which applies every kind of change an incremental has to record (specs §9.2).
// All content comes from seeded generators and every mtime is set explicitly, so two runs give the
// same tree and a change is always visible to duplicity's mtime-based change detection.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { appendFile, chmod, chown, link, lutimes, mkdir, open, readFile, rename, rm, symlink, truncate, unlink, utimes, writeFile } from 'node:fs/promises';
import { randomBytes, randomText, mutate } from './random.js';

/** 2024-01-01T00:00:00Z: every entry gets BASE_MTIME + a small offset */
export const BASE_MTIME = 1704067200;
/** 2025-06-01T00:00:00Z: what mutateTree() gives everything it touches */
export const MUTATED_MTIME = 1748736000;
/** 2025-09-01T00:00:00Z: what mutateTree(…, 2) gives everything it touches */
export const ROUND2_MTIME = 1756684800;
/** 1960-01-01T00:00:00Z: duplicity stores it as 0 ("has negative mtime, treating as 0") */
export const NEGATIVE_MTIME = -315619200;
/** 2100-01-01T00:00:00Z: past the 32-bit limit of 2038, still within the ustar field */
export const FUTURE_MTIME = 4102444800;
/** 2300-01-01T00:00:00Z: past 8^11 - 1 seconds, so only a pax "mtime" record can carry it (specs §5.3) */
export const FAR_FUTURE_MTIME = 10413792000;

export interface TreeOptions {
  seed?: number;
  /** size of big.bin, random so gzip cannot shrink it; 0 leaves it out. Default 0. */
  bigFileBytes?: number;
}

export interface TreeInfo {
  /** whether chardev/blockdev exist (mknod needs root and CAP_MKNOD) */
  devices: boolean;
  /** whether chown worked (root): owned-by-1234, owned-by-nobody */
  owners: boolean;
}

const enc = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s) : s);
/** joins path parts as raw bytes */
export function bytePath(...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [enc(p)] : [Buffer.from('/'), enc(p)])));
}

export const INVALID_UTF8_NAME = Buffer.concat([Buffer.from('bad'), Buffer.from([0xff]), Buffer.from('name.bin')]);
export const UTF8_NAME = 'ünïcødé-文件.txt';
export const LONG_NAME = `${'L'.repeat(150)}.txt`;
/** dir1/sub/deeper/ddd…/eee…/fff… : 277 bytes */
export const LONG_PATH_DIRS = ['dir1', 'sub', 'deeper', 'd'.repeat(60), 'e'.repeat(100)];
export const LONG_PATH_FILE = 'f'.repeat(100);

function nobodyIds(): { uid: number; gid: number } {
  const field = (file: string, name: string) => {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.split(':')[0] === name);
    return line ? Number(line.split(':')[2]) : 65534;
  };
  return { uid: field('/etc/passwd', 'nobody'), gid: field('/etc/group', 'nogroup') };
}

/** Node's utimes() takes a negative number of seconds as "now"; a Date carries it through */
function setMtime(path: Buffer | string, seconds: number): Promise<void> {
  const when = new Date(seconds * 1000);
  return utimes(path, when, when);
}

function setLinkMtime(path: Buffer | string, seconds: number): Promise<void> {
  const when = new Date(seconds * 1000);
  return lutimes(path, when, when);
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Creates the tree under `root` (which must not exist). */
export async function makeTree(root: string, options: TreeOptions = {}): Promise<TreeInfo> {
  const seed = options.seed ?? 1;
  const at = (...parts: (string | Buffer)[]) => bytePath(root, ...parts);
  const times: [Buffer, number][] = [];
  let tick = 0;
  const file = async (parts: (string | Buffer)[], data: Buffer, mtime?: number) => {
    const p = at(...parts);
    await writeFile(p, data);
    times.push([p, mtime ?? BASE_MTIME + tick++]);
    return p;
  };

  await mkdir(root, { mode: 0o755 });
  await chmod(root, 0o755);
  await mkdir(at(...LONG_PATH_DIRS), { recursive: true });
  for (const d of ['emptydir', 'sticky', 'setgid-dir', 'doomed', 'doomed/inner', 'dir-to-file', 'm'.repeat(90), 'a']) await mkdir(at(d));

  await file(['hello.txt'], Buffer.from('hello world\n'));
  await file(['empty'], Buffer.alloc(0));
  await file(['exact64k.bin'], randomBytes(seed + 1, 65536));
  await file(['exact128k.bin'], randomBytes(seed + 2, 131072));
  await file(['almost64k.bin'], randomBytes(seed + 3, 65535));
  await file(['dir1', 'numbers.txt'], randomText(seed + 4, 110_000));
  await file(['dir1', 'sub', 'deeper', 'deepfile'], Buffer.from('deep\n'));
  await file([...LONG_PATH_DIRS, LONG_PATH_FILE], Buffer.from('long path\n'));
  await file(['file with space.txt'], Buffer.from('space\n'));
  await file([UTF8_NAME], Buffer.from('utf8\n'));
  await file([INVALID_UTF8_NAME], Buffer.from('latin1\n'));
  await file([LONG_NAME], Buffer.from('long\n'));
  // 'snapshot/' + 91 bytes = exactly 100 (fits the ustar name), + 92 = 101 (needs a pax path)
  await file(['n'.repeat(91)], Buffer.from('100\n'));
  await file(['o'.repeat(92)], Buffer.from('101\n'));
  await file(['m'.repeat(90), 'inside'], Buffer.from('in a 100-byte dir name\n'));
  // index order is by components (specs §5.6): a, a/b, a-b, a.c — not the string order a-b, a.c, a/b
  await file(['B'], Buffer.from('upper\n'));
  await file(['a', 'b'], Buffer.from('a/b\n'));
  await file(['a-b'], Buffer.from('a-b\n'));
  await file(['a.c'], Buffer.from('a.c\n'));
  // bytes the manifest must quote as \xNN (specs §4.3)
  for (const name of ['tab\there', 'new\nline', 'quote"d', "it's", 'back\\slash']) await file([name], Buffer.from(`${name}\n`));
  await file(['truncate-me.bin'], randomBytes(seed + 5, 20_000));
  await file(['rename-me.txt'], randomText(seed + 6, 3000));
  await file(['doomed', 'a.txt'], Buffer.from('a\n'));
  await file(['doomed', 'inner', 'b.txt'], Buffer.from('b\n'));
  await file(['dir-to-file', 'c.txt'], Buffer.from('c\n'));
  await file(['hard1'], Buffer.from('hardlinked content\n'));
  await link(at('hard1'), at('hard2'));
  await file(['odd-perms'], Buffer.from('perm\n'));
  await chmod(at('odd-perms'), 0o4751);
  await file(['setgid-file'], Buffer.from('setgid\n'));
  await chmod(at('setgid-file'), 0o2755);
  await file(['no-perms'], Buffer.from('noperm\n'));
  await chmod(at('no-perms'), 0o000);
  await chmod(at('sticky'), 0o1777);
  await chmod(at('setgid-dir'), 0o2775);
  await file(['old.txt'], Buffer.from('old\n'), 981173106); // 2001-02-03T04:05:06Z
  await file(['negative-mtime'], Buffer.from('neg\n'), NEGATIVE_MTIME);
  await file(['future-mtime'], Buffer.from('2100\n'), FUTURE_MTIME);
  await file(['far-future-mtime'], Buffer.from('2300\n'), FAR_FUTURE_MTIME);
  await file(['chown-only'], Buffer.from('owner changes\n'));

  // sparse: 300 000 bytes with one byte of data in the middle
  const sparse = at('sparse');
  await truncate(sparse, 300_000).catch(async () => { await writeFile(sparse, ''); await truncate(sparse, 300_000); });
  const fh = await open(sparse, 'r+');
  await fh.write(Buffer.from('X'), 0, 1, 150_000);
  await fh.close();
  times.push([sparse, BASE_MTIME + tick++]);

  if (options.bigFileBytes) await file(['big.bin'], randomBytes(seed + 7, options.bigFileBytes));

  await symlink('hello.txt', at('link-to-hello'));
  await symlink('/nonexistent/target', at('dangling-link'));
  await symlink(`/${'t'.repeat(120)}/target`, at('long-target-link'));
  await symlink(Buffer.concat([Buffer.from('bad-'), Buffer.from([0xfe]), Buffer.from('-target')]), at('binary-target-link'));
  await symlink('hello.txt', at('link-to-file'));
  const links = ['link-to-hello', 'dangling-link', 'long-target-link', 'binary-target-link', 'link-to-file'];
  execFileSync('mkfifo', ['-m', '0644', at('fifo').toString()]);
  execFileSync('mkfifo', ['-m', '0600', at('fifo-to-file').toString()]);
  times.push([at('fifo'), BASE_MTIME + tick++], [at('fifo-to-file'), BASE_MTIME + tick++]);

  let devices = false;
  if (isRoot()) {
    try {
      execFileSync('mknod', ['-m', '0644', at('chardev').toString(), 'c', '1', '3'], { stdio: 'ignore' });
      execFileSync('mknod', ['-m', '0640', at('blockdev').toString(), 'b', '7', '200'], { stdio: 'ignore' });
      times.push([at('chardev'), BASE_MTIME + tick++], [at('blockdev'), BASE_MTIME + tick++]);
      devices = true;
    } catch {
      await rm(at('chardev'), { force: true });
      await rm(at('blockdev'), { force: true });
    }
  }
  let owners = false;
  await file(['owned-by-1234'], Buffer.from('owned\n'));
  await file(['owned-by-nobody'], Buffer.from('nobody\n'));
  await file(['owned-by-3000000'], Buffer.from('big ids\n'));
  if (isRoot()) {
    const nobody = nobodyIds();
    await chown(at('owned-by-1234'), 1234, 5678);
    await chown(at('owned-by-nobody'), nobody.uid, nobody.gid);
    await chown(at('owned-by-3000000'), 3_000_000, 3_000_001); // past 8^7 - 1: pax "uid"/"gid" records
    await chown(at('dir1', 'sub'), nobody.uid, nobody.gid);
    owners = true;
  }

  // files first, then directories deepest first (setting a child's time does not touch the parent's)
  for (const [p, t] of times) await setMtime(p, t);
  // duplicity does not restore symlink mtimes, but it stores them: fixed, so two trees are identical
  for (const name of links) await setLinkMtime(at(name), BASE_MTIME);
  const dirs: [string[], number][] = [
    [[...LONG_PATH_DIRS], BASE_MTIME + 500], [LONG_PATH_DIRS.slice(0, 4), BASE_MTIME + 501],
    [['dir1', 'sub', 'deeper'], 1577836800], [['dir1', 'sub'], BASE_MTIME + 502], [['dir1'], BASE_MTIME + 503],
    [['emptydir'], 1577836800], [['sticky'], BASE_MTIME + 504], [['setgid-dir'], BASE_MTIME + 505],
    [['doomed', 'inner'], BASE_MTIME + 506], [['doomed'], BASE_MTIME + 507], [['dir-to-file'], BASE_MTIME + 508],
    [['m'.repeat(90)], BASE_MTIME + 509], [['a'], BASE_MTIME + 510],
  ];
  for (const [parts, t] of dirs) await setMtime(at(...parts), t);
  await setMtime(root, BASE_MTIME + 1000);
  return { devices, owners };
}

/**
 * Changes the tree as an incremental must record it. Round 1 (the default) does every kind of change;
 * round 2 does a few more on top of round 1's result, for a second incremental.
 * Everything touched gets MUTATED_MTIME (round 1) or ROUND2_MTIME (round 2) unless noted.
 */
export async function mutateTree(root: string, round: 1 | 2 = 1, seed = 1): Promise<void> {
  const at = (...parts: (string | Buffer)[]) => bytePath(root, ...parts);
  const t = round === 1 ? MUTATED_MTIME : ROUND2_MTIME;
  const touched: Buffer[] = [];
  const touch = (...parts: (string | Buffer)[]) => { touched.push(at(...parts)); };
  const dirsTouched = new Set<string>();
  const dirTouch = (...parts: string[]) => dirsTouched.add(parts.join('/'));

  if (round === 1) {
    await appendFile(at('hello.txt'), 'appended line\n'); touch('hello.txt');                              // append
    const numbers = await readFile(at('dir1', 'numbers.txt'));                                              // edits in the middle
    numbers.write('MIDDLE-CHANGED', 55_000);
    await writeFile(at('dir1', 'numbers.txt'), mutate(seed + 10, numbers, 5)); touch('dir1', 'numbers.txt');
    const x64 = await readFile(at('exact64k.bin'));
    x64[100] ^= 0xff;
    await writeFile(at('exact64k.bin'), x64); touch('exact64k.bin');
    try {
      const big = await open(at('big.bin'), 'r+');
      try {
        const size = (await big.stat()).size;
        await big.write(Buffer.from('CHANGED IN THE MIDDLE'), 0, 21, Math.floor(size / 2));
        await big.write(randomBytes(seed + 11, 1_200_000), 0, 1_200_000, size);                            // and grows
      } finally { await big.close(); }
      touch('big.bin');
    } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; }
    await truncate(at('truncate-me.bin'), 5000); touch('truncate-me.bin');                                   // truncate
    await unlink(at('empty')); dirTouch();                                                                    // delete a file
    await rm(at('emptydir'), { recursive: true });                                                            // delete directories
    await rm(at('doomed'), { recursive: true });
    await rename(at('rename-me.txt'), at('renamed.txt'));                                                     // rename (keeps its mtime)
    await unlink(at('hard2')); await mkdir(at('hard2')); await writeFile(at('hard2', 'now-a-dir.txt'), 'x\n'); // file -> directory
    touch('hard2', 'now-a-dir.txt'); dirTouch('hard2');
    await rm(at('dir-to-file'), { recursive: true }); await writeFile(at('dir-to-file'), 'was a dir\n'); touch('dir-to-file'); // directory -> file
    await unlink(at('fifo-to-file')); await writeFile(at('fifo-to-file'), 'was a fifo\n'); touch('fifo-to-file'); // fifo -> file
    await unlink(at('link-to-file')); await writeFile(at('link-to-file'), 'was a link\n'); touch('link-to-file'); // symlink -> file
    await chmod(at('old.txt'), 0o600);                                                                        // chmod only
    await setMtime(at('dir1', 'sub', 'deeper', 'deepfile'), 1012615322);                            // mtime only (2002-02-02)
    await unlink(at('link-to-hello')); await symlink('old.txt', at('link-to-hello'));                         // symlink retarget
    await setLinkMtime(at('link-to-hello'), t);
    if (process.getuid?.() === 0) await chown(at('chown-only'), 1234, 1234);                                  // owner only
    await writeFile(at('dir1', 'new-file.txt'), 'brand new\n'); touch('dir1', 'new-file.txt'); dirTouch('dir1'); // new files
    await writeFile(at('new ünïcødé file.txt'), 'new utf8\n'); touch('new ünïcødé file.txt');
    await writeFile(at(`${'N'.repeat(120)}.bin`), randomBytes(seed + 12, 70_000)); touch(`${'N'.repeat(120)}.bin`);
    await writeFile(at(...LONG_PATH_DIRS, 'g'.repeat(100)), 'new long path\n'); touch(...LONG_PATH_DIRS, 'g'.repeat(100)); dirTouch(...LONG_PATH_DIRS);
    await writeFile(at('empty-new'), ''); touch('empty-new');
    dirTouch();
  } else {
    await appendFile(at('hello.txt'), 'second round\n'); touch('hello.txt');
    const renamed = await readFile(at('renamed.txt'));
    await writeFile(at('renamed.txt'), mutate(seed + 20, renamed, 3)); touch('renamed.txt');
    await unlink(at('dangling-link'));
    await chmod(at('dir1', 'numbers.txt'), 0o640);
    await unlink(at('link-to-hello')); await symlink('hello.txt', at('link-to-hello'));
    await setLinkMtime(at('link-to-hello'), t);
    await writeFile(at('hard2', 'second.txt'), randomText(seed + 21, 80_000)); touch('hard2', 'second.txt'); dirTouch('hard2');
    await rm(at('hard2', 'now-a-dir.txt'));
    await writeFile(at('round2.txt'), 'round 2\n'); touch('round2.txt');
    dirTouch();
  }
  for (const p of touched) await setMtime(p, t);
  // deepest first, so a parent's time is set after its children's changes
  for (const d of [...dirsTouched].sort((a, b) => b.length - a.length)) {
    const p = d === '' ? Buffer.from(root) : at(...d.split('/'));
    await setMtime(p, t);
  }
}
