// Until encryption lands, duplicity's encrypted archives (the samples' enc/, passphrase "test") meet
// one clear line and exit 45 from every command that would decrypt, and nothing is restored.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { lifeboatBin, runProgram } from '../support/run.js';
import { samplesDir } from '../support/samples.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-encrypted-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('encrypted archives are refused with exit 45 and no stack trace', async (t) => {
  const sample = join(samplesDir(), 'enc');
  if (!existsSync(sample)) throw new Error(`duplicity samples not found at ${sample} (set LIFEBOAT_SAMPLES)`);
  const target = join(dir, 'enc');
  cpSync(sample, target, { recursive: true });
  const source = join(dir, 'src');
  mkdirSync(source);
  writeFileSync(join(source, 'a'), 'a\n');
  const url = `file://${target}`;
  const cases: [string, string[]][] = [
    ['restore', ['restore', url, join(dir, 'out')]],
    ['verify', ['verify', url, source]],
    ['list-current-files', ['list-current-files', url]],
    ['incremental', ['incremental', '--no-encryption', source, url]],
  ];
  for (const [name, args] of cases) {
    await t.test(name, async () => {
      const r = await runProgram(process.execPath, [lifeboatBin, 'duplicity', ...args, '--archive-dir', join(dir, `cache-${name}`)]);
      assert.equal(r.code, 45, r.stderr);
      assert.match(r.stderr, /^lifeboat: duplicity-.*\.gpg: the archive is encrypted, and Lifeboat cannot decrypt yet\nhint: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }
  assert.ok(!existsSync(join(dir, 'out')));
});
