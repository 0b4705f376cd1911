// Duplicity's time strings: file-name times (§1.2), the --time grammar (duply.md §15.3) and asctime output.
import { UsageError } from '../errors/lifeboat-error.js';

/**
 * A time zone as an IANA name (`Europe/Berlin`, `UTC`); `undefined` means the process's own zone, which
 * Node takes from the TZ environment variable.
 */
export type TimeZone = string | undefined;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const INTERVAL_UNIT_SECONDS: Record<string, number> = {
  s: 1,
  m: 60,
  h: 3600,
  D: 86400,
  W: 7 * 86400,
  M: 30 * 86400,
  Y: 365 * 86400,
};
const DATE_FORMS = [
  /^(?<year>[0-9]{4})[-/](?<month>[0-9]{1,2})[-/](?<day>[0-9]{1,2})$/,
  /^(?<month>[0-9]{1,2})[-/](?<day>[0-9]{1,2})[-/](?<year>[0-9]{4})$/,
  /^(?<year>[0-9]{4})(?<month>[0-9]{2})(?<day>[0-9]{2})Z$/,
];
const BAD_TIME_HINT =
  'use "now", epoch seconds, 2002-04-26T04:22:01-07:00, 20020426T042201Z, an interval like 3D2h ' +
  '(units s m h D W M Y), or a date like 2002/4/26 or 4/26/2002';

/** `YYYYMMDDTHHMMSSZ` in UTC, the only form a writer should put into file names. */
export function formatNameTime(epochSeconds: number): string {
  requireWholeSeconds(epochSeconds);
  const d = new Date(epochSeconds * 1000);
  return (
    pad(d.getUTCFullYear(), 4) +
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    'T' +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2) +
    pad(d.getUTCSeconds(), 2) +
    'Z'
  );
}

/**
 * The time field of a remote file name: the 16-char UTC form, the `--old-filenames` form with its zone
 * designator (`2026-11-26T07:01:24+01:00`), or bare epoch seconds; case-insensitive. Returns null when
 * it is none of those, or is 0 (duplicity treats a zero time as a failed parse).
 *
 * Duplicity hands name times to its whole --time parser, so it would also take intervals ("2D", relative
 * to now) and dates; names like that are not written by any duplicity and are rejected here.
 */
export function parseNameTime(text: string): number | null {
  const upper = text.toUpperCase();
  const seconds = /^[0-9]+$/.test(upper) ? safeInteger(upper) : w3TimeToSeconds(upper);
  return seconds === null || seconds === 0 ? null : seconds;
}

/**
 * A `--time` / `remove-older-than` argument as epoch seconds, tried in duplicity's order: `now`, epoch
 * seconds, W3C datetime (no designator = the zone's standard time, DST ignored, as duplicity does), an
 * interval before `nowSeconds`, then a date meaning midnight standard time.
 * @throws UsageError for anything else (duplicity: "Bad time string", exit 2)
 */
export function parseTimeString(text: string, nowSeconds: number, timeZone?: TimeZone): number {
  if (text === 'now') return nowSeconds;
  if (/^[0-9]+$/.test(text)) {
    const seconds = safeInteger(text);
    if (seconds !== null) return seconds;
    throw badTimeString(text);
  }
  const designator = standardZoneDesignator(nowSeconds, timeZone);
  const datetime = w3TimeToSeconds(text) ?? w3TimeToSeconds(text + designator);
  if (datetime !== null) return datetime;

  const interval = intervalToSeconds(text);
  if (interval !== null) return nowSeconds - interval;

  for (const form of DATE_FORMS) {
    const groups = form.exec(text)?.groups;
    if (groups === undefined) continue;
    const iso = `${groups.year}-${pad(Number(groups.month), 2)}-${pad(Number(groups.day), 2)}T00:00:00`;
    const midnight = w3TimeToSeconds(iso + designator);
    if (midnight !== null) return midnight;
    break;
  }
  throw badTimeString(text);
}

/**
 * Python's `time.asctime(time.localtime(t))`, which is how duplicity prints every time for humans:
 * `Thu Nov 26 06:04:25 2026`, day of month padded with a space.
 */
export function formatHumanTime(epochSeconds: number, timeZone?: TimeZone): string {
  requireWholeSeconds(epochSeconds);
  const f = localFields(epochSeconds, timeZone);
  const weekday = new Date(Date.UTC(f.year, f.month - 1, f.day)).getUTCDay();
  const clock = `${pad(f.hour, 2)}:${pad(f.minute, 2)}:${pad(f.second, 2)}`;
  return `${WEEKDAYS[weekday]} ${MONTHS[f.month - 1]} ${String(f.day).padStart(2, ' ')} ${clock} ${f.year}`;
}

/** Offset of local time from UTC at that instant, in seconds east of Greenwich. */
export function utcOffsetSeconds(epochSeconds: number, timeZone?: TimeZone): number {
  const f = localFields(epochSeconds, timeZone);
  const asIfUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) / 1000;
  return asIfUtc - Math.floor(epochSeconds);
}

/**
 * Duplicity's `stringtotime`: a 16-char string is read positionally as UTC `YYYYMMDDTHHMMSS?`; anything
 * else must be `YYYY-MM-DDTHH:MM:SS` followed by `Z` or `±HH:MM`. Field ranges are checked loosely
 * (day ≤ 31 for every month, second ≤ 61) and overflow rolls into the next unit, as with timegm.
 */
function w3TimeToSeconds(text: string): number | null {
  const halves = text.slice(0, 19).split('T');
  if (halves.length !== 2) return null;
  const [date, daytime] = halves;
  const raw =
    text.length === 16
      ? [date.slice(0, 4), date.slice(4, 6), date.slice(6, 8), daytime.slice(0, 2), daytime.slice(2, 4), daytime.slice(4, 6)]
      : [...date.split('-'), ...daytime.split(':')];
  if (raw.length !== 6 || !raw.every((field) => /^[0-9]+$/.test(field))) return null;
  const [year, month, day, hour, minute, second] = raw.map(Number);
  const inRange =
    year > 1900 && year < 2100 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 61;
  if (!inRange) return null;
  const naive = Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
  if (text.length === 16) return naive;
  const offset = zoneDesignatorSeconds(text.slice(19));
  return offset === null ? null : naive - offset;
}

/**
 * `Z` or `±HH:MM` as seconds east of UTC. Duplicity 0.8.22 mis-signs the minutes of negative offsets
 * (`-03:30` counts as -2:30); we read them as written.
 */
function zoneDesignatorSeconds(designator: string): number | null {
  if (designator === 'Z') return 0;
  const m = /^([+-])([0-9]{2}):([0-9]{2})$/.exec(designator);
  if (m === null) return null;
  const magnitude = Number(m[2]) * 3600 + Number(m[3]) * 60;
  return m[1] === '-' ? -magnitude : magnitude;
}

/**
 * The designator duplicity appends to zone-less times: Python's `time.timezone`, i.e. the standard
 * (non-DST) offset, taken as the smaller of early-January and early-July offsets of the current year.
 */
function standardZoneDesignator(nowSeconds: number, timeZone: TimeZone): string {
  const pythonYear = (365 * 24 + 6) * 3600;
  const january = Math.floor(nowSeconds / pythonYear) * pythonYear;
  const offset = Math.min(utcOffsetSeconds(january, timeZone), utcOffsetSeconds(january + pythonYear / 2, timeZone));
  if (offset === 0) return 'Z';
  const minutes = Math.round(Math.abs(offset) / 60);
  return `${offset < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}`;
}

/** `3D2h`-style intervals: one or more `<digits><unit>` pairs, units case-sensitive; null if not one. */
function intervalToSeconds(text: string): number | null {
  if (text.length < 2) return null;
  let total = 0;
  for (let rest = text; rest.length > 0; ) {
    const m = /^([0-9]+)([smhDWMY])/.exec(rest);
    if (m === null) return null;
    total += Number(m[1]) * INTERVAL_UNIT_SECONDS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return Number.isSafeInteger(total) ? total : null;
}

interface LocalFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localFields(epochSeconds: number, timeZone: TimeZone): LocalFields {
  if (timeZone === undefined) {
    // the process's own zone: Date's local fields, without the 12 ms Intl.DateTimeFormat costs to build
    const d = new Date(Math.floor(epochSeconds) * 1000);
    return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: d.getHours(), minute: d.getMinutes(), second: d.getSeconds() };
  }
  const parts = formatterFor(timeZone).formatToParts(new Date(Math.floor(epochSeconds) * 1000));
  const field = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  const fields = {
    year: field('year'),
    month: field('month'),
    day: field('day'),
    hour: field('hour'),
    minute: field('minute'),
    second: field('second'),
  };
  // formatToParts gives no sign for years before 1 CE; such dates never occur in backups
  if (parts.find((p) => p.type === 'era')?.value === 'BC') fields.year = 1 - fields.year;
  return fields;
}

function formatterFor(timeZone: TimeZone): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let formatter = formatters.get(key);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new UsageError(`unknown time zone "${timeZone}"`, 'use an IANA zone name such as Europe/Berlin or UTC');
    }
    formatters.set(key, formatter);
  }
  return formatter;
}

function badTimeString(text: string): UsageError {
  return new UsageError(`Bad time string "${text}"`, BAD_TIME_HINT);
}

function safeInteger(digits: string): number | null {
  const value = Number(digits);
  return Number.isSafeInteger(value) ? value : null;
}

function requireWholeSeconds(epochSeconds: number): void {
  if (!Number.isSafeInteger(epochSeconds)) throw new RangeError(`not a whole number of seconds: ${epochSeconds}`);
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
