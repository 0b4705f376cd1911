// Ages in the conf and on the command line ("26h", "2D", "3M", "1Y6M"), in duplicity's interval units
// so a profile's MAX_AGE and CHECK_MAX_AGE read alike. A bare number is seconds.
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, D: 86400, d: 86400, W: 7 * 86400, w: 7 * 86400, M: 30 * 86400, Y: 365 * 86400 };

/** Seconds in an interval such as "26h" or "1D12h"; null when the text is not one. */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (/^[0-9]+$/.test(t)) return Number(t);
  if (!/^([0-9]+[smhDdWwMY])+$/.test(t)) return null;
  let total = 0;
  for (const m of t.matchAll(/([0-9]+)([smhDdWwMY])/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]];
  return Number.isSafeInteger(total) && total > 0 ? total : null;
}

/** "3d 4h", "26h 5m", "12m": how old something is, to the minute. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor(s / 3600) % 24;
  const minutes = Math.floor(s / 60) % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  return `${minutes}m`;
}
