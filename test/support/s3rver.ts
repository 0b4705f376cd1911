// s3rver (npm), the S3 server the S3 tests run against: started in this process on 127.0.0.1 with
// an ephemeral port and a temporary directory, with a key pair made up for the run (the built-in
// S3RVER/S3RVER pair is revoked, so a wrong key or secret is refused as real S3 refuses it).
// s3rver checks key ids but not SigV4 signatures; a check in front of it does (header-signed
// requests: canonical request from the raw path, query and signed headers, the payload hash the
// client declared), so a wrong secret is refused with SignatureDoesNotMatch as S3 refuses it.
// It records every request's method, path and query names, so tests can see what a client sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);

interface KoaContext {
  method: string; path: string; query: Record<string, unknown>; status: number;
  req: { url?: string; headers: Record<string, string | string[] | undefined>; socket: { destroy(): void } };
  respond: boolean;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverInstance {
  middleware: Middleware[];
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;
interface Account { createKeyPair(id: string, secret: string): void; revokeAccessKey(id: string): void }

export interface RecordedRequest {
  method: string; path: string; query: string[]; status: number;
  /** the request's headers but Authorization, lowercase names */
  headers: Record<string, string>;
}

/** A fault for one request: an S3 error code to answer with, or 'drop' to cut the connection. */
export type Fault = 'drop' | 'ServiceUnavailable' | 'InternalError' | 'SlowDown' | 'AccessDenied' | undefined;

export interface S3Server {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  bucket: string;
  /** where s3rver keeps buckets and objects */
  directory: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** every request so far, in arrival order */
  requests: RecordedRequest[];
  /** when set, asked before each request is served */
  inject?: (request: RecordedRequest) => Fault;
  /** the environment a client needs: the key pair, a region, nothing else of AWS_* */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startS3rver(buckets: string[] = ['lifeboat-test']): Promise<S3Server> {
  const S3rver = require('s3rver') as S3rverClass;
  const S3Error = require('s3rver/lib/models/error.js') as new (code: string, message: string) => Error;
  const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: Account };
  const directory = mkdtempSync(join(tmpdir(), 'lifeboat-s3rver-'));
  const accessKeyId = `LBTEST${randomBytes(6).toString('hex').toUpperCase()}`;
  const secretAccessKey = `sEcReT-${randomBytes(18).toString('base64url')}`;
  DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  const server = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const requests: RecordedRequest[] = [];
  // first in the chain, so it sees requests that later middleware refuses
  server.middleware.unshift(async (ctx, next) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx.req.headers)) if (k !== 'authorization' && v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const entry: RecordedRequest = { method: ctx.method, path: ctx.path, query: Object.keys(ctx.query), status: 0, headers };
    requests.push(entry);
    try {
      if (!signatureMatches(ctx, accessKeyId, secretAccessKey)) {
        throw new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
      }
      const fault = result.inject?.(entry);
      if (fault === 'drop') {
        entry.status = -1;
        ctx.respond = false;
        ctx.req.socket.destroy();
        return;
      }
      if (fault) throw new S3Error(fault, `injected ${fault}`);
      await next();
      entry.status = ctx.status;
    } catch (err) {
      entry.status = (err as { status?: number }).status ?? 500;
      throw err;
    }
  });
  const address = await server.run();
  const result: S3Server = {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket: buckets[0],
    directory,
    accessKeyId,
    secretAccessKey,
    requests,
    env(base: NodeJS.ProcessEnv = process.env) {
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(base)) if (!k.startsWith('AWS_')) env[k] = v;
      return { ...env, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1' };
    },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
  return result;
}

/** SigV4 (Authorization header form) for our one key pair; other key ids are left to s3rver to refuse. */
function signatureMatches(ctx: KoaContext, accessKeyId: string, secret: string): boolean {
  const header = ctx.req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('AWS4-HMAC-SHA256 ')) return true;
  const fields = new Map([...header.slice(17).matchAll(/(\w+)=([^,\s]+)/g)].map((m) => [m[1], m[2]]));
  const [keyId, ...scopeParts] = (fields.get('Credential') ?? '').split('/');
  if (keyId !== accessKeyId) return true;
  const signedHeaders = (fields.get('SignedHeaders') ?? '').split(';');
  const headerValue = (name: string) => {
    const v = ctx.req.headers[name];
    return (Array.isArray(v) ? v.join(',') : v ?? '').trim().replace(/\s+/g, ' ');
  };
  const rawUrl = ctx.req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = (q < 0 ? '' : rawUrl.slice(q + 1)).split('&').filter((p) => p !== '').map((pair) => {
    const eq = pair.indexOf('=');
    const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    return [strictEncode(decodeURIComponent(k)), strictEncode(decodeURIComponent(v))];
  }).sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
  const canonical = [
    ctx.method, path, query,
    signedHeaders.map((name) => `${name}:${headerValue(name)}\n`).join(''),
    signedHeaders.join(';'),
    headerValue('x-amz-content-sha256'),
  ].join('\n');
  const scope = scopeParts.join('/');
  const toSign = ['AWS4-HMAC-SHA256', headerValue('x-amz-date'), scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key: Buffer = Buffer.from(`AWS4${secret}`);
  for (const part of scopeParts) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex') === fields.get('Signature');
}

/** RFC 3986 unreserved characters stay, everything else is %XX (SigV4's URI encoding) */
function strictEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
