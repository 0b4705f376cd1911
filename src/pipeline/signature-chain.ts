// A signature chain's state as a stream: its sigtars, read from the archive dir when the chain is
// the local one, else from the target, gunzipped and overlaid (signature-state.ts). Used before an
// incremental and by list-current-files.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { refuseEncrypted } from '../crypto/unsupported.js';
import { readTar } from '../tar/volume-reader.js';
import { streamStoredFile } from './set-reader.js';
import { overlaySignatures } from './signature-state.js';
import type { Target } from './target.js';

export interface SignatureChainFiles {
  location: 'local' | 'remote';
  fullSignatureName: string;
  newSignatures: { name: string }[];
}

export function readSignatureChain(target: Target, chain: SignatureChainFiles) {
  const names = [chain.fullSignatureName, ...chain.newSignatures.map((s) => s.name)];
  // checked before any file is opened, so a refusal leaves no stream behind
  names.forEach(refuseEncrypted);
  return overlaySignatures(names.map((name) => readTar(signatureFileBytes(target, chain.location, name))), names);
}

function signatureFileBytes(target: Target, location: 'local' | 'remote', name: string): AsyncIterable<Uint8Array> {
  const stream = location === 'local' ? createReadStream(join(target.cacheDir, name)) : streamStoredFile(target.backend, name);
  if (!/(gz|\.z)$/.test(name)) return stream;
  const gunzip = createGunzip();
  stream.on('error', (err: Error) => gunzip.destroy(err));
  return stream.pipe(gunzip);
}
