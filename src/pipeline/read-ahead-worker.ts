// The thread of read-ahead.ts: reads the files the backup is about to store into the page cache, in
// the walk's order, into one scratch buffer, until the backup's position says STOP or it sends 'end'.
// It opens without following a symbolic link and without blocking on a FIFO (either may have replaced
// the file since the walk's lstat), reads regular files only, and skips a file the backup has
// reached. Every failure is ignored: the backup reads the file itself and reports what is wrong.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { ReadAheadBatch, ReadAheadWorkerData } from './read-ahead.js';

const position = new Int32Array((workerData as ReadAheadWorkerData).position);
const scratch = Buffer.allocUnsafe(1 << 18);
// O_NOCTTY: a terminal in the file's place must not become a daemon's controlling terminal
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

parentPort!.on('message', (batch: ReadAheadBatch | 'end') => {
  if (batch === 'end') {
    parentPort!.close();
    return;
  }
  const paths = Buffer.from(batch.paths.buffer, batch.paths.byteOffset, batch.paths.byteLength);
  let start = 0;
  for (let i = 0; i < batch.ends.length; i++) {
    const end = batch.ends[i];
    // the backup is at this file already, or past it
    if (batch.seqs[i] > Atomics.load(position, 0)) readAhead(paths.subarray(start, end), batch.seqs[i], batch.lengths[i]);
    start = end;
  }
});

function readAhead(path: Buffer, seq: number, length: number): void {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch {
    return;
  }
  try {
    if (!fstatSync(fd).isFile()) return;
    for (let done = 0; done < length && seq > Atomics.load(position, 0);) {
      const n = readSync(fd, scratch, 0, Math.min(scratch.length, length - done), done);
      if (n === 0) return;
      done += n;
    }
  } catch {
    // left to the backup
  } finally {
    closeSync(fd);
  }
}
