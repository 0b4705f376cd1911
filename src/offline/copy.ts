// Brings an offline disk (any backend) up to date with a target: every complete backup set of the
// target's chains, oldest first; per set its volumes, then its signature file, then its manifest last,
// so the disk never holds a set that looks complete (has a manifest) but is not. Each file streams
// from the target to the disk (the disk's put is atomic) and is checked on arrival by reading it back:
// volumes against the manifest's hash, signature files and manifests against the hash of what was
// read from the target. Files already on the disk are checked too (against the disk's recorded
// sums, else the manifest, else the target's copy):
// - in a set the disk holds complete (its manifest is there), a file that differs is damage: it is
//   reported by name and replaced from the target only with `force`;
// - in a set the disk does not hold complete, a file that differs is what an interrupted copy left:
//   it is copied again.
// Nothing is deleted here; retention on the disk is the caller's (pipeline/retention.ts).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Backend } from '../backend/types.js';
import type { BackupSet, Collection } from '../duplicity/collection.js';
import { parseArchiveName, isEncryptedName } from '../duplicity/file-names.js';
import { bestVolumeHash, parseManifest } from '../duplicity/manifest.js';
import { IntegrityError, LifeboatError } from '../errors/lifeboat-error.js';
import { streamStoredFile } from '../pipeline/set-reader.js';
import { withoutFilelist } from '../pipeline/manifest-reader.js';
import type { ArchiveCipher } from '../crypto/archive-cipher.js';

export interface CopySource {
  backend: Backend;
  /** name -> size of every file at the source */
  sizes: ReadonlyMap<string, number>;
  collection: Collection;
  /** decrypts `.manifest.gpg` files, to read the volume hashes */
  cipher?: ArchiveCipher;
  /** where a plain copy of an encrypted manifest may be (the archive dir), when the cipher cannot decrypt */
  plainManifestPath?(name: string): string | undefined;
}

export interface CopyOptions {
  source: CopySource;
  dest: Backend;
  /** name -> size of every file on the disk before the copy */
  destSizes: Map<string, number>;
  /** the disk's recorded SHA-1s; updated as files are copied and checked */
  sums: Map<string, string>;
  /** replace damaged files of complete sets from the source */
  force: boolean;
  tempdir: string;
  signal?: AbortSignal;
  notice(line: string): void;
  warning(line: string): void;
  info?(line: string): void;
  /** called as each file's bytes flow to the disk (tests interrupt copies here) */
  onProgress?(name: string, bytes: number): void | Promise<void>;
  /** called after each set is complete on the disk (the caller saves the sums now and then) */
  afterSet?(): Promise<void>;
}

export interface Damage {
  name: string;
  why: string;
  /** replaced from the source (force) */
  repaired: boolean;
}

export interface CopyResult {
  copiedFiles: number;
  copiedBytes: number;
  checkedFiles: number;
  damaged: Damage[];
  /** files on the disk that no earlier copy recorded and the source lacks: not checkable */
  unchecked: string[];
  sets: number;
}

/** The sets of the source's complete chains, oldest end time first. */
export function setsToCopy(collection: Collection): BackupSet[] {
  return collection.backupChains.flatMap((c) => [c.fullSet, ...c.incrementalSets]).sort((a, b) => a.endTime - b.endTime);
}

/** The signature file of a set among `names`, if there is one. */
export function signatureNameOf(set: BackupSet, names: Iterable<string>): string | undefined {
  for (const name of names) {
    const p = parseArchiveName(name);
    if (!p || p.partial) continue;
    if (set.type === 'full' && p.kind === 'full-signature' && p.time === set.endTime) return name;
    if (set.type === 'inc' && p.kind === 'new-signature' && p.startTime === set.startTime && p.endTime === set.endTime) return name;
  }
  return undefined;
}

export async function sha1Of(backend: Backend, name: string, signal?: AbortSignal): Promise<string> {
  return backend.read(name, async (body) => {
    const hash = createHash('sha1');
    for await (const chunk of body as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      hash.update(chunk);
    }
    return hash.digest('hex');
  }, { signal });
}

interface Spooled { path: string; sha1: string; volumeHashes: Map<number, string> }

export async function copyArchive(options: CopyOptions): Promise<CopyResult> {
  const { source, dest, destSizes, sums, signal } = options;
  const result: CopyResult = { copiedFiles: 0, copiedBytes: 0, checkedFiles: 0, damaged: [], unchecked: [], sets: 0 };
  const handled = new Set<string>();
  const sourceNames = [...source.sizes.keys()];

  /** Streams one file from the source to the disk, hashing it; returns the SHA-1 of what was sent. */
  const transfer = async (name: string, expected: string | undefined, from?: () => Readable): Promise<string> => {
    const size = source.sizes.get(name)!;
    let sent = '';
    // what went wrong on the source's side (a damaged target volume): the disk's backend would wrap it
    // as its own failure (named by its path on the disk, its hint lost)
    let sourceFailure: Error | undefined;
    await dest.put(name, {
      size,
      open: () => {
        sourceFailure = undefined;
        const hash = createHash('sha1');
        let bytes = 0;
        const raw = from ? from() : streamStoredFile(source.backend, name, signal);
        const pass = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            hash.update(chunk);
            bytes += chunk.length;
            const progress = options.onProgress?.(name, bytes);
            if (progress) progress.then(() => done(null, chunk), done);
            else done(null, chunk);
          },
          flush(done) {
            sent = hash.digest('hex');
            if (expected !== undefined && sent !== expected) {
              done(sourceFailure = new IntegrityError(`the target's ${name} does not match its manifest (SHA1 ${sent}, expected ${expected})`, {
                hint: 'the target holds a damaged volume; nothing of its set was written to the disk. Run a drill, and a new full backup',
              }));
            } else {
              done();
            }
          },
        });
        raw.on('error', (err) => { sourceFailure = err; pass.destroy(err); });
        return raw.pipe(pass);
      },
    }, { signal }).catch((err: unknown) => {
      throw sourceFailure ?? err;
    });
    // checked on arrival: the disk's copy, read back
    const arrived = await sha1Of(dest, name, signal);
    if (arrived !== sent) {
      throw new IntegrityError(`${name} on ${dest.displayUrl} differs from what was written (SHA1 ${arrived}, sent ${sent})`, {
        hint: 'the disk does not keep what is written to it: check it (SMART, fsck) or use another disk',
      });
    }
    result.copiedFiles++;
    result.copiedBytes += size;
    options.info?.(`Copied ${name} (${size} bytes), checked on the disk`);
    destSizes.set(name, size);
    sums.set(name, sent);
    return sent;
  };

  const spoolManifest = async (name: string): Promise<Spooled> => {
    const path = join(options.tempdir, `lifeboat-copy-${process.pid}-${randomBytes(6).toString('hex')}`);
    let sha1 = '';
    try {
      await source.backend.read(name, async (body) => {
        const hash = createHash('sha1');
        const hashing = new Transform({ transform(chunk: Buffer, _e, done) { hash.update(chunk); done(null, chunk); } });
        await pipeline(body, hashing, createWriteStream(path, { mode: 0o600 }));
        sha1 = hash.digest('hex');
      }, { signal });
      const volumeHashes = new Map<number, string>();
      let head: Buffer | undefined;
      try {
        if (!isEncryptedName(name)) head = await withoutFilelist(createReadStream(path));
        else if (source.cipher) head = await withoutFilelist(await source.cipher.decrypt(createReadStream(path), name));
      } catch (err) {
        if (!(err instanceof LifeboatError)) throw err;
        // e.g. a target encrypted to a public key whose secret key is elsewhere: the local cache's
        // plain copy still has the hashes
        const plain = source.plainManifestPath?.(name);
        if (plain && existsSync(plain)) head = await withoutFilelist(createReadStream(plain));
        else options.notice(`${name}: its volume hashes cannot be read here (${err.message}); its volumes are checked against the target's bytes instead`);
      }
      if (head) {
        for (const v of parseManifest(head).volumes) {
          const best = bestVolumeHash(v);
          if (best?.algorithm === 'SHA1') volumeHashes.set(v.volumeNumber, best.hex.toLowerCase());
        }
      }
      return { path, sha1, volumeHashes };
    } catch (err) {
      await unlink(path).catch(() => undefined);
      throw err;
    }
  };

  for (const set of setsToCopy(source.collection)) {
    signal?.throwIfAborted();
    const manifestName = set.manifestName!;
    const sigName = signatureNameOf(set, sourceNames);
    const files = [...set.volumes.sort((a, b) => a.volumeNumber - b.volumeNumber).map((v) => ({ name: v.name, volume: v.volumeNumber as number | undefined })),
      ...(sigName ? [{ name: sigName, volume: undefined }] : [])];
    for (const f of [...files.map((f) => f.name), manifestName]) handled.add(f);
    const complete = destSizes.has(manifestName);
    let spooled: Spooled | undefined;
    const spool = async () => (spooled ??= await spoolManifest(manifestName));
    try {
      let setGood = true;
      /**
       * `recorded`: the disk's sum from an earlier copy (a quick check); `truth`: the manifest's hash
       * or the target's bytes, asked for only when the quick check fails (so a damaged sums file
       * never condemns a good file, nor blames the target).
       */
      const place = async (name: string, recorded: string | undefined, truthOf: () => Promise<string | undefined>, from?: () => Readable) => {
        const onDisk = destSizes.get(name);
        if (onDisk !== undefined) {
          const actual = onDisk === source.sizes.get(name) ? await sha1Of(dest, name, signal) : undefined;
          if (actual !== undefined && actual === recorded) {
            result.checkedFiles++;
            return;
          }
          const truth = (await truthOf()) ?? await sha1Of(source.backend, name, signal);
          if (actual === truth) {
            result.checkedFiles++;
            sums.set(name, truth);
            return;
          }
          const why = actual === undefined ? `size ${onDisk}, expected ${source.sizes.get(name)}` : `SHA1 ${actual}, expected ${truth}`;
          if (!complete) {
            options.notice(`Copying ${name} again: an interrupted copy left it unfinished (${why})`);
          } else if (!options.force) {
            result.damaged.push({ name, why, repaired: false });
            setGood = false;
            return;
          } else {
            result.damaged.push({ name, why, repaired: true });
            options.warning(`WARNING: ${name} on ${dest.displayUrl} was damaged (${why}); replacing it from the target`);
          }
        }
        await transfer(name, await truthOf(), from);
      };
      for (const f of files) {
        const volume = f.volume;
        await place(f.name, sums.get(f.name), async () => (volume === undefined ? undefined : (await spool()).volumeHashes.get(volume)));
      }
      // the manifest last: a set the disk did not hold complete has only good files by now (damage is
      // only ever found in complete sets), so writing its manifest completes it honestly
      if (!setGood && !complete) throw new Error('unreachable: damage outside a complete set');
      await place(manifestName, sums.get(manifestName), async () => (await spool()).sha1, () => createReadStream(spooled!.path));
      result.sets++;
    } finally {
      if (spooled) await unlink(spooled.path).catch(() => undefined);
    }
    await options.afterSet?.();
  }

  // the disk's own files the target no longer has: checked against the recorded sums
  for (const name of [...destSizes.keys()].sort()) {
    if (handled.has(name) || !parseArchiveName(name)) continue;
    signal?.throwIfAborted();
    const expected = sums.get(name);
    if (expected === undefined) {
      result.unchecked.push(name);
      continue;
    }
    const actual = await sha1Of(dest, name, signal);
    if (actual === expected) result.checkedFiles++;
    else result.damaged.push({ name, why: `SHA1 ${actual}, expected ${expected}; the target no longer has it`, repaired: false });
  }
  // sums of files that are gone from the disk are dropped
  for (const name of [...sums.keys()]) if (!destSizes.has(name)) sums.delete(name);
  return result;
}
