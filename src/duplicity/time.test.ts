import { samplesDir } from '../../test/support/samples.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../errors/lifeboat-error.js';
import { formatHumanTime, formatNameTime, parseNameTime, parseTimeString, utcOffsetSeconds } from './time.js';

const SAMPLES = samplesDir();
const NOW = 1700000000; // the "now" of duply.md §15.3
const SAMPLE_FULL = 1795673065; // 20261126T060425Z, the plain sample's full backup

// Expected values were produced by duplicity 0.8.22's own parser (dup_time.genstrtotime, now = 1700000000).
const BY_ZONE: [string, Record<string, number>][] = [
  [
    'UTC',
    {
      '2002-04-26T04:22:01': 1019794921,
      '20261126T060425': 1795673065,
      '2001/3/23': 985305600,
      '3/23/2001': 985305600,
      '01/05/2024': 1704412800,
      '20010323Z': 985305600,
      '2024-07-15': 1721001600,
    },
  ],
  [
    'Europe/Berlin',
    {
      '2002-04-26T04:22:01': 1019791321,
      // summer, but duplicity appends the standard offset: DST is ignored
      '2024-07-01T12:00:00': 1719831600,
      '2001-3/23': 985302000,
      '1-5-2024': 1704409200,
      '2024-07-15': 1720998000,
      '2001/02/30': 983487600,
      '2099/12/31': 4102354800,
    },
  ],
  [
    'America/St_Johns',
    {
      '2002-04-26T04:22:01': 1019807521,
      '2024-07-01T12:00:00': 1719847800,
      '2001/3/23': 985318200,
      '20010323Z': 985318200,
    },
  ],
];

test('formatNameTime() writes the 16-character UTC form of §1.2', () => {
  assert.equal(formatNameTime(SAMPLE_FULL), '20261126T060425Z');
  assert.equal(formatNameTime(0), '19700101T000000Z');
  assert.equal(formatNameTime(4102358400), '20991231T000000Z');
  assert.throws(() => formatNameTime(1.5), RangeError);
});

test('formatNameTime() agrees with every time in the sample file names', () => {
  for (const dir of ['plain', 'multi', 'nocomp', 'enc']) {
    const stamps = readdirSync(join(SAMPLES, dir)).join(' ').match(/\d{8}T\d{6}Z/g) ?? [];
    assert.ok(stamps.length > 0, dir);
    for (const stamp of stamps) assert.equal(formatNameTime(parseNameTime(stamp) ?? NaN), stamp);
  }
});

test('parseNameTime() reads the UTC form in any case', () => {
  assert.equal(parseNameTime('20261126T060425Z'), SAMPLE_FULL);
  assert.equal(parseNameTime('20261126t060425z'), SAMPLE_FULL);
});

test('parseNameTime() reads the --old-filenames form with its offset and bare epoch seconds', () => {
  // real name from TZ=Europe/Berlin --old-filenames: duplicity-full.2026-11-26T07:01:24+01:00.vol1.difftar.gz
  assert.equal(parseNameTime('2026-11-26T07:01:24+01:00'), Date.UTC(2026, 10, 26, 6, 1, 24) / 1000);
  assert.equal(parseNameTime('2026-11-26T06:01:24Z'), Date.UTC(2026, 10, 26, 6, 1, 24) / 1000);
  assert.equal(parseNameTime('1795673065'), SAMPLE_FULL);
});

test('parseNameTime() rejects zero, garbage, intervals and out-of-range fields', () => {
  for (const bad of ['0', 'garbage', '', '3D', 'NOW', '2026-11-26T07:01:24', '20261326T060425Z', '18991126T060425Z']) {
    assert.equal(parseNameTime(bad), null, bad);
  }
});

test('parseTimeString() follows duplicity for zone-independent strings', () => {
  const expected: Record<string, number> = {
    now: NOW,
    '30': 30, // epoch seconds, not 30 days
    '1700000000': NOW,
    '0': 0,
    '2002-04-26T04:22:01-07:00': 1019820121,
    '2002-04-26T04:22:01+05:30': 1019775121,
    '2002-04-26T04:22:01Z': 1019794921,
    '20261126T060425Z': SAMPLE_FULL,
    '3D': 1699740800,
    '3D2h': 1699733600,
    '2h78m': 1699988120,
    '1Y2M3D': 1663020800,
    '2W': 1698790400,
    '10s': 1699999990,
    '0s': NOW,
    '2024-02-30T00:00:00Z': 1709251200, // day ≤ 31 is all duplicity checks; it rolls over
    '2024-01-01T23:59:61Z': 1704153601,
    '2024-01-01T00:00:00+01:30': 1704061800,
  };
  for (const zone of ['UTC', 'Europe/Berlin', 'America/St_Johns']) {
    for (const [text, seconds] of Object.entries(expected)) assert.equal(parseTimeString(text, NOW, zone), seconds, `${text} in ${zone}`);
  }
});

test('parseTimeString() reads zone-less datetimes and dates as standard local time', () => {
  for (const [zone, cases] of BY_ZONE) {
    for (const [text, seconds] of Object.entries(cases)) assert.equal(parseTimeString(text, NOW, zone), seconds, `${text} in ${zone}`);
  }
});

test('parseTimeString() throws UsageError (exit 2) for what duplicity calls a bad time string', () => {
  const bad = ['2d', '1w', '2 D', '1.5D', '-2D', 'D', '2024-01-05 10:00', '2024-01-05T10:00', '2026-1-5T1:2:3Z', 'garbage', '', 'T', 'NOW',
    '2001/13/01', '1899/01/01', '2100/01/01', '2024-01-01T24:00:00Z', '99999999999999999999'];
  for (const text of bad) {
    assert.throws(
      () => parseTimeString(text, NOW, 'UTC'),
      (err: unknown) => err instanceof UsageError && err.exitCode === 2 && err.message.includes('Bad time string'),
      JSON.stringify(text),
    );
  }
  // a zone-less 15-character name time only parses where the standard offset is zero
  assert.equal(parseTimeString('20261126T060425', NOW, 'UTC'), SAMPLE_FULL);
  assert.throws(() => parseTimeString('20261126T060425', NOW, 'Europe/Berlin'), UsageError);
});

test('parseTimeString() reads negative half-hour offsets as written, unlike duplicity', () => {
  // duplicity 0.8.22 gives 1019803921 (it treats -03:30 as -02:30)
  assert.equal(parseTimeString('2002-04-26T04:22:01-03:30', NOW, 'UTC'), 1019807521);
});

test('formatHumanTime() prints asctime with a space-padded day of month', () => {
  assert.equal(formatHumanTime(SAMPLE_FULL, 'UTC'), 'Thu Nov 26 06:04:25 2026');
  assert.equal(formatHumanTime(1577836800, 'UTC'), 'Wed Jan  1 00:00:00 2020');
  assert.equal(formatHumanTime(1012615322, 'UTC'), 'Sat Feb  2 02:02:02 2002');
  assert.equal(formatHumanTime(0, 'UTC'), 'Thu Jan  1 00:00:00 1970');
  assert.equal(formatHumanTime(-315619200, 'UTC'), 'Fri Jan  1 00:00:00 1960');
});

test('formatHumanTime() uses the given zone, as Python localtime() does under TZ', () => {
  // reference strings from python3 time.asctime(time.localtime(t)) under the same TZ
  assert.equal(formatHumanTime(0, 'Europe/Berlin'), 'Thu Jan  1 01:00:00 1970');
  assert.equal(formatHumanTime(0, 'America/St_Johns'), 'Wed Dec 31 20:30:00 1969');
  assert.equal(formatHumanTime(SAMPLE_FULL, 'Australia/Sydney'), 'Thu Nov 26 17:04:25 2026');
  assert.equal(utcOffsetSeconds(1719835200, 'Europe/Berlin'), 7200);
  assert.equal(utcOffsetSeconds(SAMPLE_FULL, 'America/St_Johns'), -12600);
});

test('formatHumanTime() without a zone uses TZ as Python localtime() does (times around DST changes)', () => {
  const times = [0, SAMPLE_FULL, 1711846799, 1711846800, 1729990799, 1729990800, 1719835200, -315619200];
  for (const tz of ['Europe/Berlin', 'America/St_Johns', 'Australia/Lord_Howe', 'UTC']) {
    const env = { ...process.env, TZ: tz };
    const python = spawnSync('python3', ['-c', `import time\nfor t in ${JSON.stringify(times)}: print(time.asctime(time.localtime(t)))`], { env, encoding: 'utf8' });
    assert.equal(python.status, 0, python.stderr);
    const script = `import { formatHumanTime } from ${JSON.stringify(new URL('./time.js', import.meta.url).href)};
      for (const t of ${JSON.stringify(times)}) console.log(formatHumanTime(t));`;
    const ours = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(ours.stdout, python.stdout, tz);
  }
});

test('formatHumanTime() matches the dates in the sample list-current-files output', () => {
  const listing = readFileSync(join(SAMPLES, 'logs', 'list-current-plain.txt'), 'latin1');
  assert.ok(listing.includes(`${formatHumanTime(SAMPLE_FULL, 'UTC')}`));
  assert.ok(listing.includes(`${formatHumanTime(1577836800, 'UTC')} dir1/sub/deeper\n`));
  assert.ok(listing.includes(`${formatHumanTime(0, 'UTC')} negative-mtime\n`));
});

test('formatHumanTime() refuses an unknown zone with a UsageError', () => {
  assert.throws(() => formatHumanTime(0, 'Not/AZone'), UsageError);
});
