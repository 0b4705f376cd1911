// Encrypted archives from the command line: duplicity's sample enc/ (passphrase "test") restores with
// PASSPHRASE; without it, or with --no-encryption, every command that must decrypt meets one clear line
// (exit 31 / 45) and nothing is restored; a backup without PASSPHRASE, keys or --no-encryption is refused
// before anything is written (duplicity would prompt; Lifeboat runs from cron).
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { lifeboatBin, oracleEnv, runProgram } from '../support/run.js';
import { samplesDir } from '../support/samples.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-encrypted-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function envWith(passphrase: string | undefined): NodeJS.ProcessEnv {
  const env = { ...oracleEnv };
  delete env.PASSPHRASE;
  if (passphrase !== undefined) env.PASSPHRASE = passphrase;
  return env;
}

function sampleCopy(label: string): string {
  const sample = join(samplesDir(), 'enc');
  if (!existsSync(sample)) throw new Error(`duplicity samples not found at ${sample} (set LIFEBOAT_SAMPLES)`);
  const target = join(dir, label);
  cpSync(sample, target, { recursive: true });
  return `file://${target}`;
}

const lifeboat = (args: string[], passphrase?: string) => runProgram(process.execPath, [lifeboatBin, 'duplicity', ...args], envWith(passphrase));

test('the sample enc/ restores with PASSPHRASE=test, and the archive dir keeps plain manifests and gzipped signatures', async () => {
  const url = sampleCopy('enc-ok');
  const cache = join(dir, 'cache-ok');
  const out = join(dir, 'out-ok');
  const r = await lifeboat(['restore', '--name', 'c', '--archive-dir', cache, url, out], 'test');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(out, 'a.txt'), 'utf8').length > 0, true);
  const cached = readdirSync(join(cache, 'c')).sort();
  assert.ok(cached.length > 0 && cached.every((n) => n.endsWith('.manifest') || n.endsWith('.sigtar.gz')), cached.join('\n'));
  assert.match(readFileSync(join(cache, 'c', cached.find((n) => n.endsWith('.manifest'))!), 'latin1'), /^Hostname /);
  // list-current-files and collection-status now need no passphrase: the cache is plain
  const list = await lifeboat(['list-current-files', '--name', 'c', '--archive-dir', cache, url]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /a\.txt/);
});

test('without PASSPHRASE, or with --no-encryption, commands that decrypt fail clearly and restore nothing', async (t) => {
  const url = sampleCopy('enc-refused');
  const source = join(dir, 'src');
  mkdirSync(source);
  writeFileSync(join(source, 'a'), 'a\n');
  const cases: [string, string[], number, RegExp][] = [
    ['restore', ['restore', url, join(dir, 'out')], 31, /PASSPHRASE is not set/],
    ['verify', ['verify', url, source], 31, /PASSPHRASE is not set/],
    ['list-current-files', ['list-current-files', url], 31, /PASSPHRASE is not set/],
    ['incremental --no-encryption', ['incremental', '--no-encryption', source, url], 45, /encrypted, but --no-encryption was given/],
    ['restore --no-encryption', ['restore', '--no-encryption', url, join(dir, 'out')], 45, /encrypted, but --no-encryption was given/],
  ];
  for (const [name, args, code, message] of cases) {
    await t.test(name, async () => {
      const r = await lifeboat([...args, '--archive-dir', join(dir, `cache-${name.replace(/ /g, '')}`)]);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, /^lifeboat: duplicity-.*\.gpg: /);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /\nhint: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }
  assert.ok(!existsSync(join(dir, 'out')));
});

test('a backup without PASSPHRASE, --encrypt-key or --no-encryption is refused before anything is written', async () => {
  const source = join(dir, 'src-backup');
  mkdirSync(source);
  writeFileSync(join(source, 'a'), 'a\n');
  const target = join(dir, 'never');
  const r = await lifeboat(['full', source, `file://${target}`, '--archive-dir', join(dir, 'cache-never')]);
  assert.equal(r.code, 23, r.stderr);
  assert.match(r.stderr, /^lifeboat: encryption needs a passphrase or a key, and neither is set\nhint: set PASSPHRASE/);
  assert.ok(!existsSync(target) || readdirSync(target).length === 0);
});
