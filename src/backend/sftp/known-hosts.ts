// OpenSSH's known_hosts files: which host keys a server may present. A host on another port than 22
// is written "[host]:port"; hashed entries (HashKnownHosts) are "|1|salt|HMAC-SHA1(salt, name)".
import { createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  marker?: 'revoked' | 'cert-authority';
  patterns: string;
  keyType: string;
  key: Buffer;
  file: string;
  line: number;
}

export type HostKeyStatus = 'known' | 'unknown' | 'changed' | 'revoked';

export interface HostKeyVerdict {
  status: HostKeyStatus;
  /** for "changed" and "revoked": the entry that disagrees */
  entry?: KnownHostEntry;
}

/** The name OpenSSH looks a server up by. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type written inside an SSH public key blob ("ssh-ed25519", "ssh-rsa", ...). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** Reads the files that exist; a missing file has no entries. Malformed lines are skipped, as ssh does. */
export async function loadKnownHosts(files: readonly string[]): Promise<KnownHostEntry[]> {
  const entries: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    text.split('\n').forEach((raw, index) => {
      const entry = parseLine(raw, file, index + 1);
      if (entry) entries.push(entry);
    });
  }
  return entries;
}

function parseLine(raw: string, file: string, line: number): KnownHostEntry | null {
  const fields = raw.trim().split(/\s+/);
  if (fields[0] === '' || fields[0].startsWith('#')) return null;
  let marker: KnownHostEntry['marker'];
  if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
    marker = fields[0].slice(1) as KnownHostEntry['marker'];
    fields.shift();
  }
  if (fields.length < 3) return null;
  const key = Buffer.from(fields[2], 'base64');
  if (key.length === 0 || keyTypeOf(key) !== fields[1]) return null;
  return { marker, patterns: fields[0], keyType: fields[1], key, file, line };
}

function wildcardMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

function hashedMatch(patterns: string, name: string): boolean {
  const parts = patterns.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2], 'base64');
  const expected = Buffer.from(parts[3], 'base64');
  const actual = createHmac('sha1', salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether an entry's host field names `name` (negated patterns "!pattern" exclude). */
export function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatch(patterns, name);
  let matched = false;
  for (const pattern of patterns.split(',')) {
    if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** The plain host keys recorded for a server (certificate authorities are not used). */
export function keysFor(entries: readonly KnownHostEntry[], host: string, port: number): KnownHostEntry[] {
  const name = knownHostsName(host, port);
  return entries.filter((e) => e.marker !== 'cert-authority' && hostMatches(e.patterns, name));
}

export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const mine = keysFor(entries, host, port);
  const revoked = mine.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  if (mine.some((e) => !e.marker && e.key.equals(key))) return { status: 'known' };
  const type = keyTypeOf(key);
  const other = mine.find((e) => !e.marker && e.keyType === type);
  return other ? { status: 'changed', entry: other } : { status: 'unknown' };
}

/** SSH host key algorithms that produce a key of this type, for preferring the types already known. */
export function algorithmsForKeyType(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  if (type === 'ssh-ed25519' || /^ecdsa-sha2-nistp(256|384|521)$/.test(type)) return [type];
  return [];
}

/** Records a newly accepted key (StrictHostKeyChecking=accept-new), as ssh does. */
export async function appendKnownHost(file: string, host: string, port: number, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, `${knownHostsName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}
