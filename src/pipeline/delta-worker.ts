// A worker thread of delta-workers.ts: reads one segment of a big changed file at a time (by a file
// descriptor the main thread opened), streams its librsync delta back and ends with the segment's new
// signature, without the parts that only the file's first or last segment has. It runs ahead of the
// main thread by at most AHEAD_BYTES of delta, then waits for the main thread to take them: a file
// rewritten from end to end streams through, it is never held whole.
import { parentPort } from 'node:worker_threads';
import { DELTA_MAGIC, OP_END } from '../librsync/delta.js';
import { SignatureParser } from '../librsync/signature.js';
import { filePayload } from './file-payload.js';
import type { WorkerReply, WorkerRequest } from './delta-workers.js';

const AHEAD_BYTES = 4 << 20;
/** small delta pieces (a copy command is a few bytes) go back gathered into messages of this size */
const MESSAGE_BYTES = 1 << 16;

const port = parentPort!;
/** the job being run (one at a time), its bytes sent and taken by the main thread, and whether it was cancelled */
let current = 0;
let sent = 0;
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

function reply(message: WorkerReply, transfer?: ArrayBuffer): void {
  port.postMessage(message, transfer ? [transfer] : []);
}

/** the buffer's memory when the buffer is all of it (then it can move to the main thread, not be copied) */
function ownMemory(chunk: Buffer): ArrayBuffer | undefined {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer ? chunk.buffer : undefined;
}

async function run(job: Extract<WorkerRequest, { type: 'diff' }>): Promise<void> {
  current = job.job;
  sent = 0;
  taken = 0;
  cancelled = false;
  try {
    const parser = new SignatureParser();
    parser.push(job.previous);
    const previous = parser.finish();
    const file = filePayload(job.fd, job.sizeHint, job.blockLength, previous, { start: job.start, end: job.end });
    let gathered: Buffer[] = [];
    let gatheredBytes = 0;
    const send = async () => {
      if (gatheredBytes === 0) return;
      const chunk = gathered.length === 1 ? gathered[0] : Buffer.concat(gathered, gatheredBytes);
      reply({ type: 'data', chunk }, ownMemory(chunk));
      sent += gatheredBytes;
      gathered = [];
      gatheredBytes = 0;
      while (sent - taken > AHEAD_BYTES && !cancelled) await new Promise<void>((resolve) => { wake = resolve; });
      if (cancelled) throw new Error('cancelled');
    };
    const take = (chunk: Buffer) => { if (chunk.length > 0) { gathered.push(chunk); gatheredBytes += chunk.length; } };
    // one chunk is held back: the last one ends with the end command, which only the last segment keeps
    let held: Buffer | undefined;
    for await (const chunk of file.payload) {
      if (held === undefined) {
        // the first chunk starts with the magic number, which only the first segment keeps
        if (chunk.readUInt32BE(0) !== DELTA_MAGIC) throw new Error('delta worker: the delta does not start with its magic number');
        held = job.first ? chunk : chunk.subarray(4);
        continue;
      }
      take(held);
      held = chunk;
      if (gatheredBytes >= MESSAGE_BYTES) await send();
    }
    if (!held || held[held.length - 1] !== OP_END) throw new Error('delta worker: the delta does not end with its end command');
    take(job.last ? held : held.subarray(0, held.length - 1));
    await send();
    const { contentBytes, signature } = file.result();
    reply({ type: 'end', contentBytes, signature: job.first ? signature : signature.subarray(12) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    reply({ type: 'error', message: e instanceof Error ? e.message : String(err), code: e.code, syscall: e.syscall });
  } finally {
    current = 0;
  }
}
