// When the walk may skip access(R_OK): only for root with its override capabilities, in the initial
// user namespace (walk.test.ts checks the walk itself as nobody and as root without the capabilities).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capabilitiesOverrideReads } from './read-permission.js';

const status = (permitted: string) => `Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t${permitted}\nCapEff:\t${permitted}\n`;
const initialMap = '         0          0 4294967295\n';

test('root with CAP_DAC_READ_SEARCH or CAP_DAC_OVERRIDE in the initial namespace is never refused a read', () => {
  assert.equal(capabilitiesOverrideReads({ uid: 0, status: status('000001ffffffffff'), uidMap: initialMap }), true);
  assert.equal(capabilitiesOverrideReads({ uid: 0, status: status('0000000000000004'), uidMap: initialMap }), true); // read_search alone
  assert.equal(capabilitiesOverrideReads({ uid: 0, status: status('0000000000000002'), uidMap: initialMap }), true); // override alone
});

test('another user, root without both capabilities, or root in a user namespace must ask', () => {
  assert.equal(capabilitiesOverrideReads({ uid: 1000, status: status('000001ffffffffff'), uidMap: initialMap }), false);
  assert.equal(capabilitiesOverrideReads({ uid: 0, status: status('000001fffffffff9'), uidMap: initialMap }), false);
  assert.equal(capabilitiesOverrideReads({ uid: 0, status: status('000001ffffffffff'), uidMap: '0 100000 65536\n' }), false);
  assert.equal(capabilitiesOverrideReads({ uid: 0, status: 'Name:\tnode\n', uidMap: initialMap }), false);
});
