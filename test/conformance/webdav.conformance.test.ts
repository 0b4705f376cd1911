// The conformance suite against Debian's Apache 2 mod_dav (a real WebDAV server on 127.0.0.1):
// over http with Basic auth and the password in FTP_PASSWORD, over https with a self-signed
// certificate given by --ssl-cacert-file and Digest auth, the password in the URL.
import { test } from 'node:test';
import { openBackend } from '../../src/backend/registry.js';
import { hasProgram, requireProgram } from '../support/programs.js';
import { startApacheDav, type ApacheDav } from '../support/apache-dav.js';
import { backendConformance } from './suite.js';

if (!hasProgram('apache2') || !hasProgram('openssl')) {
  test('webdav conformance needs apache2 and openssl', (t) => {
    requireProgram(t, 'apache2', 'apache2');
    requireProgram(t, 'openssl', 'openssl');
  });
} else {
  let plain: ApacheDav | undefined;
  backendConformance('webdav:// (Apache mod_dav, Basic auth)', {
    open: async () => {
      plain = await startApacheDav({ user: 'backup', password: 'dav pässword:1' });
      return openBackend(`webdav://backup@127.0.0.1:${plain.port}/backups/host one`, {
        env: { FTP_PASSWORD: 'dav pässword:1' }, options: new Map(),
      });
    },
    cleanup: async () => { await plain?.stop(); },
  });

  let secure: ApacheDav | undefined;
  backendConformance('webdavs:// (Apache mod_dav over TLS, Digest auth)', {
    open: async () => {
      secure = await startApacheDav({ user: 'backup', password: 's3cret', auth: 'digest', tls: true });
      return openBackend(`webdavs://backup:s3cret@127.0.0.1:${secure.port}/deep/ly/nested`, {
        env: {}, options: new Map([['ssl-cacert-file', secure.certificateFile!]]),
      });
    },
    cleanup: async () => { await secure?.stop(); },
    bigFileSize: 8 * 1024 * 1024 + 17,
  });
}
