// --include-regexp / --exclude-regexp take Python regular expressions (duplicity calls re.search on
// the decoded path, case-sensitive, with no implications for parents or children). This translates
// the common syntax to a JavaScript RegExp with the same meaning where the two languages differ:
// `$` also matches before a final newline, `.` stops only at `\n`, `\d` and `\w` are Unicode-aware,
// `(?P<name>...)`, `\A`, `\Z`, `{,n}`, lone braces and brackets, and escaped punctuation.
import { ExitCode } from '../errors/exit-codes.js';
import { LifeboatError } from '../errors/lifeboat-error.js';

const SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);
const WORD = '\\p{L}\\p{N}_';

function fail(pattern: string, why: string, cause?: unknown): LifeboatError {
  // duplicity logs "Error compiling regular expression" and dies with a traceback: exit 30
  return new LifeboatError(`Error compiling regular expression ${pattern}: ${why}`, {
    code: 'bad-regexp', exitCode: ExitCode.unexpected, hint: 'check the regular expression (Python syntax)', cause,
  });
}

/** The JavaScript equivalent of Python's re.compile(pattern) for use with .test (re.search). */
export function pythonRegExp(pattern: string): RegExp {
  const p = Array.from(pattern);
  const flags = new Set<string>(['u']);
  let i = 0;
  let out = '';
  let dotAll = false;
  let multiline = false;
  // leading global inline flags, e.g. (?i) or (?s)
  for (;;) {
    const m = /^\(\?([aiLmsux]+)\)/.exec(p.slice(i).join(''));
    if (!m) break;
    for (const f of m[1]) {
      if (f === 'i') flags.add('i');
      else if (f === 's') dotAll = true;
      else if (f === 'm') { multiline = true; flags.add('m'); }
      else if (f === 'x' || f === 'L') throw fail(pattern, `the (?${f}) flag is not supported`);
    }
    i += m[0].length;
  }
  const dollar = multiline ? '$' : '(?=\\n?$)';
  while (i < p.length) {
    const c = p[i++];
    if (c === '\\') {
      const e = p[i++];
      if (e === undefined) throw fail(pattern, 'bad escape (end of pattern)');
      if (e === 'A') out += multiline ? '(?<![\\s\\S])' : '^';
      else if (e === 'Z') out += '(?![\\s\\S])';
      else if (e === 'd') out += '\\p{Nd}';
      else if (e === 'D') out += '\\P{Nd}';
      else if (e === 'w') out += `[${WORD}]`;
      else if (e === 'W') out += `[^${WORD}]`;
      else if (e === 'U') { out += `\\u{${p.slice(i, i + 8).join('')}}`; i += 8; }
      else if (/[A-Za-z0-9]/.test(e)) out += `\\${e}`;
      else out += SYNTAX.has(e) ? `\\${e}` : e;
    } else if (c === '[') {
      out += '[';
      if (p[i] === '^') { out += '^'; i++; }
      let first = true;
      while (i < p.length && (p[i] !== ']' || first)) {
        const d = p[i++];
        first = false;
        if (d === '\\') {
          const e = p[i++];
          if (e === 'd') out += '\\p{Nd}';
          else if (e === 'w') out += WORD;
          else if (e === undefined) throw fail(pattern, 'unterminated character set');
          else if (/[A-Za-z0-9]/.test(e)) out += `\\${e}`;
          else out += SYNTAX.has(e) || e === '-' ? `\\${e}` : e;
        } else if (d === '[' || d === ']') out += `\\${d}`;
        else out += d;
      }
      if (i >= p.length) throw fail(pattern, 'unterminated character set');
      i++;
      out += ']';
    } else if (c === '(' && p[i] === '?' && p[i + 1] === 'P' && p[i + 2] === '<') {
      out += '(?<';
      i += 3;
    } else if (c === '(' && p[i] === '?' && p[i + 1] === 'P' && p[i + 2] === '=') {
      const close = p.indexOf(')', i);
      out += `\\k<${p.slice(i + 3, close).join('')}>`;
      i = close + 1;
    } else if (c === '{') {
      const m = /^(\d*)(,(\d*))?\}/.exec(p.slice(i).join(''));
      if (m && (m[1] !== '' || m[2] !== undefined)) {
        out += `{${m[1] === '' ? '0' : m[1]}${m[2] ?? ''}}`;
        i += m[0].length;
      } else out += '\\{';
    } else if (c === '}' || c === ']') out += `\\${c}`;
    else if (c === '.') out += dotAll ? '[\\s\\S]' : '[^\\n]';
    else if (c === '$') out += dollar;
    else out += c;
  }
  try {
    return new RegExp(out, [...flags].join(''));
  } catch (err) {
    throw fail(pattern, (err as Error).message, err);
  }
}
