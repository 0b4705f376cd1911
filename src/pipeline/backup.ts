// One backup run (specs §9): walk the source in index order, merge-join it with the previous
// signature state, and write difftar volumes, then the signature file, then the manifest, last.
// Orchestration only: the formats live in duplicity/, tar/ and librsync/.
// Files are opened and read with synchronous calls: see the note in selection/walk.ts.
// Big changed files get their deltas on worker threads, cut into segments (delta-workers.ts).
import { closeSync, openSync, readSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { Backend } from '../backend/types.js';
import { entryFromHeader } from '../duplicity/entry-header.js';
import { deletedMember, payloadMembers, PIECE_SIZE, singleMember, snapshotMember, type DifftarMember } from '../duplicity/difftar.js';
import { indexToPath } from '../duplicity/member-names.js';
import { deletedSignatureHeader, signatureHeader, snapshotSignatureHeader } from '../duplicity/sigtar.js';
import { isSystemError } from '../errors/format-error.js';
import { compareIndex, formatPath, pathOfIndex, type Entry } from '../fsmeta/entry.js';
import { resolveOwner, systemNames, type NameDatabase } from '../fsmeta/names.js';
import { indexSignature } from '../librsync/delta.js';
import { DUPLICITY_STRONG_LENGTH, duplicityBlockLength, parseSignatureBytes, SignatureBuilder } from '../librsync/signature.js';
import { walkedDirectorySize, walkSourceSync, type WalkSelection } from '../selection/walk.js';
import { TarWriter } from '../tar/tar-writer.js';
import type { SignatureStateEntry } from './signature-state.js';
import { SpoolFile, type SpoolResult } from './spool.js';
import { VolumeSplitter, type VolumeRecord } from './volume-splitter.js';
import { BackupStatistics } from './statistics.js';
import { FilelistSpool, type FilelistKind } from './filelist-spool.js';
import { filePayload } from './file-payload.js';
import type { DeltaWorkers } from './delta-workers.js';
import type { StateIndexWriter } from './state-index.js';
import { batchesOf } from './batched.js';
import { ReadAhead } from './read-ahead.js';

export interface BackupNames {
  volume(n: number): string;
  signatures: string;
}

export interface BackupRunOptions {
  source: string;
  backend: Backend;
  names: BackupNames;
  /** the previous chain's signature state, oldest sigtar first; undefined for a full backup */
  previous?: AsyncIterable<SignatureStateEntry>;
  /** from when the previous backup of the chain started to when this one starts (seconds): see isUnchanged */
  racyWindow?: RacyWindow;
  compress: boolean;
  /** gzip level (default 6) */
  compressLevel?: number;
  /** encrypted volumes: a new OpenPGP encryptor per volume (the signature file stays gzipped for the cache) */
  encryptor?: () => Duplex;
  volumeSizeBytes: number;
  tempdir: string;
  maxBlockSize: number;
  dryRun?: boolean;
  signal?: AbortSignal;
  onWarning(message: string): void;
  onInfo?(message: string): void;
  /** called once per source object with the counts so far (the CLI throttles it for --progress) */
  onProgress?(statistics: BackupStatistics): void;
  /** for tests: another passwd/group */
  nameDatabase?: NameDatabase;
  /** for tests: the read-ahead of a full backup (one whose thread was started); else its own */
  readAhead?: ReadAhead;
  /** duplicity's file selection; objects left out that the previous state has become deletions */
  selection?: WalkSelection;
  /** receives the state this backup leaves (for the state index), in index order */
  stateIndex?: StateIndexWriter;
}

/** changed files from this size up get their delta on the worker threads (delta-workers.ts) */
const DELTA_WORKER_MIN_BYTES = 1 << 20;

/** What the previous backup had at an index (its signature read when the new object needs a delta). */
interface PreviousObject {
  entry: Entry;
  kind: SignatureStateEntry['kind'];
  signature?: Buffer;
}

export interface BackupRunResult {
  volumes: VolumeRecord[];
  /** the signature file, gzipped when compress or encrypting; the caller encrypts it, uploads it and caches it */
  signatures: SpoolResult;
  filelist: FilelistSpool;
  statistics: BackupStatistics;
}

/** Runs the data part of a backup; the caller stores the signature file and writes the manifest. */
export async function runBackup(options: BackupRunOptions): Promise<BackupRunResult> {
  const names = options.nameDatabase ?? (await systemNames());
  const stats = new BackupStatistics();
  const splitter = new VolumeSplitter({
    backend: options.backend, tempdir: options.tempdir, compress: options.compress, gzipLevel: options.compressLevel, encryptor: options.encryptor,
    volumeSizeBytes: options.volumeSizeBytes, nameOf: options.names.volume, signal: options.signal, dryRun: options.dryRun,
  });
  // signatures are about 1 % of the data: 256 KiB blocks, each waited for once the next has started
  // (parallel 1), keep up with them and hold 0.5 MiB, where the volumes' 1 MiB blocks (parallel 2) hold 3
  const sigSpool = new SpoolFile(options.tempdir, {
    compress: options.compress || options.encryptor !== undefined, gzipLevel: options.compressLevel, gzipBlockBytes: 256 * 1024, gzipParallel: 1,
  });
  const sigTar = new TarWriter();
  const filelist = new FilelistSpool(options.tempdir);
  const writeSig = async (parts: Buffer[]) => { for (const p of parts) await sigSpool.write(p); };
  const addMember = async (m: DifftarMember) => splitter.add(m.parts, { index: m.index, block: m.block });

  /** a full backup reads every file: once its reads come from disk, the next ones are read into the page cache ahead of it (read-ahead.ts) */
  let readAhead: ReadAhead | undefined;
  // what the walk reports waits, while it runs ahead, until the backup reaches the object it came before
  const later = (report: () => void) => (readAhead ? readAhead.later(report) : report());
  const walk = walkSourceSync(options.source, {
    onWarning: (path, message, detail) => later(() => {
      if (detail.code === 'negative-mtime') {
        // duplicity names the path relative to the source here (path.get_relative_path())
        options.onWarning(`Warning: ${formatPath(indexToPath(detail.index))} has negative mtime, treating as 0.`);
        return;
      }
      stats.errors++;
      options.onWarning(`${message} ${formatPath(path)}`);
    }),
    onSkip: (path, reason) => later(() => options.onInfo?.(reason === 'socket' ? `Skipping socket ${formatPath(path)}` : `Skipping ${formatPath(path)} on another file system`)),
    names,
    selection: options.selection,
  });
  // the previous state a batch at a time (64 of the state index's records): an object already at hand is
  // taken without a promise. Read first inside the try below: a damaged signature file must not leave
  // the spools open
  const oldBatches = options.previous ? batchesOf(options.previous) : undefined;
  let oldBatch: SignatureStateEntry[] = [];
  let oldAt = 0;
  /** the previous state's next object; undefined when it is done */
  let old: SignatureStateEntry | undefined;
  const refillOld = async () => {
    oldBatch = [];
    for (let next = await oldBatches!.next(); !next.done; next = await oldBatches!.next()) {
      if (next.value.length > 0) {
        oldBatch = next.value;
        break;
      }
    }
    oldAt = 0;
    old = oldBatch.length > 0 ? oldBatch[oldAt++] : undefined;
  };
  /** Moves to the previous state's next object: a promise only when the next batch must be read. */
  const nextOld = (): Promise<void> | undefined => {
    if (oldAt < oldBatch.length) {
      old = oldBatch[oldAt++];
      return undefined;
    }
    if (!oldBatches) {
      old = undefined;
      return undefined;
    }
    return refillOld();
  };

  // made on the first big changed file, and its module loaded then: a full or no-change backup
  // starts no thread and loads no worker_threads
  let workers: DeltaWorkers | undefined;
  /** every small file is read into this: its member is written out (copied) before the next is read */
  const smallFileBuffer = Buffer.allocUnsafe(PIECE_SIZE);
  /** and the last, short piece of every other file's payload is gathered here (readPieces) */
  const pieceBuffer = Buffer.allocUnsafe(PIECE_SIZE);
  /** and the other files are read through this, on this thread */
  const readBuffer = Buffer.allocUnsafe(PIECE_SIZE);
  /** descriptors a worker may still be reading (its delta failed midway): closed once the workers are stopped */
  const workerFds: number[] = [];

  try {
    if (oldBatches) await refillOld();
    else readAhead = options.readAhead ?? (await ReadAhead.start());
    // the walk merge-joined with the previous state (§9.2): each object stored, kept as it was, or
    // recorded as gone, in index order
    for (const entry of readAhead ? readAhead.entries(options.source, walk) : walk) {
      // everything in the old state before this index is gone from the source
      let order = old ? compareIndex(old.entry.index, entry.index) : 1;
      while (order < 0) {
        await recordDeletion({ entry: old!.entry, kind: old!.kind });
        const moving = nextOld();
        if (moving) await moving;
        order = old ? compareIndex(old.entry.index, entry.index) : 1;
      }
      const previous = order === 0 ? old : undefined;
      options.onProgress?.(stats);
      if (previous && isUnchanged(entry, previous.entry, names, options.racyWindow)) {
        // the state keeps the object as the previous backup stored it
        const adding = options.stateIndex?.add(previous.entry, previous.kind, previous.record ?? previous.location);
        if (adding) await adding;
        stats.sourceFiles++;
        stats.sourceFileSize += statSize(entry);
        const moving = nextOld();
        if (moving) await moving;
        continue;
      }
      let before: PreviousObject | undefined;
      if (previous) {
        before = { entry: previous.entry, kind: previous.kind };
        // a changed regular file's delta needs its previous signature, read before the state moves on
        if (previous.kind === 'signature' && entry.type === 'reg') before.signature = await collect(previous.body);
        const moving = nextOld();
        if (moving) await moving;
      }
      const stored = await storeEntry(entry, before);
      if (!stored && before && before.entry.index.length > 0) await recordDeletion(before);
    }
    while (old) {
      await recordDeletion({ entry: old.entry, kind: old.kind });
      const moving = nextOld();
      if (moving) await moving;
    }
    await writeSig([sigTar.end()]);
    const volumes = await splitter.finish();
    const signatures = await sigSpool.finish();
    await filelist.close();
    // duplicity's TotalDestinationSizeChange is the data volumes' size only (dup_main.write_multivol)
    stats.finish(volumes.reduce((sum, v) => sum + v.size, 0));
    return { volumes, signatures, filelist, statistics: stats };
  } catch (err) {
    await splitter.abort();
    await sigSpool.discard();
    await filelist.discard();
    throw err;
  } finally {
    readAhead?.close();
    await workers?.close();
    for (const fd of workerFds) closeSync(fd);
    await oldBatches?.return(undefined);
  }

  /** st_size as duplicity's path.getsize() sees it for the statistics: a directory's own size counts */
  function statSize(entry: Entry): number {
    if (entry.type === 'reg') return entry.size;
    if (entry.type === 'sym') return entry.linkTarget?.length ?? 0;
    return walkedDirectorySize(entry);
  }

  async function recordDeletion(gone: PreviousObject): Promise<void> {
    if (gone.entry.index.length === 0) return;
    await addMember(deletedMember(gone.entry.index));
    await writeSig(sigTar.add(deletedSignatureHeader(gone.entry.index)));
    stats.deletedFiles++;
    stats.deltaEntries++;
    if (gone.kind === 'signature') await filelist.add('deleted', gone.entry.index);
  }

  /** Writes one new or changed object; false when it could not be read (left out, with a warning). */
  async function storeEntry(entry: Entry, previous: PreviousObject | undefined): Promise<boolean> {
    // duplicity's kind follows what is stored, not whether the path existed (diffdir.log_delta_path):
    // a snapshot is "new" (also a type change such as symlink -> file), only a diff is "changed"
    if (entry.type !== 'reg') {
      await addMember(snapshotMember(entry));
      const header = snapshotSignatureHeader(entry);
      await writeSig(sigTar.add(header));
      // no signature to look up later: no location
      await options.stateIndex?.add(entryFromHeader(header, entry.index)!, 'snapshot');
      const size = statSize(entry);
      countStored('new', size, size);
      return true;
    }
    const diff = previous?.signature !== undefined;
    const onWorkers = diff && entry.size >= DELTA_WORKER_MIN_BYTES;
    // parsed and indexed once, before the file is opened: the workers share this copy
    const basis = diff ? indexSignature(parseSignatureBytes(previous!.signature!, onWorkers), onWorkers) : undefined;
    if (onWorkers && !workers) {
      const { defaultDeltaWorkers, DeltaWorkers } = await import('./delta-workers.js');
      workers = new DeltaWorkers(defaultDeltaWorkers());
    }
    const path = pathOfIndex(options.source, entry.index);
    const opening = readAhead ? performance.now() : 0;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if (!isSystemError(err)) throw err;
      stats.errors++;
      options.onWarning(`Error accessing possibly locked file ${formatPath(path)} (${err.code})`);
      return false;
    }
    const blockLength = duplicityBlockLength(entry.size, options.maxBlockSize);
    if (!diff && entry.size < PIECE_SIZE) {
      // a small new file (most files): one read, one member, none of the streaming below. The read is
      // positional, so a file that has grown since its lstat is read again from its start, streamed
      let small: Buffer | undefined;
      try {
        const bytesRead = readSync(fd, smallFileBuffer, 0, entry.size + 1, 0);
        readAhead?.timed(performance.now() - opening);
        if (bytesRead <= entry.size) small = smallFileBuffer.subarray(0, bytesRead);
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      if (small) {
        closeSync(fd);
        const builder = new SignatureBuilder({ blockLength, strongLength: DUPLICITY_STRONG_LENGTH });
        const head = builder.push(small);
        stats.rawDeltaSize += small.length;
        await addMember(singleMember('snapshot', entry, small));
        await recordStored(entry, 'new', small.length, Buffer.concat([head, builder.finish()]));
        return true;
      }
    }
    let payload: AsyncIterable<Buffer>;
    let result: () => Promise<{ contentBytes: number; signature: Buffer }>;
    let settled = true;
    if (onWorkers) {
      const job = workers!.diff(fd, entry.size, blockLength, basis!);
      settled = false;
      job.result.then(() => { settled = true; }, () => undefined);
      payload = job.payload;
      result = () => job.result;
    } else {
      const file = filePayload(fd, entry.size, blockLength, basis, { readBuffer });
      payload = file.payload;
      result = async () => file.result();
    }
    try {
      const kind: FilelistKind = diff ? 'changed' : 'new';
      // RawDeltaSize: the bytes stored as member data (content or delta), without tar headers
      const counted = async function* (): AsyncGenerator<Uint8Array> {
        for await (const chunk of payload) { stats.rawDeltaSize += chunk.length; yield chunk; }
      };
      for await (const member of payloadMembers(diff ? 'diff' : 'snapshot', entry, counted(), pieceBuffer)) await addMember(member);
      const { contentBytes, signature } = await result();
      await recordStored(entry, kind, contentBytes, signature);
      return true;
    } finally {
      // a worker may still be reading a file whose delta failed midway: its descriptor waits for the workers to stop
      if (settled) closeSync(fd);
      else workerFds.push(fd);
    }
  }

  /** The signature file's member, the filelist line and the counts of a stored regular file. */
  async function recordStored(entry: Entry, kind: FilelistKind, contentBytes: number, signature: Buffer): Promise<void> {
    const stored = { ...entry, size: contentBytes };
    const header = signatureHeader(stored, signature.length);
    const offset = sigTar.offset;
    await writeSig(sigTar.add(header, signature));
    // the object as the next backup reads it back from this signature member
    await options.stateIndex?.addStored(entryFromHeader(header, entry.index)!, 'signature', offset);
    await filelist.add(kind, entry.index);
    countStored(kind, contentBytes, entry.size);
  }

  /**
   * duplicity's statistics.add_new_file / add_changed_file. `readBytes` counts into SourceFileSize
   * (what was read of a file; st_size of other objects), `statBytes` into New/ChangedFileSize (st_size).
   * ChangedDeltaSize stays 0: duplicity 0.8 never adds to it.
   */
  function countStored(kind: FilelistKind, readBytes: number, statBytes: number): void {
    stats.sourceFiles++;
    stats.sourceFileSize += readBytes;
    stats.deltaEntries++;
    if (kind === 'new') {
      stats.newFiles++;
      stats.newFileSize += statBytes;
    } else {
      stats.changedFiles++;
      stats.changedFileSize += statBytes;
    }
  }
}

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** Seconds: `from` when the previous backup of the chain started, `to` when this one started. */
export interface RacyWindow { from: number; to: number }

/**
 * duplicity's change rule (§9.2): size and content are never compared, only metadata. Except, unlike
 * duplicity, a regular file whose mtime falls in `racy` (at or after the second the previous backup
 * started, before this one's) counts as changed even with the same mtime: mtimes are stored in whole
 * seconds, so a file written in the same second after the previous backup read it keeps its mtime and
 * would otherwise not be backed up again until its next change. Re-diffing it costs a read and a small
 * delta. mtimes in the future (a skewed clock) follow duplicity's rule, or they would be diffed every run.
 */
export function isUnchanged(now: Entry, before: Entry, names: NameDatabase, racy?: RacyWindow): boolean {
  if (now.type !== before.type) return false;
  if (now.type === 'sym') return Buffer.compare(now.linkTarget ?? Buffer.alloc(0), before.linkTarget ?? Buffer.alloc(0)) === 0;
  const owner = resolveOwner(before, names);
  if (now.permissions !== before.permissions || now.uid !== owner.uid || now.gid !== owner.gid) return false;
  if (now.type === 'chr' || now.type === 'blk') return now.devMajor === before.devMajor && now.devMinor === before.devMinor;
  if (now.type === 'reg' && racy !== undefined && now.mtime >= racy.from && now.mtime < racy.to) return false;
  return now.mtime === before.mtime || (now.mtime <= 0 && before.mtime <= 0);
}

export { entryFromHeader };
