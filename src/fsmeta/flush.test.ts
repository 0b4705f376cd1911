// FileSystemFlusher: flushes start in the background as bytes are written, one at a time; finish() runs
// a last one after any under way, and a failure of any of them fails the finish (an earlier one's too:
// syncfs reports a write-back error to one caller only, so the last flush would not see it again).
// begin() runs one before anything is written and only warns of what it reports (an old error of
// other files). A wrapper `sync` on PATH records each call and runs the real one.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FileSystemFlusher } from './flush.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-flush-'));
const originalPath = process.env.PATH;
after(() => {
  process.env.PATH = originalPath;
  rmSync(dir, { recursive: true, force: true });
});

/** Puts a `sync` with this body first on PATH; returns its log. */
function useWrapper(name: string, body: string): string {
  const bin = join(dir, name);
  mkdirSync(bin);
  const log = join(bin, 'log');
  writeFileSync(log, '');
  writeFileSync(join(bin, 'sync'), `#!/bin/sh\nLOG='${log}'\n${body}\n`);
  chmodSync(join(bin, 'sync'), 0o755);
  process.env.PATH = `${bin}:${originalPath}`;
  return log;
}

const MiB = 1 << 20;

/** Waits until the log starts with `text` (a child process writes it when it gets to run). */
async function logStartsWith(log: string, text: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    if (readFileSync(log, 'utf8').startsWith(text)) return;
  }
  assert.equal(readFileSync(log, 'utf8'), text);
}

/** A warning callback for flushers that must not warn: the warnings land here, checked at the end. */
function noWarnings(t: { after(fn: () => void): void }): (line: string) => void {
  const warnings: string[] = [];
  t.after(() => assert.deepEqual(warnings, []));
  return (line) => warnings.push(line);
}

test('flushes start after enough bytes, never two at once, and finish runs the last one', async (t) => {
  const log = useWrapper('slow', 'echo "start $*" >> "$LOG"; sleep 0.5; /bin/sync "$@" && echo end >> "$LOG"');
  const flusher = new FileSystemFlusher(dir, noWarnings(t));
  flusher.wrote(100 * MiB);
  flusher.wrote(27 * MiB);
  flusher.wrote(28 * MiB); // 155 MiB, over 128: one starts
  flusher.wrote(200 * MiB); // one is under way: no second
  await logStartsWith(log, `start -f ${dir}\n`);
  await flusher.finish();
  assert.equal(readFileSync(log, 'utf8'), `start -f ${dir}\nend\nstart -f ${dir}\nend\n`);
});

test('a failure of a background flush fails the finish, which then runs no more flushes', async (t) => {
  const log = useWrapper('fails-once', `if [ -e "$LOG.failed" ]; then echo ok >> "$LOG"; exec /bin/sync "$@"; fi
touch "$LOG.failed"; echo failed >> "$LOG"; echo "sync: error syncing '$2': Input/output error" >&2; exit 1`);
  const flusher = new FileSystemFlusher(dir, noWarnings(t));
  flusher.wrote(128 * MiB);
  await assert.rejects(flusher.finish(), /could not be flushed to disk \(sync: error syncing '.*': Input\/output error\)/);
  // the wrapper would have succeeded the second time: none was run
  assert.equal(readFileSync(log, 'utf8'), 'failed\n');
});

test('abandon waits for a flush under way and reports nothing', async (t) => {
  const log = useWrapper('abandoned', 'sleep 0.2; echo "done" >> "$LOG"; exit 1');
  const flusher = new FileSystemFlusher(dir, noWarnings(t));
  flusher.wrote(128 * MiB);
  await flusher.abandon();
  assert.equal(readFileSync(log, 'utf8'), 'done\n');
});

test('under 128 MiB written no flush starts before the finish', async (t) => {
  const log = useWrapper('counting', 'echo "$*" >> "$LOG"; exec /bin/sync "$@"');
  const flusher = new FileSystemFlusher(dir, noWarnings(t));
  flusher.wrote(128 * MiB - 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(readFileSync(log, 'utf8'), '');
  await flusher.finish();
  assert.equal(readFileSync(log, 'utf8'), `-f ${dir}\n`);
});

test('without a sync program the flusher warns once and the finish succeeds', async (t) => {
  process.env.PATH = join(dir, 'no-such-directory');
  t.after(() => { process.env.PATH = originalPath; });
  const warnings: string[] = [];
  const flusher = new FileSystemFlusher(dir, (line) => warnings.push(line));
  flusher.wrote(128 * MiB);
  await flusher.finish();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /there is no "sync" program/);
});

test('a warning callback that throws is not an unhandled rejection', async (t) => {
  process.env.PATH = join(dir, 'no-such-directory');
  t.after(() => { process.env.PATH = originalPath; });
  const flusher = new FileSystemFlusher(dir, () => { throw new Error('stderr is gone'); });
  flusher.wrote(128 * MiB);
  await flusher.finish();
});

test('begin runs one flush before anything is written, and an error it reports is only a warning', async () => {
  // the first sync reports an old write-back error (as syncfs does to the first opener that has not
  // seen it); the ones after it succeed
  const log = useWrapper('old-error', `if [ -e "$LOG.failed" ]; then echo ok >> "$LOG"; exec /bin/sync "$@"; fi
touch "$LOG.failed"; echo failed >> "$LOG"; echo "sync: error syncing '$2': Input/output error" >&2; exit 1`);
  const warnings: string[] = [];
  const flusher = new FileSystemFlusher(dir, (line) => warnings.push(line));
  await flusher.begin();
  assert.equal(readFileSync(log, 'utf8'), 'failed\n', 'begin waited for its flush');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /reported a write error from before this restore \(sync: error syncing '.*': Input\/output error\); the restore goes on/);
  flusher.wrote(128 * MiB);
  await flusher.finish();
  assert.equal(readFileSync(log, 'utf8'), 'failed\nok\nok\n');
});

test('a flush failing after begin still fails the finish', async (t) => {
  const log = useWrapper('fails-later', `if [ ! -e "$LOG.began" ]; then touch "$LOG.began"; echo began >> "$LOG"; exec /bin/sync "$@"; fi
echo failed >> "$LOG"; echo "sync: error syncing '$2': Input/output error" >&2; exit 1`);
  const flusher = new FileSystemFlusher(dir, noWarnings(t));
  await flusher.begin();
  await assert.rejects(flusher.finish(), /could not be flushed to disk \(sync: error syncing '.*': Input\/output error\)/);
  assert.equal(readFileSync(log, 'utf8'), 'began\nfailed\n');
});

test('without a sync program begin warns once, and the flushes after it do not warn again', async (t) => {
  process.env.PATH = join(dir, 'no-such-directory');
  t.after(() => { process.env.PATH = originalPath; });
  const warnings: string[] = [];
  const flusher = new FileSystemFlusher(dir, (line) => warnings.push(line));
  await flusher.begin();
  flusher.wrote(128 * MiB);
  await flusher.finish();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /there is no "sync" program/);
});

test('a sync that cannot be started fails the last flush with the flush\'s own error, not the earlier ones', async (t) => {
  // found on PATH but not executable: spawn fails with EACCES, not ENOENT
  const bin = join(dir, 'not-executable');
  mkdirSync(bin);
  writeFileSync(join(bin, 'sync'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(bin, 'sync'), 0o644);
  process.env.PATH = bin;
  t.after(() => { process.env.PATH = originalPath; });
  const flusher = new FileSystemFlusher(dir, noWarnings(t));
  await flusher.begin();
  flusher.wrote(128 * MiB);
  await assert.rejects(flusher.finish(), (err: Error & { code?: string; hint?: string }) => {
    assert.equal(err.message, 'the restored files could not be flushed to disk (sync could not be started: EACCES)');
    assert.equal(err.code, 'flush-failed');
    assert.match(err.hint ?? '', /check the disk/);
    return true;
  });
});

test('finish flushes the other file systems it is given after the first, each once', async (t) => {
  const log = useWrapper('others', 'echo "$*" >> "$LOG"; exec /bin/sync "$@"');
  const other = join(dir, 'other');
  mkdirSync(other);
  const flusher = new FileSystemFlusher(dir, noWarnings(t));
  flusher.wrote(128 * MiB);
  await flusher.finish([other]);
  assert.equal(readFileSync(log, 'utf8'), `-f ${dir}\n-f ${dir}\n-f ${other}\n`);
});
