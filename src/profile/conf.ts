// The profile's conf is a bash script, as in duply: bash sources it in a child process with duply's
// variables in scope, and reports back the settings, DUPL_PARAMS split into words the way duply's eval
// splits them, and the exported environment (credentials such as AWS_* are exported there).
import { spawn } from 'node:child_process';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { ExitCode, type ExitCodeNumber } from '../errors/exit-codes.js';
import type { ProfilePaths } from './locate.js';

/** duply's fatal errors exit 255 (specs/duply.md §12) */
export const FATAL = ExitCode.profileFatal;

export class ProfileError extends LifeboatError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, { code: 'profile', exitCode: FATAL, hint, cause });
  }
}

/** The conf variables Lifeboat reads (specs/duply.md §4.1, plus Lifeboat's own). */
export const CONF_VARIABLES = [
  'SOURCE', 'TARGET', 'TARGET_USER', 'TARGET_PASS', 'TARGET_PW',
  'GPG_KEY', 'GPG_KEYS_ENC', 'GPG_KEY_SIGN', 'GPG_PW', 'GPG_PW_SIGN', 'GPG', 'GPG_OPTS', 'GPG_TEST', 'GPG_IMPORT', 'GPG_EXPORT',
  'DUPL_PARAMS', 'DUPL_PRECMD', 'PYTHON', 'VERBOSITY', 'TEMP_DIR', 'ARCH_DIR',
  'MAX_AGE', 'MAX_FULL_BACKUPS', 'MAX_FULLS_WITH_INCRS', 'MAX_FULLBKP_AGE', 'VOLSIZE', 'FILENAME', 'LOCK_WAIT',
  'DUMP_POSTGRES', 'DUMP_POSTGRES_OS_USER', 'DUMP_MYSQL', 'DUMP_MYSQL_DEFAULTS_FILE', 'DUMP_SQLITE', 'DUMP_SQLITE_TIMEOUT', 'DUMP_DIR',
  // unattended runs (docs/unattended.md)
  'NOTIFY_EMAIL', 'NOTIFY_SMTP', 'NOTIFY_FROM', 'NOTIFY_WEBHOOK', 'NOTIFY_PING', 'NOTIFY_ON', 'CHECK_MAX_AGE',
  'LOG_FILE', 'LOG_MAX_SIZE', 'LOG_KEEP', 'DRILL_MAX_AGE', 'OFFLINE_MAX_AGE', 'PRICE_GB_MONTH', 'PRICE_GB_DOWNLOAD', 'DRILLS_PER_YEAR',
  'OBJECT_LOCK', 'KEY_ESCROW', 'ROUTINE_PURGE',
] as const;
export type ConfVariable = (typeof CONF_VARIABLES)[number];

export interface EvaluatedConf {
  /** only the variables the conf (or the environment) set, possibly empty */
  vars: Partial<Record<ConfVariable, string>>;
  /** DUPL_PARAMS as duplicity argv words */
  duplParams: string[];
  /** the environment after sourcing: inherited + everything the conf exported */
  env: Record<string, string>;
  /** what the conf printed, in order, to forward to the user */
  stdout: string;
  stderr: string;
}

export const DUPLY_VERSION = '2.4.1';
export const DUPLICITY_VERSION = '0.8.22';

// Runs as `bash -c SCRIPT lifeboat-conf PROFILE BATCH ARGS...`: the conf sees duply's positional
// parameters. Results go to fd 3 as NUL-separated records, so the conf's own output stays apart.
const script = `
PROFILE=$__LB_PROFILE CONFDIR=$__LB_CONFDIR CONF=$__LB_CONF PRE=$__LB_PRE POST=$__LB_POST
EXCLUDE=$__LB_EXCLUDE KEYFILE=$__LB_KEYFILE FTPLCFG=$__LB_FTPLCFG cmd=$__LB_CMD
ME=lifeboat ME_VERSION=$__LB_VERSION DUPL_VERSION=${DUPLICITY_VERSION} DUPL_VERSION_VALUE=${DUPLICITY_VERSION.split('.').map((p, i) => (i === 0 ? '' : p)).join('')}
unset __LB_PROFILE __LB_CONFDIR __LB_CONF __LB_PRE __LB_POST __LB_EXCLUDE __LB_KEYFILE __LB_FTPLCFG __LB_CMD __LB_VERSION
. "$CONF"
{
  for __lb_v in ${CONF_VARIABLES.join(' ')}; do
    if [ "\${!__lb_v+set}" = set ]; then printf 'v\\0%s\\0%s\\0' "$__lb_v" "\${!__lb_v}"; fi
  done
  if ! eval "set -- $DUPL_PARAMS" 2>/dev/null; then printf 'x\\0'; exit 0; fi
  for __lb_w in "$@"; do printf 'p\\0%s\\0' "$__lb_w"; done
  printf 'e\\0'
  env -0
} >&3
`;

export interface ConfInvocation {
  paths: ProfilePaths;
  /** duply's $2: the command batch as typed */
  batch: string;
  /** duply's $3...: the remaining arguments */
  rest: string[];
  env: NodeJS.ProcessEnv;
  version: string;
}

/** Fatal before anything is sourced: a conf with a bash syntax error (duply would carry on past it). */
export async function checkConfSyntax(conf: string): Promise<void> {
  const { code, stderr } = await runBash(['-n', conf], {}, false);
  if (code !== 0) {
    const first = stderr.split('\n').find((l) => l.trim() !== '') ?? 'syntax error';
    throw new ProfileError(`the conf has a bash syntax error: ${first.trim()}`, `fix ${conf} (check it with "bash -n ${conf}")`);
  }
}

export async function evaluateConf(invocation: ConfInvocation): Promise<EvaluatedConf> {
  await checkConfSyntax(invocation.paths.conf);
  const { paths } = invocation;
  const env: NodeJS.ProcessEnv = {
    ...invocation.env,
    __LB_PROFILE: paths.name, __LB_CONFDIR: paths.dir, __LB_CONF: paths.conf, __LB_PRE: paths.pre, __LB_POST: paths.post,
    __LB_EXCLUDE: paths.exclude, __LB_KEYFILE: paths.keyfile, __LB_FTPLCFG: paths.argument, __LB_CMD: invocation.batch,
    __LB_VERSION: invocation.version,
  };
  const result = await runBash(['-c', script, 'lifeboat-conf', paths.argument, invocation.batch, ...invocation.rest], env, true);
  if (result.records === undefined || result.records.length === 0) {
    // the conf ran `exit N` (duply exits with N) or bash died
    throw new LifeboatError(`the conf ${paths.conf} ended the run with exit code ${result.code}`, {
      code: 'conf-exit', exitCode: (result.code === 0 ? FATAL : result.code) as ExitCodeNumber, hint: 'an "exit" in the conf stops every command',
    });
  }
  return { ...parseRecords(result.records, paths.conf), stdout: result.stdout, stderr: result.stderr };
}

function parseRecords(records: string[], conf: string): Omit<EvaluatedConf, 'stdout' | 'stderr'> {
  const vars: Partial<Record<ConfVariable, string>> = {};
  const duplParams: string[] = [];
  const env: Record<string, string> = {};
  let i = 0;
  while (i < records.length) {
    const kind = records[i++];
    if (kind === 'v') {
      vars[records[i] as ConfVariable] = records[i + 1];
      i += 2;
    } else if (kind === 'p') {
      duplParams.push(records[i++]);
    } else if (kind === 'x') {
      throw new ProfileError(`DUPL_PARAMS in ${conf} is not valid shell words (an unclosed quote?)`, 'fix the DUPL_PARAMS lines of the conf');
    } else if (kind === 'e') {
      for (const entry of records.slice(i)) {
        const eq = entry.indexOf('=');
        if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
      }
      break;
    }
  }
  return { vars, duplParams, env };
}

interface BashResult { code: number; stdout: string; stderr: string; records?: string[] }

function runBash(args: string[], env: NodeJS.ProcessEnv, withResults: boolean): Promise<BashResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { env: withResults ? env : { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const res: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => res.push(c));
    child.on('error', (e) => reject(new ProfileError(`cannot run bash to read the conf: ${e.message}`, 'install bash', e)));
    child.on('close', (code) => {
      const raw = Buffer.concat(res).toString('utf8');
      const records = raw === '' ? undefined : raw.split('\0').slice(0, -1);
      resolve({ code: code ?? 128, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), records });
    });
  });
}
