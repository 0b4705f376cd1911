// Unattended runs end to end: the cron line run the way cron runs it (no TTY, `env -i`, minimal PATH),
// systemd units judged by systemd-analyze, notifications received by a real SMTP server, a webhook
// receiver and a ping server, check on fresh, stale and missing backups, and the cost of a real archive.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { profileHome } from '../support/profile-env.js';
import { requireProgram } from '../support/programs.js';
import { describeTree } from '../support/tree.js';
import { MARKER } from '../../src/schedule/units.js';
import { openTarget } from '../../src/pipeline/target.js';
import { backupToTarget } from '../../src/pipeline/backup-to-target.js';

const home = profileHome('unattended');
after(() => rmSync(home.root, { recursive: true, force: true }));

function source(name: string): string {
  const dir = join(home.root, 'sources', name);
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'hostname'), `${name}\n`);
  writeFileSync(join(dir, 'data.bin'), Buffer.alloc(200_000, name));
  return dir;
}

/** A profile with its own source, target and log; `extra` is appended to the conf. */
function profile(name: string, extra = '', src = source(name)): { dir: string; target: string; log: string } {
  const target = join(home.root, 'targets', name);
  const log = join(home.root, 'logs', `${name}.log`);
  const dir = home.profile(name, `GPG_KEY='disabled'
SOURCE='${src}'
TARGET='file://${target}'
ARCH_DIR='${join(home.root, 'arch')}'
LOG_FILE='${log}'
${extra}
`);
  return { dir, target, log };
}

const classic = `MAX_AGE=2Y
MAX_FULLBKP_AGE=3M
MAX_FULLS_WITH_INCRS=2
DUPL_PARAMS="$DUPL_PARAMS --full-if-older-than $MAX_FULLBKP_AGE "`;

describe('schedule with cron', () => {
  test('writes a cron.d file that Vixie cron accepts; its command, run as cron runs it, backs up quietly into a rotating log', async (t) => {
    if (!requireProgram(t, 'crontab', 'cron')) return;
    const p = profile('nightly', `${classic}\nLOG_MAX_SIZE=1K\nLOG_KEEP=2`);
    const cronDir = join(home.root, 'cron.d');
    mkdirSync(cronDir, { recursive: true });
    const r = home.lifeboat([p.dir, 'schedule', 'daily', '--time', '06:25', '--cron'], { LIFEBOAT_CRON_DIR: cronDir });
    assert.equal(r.code, 0, r.stderr);
    const file = join(cronDir, 'lifeboat-nightly');
    assert.equal(statSync(file).mode & 0o777, 0o644, 'cron ignores group- or world-writable files');
    const text = readFileSync(file, 'utf8');
    assert.ok(text.startsWith(MARKER), text);
    const job = /^25 6 \* \* \* (\S+) (.+)$/m.exec(text);
    assert.ok(job, text);
    assert.equal(job[1], userInfo().username);
    const command = job[2];

    // Vixie cron's parser: a cron.d line is a user crontab line with a user field
    const asUserCrontab = text.replace(/^(\S+ \S+ \S+ \S+ \S+) \S+ /m, '$1 ');
    writeFileSync(join(home.root, 'crontab-check'), asUserCrontab);
    const syntax = spawnSync('crontab', ['-n', join(home.root, 'crontab-check')], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);

    const emptyHome = join(home.root, 'cron-home');
    mkdirSync(emptyHome, { recursive: true });
    const asCron = () => spawnSync('env', ['-i', 'PATH=/usr/bin:/bin', `HOME=${emptyHome}`, 'sh', '-c', command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const first = asCron();
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, '', 'a good run prints nothing: cron mails nothing');
    assert.equal(first.stderr, '', 'a good run prints nothing: cron mails nothing');
    const log = readFileSync(p.log, 'utf8');
    for (const line of ['run-routine (purge_purgeIncr_backup --force) started', 'Start running command PURGE', 'Start running command PURGEINCR',
      'Start running command BKP', 'Backup Statistics', 'with exit code 0']) {
      assert.ok(log.includes(line), `the log has "${line}":\n${log}`);
    }
    assert.ok(readdirSync(p.target).some((n) => /^duplicity-full\..*\.manifest$/.test(n)), 'a full backup is on the target');
    const restored = join(home.root, 'nightly-restored');
    const restore = home.lifeboat([p.dir, 'restore', restored]);
    assert.equal(restore.code, 0, restore.stderr);
    assert.deepEqual(await describeTree(restored), await describeTree(join(home.root, 'sources', 'nightly')));

    // the log is over 1K: the next run moves it to .1; with LOG_KEEP=2 there is never a .2
    for (let i = 0; i < 2; i++) assert.equal(asCron().status, 0);
    assert.ok(existsSync(`${p.log}.1`));
    assert.ok(!existsSync(`${p.log}.2`));
    assert.equal(readFileSync(p.log, 'utf8').match(/run-routine .* started/g)?.length, 1);
    assert.ok(readFileSync(`${p.log}.1`, 'utf8').includes('Start running command BKP'));
  });

  test('errors of the routine reach stderr (cron mail) and the log; the exit code is the batch\'s', () => {
    const p = profile('broken', '', join(home.root, 'no-such-source'));
    const r = home.lifeboat([p.dir, 'run-routine']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not exist/);
    assert.match(r.stderr, /Task 'BKP' failed/);
    assert.equal(r.stdout, '');
    const log = readFileSync(p.log, 'utf8');
    assert.match(log, /does not exist/);
    assert.match(log, /with exit code 1/);
  });
});

describe('schedule with systemd', () => {
  test('a service and a timer that systemd-analyze verifies; unschedule removes only what Lifeboat wrote', (t) => {
    if (!requireProgram(t, 'systemd-analyze', 'systemd')) return;
    const p = profile('timed.host', classic);
    const unitDir = join(home.root, 'systemd');
    const cronDir = join(home.root, 'cron.d-systemd');
    mkdirSync(unitDir, { recursive: true });
    mkdirSync(cronDir, { recursive: true });
    const env = { LIFEBOAT_SYSTEMD_DIR: unitDir, LIFEBOAT_CRON_DIR: cronDir };
    assert.equal(home.lifeboat([p.dir, 'schedule', 'hourly', '--cron'], env).code, 0);
    assert.ok(existsSync(join(cronDir, 'lifeboat-timed_host')), 'a dot in the name would make cron skip the file');
    const r = home.lifeboat([p.dir, 'schedule', '30 2 * * 1-5', '--systemd'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(join(cronDir, 'lifeboat-timed_host')), 'one schedule per profile: the cron entry is gone');
    const service = join(unitDir, 'lifeboat-timed_host.service');
    const timer = join(unitDir, 'lifeboat-timed_host.timer');
    assert.match(readFileSync(timer, 'utf8'), /^OnCalendar=Mon,Tue,Wed,Thu,Fri \*-\*-\* 02:30:00$/m);
    assert.match(readFileSync(service, 'utf8'), /^ExecStart=\S+ \S+lifeboat\.js \S+timed\.host run-routine$/m);
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', timer, service], { encoding: 'utf8', cwd: unitDir });
    assert.equal(verify.status, 0, verify.stderr);
    assert.doesNotMatch(verify.stderr, /lifeboat-timed_host/, verify.stderr);

    // an administrator's own file of the same name is never replaced nor removed
    const foreign = join(unitDir, 'lifeboat-other.timer');
    writeFileSync(foreign, '[Timer]\nOnCalendar=daily\n');
    const other = profile('other');
    const refused = home.lifeboat([other.dir, 'schedule', '--systemd'], env);
    assert.equal(refused.code, 23);
    assert.match(refused.stderr, /was not written by Lifeboat/);
    const kept = home.lifeboat([other.dir, 'unschedule'], env);
    assert.equal(kept.code, 0);
    assert.match(kept.stderr, /not written by Lifeboat; left alone/);
    assert.equal(readFileSync(foreign, 'utf8'), '[Timer]\nOnCalendar=daily\n');

    const gone = home.lifeboat([p.dir, 'unschedule'], env);
    assert.equal(gone.code, 0, gone.stderr);
    assert.ok(!existsSync(service) && !existsSync(timer));
    assert.match(home.lifeboat([p.dir, 'unschedule'], env).stdout, /had no schedule/);
  });

  test('a bad schedule is one clear line and exit 255; nothing is written', () => {
    const p = profile('typo');
    const dir = join(home.root, 'cron.d-typo');
    mkdirSync(dir, { recursive: true });
    for (const args of [['61 * * * *'], ['daily', '--time', '25:00'], ['0 0 1 * mon', '--systemd'], ['* * * *']]) {
      const r = home.lifeboat([p.dir, 'schedule', ...args, ...(args.includes('--systemd') ? [] : ['--cron'])], { LIFEBOAT_CRON_DIR: dir, LIFEBOAT_SYSTEMD_DIR: dir });
      assert.equal(r.code, 255, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('lifeboat:')).length, 1, r.stderr);
    }
    assert.deepEqual(readdirSync(dir), []);
  });
});

interface Received { method: string; path: string; body: string }

/** The mail as read: nodemailer sends long lines quoted-printable (RFC 2045 soft breaks and =XX). */
function quotedPrintable(raw: string): string {
  return raw.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

describe('notifications', () => {
  const mails: { envelopeTo: string[]; raw: string }[] = [];
  const auths: { username?: string; password?: string }[] = [];
  const requests: Received[] = [];
  let smtp: SMTPServer;
  let http: Server;
  let smtpPort = 0;
  let httpPort = 0;
  let closedPort = 0;

  before(async () => {
    smtp = new SMTPServer({
      // STARTTLS stays offered, with smtp-server's self-signed certificate, as a local mail server's snakeoil one
      authOptional: true, allowInsecureAuth: true, logger: false,
      onAuth(auth, _session, done) { auths.push({ username: auth.username, password: auth.password ?? undefined }); done(null, { user: auth.username }); },
      onData(stream, session, done) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => { mails.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), raw: quotedPrintable(Buffer.concat(chunks).toString()) }); done(); });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpPort = (smtp.server.address() as AddressInfo).port;
    http = createHttpServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(chunks).toString() });
        res.statusCode = req.url?.startsWith('/broken') ? 500 : 200;
        res.end('OK');
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpPort = (http.address() as AddressInfo).port;
    // a port nobody listens on: bound, read, closed
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });
  after(async () => {
    await new Promise((resolve) => smtp.close(() => resolve(undefined)));
    await new Promise((resolve) => http.close(resolve));
  });

  test('a failed run: the SMTP server gets the mail with the error and the profile, the webhook the JSON, the ping start and fail', async () => {
    const p = profile('alerts', `NOTIFY_EMAIL=ops@example.org
NOTIFY_SMTP='smtp://mailer:s3cr3t-pw@127.0.0.1:${smtpPort}'
NOTIFY_FROM=backup@host.example
NOTIFY_WEBHOOK='http://127.0.0.1:${httpPort}/hook/tok123'
NOTIFY_PING='http://127.0.0.1:${httpPort}/ping/uuid-1'`, join(home.root, 'gone-source'));
    const r = await home.lifeboatAsync([p.dir, 'run-routine']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /does not exist/);
    assert.doesNotMatch(r.stderr, /notification failed/);

    assert.equal(mails.length, 1);
    const mail = mails[0];
    assert.deepEqual(mail.envelopeTo, ['ops@example.org']);
    assert.match(mail.raw, /^Subject: Lifeboat: backup of 'alerts' on .* FAILED \(exit code 1\)/m);
    assert.match(mail.raw, /^From: backup@host\.example/m);
    assert.match(mail.raw, /Profile:\s+alerts/);
    assert.match(mail.raw, /Backup source directory \S*gone-source does not exist/);
    assert.deepEqual(auths, [{ username: 'mailer', password: 's3cr3t-pw' }], 'the credentials of NOTIFY_SMTP are used');

    const hook = requests.filter((q) => q.path === '/hook/tok123');
    assert.equal(hook.length, 1);
    const json = JSON.parse(hook[0].body);
    assert.equal(json.profile, 'alerts');
    assert.equal(json.status, 'failure');
    assert.equal(json.exitCode, 1);
    assert.match(json.errors, /does not exist/);
    assert.equal(json.logFile, p.log);

    const pings = requests.filter((q) => q.path.startsWith('/ping/uuid-1'));
    assert.deepEqual(pings.map((q) => q.path), ['/ping/uuid-1/start', '/ping/uuid-1/fail']);
    assert.match(pings[1].body, /does not exist/);
    for (const text of [r.stderr, r.stdout, readFileSync(p.log, 'utf8')]) assert.doesNotMatch(text, /s3cr3t-pw/);
  });

  test('notifications that fail are reported, and never change the exit code nor hide the error; no secret is printed', async () => {
    const conf = (pingId: string) => `NOTIFY_EMAIL=ops@example.org
NOTIFY_SMTP='smtp://mailer:s3cr3t-pw@127.0.0.1:${closedPort}'
NOTIFY_WEBHOOK='http://127.0.0.1:${httpPort}/broken/tok456'
NOTIFY_PING='http://127.0.0.1:${closedPort}/${pingId}'
NOTIFY_ON=always`;
    const failing = profile('alerts-down', conf('ping-a'), join(home.root, 'gone-source'));
    const r = await home.lifeboatAsync([failing.dir, 'run-routine']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not exist/);
    for (const channel of ['e-mail', 'webhook', 'ping']) assert.match(r.stderr, new RegExp(`the ${channel} notification failed`));
    assert.match(r.stderr, /answered 500/);
    const good = profile('alerts-ok', conf('ping-b'));
    const ok = await home.lifeboatAsync([good.dir, 'run-routine']);
    assert.equal(ok.code, 0, 'the backup succeeded; failing notifications do not make it fail');
    assert.match(ok.stderr, /the e-mail notification failed/);
    for (const run of [r, ok]) {
      for (const secret of ['s3cr3t-pw', 'tok456', 'ping-a', 'ping-b']) assert.ok(!run.stderr.includes(secret), `${secret} printed:\n${run.stderr}`);
    }
    assert.match(readFileSync(good.log, 'utf8'), /the webhook notification failed/);
  });

  test('a good run: the success ping always; mail and webhook only with NOTIFY_ON=always', async () => {
    const quiet = profile('fine', `NOTIFY_EMAIL=ops@example.org
NOTIFY_SMTP='smtp://127.0.0.1:${smtpPort}'
NOTIFY_WEBHOOK='http://127.0.0.1:${httpPort}/hook/fine'
NOTIFY_PING='http://127.0.0.1:${httpPort}/ping/fine'`);
    const mailsBefore = mails.length;
    const r = await home.lifeboatAsync([quiet.dir, 'run-routine']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(mails.length, mailsBefore, 'no mail on success by default');
    assert.deepEqual(requests.filter((q) => q.path.includes('fine')).map((q) => q.path), ['/ping/fine/start', '/ping/fine']);

    const loud = profile('fine-always', `NOTIFY_EMAIL=ops@example.org
NOTIFY_SMTP='smtp://127.0.0.1:${smtpPort}'
NOTIFY_WEBHOOK='http://127.0.0.1:${httpPort}/hook/always'
NOTIFY_ON=always`);
    const r2 = await home.lifeboatAsync([loud.dir, 'run-routine']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(mails.length, mailsBefore + 1);
    assert.match(mails.at(-1)!.raw, /^Subject: Lifeboat: backup of 'fine-always' on .* succeeded/m);
    const hook = requests.filter((q) => q.path === '/hook/always');
    assert.equal(JSON.parse(hook[0].body).status, 'success');
  });

  test('a bad NOTIFY_ setting stops the run before anything runs (255)', () => {
    const p = profile('bad-notify', 'NOTIFY_ON=sometimes');
    const r = home.lifeboat([p.dir, 'run-routine']);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /NOTIFY_ON 'sometimes'/);
    assert.ok(!existsSync(p.target));
  });
});

describe('check and the stale warning of status', () => {
  test('no backup: exit 1 and one line; a fresh one: exit 0 and one line, at any VERBOSITY', () => {
    const p = profile('watched', 'VERBOSITY=warning');
    const none = home.lifeboat([p.dir, 'check']);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, "NO BACKUP: profile 'watched' has no complete backup on its target\n");
    assert.equal(home.lifeboat([p.dir, 'backup']).code, 0);
    const fresh = home.lifeboat([p.dir, 'check']);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stdout, /^OK: profile 'watched' last backup \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}, \d+m ago \(max age 26h\)\n$/);
    const status = home.lifeboat([p.dir, 'status']);
    assert.equal(status.code, 0);
    assert.doesNotMatch(status.stderr, /WARNING: (STALE|NO BACKUP)/, 'a fresh backup: no age warning');
    assert.match(status.stderr, /WARNING: no recovery drill has passed/, 'but no drill yet');
    const bad = home.lifeboat([p.dir, 'check', '--max-age', 'soon']);
    assert.equal(bad.code, 255);
    assert.match(bad.stderr, /max age 'soon' is not an age/);
  });

  test('a backup made three days ago (a real backup, its clock set back): STALE, exit 1; status warns; --max-age 4D is OK', async () => {
    const p = profile('stale');
    const threeDaysAgo = Date.now() - 3 * 86400_000;
    const quiet = { notice: () => undefined, warning: () => undefined, info: () => undefined };
    const target = await openTarget(`file://${p.target}`, { archiveDir: join(home.root, 'arch'), name: 'stale', sync: true, ...quiet });
    await backupToTarget({
      source: join(home.root, 'sources', 'stale'), target, mode: 'full', compress: true, volumeSizeBytes: 200 * 1024 * 1024,
      tempdir: join(home.root, 'tmp'), maxBlockSize: 2048, allowSourceMismatch: false, dryRun: false, clock: () => threeDaysAgo, ...quiet,
    });
    await target.backend.close();
    const r = home.lifeboat([p.dir, 'check']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^STALE: profile 'stale' last backup .* \d{4}, 3d 0h ago, older than the max age 26h\n$/);
    assert.equal(home.lifeboat([p.dir, 'check', '--max-age', '4D']).code, 0);
    assert.equal(home.lifeboat([p.dir, 'check'], { CHECK_MAX_AGE: '4D' }).code, 0, 'CHECK_MAX_AGE from the conf or environment');
    const status = home.lifeboat([p.dir, 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Chain start time/);
    assert.match(status.stderr, /^WARNING: STALE: profile 'stale' last backup .*3d 0h ago/m);
  });
});

describe('cost', () => {
  test('issue 11\'s example exactly: a full every 3 months kept 2 years at $0.005/GB-month, downloaded twice a year at $0.05/GB', () => {
    const p = profile('costly', `${classic}
PRICE_GB_MONTH=0.005
PRICE_GB_DOWNLOAD=0.05
DRILLS_PER_YEAR=2`);
    const r = home.lifeboat([p.dir, 'cost']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /each GB is stored 8 times; 2 restore drills a year/);
    assert.ok(r.stdout.includes('$0.48 + $0.10 = $0.58 per GB per year'), r.stdout);
    assert.match(r.stdout, /no complete backup yet/);
  });

  test('on a real archive the estimate uses the sizes measured on the target', () => {
    const p = profile('measured', `${classic}
PRICE_GB_MONTH=0.005
PRICE_GB_DOWNLOAD=0.05`);
    assert.equal(home.lifeboat([p.dir, 'backup']).code, 0);
    const fullBytes = readdirSync(p.target).filter((n) => n.startsWith('duplicity-full')).reduce((sum, n) => sum + statSync(join(p.target, n)).size, 0);
    const json = JSON.parse(home.lifeboat([p.dir, 'cost', '--json']).stdout);
    assert.equal(json.measured.fullBytes, fullBytes);
    assert.equal(json.retention.copiesStored, 8);
    const e = json.estimates[0];
    assert.ok(Math.abs(e.profilePerYear.storedGb - 8 * fullBytes / 1e9) < 1e-12);
    assert.ok(Math.abs(e.profilePerYear.storage - 8 * fullBytes / 1e9 * 0.005 * 12) < 1e-12);

    writeFileSync(join(home.root, 'sources', 'measured', 'etc', 'new'), 'x'.repeat(50_000));
    assert.equal(home.lifeboat([p.dir, 'backup']).code, 0);
    const after = JSON.parse(home.lifeboat([p.dir, 'cost', '--json']).stdout);
    assert.equal(after.measured.incrementalSets, 1);
    assert.ok(after.measured.incrementalBytesPerMonth > 0);
    assert.ok(after.estimates[0].profilePerYear.storedGb > e.profilePerYear.storedGb);
    const text = home.lifeboat([p.dir, 'cost']).stdout;
    assert.match(text, /this profile: [\d.]+ MB stored -> \S+ \+ \S+ drills = \S+ per year/);
  });

  test('without prices in the conf: Backblaze B2, Amazon S3 and Wasabi, each with the date its price was read', () => {
    const p = profile('providers', classic);
    const r = home.lifeboat([p.dir, 'cost']);
    assert.equal(r.code, 0, r.stderr);
    for (const name of ['Backblaze B2', 'Amazon S3', 'Wasabi']) assert.match(r.stdout, new RegExp(`${name}.*price read \\d{4}-\\d\\d-\\d\\d`));
    const unlimited = home.lifeboat([profile('unlimited', 'MAX_FULLBKP_AGE=1M').dir, 'cost']);
    assert.equal(unlimited.code, 255);
    assert.match(unlimited.stderr, /grow without end/);
  });
});
