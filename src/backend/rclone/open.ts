// Placeholder until the rclone backend lands (issue 8).
import { BadUrlError } from '../url.js';
import type { BackendOpener } from '../registry.js';

export const open: BackendOpener = async (url) => {
  throw new BadUrlError(url.raw, 'the "' + url.scheme + '" backend is not available yet', 'use a file:// target');
};
