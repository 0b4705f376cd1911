// A retention run in a child process, for tests that kill it with SIGKILL part-way: prints
// "deleting <name>" before each single deletion (pausing a little), so the parent can pick the moment.
// argv: URL ARCHIVE_DIR NAME COMMAND_JSON
import { setTimeout as sleep } from 'node:timers/promises';
import { runRetention } from '../../src/pipeline/retention.js';
import { openTarget } from '../../src/pipeline/target.js';
import type { RetentionCommand } from '../../src/retention/plan.js';

const [url, archiveDir, name, commandJson] = process.argv.slice(2);
const target = await openTarget(url, { archiveDir, name, sync: false, notice: () => undefined });
await runRetention({
  target, command: JSON.parse(commandJson) as RetentionCommand, force: true,
  notice: () => undefined, warning: () => undefined,
  beforeDelete: async (where, file) => {
    process.stdout.write(`deleting ${where} ${file}\n`);
    await sleep(3);
  },
});
process.stdout.write('done\n');
