// A disk labelled for another profile, taken over with `copy --force` (the refusal's own hint): the
// backups it holds are not this profile's, so this profile's retention settings must not delete them.
// --force adds this profile's backups there; the retention applies to the disk from the next copy on.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { profileHome } from '../support/profile-env.js';
import { randomBytes } from '../support/random.js';

const home = profileHome('offline-shared-disk');
after(() => rmSync(home.root, { recursive: true, force: true }));

function backedUp(name: string, extra = ''): string {
  const source = join(home.root, `${name}-src`);
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, `${name}.bin`), randomBytes(name.length, 50_000));
  const profile = home.profile(name, `GPG_KEY=disabled\nSOURCE='${source}'\nTARGET='file://${join(home.root, `${name}-target`)}'\n${extra}`);
  const r = home.lifeboat([profile, 'backup']);
  assert.equal(r.code, 0, r.stderr);
  return profile;
}

const manifests = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.manifest')).sort();

test("copy --force onto a disk labelled for another profile deletes none of that profile's backups", async () => {
  const disk = join(home.root, 'disk');
  const first = backedUp('first');
  const c1 = home.lifeboat([first, 'copy', `file://${disk}`]);
  assert.equal(c1.code, 0, c1.stderr);
  const before = manifests(disk);
  assert.equal(before.length, 1);
  await new Promise((r) => setTimeout(r, 1100)); // a later full: the other profile's is the older one
  const second = backedUp('second', 'MAX_FULL_BACKUPS=1\n');
  const refused = home.lifeboat([second, 'copy', `file://${disk}`]);
  assert.equal(refused.code, 255, refused.stderr);
  assert.match(refused.stderr, /holds the copies of profile 'first'/);
  const taken = home.lifeboat([second, 'copy', `file://${disk}`, '--force']);
  assert.equal(taken.code, 0, taken.stderr);
  const after = manifests(disk);
  assert.ok(before.every((m) => after.includes(m)), `the first profile's backup stays on the disk: ${after.join(' ')}`);
  assert.equal(after.length, 2, after.join(' '));
  assert.match(taken.stdout + taken.stderr, /retention settings are not applied to .* this time: it held the copies of profile 'first'/);
});
