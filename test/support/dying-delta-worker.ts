// A delta worker (src/pipeline/delta-worker.ts) that dies on its first segment while the file named by
// LIFEBOAT_TEST_DIE_ONCE exists (and removes it), as a worker killed by the kernel or a native fault
// would; afterwards it is the real worker. For delta-workers.test.ts.
import { existsSync, rmSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const marker = process.env.LIFEBOAT_TEST_DIE_ONCE;
if (marker && existsSync(marker)) {
  rmSync(marker);
  parentPort!.once('message', () => process.exit(3));
} else {
  await import('../../src/pipeline/delta-worker.js');
}
