// Verification codes (src/verify.js, docs/security.md "Checking that no one sits in the
// middle") and the warning for a room without a secret. The exchange runs on hand-made channel
// pairs here, with a middleman that has its own certificates, and through the whole runtime
// on fake WebRTC (fake-rtc.js) with fingerprints added to its descriptions.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { rtc, install, until, fixtureRelays, RTCPeerConnection } from './fake-rtc.js';
import { code, verify } from '../src/verify.js';
import { unhex, hex } from '../src/bytes.js';

install();
const { connect } = await import('../src/index.js');

// The vector in docs/security.md, the one place it is written down.
const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
const vector = JSON.parse(/```json verify-code\n([^`]*)```/.exec(doc)[1]);

test('the documented vector', async () => {
  const { room_id, fingerprints, nonces } = vector;
  const [a, b] = nonces.map(unhex);
  assert.equal(await code(unhex(room_id), [...fingerprints], a, b), vector.code);
  // Both sides get it: each sorts the fingerprints, and the nonces combine in either order.
  assert.equal(await code(unhex(room_id), [...fingerprints].reverse(), b, a), vector.code);
});

const ID = unhex(vector.room_id);
const FP = (c) => 'sha-256 ' + Array(32).fill(c).join(':');
const tick = () => new Promise((r) => setImmediate(r));

/** One end of a channel pair; what it sends arrives at `other` a turn later. */
class End {
  readyState = 'connecting';
  sent = [];
  send(b) {
    const copy = new Uint8Array(b).slice();
    this.sent.push(copy);
    setImmediate(() => this.other.onmessage?.({ data: copy.buffer }));
  }
}

/** A connection whose descriptions carry fingerprints `local` and `remote`. */
const conn = (local, remote) => {
  const sdp = (f) => ({ sdp: `v=0\r\na=mid:0\r\na=fingerprint:${f}\r\na=setup:actpass\r\n` });
  const pc = { localDescription: sdp(local), remoteDescription: sdp(remote), end: new End() };
  pc.createDataChannel = (label, o) => (assert.deepEqual(o, { negotiated: true, id: 2 }), pc.end);
  return pc;
};

/** Connects two ends and opens them, as a DTLS handshake would. */
const wire = (x, y) => {
  [x.other, y.other] = [y, x];
  for (const e of [x, y]) (e.readyState = 'open'), e.onopen?.();
};

test('both sides of a direct connection show the same code', async () => {
  const a = conn(FP('AA'), FP('BB'));
  const b = conn(FP('BB'), FP('AA'));
  const codes = [verify(a, ID), verify(b, ID)];
  wire(a.end, b.end);
  const [x, y] = await Promise.all(codes);
  assert.match(x, /^\d{6}$/);
  assert.equal(x, y);
  // Fresh nonces: another connection between the same two certificates gets another code
  // (this fails one time in a million).
  const c = conn(FP('AA'), FP('BB'));
  const d = conn(FP('BB'), FP('AA'));
  const again = [verify(c, ID), verify(d, ID)];
  wire(c.end, d.end);
  assert.notEqual((await Promise.all(again))[0], x);
});

test('a middleman with its own certificates makes the codes differ, relaying the exchange untouched', async () => {
  // Alice talks to M's first certificate, Bob to its second; M forwards every message as is,
  // which is the best it can do: it cannot pick a nonce after seeing the other side's.
  for (let run = 0; run < 5; run++) {
    const alice = conn(FP('AA'), FP('E1'));
    const bob = conn(FP('BB'), FP('E2'));
    const codes = [verify(alice, ID), verify(bob, ID)];
    const m1 = new End();
    const m2 = new End();
    m1.onmessage = ({ data }) => m2.send(data);
    m2.onmessage = ({ data }) => m1.send(data);
    wire(alice.end, m1);
    wire(bob.end, m2);
    const [x, y] = await Promise.all(codes);
    assert.notEqual(x, y, 'run ' + run);
  }
});

test('either fingerprint swapped alone changes the code', async () => {
  for (const [local, remote] of [
    [FP('AA'), FP('EE')],
    [FP('EE'), FP('BB')],
  ]) {
    const a = conn(local, remote);
    const b = conn(FP('BB'), FP('AA'));
    const codes = [verify(a, ID), verify(b, ID)];
    wire(a.end, b.end);
    const [x, y] = await Promise.all(codes);
    assert.notEqual(x, y, `${local} / ${remote}`);
  }
});

test('a side reveals its nonce only once it holds the other side\'s hash, and checks the reveal', async () => {
  const a = conn(FP('AA'), FP('BB'));
  const got = verify(a, ID);
  const m = new End();
  wire(a.end, m);
  await until(() => a.end.sent.length == 1, 2000, 'the hash');
  for (let i = 0; i < 20; i++) await tick();
  assert.equal(a.end.sent.length, 1, 'nothing but the hash before the other side commits');
  assert.equal(a.end.sent[0].length, 32);
  // A middleman commits to one nonce, sees Alice's, then reveals another.
  const mine = new Uint8Array(16).fill(7);
  m.send(new Uint8Array(await crypto.subtle.digest('SHA-256', mine)));
  await until(() => a.end.sent.length == 2, 2000, 'the nonce');
  const nonce = a.end.sent[1];
  assert.equal(hex(new Uint8Array(await crypto.subtle.digest('SHA-256', nonce))), hex(a.end.sent[0]));
  m.send(new Uint8Array(16).fill(8));
  await assert.rejects(got, /bad nonce/);
});

// The whole runtime: fake-rtc's descriptions get a fingerprint per connection.
const sdp = RTCPeerConnection.prototype._sdp;
RTCPeerConnection.prototype._sdp = function () {
  return sdp.call(this) + `a=fingerprint:sha-256 ${this.token}\r\n`;
};

const nets = [];
after(() => nets.forEach((n) => n.close()));

async function page(room, opts) {
  const net = await connect({ relays: fixtureRelays.slice(0, 1), timeout: 500 });
  nets.push(net);
  const rec = { room: await net.joinRoom(room, opts), peers: [] };
  rec.room.on('peer', (p) => rec.peers.push(p));
  return rec;
}

test('room.code(peer) is the same on both pages', async () => {
  rtc.iceHold = false;
  const a = await page('verify', { nick: 'alice', secret: 's' });
  const b = await page('verify', { nick: 'bob', secret: 's' });
  await until(() => a.peers.length == 1 && b.peers.length == 1, 5000, 'alice and bob');
  const [x, y] = await Promise.all([a.room.code(a.peers[0]), b.room.code(b.peers[0])]);
  assert.match(x, /^\d{6}$/);
  assert.equal(x, y);
});

test('joinRoom without a secret warns once per page that the room is readable and interceptable', async () => {
  const warned = [];
  const warn = console.warn;
  console.warn = (...args) => warned.push(args.join(' '));
  try {
    await page('with-secret', { secret: 'x' });
    assert.deepEqual(warned, []);
    await page('open-1');
    await page('open-2');
    await page('open-3', { secret: '' });
  } finally {
    console.warn = warn;
  }
  assert.equal(warned.length, 1, warned.join('\n'));
  assert.match(warned[0], /"open-1" has no secret/);
  assert.match(warned[0], /relays too/);
  assert.match(warned[0], /intercept/);
});
