// The fault proxy against a plain Node HTTP server (and a TCP echo server): what it forwards arrives
// unchanged, and each fault does what its documentation says, seen from both client and server.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const download = randomBytes(2 << 20);

/** what the server saw of each request */
const seen: { method: string; url: string; bytes: number; complete: boolean }[] = [];
let server: Server;
let proxy: FaultProxy;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

before(async () => {
  server = createServer((req, res) => {
    const record = { method: req.method!, url: req.url!, bytes: 0, complete: false };
    seen.push(record);
    const hash = createHash('sha256');
    req.on('data', (chunk: Buffer) => { record.bytes += chunk.length; hash.update(chunk); });
    req.on('end', () => {
      record.complete = true;
      if (req.url === '/big') {
        res.writeHead(200, { 'content-length': download.length });
        res.end(download);
      } else {
        res.end(JSON.stringify({ bytes: record.bytes, sha: hash.digest('hex') }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy = await startFaultProxy({ targetPort: (server.address() as AddressInfo).port });
});

after(async () => {
  agent.destroy();
  await proxy.close();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  proxy.reset();
  seen.length = 0;
});

interface Answer { status: number; headers: IncomingMessage['headers']; body: Buffer }

function call(method: string, path: string, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${proxy.url}${path}`, { method, agent, headers: body ? { 'content-length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('fault proxy', () => {
  it('forwards requests and responses unchanged over a kept-alive connection', async () => {
    const upload = randomBytes(1 << 20);
    const connections = proxy.stats.connections;
    const put = await call('PUT', '/up', upload);
    assert.deepEqual(JSON.parse(put.body.toString()), { bytes: upload.length, sha: sha(upload) });
    const get = await call('GET', '/big');
    assert.equal(sha(get.body), sha(download));
    assert.equal((await call('GET', '/small')).status, 200);
    assert.equal(proxy.stats.connections - connections, 1, 'one kept-alive connection for all three');
    assert.deepEqual(seen.map((s) => [s.method, s.url, s.complete]), [['PUT', '/up', true], ['GET', '/big', true], ['GET', '/small', true]]);
  });

  it('answers the next requests itself with 503, 429 and 500 and Retry-After, then forwards again', async () => {
    await call('GET', '/warm-up'); // so the faults hit an existing keep-alive connection
    proxy.answerNext(503, { retryAfter: 2 });
    proxy.answerNext(429, { retryAfter: 'Thu, 01 Jan 2037 00:00:00 GMT' });
    proxy.answerNext(500, { body: '<Error><Code>InternalError</Code></Error>', headers: { 'content-type': 'application/xml' } });
    const answered = proxy.stats.answered;
    const a = await call('PUT', '/x', randomBytes(1000));
    assert.equal(a.status, 503);
    assert.equal(a.headers['retry-after'], '2');
    const b = await call('GET', '/x');
    assert.equal(b.status, 429);
    assert.equal(b.headers['retry-after'], 'Thu, 01 Jan 2037 00:00:00 GMT');
    const c = await call('GET', '/x');
    assert.equal(c.status, 500);
    assert.equal(c.headers['content-type'], 'application/xml');
    assert.equal(c.body.toString(), '<Error><Code>InternalError</Code></Error>');
    assert.equal(proxy.stats.answered - answered, 3);
    assert.equal((await call('GET', '/after')).status, 200);
    assert.deepEqual(seen.map((s) => s.url), ['/warm-up', '/after'], 'the server never saw the answered requests');
  });

  it('answers several requests in a row with times', async () => {
    proxy.answerNext(503, { times: 2 });
    assert.deepEqual([(await call('GET', '/1')).status, (await call('GET', '/2')).status, (await call('GET', '/3')).status], [503, 503, 200]);
  });

  it('cuts a connection mid-upload after the given number of request bytes', async () => {
    proxy.dropNext(64 * 1024);
    const dropped = proxy.stats.dropped;
    await assert.rejects(call('PUT', '/up', randomBytes(1 << 20)), (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE' || /socket hang up/.test(err.message));
    assert.equal(proxy.stats.dropped - dropped, 1);
    await waitFor(() => seen.length === 1);
    assert.equal(seen[0].complete, false);
    assert.ok(seen[0].bytes < 64 * 1024, `the server got ${seen[0].bytes} body bytes`);
    const again = await call('PUT', '/up', Buffer.from('ok'));
    assert.equal(again.status, 200);
  });

  it('cuts a connection mid-download after the given number of response bytes', async () => {
    await call('GET', '/warm-up');
    proxy.dropNext(100_000, { direction: 'response' });
    await assert.rejects(call('GET', '/big'), (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || /aborted|socket hang up/.test(err.message));
    assert.equal(sha((await call('GET', '/big')).body), sha(download));
  });

  it('delays every chunk in one direction until reset', async () => {
    proxy.delay(150, { direction: 'response' });
    let started = performance.now();
    await call('GET', '/slow');
    assert.ok(performance.now() - started >= 145, `took ${performance.now() - started} ms`);
    proxy.reset();
    started = performance.now();
    await call('GET', '/fast');
    assert.ok(performance.now() - started < 145);
  });

  it('cuts a plain TCP connection (not HTTP) after the given number of bytes', async () => {
    const echo = createTcpServer((s) => s.pipe(s));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const tcp = await startFaultProxy({ targetPort: (echo.address() as AddressInfo).port });
    try {
      const roundTrip = (data: Buffer) => new Promise<{ got: number; error?: string }>((resolve) => {
        const socket = connect(tcp.port, '127.0.0.1');
        let got = 0;
        let error: string | undefined;
        socket.on('data', (c: Buffer) => {
          got += c.length;
          if (got >= data.length) socket.end();
        });
        socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code; });
        socket.on('close', () => resolve({ got, error }));
        socket.write(data);
      });
      assert.deepEqual(await roundTrip(randomBytes(5000)), { got: 5000, error: undefined });
      tcp.dropNext(10);
      const cut = await roundTrip(randomBytes(5000));
      assert.ok(cut.got <= 10, `echoed ${cut.got} bytes`);
      assert.equal(cut.error, 'ECONNRESET');
      assert.equal(tcp.stats.dropped, 1);
    } finally {
      await tcp.close();
      await new Promise((resolve) => echo.close(resolve));
    }
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), 'condition not met within 1 s');
}
