// Target URLs as duplicity writes them; today only file://, the other schemes come with their backends.
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { resolve } from 'node:path';
import { FileBackend } from './file/file-backend.js';
import type { Backend } from './types.js';

export class BadUrlError extends LifeboatError {
  constructor(url: string, why: string, hint: string) {
    super(`bad target URL "${url}": ${why}`, { code: 'bad-url', exitCode: ExitCode.badUrl, hint });
  }
}

/** Looks like a URL rather than a local path (duplicity's test: a scheme followed by "://"). */
export function isUrl(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text);
}

export function openBackend(url: string): Backend {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(url);
  if (!m) throw new BadUrlError(url, 'not a URL', 'write it as scheme://..., e.g. file:///srv/backups/host');
  const scheme = m[1].toLowerCase();
  if (scheme === 'file') {
    // duplicity: file:///abs/path is absolute, file://rel/path is relative to the working directory
    const path = decodeURIComponent(m[2]);
    if (path === '') throw new BadUrlError(url, 'no path', 'e.g. file:///srv/backups/host');
    return new FileBackend(resolve(path), url);
  }
  throw new BadUrlError(url, `the "${scheme}" backend is not available yet`, 'use a file:// target');
}
