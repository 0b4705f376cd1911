// Name lookups follow getpwuid/getpwnam semantics: first match wins, unknown ids give empty names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NameDatabase, resolveOwner, systemNames } from './names.js';

const passwd = [
  '# comment',
  'root:x:0:0:root:/root:/bin/bash',
  'alice:x:1000:1000::/home/alice:/bin/sh',
  'alias:x:1000:1000::/home/alias:/bin/sh', // same uid: getpwuid returns the first
  'alice:x:1001:1001::/home/other:/bin/sh', // same name: getpwnam returns the first
  '+nisuser::::::',
  'broken:x:notanumber:0::/:/bin/sh',
  '',
].join('\n');
const group = ['root:x:0:', 'staff:x:50:alice', 'alice:x:1000:'].join('\n');

test('NameDatabase maps ids to names and back, first entry winning', () => {
  const db = NameDatabase.parse(passwd, group);
  assert.equal(db.userName(0), 'root');
  assert.equal(db.userName(1000), 'alice');
  assert.equal(db.uidOf('alice'), 1000);
  assert.equal(db.uidOf('alias'), 1000);
  assert.equal(db.groupName(50), 'staff');
  assert.equal(db.gidOf('staff'), 50);
});

test('unknown ids give "", unknown or empty names give undefined; NIS and broken lines are ignored', () => {
  const db = NameDatabase.parse(passwd, group);
  assert.equal(db.userName(1234), '');
  assert.equal(db.groupName(5678), '');
  assert.equal(db.uidOf(''), undefined);
  assert.equal(db.uidOf('+nisuser'), undefined);
  assert.equal(db.uidOf('broken'), undefined);
  assert.equal(db.gidOf('nobody-here'), undefined);
});

test('resolveOwner: the name wins, the numeric id is the fallback, numericOwner uses ids only', () => {
  const db = NameDatabase.parse(passwd, group);
  const owner = { uid: 4321, gid: 8765, uname: 'alice', gname: 'staff' };
  assert.deepEqual(resolveOwner(owner, db), { uid: 1000, gid: 50 });
  assert.deepEqual(resolveOwner({ ...owner, uname: 'ghost', gname: '' }, db), { uid: 4321, gid: 8765 });
  assert.deepEqual(resolveOwner(owner, db, true), { uid: 4321, gid: 8765 });
});

test('load() treats missing files as empty; systemNames() reads the local files once', async () => {
  const empty = await NameDatabase.load({ passwd: '/nonexistent/passwd', group: '/nonexistent/group' });
  assert.equal(empty.userName(0), '');
  const first = await systemNames();
  assert.equal(first.userName(0), 'root');
  assert.equal(first.gidOf('root'), 0);
  assert.equal(await systemNames(), first);
});
