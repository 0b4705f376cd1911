// The deterministic parts of the backup benchmark's dataset (bench/run.sh): incompressible data, logs,
// small uploads, one day of changes, and a digest of a tree to check restores and reproducibility.
// Same arguments, same bytes: every generator is keyed by a seed string (AES-128-CTR keystream for
// incompressible bytes, xorshift128 for choices), every file written gets a fixed mtime.
//
// Usage (after `npx tsc -p .`), as bench/dataset.sh and bench/mutate.sh call it:
//   node dist/bench/dataset-tool.js random FILE BYTES SEED
//   node dist/bench/dataset-tool.js logs DIR FILES BYTES_EACH SEED
//   node dist/bench/dataset-tool.js uploads DIR FILES SEED
//   node dist/bench/dataset-tool.js mutate TREE DAY1_DUMP
//   node dist/bench/dataset-tool.js digest DIR [--list]
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import {
  closeSync, copyFileSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, rmSync,
  utimesSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';

const MIB = 1 << 20;
/** mtime of everything generated for day 0, and of everything the day's changes touch */
const DAY0 = Date.UTC(2026, 0, 1, 3, 0, 0) / 1000;
const DAY1 = Date.UTC(2026, 0, 2, 3, 0, 0) / 1000;

/** An endless deterministic stream of incompressible bytes: AES-128-CTR over zeros, keyed by the seed. */
class Keystream {
  readonly #cipher;
  constructor(seed: string) {
    const key = createHash('sha256').update(`lifeboat-bench:${seed}`).digest();
    this.#cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  }
  next(length: number): Buffer {
    return this.#cipher.update(Buffer.alloc(length));
  }
}

/** xorshift128: small, fast and the same on every platform. */
class Choices {
  #x: number; #y: number; #z: number; #w: number;
  constructor(seed: string) {
    const h = createHash('sha256').update(seed).digest();
    this.#x = h.readUInt32LE(0) | 1; this.#y = h.readUInt32LE(4); this.#z = h.readUInt32LE(8); this.#w = h.readUInt32LE(12);
  }
  /** an integer in [0, n) */
  below(n: number): number {
    const t = this.#x ^ (this.#x << 11);
    this.#x = this.#y; this.#y = this.#z; this.#z = this.#w;
    this.#w = (this.#w ^ (this.#w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return Math.floor((this.#w / 0x100000000) * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

function writeRandom(file: string, bytes: number, seed: string): void {
  const stream = new Keystream(seed);
  const fd = openSync(file, 'w');
  try {
    for (let left = bytes; left > 0; left -= MIB) writeSync(fd, stream.next(Math.min(MIB, left)));
  } finally {
    closeSync(fd);
  }
  utimesSync(file, DAY0, DAY0);
}

const WORDS = ['GET', 'POST', 'api', 'users', 'orders', 'static', 'css', 'img', 'login', 'search', 'cart',
  'checkout', 'admin', 'health', 'v1', 'v2', 'report', 'export', 'invoice', 'product'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64)', 'curl/7.88.1', 'python-requests/2.28.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64)', 'Googlebot/2.1'];

/** Web-server-like log lines (compress about 5-8x with gzip, like real logs). */
function logLines(choices: Choices, startSecond: number, bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  let second = startSecond;
  while (size < bytes) {
    second += choices.below(3);
    const path = `/${choices.pick(WORDS)}/${choices.pick(WORDS)}/${choices.below(100000)}`;
    const ip = `10.${choices.below(256)}.${choices.below(256)}.${choices.below(256)}`;
    const line = `${ip} - - [${new Date(second * 1000).toISOString()}] "${choices.pick(WORDS.slice(0, 2))} ${path} ` +
      `HTTP/1.1" ${choices.pick([200, 200, 200, 304, 404, 500])} ${choices.below(50000)} "-" "${choices.pick(AGENTS)}" ` +
      `rt=${choices.below(2000) / 1000}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''));
}

function writeLogs(dir: string, files: number, bytesEach: number, seed: string): void {
  mkdirSync(dir, { recursive: true });
  const choices = new Choices(seed);
  for (let i = 0; i < files; i++) {
    const file = join(dir, `access-${String(i).padStart(2, '0')}.log`);
    const fd = openSync(file, 'w');
    try { writeSync(fd, logLines(choices, DAY0 - 86400, bytesEach)); } finally { closeSync(fd); }
    utimesSync(file, DAY0, DAY0);
  }
}

/** Small incompressible files (1-48 KiB), as a web application's uploaded images, 100 per directory. */
function writeUploads(dir: string, files: number, seed: string, firstIndex = 0): string[] {
  const choices = new Choices(`${seed}:sizes`);
  const stream = new Keystream(seed);
  const written: string[] = [];
  for (let i = firstIndex; i < firstIndex + files; i++) {
    const sub = join(dir, String(Math.floor(i / 100)).padStart(3, '0'));
    mkdirSync(sub, { recursive: true });
    const file = join(sub, `upload-${String(i).padStart(5, '0')}.jpg`);
    const fd = openSync(file, 'w');
    try { writeSync(fd, stream.next(1024 + choices.below(47 * 1024))); } finally { closeSync(fd); }
    utimesSync(file, DAY0, DAY0);
    written.push(file);
  }
  return written;
}

/** Every regular file under dir, sorted by path (bytes order), symlinks not followed. */
function regularFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (path: string): void => {
    for (const name of readdirSync(path).sort()) {
      const child = join(path, name);
      const st = lstatSync(child);
      if (st.isDirectory()) visit(child);
      else if (st.isFile()) out.push(child);
    }
  };
  visit(dir);
  return out;
}

function appendTo(file: string, data: Buffer): void {
  const fd = openSync(file, 'a');
  try { writeSync(fd, data); } finally { closeSync(fd); }
  utimesSync(file, DAY1, DAY1);
}

/**
 * One day on the server: the dump replaced, SQLite rows updated, inserted and deleted, logs appended,
 * scattered writes into the big data file, 1 % of system and application files edited, new uploads
 * and a new data file, 1 in 50 uploads deleted. Prints a summary line.
 */
function mutate(tree: string, day1Dump: string): void {
  const choices = new Choices('day1');
  const stream = new Keystream('day1');
  const counts = { edited: 0, appended: 0, added: 0, deleted: 0 };

  copyFileSync(day1Dump, join(tree, 'var/backups/pgbench.sql'));
  utimesSync(join(tree, 'var/backups/pgbench.sql'), DAY1, DAY1);
  counts.edited++;

  const sqlite = join(tree, 'var/lib/app/app.sqlite');
  const sql = `
    UPDATE orders SET status = 'shipped', note = note || ' (shipped day 1)' WHERE id % 97 = 5;
    DELETE FROM orders WHERE id % 211 = 3;
    INSERT INTO orders (customer_id, status, amount_cents, note)
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
      SELECT (i * 7919) % 20000 + 1, 'new', (i * 104729) % 100000, printf('day 1 order %d for %s', i, hex(i * 2654435761))
      FROM n;`;
  const result = spawnSync('sqlite3', [sqlite], { input: sql, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`sqlite3 failed: ${result.stderr}`);
  utimesSync(sqlite, DAY1, DAY1);
  counts.edited++;

  const logDir = join(tree, 'var/log/app');
  for (const name of readdirSync(logDir).sort()) {
    appendTo(join(logDir, name), logLines(choices, DAY0, 256 * 1024));
    counts.appended++;
  }

  // scattered 4 KiB writes into the big data file, as a VM image or database file changes
  const big = join(tree, 'srv/data/blob-0.bin');
  const bigSize = lstatSync(big).size;
  const fd = openSync(big, 'r+');
  try {
    for (let i = 0; i < 64; i++) writeSync(fd, stream.next(4096), 0, 4096, choices.below(Math.floor(bigSize / 4096)) * 4096);
  } finally { closeSync(fd); }
  utimesSync(big, DAY1, DAY1);
  counts.edited++;

  // 1 % of the system's and the application's files get a line appended (config edits, upgrades)
  const textual = [...regularFiles(join(tree, 'root/etc')), ...regularFiles(join(tree, 'root/usr/share')),
    ...regularFiles(join(tree, 'srv/django'))];
  for (let i = 0; i < textual.length; i += 100) {
    appendTo(textual[i], Buffer.from(`\n# changed on day 1 (${i})\n`));
    counts.edited++;
  }

  const uploadsDir = join(tree, 'srv/uploads');
  const uploads = regularFiles(uploadsDir);
  for (let i = 0; i < uploads.length; i += 50) {
    rmSync(uploads[i]);
    counts.deleted++;
  }
  counts.added += writeUploads(uploadsDir, 200, 'day1-uploads', 100000).length;
  writeRandom(join(tree, 'srv/data/blob-day1.bin'), 16 * MIB, 'day1-blob');
  utimesSync(join(tree, 'srv/data/blob-day1.bin'), DAY1, DAY1);
  counts.added++;

  console.log(`day 1: ${counts.edited} files edited, ${counts.appended} appended, ${counts.added} added, ${counts.deleted} deleted`);
}

/**
 * A digest of a tree as a restore must reproduce it: per entry its path, type, mode, owner, and for
 * regular files size, mtime (seconds) and SHA-1 of the content, for symlinks the target, for devices
 * the device number. Directory mtimes are left out (tools differ on them and no test here is about them).
 */
function digest(dir: string, list: boolean): void {
  const total = createHash('sha256');
  let entries = 0;
  let bytes = 0;
  const buffer = Buffer.alloc(MIB);
  const visit = (path: string, rel: string): void => {
    for (const name of readdirSync(path).sort()) {
      const child = join(path, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(child);
      let line = `${childRel} ${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isFile()) {
        const hash = createHash('sha1');
        const fd = openSync(child, 'r');
        try {
          for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0;) hash.update(buffer.subarray(0, n));
        } finally { closeSync(fd); }
        line += ` ${st.size} ${Math.floor(st.mtimeMs / 1000)} ${hash.digest('hex')}`;
        bytes += st.size;
      } else if (st.isSymbolicLink()) {
        line += ` -> ${readlinkSync(child)}`;
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        line += ` dev ${st.rdev}`;
      }
      entries++;
      total.update(line + '\n');
      if (list) console.log(line);
      if (st.isDirectory()) visit(child, childRel);
    }
  };
  visit(dir, '');
  if (!list) console.log(`${total.digest('hex')} ${entries} entries ${bytes} bytes`);
}

function main(argv: string[]): void {
  const [command, ...args] = argv;
  switch (command) {
    case 'random': writeRandom(args[0], Number(args[1]), args[2]); break;
    case 'logs': writeLogs(args[0], Number(args[1]), Number(args[2]), args[3]); break;
    case 'uploads': writeUploads(args[0], Number(args[1]), args[2]); break;
    case 'mutate': mutate(args[0], args[1]); break;
    case 'digest': digest(args[0], args[1] === '--list'); break;
    default:
      console.error('usage: dataset-tool.js random|logs|uploads|mutate|digest ... (see the top of bench/dataset-tool.ts)');
      process.exit(2);
  }
}

main(process.argv.slice(2));
