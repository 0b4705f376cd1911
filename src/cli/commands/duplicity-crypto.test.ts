// Which passphrase opens what, as duplicity 0.8's get_passphrase decides (docs/encryption.md#signing):
// SIGN_PASSPHRASE, PASSPHRASE reused for a signing key that also encrypts (and the other way round when
// reading), one passphrase for symmetric + signed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LifeboatError } from '../../errors/lifeboat-error.js';
import { parseDuplicityArgv } from '../duplicity-argv.js';
import { cryptoSettings } from './duplicity.js';

const settingsFor = (args: string[], env: NodeJS.ProcessEnv, backingUp: boolean) => {
  const notices: string[] = [];
  const s = cryptoSettings(parseDuplicityArgv([...args, 'src', 'file:///t']).options, env, backingUp, (l) => notices.push(l));
  return { pass: s.passphrase, sign: s.signPassphrase, notices };
};

test('backups: SIGN_PASSPHRASE first; PASSPHRASE when the signing key also encrypts (same id) or the archive is symmetric', () => {
  assert.deepEqual(settingsFor(['--encrypt-key', 'A', '--sign-key', 'A'], { PASSPHRASE: 'p', SIGN_PASSPHRASE: 's' }, true), { pass: 'p', sign: 's', notices: [] });
  assert.deepEqual(settingsFor(['--encrypt-sign-key', 'A'], { PASSPHRASE: 'p' }, true), { pass: 'p', sign: 'p', notices: ['Reuse configured PASSPHRASE as SIGN_PASSPHRASE'] });
  assert.deepEqual(settingsFor(['--encrypt-key', 'A', '--sign-key', 'B'], { PASSPHRASE: 'p' }, true), { pass: 'p', sign: undefined, notices: [] });
  assert.deepEqual(settingsFor(['--sign-key', 'B'], { PASSPHRASE: 'p' }, true), { pass: 'p', sign: 'p', notices: [] });
  assert.deepEqual(settingsFor(['--sign-key', 'B'], { PASSPHRASE: 'p', SIGN_PASSPHRASE: '' }, true), { pass: 'p', sign: 'p', notices: [] }, 'an empty one: gpg gets PASSPHRASE');
  assert.deepEqual(settingsFor(['--encrypt-key', 'A', '--sign-key', 'B'], { SIGN_PASSPHRASE: '' }, true), { pass: undefined, sign: '', notices: [] }, 'an unprotected key');
  assert.throws(() => settingsFor(['--sign-key', 'B'], { PASSPHRASE: 'p', SIGN_PASSPHRASE: 's' }, true),
    (err: unknown) => err instanceof LifeboatError && err.exitCode === 23 && /must equal the encryption passphrase/.test(err.message));
});

test('reading: SIGN_PASSPHRASE stands in for PASSPHRASE only when the signing key also encrypts', () => {
  assert.deepEqual(settingsFor(['--encrypt-sign-key', 'A'], { SIGN_PASSPHRASE: 's' }, false), { pass: 's', sign: undefined, notices: ['Reuse configured SIGN_PASSPHRASE as PASSPHRASE'] });
  assert.deepEqual(settingsFor(['--sign-key', 'A'], { SIGN_PASSPHRASE: 's' }, false), { pass: undefined, sign: undefined, notices: [] });
  assert.deepEqual(settingsFor(['--encrypt-sign-key', 'A'], { PASSPHRASE: 'p', SIGN_PASSPHRASE: 's' }, false), { pass: 'p', sign: undefined, notices: [] });
});
