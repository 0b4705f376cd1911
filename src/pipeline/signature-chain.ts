// A signature chain's state as a stream: its sigtars, read from the archive dir when the chain is
// the local one, else from the target, gunzipped or decrypted and overlaid (signature-state.ts). Used before an
// incremental and by list-current-files.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createGunzip, type ZlibOptions } from 'node:zlib';
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
  const stream = location === 'local' ? createReadStream(join(target.cacheDir, name), { highWaterMark: 1 << 18 }) : streamStoredFile(target.backend, name);
  if (!/(gz|\.z)$/.test(name)) return stream;
  // 256 KiB out per trip to the thread pool (zlib's default is 16 KiB) and up to 1 MiB inflated ahead,
  // so the walk rarely waits for the signatures (zlib streams take the stream options too)
  const gunzip = createGunzip({ chunkSize: 1 << 18, readableHighWaterMark: 1 << 20 } as ZlibOptions);
  stream.on('error', (err: Error) => gunzip.destroy(err));
  return stream.pipe(gunzip);
}
