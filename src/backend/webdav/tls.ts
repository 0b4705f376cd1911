// duplicity's certificate options for webdavs://: --ssl-cacert-file, --ssl-cacert-path (a directory
// of PEM files), --ssl-no-check-certificate; without them duplicity's default cacert files, if any,
// and otherwise the system's CAs. Given CAs replace the system's, as in Python's ssl module.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LifeboatError } from '../../errors/lifeboat-error.js';
import { ExitCode } from '../../errors/exit-codes.js';

export interface TlsSettings {
  ca?: Buffer[];
  rejectUnauthorized: boolean;
}

const DEFAULT_CACERT_FILES = ['~/.duplicity/cacert.pem', '~/duplicity_cacert.pem', '/etc/duplicity/cacert.pem'];

function expandHome(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

function unreadable(path: string, err: unknown, option: string): LifeboatError {
  return new LifeboatError(`cannot read the CA certificates "${path}": ${(err as Error).message}`,
    { code: 'bad-cacert', exitCode: ExitCode.userError, hint: `check ${option}`, cause: err });
}

export function tlsSettings(options: ReadonlyMap<string, string | true>): TlsSettings {
  if (options.get('ssl-no-check-certificate') === true) return { rejectUnauthorized: false };
  const ca: Buffer[] = [];
  let file = options.get('ssl-cacert-file');
  if (typeof file !== 'string') file = DEFAULT_CACERT_FILES.map(expandHome).find((p) => existsSync(p));
  if (typeof file === 'string') {
    try {
      ca.push(readFileSync(expandHome(file)));
    } catch (err) {
      throw unreadable(file, err, '--ssl-cacert-file');
    }
  }
  const dir = options.get('ssl-cacert-path');
  if (typeof dir === 'string') {
    try {
      for (const name of readdirSync(expandHome(dir)).sort()) {
        const path = join(expandHome(dir), name);
        // OpenSSL's hashed directories name certificates abcd1234.0 (often links to *.pem: duplicates do no harm)
        if (statSync(path).isFile() && /\.(pem|crt|cer)$|\.\d+$/.test(name)) ca.push(readFileSync(path));
      }
    } catch (err) {
      throw unreadable(dir, err, '--ssl-cacert-path');
    }
  }
  return ca.length > 0 ? { ca, rejectUnauthorized: true } : { rejectUnauthorized: true };
}
