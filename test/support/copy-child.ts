// An offline copy in a child process, for tests that kill it with SIGKILL part-way: prints
// "sending <name> <bytes>" as each file's bytes flow to the disk, and stops for good ("paused") once
// PAUSE_NAME has sent PAUSE_BYTES, half-way through a file, so the parent can kill it there. Like
// the copy command, it first removes the unfinished files an earlier killed copy left.
// argv: SOURCE_DIR DEST_DIR PAUSE_NAME_PART PAUSE_BYTES TEMPDIR
import { FileBackend } from '../../src/backend/file/file-backend.js';
import { buildCollection } from '../../src/duplicity/collection.js';
import { copyArchive } from '../../src/offline/copy.js';
import { readSums } from '../../src/offline/disk-files.js';
import { removeLeftovers } from '../../src/offline/destination.js';

const [sourceDir, destDir, pauseName, pauseBytes, tempdir] = process.argv.slice(2);
removeLeftovers(`file://${destDir}`);
const source = new FileBackend(sourceDir);
const dest = new FileBackend(destDir);
const sizes = new Map<string, number>();
for await (const { name, size } of source.list()) sizes.set(name, size);
const destSizes = new Map<string, number>();
for await (const { name, size } of dest.list()) destSizes.set(name, size);
await copyArchive({
  source: { backend: source, sizes, collection: buildCollection([...sizes.keys()], []) },
  dest, destSizes, sums: await readSums(dest), force: false, tempdir, notice: () => undefined, warning: () => undefined,
  onProgress: async (name, bytes) => {
    process.stdout.write(`sending ${name} ${bytes}\n`);
    if (name.includes(pauseName) && bytes >= Number(pauseBytes)) {
      process.stdout.write('paused\n');
      await new Promise(() => setInterval(() => undefined, 1000));
    }
  },
});
process.stdout.write('done\n');
