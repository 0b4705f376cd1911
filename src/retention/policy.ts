// What duply's purge commands ask of duplicity (duply spec §8.1), as retention commands: the library
// API the profile commands purge, purgeFull, purgeIncr, purgeAuto and cleanup will call.
import { parseTimeString } from '../duplicity/time.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import { ExitCode } from '../errors/exit-codes.js';
import type { RetentionCommand } from './plan.js';

/** A profile's retention settings, as the conf file spells them. */
export interface RetentionPolicy {
  /** MAX_AGE: a duplicity time string (`2Y`, `6M`, an epoch, a date) */
  maxAge?: string;
  /** MAX_FULL_BACKUPS */
  maxFullBackups?: number | string;
  /** MAX_FULLS_WITH_INCRS */
  maxFullsWithIncrs?: number | string;
}

export type PurgeKind = 'purge' | 'purgeFull' | 'purgeIncr' | 'purgeAuto' | 'cleanup';

/**
 * The commands one duply purge command runs, in order. `parameter` is the positional value that
 * replaces the conf value (`duply p purge 1Y`). purgeAuto runs purge, purgeFull and purgeIncr, each
 * only when its variable is set. `nowSeconds` is the clock relative ages are measured from.
 */
export function purgeCommands(kind: PurgeKind, policy: RetentionPolicy, nowSeconds: number, parameter?: string): RetentionCommand[] {
  switch (kind) {
    case 'cleanup':
      return [{ kind: 'cleanup' }];
    case 'purge':
      return [{ kind: 'remove-older-than', time: parseTimeString(required(parameter ?? policy.maxAge, 'max_age'), nowSeconds) }];
    case 'purgeFull':
      return [{ kind: 'remove-all-but-n-full', count: parseCount(required(parameter ?? policy.maxFullBackups, 'max_full_backups')) }];
    case 'purgeIncr':
      return [{ kind: 'remove-all-inc-of-but-n-full', count: parseCount(required(parameter ?? policy.maxFullsWithIncrs, 'max_fulls_with_incrs')) }];
    case 'purgeAuto': {
      const out: RetentionCommand[] = [];
      if (policy.maxAge !== undefined && policy.maxAge !== '') out.push(...purgeCommands('purge', policy, nowSeconds));
      if (policy.maxFullBackups !== undefined && policy.maxFullBackups !== '') out.push(...purgeCommands('purgeFull', policy, nowSeconds));
      if (policy.maxFullsWithIncrs !== undefined && policy.maxFullsWithIncrs !== '') out.push(...purgeCommands('purgeIncr', policy, nowSeconds));
      return out;
    }
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') {
    throw new LifeboatError(`Missing parameter <${what}>. Can be set in profile or as command line parameter.`, {
      code: 'missing-parameter', exitCode: ExitCode.userError, hint: `set it in the profile's conf or give it after the command`,
    });
  }
  return value;
}

/** duplicity's count for remove-all-*: a whole number > 0 (int() of the text). */
export function parseCount(value: number | string): number {
  const n = typeof value === 'number' ? value : /^\s*[+-]?\d+\s*$/.test(value) ? Number.parseInt(value, 10) : Number.NaN;
  if (!Number.isInteger(n) || n <= 0) {
    throw new LifeboatError(`count must be > 0 (got "${value}")`, { code: 'usage', exitCode: ExitCode.usage, hint: 'give a whole number of full backups, such as 2' });
  }
  return n;
}
