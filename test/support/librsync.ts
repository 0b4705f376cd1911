// In-memory drivers for the librsync module, shared by unit and oracle tests.
import { generateDelta } from '../../src/librsync/delta.js';
import { applyPatch } from '../../src/librsync/patch.js';
import { generateSignature, parseSignature, type SignatureOptions } from '../../src/librsync/signature.js';

export async function* chunksOf(data: Uint8Array, size = 1 << 16): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

export async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

export function signatureBytes(data: Buffer, options: SignatureOptions, chunk?: number): Promise<Buffer> {
  return collect(generateSignature(chunksOf(data, chunk), options));
}

export async function deltaBytes(signature: Buffer, newData: Buffer, chunk?: number): Promise<Buffer> {
  return collect(generateDelta(await parseSignature(chunksOf(signature)), chunksOf(newData, chunk)));
}

export function patchBytes(basis: Buffer, delta: Buffer, chunk?: number): Promise<Buffer> {
  const reader = async (position: number, length: number) => Buffer.from(basis.subarray(position, position + length));
  return collect(applyPatch(reader, chunksOf(delta, chunk)));
}
