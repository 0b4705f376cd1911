// The files `schedule` writes: a cron.d entry, or a systemd service + timer. Each starts with a marker
// line, so `unschedule` removes only files Lifeboat wrote and never an administrator's own.
import type { Schedule } from './calendar.js';

export const MARKER = '# Written by "lifeboat schedule"';

export interface RoutineCommand {
  /** absolute paths: cron and systemd give a minimal PATH */
  node: string;
  lifeboat: string;
  /** the profile folder, absolute, so HOME does not matter */
  profileDir: string;
  /** the profile's name as the user typed it, for comments */
  profile: string;
  user: string;
}

/** POSIX shell single quotes, bare when safe. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The shell command cron runs: the routine, with nothing else needed from the environment. */
export function routineShellCommand(c: RoutineCommand): string {
  return [c.node, c.lifeboat, c.profileDir, 'run-routine'].map(shellQuote).join(' ');
}

/** A name cron.d and systemd both accept: Debian's cron skips cron.d files with dots in their name. */
export function unitBaseName(profile: string): string {
  const base = profile.replace(/\/+$/, '').split('/').at(-1) ?? profile;
  return `lifeboat-${base.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function cronFile(schedule: Schedule, c: RoutineCommand): string {
  const command = routineShellCommand(c);
  if (command.includes('%')) {
    // cron turns % into a newline; escaping it would be read differently by other crons
    throw new Error(`the routine's command line contains "%", which cron treats as a newline: ${command}`);
  }
  return `${MARKER} for the profile '${c.profile}'; "lifeboat ${c.profile} unschedule" removes it.
# The routine: purge, purgeFull, purgeIncr (those set in the conf), then backup; its output goes to the
# profile's log, errors also to stderr, which cron mails to MAILTO.
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
${schedule.cron} ${c.user} ${command}
`;
}

export function systemdService(c: RoutineCommand): string {
  return `${MARKER} for the profile '${c.profile}'; "lifeboat ${c.profile} unschedule" removes it.
[Unit]
Description=Lifeboat backup routine of the profile ${c.profile}
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
User=${c.user}
ExecStart=${[c.node, c.lifeboat, c.profileDir, 'run-routine'].map(systemdQuote).join(' ')}
Nice=10
IOSchedulingClass=idle
`;
}

export function systemdTimer(schedule: Schedule, c: RoutineCommand, serviceName: string): string {
  return `${MARKER} for the profile '${c.profile}'; "lifeboat ${c.profile} unschedule" removes it.
[Unit]
Description=Run the Lifeboat backup routine of the profile ${c.profile} (${schedule.cron})

[Timer]
OnCalendar=${schedule.onCalendar}
Persistent=true
RandomizedDelaySec=60
Unit=${serviceName}

[Install]
WantedBy=timers.target
`;
}

/** systemd's ExecStart quoting: double quotes, with backslash, quote and "%" (a specifier) escaped. */
function systemdQuote(word: string): string {
  const escaped = word.replace(/%/g, '%%');
  return /^[A-Za-z0-9_@+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
