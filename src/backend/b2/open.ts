// b2://keyID[:applicationKey]@bucket/[folder/] as duplicity 0.8 takes it (specs/duply.md §15.5): the key
// ID is the URL's user, the application key its password or FTP_PASSWORD (where duply puts TARGET_PASS).
// LIFEBOAT_B2_API_URL replaces https://api.backblazeb2.com for b2_authorize_account: for tests against
// the protocol test server only (B2 itself names every other URL in its answer).
import { BadUrlError } from '../url.js';
import { BackendError } from '../errors.js';
import type { BackendOpener } from '../registry.js';
import { B2Backend } from './b2-backend.js';
import { folderOf } from './names.js';
import { objectLockFrom } from '../object-lock.js';
import { B2Session, DEFAULT_API_URL } from './session.js';

export const open: BackendOpener = async (url, context) => {
  const bucketName = url.host;
  if (!url.user) throw new BadUrlError(url.raw, 'no key ID', 'write it as b2://keyID@bucket/folder, with the application key in FTP_PASSWORD');
  if (bucketName === '') throw new BadUrlError(url.raw, 'no bucket name', 'write it as b2://keyID@bucket/folder');
  let folder: string;
  try {
    folder = folderOf(url.path);
  } catch {
    throw new BadUrlError(url.raw, 'bad percent-encoding in the folder', 'encode special characters as %XX');
  }
  const applicationKey = url.password ?? context.env.FTP_PASSWORD;
  if (!applicationKey) {
    throw new BackendError('auth', `no application key for B2 key ID ${url.user}`, {
      hint: 'set FTP_PASSWORD (duply: TARGET_PASS) to the application key; avoid putting it in the URL',
    });
  }
  const session = new B2Session(context.env.LIFEBOAT_B2_API_URL || DEFAULT_API_URL, url.user, applicationKey);
  return new B2Backend(session, {
    bucketName,
    folder,
    hideFiles: context.options.get('b2-hide-files') === true,
    objectLock: objectLockFrom(context.env),
    displayUrl: `b2://${url.user}@${bucketName}/${folder}`,
  });
};
