// B2 file names: the target's folder plus duplicity's file name, percent-encoded where B2 wants it.
import { BackendError } from '../errors.js';

/**
 * X-Bz-File-Name and download paths: UTF-8 percent-encoded. encodeURIComponent leaves only
 * characters B2 accepts unencoded, and encodes "+" (which B2 would read as a space); "/" stays.
 */
export function encodeFileName(name: string): string {
  return encodeURIComponent(name).replace(/%2F/g, '/');
}

/** The URL's path as a B2 name prefix: "" or "dir/sub/" (duplicity joins the non-empty segments). */
export function folderOf(path: string): string {
  const segments = decodeURIComponent(path).split('/').filter((s) => s !== '');
  return segments.length === 0 ? '' : `${segments.join('/')}/`;
}

/** Names are flat (no "/"), as for every backend; B2's own rules are checked by B2. */
export function checkName(name: string): void {
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new BackendError('permanent', `bad file name "${name}" for a backend`);
  }
}
