// How old the newest complete backup on the target is, against the profile's expected maximum age
// (`check`, and the warning after `status`).
import type { Collection } from '../duplicity/collection.js';
import { ProfileError } from '../profile/conf.js';
import { formatHumanTime } from '../duplicity/time.js';
import { formatAge, parseDuration } from './duration.js';

export const DEFAULT_MAX_AGE = '26h';

export interface Freshness {
  /** epoch seconds of the newest complete set (full or incremental), null when there is none */
  last: number | null;
  ageSeconds: number | null;
  maxAgeSeconds: number;
  maxAgeText: string;
  ok: boolean;
}

/** --max-age, else CHECK_MAX_AGE from the conf, else 26h (a daily backup with two hours' slack). */
export function maxAgeOf(option: string | undefined, vars: Record<string, string | undefined>): { seconds: number; text: string } {
  const text = option ?? (vars.CHECK_MAX_AGE || DEFAULT_MAX_AGE);
  const seconds = parseDuration(text);
  if (seconds === null) {
    throw new ProfileError(`max age '${text}' is not an age${option === undefined ? ' (CHECK_MAX_AGE in the conf)' : ''}`, 'e.g. 26h, 2D, 1W (s, m, h, D, W, M, Y)');
  }
  return { seconds, text };
}

/** The end time of the newest complete backup set in any chain. */
export function lastCompleteBackup(collection: Collection): number | null {
  let last: number | null = null;
  for (const chain of collection.backupChains) {
    for (const set of [chain.fullSet, ...chain.incrementalSets]) {
      if (set.partial) continue;
      if (last === null || set.endTime > last) last = set.endTime;
    }
  }
  return last;
}

export function freshnessOf(collection: Collection, maxAge: { seconds: number; text: string }, nowSeconds: number): Freshness {
  const last = lastCompleteBackup(collection);
  const ageSeconds = last === null ? null : nowSeconds - last;
  return { last, ageSeconds, maxAgeSeconds: maxAge.seconds, maxAgeText: maxAge.text, ok: ageSeconds !== null && ageSeconds <= maxAge.seconds };
}

/** One line for monitoring: "OK: ...", "STALE: ..." or "NO BACKUP: ...". */
export function freshnessLine(profile: string, f: Freshness): string {
  if (f.last === null || f.ageSeconds === null) return `NO BACKUP: profile '${profile}' has no complete backup on its target`;
  const when = `${formatHumanTime(f.last)}, ${formatAge(f.ageSeconds)} ago`;
  return f.ok
    ? `OK: profile '${profile}' last backup ${when} (max age ${f.maxAgeText})`
    : `STALE: profile '${profile}' last backup ${when}, older than the max age ${f.maxAgeText}`;
}
