// openpgp.js is loaded on first use, not at start-up: parsing its 1.2 MB module costs every command
// about 50 ms of CPU, and most runs (unencrypted backups, status, list) never encrypt or decrypt.
let loading: Promise<typeof import('openpgp')> | undefined;

export function openpgpModule(): Promise<typeof import('openpgp')> {
  loading ??= import('openpgp');
  return loading;
}
