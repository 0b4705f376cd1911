import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSshOptions, splitWords } from './ssh-options.js';

test('reads the options duplicity users pass in --ssh-options', () => {
  const o = parseSshOptions('-oIdentityFile=/root/.ssh/backup -oPort=2222 -oUserKnownHostsFile=/etc/lb/known -oStrictHostKeyChecking=no', '/home/u');
  assert.deepEqual(o, {
    identityFiles: ['/root/.ssh/backup'],
    port: 2222,
    userKnownHostsFiles: ['/etc/lb/known'],
    strictHostKeyChecking: 'no',
  });
});

test('takes ssh\'s spellings: -o KEY VALUE, KEY=VALUE with spaces, -i, -p, quotes, ~ and any case', () => {
  const o = parseSshOptions(`-o "IdentityFile ~/.ssh/my key" -i ~/k2 -p 2200 -o 'userknownhostsfile=~/kh /etc/kh2' -o GlobalKnownHostsFile=/dev/null -o Compression=yes`, '/home/u');
  assert.deepEqual(o.identityFiles, ['/home/u/.ssh/my key', '/home/u/k2']);
  assert.equal(o.port, 2200);
  assert.deepEqual(o.userKnownHostsFiles, ['/home/u/kh', '/etc/kh2']);
  assert.deepEqual(o.globalKnownHostsFiles, ['/dev/null']);
});

test('the first value wins, as in ssh; identity files add up', () => {
  const o = parseSshOptions('-oPort=1 -oPort=2 -oStrictHostKeyChecking=accept-new -oStrictHostKeyChecking=no -i a -i b');
  assert.equal(o.port, 1);
  assert.equal(o.strictHostKeyChecking, 'accept-new');
  assert.deepEqual(o.identityFiles, ['a', 'b']);
});

test('bad values are errors, not silently ignored', () => {
  assert.throws(() => parseSshOptions('-oPort=http'), /bad port/);
  assert.throws(() => parseSshOptions('-oStrictHostKeyChecking=maybe'), /StrictHostKeyChecking/);
  assert.throws(() => parseSshOptions('-oIdentityFile="/x'), /unbalanced/);
  assert.throws(() => parseSshOptions('-i'), /needs a value/);
});

test('splits words as a shell does', () => {
  assert.deepEqual(splitWords(` a  'b c'"d \\"e"\\ f `), ['a', 'b cd "e f']);
  assert.deepEqual(splitWords(''), []);
});
