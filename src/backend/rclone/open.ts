// rclone://remote:/some_dir as duplicity 0.8 reads it: the first ":/" becomes ":", so this is
// rclone's "remote:some_dir" (relative to the remote's root), and rclone://remote://abs is "remote:/abs".
import { BadUrlError } from '../url.js';
import type { BackendOpener } from '../registry.js';
import { RcloneBackend } from './rclone-backend.js';

/** duplicity's verbosity would choose; Lifeboat reports rclone's errors itself, so errors only */
const DEFAULT_LOG_LEVEL = 'ERROR';

export const open: BackendOpener = async (url, context) => {
  const colon = url.rest.indexOf(':/');
  if (colon <= 0) {
    throw new BadUrlError(url.raw, 'no "remote:/" part', 'write it as rclone://remote:/some_dir (the slash after the colon is required)');
  }
  const remote = url.rest.slice(0, colon);
  if (remote.includes(',') || remote.includes('@')) {
    // ":s3,access_key_id=...:" or user@host forms would put settings, secrets too, in process arguments
    throw new BadUrlError(`rclone://***${url.rest.slice(colon)}`, 'the remote must be a name from rclone\'s config',
      'put the remote\'s settings in "rclone config" or in RCLONE_CONFIG_<NAME>_* variables, never in the URL');
  }
  let remotePath: string;
  try {
    remotePath = decodeURIComponent(`${remote}:${url.rest.slice(colon + 2)}`).replace(/([^:/])\/+$/, '$1');
  } catch {
    throw new BadUrlError(url.raw, 'bad percent-encoding', 'encode special characters as %XX');
  }
  const env: NodeJS.ProcessEnv = { ...context.env };
  env.RCLONE_LOG_LEVEL ??= DEFAULT_LOG_LEVEL;
  // never wait for a config password on a terminal: a cron run would hang
  env.RCLONE_ASK_PASSWORD ??= 'false';
  return new RcloneBackend(remotePath, { env, program: 'rclone' }, url.display);
};
