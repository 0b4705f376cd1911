import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duplicityInvocation, previewLine, withoutSelection, type DuplicityCommand } from './commands.js';
import { pathsOf } from './locate.js';
import type { ProfileSettings } from './settings.js';
import { targetCredentials } from './settings.js';

const paths = pathsOf('main', '/root/.duply/main');
function settings(over: Partial<ProfileSettings> = {}): ProfileSettings {
  return {
    source: '/tmp/src', target: targetCredentials('file:///tmp/target', undefined, undefined), encryption: { mode: 'disabled' },
    verbosity: '4', tempDir: '/tmp', archiveName: 'duply_main', duplParams: [], duplParamsText: '', lockWaitSeconds: 600, warnings: [], keyFiles: [], gpgExport: true, ...over,
  };
}
const line = (command: DuplicityCommand, params: string[] = [], options: string[] = [], s = settings()) =>
  previewLine(duplicityInvocation({ command, settings: s, paths, options, params }), s, command);

test("--preview prints duply 2.4.1's verified lines byte for byte (specs/duply.md §8.5)", () => {
  assert.equal(line('bkp'), "TMPDIR='/tmp'      duplicity  --name duply_main --no-encryption  --verbosity '4'        --exclude-filelist /root/.duply/main/exclude /tmp/src 'file:///tmp/target'");
  assert.equal(line('status'), "TMPDIR='/tmp'      duplicity  collection-status --name duply_main --no-encryption  --verbosity '4'        'file:///tmp/target'");
  assert.equal(line('list'), "TMPDIR='/tmp'      duplicity  list-current-files --name duply_main --no-encryption  --verbosity '4'        'file:///tmp/target'");
  assert.equal(line('verify'), "TMPDIR='/tmp'      duplicity  verify --name duply_main --no-encryption  --verbosity '4'        --exclude-filelist /root/.duply/main/exclude 'file:///tmp/target' /tmp/src");
  assert.equal(line('restore', ['/tmp/r1']), "TMPDIR='/tmp'      duplicity  --name duply_main --no-encryption  --verbosity '4'        -t now 'file:///tmp/target' /tmp/r1");
  assert.equal(line('fetch', ['/tmp/r1', '/tmp/r2', '3D'], ['--force']), "TMPDIR='/tmp'      duplicity  --name duply_main --no-encryption  --verbosity '4'        --restore-time 3D --force --file-to-restore /tmp/r1 'file:///tmp/target' /tmp/r2");
  assert.equal(line('purge', ['1Y']), "TMPDIR='/tmp'      duplicity  remove-older-than 1Y --name duply_main --no-encryption  --verbosity '4'        'file:///tmp/target'");
});

test('--preview never shows a password', () => {
  const s = settings({ target: targetCredentials('sftp://bob:s3cret@host/dir', undefined, undefined), encryption: { mode: 'symmetric', passphrase: 'sym pass' } });
  const text = line('bkp', [], [], s);
  assert.doesNotMatch(text, /s3cret|sym pass/);
  assert.match(text, /PASSPHRASE='\*\*\*'/);
  assert.match(text, /FTP_PASSWORD='\*\*\*'/);
  assert.match(text, /'sftp:\/\/bob@host\/dir'/);
});

test('status, restore and fetch drop the selection options of DUPL_PARAMS (specs/duply.md §8.3 example)', () => {
  const words = ['--exclude-if-present', '.duplicity-ignore', '--full-if-older-than', '1M', '--volsize', '50', '--include', '/tmp/src/a b',
    '--exclude=/tmp/src/x', '--exclude-regexp', 'foo.*', '--asynchronous-upload'];
  assert.deepEqual(withoutSelection(words), ['--exclude-if-present', '.duplicity-ignore', '--full-if-older-than', '1M', '--volsize', '50', '--asynchronous-upload']);
  const s = settings({ duplParams: words });
  assert.deepEqual(duplicityInvocation({ command: 'bkp', settings: s, paths, options: [], params: [] }).duplParams, words);
});

test('missing parameters are fatal with duply words', () => {
  assert.throws(() => line('restore'), /Missing parameter target_path for restore/);
  assert.throws(() => line('purge'), /Missing parameter <max_age>/);
  assert.equal(line('purge', [], [], settings({ maxAge: '2Y' })).includes('remove-older-than 2Y'), true);
});
