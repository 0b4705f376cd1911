import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMain } from '../../test/support/run-main.js';
import { parseVerbosity } from './verbosity.js';
import { version } from './main.js';

test('main() prints help and the version', async () => {
  const help = await runMain(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: lifeboat/);
  assert.doesNotMatch(help.stdout, /rdiff/, 'developer tools stay out of the main help');
  const v = await runMain(['--version']);
  assert.equal(v.code, 0);
  assert.equal(v.stdout, `lifeboat ${version()}\n`);
  assert.match(version(), /^\d+\.\d+\.\d+/);
});

test('main() rejects unknown commands and options with one line, a hint and exit 2', async () => {
  for (const argv of [['--frobnicate'], [], ['rdiff', '--frobnicate'], ['rdiff', 'sideways'], ['-v', 'loud', 'help']]) {
    const r = await runMain(argv);
    assert.equal(r.code, 2, argv.join(' '));
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0], /^lifeboat: /);
    assert.match(lines[1], /^hint: /);
    assert.equal(r.stdout, '');
  }
});

test('a lone unknown word is read as a profile without a command: duply exit 255, one line and a hint', async () => {
  const r = await runMain(['frobnicate']);
  assert.equal(r.code, 255);
  assert.match(r.stderr, /^lifeboat: Missing or wrong parameters\. .*Your command was 'frobnicate'\.\nhint: .*lifeboat duplicity/);
  assert.equal(r.stdout, '');
});

test('main() shows a stack trace only at debug verbosity', async () => {
  const quiet = await runMain(['rdiff', 'patch', '/nonexistent/basis', '/nonexistent/delta', '/tmp/x']);
  assert.equal(quiet.code, 23);
  assert.match(quiet.stderr, /^lifeboat: \/nonexistent\/basis: no such file or directory\nhint: check the path\n$/);
  for (const v of [['-v', 'debug'], ['-v9'], ['--verbosity=d']]) {
    const loud = await runMain([...v, 'rdiff', 'patch', '/nonexistent/basis', '/nonexistent/delta', '/tmp/x']);
    assert.equal(loud.code, 23);
    assert.match(loud.stderr, /\n\s+at /, `${v.join(' ')} shows the stack`);
  }
});

test('parseVerbosity() takes duplicity\'s digits and letters and duply\'s words', () => {
  const cases: [string, number][] = [
    ['0', 0], ['9', 9], ['5', 5], ['e', 0], ['w', 2], ['n', 3], ['i', 5], ['d', 9],
    ['error', 0], ['Warning', 2], ['notice', 3], ['INFO', 5], ['debug', 9],
  ];
  for (const [text, level] of cases) assert.equal(parseVerbosity(text), level, text);
  for (const bad of ['', '10', 'x', 'loud', '-1']) assert.throws(() => parseVerbosity(bad), /bad verbosity/);
});

test('lifeboat rdiff signature|delta|patch round-trips through standard streams', async () => {
  const data = Buffer.from('hello world\n'.repeat(300));
  const sig = await runMainBinary(['rdiff', 'signature', '-b', '512'], data);
  assert.equal(sig.code, 0);
  assert.equal(sig.stdout.readUInt32BE(0), 0x72730136);
  assert.equal(sig.stdout.length, 12 + 12 * Math.ceil(data.length / 512));
  const bad = await runMain(['rdiff', 'signature', '-H', 'blake2']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /hash "blake2" is not supported/);
  const misplaced = await runMain(['rdiff', 'delta', '-b', '512', 'sig']);
  assert.equal(misplaced.code, 2);
  assert.match(misplaced.stderr, /--block-size applies to "signature" only/);
});

async function runMainBinary(argv: string[], stdin: Buffer) {
  const { Readable, Writable } = await import('node:stream');
  const { main } = await import('./main.js');
  const parts: Buffer[] = [];
  let stderr = '';
  const code = await main(argv, {
    stdout: new Writable({ write(c, _e, done) { parts.push(Buffer.from(c)); done(); } }),
    stderr: new Writable({ write(c, _e, done) { stderr += c; done(); } }),
    stdin: Readable.from([stdin]),
  });
  return { code, stdout: Buffer.concat(parts), stderr };
}
