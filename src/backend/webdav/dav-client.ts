// One WebDAV server over Node's http/https: keep-alive connections, Basic or Digest authentication
// learnt from the server's first challenge (so no password goes out before the server asks for it,
// and a streamed body is sent only once auth is known), extra headers, an idle timeout.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { BackendError } from '../errors.js';
import { digestAuthorization, parseDigestChallenge, supportedDigest, type DigestChallenge } from './digest.js';

export interface DavEndpoint {
  protocol: 'http:' | 'https:';
  /** without IPv6 brackets */
  hostname: string;
  port: number;
}

export interface DavClientOptions {
  user?: string;
  password?: string;
  /** https only: CA certificates replacing the system's, and whether to check the server's at all */
  ca?: Buffer[];
  rejectUnauthorized?: boolean;
  headers?: Record<string, string>;
  /** idle time in ms after which a request fails as transient */
  timeoutMs: number;
  connections: number;
}

export interface DavRequest {
  method: string;
  /** absolute, percent-encoded */
  path: string;
  headers?: Record<string, string>;
  /** called again when the request must be repeated after an authentication challenge */
  body?: () => Readable | string;
  signal?: AbortSignal;
}

type Auth = { scheme: 'none' } | { scheme: 'basic' } | { scheme: 'digest'; challenge: DigestChallenge; nc: number };

export class DavClient {
  readonly endpoint: DavEndpoint;
  readonly #options: DavClientOptions;
  readonly #agent: http.Agent;
  #auth: Auth = { scheme: 'none' };

  constructor(endpoint: DavEndpoint, options: DavClientOptions) {
    this.endpoint = endpoint;
    this.#options = options;
    this.#agent = endpoint.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: options.connections, ca: options.ca, rejectUnauthorized: options.rejectUnauthorized ?? true })
      : new http.Agent({ keepAlive: true, maxSockets: options.connections });
  }

  /** scheme://host:port, as a Destination header needs it */
  get origin(): string {
    const host = this.endpoint.hostname.includes(':') ? `[${this.endpoint.hostname}]` : this.endpoint.hostname;
    return `${this.endpoint.protocol}//${host}:${this.endpoint.port}`;
  }

  /** The response, its body unread; a 401 is answered once with the credentials the challenge asks for. */
  async request(request: DavRequest): Promise<IncomingMessage> {
    const first = await this.#send(request);
    if (first.statusCode !== 401 || this.#options.user === undefined || !this.#learn(first)) return first;
    // a streamed body may still be flowing into the refused request: drop that connection
    if (request.body) first.destroy(); else first.resume();
    return this.#send(request);
  }

  /** true when the challenge gives a new way to authenticate than the one just refused */
  #learn(response: IncomingMessage): boolean {
    const challenges = response.headersDistinct['www-authenticate'] ?? [];
    const previous = this.#auth;
    for (const header of challenges) {
      const digest = parseDigestChallenge(header);
      if (digest && supportedDigest(digest)) {
        const refreshed = previous.scheme !== 'digest' || digest.stale?.toLowerCase() === 'true';
        this.#auth = { scheme: 'digest', challenge: digest, nc: 0 };
        return refreshed;
      }
    }
    if (challenges.some((c) => /^\s*basic\b/i.test(c)) && previous.scheme !== 'basic') {
      this.#auth = { scheme: 'basic' };
      return true;
    }
    return false;
  }

  #authorization(method: string, path: string): string | undefined {
    const user = this.#options.user;
    if (user === undefined) return undefined;
    const password = this.#options.password ?? '';
    const auth = this.#auth;
    if (auth.scheme === 'basic') return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    if (auth.scheme === 'digest') return digestAuthorization(auth.challenge, user, password, method, path, ++auth.nc);
    return undefined;
  }

  #send(request: DavRequest): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...this.#options.headers, ...request.headers };
      const authorization = this.#authorization(request.method, request.path);
      if (authorization) headers.Authorization = authorization;
      const body = request.body?.();
      if (typeof body === 'string') {
        headers['Content-Length'] ??= String(Buffer.byteLength(body));
      } else if (!body && !headers['Content-Length']) {
        headers['Content-Length'] = '0';
      }
      const transport = this.endpoint.protocol === 'https:' ? https : http;
      const req = transport.request({
        protocol: this.endpoint.protocol, hostname: this.endpoint.hostname, port: this.endpoint.port,
        method: request.method, path: request.path, headers, agent: this.#agent, signal: request.signal,
      });
      req.setTimeout(this.#options.timeoutMs, () => {
        req.destroy(new BackendError('transient', `WebDAV ${request.method}: no answer from ${this.origin} for ${this.#options.timeoutMs / 1000} s`,
          { hint: 'the server is slow or unreachable; --timeout sets the limit' }));
      });
      req.once('response', resolve);
      req.on('error', (err) => {
        if (body instanceof Readable) body.destroy();
        reject(err);
      });
      if (body instanceof Readable) {
        body.once('error', (err) => req.destroy(err));
        body.pipe(req);
      } else {
        req.end(body);
      }
    });
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }
}

/** The whole (small) body of a response, as text */
export async function responseText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
