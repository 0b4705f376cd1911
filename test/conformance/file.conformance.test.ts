import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../../src/backend/registry.js';
import { backendConformance } from './suite.js';

const root = mkdtempSync(join(tmpdir(), 'lifeboat-file-conformance-'));

backendConformance('file://', {
  open: () => openBackend(`file://${join(root, 'target dir')}`),
  cleanup: async () => rmSync(root, { recursive: true, force: true }),
});
