import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMultistatus } from './multistatus.js';

// the shape Nextcloud/ownCloud (sabre/dav) answers: "d:" prefix, a 404 propstat for what a
// collection lacks; and the shape of servers that give full URLs in href
test('reads a sabre/dav-style answer: prefixes, 404 propstats, collections left out', () => {
  const xml = `<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">
 <d:response><d:href>/remote.php/dav/files/u/backups/</d:href>
  <d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
  <d:propstat><d:prop><d:getcontentlength/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>
 </d:response>
 <d:response><d:href>/remote.php/dav/files/u/backups/with%20space%20%26%20%C3%BC.gz</d:href>
  <d:propstat><d:prop><d:resourcetype/><d:getcontentlength>1234</d:getcontentlength></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
 </d:response>
 <d:response><d:href>/remote.php/dav/files/u/backups/sub/</d:href>
  <d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
 </d:response>
</d:multistatus>`;
  assert.deepEqual(parseMultistatus(xml, ['remote.php', 'dav', 'files', 'u', 'backups']), [{ name: 'with space & ü.gz', size: 1234 }]);
});

test('reads full-URL hrefs without a prefix on the default namespace, and skips other paths', () => {
  const xml = `<multistatus xmlns="DAV:">
 <response><href>https://dav.example/b/a%2Bb.vol</href><propstat><prop><getcontentlength>7</getcontentlength><resourcetype/></prop><status>HTTP/1.1 200 OK</status></propstat></response>
 <response><href>https://dav.example/other/x</href><propstat><prop><getcontentlength>1</getcontentlength></prop><status>HTTP/1.1 200 OK</status></propstat></response>
</multistatus>`;
  assert.deepEqual(parseMultistatus(xml, ['b']), [{ name: 'a+b.vol', size: 7 }]);
});

test('a document that is not a multistatus is an error', () => {
  assert.throws(() => parseMultistatus('<html><body>login</body></html>', []), /not a DAV multistatus/);
});
