import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestAuthorization, parseDigestChallenge, supportedDigest } from './digest.js';

function field(header: string, name: string): string | undefined {
  return new RegExp(`${name}="?([^",]*)"?`).exec(header)?.[1];
}

test('answers the challenge of RFC 2617 §3.5 with its published response', () => {
  const challenge = parseDigestChallenge('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"')!;
  assert.ok(supportedDigest(challenge));
  const header = digestAuthorization({ ...challenge, qop: 'auth' }, 'Mufasa', 'Circle Of Life', 'GET', '/dir/index.html', 1, '0a4f113b');
  assert.equal(field(header, 'response'), '6629fae49393a05397450978507c4ef1');
  assert.equal(field(header, 'nc'), '00000001');
  assert.equal(field(header, 'opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
});

test('answers the SHA-256 and MD5 challenges of RFC 7616 §3.9.1 with its published responses', () => {
  const cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
  for (const [algorithm, expected] of [['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'], ['MD5', '8ca523f5e9506fed4657c9700eebdbec']]) {
    const challenge = parseDigestChallenge(`Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`)!;
    assert.ok(supportedDigest(challenge));
    const header = digestAuthorization(challenge, 'Mufasa', 'Circle of Life', 'GET', '/dir/index.html', 1, cnonce);
    assert.equal(field(header, 'response'), expected, algorithm);
  }
});

test('refuses what it cannot answer', () => {
  assert.equal(parseDigestChallenge('Basic realm="x"'), undefined);
  assert.ok(!supportedDigest(parseDigestChallenge('Digest realm="x", nonce="n", qop="auth-int"')!));
  assert.ok(!supportedDigest(parseDigestChallenge('Digest realm="x", nonce="n", algorithm=SHA-512-256')!));
});
