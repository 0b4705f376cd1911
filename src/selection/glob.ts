// duplicity 0.8's shell globs (specs/duply.md §15.4), translated to JavaScript regular expressions
// with the same meaning: `*` and `?` stop at `/`, `**` crosses it, `[...]` is a class (`!` or `^`
// negates, a `[` without a closing `]` is literal), there is no escape character, and a match on a
// directory also matches everything below it. An include glob also answers "scan" (2) for the
// directories above anything it could match, so the walk looks inside them.
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';

/** 0 exclude, 1 include, 2 scan (a directory kept only if something inside is kept), null: no opinion */
export type SelectResult = 0 | 1 | 2 | null;

/** duplicity anchors with Python's `$`, which also matches before one final newline. */
const END = '(?=\\n?$)';
const SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);

/** Escapes one literal character for a regular expression compiled with the `u` flag. */
function literal(c: string): string {
  return SYNTAX.has(c) ? `\\${c}` : c;
}

/**
 * The regular expression source (for the `u` flag) of a glob, without anchors. Works on code points,
 * as Python's str does, so `?` is one character even outside the Basic Multilingual Plane.
 */
export function globToRegexSource(pattern: string): string {
  const pat = Array.from(pattern);
  const n = pat.length;
  let i = 0;
  let res = '';
  while (i < n) {
    const c = pat[i];
    i++;
    if (c === '*' && pat[i] === '*') {
      res += '.*';
      i++;
    } else if (c === '*') {
      res += '[^/]*';
    } else if (c === '?') {
      res += '[^/]';
    } else if (c === '[') {
      let j = i;
      if (j < n && (pat[j] === '!' || pat[j] === '^')) j++;
      if (j < n && pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) {
        res += '\\[';
      } else {
        const stuff = pat.slice(i, j);
        i = j + 1;
        let out = '[';
        let k = 0;
        if (stuff[0] === '!' || stuff[0] === '^') {
          out += '^';
          k = 1;
        }
        for (; k < stuff.length; k++) {
          const s = stuff[k];
          // backslashes are literal (no escapes in globs); `[` and `]` are literal inside a class
          out += s === '\\' ? '\\\\' : s === ']' ? '\\]' : s === '[' ? '\\[' : s;
        }
        res += `${out}]`;
      }
    } else {
      res += literal(c);
    }
  }
  return res;
}

/** A pattern that cannot work: `//` inside (exit 15) or one that can never match below the source (exit 14). */
export class GlobError extends LifeboatError {}

function compile(source: string, ignoreCase: boolean, glob: string): RegExp {
  try {
    return new RegExp(source, ignoreCase ? 'isu' : 'su');
  } catch (err) {
    // duplicity dies with a Python traceback (exit 30) on these, e.g. "bad character range z-a"
    throw new GlobError(`cannot compile the glob ${glob}: ${(err as Error).message}`, {
      code: 'bad-glob', exitCode: ExitCode.unexpected, hint: 'check the character classes ([...]) in the pattern', cause: err,
    });
  }
}

/** The regexps of each leading part of a glob ("/a/b*" -> "/", "/a", "/a/b*"). */
function prefixSources(glob: string): string[] {
  const parts = glob.split('/');
  if (parts.slice(1, -1).includes('')) {
    throw new GlobError(`Fatal Error while processing expression: Consecutive '/'s found in globbing string ${glob}`, {
      code: 'globbing-error', exitCode: ExitCode.globbingError, hint: 'write each path separator once',
    });
  }
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  if (prefixes[0] === '') prefixes[0] = '/';
  return prefixes.map(globToRegexSource);
}

export type GlobTest = (path: string, isDir: boolean) => SelectResult;

/**
 * duplicity's select_fn_from_glob: the test for one glob against decoded absolute (or, for a relative
 * source, relative) paths. `include` is what a match returns.
 */
export function globTest(globIn: string, include: 0 | 1, ignoreCase = false): GlobTest {
  let glob = globIn;
  let dirOnly = false;
  if (glob === '/') glob = '/**';
  else if (glob.endsWith('/')) {
    dirOnly = true;
    glob = glob.slice(0, -1);
  }
  const body = globToRegexSource(glob);
  const matchRe = compile(`^${body}(?:${END}|/)`, ignoreCase, globIn);
  const exactRe = dirOnly ? compile(`^${body}${END}`, ignoreCase, globIn) : null;
  const star = glob.indexOf('**');
  const scanGlob = star >= 0 ? glob.slice(0, star + 2) : glob;
  const scanRe = compile(`^(?:${prefixSources(scanGlob).join('|')})${END}`, ignoreCase, globIn);
  return (path, isDir) => {
    if (matchRe.test(path)) {
      if (exactRe && exactRe.test(path) && !isDir) return null;
      return include;
    }
    if (include === 1 && scanRe.test(path)) return 2;
    return null;
  };
}
