// The conformance suite against Azurite, the Azure Blob Storage emulator, on 127.0.0.1: once with
// duplicity's defaults (volumes up to 64 MiB in one Put Blob), once with a 1 MiB single-put limit
// and 1 MiB blocks, so big files and interrupted uploads go through staged blocks and a commit.
import { test } from 'node:test';
import { openBackend } from '../../src/backend/registry.js';
import { isCi } from '../support/programs.js';
import { azuriteAvailable, startAzurite, type Azurite } from '../support/azurite.js';
import { backendConformance } from './suite.js';

if (!azuriteAvailable()) {
  test('azure conformance needs the azurite devDependency', (t) => {
    if (isCi()) throw new Error('azurite is not installed (npm devDependency); CI=true forbids skipping');
    t.skip('azurite is not installed: run npm ci');
  });
} else {
  for (const [label, options, container] of [
    ['one Put Blob per file', new Map<string, string>(), 'single-put'],
    ['staged blocks', new Map([['azure-max-single-put-size', String(1024 * 1024)], ['azure-max-block-size', String(1024 * 1024)], ['azure-max-connections', '3']]), 'staged-blocks'],
  ] as const) {
    let azurite: Azurite | undefined;
    backendConformance(`azure:// (Azurite, ${label})`, {
      open: async () => {
        azurite = await startAzurite();
        return openBackend(`azure://${container}`, { env: { AZURE_CONNECTION_STRING: azurite.connectionString }, options });
      },
      cleanup: async () => { await azurite?.stop(); },
    });
  }
}
