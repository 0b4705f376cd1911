// The one explicit list of backends. Each loads lazily, so a cloud SDK never slows a cron start
// of a profile that writes to a local disk.
import { BadUrlError, defaultBackendContext, parseTargetUrl, type BackendContext, type TargetUrl } from './url.js';
import type { Backend } from './types.js';
import { withLimit } from './limit.js';
import { describeRetry, retryPolicyFromOptions, withRetry } from './retry.js';

export type BackendOpener = (url: TargetUrl, context: BackendContext) => Promise<Backend>;

const file = async () => (await import('./file/open.js')).open;
const s3 = async () => (await import('./s3/open.js')).open;
const b2 = async () => (await import('./b2/open.js')).open;
const sftp = async () => (await import('./sftp/open.js')).open;
const webdav = async () => (await import('./webdav/open.js')).open;
const azure = async () => (await import('./azure/open.js')).open;
const rclone = async () => (await import('./rclone/open.js')).open;

const schemes: Record<string, () => Promise<BackendOpener>> = {
  file,
  s3, 's3+http': s3, 'boto3+s3': s3, 'boto+s3': s3,
  b2,
  sftp, scp: sftp, 'paramiko+sftp': sftp, 'paramiko+scp': sftp, 'pexpect+sftp': sftp, 'pexpect+scp': sftp,
  webdav, webdavs: webdav,
  azure,
  rclone,
};

export function supportedSchemes(): string[] {
  return Object.keys(schemes);
}

export async function openBackend(url: string, context: BackendContext = defaultBackendContext()): Promise<Backend> {
  const parsed = parseTargetUrl(url);
  const loader = schemes[parsed.scheme];
  if (!loader) {
    throw new BadUrlError(url, `Lifeboat has no "${parsed.scheme}" backend`,
      `use one of: ${Object.keys(schemes).join(', ')}`);
  }
  const policy = retryPolicyFromOptions(context.options, context.log && ((event) => context.log!(describeRetry(event))));
  const backend = await (await loader())(parsed, context);
  // retry outside the limit: an operation waiting to try again gives its connection to another
  return withRetry(withLimit(backend, backend.capabilities.connections), policy);
}
