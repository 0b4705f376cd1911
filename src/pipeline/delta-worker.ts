// A worker thread of delta-workers.ts: reads one segment of a big changed file at a time (by a file
// descriptor the main thread opened), streams its librsync delta back and ends with the segment's new
// signature, without the parts that only the file's first or last segment has.
//
// The delta goes back through a ring in a SharedArrayBuffer the main thread gave the segment: the
// worker writes into it and says where (offset, length), the main thread copies the bytes out when its
// reader wants them and says how many it took, and the worker waits while the ring is full. A file
// rewritten from end to end streams through, it is never held whole; and no buffer is allocated per
// message: buffers moved to the main thread and queued there outlived the young generation, and were
// freed only by a full garbage collection. Nor per chunk of the file: the delta's parts are copied into
// the ring as the builder made them, not joined first (that was most of a worker's garbage).
import { parentPort } from 'node:worker_threads';
import { DELTA_MAGIC, OP_END } from '../librsync/delta.js';
import { filePayload } from './file-payload.js';
import { warmUpDelta } from './delta-warm-up.js';
import type { WorkerReply, WorkerRequest } from './delta-workers.js';

/** small delta pieces (a copy command is a few bytes) are announced once this many have gathered */
const MESSAGE_BYTES = 1 << 16;

try {
  warmUpDelta();
} catch {
  // only a speed-up: a worker that could not warm up still diffs, as it did before
}

const port = parentPort!;
/**
 * The job being run (one at a time), its ring; the bytes it wrote into the ring, announced to and
 * taken by the main thread; and whether it was cancelled. Its bytes start at the ring's offset 0.
 */
let current = 0;
let ring: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
let written = 0;
let announced = 0;
let taken = 0;
let cancelled = false;
let wake: (() => void) | undefined;

port.on('message', (message: WorkerRequest) => {
  if (message.type === 'diff') {
    void run(message);
    return;
  }
  // a message about a job that has ended already is stale
  if (message.job !== current) return;
  if (message.type === 'taken') taken += message.bytes;
  else cancelled = true;
  wake?.();
  wake = undefined;
});

function reply(message: WorkerReply): void {
  port.postMessage(message);
}

/** tells the main thread about the bytes written since the last message (never across the ring's end) */
function announce(): void {
  if (written === announced) return;
  reply({ type: 'data', offset: announced % ring.length, length: written - announced });
  announced = written;
}

/** copies delta bytes into the ring, waiting for the main thread while it is full */
async function put(bytes: Uint8Array): Promise<void> {
  for (let p = 0; p < bytes.length;) {
    while (written - taken === ring.length && !cancelled) {
      announce();
      await new Promise<void>((resolve) => { wake = resolve; });
    }
    if (cancelled) throw new Error('cancelled');
    const at = written % ring.length;
    const n = Math.min(bytes.length - p, ring.length - (written - taken), ring.length - at);
    ring.set(bytes.subarray(p, p + n), at);
    written += n;
    p += n;
    if (written - announced >= MESSAGE_BYTES || (written % ring.length) === 0) announce();
  }
}

async function run(job: Extract<WorkerRequest, { type: 'diff' }>): Promise<void> {
  current = job.job;
  ring = new Uint8Array(job.ring);
  written = announced = taken = 0;
  cancelled = false;
  try {
    // the delta's parts are copied into the ring as they come: a part is valid only until the next
    const file = filePayload(job.fd, job.sizeHint, job.blockLength, job.previous, { range: { start: job.start, end: job.end }, deltaParts: true });
    let first = true;
    // a part that may be the end command is held back (a copy): only the last segment keeps it
    let held: Buffer | undefined;
    for await (const part of file.payload) {
      if (first) {
        // the magic number comes first, a part of its own: only the first segment keeps it
        if (part.length !== 4 || part.readUInt32BE(0) !== DELTA_MAGIC) throw new Error('delta worker: the delta does not start with its magic number');
        first = false;
        if (job.first) await put(part);
        continue;
      }
      if (held) await put(held);
      held = undefined;
      if (part.length === 1 && part[0] === OP_END) held = Buffer.from(part);
      else await put(part);
    }
    if (!held) throw new Error('delta worker: the delta does not end with its end command');
    if (job.last) await put(held);
    announce();
    const { contentBytes, signature } = file.result();
    reply({ type: 'end', contentBytes, signature: job.first ? signature : signature.subarray(12) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    reply({ type: 'error', message: e instanceof Error ? e.message : String(err), code: e.code, syscall: e.syscall });
  } finally {
    current = 0;
  }
}
