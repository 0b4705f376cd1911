// When a profile's routine runs: "daily", "hourly", "weekly" (with --time HH:MM) or a five-field cron
// expression, checked strictly here (a typo must not become a schedule that never fires), and written
// out both as a cron line and as a systemd OnCalendar expression.
import { ProfileError } from '../profile/conf.js';

export interface Schedule {
  /** the five cron fields, normalised */
  cron: string;
  /** the same times for a systemd timer */
  onCalendar: string;
}

interface FieldSpec { name: string; min: number; max: number; names?: string[] }

const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  // 7 is Sunday too, as in every cron
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];
const SYSTEMD_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DEFAULT_TIME = '03:00';

/** `schedule [daily|hourly|weekly|"CRON EXPR"] [--time HH:MM]` -> the schedule. */
export function parseSchedule(when: string | undefined, time: string | undefined): Schedule {
  const word = (when ?? 'daily').trim();
  if (['daily', 'hourly', 'weekly'].includes(word)) {
    const [hour, minute] = parseClock(time ?? DEFAULT_TIME, word === 'hourly');
    const cron = word === 'hourly' ? `${minute} * * * *` : word === 'daily' ? `${minute} ${hour} * * *` : `${minute} ${hour} * * 0`;
    return { cron, onCalendar: toOnCalendar(cron) };
  }
  if (time !== undefined) throw new ProfileError('--time goes with daily, hourly or weekly, not with a cron expression', 'put the time into the expression: "30 2 * * *"');
  const cron = normaliseCron(word);
  return { cron, onCalendar: toOnCalendar(cron) };
}

/** "HH:MM" (or "MM" / ":MM" for hourly) -> [hour, minute]. */
function parseClock(text: string, minuteOnly: boolean): [number, number] {
  const m = /^(?:([0-9]{1,2}))?:?([0-9]{2})$/.exec(text.trim());
  const hour = m?.[1] === undefined ? 0 : Number(m[1]);
  const minute = m ? Number(m[2]) : NaN;
  if (!m || !(hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59) || (!minuteOnly && m[1] === undefined)) {
    throw new ProfileError(`--time '${text}' is not a time of day`, minuteOnly ? 'e.g. --time 00:15 (hourly uses the minutes)' : 'e.g. --time 03:30 (24-hour HH:MM)');
  }
  return [hour, minute];
}

/** Checks the five fields strictly and returns them single-spaced. */
export function normaliseCron(expression: string): string {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new ProfileError(`'${expression}' is not a cron expression: it has ${fields.length} field(s), not 5`,
      'write minute hour day-of-month month day-of-week, e.g. "30 2 * * *", or use daily, hourly, weekly');
  }
  fields.forEach((field, i) => expandField(field, FIELDS[i]));
  return fields.join(' ');
}

/** The values a field selects, or null for "*" (every value). */
export function expandField(field: string, spec: FieldSpec): number[] | null {
  if (field === '*') return null;
  const values = new Set<number>();
  for (const item of field.split(',')) {
    const m = /^(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/([0-9]+))?$/.exec(item);
    if (!m) throw badField(field, spec);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    let [from, to] = [spec.min, spec.max];
    if (m[1] !== '*') {
      const [a, b] = m[1].split('-');
      from = valueOf(a, field, spec);
      // "5/15" is not cron (Vixie refuses it): a step needs * or a range
      if (b === undefined && m[2] !== undefined) throw badField(field, spec);
      to = b === undefined ? from : valueOf(b, field, spec);
      // "mon-sun": Sunday as 7 ends a range
      if (spec.name === 'day of week' && b !== undefined && to === 0 && from > 0) to = 7;
    }
    if (step < 1 || from > to) throw badField(field, spec);
    for (let v = from; v <= to; v += step) values.add(spec.name === 'day of week' && v === 7 ? 0 : v);
  }
  return [...values].sort((a, b) => a - b);
}

function valueOf(text: string, field: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  const value = named >= 0 ? named + (spec.min === 1 ? 1 : 0) : /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(value >= spec.min && value <= spec.max)) throw badField(field, spec);
  return value;
}

function badField(field: string, spec: FieldSpec): ProfileError {
  return new ProfileError(`cron field '${field}' is not a valid ${spec.name} (${spec.min}-${spec.max}${spec.names ? ` or ${spec.names[0]}...` : ''})`,
    'each field is *, a number, a range a-b, a list a,b or a step */n, e.g. "30 2 * * 1-5"');
}

/** The cron fields as a systemd calendar event; every list spelled out, so any field translates. */
export function toOnCalendar(cron: string): string {
  const fields = cron.split(' ');
  const [minute, hour, dom, month, dow] = fields.map((f, i) => expandField(f, FIELDS[i]));
  if (dom !== null && dow !== null) {
    // cron runs when EITHER matches; a systemd timer only when both do
    throw new ProfileError(`'${cron}' restricts both the day of month and the day of week, which a systemd timer cannot express`,
      'use one of the two, or --cron');
  }
  const list = (values: number[] | null, width: number) => (values === null ? '*' : values.map((v) => String(v).padStart(width, '0')).join(','));
  const days = dow === null ? '' : `${dow.map((d) => SYSTEMD_DAYS[d]).join(',')} `;
  return `${days}*-${list(month, 2)}-${list(dom, 2)} ${list(hour, 2)}:${list(minute, 2)}:00`;
}
