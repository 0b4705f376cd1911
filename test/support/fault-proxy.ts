// A tiny TCP proxy that injects network faults between a client under test and a real server, for
// backend fault tests (issue 8): dropped connections mid-upload or mid-download, 500/503/429 answers
// with Retry-After, very slow responses.
//
//   const proxy = await startFaultProxy({ targetPort: server.port });   // listens on 127.0.0.1:0
//   client endpoint: proxy.url ("http://127.0.0.1:PORT"), or proxy.port for any TCP protocol (ssh)
//   proxy.answerNext(503, { retryAfter: 1 });      // the next HTTP request gets this answer, not the server
//   proxy.answerNext(429, { times: 2, body: '<Error>…</Error>', headers: { 'content-type': 'application/xml' } });
//   proxy.dropNext(64 * 1024);                     // the next request's connection is cut (TCP RST) after
//                                                  // 64 KiB of client→server bytes (mid-upload)
//   proxy.dropNext(1000, { direction: 'response' }); // ... after 1000 server→client bytes (mid-download)
//   proxy.delay(200, { direction: 'response' });   // every server→client chunk waits 200 ms, until reset()
//   proxy.reset();                                 // no more faults: forward everything as it comes
//   proxy.stats                                    // { connections, requests, answered, dropped }
//   await proxy.close();                           // in after(): closes the listener and all connections
//
// HTTP awareness is deliberately small: a client chunk that begins with an HTTP/1.x request line is
// taken as the start of a request (keep-alive connections carry several; clients do not pipeline).
// An answer replaces the request's forwarding: the proxy writes the response with
// "Connection: close", closes that connection and discards whatever the client still sends. A drop
// armed by dropNext() is taken by the next new connection or the next request start, whichever comes
// first, and counts bytes from there, so it also works for protocols that are not HTTP (SFTP).
// Faults armed with `times: n` apply to n requests (or connections) in a row.
import { STATUS_CODES } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';

export type Direction = 'request' | 'response';

export interface FaultProxyOptions {
  targetPort: number;
  targetHost?: string;
}

export interface AnswerOptions {
  /** seconds, or an HTTP date, sent as the Retry-After header */
  retryAfter?: number | string;
  /** default: "<status> <reason> (injected by fault proxy)" */
  body?: string;
  headers?: Record<string, string>;
  /** how many requests in a row get this answer; default 1 */
  times?: number;
}

export interface FaultProxyStats {
  connections: number;
  /** request starts seen (HTTP) */
  requests: number;
  answered: number;
  dropped: number;
}

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly stats: FaultProxyStats;
  answerNext(status: number, options?: AnswerOptions): void;
  dropNext(afterBytes: number, options?: { direction?: Direction; times?: number }): void;
  delay(ms: number, options?: { direction?: Direction | 'both' }): void;
  reset(): void;
  close(): Promise<void>;
}

const REQUEST_LINE = /^[A-Z][A-Z-]{1,15} [^ \r\n]+ HTTP\/1\.[01]\r?\n/;

interface Drop {
  direction: Direction;
  remaining: number;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1';
  const answers: { status: number; options: AnswerOptions }[] = [];
  const drops: Drop[] = [];
  const delays = { request: 0, response: 0 };
  const stats: FaultProxyStats = { connections: 0, requests: 0, answered: 0, dropped: 0 };
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    stats.connections++;
    const upstream = connect(options.targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    let drop: Drop | undefined = drops.shift();
    let answered = false;

    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', () => { sockets.delete(client); upstream.destroy(); });
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (!answered) client.end();
    });

    const cut = () => {
      stats.dropped++;
      upstream.destroy();
      client.resetAndDestroy();
    };

    /** forwards a chunk, honouring a drop armed for this direction; false when the connection was cut */
    const forward = async (chunk: Buffer, direction: Direction, to: Socket): Promise<boolean> => {
      if (delays[direction] > 0) await sleep(delays[direction]);
      if (drop?.direction === direction) {
        if (chunk.length >= drop.remaining) {
          const head = chunk.subarray(0, drop.remaining);
          if (head.length > 0) await write(to, head);
          cut();
          return false;
        }
        drop.remaining -= chunk.length;
      }
      await write(to, chunk);
      return true;
    };

    pump(client, async (chunk) => {
      if (answered) return true; // the rest of an answered request: discarded
      if (REQUEST_LINE.test(chunk.subarray(0, 256).toString('latin1'))) {
        stats.requests++;
        drop ??= drops.shift();
        const answer = answers[0];
        if (answer) {
          if (--answer.options.times! <= 0) answers.shift();
          answered = true;
          stats.answered++;
          upstream.destroy();
          const head = chunk.subarray(0, chunk.indexOf(' ')).toString('latin1') === 'HEAD';
          client.end(formatAnswer(answer.status, answer.options, head));
          return true;
        }
      }
      return forward(chunk, 'request', upstream);
    });
    pump(upstream, (chunk) => forward(chunk, 'response', client));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('fault proxy: no TCP address');

  return {
    host: '127.0.0.1',
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    stats,
    answerNext(status, answerOptions = {}) {
      answers.push({ status, options: { ...answerOptions, times: answerOptions.times ?? 1 } });
    },
    dropNext(afterBytes, dropOptions = {}) {
      for (let i = 0; i < (dropOptions.times ?? 1); i++) drops.push({ direction: dropOptions.direction ?? 'request', remaining: afterBytes });
    },
    delay(ms, delayOptions = {}) {
      const direction = delayOptions.direction ?? 'both';
      if (direction !== 'response') delays.request = ms;
      if (direction !== 'request') delays.response = ms;
    },
    reset() {
      answers.length = 0;
      drops.length = 0;
      delays.request = 0;
      delays.response = 0;
    },
    close() {
      return new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}

function formatAnswer(status: number, options: AnswerOptions, head: boolean): string {
  const reason = STATUS_CODES[status] ?? 'Unknown';
  const body = options.body ?? `${status} ${reason} (injected by fault proxy)\n`;
  const headers: Record<string, string> = { 'content-type': 'text/plain', ...options.headers };
  if (options.retryAfter !== undefined) headers['retry-after'] = String(options.retryAfter);
  headers['content-length'] = String(Buffer.byteLength(body));
  headers.connection = 'close';
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${status} ${reason}\r\n${lines}\r\n${head ? '' : body}`;
}

/** Reads a socket chunk by chunk, one at a time, so delays keep the order and apply backpressure. */
function pump(from: Socket, handle: (chunk: Buffer) => Promise<boolean>): void {
  from.on('data', (chunk: Buffer) => {
    from.pause();
    handle(chunk).then((goOn) => { if (goOn && !from.destroyed) from.resume(); }, () => from.destroy());
  });
}

function write(to: Socket, chunk: Buffer): Promise<void> {
  if (to.destroyed || to.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    if (to.write(chunk)) resolve();
    else {
      const done = () => { to.off('drain', done); to.off('close', done); resolve(); };
      to.on('drain', done);
      to.on('close', done);
    }
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
