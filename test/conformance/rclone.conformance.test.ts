// The shared conformance suite through rclone:// with the real rclone program and a local remote
// defined only in the environment (RCLONE_CONFIG_<NAME>_TYPE=local), as a user's credentials would be;
// then duplicity's URL reading, a missing remote, and that the temporary names stay hidden.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, test } from 'node:test';
import { openBackend } from '../../src/backend/registry.js';
import { BackendError } from '../../src/backend/errors.js';
import type { BackendContext } from '../../src/backend/url.js';
import { hasProgram, requireProgram } from '../support/programs.js';
import { backendConformance, bufferSource } from './suite.js';

const root = mkdtempSync(join(tmpdir(), 'lifeboat-rclone-conformance-'));
after(() => rmSync(root, { recursive: true, force: true }));

function context(extra: NodeJS.ProcessEnv = {}): BackendContext {
  return {
    env: { PATH: process.env.PATH, HOME: root, RCLONE_CONFIG: join(root, 'no-rclone.conf'), RCLONE_CONFIG_LOCALTEST_TYPE: 'local', ...extra },
    options: new Map(),
  };
}

if (!hasProgram('rclone')) {
  test('rclone backend needs rclone', (t) => { requireProgram(t, 'rclone', 'rclone'); });
} else {
  backendConformance('rclone:// (rclone local remote)', {
    open: () => openBackend(`rclone://localtest://${join(root, 'target dir').slice(1).replace(/ /g, '%20')}`, context()),
  });

  describe('rclone:// specifics', () => {
    it('reads remote:/dir as relative to the remote\'s root and remote://dir as absolute, as duplicity does', async () => {
      // an alias remote rooted in the temp dir: "rclone://aliased:/sub" must land in <root>/aliased-root/sub
      const aliased = context({ RCLONE_CONFIG_ALIASED_TYPE: 'alias', RCLONE_CONFIG_ALIASED_REMOTE: `localtest:${join(root, 'aliased-root')}` });
      const relative = await openBackend('rclone://aliased:/sub', aliased);
      await relative.put('r', bufferSource(Buffer.from('relative')));
      assert.equal(readFileSync(join(root, 'aliased-root', 'sub', 'r'), 'utf8'), 'relative');
      const absolute = await openBackend(`rclone://localtest://${root.slice(1)}/abs`, context());
      await absolute.put('a', bufferSource(Buffer.from('absolute')));
      assert.equal(readFileSync(join(root, 'abs', 'a'), 'utf8'), 'absolute');
    });

    it('says which remote is missing from the config, with a hint, and lists nothing of a missing dir', async () => {
      const missing = await openBackend('rclone://nosuchremote:/x', context());
      await assert.rejects(async () => { for await (const _ of missing.list()) { /* nothing */ } }, (err: unknown) => {
        assert.ok(err instanceof BackendError, String(err));
        assert.match(err.message, /didn't find section in config file/);
        assert.match(err.hint ?? '', /RCLONE_CONFIG_<NAME>_TYPE/);
        return true;
      });
      const empty = await openBackend(`rclone://localtest://${root.slice(1)}/never-made`, context());
      const names: string[] = [];
      for await (const { name } of empty.list()) names.push(name);
      assert.deepEqual(names, []);
      assert.ok(!existsSync(join(root, 'never-made')));
    });

    it('refuses remote settings in the URL, where they would show in process arguments', async () => {
      await assert.rejects(openBackend('rclone://:sftp,host=h,pass=secret-Pass-771:/x', context()), (err: unknown) => {
        assert.match((err as Error).message, /remote must be a name from rclone's config/);
        assert.doesNotMatch((err as Error).message, /secret-Pass-771/);
        return true;
      });
    });

    it('takes credentials from a config file named by RCLONE_CONFIG in the context', async () => {
      const conf = join(root, 'rclone.conf');
      writeFileSync(conf, '[fromfile]\ntype = local\n');
      const backend = await openBackend(`rclone://fromfile://${root.slice(1)}/from-file`, context({ RCLONE_CONFIG: conf }));
      await backend.put('f', bufferSource(Buffer.from('file config')));
      assert.equal(readFileSync(join(root, 'from-file', 'f'), 'utf8'), 'file config');
    });
  });
}
