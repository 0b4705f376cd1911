// webdav[s]://user[:password]@host[:port]/dir as duplicity 0.8 takes it (specs/duply.md §15.5): the
// password from the URL or FTP_PASSWORD, the path absolute on the server, duplicity's TLS options,
// --webdav-headers ("name,value,name,value", CSV quoting allowed), --timeout (seconds).
import { UsageError } from '../../errors/lifeboat-error.js';
import { BadUrlError } from '../url.js';
import type { BackendOpener } from '../registry.js';
import { DavClient } from './dav-client.js';
import { tlsSettings } from './tls.js';
import { WebDavBackend } from './webdav-backend.js';

const CONNECTIONS = 4;
const DEFAULT_TIMEOUT_SECONDS = 30;

export const open: BackendOpener = async (url, context) => {
  const secure = url.scheme === 'webdavs';
  if (!url.host) throw new BadUrlError(url.raw, 'no host', `write it as ${url.scheme}://user@host[:port]/dir`);
  let directory: string[];
  try {
    directory = url.path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    throw new BadUrlError(url.raw, 'bad percent-encoding in the path', 'encode special characters as %XX');
  }
  const timeout = context.options.get('timeout');
  const timeoutSeconds = typeof timeout === 'string' ? Number(timeout) : DEFAULT_TIMEOUT_SECONDS;
  if (!(timeoutSeconds > 0)) throw new UsageError(`--timeout ${String(timeout)} is not a number of seconds`, 'e.g. --timeout 60');
  const tls = secure ? tlsSettings(context.options) : { rejectUnauthorized: true };
  const client = new DavClient({
    protocol: secure ? 'https:' : 'http:',
    hostname: url.host.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ?? (secure ? 443 : 80),
  }, {
    user: url.user,
    password: url.password ?? context.env.FTP_PASSWORD,
    ca: tls.ca,
    rejectUnauthorized: tls.rejectUnauthorized,
    headers: parseHeaders(context.options.get('webdav-headers')),
    timeoutMs: timeoutSeconds * 1000,
    connections: CONNECTIONS,
  });
  // not even "user:***@": a display URL shows where, never that a password was given
  const display = url.display.replace(/^([^:]+:\/\/[^/@:]*):\*\*\*@/, '$1@');
  return new WebDavBackend(client, directory, display, CONNECTIONS);
};

/** duplicity's --webdav-headers: one CSV line of alternating names and values */
export function parseHeaders(option: string | true | undefined): Record<string, string> {
  if (typeof option !== 'string' || option.trim() === '') return {};
  const fields = csvFields(option);
  if (fields.length % 2 !== 0) {
    throw new UsageError('--webdav-headers needs pairs of header name and value', 'e.g. --webdav-headers "X-Token,abc,User-Agent,backup"');
  }
  const headers: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i].trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(fields[i + 1])) {
      throw new UsageError(`--webdav-headers: "${name}" is not a valid header`, 'header names are letters, digits and dashes; values have no line breaks');
    }
    headers[name] = fields[i + 1];
  }
  return headers;
}

function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(field);
  return fields;
}
