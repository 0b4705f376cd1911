// After `status`, a warning line when the newest complete backup is older than the profile's max age
// (CHECK_MAX_AGE, default 26h), so a glance at status shows a stalled schedule.
import type { ProfilePaths } from '../profile/locate.js';
import type { ProfileSettings } from '../profile/settings.js';
import { openProfileTarget } from '../profile/profile-target.js';
import { freshnessLine, freshnessOf, maxAgeOf } from './freshness.js';

export async function staleWarning(profile: { paths: ProfilePaths; settings: ProfileSettings; env: Record<string, string>; vars: Record<string, string | undefined> }): Promise<string | undefined> {
  try {
    const maxAge = maxAgeOf(undefined, profile.vars);
    const target = await openProfileTarget(profile, () => undefined);
    try {
      const f = freshnessOf(target.collection, maxAge, Math.floor(Date.now() / 1000));
      return f.ok ? undefined : `WARNING: ${freshnessLine(profile.paths.name, f)}`;
    } finally {
      await target.backend.close();
    }
  } catch (err) {
    // status itself has reported what is wrong with the target; this only adds to it
    return `WARNING: could not tell the age of the last backup: ${(err as Error).message}`;
  }
}
