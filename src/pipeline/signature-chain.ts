// A signature chain's state as a stream: its sigtars, read from the archive dir when the chain is
// the local one, else from the target, gunzipped or decrypted and overlaid (signature-state.ts). Used before an
// incremental and by list-current-files.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { isEncryptedName } from '../duplicity/file-names.js';
import { readTar } from '../tar/volume-reader.js';
import { decryptedStoredFile, streamStoredFile } from './set-reader.js';
import { overlaySignatures } from './signature-state.js';
import type { Target } from './target.js';

export interface SignatureChainFiles {
  location: 'local' | 'remote';
  fullSignatureName: string;
  newSignatures: { name: string }[];
}

export function readSignatureChain(target: Target, chain: SignatureChainFiles) {
  const names = [chain.fullSignatureName, ...chain.newSignatures.map((s) => s.name)];
  return overlaySignatures(names.map((name) => readTar(signatureFileBytes(target, chain.location, name))), names);
}

function signatureFileBytes(target: Target, location: 'local' | 'remote', name: string): AsyncIterable<Uint8Array> {
  if (location === 'remote' && isEncryptedName(name)) return decryptedStoredFile(target.backend, name, { cipher: target.cipher });
  const stream = location === 'local' ? createReadStream(join(target.cacheDir, name)) : streamStoredFile(target.backend, name);
  if (!/(gz|\.z)$/.test(name)) return stream;
  const gunzip = createGunzip();
  stream.on('error', (err: Error) => gunzip.destroy(err));
  return stream.pipe(gunzip);
}
