// `lifeboat quickstart [DIR]`: a real backup and restore check with no configuration. Backs DIR (or a
// small demo tree) up to a local target in duplicity's format, restores it into a scratch directory,
// compares the two, and says what it did and where the archive is.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { backupToTarget } from '../../pipeline/backup-to-target.js';
import { restoreFromTarget } from '../../pipeline/restore-from-target.js';
import { openTarget } from '../../pipeline/target.js';
import { compareTrees } from '../../drill/compare-trees.js';
import { formatBytes } from '../../pipeline/statistics.js';
import { ExitCode } from '../../errors/exit-codes.js';
import { LifeboatError, UsageError } from '../../errors/lifeboat-error.js';
import { parseCommandLine } from '../argv.js';
import type { CommandContext } from '../context.js';

export const quickstartHelp = `Usage: lifeboat quickstart [DIR]

Backs DIR up (default: a small demo tree made for the purpose) to a local archive in duplicity's
format under $XDG_DATA_HOME/lifeboat/quickstart (~/.local/share/lifeboat/quickstart), restores the
archive into a scratch directory, compares it with DIR, and removes the scratch copy. Run it again
after changing DIR: the second run is an incremental backup of the same chain.

Options:
  --target URL   back up to this file:// URL instead
  -h, --help     show this help
`;

const options = {
  target: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function dataHome(): string {
  return process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
}

async function makeDemoTree(dir: string): Promise<void> {
  await mkdir(join(dir, 'app', 'static'), { recursive: true });
  await writeFile(join(dir, 'app', 'settings.py'), 'DEBUG = False\nALLOWED_HOSTS = ["example.org"]\n');
  await writeFile(join(dir, 'app', 'static', 'site.css'), 'body { font-family: sans-serif; }\n'.repeat(200));
  await writeFile(join(dir, 'app', 'uploads.bin'), randomBytes(300_000));
  await writeFile(join(dir, 'README'), 'A demo tree made by "lifeboat quickstart".\n');
  await symlink('app/settings.py', join(dir, 'settings-link'));
}

export async function runQuickstart(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine(args, options, 'quickstart');
  if (values.help) {
    ctx.out.result(quickstartHelp);
    return ExitCode.ok;
  }
  if (positionals.length > 1) throw new UsageError('quickstart: give at most one directory');
  const home = join(dataHome(), 'lifeboat', 'quickstart');
  let source: string;
  if (positionals[0] !== undefined) {
    source = resolve(positionals[0]);
    const s = await stat(source).catch(() => null);
    if (!s?.isDirectory()) {
      throw new LifeboatError(`${source} is not a directory`, { code: 'source-missing', exitCode: ExitCode.sourceDirMissing, hint: 'give the directory to back up' });
    }
  } else {
    source = join(home, 'demo-source');
    if (!(await stat(source).catch(() => null))) await makeDemoTree(source);
  }
  const name = `${basename(source) || 'root'}-${createHash('md5').update(source).digest('hex').slice(0, 8)}`;
  const url = values.target ?? `file://${join(home, 'archives', name)}`;
  const quiet = () => undefined;
  const say = (line: string) => ctx.out.result(line + '\n');

  const target = await openTarget(url, { sync: true, notice: quiet });
  const scratchParent = await mkdtemp(join(tmpdir(), 'lifeboat-quickstart-'));
  try {
    const backup = await backupToTarget({
      source, target, mode: 'auto', compress: true, volumeSizeBytes: 200 << 20, tempdir: scratchParent, maxBlockSize: 2048,
      allowSourceMismatch: false, dryRun: false, notice: quiet, warning: (l) => ctx.out.warning(l), info: quiet,
    });
    const s = backup.statistics;
    say(`Backed up ${source}: ${backup.type} backup, ${s.sourceFiles} objects, ${formatBytes(s.sourceFileSize)} ` +
      `(${s.newFiles} new, ${s.changedFiles} changed, ${s.deletedFiles} deleted), ${formatBytes(s.totalDestinationSizeChange)} stored.`);
    const restored = join(scratchParent, 'restored');
    const reopened = await openTarget(url, { sync: true, notice: quiet });
    await restoreFromTarget({
      target: reopened, destination: restored, force: false, restoreOwnership: true, numericOwner: false,
      tempdir: scratchParent, dryRun: false, durable: false, notice: quiet, warning: (l) => ctx.out.warning(l), info: quiet,
    });
    const comparison = await compareTrees(source, restored, { compareOwners: process.getuid?.() === 0 });
    if (comparison.differences.length > 0) {
      ctx.out.error(`lifeboat: the restore differs from ${source}:`);
      for (const d of comparison.differences) ctx.out.error(`  ${d}`);
      ctx.out.error('hint: the source may have changed during the backup; run quickstart again');
      return ExitCode.differences;
    }
    say(`Restored it into a scratch directory and compared: ${comparison.compared} objects, ${formatBytes(comparison.bytes)}, all identical.`);
    say(`The archive is at ${url}`);
    say(`Restore it yourself with:  lifeboat duplicity restore ${url} /tmp/restored`);
    say(`or with duplicity:         duplicity restore --no-encryption ${url} /tmp/restored`);
    return ExitCode.ok;
  } finally {
    await rm(scratchParent, { recursive: true, force: true });
  }
}
