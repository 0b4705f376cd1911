// HTTP Digest authentication (RFC 7616, with RFC 2617's MD5 servers): the Authorization header for
// one request, from the server's challenge. Only qop "auth" (no body integrity) is offered.
import { createHash, randomBytes } from 'node:crypto';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  algorithm?: string;
  opaque?: string;
  stale?: string;
}

/** The parameters of one `Digest k=v, k="v"` challenge; undefined when it is not a usable Digest challenge. */
export function parseDigestChallenge(header: string): DigestChallenge | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const pair = /([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
  for (let p = pair.exec(m[1]); p; p = pair.exec(m[1])) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  }
  if (params.realm === undefined || !params.nonce) return undefined;
  return params as unknown as DigestChallenge;
}

function hashFor(algorithm: string): (text: string) => string {
  const name = algorithm.replace(/-sess$/i, '').toUpperCase() === 'SHA-256' ? 'sha256' : 'md5';
  return (text) => createHash(name).update(text, 'utf8').digest('hex');
}

/** Digest schemes this client can answer */
export function supportedDigest(challenge: DigestChallenge): boolean {
  const algorithm = (challenge.algorithm ?? 'MD5').toUpperCase();
  const qop = challenge.qop?.split(',').map((q) => q.trim().toLowerCase());
  return ['MD5', 'MD5-SESS', 'SHA-256', 'SHA-256-SESS'].includes(algorithm) && (!qop || qop.includes('auth'));
}

/** `nc` counts the requests made with this nonce (1, 2, ...) */
export function digestAuthorization(challenge: DigestChallenge, user: string, password: string,
  method: string, uri: string, nc: number, cnonce = randomBytes(8).toString('hex')): string {
  const algorithm = challenge.algorithm ?? 'MD5';
  const h = hashFor(algorithm);
  const count = nc.toString(16).padStart(8, '0');
  let ha1 = h(`${user}:${challenge.realm}:${password}`);
  if (/-sess$/i.test(algorithm)) ha1 = h(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const withQop = challenge.qop !== undefined;
  const response = withQop
    ? h(`${ha1}:${challenge.nonce}:${count}:${cnonce}:auth:${ha2}`)
    : h(`${ha1}:${challenge.nonce}:${ha2}`);
  const quote = (v: string) => `"${v.replace(/(["\\])/g, '\\$1')}"`;
  const parts = [
    `username=${quote(user)}`, `realm=${quote(challenge.realm)}`, `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(uri)}`, `algorithm=${algorithm}`, `response=${quote(response)}`,
  ];
  if (withQop) parts.push('qop=auth', `nc=${count}`, `cnonce=${quote(cnonce)}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
