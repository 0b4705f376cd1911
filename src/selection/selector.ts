// duplicity 0.8's file selection (specs/duply.md §15.4): the selection options become an ordered list
// of tests; the first test that includes or excludes an object decides, an include glob may instead
// ask to "scan" a directory (kept only when something inside is kept), and with no decision the object
// is included. --exclude-if-present and --exclude-device-files go to the front whatever their position.
import { lstatSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';
import type { EntryType } from '../fsmeta/entry.js';
import { parseFilelist } from './filelist.js';
import { globTest, type SelectResult } from './glob.js';
import { pythonRegExp } from './regexp.js';

export type SelectionRule =
  | { kind: 'glob'; include: 0 | 1; pattern: string }
  | { kind: 'regexp'; include: 0 | 1; pattern: string }
  /** the file's text, read when the option was parsed (duplicity opens filelists then: exit 7) */
  | { kind: 'filelist'; include: 0 | 1; name: string; text: string }
  | { kind: 'exclude-if-present'; name: string }
  | { kind: 'exclude-device-files' }
  | { kind: 'exclude-other-filesystems' }
  /** epoch seconds: regular files modified before are left out */
  | { kind: 'exclude-older-than'; time: number };

/** What a test sees of one object below the root. */
export interface Candidate {
  /** the path as duplicity matches it: root as given plus `/name`..., decoded as UTF-8 */
  path: string;
  type: EntryType;
  stats: Stats;
  /** the object's path on disk */
  fsPath: Buffer;
  /** the directory's names (for --exclude-if-present), null when it cannot be listed; memoized */
  listNames(): Buffer[] | null;
}

export interface SelectionFunction {
  /** duplicity's name for it, shown in the redundant-inclusion error */
  name: string;
  /** true when the function can exclude something */
  exclude: boolean;
  test(c: Candidate): SelectResult;
}

export interface Selector {
  /** the root as duplicity names it (get_canonical of the argument): paths start with it */
  rootText: string;
  functions: SelectionFunction[];
  /** 0 leave out, 1 keep, 2 look inside (keep only if something inside is kept) */
  select(c: Candidate): 0 | 1 | 2;
}

export interface SelectorOptions {
  nullSeparator?: boolean;
  /** a directory that --exclude-if-present could not list */
  onWarning?(message: string, fsPath: Buffer): void;
}

/** duplicity's Path.get_canonical(): empty and `.` components dropped, `..` kept, `/` kept for absolute paths. */
export function duplicityCanonical(path: string): string {
  const kept = path.split('/').filter((x) => x !== '' && x !== '.').join('/');
  if (path.startsWith('/')) return `/${kept}`;
  return kept === '' ? '.' : kept;
}

/** optparse's "file" type in duplicity: $VAR, ${VAR} and a leading ~ expanded. */
export function expandFileName(value: string): string {
  const vars = value.replace(/\$(\w+|\{[^}]*\})/g, (whole, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    return process.env[key] ?? whole;
  });
  return vars === '~' || vars.startsWith('~/') ? (process.env.HOME ?? homedir()) + vars.slice(1) : vars;
}

function prefixError(glob: string, root: string): LifeboatError {
  return new LifeboatError(
    `Fatal Error: The file specification ${glob} cannot match any files in the base directory ${root}`,
    {
      code: 'selection-outside-source', exitCode: ExitCode.selectionOutsideSource,
      hint: "useful file specifications begin with the base directory or a pattern (such as '**') that matches it",
    },
  );
}

/** One glob rule as a selection function (duplicity's glob_get_sf), checked against the root. */
export function globFunction(pattern: string, include: 0 | 1, rootText: string): SelectionFunction {
  const name = `Command-line ${include ? 'include' : 'exclude'} glob: ${pattern}`;
  if (pattern === '**') return { name, exclude: !include, test: () => include };
  if (pattern === '') {
    throw new LifeboatError('Fatal Error: an empty glob pattern', { code: 'bad-glob', exitCode: ExitCode.unexpected, hint: 'give a pattern' });
  }
  let glob = pattern;
  let ignoreCase = false;
  if (glob.toLowerCase().startsWith('ignorecase:')) {
    glob = glob.slice('ignorecase:'.length).toLowerCase();
    ignoreCase = true;
  }
  // duplicity checks the (lowercased) glob against the root case-sensitively, even with ignorecase:
  if (!globTest(glob, 1)(rootText, true)) throw prefixError(glob, rootText);
  const test = globTest(glob, include, ignoreCase);
  return { name, exclude: !include, test: (c) => test(c.path, c.type === 'dir') };
}

/**
 * Builds the selection for a source root from the rules in command-line order. Throws duplicity's
 * fatal errors: exit 14 (a glob that cannot match below the root), 15 (`//` in a glob), 16 (the last
 * test only includes), 30 (a regular expression or character class that does not compile).
 */
export function buildSelector(rules: readonly SelectionRule[], root: string, options: SelectorOptions = {}): Selector {
  const rootText = duplicityCanonical(root);
  const functions: SelectionFunction[] = [];
  let rootStats: Stats | undefined;
  const rootDevice = () => (rootStats ??= lstatSync(rootText)).dev;
  for (const rule of rules) {
    switch (rule.kind) {
      case 'glob':
        functions.push(globFunction(rule.pattern, rule.include, rootText));
        break;
      case 'filelist':
        for (const line of parseFilelist(rule.text, rule.include, options.nullSeparator)) {
          functions.push(globFunction(line.pattern, line.include, rootText));
        }
        break;
      case 'regexp': {
        const re = pythonRegExp(rule.pattern);
        const include = rule.include;
        functions.push({ name: `Regular expression: ${rule.pattern}`, exclude: !include, test: (c) => (re.test(c.path) ? include : null) });
        break;
      }
      case 'exclude-if-present': {
        const marker = Buffer.from(expandFileName(rule.name));
        functions.unshift({
          name: `Command-line exclude-if-present filename: ${rule.name}`, exclude: true,
          test: (c) => {
            if (c.type !== 'dir') return null;
            const names = c.listNames();
            if (names === null) {
              options.onWarning?.('Error accessing possibly locked file', c.fsPath);
              return null;
            }
            return names.some((n) => n.equals(marker)) ? 0 : null;
          },
        });
        break;
      }
      case 'exclude-device-files':
        functions.unshift({ name: 'Exclude device files', exclude: true, test: (c) => (c.type === 'chr' || c.type === 'blk' ? 0 : null) });
        break;
      case 'exclude-other-filesystems': {
        const dev = rootDevice();
        functions.push({ name: 'Match other filesystems', exclude: true, test: (c) => (c.stats.dev !== dev ? 0 : null) });
        break;
      }
      case 'exclude-older-than': {
        const time = rule.time;
        functions.push({
          name: `Select older than ${time}`, exclude: true,
          // Python's os.path.getmtime, seconds as a float; from the float milliseconds it can differ in
          // the last bits (read.ts), which only matters for a time within nanoseconds of the cut-off
          test: (c) => (c.type === 'reg' && c.stats.mtimeMs / 1000 < time ? 0 : null),
        });
        break;
      }
    }
  }
  const last = functions.at(-1);
  if (last && !last.exclude) {
    throw new LifeboatError(
      `Last selection expression: ${last.name} only specifies that files be included. Because the default is to include all files, the expression is redundant. Exiting because this probably isn't what you meant.`,
      { code: 'redundant-inclusion', exitCode: ExitCode.redundantInclusion, hint: "end the selection with an exclude, such as --exclude '**'" },
    );
  }
  return {
    rootText,
    functions,
    select(c) {
      let scan = false;
      for (const f of functions) {
        const r = f.test(c);
        if (r === 2) scan = true;
        else if (r === 1) return 1;
        else if (r === 0) return scan ? 2 : 0;
      }
      return scan ? 2 : 1;
    },
  };
}

