// The yearly cost of keeping a profile's backups (issue 11's model): each GB of a full backup is stored
// as many times as there are fulls inside the retention window (a full every MAX_FULLBKP_AGE, kept
// MAX_AGE), paid per GB-month; restore drills download it DRILLS_PER_YEAR times.
import { ProfileError } from '../profile/conf.js';

const DAYS: Record<string, number> = { D: 1, W: 7, M: 365 / 12, Y: 365, h: 1 / 24, m: 1 / 1440, s: 1 / 86400 };

/** An age in days on the calendar: a month is a twelfth of a year, so "2Y" holds exactly eight "3M". */
export function calendarDays(text: string, setting: string): number {
  const t = text.trim();
  if (!/^([0-9]+[smhDWMY])+$/.test(t)) throw new ProfileError(`${setting} '${text}' is not an age the cost can use`, `e.g. ${setting}=3M (D, W, M, Y)`);
  let days = 0;
  for (const m of t.matchAll(/([0-9]+)([smhDWMY])/g)) days += Number(m[1]) * DAYS[m[2]];
  return days;
}

export interface Retention {
  /** days between fulls (MAX_FULLBKP_AGE); null: one full, then incrementals forever */
  fullEveryDays: number | null;
  /** days a backup is kept (MAX_AGE); null: not limited by age */
  keepDays: number | null;
  /** MAX_FULL_BACKUPS */
  maxFulls: number | null;
  /** MAX_FULLS_WITH_INCRS */
  maxFullsWithIncrs: number | null;
}

export function retentionOf(vars: Record<string, string | undefined>): Retention {
  const int = (name: string) => {
    const v = vars[name];
    if (!v) return null;
    if (!/^[0-9]+$/.test(v) || Number(v) < 1) throw new ProfileError(`${name} '${v}' is not a number of backups`, `e.g. ${name}=2`);
    return Number(v);
  };
  return {
    fullEveryDays: vars.MAX_FULLBKP_AGE ? calendarDays(vars.MAX_FULLBKP_AGE, 'MAX_FULLBKP_AGE') : null,
    keepDays: vars.MAX_AGE ? calendarDays(vars.MAX_AGE, 'MAX_AGE') : null,
    maxFulls: int('MAX_FULL_BACKUPS'),
    maxFullsWithIncrs: int('MAX_FULLS_WITH_INCRS'),
  };
}

/** How many full backups exist at once: each GB of source is stored that many times. */
export function copiesStored(r: Retention): number {
  if (r.fullEveryDays === null) return 1;
  const byAge = r.keepDays === null ? null : Math.max(1, Math.ceil(r.keepDays / r.fullEveryDays - 1e-9));
  const counts = [byAge, r.maxFulls].filter((n): n is number => n !== null);
  if (counts.length === 0) {
    throw new ProfileError('the retention is unlimited: neither MAX_AGE nor MAX_FULL_BACKUPS is set, so the backups grow without end',
      'set MAX_AGE (e.g. 2Y) or MAX_FULL_BACKUPS in the conf, and purge in the routine');
  }
  return Math.min(...counts);
}

/** Months of incrementals kept at once. */
export function incrementalMonthsKept(r: Retention, copies: number): number {
  const month = 365 / 12;
  if (r.fullEveryDays === null) return (r.keepDays ?? 365) / month;
  const chainsWithIncrs = r.maxFullsWithIncrs === null ? copies : Math.min(copies, r.maxFullsWithIncrs);
  return (chainsWithIncrs * r.fullEveryDays) / month;
}

export interface Prices { name: string; gbMonth: number; gbDownload: number; read?: string }

export interface PerGb {
  copies: number;
  storage: number;
  drills: number;
  total: number;
}

/** The yearly cost of one GB of full backup: stored `copies` times, downloaded by each drill. */
export function perGbPerYear(copies: number, prices: Prices, drillsPerYear: number): PerGb {
  const storage = prices.gbMonth * 12 * copies;
  const drills = prices.gbDownload * drillsPerYear;
  return { copies, storage, drills, total: storage + drills };
}

export interface Measured {
  /** bytes of the newest full set: volumes, manifest and its signature file */
  fullBytes: number;
  /** bytes of incrementals per month in the newest chain; 0 without incrementals */
  incrementalBytesPerMonth: number;
}

export interface Estimate {
  storedGb: number;
  drillGb: number;
  storage: number;
  drills: number;
  total: number;
}

const GB = 1e9;

/** The profile's own yearly cost from its measured sizes. */
export function estimate(measured: Measured, r: Retention, prices: Prices, drillsPerYear: number): Estimate {
  const copies = copiesStored(r);
  const incrMonths = incrementalMonthsKept(r, copies);
  const storedGb = (measured.fullBytes * copies + measured.incrementalBytesPerMonth * incrMonths) / GB;
  // a drill restores the newest state: a full plus, on average, half a chain of incrementals
  const halfChainMonths = r.fullEveryDays === null ? incrMonths / 2 : r.fullEveryDays / (365 / 12) / 2;
  const drillGb = (measured.fullBytes + measured.incrementalBytesPerMonth * halfChainMonths) / GB;
  const storage = storedGb * prices.gbMonth * 12;
  const drills = drillGb * prices.gbDownload * drillsPerYear;
  return { storedGb, drillGb, storage, drills, total: storage + drills };
}

/** Dollars as printed, to the cent; an amount under a cent is "<$0.01", not a misleading $0.00. */
export function dollars(value: number): string {
  if (value > 0 && value < 0.005) return '<$0.01';
  return `$${value.toFixed(2)}`;
}
