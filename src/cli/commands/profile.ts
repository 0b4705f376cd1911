// `lifeboat <profile> <command>[_<command>...] [options]`: duply's face (specs/duply.md). Resolves and
// checks the profile, sources its conf with bash, expands the batch, then runs each command: pre/post
// scripts, and duplicity actions as `lifeboat duplicity` child processes with duply's command lines.
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync, accessSync, constants } from 'node:fs';
import { basename } from 'node:path';
import { ProfileError, evaluateConf, DUPLY_VERSION, type EvaluatedConf } from '../../profile/conf.js';
import { availableProfiles, createPlace, defaultLookupEnv, locateProfile, type ProfilePaths } from '../../profile/locate.js';
import { settingsOf, type ProfileSettings } from '../../profile/settings.js';
import { expandBatch, runBatch, type TokenContext } from '../../profile/batch.js';
import { argvOf, duplicityInvocation, previewLine, DUPLICITY_COMMANDS, type DuplicityCommand, type DuplicityInvocation } from '../../profile/commands.js';
import { runHook, hookState } from '../../profile/hooks.js';
import { runLifeboatDuplicity } from '../../profile/duplicity-child.js';
import { lockProfile } from '../../profile/profile-lock.js';
import { chooseSignKey, exportKeysToProfile, profileKeyFiles } from '../../profile/gpg-keys.js';
import { confTemplate, excludeTemplate, importantNote } from '../../profile/template.js';
import { parseDuplicityArgv } from '../duplicity-argv.js';
import { rawDirectoriesNotExcluded, runDumps } from '../../dbdump/run-dumps.js';
import { dumpSpecs } from '../../dbdump/engines.js';
import type { DumpSettings } from '../../dbdump/settings.js';
import { formatBytes } from '../../pipeline/statistics.js';
import { LifeboatError } from '../../errors/lifeboat-error.js';
import { supportedSchemes } from '../../backend/registry.js';
import { redactUrl } from '../../backend/url.js';
import type { CommandContext } from '../context.js';
import { createOutput, type Output } from '../output.js';
import { parseVerbosity } from '../verbosity.js';
import { version } from '../version.js';

export const profileUsage = `Usage: lifeboat PROFILE COMMAND[_COMMAND...] [OPTIONS]    (duply's command line)

PROFILE is a name (looked up in /etc/lifeboat for root, ~/.lifeboat, ~/.duply, then /etc/duply
for root) or a path containing "/". "lifeboat NAME create" makes a new one.

Commands:
  create            make the profile folder with a commented conf and exclude file
  backup            pre, bkp, post (a failing pre is reported; the backup still runs)
  bkp               back up: incremental, or full when no chain exists or it is too old
  full, incr        force a full or an incremental backup
  pre, post         run the profile's pre or post script
  status            the chains and sets on the target (duplicity collection-status)
  list [AGE]        the files in the latest (or AGE) backup
  verify [AGE]      compare the backup with SOURCE
  verifyPath PATH LOCAL [AGE]   compare one path of the backup with LOCAL
  restore DIR [AGE] restore everything into DIR (must not exist, unless --force)
  fetch PATH DIR [AGE]          restore one path into DIR
  purge [AGE]       list (with --force: delete) sets older than AGE or MAX_AGE
  purgeFull [N]     ... all but the N (MAX_FULL_BACKUPS) newest full chains
  purgeIncr [N]     ... the incrementals of all but the N (MAX_FULLS_WITH_INCRS) newest chains
  purgeAuto         purge, purgeFull, purgeIncr for the settings that are set
  cleanup           list (with --force: delete) what failed runs left
  restore-db ENGINE:NAME [--time T] [--into DB] [--force]
                    load a database dump from the backup into a new database
  drill [--time T] [--sample PCT] [--json] [--from DEST_URL]
                    restore from the target (or an offline copy) alone into a scratch directory
                    and check it
  copy DEST_URL [--label NAME] [--from-source] [--force]
                    bring an offline disk (e.g. file:///media/backup-a/HOST) up to date with the
                    target, checking every file; --from-source: a fresh full backup straight to it;
                    --force: replace damaged files, apply the retention settings to the disk
                    (docs/offline-copies.md)
  usage, version

Lifeboat's own (not batch words; docs/unattended.md):
  schedule [daily|hourly|weekly|"CRON EXPR"] [--time HH:MM] [--systemd|--cron]
                    run the routine unattended: writes /etc/cron.d/lifeboat-PROFILE or a
                    systemd service + timer (systemd where it runs)
  unschedule        remove what schedule wrote
  run-routine       purge, purgeFull, purgeIncr (those set in the conf) with --force, then backup;
                    output to the profile's log, errors also to stderr; notifies (NOTIFY_*)
  check [--max-age 26h]   one line; exit 0 the last backup is recent, 1 it is older or missing
  cost [--json]     yearly storage cost from the retention, measured sizes and prices
  audit             can an attacker on this server destroy the backups? one line a finding, a fix
                    for each problem; exit 1 when there is one (docs/hardening.md)

Batches: "_" runs the next command anyway, "+" only if the previous one succeeded, "-" only if it
failed, "[...]" groups: e.g. pre+bkp_post, purge_purgeIncr_backup --force.

purge, purgeFull, purgeIncr and cleanup use LIFEBOAT_PURGE_USER / LIFEBOAT_PURGE_PASS (and
LIFEBOAT_PURGE_AWS_ACCESS_KEY_ID / _SECRET_ACCESS_KEY) from the environment instead of the
profile's credentials when set, so the backup credentials need no right to delete.

Options (after the command): --force, --preview (print the duplicity command lines, run
nothing; passwords shown as ***), --disable-encryption, --from DEST_URL (status, list, verify,
verifyPath, restore, fetch read an offline copy instead of TARGET: no network needed); any
other option goes to every duplicity command of the batch.

Exit codes: 0 all commands succeeded; 1 a command failed; 255 the profile or the command line is
wrong (nothing was run). A second run of the same profile waits for the first (LOCK_WAIT).

${importantNote}`;

const USAGE_WORDS = new Set(['usage', '-help', '--help', '-h', '-H']);
const VERSION_WORDS = new Set(['version', '-version', '--version', '-v', '-V']);

interface Parameters { preview: boolean; disableEncryption: boolean; options: string[]; positionals: string[] }

/** specs/duply.md §1.3, with its fix: every argument starting with "-" is an option. */
export function classifyParameters(args: string[]): Parameters {
  const result: Parameters = { preview: false, disableEncryption: false, options: [], positionals: [] };
  let previousWasOption = false;
  for (const arg of args) {
    if (arg === '--preview') { result.preview = true; previousWasOption = false; continue; }
    if (arg === '--disable-encryption') { result.disableEncryption = true; previousWasOption = false; continue; }
    if (arg.startsWith('-') || previousWasOption) {
      result.options.push(arg);
      previousWasOption = arg.startsWith('-') && !arg.includes('=') && !previousWasOption;
      continue;
    }
    result.positionals.push(arg);
  }
  return result;
}

export async function runProfile(args: string[], ctx: CommandContext): Promise<number> {
  if (args.length === 1) {
    const [word] = args;
    if (USAGE_WORDS.has(word)) { ctx.out.result(profileUsage); return 0; }
    if (VERSION_WORDS.has(word)) { ctx.out.result(versionText()); return 0; }
    throw new ProfileError(`Missing or wrong parameters. Only the commands create, usage, version can be called without selecting an existing profile first. Your command was '${word}'.`,
      'e.g. "lifeboat main create", "lifeboat main backup", or "lifeboat duplicity ..."; see "lifeboat --help"');
  }
  const [profile, batch, ...rest] = args;
  if (USAGE_WORDS.has(batch)) { ctx.out.result(profileUsage); return 0; }
  if (VERSION_WORDS.has(batch)) { ctx.out.result(versionText()); return 0; }
  if (batch === 'create') return create(profile, ctx);

  const extra = profileCommands[batch];
  if (extra) return (await extra())(await loadProfile(profile, batch, rest, ctx), ctx);

  const loaded = await loadProfile(profile, batch, rest, ctx);
  const { paths, conf, out, params } = loaded;
  const from = takeFromOption(params.options);
  const tokens = expandBatch(batch, loaded.settings);
  let settings = loaded.settings;
  if (from !== undefined) {
    // an offline copy as the source of the reading commands (docs/offline-copies.md)
    const refused = tokens.filter((t) => !FROM_COMMANDS.has(t) && !['and', 'or', 'groupin', 'groupout'].includes(t));
    if (refused.length > 0) throw new ProfileError(`--from works with ${[...FROM_COMMANDS].join(', ')}, not with ${refused.join(', ')}`, 'run the other commands without --from');
    settings = (await import('../../offline/destination.js')).settingsForDestination(settings, from);
  }
  if (!params.preview && from === undefined) await exportKeys(loaded);
  // every command line is built and checked before the first command runs, so a bad option,
  // a missing parameter or an unreadable exclude file stops the run before anything is written
  const invocations = new Map<string, DuplicityInvocation>();
  for (const token of new Set(tokens)) {
    if (!(DUPLICITY_COMMANDS as readonly string[]).includes(token)) continue;
    const invocation = duplicityInvocation({ command: token as DuplicityCommand, settings, paths, options: params.options, params: params.positionals });
    checkCommandLine(argvOf(invocation), token);
    invocations.set(token, invocation);
  }

  const release = params.preview ? undefined : await lockProfile(paths.dir, settings.lockWaitSeconds, (l) => out.warning(l));
  try {
    const ok = await runBatch(tokens, {
      preview: params.preview,
      skipped: (token) => out.notice(`\n--- Skipping command ${token.toUpperCase()} ! ---`),
      execute: (token, context) => executeToken(token, context, { paths, settings, conf: conf.env, confVars: conf.vars, invocations, preview: params.preview, out, ctx, fromCopy: from !== undefined }),
    });
    return ok ? 0 : 1;
  } finally {
    await release?.();
  }
}

/** Whether a batch (or Lifeboat's run-routine) backs up: then the signing key's secret half is needed. */
function batchBacksUp(batch: string, settings: ProfileSettings): boolean {
  if (batch === 'run-routine') return true;
  try {
    return expandBatch(batch, settings).some((t) => t === 'bkp' || t === 'full' || t === 'incr');
  } catch {
    return false; // a bad batch is reported where it is expanded
  }
}

/**
 * duply's export (specs/duply.md §7.5): the encryption and signing keys the profile folder lacks are
 * written there (gpgkey.<ID>.pub.asc, .sec.asc), so the folder alone restores on another machine.
 */
async function exportKeys(profile: LoadedProfile): Promise<void> {
  const { settings, paths, out, conf } = profile;
  const enc = settings.encryption;
  if (!settings.gpgExport) {
    out.info("Skipping export of gpg keys. (GPG_EXPORT='disabled')");
    return;
  }
  if (enc.mode === 'disabled') return;
  const ids = [...(enc.mode === 'keys' ? enc.keys : []), ...(enc.signKey ? [enc.signKey] : [])];
  if (ids.length === 0) return;
  // gpg asks for the secret key's passphrase to export it: the signing one first, as duply pipes it
  const passphrase = [conf.vars.GPG_PW_SIGN, conf.vars.GPG_PW].find((p) => p !== undefined && p !== 'not_set');
  const written = await exportKeysToProfile(paths.dir, ids, passphrase, (line) => out.warning(line));
  if (written.length > 0) {
    out.notice(`lifeboat exported new keys to your profile (${written.map((f) => basename(f)).join(', ')}).\nYou should backup your changed profile folder now and store it in a safe place.`);
    if (conf.vars.GPG_IMPORT !== 'disabled') settings.keyFiles = profileKeyFiles(paths.dir);
  }
}

export interface LoadedProfile {
  paths: ProfilePaths;
  settings: ProfileSettings;
  conf: EvaluatedConf;
  out: Output;
  params: Parameters;
  /** the arguments after the command word, as given */
  rest: string[];
}

/** A command of Lifeboat's own on a profile (drill, check, ...): gets the checked, loaded profile. */
export type ProfileCommand = (profile: LoadedProfile, ctx: CommandContext) => Promise<number>;

/** Lifeboat's commands beyond duply's; each loads lazily. They are not batch words. */
const profileCommands: Record<string, () => Promise<ProfileCommand>> = {
  'restore-db': async () => (await import('./profile/restore-db.js')).restoreDb,
  drill: async () => (await import('./profile/drill.js')).drill,
  schedule: async () => (await import('./profile/schedule.js')).default,
  unschedule: async () => (await import('./profile/unschedule.js')).default,
  'run-routine': async () => (await import('./profile/run-routine.js')).default,
  check: async () => (await import('./profile/check.js')).default,
  cost: async () => (await import('./profile/cost.js')).default,
  copy: async () => (await import('./profile/copy.js')).default,
  audit: async () => (await import('./profile/audit.js')).default,
};

/** Finds, checks and sources the profile, in duply's order (specs/duply.md §2.2, §5). */
export async function loadProfile(profile: string, batch: string, rest: string[], ctx: CommandContext): Promise<LoadedProfile> {
  const lookup = defaultLookupEnv();
  const params = classifyParameters(rest);
  const paths = locateProfile(profile, lookup);
  checkProfileDir(profile, paths, lookup);
  const conf = await evaluateConf({ paths, batch, rest, env: process.env, version: version() });
  if (conf.stdout) ctx.out.result(conf.stdout);
  if (conf.stderr) ctx.writeStderr(conf.stderr);
  const settings = settingsOf(conf, paths, { disableEncryption: params.disableEncryption });
  const out = profileOutput(ctx, settings);
  out.info(`Using profile '${paths.dir}'.`);
  secureProfileDir(paths, out);
  for (const warning of settings.warnings) out.warning(`WARNING: ${warning}`);
  const enc = settings.encryption;
  if (enc.mode !== 'disabled') {
    // duply's signing key choice (specs/duply.md §7.4); a backup must have the secret key at hand
    const signKey = await chooseSignKey(enc.signSetting, enc.mode === 'keys' ? enc.keys : [], settings.keyFiles,
      { backingUp: batchBacksUp(batch, settings), info: (line) => out.info(line) });
    settings.encryption = { ...enc, signKey };
  }
  checkTargetScheme(settings.target.url);
  if (!existsSync(paths.exclude)) writeFileSync(paths.exclude, '', { mode: 0o600 });
  if (settings.dumps) {
    for (const dir of rawDirectoriesNotExcluded(settings.dumps, settings.source, paths.exclude, settings.duplParams)) {
      out.warning(`WARNING: ${dir} is backed up as raw files although its databases are dumped; a live copy of it is useless. Add "- ${dir}" to ${paths.exclude}.`);
    }
  }
  return { paths, settings, conf, out, params, rest };
}

/**
 * Runs one duplicity command of a profile as the batch would (for Lifeboat's own commands):
 * the same command line, environment and output handling.
 */
export async function runProfileDuplicity(profile: LoadedProfile, command: DuplicityCommand, params: string[], options: string[], ctx: CommandContext, io?: { stdout(chunk: Buffer): void }): Promise<number> {
  const invocation = duplicityInvocation({ command, settings: profile.settings, paths: profile.paths, options, params });
  checkCommandLine(argvOf(invocation), command);
  const env = { ...profile.conf.env, PROFILE: profile.paths.name, CONFDIR: profile.paths.dir, SOURCE: profile.settings.source, ...invocation.env };
  return runLifeboatDuplicity(argvOf(invocation), env, profile.settings.duplPrecmd, {
    inherit: false,
    // a failed write is not this command's failure: main() turns it into the exit status
    stdout: io?.stdout ?? ((chunk) => { ctx.writeStdout(chunk).catch(() => undefined); }),
    stderr: (chunk) => ctx.writeStderr(chunk.toString()),
  });
}

interface RunState {
  paths: ProfilePaths;
  settings: ProfileSettings;
  conf: Record<string, string>;
  confVars: Record<string, string | undefined>;
  invocations: Map<string, DuplicityInvocation>;
  preview: boolean;
  out: Output;
  ctx: CommandContext;
  /** --from: the commands read an offline copy, not the target */
  fromCopy: boolean;
}

/** The commands that can read an offline copy with --from: none of them writes. */
const FROM_COMMANDS = new Set(['status', 'list', 'verify', 'verifypath', 'restore', 'fetch']);

/** Removes `--from URL` / `--from=URL` from the options; returns the URL. */
function takeFromOption(options: string[]): string | undefined {
  const i = options.findIndex((o) => o === '--from' || o.startsWith('--from='));
  if (i < 0) return undefined;
  let url: string | undefined;
  if (options[i] === '--from') {
    url = options[i + 1];
    options.splice(i, 2);
  } else {
    url = options[i].slice('--from='.length);
    options.splice(i, 1);
  }
  if (!url || url.startsWith('-')) throw new ProfileError('--from needs the URL of the offline copy', 'e.g. --from file:///media/backup-a/myserver');
  return url;
}

async function executeToken(token: string, context: TokenContext & { CMD_ERR?: string }, state: RunState): Promise<number> {
  const { out, settings, paths } = state;
  const name = token.toUpperCase();
  const started = Date.now();
  out.notice(`\n--- Start running command ${name} at ${stamp(started)} ---`);
  const env = scriptEnvironment(state, context);
  let code: number;
  if (token === 'pre' || token === 'post') {
    const path = token === 'pre' ? paths.pre : paths.post;
    const sourced = hookState(path) === 'sourced';
    code = state.preview ? previewHook(path, out) : await runScript(path, sourced ? { ...env, ...confShellVars(state) } : env, out);
  } else {
    const invocation = state.invocations.get(token)!;
    if (state.preview) {
      if (['bkp', 'full', 'incr'].includes(token) && settings.dumps) {
        for (const spec of dumpSpecs(settings.dumps)) out.result(`# dump ${spec.label} to ${spec.finalPath}\n`);
      }
      out.result(previewLine(invocation, settings, token as DuplicityCommand) + '\n');
      code = 0;
    } else {
      const dumpFailure = ['bkp', 'full', 'incr'].includes(token) && settings.dumps ? await dumpDatabases(settings.dumps, out, state.ctx) : false;
      const interactive = state.ctx.stderrIsTty && ['bkp', 'full', 'incr', 'restore', 'fetch'].includes(token);
      const argv = interactive ? [...argvOf(invocation), '--progress'] : argvOf(invocation);
      code = await runLifeboatDuplicity(argv, { ...env, ...invocation.env }, settings.duplPrecmd, {
        inherit: state.ctx.stderrIsTty,
        stdout: (chunk) => { state.ctx.writeStdout(chunk).catch(() => undefined); },
        stderr: (chunk) => state.ctx.writeStderr(chunk.toString()),
      });
      // the backup ran with the previous good dump; the run still reports the failed dump
      if (code === 0 && dumpFailure) code = 1;
    }
  }
  if (token === 'status' && code === 0 && !state.preview && !state.fromCopy) {
    const stale = await (await import('../../schedule/status-warning.js')).staleWarning({ paths, settings, env: state.conf, vars: state.confVars });
    if (stale) out.warning(stale);
    const drills = await (await import('../../drill/status-line.js')).drillStatus({ paths, settings, env: state.conf, vars: state.confVars });
    if (drills.info) out.result(`${drills.info}\n`);
    if (drills.warning) out.warning(drills.warning);
    const offline = await (await import('../../offline/status-line.js')).offlineStatus({ paths, settings, env: state.conf, vars: state.confVars });
    for (const line of offline.info) out.result(`${line}\n`);
    if (offline.warning) out.warning(offline.warning);
  }
  const finished = Date.now();
  if (code !== 0) {
    state.ctx.writeStderr(`${stamp(finished)} Task '${name}' failed with exit code '${code}'.\n`);
    out.notice(`--- Finished state FAILED 'code ${code}' at ${stamp(finished)} - Runtime ${runtime(finished - started)} ---`);
  } else {
    out.notice(`--- Finished state OK at ${stamp(finished)} - Runtime ${runtime(finished - started)} ---`);
  }
  return code;
}

/** What duply exports to every command it runs (specs/duply.md §9.2), on top of the conf's environment. */
function scriptEnvironment(state: RunState, context: TokenContext & { CMD_ERR?: string }): Record<string, string> {
  const { settings, paths } = state;
  const env: Record<string, string> = { ...state.conf };
  const enc = settings.encryption;
  Object.assign(env, {
    PROFILE: paths.name, CONFDIR: paths.dir, SOURCE: settings.source, ...settings.target.scriptVars,
    GPG_KEYS_ENC: enc.mode === 'keys' ? enc.keys.join('\\n') : '',
    CMD_PREV: context.CMD_PREV, CMD_NEXT: context.CMD_NEXT,
    RUN_START: `${BigInt(Date.now()) * 1_000_000n}`,
  });
  for (const [key, value] of [['CMD_ERR', context.CMD_ERR], ['CND_PREV', context.CND_PREV], ['CND_NEXT', context.CND_NEXT],
    ['GPG_KEY_SIGN', enc.mode !== 'disabled' ? enc.signKey : undefined], ['GPG_PW', state.confVars.GPG_PW]] as const) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** A sourced (non-executable) script sees duply's shell variables; here they come as environment. */
function confShellVars(state: RunState): Record<string, string> {
  const vars: Record<string, string> = {
    CONF: state.paths.conf, PRE: state.paths.pre, POST: state.paths.post, EXCLUDE: state.paths.exclude,
    TARGET: state.confVars.TARGET ?? '', BACKEND_URL: state.settings.target.url,
  };
  if (state.confVars.GPG_KEY !== undefined) vars.GPG_KEY = state.confVars.GPG_KEY;
  return vars;
}

/** Runs the configured dumps; true when one failed (each failure already reported on stderr). */
async function dumpDatabases(dumps: DumpSettings, out: Output, ctx: CommandContext): Promise<boolean> {
  const report = await runDumps(dumps);
  for (const done of report.done) out.notice(`Dumped ${done.label} to ${done.path} (${formatBytes(done.bytes)})`);
  for (const failure of report.failures) ctx.writeStderr(`lifeboat: ${failure.message}\n${failure.hint ? `hint: ${failure.hint}\n` : ''}`);
  return report.failures.length > 0;
}

function previewHook(path: string, out: Output): number {
  out.result(`${hookState(path) === 'executable' ? '' : '. '}${path}\n`);
  return 0;
}

async function runScript(path: string, env: Record<string, string>, out: Output): Promise<number> {
  if (hookState(path) === 'missing') {
    out.notice(`Skipping n/a script '${path}'.`);
    return 0;
  }
  const result = await runHook(path, env);
  const code = result.code ?? 0;
  if (code === 0) {
    out.notice(`Running '${path}' - OK`);
    if (result.output) out.notice(`Output: ${result.output.replace(/\n$/, '')}`);
  } else {
    out.error(`Running '${path}' - FAILED (code ${code})`);
    if (result.output) out.error(`Output: ${result.output.replace(/\n$/, '')}`);
  }
  return code;
}

function checkTargetScheme(url: string): void {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (!scheme) throw new ProfileError(`TARGET '${redactUrl(url)}' is not a URL`, 'write it as scheme://..., e.g. TARGET=file:///srv/backups/host');
  if (!supportedSchemes().includes(scheme)) {
    throw new ProfileError(`TARGET uses the "${scheme}" scheme, which Lifeboat has no backend for`, `use one of: ${supportedSchemes().join(', ')}`);
  }
}

function checkCommandLine(argv: string[], token: string): void {
  try {
    parseDuplicityArgv(argv);
  } catch (err) {
    if (!(err instanceof LifeboatError)) throw err;
    throw new ProfileError(`the ${token} command line is not valid: ${err.message}`,
      err.hint ? `${err.hint} (check DUPL_PARAMS in the conf and the options after the command)` : 'check DUPL_PARAMS in the conf and the options after the command', err);
  }
}

function checkProfileDir(argument: string, paths: ProfilePaths | undefined, lookup: ReturnType<typeof defaultLookupEnv>): asserts paths is ProfilePaths {
  const dir = paths?.dir;
  if (!paths || !isDirectory(paths.dir)) {
    const names = availableProfiles(lookup, argument.includes('/') ? dir : undefined);
    throw new ProfileError(`Selected profile '${argument}' does not resolve to a profile folder${dir ? ` in '${dir}'` : ''}.`,
      `${names.length ? `available profiles: ${names.map((n) => `'${n}'`).join(',')}; ` : ''}"lifeboat ${argument} create" makes a new one`);
  }
  try {
    accessSync(paths.dir, constants.X_OK);
  } catch {
    throw new ProfileError(`Profile folder in '${paths.dir}' cannot be accessed.`, `check its permissions: chmod u+rwX ${paths.dir}`);
  }
  let isFile = false;
  try {
    isFile = statSync(paths.conf).isFile();
  } catch { /* reported below */ }
  if (!isFile) throw new ProfileError(`'${paths.conf}' not found.`, `"lifeboat ${argument} create" writes a template in a new profile`);
  try {
    accessSync(paths.conf, constants.R_OK);
  } catch {
    throw new ProfileError(`'${paths.conf}' not readable.`, `check its owner and mode (chmod 600 ${paths.conf})`);
  }
}

/** duply's secureconf: the profile folder holds credentials, so it is made 0700 when it is not. */
function secureProfileDir(paths: ProfilePaths, out: Output): void {
  const mode = statSync(paths.dir).mode & 0o7777;
  if (mode === 0o700) return;
  try {
    chmodSync(paths.dir, 0o700);
    out.warning(`WARNING: The profile's folder '${paths.dir}' permissions are not safe (${mode.toString(8).padStart(4, '0')}). Secured them now (0700).`);
  } catch (err) {
    out.warning(`WARNING: The profile's folder '${paths.dir}' permissions are not safe (${mode.toString(8).padStart(4, '0')}) and could not be changed: ${(err as Error).message}`);
  }
}

function create(argument: string, ctx: CommandContext): number {
  const lookup = defaultLookupEnv();
  const existing = locateProfile(argument, lookup);
  if (existing && existsSync(existing.dir)) {
    throw new ProfileError(`The profile '${argument}' already exists in '${existing.dir}'.`, 'choose another name, or edit or delete that folder');
  }
  const paths = locateProfile(argument, lookup, true)!;
  try {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    writeFileSync(paths.conf, confTemplate, { mode: 0o600, flag: 'wx' });
    writeFileSync(paths.exclude, excludeTemplate, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new ProfileError(`Couldn't create config '${paths.dir}': ${(err as Error).message}`, `check that ${createPlace(lookup)} is writable`, err);
  }
  ctx.out.result(`\nCongratulations. You just created the profile '${argument}'.\nThe initial config file has been created as '${paths.conf}'.\nYou should now adjust this config file to your needs.\n\n${importantNote}`);
  ctx.out.result(`\nOnce TARGET is set, run "lifeboat ${argument} audit": it checks that an attacker on this server could not delete or overwrite the backups (use credentials that can write but not delete; docs/hardening.md).\n`);
  return 0;
}

function profileOutput(ctx: CommandContext, settings: ProfileSettings): Output {
  if (ctx.verbosityGiven) return ctx.out;
  let level: number;
  try {
    level = parseVerbosity(settings.verbosity);
  } catch {
    throw new ProfileError(`VERBOSITY '${settings.verbosity}' is not a verbosity`, 'use 0-9 or error, warning, notice, info, debug');
  }
  return createOutput(level, { write: (t) => ctx.out.result(t) }, { write: (t) => ctx.writeStderr(typeof t === 'string' ? t : Buffer.from(t).toString()) });
}

function versionText(): string {
  return `  lifeboat version ${version()}\n  (a drop-in for duply ${DUPLY_VERSION} and duplicity 0.8)\n`;
}

function stamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function runtime(ms: number): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(Math.floor(ms / 3_600_000))}:${p(Math.floor(ms / 60_000) % 60)}:${p(Math.floor(ms / 1000) % 60)}.${p(ms % 1000, 3)}`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
