// The file systems mounted below a directory, from the kernel's table of this process's mounts. A
// restore in place flushes those it writes to: a server restored onto new disks mounted at /mnt, with
// /mnt/boot on a file system of its own, is rebooted right after, and its kernel must be on disk by then.
import { readFile, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * Mount points strictly below `dir` (absolute, in the table's order, each once), spelled from `dir` as
 * given even where a symbolic link leads to it (the table holds the real paths). Empty where there is
 * no /proc/self/mountinfo (not Linux): then only the file systems the caller knows of are flushed.
 */
export async function mountPointsBelow(dir: string): Promise<string[]> {
  let table: string;
  try {
    table = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const given = resolve(dir);
  const root = await realpath(given).catch(() => given);
  const prefix = root === '/' ? '/' : `${root}/`;
  const found = new Set<string>();
  for (const line of table.split('\n')) {
    // ID PARENT MAJOR:MINOR ROOT MOUNT_POINT ...; the kernel writes space, tab, newline and backslash
    // in a path as octal escapes
    const field = line.split(' ')[4];
    if (!field) continue;
    const mountPoint = field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    if (mountPoint.startsWith(prefix) && mountPoint.length > prefix.length) found.add(resolve(given, mountPoint.slice(prefix.length)));
  }
  return [...found];
}
