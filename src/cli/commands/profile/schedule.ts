// `lifeboat PROFILE schedule [daily|hourly|weekly|"CRON EXPR"] [--time HH:MM] [--systemd|--cron]`
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LoadedProfile, ProfileCommand } from '../profile.js';
import { ProfileError } from '../../../profile/conf.js';
import { parseSchedule } from '../../../schedule/calendar.js';
import { cronFile, systemdService, systemdTimer, unitBaseName, type RoutineCommand } from '../../../schedule/units.js';
import { filesOf, removeScheduleFiles, schedulePlaces, systemctl, writeScheduleFiles, type ScheduleKind } from '../../../schedule/install.js';
import { runningUser } from '../../../notify/settings.js';
import { logPlace } from '../../../schedule/rotating-log.js';
import { profileCommandArgs } from './options.js';

const lifeboatBin = fileURLToPath(new URL('../../../../../bin/lifeboat.js', import.meta.url));

export function routineCommand(profile: LoadedProfile): RoutineCommand {
  return { node: process.execPath, lifeboat: realpathSync(lifeboatBin), profileDir: realpathSync(profile.paths.dir), profile: profile.paths.name, user: runningUser() };
}

const schedule: ProfileCommand = async (profile, ctx) => {
  const { values, positionals } = profileCommandArgs('schedule', profile.rest, {
    time: { type: 'string' }, systemd: { type: 'boolean' }, cron: { type: 'boolean' },
  }, 1);
  if (values.systemd && values.cron) throw new ProfileError('schedule: choose --systemd or --cron, not both', 'without either, systemd is used where it runs');
  const when = parseSchedule(positionals[0], values.time);
  const places = schedulePlaces(process.env);
  const kind: ScheduleKind = values.systemd ? 'systemd' : values.cron ? 'cron' : places.systemdRuns ? 'systemd' : 'cron';
  const command = routineCommand(profile);
  const base = unitBaseName(profile.paths.name);
  const files = kind === 'cron'
    ? [{ path: filesOf('cron', base, places)[0], text: cronFile(when, command) }]
    : (() => {
      const [service, timer] = filesOf('systemd', base, places);
      return [{ path: service, text: systemdService(command) }, { path: timer, text: systemdTimer(when, command, `${base}.service`) }];
    })();
  writeScheduleFiles(files);
  // a profile runs on one schedule: switching from cron to systemd (or back) removes the other one
  const other: ScheduleKind = kind === 'cron' ? 'systemd' : 'cron';
  if (other === 'systemd') systemctl(places, ['disable', '--now', `${base}.timer`]);
  const { removed } = removeScheduleFiles(filesOf(other, base, places));
  if (kind === 'systemd') {
    for (const args of [['daemon-reload'], ['enable', '--now', `${base}.timer`]]) {
      const failure = systemctl(places, args);
      if (failure) profile.out.warning(`WARNING: ${failure}`);
    }
  } else if (removed.length > 0) {
    systemctl(places, ['daemon-reload']);
  }
  const log = logPlace(profile.paths.name, profile.conf.vars, process.env).path;
  ctx.out.result(`Scheduled the routine of '${profile.paths.name}' (${when.cron}${kind === 'systemd' ? `; OnCalendar=${when.onCalendar}` : ''}):\n`
    + files.map((f) => `  wrote ${f.path}\n`).join('') + removed.map((p) => `  removed ${p}\n`).join('')
    + `It runs: ${command.node} ${command.lifeboat} ${command.profileDir} run-routine\nLog: ${log}\n`);
  return 0;
};

export default schedule;
