import { resolve } from 'node:path';
import { BadUrlError } from '../url.js';
import type { BackendOpener } from '../registry.js';
import { FileBackend } from './file-backend.js';

// duplicity: file:///abs/path is absolute, file://rel/path is relative to the working directory
export const open: BackendOpener = async (url) => {
  const path = decodeURIComponent(url.rest);
  if (path === '') throw new BadUrlError(url.raw, 'no path', 'e.g. file:///srv/backups/host');
  return new FileBackend(resolve(path), url.raw);
};
