// duplicity's filelists (--include-filelist, --exclude-filelist; specs/duply.md §15.4): one glob per
// line (NUL-separated with --null-separator), each trimmed, blank lines and lines starting with `#`
// skipped, `+ ` / `- ` choosing include or exclude, then one pair of matching quotes removed.

export interface FilelistLine {
  pattern: string;
  include: 0 | 1;
}

// the characters Python's str.strip() removes (str.isspace); JavaScript's trim() differs (it strips
// U+FEFF, and not U+001C..U+001F or U+0085), and a BOM must stay: duplicity then rejects the line
const PY_SPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'gu');

/** Python's str.strip() with no argument. */
export function pythonStrip(s: string): string {
  return s.replace(STRIP, '');
}

/**
 * The lines of a filelist as duplicity reads it: the file is decoded as UTF-8 text with universal
 * newlines (CRLF and CR become LF), then split on LF or, with nullSeparator, on NUL.
 */
export function parseFilelist(text: string, includeDefault: 0 | 1, nullSeparator = false): FilelistLine[] {
  const normalized = text.replace(/\r\n?/g, '\n');
  const out: FilelistLine[] = [];
  for (const raw of normalized.split(nullSeparator ? '\0' : '\n')) {
    let line = pythonStrip(raw);
    if (line === '' || line.startsWith('#')) continue;
    let include = includeDefault;
    if (line.startsWith('+ ')) {
      include = 1;
      line = line.slice(2);
    } else if (line.startsWith('- ')) {
      include = 0;
      line = line.slice(2);
    }
    if (line.length >= 1 && ((line.startsWith("'") && line.endsWith("'")) || (line.startsWith('"') && line.endsWith('"')))) {
      line = line.slice(1, -1);
    }
    // a line that was only "+ " or a pair of quotes is skipped, as duplicity skips any empty result
    if (line === '') continue;
    out.push({ pattern: line, include });
  }
  return out;
}
