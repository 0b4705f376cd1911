// What `status` says about offline copies: each disk with when it was last written and the newest
// backup it holds, read from the copy records on the target (so no disk needs to be plugged in), and a
// warning when no copy is newer than OFFLINE_MAX_AGE (default 35 days). A profile that never made a
// copy and does not set OFFLINE_MAX_AGE hears nothing: offline copies are a choice, not a default.
import { openProfileTarget } from '../profile/profile-target.js';
import type { ProfilePaths } from '../profile/locate.js';
import type { ProfileSettings } from '../profile/settings.js';
import { formatAge, parseDuration } from '../schedule/duration.js';
import { formatHumanTime } from '../duplicity/time.js';
import { latestCopyRecords, type CopyRecord } from './disk-files.js';

export const DEFAULT_OFFLINE_MAX_AGE = '35D';

export function offlineLines(records: CopyRecord[], options: { profile: string; maxAgeText: string | undefined; nowSeconds: number }): { info: string[]; warning?: string } {
  const text = options.maxAgeText || DEFAULT_OFFLINE_MAX_AGE;
  const maxAge = parseDuration(text);
  if (maxAge === null) return { info: [], warning: `WARNING: OFFLINE_MAX_AGE '${text}' is not a duration (e.g. 35D)` };
  const info = records.map((r) => `Offline copy '${r.disk}': last written ${formatHumanTime(Math.floor(r.time))} (${formatAge(options.nowSeconds - r.time)} ago, ${r.mode === 'from-source' ? 'a full backup from the source' : 'copied from the target'}), `
    + `holds backups up to ${r.lastBackupTime === null ? 'none' : formatHumanTime(r.lastBackupTime)}${r.damaged.length ? `, ${r.damaged.length} damaged file(s) found` : ''}`);
  if (records.length === 0) {
    if (options.maxAgeText === undefined || options.maxAgeText === '') return { info };
    return { info, warning: `WARNING: no offline copy has been made (OFFLINE_MAX_AGE is ${text}); run "lifeboat ${options.profile} copy file:///media/DISK/${options.profile}"` };
  }
  // records hold one per disk, newest first: the next in the rotation is the one written longest ago
  const age = options.nowSeconds - records[0].time;
  if (age > maxAge) {
    return { info, warning: `WARNING: no offline copy is newer than OFFLINE_MAX_AGE (${text}): the last one, to '${records[0].disk}', is ${formatAge(age)} old; plug in the next disk and run "lifeboat ${options.profile} copy ${records[records.length - 1].dest}"` };
  }
  return { info };
}

export async function offlineStatus(profile: { paths: ProfilePaths; settings: ProfileSettings; env: Record<string, string>; vars: Record<string, string | undefined> }): Promise<{ info: string[]; warning?: string }> {
  try {
    const target = await openProfileTarget(profile, () => undefined);
    try {
      const records = await latestCopyRecords(target.backend, target.remoteNames);
      return offlineLines(records, { profile: profile.paths.name, maxAgeText: profile.vars.OFFLINE_MAX_AGE, nowSeconds: Math.floor(Date.now() / 1000) });
    } finally {
      await target.backend.close();
    }
  } catch (err) {
    return { info: [], warning: `WARNING: could not read the offline copy records: ${(err as Error).message}` };
  }
}
