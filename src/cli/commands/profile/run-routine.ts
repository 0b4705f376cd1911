// `lifeboat PROFILE run-routine`: what the schedule runs. purge, purgeFull and purgeIncr with --force
// (those whose settings are set, as purgeAuto picks them), then backup, through the normal batch.
// Everything goes to the profile's rotating log; errors go to stderr as well, so cron mails them and
// the journal keeps them. Notifications follow; they never change the exit code, which is the batch's.
import { hostname } from 'node:os';
import { runProfile, type ProfileCommand } from '../profile.js';
import type { CommandContext } from '../../context.js';
import { createOutput } from '../../output.js';
import { formatError } from '../../../errors/format-error.js';
import { LifeboatError } from '../../../errors/lifeboat-error.js';
import { Level } from '../../verbosity.js';
import { logPlace, RotatingLog } from '../../../schedule/rotating-log.js';
import { notifySettings } from '../../../notify/settings.js';
import { notifyEnd, notifyStart } from '../../../notify/send.js';
import { TailBuffer } from '../../../notify/report.js';

/**
 * ROUTINE_PURGE=no leaves the purges out: this server's credentials may not delete, and purge runs
 * elsewhere with others (docs/hardening.md); MAX_AGE still sets OBJECT_LOCK's period.
 */
export function routineBatch(settings: { maxAge?: string; maxFullBackups?: string; maxFullsWithIncrs?: string }, routinePurge?: string): string {
  if (routinePurge !== undefined && /^(no|false|0|off)$/i.test(routinePurge.trim())) return 'backup';
  return [settings.maxAge && 'purge', settings.maxFullBackups && 'purgeFull', settings.maxFullsWithIncrs && 'purgeIncr', 'backup']
    .filter(Boolean).join('_');
}

const runRoutine: ProfileCommand = async (profile, ctx) => {
  const notify = notifySettings(profile.conf.vars);
  const log = RotatingLog.open(logPlace(profile.paths.name, profile.conf.vars, process.env));
  const errors = new TailBuffer();
  const toStderr = (text: string) => {
    log.write(text);
    errors.push(text);
    ctx.writeStderr(text);
  };
  const batch = routineBatch(profile.settings, profile.conf.vars.ROUTINE_PURGE);
  const started = new Date();
  log.write(`\n=== lifeboat ${profile.paths.name} run-routine (${batch} --force) started ${started.toISOString()} pid ${process.pid} ===\n`);
  await notifyStart(notify, toStderr);
  const routineCtx: CommandContext = {
    out: createOutput(ctx.out.verbosity, { write: (t) => log.write(t) }, { write: (t) => toStderr(typeof t === 'string' ? t : Buffer.from(t).toString()) }),
    verbosityGiven: ctx.verbosityGiven,
    stdin: ctx.stdin,
    // no progress line: this runs from cron or a timer, or its output goes to the log
    stderrIsTty: false,
    writeStdout: async (chunk) => { log.write(chunk); },
    writeStderr: toStderr,
  };
  let code: number;
  try {
    code = await runProfile([profile.paths.dir, batch, '--force', ...profile.rest], routineCtx);
  } catch (err) {
    const formatted = formatError(err, { debug: ctx.out.verbosity >= Level.debug });
    toStderr(formatted.text);
    code = err instanceof LifeboatError ? err.exitCode : formatted.exitCode;
  }
  const finished = new Date();
  log.write(`=== finished ${finished.toISOString()} with exit code ${code} ===\n`);
  await notifyEnd(notify, {
    profile: profile.paths.name, host: hostname(), status: code === 0 ? 'success' : 'failure', exitCode: code,
    started, finished, errors: errors.text(), logFile: log.path,
  }, toStderr);
  await log.close();
  return code;
};

export default runRoutine;
