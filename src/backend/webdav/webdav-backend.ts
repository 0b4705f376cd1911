// webdav:// and webdavs:// targets: one collection on a WebDAV server. A put streams to a temporary
// name, then MOVEs it over the final name (Overwrite: T), so readers never see half a volume; a
// failed put deletes its temporary file. Missing collections are made (MKCOL) on the first put.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Backend, OperationOptions, PutSource } from '../types.js';
import { BackendError } from '../errors.js';
import { exactLength } from '../exact-length.js';
import { TEMPORARY_MARKER } from '../file/file-backend.js';
import { DavClient, responseText } from './dav-client.js';
import { parseMultistatus } from './multistatus.js';

const PROPFIND_BODY = '<?xml version="1.0" encoding="utf-8"?>\n'
  + '<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/></D:prop></D:propfind>';

export class WebDavBackend implements Backend {
  readonly displayUrl: string;
  readonly capabilities: { connections: number; atomicPut: boolean };
  readonly #client: DavClient;
  /** decoded path segments of the target collection */
  readonly #directory: string[];
  #directoryReady: Promise<void> | undefined;

  constructor(client: DavClient, directory: string[], displayUrl: string, connections: number) {
    this.#client = client;
    this.#directory = directory;
    this.displayUrl = displayUrl;
    this.capabilities = { connections, atomicPut: true };
  }

  #path(segments: readonly string[], collection = false): string {
    const path = `/${segments.map(encodeSegment).join('/')}`;
    return collection && segments.length > 0 ? `${path}/` : path;
  }

  #file(name: string): string {
    checkName(name);
    return this.#path([...this.#directory, name]);
  }

  async *list(options: OperationOptions & { prefix?: string } = {}): AsyncIterable<{ name: string; size: number }> {
    const path = this.#path(this.#directory, true);
    const response = await this.#request({
      method: 'PROPFIND', path, signal: options.signal,
      headers: { Depth: '1', 'Content-Type': 'application/xml; charset=utf-8' }, body: () => PROPFIND_BODY,
    });
    if (response.statusCode === 404) {
      response.resume();
      return;
    }
    if (response.statusCode !== 207) throw await statusError(response, 'PROPFIND', path);
    const xml = await responseText(response);
    let entries;
    try {
      entries = parseMultistatus(xml, this.#directory);
    } catch (err) {
      throw new BackendError('permanent', `WebDAV PROPFIND ${decodePath(path)}: unreadable answer: ${(err as Error).message}`, { cause: err });
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.includes(TEMPORARY_MARKER)) continue;
      if (options.prefix && !entry.name.startsWith(options.prefix)) continue;
      yield entry;
    }
  }

  async put(name: string, source: PutSource, options: OperationOptions = {}): Promise<void> {
    const target = this.#file(name);
    await this.#ensureDirectory(options.signal);
    // the marker leads the name: duplicity reads "<manifest name>.<anything>" as that manifest
    const temporary = this.#file(`${TEMPORARY_MARKER}${randomBytes(4).toString('hex')}.${name}`);
    const opened: Readable[] = [];
    try {
      const put = await this.#request({
        method: 'PUT', path: temporary, signal: options.signal,
        headers: { 'Content-Length': String(source.size), 'Content-Type': 'application/octet-stream' },
        body: () => {
          const body = exactLength(source, name);
          opened.push(body);
          return body;
        },
      });
      if (put.statusCode !== 201 && put.statusCode !== 204 && put.statusCode !== 200) throw await statusError(put, 'PUT', temporary);
      put.resume();
      const move = await this.#request({
        method: 'MOVE', path: temporary, signal: options.signal,
        headers: { Destination: `${this.#client.origin}${target}`, Overwrite: 'T' },
      });
      if (move.statusCode !== 201 && move.statusCode !== 204) throw await statusError(move, 'MOVE', temporary);
      move.resume();
    } catch (err) {
      // an early answer (507, 403) can come while the source still flows: close it
      for (const body of opened) body.destroy();
      // not with the caller's signal: it may be the reason we are here
      await this.#request({ method: 'DELETE', path: temporary }).then((r) => r.resume(), () => undefined);
      throw classify(err, 'PUT', target);
    }
  }

  async read<T>(name: string, consume: (body: Readable) => Promise<T>, options: OperationOptions = {}): Promise<T> {
    const path = this.#file(name);
    const response = await this.#request({ method: 'GET', path, signal: options.signal });
    if (response.statusCode !== 200) throw await statusError(response, 'GET', path);
    try {
      return await consume(response);
    } finally {
      response.destroy();
    }
  }

  async delete(names: readonly string[], options: OperationOptions = {}): Promise<void> {
    for (const name of names) {
      const path = this.#file(name);
      const response = await this.#request({ method: 'DELETE', path, signal: options.signal });
      if (response.statusCode === 404 || response.statusCode === 200 || response.statusCode === 204) {
        response.resume();
      } else {
        throw await statusError(response, 'DELETE', path);
      }
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  /** the request, network errors classified; the status is for the caller to judge */
  async #request(request: Parameters<DavClient['request']>[0]): Promise<IncomingMessage> {
    try {
      return await this.#client.request(request);
    } catch (err) {
      throw classify(err, request.method, request.path);
    }
  }

  /** Makes the target collection and its missing parents, once per backend (again after a failure). */
  #ensureDirectory(signal?: AbortSignal): Promise<void> {
    this.#directoryReady ??= this.#makeDirectory(signal).catch((err) => {
      this.#directoryReady = undefined;
      throw err;
    });
    return this.#directoryReady;
  }

  async #makeDirectory(signal?: AbortSignal): Promise<void> {
    const path = this.#path(this.#directory, true);
    const probe = await this.#request({ method: 'PROPFIND', path, signal, headers: { Depth: '0' } });
    probe.resume();
    if (probe.statusCode === 207) return;
    if (probe.statusCode !== 404) throw await statusError(probe, 'PROPFIND', path);
    for (let depth = 1; depth <= this.#directory.length; depth++) {
      const parent = this.#path(this.#directory.slice(0, depth), true);
      const made = await this.#request({ method: 'MKCOL', path: parent, signal });
      made.resume();
      // 405: it exists already
      if (made.statusCode !== 201 && made.statusCode !== 405) throw await statusError(made, 'MKCOL', parent);
    }
  }
}

function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function checkName(name: string): void {
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new BackendError('permanent', `bad file name "${name}" for a backend`);
  }
}

async function statusError(response: IncomingMessage, method: string, path: string): Promise<BackendError> {
  response.resume();
  const status = response.statusCode ?? 0;
  const what = `WebDAV ${method} ${decodePath(path)}: ${status} ${response.statusMessage ?? ''}`.trimEnd();
  if (status === 401) return new BackendError('auth', `${what}: the server refused the user and password`, { hint: 'check the user in the URL and the password (FTP_PASSWORD)' });
  if (status === 403) return new BackendError('auth', `${what}: access denied`, { hint: 'check the user\'s rights on the server' });
  if (status === 404) return new BackendError('not-found', what, { hint: 'check the target URL' });
  if (status === 409) return new BackendError('not-found', `${what}: a parent collection is missing`, { hint: 'check the target URL' });
  if (status === 507 || status === 413) return new BackendError('no-space', what, { hint: 'free space on the WebDAV server or raise its upload limit' });
  if (status === 301 || status === 302 || status === 307 || status === 308) {
    const location = response.headers.location?.replace(/\/\/[^/@]*@/, '//');
    return new BackendError('permanent', `${what}: the server redirects${location ? ` to ${location}` : ''}`, { hint: 'use the URL the server redirects to as the target' });
  }
  if (status === 405 || status === 501) return new BackendError('permanent', `${what}: the server does not take this WebDAV method here`, { hint: 'check that WebDAV is enabled at this URL' });
  if (status === 408 || status === 429 || status >= 500) return new BackendError('transient', what);
  return new BackendError('permanent', what);
}

function classify(err: unknown, method: string, path: string): BackendError {
  if (err instanceof BackendError) return err;
  const e = err as NodeJS.ErrnoException;
  const what = `WebDAV ${method} ${decodePath(path)}`;
  if (e?.name === 'AbortError') return new BackendError('permanent', `${what}: aborted`, { cause: err });
  const code = e?.code ?? '';
  if (/^(ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT|UNABLE_TO_(GET|VERIFY)|ERR_SSL_)/.test(code)) {
    return new BackendError('permanent', `${what}: the server's TLS certificate was refused (${e.message})`,
      { cause: err, hint: 'give its CA with --ssl-cacert-file or --ssl-cacert-path (or --ssl-no-check-certificate)' });
  }
  if (code === 'EPROTO') {
    return new BackendError('permanent', `${what}: the TLS handshake failed`, { cause: err, hint: 'is it an https server? webdav:// is plain http, webdavs:// is https' });
  }
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND|ECONNABORTED)$/.test(code)) {
    return new BackendError('transient', `${what}: ${code} (${e.message})`, { cause: err, hint: 'check that the server is reachable' });
  }
  return new BackendError('permanent', `${what}: ${e?.message ?? String(err)}`, { cause: err });
}
