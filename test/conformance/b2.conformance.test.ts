// The shared conformance suite for b2:// against B2ProtocolTestServer: a protocol test server written
// from Backblaze's published B2 API documentation, NOT Backblaze itself (B2 has no local emulator).
// It runs twice: once plainly, once with a hostile server (tokens expire every few calls, list pages
// of two files), and after each run the server must have seen no protocol violation and no
// unfinished large file may be left.
import assert from 'node:assert/strict';
import { openBackend } from '../../src/backend/registry.js';
import { backendConformance } from './suite.js';
import { B2ProtocolTestServer, type B2ServerOptions } from '../servers/b2-server.js';

const MiB = 1024 * 1024;

function b2Conformance(label: string, extra: Partial<B2ServerOptions>): void {
  const server = new B2ProtocolTestServer({
    keys: [{ keyId: '0012conformancekey', applicationKey: 'K005conformance-application-key' }],
    buckets: ['lifeboat-conformance'],
    // B2's real minimum part size, so the suite's 24 MiB file is a large file of five parts
    recommendedPartSize: 5 * MiB,
    absoluteMinimumPartSize: 5 * MiB,
    ...extra,
  });
  backendConformance(`b2:// (B2 native API) against a protocol test server written from B2's docs, not Backblaze${label}`, {
    open: async () => {
      const apiUrl = await server.start();
      return openBackend('b2://0012conformancekey@lifeboat-conformance/backups/host%20one/', {
        env: { FTP_PASSWORD: 'K005conformance-application-key', LIFEBOAT_B2_API_URL: apiUrl },
        options: new Map(),
      });
    },
    cleanup: async () => {
      try {
        assert.deepEqual(server.violations, [], 'the backend kept to the B2 protocol');
        assert.deepEqual(server.unfinishedLargeFiles(), [], 'every failed large file was cancelled');
        assert.ok((server.calls.get('b2_finish_large_file') ?? 0) >= 1, 'the big file went up as a large file');
      } finally {
        await server.stop();
      }
    },
  });
}

b2Conformance('', {});
b2Conformance(', tokens expiring every 5 calls, list pages of 2', { tokenLifetimeCalls: 5, listPageLimit: 2 });
