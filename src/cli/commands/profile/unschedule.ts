// `lifeboat PROFILE unschedule`: removes the cron.d entry or systemd units `schedule` wrote, and
// nothing else (files without Lifeboat's marker line are left alone and named).
import type { ProfileCommand } from '../profile.js';
import { unitBaseName } from '../../../schedule/units.js';
import { filesOf, removeScheduleFiles, schedulePlaces, systemctl } from '../../../schedule/install.js';
import { profileCommandArgs } from './options.js';

const unschedule: ProfileCommand = async (profile, ctx) => {
  profileCommandArgs('unschedule', profile.rest, {}, 0);
  const places = schedulePlaces(process.env);
  const base = unitBaseName(profile.paths.name);
  const systemdFiles = filesOf('systemd', base, places);
  const timerFailure = systemctl(places, ['disable', '--now', `${base}.timer`]);
  const { removed, foreign } = removeScheduleFiles([...filesOf('cron', base, places), ...systemdFiles]);
  if (removed.some((p) => systemdFiles.includes(p))) systemctl(places, ['daemon-reload']);
  for (const path of foreign) profile.out.warning(`WARNING: ${path} was not written by Lifeboat; left alone`);
  if (removed.length === 0) {
    ctx.out.result(`'${profile.paths.name}' had no schedule written by Lifeboat.\n`);
  } else {
    if (timerFailure && removed.some((p) => p.endsWith('.timer'))) profile.out.warning(`WARNING: ${timerFailure}`);
    ctx.out.result(removed.map((p) => `removed ${p}\n`).join(''));
  }
  return 0;
};

export default unschedule;
