// Target URLs as duplicity 0.8 writes them: scheme://[user[:password]@]host[:port]/[/]path
// (specs/duply.md §15.5). Parsing is generic; each backend reads the parts it needs.
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';

export class BadUrlError extends LifeboatError {
  constructor(url: string, why: string, hint: string) {
    super(`bad target URL "${redactUrl(url)}": ${why}`, { code: 'bad-url', exitCode: ExitCode.badUrl, hint });
  }
}

export interface TargetUrl {
  /** as given, credentials included: never print it, print `display` */
  raw: string;
  /** credentials replaced by *** */
  display: string;
  /** lower case, with any implementation prefix kept (`boto3+s3`, `paramiko+sftp`) */
  scheme: string;
  /** percent-decoded */
  user?: string;
  /** percent-decoded */
  password?: string;
  /** empty when the URL has none (file:///x, azure://container is a host) */
  host: string;
  port?: number;
  /** everything after the host and its first '/', still percent-encoded as given: "dir/sub", "/abs/dir" */
  path: string;
  /** everything after "scheme://" as given */
  rest: string;
}

/** What a backend may read besides its URL: duplicity's backend options and the environment. */
export interface BackendContext {
  /** FTP_PASSWORD, AWS_*, AZURE_CONNECTION_STRING, ...: read credentials from here, never from process.env */
  env: NodeJS.ProcessEnv;
  /** duplicity's backend options by long name without the dashes ("s3-endpoint-url"); flags map to true */
  options: ReadonlyMap<string, string | true>;
  /** notice-level lines for the user, such as a retried operation; never pass credentials to it */
  log?(line: string): void;
}

export function defaultBackendContext(): BackendContext {
  return { env: process.env, options: new Map() };
}

/** Looks like a URL rather than a local path (duplicity's test: a scheme followed by "://"). */
export function isUrl(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text);
}

/** The URL with any password (and the user of schemes whose "user" is a key id) hidden. */
export function redactUrl(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/@]*)@(.*)$/s.exec(url);
  if (!m) return url;
  const [, head, userinfo, tail] = m;
  const colon = userinfo.indexOf(':');
  return colon < 0 ? url : `${head}${userinfo.slice(0, colon)}:***@${tail}`;
}

export function parseTargetUrl(url: string): TargetUrl {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(url);
  if (!m) throw new BadUrlError(url, 'not a URL', 'write it as scheme://..., e.g. file:///srv/backups/host');
  const scheme = m[1].toLowerCase();
  const rest = m[2];
  const slash = rest.indexOf('/');
  let authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  let user: string | undefined;
  let password: string | undefined;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    user = decode(url, colon < 0 ? userinfo : userinfo.slice(0, colon));
    if (colon >= 0) password = decode(url, userinfo.slice(colon + 1));
  }
  let host = authority;
  let port: number | undefined;
  const portMatch = /^(.*):(\d+)$/.exec(authority);
  if (portMatch) {
    host = portMatch[1];
    port = Number(portMatch[2]);
  }
  return { raw: url, display: redactUrl(url), scheme, user, password, host, port, path, rest };
}

function decode(url: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new BadUrlError(url, 'bad percent-encoding in the user or password', 'encode special characters as %XX');
  }
}
