// The worker thread of restore.ts: it makes the restored objects (open, write, owner, mode and mtime
// through the descriptor, close; mkdir, symlink, rename, path-based metadata for the rest) while the
// main thread reads, inflates and patches the next ones. The main thread sends batches of operations in
// order, with their bytes (paths, link targets, file content) in one transferred buffer per batch; each
// batch's buffer goes back with its acknowledgement. After the first failure nothing more is made: the
// file being written is removed and the error goes back once.
import { closeSync, lstatSync, mkdirSync, openSync, renameSync, statSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { applyFileMetadata, applyMetadata, createSpecial } from '../fsmeta/apply.js';
import type { Entry } from '../fsmeta/entry.js';
import { NameDatabase } from '../fsmeta/names.js';
import { serializeError, type ObjectMeta, type RestoreWorkerData, type WorkerBatch, type WorkerReply } from './restore.js';

const port = parentPort!;
const settings = workerData as RestoreWorkerData;
// owners arrive resolved to numeric ids (the main thread has the name database)
const applyOptions = { asRoot: settings.asRoot, numericOwner: true, names: new NameDatabase() };

let failed = false;
/** the regular file being written: its descriptor and the name it is written under */
let file: { fd: number; temporary: Buffer; path: Buffer; meta?: ObjectMeta } | undefined;
let queue = Promise.resolve();

port.on('message', (message: WorkerBatch | 'end') => {
  queue = queue.then(async () => {
    if (message === 'end') {
      if (!failed) reply({ type: 'finished' });
      port.close();
      return;
    }
    if (!failed) {
      try {
        await run(message);
      } catch (err) {
        failed = true;
        dropFile();
        reply({ type: 'error', error: serializeError(err) });
      }
    }
    reply({ type: 'done', buffer: message.buffer }, [message.buffer]);
  });
});

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function entryOf(meta: ObjectMeta): Entry {
  return { index: [], uname: '', gname: '', size: 0, ...meta };
}

const existingAt = (path: Buffer) => (settings.existing ? lstatSync(path, { throwIfNoEntry: false }) : undefined);

async function run(batch: WorkerBatch): Promise<void> {
  const bytes = Buffer.from(batch.buffer);
  const span = (s: [number, number]) => bytes.subarray(s[0], s[0] + s[1]);
  for (const op of batch.ops) {
    switch (op.op) {
      case 'dir': {
        const path = span(op.path);
        const existing = existingAt(path);
        if (existing && !existing.isDirectory()) await replace(path);
        if (!existing || !existing.isDirectory()) mkdirSync(path, { mode: 0o700 });
        break;
      }
      case 'dirMeta':
        await applyMetadata(span(op.path), entryOf(op.meta), applyOptions);
        break;
      case 'open': {
        // a copy: the file's later operations may come in later batches, after this buffer went back
        const path = Buffer.from(span(op.path));
        // a fresh staging directory is renamed into place whole (or removed) at the end, so its files
        // need no temporary names of their own: a rename less per file
        const temporary = settings.existing ? Buffer.concat([path, Buffer.from(`.lifeboat-${settings.pid}-${op.serial}.tmp`)]) : path;
        file = { fd: openSync(temporary, 'wx', 0o600), temporary, path };
        break;
      }
      case 'data': {
        const chunk = span(op.data);
        for (let done = 0; done < chunk.length;) done += writeSync(file!.fd, chunk, done);
        break;
      }
      case 'close': {
        const { fd, temporary, path } = file!;
        await applyFileMetadata(fd, temporary, entryOf(op.meta), applyOptions);
        file!.fd = -1;
        closeSync(fd);
        if (temporary !== path) {
          if (existingAt(path)?.isDirectory()) await replace(path);
          renameSync(temporary, path);
        }
        file = undefined;
        break;
      }
      case 'abort':
        dropFile();
        break;
      case 'sym': {
        const path = span(op.path);
        if (existingAt(path)) await replace(path);
        symlinkSync(span(op.target), path);
        await applyMetadata(path, entryOf(op.meta), applyOptions);
        break;
      }
      case 'special': {
        const path = span(op.path);
        if (existingAt(path)) await replace(path);
        const entry = entryOf(op.meta);
        await createSpecial(path, entry);
        await applyMetadata(path, entry, applyOptions);
        break;
      }
    }
  }
}

/** The file being written is left unfinished: it is closed and removed. */
function dropFile(): void {
  if (!file) return;
  if (file.fd >= 0) try { closeSync(file.fd); } catch { /* closed already */ }
  try { unlinkSync(file.temporary); } catch { /* already gone */ }
  file = undefined;
}

/** An object of the wrong type is in the way: only --force may remove it, and never a mount point. */
async function replace(path: Buffer): Promise<void> {
  // a mount point cannot be removed (rmdir gives EBUSY) whatever --force says, so telling the user to
  // add --force would only lead to this error: it comes first
  let end = path.length;
  while (end > 1 && path[end - 1] === 0x2f) end--;
  const slash = path.lastIndexOf(0x2f, end - 1);
  const parent = slash > 0 ? path.subarray(0, slash) : slash === 0 ? Buffer.from('/') : Buffer.from('.');
  const own = lstatSync(path);
  if (own.isDirectory() && own.dev !== statSync(parent).dev) {
    throw new LifeboatError(`${path.toString()} is a mount point, and the archive holds another type of object there`, {
      code: 'mount-point', exitCode: ExitCode.userError, hint: 'restore into a directory inside it, or unmount it first',
    });
  }
  if (!settings.force) throw Object.assign(new Error(`${path.toString()}: already exists`), { code: 'EEXIST', syscall: 'restore', path: path.toString() });
  await rm(path, { recursive: true, force: true });
}
