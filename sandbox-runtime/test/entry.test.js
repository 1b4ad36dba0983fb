// The JavaScript decoder against the shared vectors that bootstrap-codec generates: same
// fields, same signatures accepted and refused, byte-identical SDP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { decodeEntry, verifyEntry, fpText } from '../src/entry.js';
import { staticAnswer, offerMid } from '../src/sdp.js';
import { hex } from '../src/bytes.js';

const fixture = (p) => readFileSync(new URL(`../../fixtures/${p}`, import.meta.url), 'utf8');
const vectors = JSON.parse(fixture('relay/vectors.json'));

test('valid vectors decode, verify and give the same SDP as Rust', async () => {
  for (const v of vectors.valid) {
    const e = await verifyEntry(decodeEntry(v.line));
    assert.equal(e.ip || e.host, v.address, v.name);
    assert.equal(e.port, v.port);
    assert.equal(fpText(e.fp), v.fingerprint);
    assert.equal(e.ufrag, v.ufrag);
    assert.equal(e.pwd, v.pwd);
    assert.equal(hex(e.nk), v.nk);
    assert.equal(staticAnswer(e, '0', true), v.sdp_mid0, v.name);
    assert.equal(staticAnswer(e, '0', false), v.sdp_mid0_no_ice_lite, v.name);
  }
});

test('invalid vectors are refused on the same field as Rust', async () => {
  for (const v of vectors.invalid) {
    const field = /field `(\w+)`/.exec(v.error)[1];
    await assert.rejects(
      async () => verifyEntry(decodeEntry(v.line)),
      (err) => {
        assert.match(err.message, new RegExp('^field `' + field + '`'), v.name);
        return true;
      },
    );
  }
});

test('the golden answer matches the fixture byte for byte', async () => {
  const line = fixture('relay/relay.txt').split('\n').find((l) => l && !l.startsWith('#')).split(/\s/)[0];
  const e = await verifyEntry(decodeEntry(line));
  // The fixture is bootstrap-codec's default answer, which announces a=ice-lite.
  assert.equal(staticAnswer(e, '0', true), fixture('relay/answer-ipv4.sdp'));
});

test('a single changed byte anywhere is refused', async () => {
  const bytes = Uint8Array.from(Buffer.from(vectors.valid[0].hex, 'hex'));
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.slice();
    b[i] ^= 0x01;
    await assert.rejects(async () => verifyEntry(decodeEntry(b)), `byte ${i}`);
  }
});

test('non-base64url text is refused', () => {
  assert.throws(() => decodeEntry('a+b/'), /not a relay entry/);
});

test('offerMid reads the mid of a real Chromium offer', () => {
  const offer = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n';
  assert.equal(offerMid(offer), '0');
  assert.equal(offerMid(offer.replace('a=mid:0', 'a=mid:data')), 'data');
});
