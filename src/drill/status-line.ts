// What `status` says about drills: when the last successful one ran, read from the record on the
// target (so any machine sees it), and a warning when it is older than DRILL_MAX_AGE (default 35 days)
// or there is none.
import { openProfileTarget } from '../profile/profile-target.js';
import type { ProfilePaths } from '../profile/locate.js';
import type { ProfileSettings } from '../profile/settings.js';
import { formatAge, parseDuration } from '../schedule/duration.js';
import { formatHumanTime } from '../duplicity/time.js';
import { lastSuccessfulDrill } from './history.js';

export const DEFAULT_DRILL_MAX_AGE = '35D';

export async function drillStatus(profile: { paths: ProfilePaths; settings: ProfileSettings; env: Record<string, string>; vars: Record<string, string | undefined> }): Promise<{ info?: string; warning?: string }> {
  const text = profile.vars.DRILL_MAX_AGE || DEFAULT_DRILL_MAX_AGE;
  const maxAge = parseDuration(text);
  if (maxAge === null) return { warning: `WARNING: DRILL_MAX_AGE '${text}' is not a duration (e.g. 35D)` };
  try {
    const target = await openProfileTarget(profile, () => undefined);
    try {
      const last = await lastSuccessfulDrill(target.backend, target.remoteNames);
      if (!last) return { warning: `WARNING: no recovery drill has passed for this backup; run "lifeboat ${profile.paths.name} drill"` };
      const age = Math.floor(Date.now() / 1000) - last.time;
      const info = `Last successful drill: ${formatHumanTime(last.time)} (${formatAge(age)} ago, on ${last.host})`;
      if (age > maxAge) return { info, warning: `WARNING: the last successful drill is ${formatAge(age)} old, older than DRILL_MAX_AGE (${text}); run "lifeboat ${profile.paths.name} drill"` };
      return { info };
    } finally {
      await target.backend.close();
    }
  } catch (err) {
    return { warning: `WARNING: could not read the drill records: ${(err as Error).message}` };
  }
}
