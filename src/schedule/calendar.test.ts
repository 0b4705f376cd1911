// The schedule's times: our strict five-field check agrees with Vixie cron's own parser (crontab -n,
// Debian's cron), and every OnCalendar we write makes systemd fire exactly at the cron times.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { expandField, normaliseCron, parseSchedule, toOnCalendar } from './calendar.js';
import { requireProgram } from '../../test/support/programs.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-calendar-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = ['*/15 * * * *', '1-10/2 3 * * *', '0 0 * * 7', '0 0 * * sun', '0 0 * jan-mar mon', '0 0 1,15 * *', '30 2 * * 1-5', '0 0 * * mon-sun', '59 23 31 12 *'];
// Vixie cron takes these (it reads "1-2-3" as 1-2 and ignores the rest); we refuse them as typos
const STRICTER = ['1-2-3 * * * *'];
const BAD = ['5/15 * * * *', '* * 0 * *', '* 24 * * *', '*/0 * * * *', '60 * * * *', '* * * 13 *', '* * * * 8', '* * * * funday', '* * * *', '* * * * * *'];

/** Vixie cron's verdict on a line (crontab -n checks the syntax and installs nothing). */
function vixieAccepts(fields: string): boolean {
  const file = join(dir, 'crontab');
  writeFileSync(file, `${fields} true\n`);
  return spawnSync('crontab', ['-n', file], { encoding: 'utf8' }).status === 0;
}

describe('cron expressions', () => {
  test('daily, hourly, weekly and --time', () => {
    assert.deepEqual(parseSchedule(undefined, undefined), { cron: '0 3 * * *', onCalendar: '*-*-* 03:00:00' });
    assert.equal(parseSchedule('daily', '06:25').cron, '25 6 * * *');
    assert.equal(parseSchedule('hourly', '00:15').cron, '15 * * * *');
    assert.equal(parseSchedule('weekly', '23:59').onCalendar, 'Sun *-*-* 23:59:00');
    for (const bad of ['25:00', '6:61', 'noon', '']) assert.throws(() => parseSchedule('daily', bad), /is not a time of day/);
    assert.throws(() => parseSchedule('30 2 * * *', '03:00'), /--time goes with daily/);
  });

  test('our strict check and Vixie cron (crontab -n) agree on good and bad expressions', (t) => {
    if (!requireProgram(t, 'crontab', 'cron')) return;
    for (const e of GOOD) {
      assert.equal(normaliseCron(e), e, e);
      assert.ok(vixieAccepts(e), `crontab -n accepts ${e}`);
    }
    for (const e of BAD) {
      assert.throws(() => normaliseCron(e), /cron/, e);
      assert.ok(!vixieAccepts(e), `crontab -n refuses ${e}`);
    }
    for (const e of STRICTER) {
      assert.throws(() => normaliseCron(e), /cron/, e);
      assert.ok(vixieAccepts(e), `crontab -n accepts ${e}: we are stricter on purpose`);
    }
  });

  test('a systemd timer cannot OR day of month with day of week: refused, with the way out', () => {
    assert.throws(() => toOnCalendar('0 0 1 * mon'), /systemd timer cannot express/);
  });

  test('systemd fires the OnCalendar we write exactly at the cron times (systemd-analyze calendar)', (t) => {
    if (!requireProgram(t, 'systemd-analyze', 'systemd')) return;
    const fieldSpecs = [{ name: 'minute', min: 0, max: 59 }, { name: 'hour', min: 0, max: 23 }, { name: 'day of month', min: 1, max: 31 },
      { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
      { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] }];
    for (const e of [...GOOD, '0 3 * * *', '15 * * * *']) {
      const onCalendar = toOnCalendar(e);
      const r = spawnSync('systemd-analyze', ['calendar', '--iterations=12', onCalendar], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
      assert.equal(r.status, 0, `${onCalendar}: ${r.stderr}`);
      const times = [...r.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)/g)];
      assert.equal(times.length, 12, r.stdout);
      const sets = e.split(' ').map((f, i) => expandField(f, fieldSpecs[i]));
      for (const m of times) {
        const [year, month, day, hour, minute] = m.slice(1, 6).map(Number);
        const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
        const ok = [minute, hour, day, month, weekday].every((v, i) => sets[i] === null || sets[i]!.includes(v));
        assert.ok(ok, `${e}: systemd fires at ${m[0]}, which cron would not`);
      }
    }
  });
});
