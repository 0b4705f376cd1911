// Benchmark of src/librsync against librsync's own rdiff (2.3.x), on the same files, side by side:
//   signature (block 2048, sum 8, md4/rollsum: duplicity's settings for big files),
//   delta of a file that mostly matches the basis (a few hundred small scattered edits),
//   delta of a file of new data (random, unrelated to the basis),
//   patch (applying the mostly-matching delta).
// Ours runs twice: in-process ("lib": the library fed a file stream, output buffered into a file; the
// algorithm's speed) and as a process ("cli": node bin/lifeboat.js rdiff ..., comparable to rdiff's).
// Every output is checked (signatures against rdiff's bytes, deltas by patching them with rdiff and
// with ours, patches against the new file) so a speed is never reported for a wrong answer.
//
// Usage: npm run bench:librsync [-- --size-mib N] [--repeats N] [--edits N] [--read-kib N] [--work-dir DIR] [--keep]
// (bench/README.md has the method and the latest results)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateDelta } from '../src/librsync/delta.js';
import { applyPatch, type BasisReader } from '../src/librsync/patch.js';
import { generateSignature, parseSignature } from '../src/librsync/signature.js';

const BLOCK_LENGTH = 2048;
const STRONG_LENGTH = 8;
const MIB = 1 << 20;
const RDIFF = process.env.RDIFF ?? '/usr/bin/rdiff';
const TIME = '/usr/bin/time';

type Impl = 'rdiff' | 'lib' | 'cli';
const IMPLS: Impl[] = ['rdiff', 'lib', 'cli'];
type CaseId = 'signature' | 'delta-similar' | 'delta-random' | 'patch';
const CASES: { id: CaseId; title: string }[] = [
  { id: 'signature', title: 'signature (b 2048, S 8, md4/rollsum)' },
  { id: 'delta-similar', title: 'delta, new file mostly matches' },
  { id: 'delta-random', title: 'delta, new file all new data' },
  { id: 'patch', title: 'patch (the mostly-matching delta)' },
];

interface Run {
  wall: number;
  /** user+sys CPU seconds (a child's from /usr/bin/time; in-process from process.cpuUsage) */
  cpu: number;
  /** peak RSS in MiB (children only) */
  rssMiB: number;
  /** in-process only: the fsync of the output, timed apart (the CLI's writer fsyncs, rdiff does not) */
  fsync: number;
}

// ---------------------------------------------------------------------------------------------
// command line

const { values: opts } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '256' },
    repeats: { type: 'string', default: '3' },
    edits: { type: 'string' },
    'read-kib': { type: 'string', default: '64' },
    'work-dir': { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (opts.help) {
  process.stdout.write(`Usage: node dist/bench/librsync.bench.js [--size-mib N] [--repeats N] [--edits N] [--read-kib N] [--work-dir DIR] [--keep]
  --size-mib N   size of the basis and new files (default 256)
  --repeats N    timed runs of each measurement, interleaved; medians reported (default 3)
  --edits N      edits in the mostly-matching file (default 300 per 256 MiB, at least 10)
  --read-kib N   read size of the in-process runs' file streams (default 64, Node's and the CLI's)
  --work-dir D   where the data goes (default bench/work/run-PID); removed at the end unless --keep
`);
  process.exit(0);
}
const sizeMiB = Number(opts['size-mib']);
const repeats = Number(opts.repeats);
if (!(sizeMiB > 0) || !Number.isInteger(sizeMiB * 4)) throw new Error(`bad --size-mib ${opts['size-mib']}`);
if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`bad --repeats ${opts.repeats}`);
const SIZE = sizeMiB * MIB;
const READ = Number(opts['read-kib']) * 1024;
if (!Number.isInteger(READ) || READ < 1) throw new Error(`bad --read-kib ${opts['read-kib']}`);
const readStream = (path: string) => createReadStream(path, { highWaterMark: READ });
const EDITS = opts.edits !== undefined ? Number(opts.edits) : Math.max(10, Math.round((300 * sizeMiB) / 256));
if (!Number.isInteger(EDITS) || EDITS < 0) throw new Error(`bad --edits ${opts.edits}`);

const root = findRoot(dirname(fileURLToPath(import.meta.url)));
const CLI = join(root, 'bin', 'lifeboat.js');
const work = resolve(opts['work-dir'] ?? join(root, 'bench', 'work', `run-${process.pid}`));
const f = {
  basis: join(work, 'basis.bin'),
  similar: join(work, 'new-similar.bin'),
  random: join(work, 'new-random.bin'),
  sigRef: join(work, 'ref.sig'),
  deltaRef: join(work, 'ref-similar.delta'),
  scratch: join(work, 'scratch.out'),
  time: join(work, 'time.txt'),
};

function findRoot(start: string): string {
  for (let d = start; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'bin', 'lifeboat.js'))) return d;
    if (dirname(d) === d) throw new Error(`no project root above ${start}`);
  }
}

// ---------------------------------------------------------------------------------------------
// data: xorshift128 with a fixed seed, so every run benchmarks the same bytes

class XorShift128 {
  #x: number; #y: number; #z: number; #w: number;
  constructor(seed: number) {
    // splitmix32 spreads the seed over the state
    const s = [0, 0, 0, 0].map((_, i) => {
      let z = (seed + Math.imul(i + 1, 0x9e3779b9)) | 0;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 1;
    });
    [this.#x, this.#y, this.#z, this.#w] = s;
  }
  next(): number {
    const t = this.#x ^ (this.#x << 11);
    this.#x = this.#y; this.#y = this.#z; this.#z = this.#w;
    this.#w = (this.#w ^ (this.#w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.#w;
  }
  below(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }
  /** n random bytes: whole words in the host's byte order (little-endian on x86 and ARM), then the tail. */
  bytes(n: number): Buffer {
    const buf = Buffer.allocUnsafeSlow(n);
    const words = new Uint32Array(buf.buffer, buf.byteOffset, n >>> 2);
    let x = this.#x, y = this.#y, z = this.#z, w = this.#w;
    for (let i = 0; i < words.length; i++) {
      const t = x ^ (x << 11);
      x = y; y = z; z = w;
      w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
      words[i] = w;
    }
    this.#x = x; this.#y = y; this.#z = z; this.#w = w;
    for (let i = words.length * 4; i < n; i++) buf[i] = this.next() & 0xff;
    return buf;
  }
}

interface EditCounts { overwrite: number; insert: number; delete: number }

/** The basis with `count` small edits (1-64 bytes overwritten, inserted or deleted) at random places. */
function withEdits(basis: Buffer, count: number, rng: XorShift128): { data: Buffer; counts: EditCounts } {
  const positions = Array.from({ length: count }, () => rng.below(basis.length)).sort((a, b) => a - b);
  const counts: EditCounts = { overwrite: 0, insert: 0, delete: 0 };
  const pieces: Buffer[] = [];
  let cursor = 0;
  for (const pos of positions) {
    if (pos < cursor) continue; // overlaps the previous edit
    pieces.push(basis.subarray(cursor, pos));
    const length = 1 + rng.below(64);
    const kind = (['overwrite', 'insert', 'delete'] as const)[rng.below(3)];
    counts[kind]++;
    if (kind !== 'delete') pieces.push(rng.bytes(length));
    cursor = kind === 'insert' ? pos : Math.min(pos + length, basis.length);
  }
  pieces.push(basis.subarray(cursor));
  return { data: Buffer.concat(pieces), counts };
}

async function writeFileBuffered(path: string, data: Buffer): Promise<void> {
  const h = await open(path, 'w');
  try {
    for (let p = 0; p < data.length; p += 16 * MIB) await h.write(data, p, Math.min(16 * MIB, data.length - p));
  } finally {
    await h.close();
  }
}

// ---------------------------------------------------------------------------------------------
// running

/**
 * Writes a stream of chunks to `path`: chunks of 64 KiB or more as they come, smaller ones gathered
 * into 1 MiB writes (a signature comes in 384-byte pieces). The clock stops before the fsync.
 */
async function sink(path: string, source: AsyncIterable<Uint8Array>, stopClock: () => void): Promise<number> {
  const h = await open(path, 'w');
  try {
    const buf = Buffer.allocUnsafe(MIB);
    let used = 0;
    for await (const chunk of source) {
      if (chunk.length >= 64 * 1024 || used + chunk.length > buf.length) {
        if (used > 0) { await h.write(buf, 0, used); used = 0; }
        if (chunk.length >= 64 * 1024) { await h.write(chunk); continue; }
      }
      buf.set(chunk, used);
      used += chunk.length;
    }
    if (used > 0) await h.write(buf, 0, used);
    stopClock();
    const t = process.hrtime.bigint();
    await h.sync();
    return Number(process.hrtime.bigint() - t) / 1e9;
  } finally {
    await h.close();
  }
}

function fileReader(handle: Awaited<ReturnType<typeof open>>): BasisReader {
  return async (position, length) => {
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  };
}

const hasTime = existsSync(TIME);

async function runChild(command: string, args: string[]): Promise<Run> {
  const argv = hasTime ? ['-f', '%e %U %S %M', '-o', f.time, command, ...args] : args;
  const start = process.hrtime.bigint();
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((res, rej) => {
    const child = spawn(hasTime ? TIME : command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    child.on('error', rej);
    child.on('close', (c) => res({ code: c, stderr: err }));
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`);
  let cpu = NaN, rssMiB = NaN;
  if (hasTime) {
    const last = (await readFile(f.time, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
    cpu = last[1] + last[2];
    rssMiB = last[3] / 1024;
  }
  return { wall, cpu, rssMiB, fsync: NaN };
}

async function runLib(c: CaseId, out: string): Promise<Run> {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  let end = 0n;
  let cpu = { user: 0, system: 0 };
  const stop = () => { end = process.hrtime.bigint(); cpu = process.cpuUsage(cpu0); };
  let fsync: number;
  switch (c) {
    case 'signature':
      fsync = await sink(out, generateSignature(readStream(f.basis), {
        blockLength: BLOCK_LENGTH, strongLength: STRONG_LENGTH,
      }), stop);
      break;
    case 'delta-similar':
    case 'delta-random': {
      const sig = await parseSignature(readStream(f.sigRef));
      fsync = await sink(out, generateDelta(sig, readStream(c === 'delta-similar' ? f.similar : f.random)), stop);
      break;
    }
    case 'patch': {
      const h = await open(f.basis, 'r');
      try {
        fsync = await sink(out, applyPatch(fileReader(h), readStream(f.deltaRef)), stop);
      } finally {
        await h.close();
      }
      break;
    }
  }
  return { wall: Number(end - start) / 1e9, cpu: (cpu.user + cpu.system) / 1e6, rssMiB: NaN, fsync };
}

function childArgs(c: CaseId, out: string): string[] {
  switch (c) {
    case 'signature': return ['signature', '-b', String(BLOCK_LENGTH), '-S', String(STRONG_LENGTH), '-H', 'md4', '-R', 'rollsum', f.basis, out];
    case 'delta-similar': return ['delta', f.sigRef, f.similar, out];
    case 'delta-random': return ['delta', f.sigRef, f.random, out];
    case 'patch': return ['patch', f.basis, f.deltaRef, out];
  }
}

async function run(impl: Impl, c: CaseId, out: string): Promise<Run> {
  await rm(out, { force: true });
  switch (impl) {
    case 'rdiff': return runChild(RDIFF, childArgs(c, out));
    case 'cli': return runChild(process.execPath, [CLI, 'rdiff', ...childArgs(c, out)]);
    case 'lib': return runLib(c, out);
  }
}

// ---------------------------------------------------------------------------------------------
// checking

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MIB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const expected = new Map<string, string>(); // new file -> its sha256
/** sha256 of each delta output already shown to patch right, per case and implementation */
const verifiedDeltas = new Map<string, string>();
const deltaInfo = new Map<string, { size: number; sha: string }>();

async function patchWithLib(delta: string, out: string): Promise<void> {
  const h = await open(f.basis, 'r');
  try {
    await sink(out, applyPatch(fileReader(h), createReadStream(delta)), () => undefined);
  } finally {
    await h.close();
  }
}

async function verify(impl: Impl, c: CaseId, out: string): Promise<void> {
  const fail = (what: string) => { throw new Error(`WRONG OUTPUT: ${impl} ${c}: ${what} (output kept at ${out})`); };
  switch (c) {
    case 'signature': {
      if (!(await readFile(out)).equals(await readFile(f.sigRef))) fail('signature differs from rdiff\'s');
      return;
    }
    case 'delta-similar':
    case 'delta-random': {
      const target = c === 'delta-similar' ? f.similar : f.random;
      const key = `${c}/${impl}`;
      const sha = await sha256(out);
      if (verifiedDeltas.get(key) === sha) return; // byte-identical to an output already proven right
      for (const patcher of ['rdiff', 'lib'] as const) {
        await rm(f.scratch, { force: true });
        if (patcher === 'rdiff') await runChild(RDIFF, ['patch', f.basis, out, f.scratch]);
        else await patchWithLib(out, f.scratch);
        if ((await sha256(f.scratch)) !== expected.get(target)) fail(`patching it with ${patcher} does not give the new file`);
      }
      await rm(f.scratch, { force: true });
      verifiedDeltas.set(key, sha);
      deltaInfo.set(key, { size: (await stat(out)).size, sha });
      return;
    }
    case 'patch':
      if ((await sha256(out)) !== expected.get(f.similar)) fail('patched file differs from the new file');
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// reporting

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const mbps = (bytes: number, s: number) => (s > 0 ? bytes / 1e6 / s : NaN);
const ratio = (rdiff: number, ours: number) => (rdiff > 0 && ours > 0 ? rdiff / ours : NaN);

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? m[1].trim() : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function rdiffVersion(): Promise<string> {
  return new Promise((res) => {
    const child = spawn(RDIFF, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    child.on('error', () => res('unknown'));
    child.on('close', () => res(out.split('\n')[0] ?? 'unknown'));
  });
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(RDIFF)) throw new Error(`${RDIFF} not found; install librsync's rdiff (apt-get install rdiff) or set RDIFF`);
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) throw new Error('not built: run "npm run build" first');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const loadBefore = loadavg();
  const sizes = new Map<string, number>();
  let failed = false;
  try {
    // data
    let t = Date.now();
    {
      const basis = new XorShift128(0x11feb0a7).bytes(SIZE);
      const { data: similar, counts } = withEdits(basis, EDITS, new XorShift128(2));
      await writeFileBuffered(f.basis, basis);
      await writeFileBuffered(f.similar, similar);
      const random = new XorShift128(3).bytes(SIZE);
      await writeFileBuffered(f.random, random);
      expected.set(f.similar, createHash('sha256').update(similar).digest('hex'));
      expected.set(f.random, createHash('sha256').update(random).digest('hex'));
      sizes.set(f.basis, basis.length).set(f.similar, similar.length).set(f.random, random.length);
      log(`data: ${sizeMiB} MiB basis, a copy with ${counts.overwrite} overwrites, ${counts.insert} inserts and ` +
        `${counts.delete} deletes (${similar.length} bytes), ${sizeMiB} MiB random; ${Date.now() - t} ms`);
    }
    const caseBytes: Record<CaseId, number> = {
      signature: sizes.get(f.basis)!,
      'delta-similar': sizes.get(f.similar)!,
      'delta-random': sizes.get(f.random)!,
      patch: sizes.get(f.similar)!,
    };

    // untimed pass: makes the references, checks every implementation, warms caches and the JIT
    t = Date.now();
    for (const { id } of CASES) {
      for (const impl of IMPLS) {
        const out = join(work, `${id}.${impl}.out`);
        await run(impl, id, out);
        // rdiff's signature is the reference every signature is held to, and its delta the one patched
        if (impl === 'rdiff' && id === 'signature') await copyFile(out, f.sigRef);
        await verify(impl, id, out);
        if (impl === 'rdiff' && id === 'delta-similar') await copyFile(out, f.deltaRef);
        await rm(out, { force: true });
      }
    }
    log(`checked every implementation on every case; ${Date.now() - t} ms`);

    // CLI start-up cost, for reading the CLI numbers: a signature of an empty file
    const empty = join(work, 'empty');
    await writeFileBuffered(empty, Buffer.alloc(0));
    const startup: number[] = [];
    for (let i = 0; i < 3; i++) {
      await rm(f.scratch, { force: true });
      startup.push((await runChild(process.execPath, [CLI, 'rdiff', 'signature', '-b', '2048', empty, f.scratch])).wall);
    }

    // timed runs, interleaved: each repeat runs every case, rotating the order of implementations
    const runs = new Map<string, Run[]>();
    for (let r = 0; r < repeats; r++) {
      for (const { id } of CASES) {
        for (let k = 0; k < IMPLS.length; k++) {
          const impl = IMPLS[(k + r) % IMPLS.length];
          const out = join(work, `${id}.${impl}.out`);
          const result = await run(impl, id, out);
          await verify(impl, id, out);
          await rm(out, { force: true });
          const key = `${id}/${impl}`;
          runs.set(key, [...(runs.get(key) ?? []), result]);
          log(`repeat ${r + 1}/${repeats} ${id.padEnd(13)} ${impl.padEnd(5)} ${fmt(result.wall, 3)} s ` +
            `${fmt(mbps(caseBytes[id], result.wall), 1)} MB/s  cpu ${fmt(result.cpu, 2)} s`);
        }
      }
    }

    // report
    const today = new Date().toISOString().slice(0, 10);
    const lines: string[] = [];
    lines.push(`## librsync benchmark, ${today}`);
    lines.push('');
    lines.push(`Machine: ${availableParallelism()} vCPU (nproc), ${cpuModel()}; Node ${process.version}; ${await rdiffVersion()}.`);
    lines.push(`Files: ${sizeMiB} MiB; mostly-matching file has ${EDITS} scattered edits; block 2048, strong sum 8 bytes, md4/rollsum.`);
    lines.push(`Medians of ${repeats} interleaved runs after an untimed checking pass; MB/s = 10^6 bytes of the scanned/produced file per second.`);
    lines.push(`In-process ("lib") runs read with ${READ / 1024} KiB file streams. Load average (1/5/15 min) before: ` +
      `${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`);
    lines.push('');
    lines.push('| case | rdiff s | rdiff MB/s | lib s | lib MB/s | lib/rdiff | CLI s | CLI MB/s | CLI/rdiff |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const { id, title } of CASES) {
      const m = (impl: Impl) => median(runs.get(`${id}/${impl}`)!.map((x) => x.wall));
      const rd = m('rdiff'), lib = m('lib'), cli = m('cli');
      const b = caseBytes[id];
      lines.push(`| ${title} | ${fmt(rd, 3)} | ${fmt(mbps(b, rd), 0)} | ${fmt(lib, 3)} | ${fmt(mbps(b, lib), 0)} | ` +
        `${fmt(ratio(rd, lib), 2)} | ${fmt(cli, 3)} | ${fmt(mbps(b, cli), 0)} | ${fmt(ratio(rd, cli), 2)} |`);
    }
    lines.push('');
    lines.push('Ratios are speed ours/rdiff (rdiff time / our time); the goal is ≥ 0.50.');
    lines.push('');
    lines.push('The same by CPU time (user+sys; less disturbed by other load on the machine than wall time):');
    lines.push('');
    lines.push('| case | rdiff CPU s | rdiff MB/s | lib CPU s | lib MB/s | lib/rdiff | CLI CPU s | CLI MB/s | CLI/rdiff |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const { id, title } of CASES) {
      const m = (impl: Impl) => median(runs.get(`${id}/${impl}`)!.map((x) => x.cpu));
      const rd = m('rdiff'), lib = m('lib'), cli = m('cli');
      const b = caseBytes[id];
      lines.push(`| ${title} | ${fmt(rd, 3)} | ${fmt(mbps(b, rd), 0)} | ${fmt(lib, 3)} | ${fmt(mbps(b, lib), 0)} | ` +
        `${fmt(ratio(rd, lib), 2)} | ${fmt(cli, 3)} | ${fmt(mbps(b, cli), 0)} | ${fmt(ratio(rd, cli), 2)} |`);
    }
    lines.push('');
    lines.push('| case | impl | wall s, each run | CPU s (median) | peak RSS MiB | output fsync s (lib, not in wall) |');
    lines.push('| --- | --- | --- | ---: | ---: | ---: |');
    for (const { id } of CASES) {
      for (const impl of IMPLS) {
        const rs = runs.get(`${id}/${impl}`)!;
        lines.push(`| ${id} | ${impl} | ${rs.map((x) => fmt(x.wall, 3)).join(', ')} | ${fmt(median(rs.map((x) => x.cpu)), 2)} | ` +
          `${fmt(median(rs.map((x) => x.rssMiB)), 0)} | ${fmt(median(rs.map((x) => x.fsync)), 3)} |`);
      }
    }
    lines.push('');
    lines.push(`CLI start-up (signature of an empty file): ${startup.map((s) => fmt(s, 3)).join(', ')} s.`);
    const ds = ['delta-similar', 'delta-random'].map((c) => {
      const rd = deltaInfo.get(`${c}/rdiff`)!;
      const lib = deltaInfo.get(`${c}/lib`)!;
      return `${c}: rdiff ${rd.size} bytes, ours ${lib.size} bytes (${lib.sha === rd.sha ? 'byte-identical' : 'different bytes'})`;
    });
    lines.push(`Delta sizes: ${ds.join('; ')}.`);
    lines.push('Checked: every signature equals rdiff\'s byte for byte; every delta, patched by rdiff and by ours, gives the new file; every patch output equals the new file.');
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    if (opts.keep || failed) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

await main();
