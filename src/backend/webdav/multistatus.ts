// The files of one WebDAV collection from a PROPFIND Depth: 1 answer (RFC 4918 §9.1). Servers differ:
// namespace prefixes (D:, d:, none), hrefs as paths or full URLs, one propstat per status.
import { XMLParser } from 'fast-xml-parser';

export interface DavEntry {
  name: string;
  size: number;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === 'response' || name === 'propstat',
});

type Props = Record<string, unknown>;

/** Decoded path segments of an href, empty ones dropped; undefined when it is not valid percent-encoding. */
export function hrefSegments(href: string): string[] | undefined {
  let path = href.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) path = new URL(path).pathname;
  try {
    return path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/**
 * The non-collection members directly inside `directory` (decoded segments), each with its
 * getcontentlength. The collection itself and anything deeper are left out.
 */
export function parseMultistatus(xml: string, directory: readonly string[]): DavEntry[] {
  const doc = parser.parse(xml) as { multistatus?: { response?: { href?: string; propstat?: { status?: string; prop?: Props }[] }[] } };
  if (!doc.multistatus) throw new Error('the PROPFIND answer is not a DAV multistatus document');
  const entries: DavEntry[] = [];
  for (const response of doc.multistatus.response ?? []) {
    if (typeof response.href !== 'string') continue;
    const segments = hrefSegments(response.href);
    if (!segments || segments.length !== directory.length + 1) continue;
    if (directory.some((s, i) => segments[i] !== s)) continue;
    const props: Props = {};
    for (const propstat of response.propstat ?? []) {
      if (/\s2\d\d(\s|$)/.test(String(propstat.status ?? '')) && propstat.prop) Object.assign(props, propstat.prop);
    }
    const type = props.resourcetype;
    if (type !== null && typeof type === 'object' && 'collection' in type) continue;
    const size = Number(props.getcontentlength ?? NaN);
    entries.push({ name: segments[segments.length - 1], size: Number.isFinite(size) ? size : 0 });
  }
  return entries;
}
