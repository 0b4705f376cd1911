// `lifeboat PROFILE cost [--json]`: what keeping this profile's backups costs a year, from its retention
// settings, the sizes measured on its target and prices (the conf's, else published list prices).
import type { ProfileCommand } from '../profile.js';
import { ProfileError } from '../../../profile/conf.js';
import { openProfileTarget } from '../../../profile/profile-target.js';
import { DEFAULT_PRICES } from '../../../cost/prices.js';
import { copiesStored, dollars, estimate, perGbPerYear, retentionOf, type Prices } from '../../../cost/model.js';
import { measure, type ListedFile } from '../../../cost/measure.js';
import { formatHumanTime } from '../../../duplicity/time.js';
import { profileCommandArgs } from './options.js';

export const DEFAULT_DRILLS_PER_YEAR = 2;

function number(vars: Record<string, string | undefined>, name: string): number | undefined {
  const v = vars[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!/^[0-9]*\.?[0-9]+$/.test(v) || !Number.isFinite(n)) throw new ProfileError(`${name} '${v}' is not a number`, `e.g. ${name}=${name === 'DRILLS_PER_YEAR' ? '2' : '0.005'} (USD, no "$")`);
  return n;
}

const cost: ProfileCommand = async (profile, ctx) => {
  const { values } = profileCommandArgs('cost', profile.rest, { json: { type: 'boolean' } }, 0);
  const vars = profile.conf.vars;
  const retention = retentionOf(vars);
  const copies = copiesStored(retention);
  const drillsPerYear = number(vars, 'DRILLS_PER_YEAR') ?? DEFAULT_DRILLS_PER_YEAR;
  const gbMonth = number(vars, 'PRICE_GB_MONTH');
  const gbDownload = number(vars, 'PRICE_GB_DOWNLOAD');
  if (gbMonth === undefined && gbDownload !== undefined) throw new ProfileError('PRICE_GB_DOWNLOAD is set but PRICE_GB_MONTH is not', 'set both, e.g. PRICE_GB_MONTH=0.005 PRICE_GB_DOWNLOAD=0.05');
  const priceLists: Prices[] = gbMonth !== undefined ? [{ name: 'the conf\'s prices', gbMonth, gbDownload: gbDownload ?? 0 }] : DEFAULT_PRICES;

  const target = await openProfileTarget({ paths: profile.paths, settings: profile.settings, env: profile.conf.env }, profile.out.info);
  const files: ListedFile[] = [];
  try {
    for await (const f of target.backend.list()) files.push({ name: f.name, size: f.size });
  } finally {
    await target.backend.close();
  }
  const measured = measure(files);
  const rows = priceLists.map((p) => ({ prices: p, perGb: perGbPerYear(copies, p, drillsPerYear), profile: estimate(measured, retention, p, drillsPerYear) }));

  if (values.json) {
    ctx.out.result(`${JSON.stringify({
      profile: profile.paths.name,
      retention: { MAX_FULLBKP_AGE: vars.MAX_FULLBKP_AGE ?? null, MAX_AGE: vars.MAX_AGE ?? null, MAX_FULL_BACKUPS: vars.MAX_FULL_BACKUPS ?? null, MAX_FULLS_WITH_INCRS: vars.MAX_FULLS_WITH_INCRS ?? null, copiesStored: copies },
      drillsPerYear,
      measured: { fullBytes: measured.fullBytes, fullTime: measured.fullTime, incrementalSets: measured.incrementals, incrementalBytesPerMonth: measured.incrementalBytesPerMonth },
      estimates: rows.map((r) => ({
        prices: r.prices,
        perGbPerYear: { storage: r.perGb.storage, drills: r.perGb.drills, total: r.perGb.total },
        profilePerYear: r.profile,
      })),
    }, null, 2)}\n`);
    return 0;
  }
  const every = vars.MAX_FULLBKP_AGE ? `a full every ${vars.MAX_FULLBKP_AGE}` : 'one full (no MAX_FULLBKP_AGE), then incrementals';
  const kept = vars.MAX_AGE ? `kept ${vars.MAX_AGE}` : `at most ${vars.MAX_FULL_BACKUPS} fulls`;
  const lines = [
    `Yearly cost of the profile '${profile.paths.name}': ${every}, ${kept}: each GB is stored ${copies} time${copies === 1 ? '' : 's'}; ${drillsPerYear} restore drill${drillsPerYear === 1 ? '' : 's'} a year download it.`,
    measured.fullTime === null
      ? 'Measured on the target: no complete backup yet, so only the cost per GB is known.'
      : `Measured on the target: newest full ${gb(measured.fullBytes)} (${formatHumanTime(measured.fullTime)}), incrementals ${gb(measured.incrementalBytesPerMonth)} a month (${measured.incrementals} set${measured.incrementals === 1 ? '' : 's'}).`,
  ];
  for (const r of rows) {
    lines.push('', `${r.prices.name}: $${r.prices.gbMonth} per GB-month, $${r.prices.gbDownload} per GB downloaded${'read' in r.prices && r.prices.read ? ` (price read ${r.prices.read.split(',')[0]})` : ''}`);
    lines.push(`  ${dollars(r.perGb.storage)} + ${dollars(r.perGb.drills)} = ${dollars(r.perGb.total)} per GB per year (storage: ${r.prices.gbMonth} x 12 months x ${copies}; drills: ${r.prices.gbDownload} x ${drillsPerYear})`);
    if (measured.fullTime !== null) {
      lines.push(`  this profile: ${gb(r.profile.storedGb * 1e9)} stored -> ${dollars(r.profile.storage)} + ${dollars(r.profile.drills)} drills = ${dollars(r.profile.total)} per year`);
    }
  }
  if (gbMonth === undefined) lines.push('', 'Prices are published list prices and change: set PRICE_GB_MONTH and PRICE_GB_DOWNLOAD in the conf for yours.');
  ctx.out.result(`${lines.join('\n')}\n`);
  return 0;
};

function gb(bytes: number): string {
  return bytes >= 1e8 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(2)} MB`;
}

export default cost;
