// s3rver (npm), the S3 server the S3 tests run against: started in this process on 127.0.0.1 with
// an ephemeral port and a temporary directory, with a key pair made up for the run (the built-in
// S3RVER/S3RVER pair is revoked, so a wrong key or secret is refused as real S3 refuses it).
// It records every request's method, path and query names, so tests can see what a client sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);

interface KoaContext { method: string; path: string; query: Record<string, unknown>; status: number }
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverInstance {
  middleware: Middleware[];
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;
interface Account { createKeyPair(id: string, secret: string): void; revokeAccessKey(id: string): void }

export interface RecordedRequest { method: string; path: string; query: string[]; status: number }

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
  /** the environment a client needs: the key pair, a region, nothing else of AWS_* */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startS3rver(buckets: string[] = ['lifeboat-test']): Promise<S3Server> {
  const S3rver = require('s3rver') as S3rverClass;
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
    const entry: RecordedRequest = { method: ctx.method, path: ctx.path, query: Object.keys(ctx.query), status: 0 };
    requests.push(entry);
    try {
      await next();
    } finally {
      entry.status = ctx.status;
    }
  });
  const address = await server.run();
  return {
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
}
