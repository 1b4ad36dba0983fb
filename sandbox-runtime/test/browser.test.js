// The whole runtime through its public API (connect, joinRoom, peers), with the browser layer
// on fake WebRTC (fake-rtc.js) and real WebCrypto: two pages meet through the fake relay.
// The issue 12 cases here fail on the runtime as it was before the core was split out.
import { test, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

import { rtc, install, until, fixtureRelays } from './fake-rtc.js';

install();
const { connect } = await import('../src/index.js');

const relays = fixtureRelays.slice(0, 1);
const nets = [];
after(() => nets.forEach((n) => n.close()));
beforeEach(() => {
  rtc.iceHold = false;
  rtc.relayDown = false;
  rtc.pad = 20 * 1024;
});

/** A page: connected, in `room`, recording what its peers do. */
async function page(room, nick, list = relays) {
  const net = await connect({ relays: list, timeout: 500 });
  nets.push(net);
  const rec = { net, nick, peers: [], data: [], tracks: [], events: [] };
  net.on('relay', () => rec.events.push('relay'));
  net.on('disconnected', () => rec.events.push('disconnected'));
  rec.room = await net.joinRoom(room, { nick, secret: 's' });
  rec.room.on('peer', (p) => {
    rec.peers.push(p);
    p.on('open', () => (p.isOpen = true));
    p.on('data', (m) => rec.data.push(m));
    p.on('track', (t) => rec.tracks.push(t));
    p.on('close', () => rec.events.push('close ' + p.nick));
  });
  return rec;
}

const open = (r) => r.peers.filter((p) => p.isOpen);
const sha = (b) => createHash('sha256').update(b).digest('hex');
const stream = (id) => ({ id, getTracks: () => [{ kind: 'video', id: id + '-t' }] });

async function pair(room) {
  const a = await page(room, 'alice');
  const b = await page(room, 'bob');
  await until(() => open(a).length == 1 && open(b).length == 1, 5000, 'alice and bob');
  return [a, b];
}

test('two pages meet and exchange reliable, unreliable and large messages', async () => {
  const [a, b] = await pair('meet');
  assert.equal(open(b)[0].nick, 'alice');
  a.room.broadcast({ text: 'hello bob' });
  a.room.broadcast({ n: 1 }, { reliable: false });
  const big = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => i * 13);
  await open(a)[0].send(big);
  await until(() => b.data.length == 3, 5000, 'three messages');
  // The two channels are not ordered with respect to each other.
  assert.deepEqual(b.data.filter((d) => !(d instanceof Uint8Array)).sort((x, y) => !!x.n - !!y.n), [{ text: 'hello bob' }, { n: 1 }]);
  assert.equal(sha(b.data.find((d) => d instanceof Uint8Array)), sha(big));
  await assert.rejects(async () => open(a)[0].send(new Uint8Array(20000), { reliable: false }), /16 KiB/);
  b.room.leave();
  await until(() => a.events.includes('close bob'), 5000, 'close on the other side');
});

test('issue 12: a control message over 16 KiB (a media renegotiation) arrives whole', async () => {
  const [a, b] = await pair('big-sdp');
  a.room.publish(stream('cam-1'), { kind: 'cam' });
  await until(() => b.tracks.length == 1, 5000, 'the published track');
  assert.equal(b.tracks[0].kind, 'cam');
  assert.ok(open(a)[0].pc.localDescription.sdp.length > 16 * 1024);
  a.room.broadcast('after');
  await until(() => b.data.includes('after'), 5000, 'the message after it');
  assert.deepEqual(b.data, ['after']);
});

test('issue 12: control frames never land between the chunks of a multi-megabyte message', async () => {
  const [a, b] = await pair('interleave');
  rtc.pad = 100; // every control message fits one frame: this is about ordering alone
  const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => i ^ (i >> 9));
  const sent = open(a)[0].send(big);
  // Renegotiation starts while the message is still being sent.
  a.room.publish(stream('cam-2'), { kind: 'screen' });
  await sent;
  a.room.broadcast('done');
  await until(() => b.data.length == 2 && b.tracks.length == 1, 8000, 'message and track');
  assert.equal(sha(b.data[0]), sha(big), 'bytes intact and in order');
  assert.equal(b.data[1], 'done');
  assert.equal(b.tracks[0].kind, 'screen');
  assert.ok(open(a)[0].pc.localDescription.sdp.length < 16 * 1024);
});

test('issue 12: a connection still negotiating in a relay outage is negotiated afresh after it, once', async () => {
  // Issue 14: nothing sealed proves that a member at a new address is the one we were
  // negotiating with, so a connection that has not opened starts over after the rejoin.
  rtc.iceHold = true;
  const a = await page('outage', 'alice');
  const b = await page('outage', 'bob');
  await until(() => a.peers.length == 1 && b.peers.length == 1 && b.peers[0].pc.remoteDescription, 5000, 'negotiating');
  const toB = a.peers[0].pc;
  await until(() => toB.candidates.length >= 1, 5000, 'the first candidate');
  rtc.relayDown = true;
  rtc.relay.restart();
  await until(() => a.events.includes('disconnected') && b.events.includes('disconnected'), 5000, 'outage');
  // A candidate found in the outage goes nowhere, and breaks nothing.
  b.peers[0].pc.emitCandidate('candidate:2 1 udp 1 127.0.0.2 9 typ host');
  rtc.relayDown = false;
  await until(() => [a, b].every((r) => r.events.filter((e) => e == 'relay').length >= 1), 8000, 'redial');
  rtc.release();
  await until(() => open(a).length == 1 && open(b).length == 1, 8000, 'open after the outage');
  assert.deepEqual([a.peers.length, b.peers.length, a.room.peers.length, b.room.peers.length], [2, 2, 1, 1]);
  assert.ok(toB.closed, 'the old connection is closed');
});

test('a relay restart keeps one connection per pair, and a newcomer meets both', async () => {
  const [a, b] = await pair('restart');
  rtc.relayDown = true;
  rtc.relay.restart();
  await until(() => a.events.includes('disconnected'), 5000, 'outage');
  a.room.broadcast('relay is gone');
  await until(() => b.data.includes('relay is gone'), 5000, 'peers keep talking');
  rtc.relayDown = false;
  await until(() => a.events.filter((e) => e == 'relay').length >= 1 && b.events.filter((e) => e == 'relay').length >= 1, 8000, 'redial');
  const c = await page('restart', 'carol');
  await until(() => [a, b, c].every((r) => open(r).length == 2), 8000, 'a full mesh of three');
  assert.equal(a.room.peers.length, 2, 'no second connection to bob');
  assert.deepEqual(open(a).map((p) => p.nick).sort(), ['bob', 'carol']);
});

test('issue 12: classes talk through the core, never through one another\'s private fields', async () => {
  const { readdirSync } = await import('node:fs');
  const dir = new URL('../src/', import.meta.url);
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const src = readFileSync(new URL(f, dir), 'utf8');
    for (const [, who, field] of src.matchAll(/([\w$]+)\.(_\w+)/g))
      assert.equal(who, 'this', `${f}: ${who}.${field} reaches into another object`);
  }
});

/** A relay.txt line for a fresh relay on 127.0.0.1:`port`, signed by a new Ed25519 key. */
async function signedLine(port) {
  const { concat, te, toB64u } = await import('../src/bytes.js');
  const k = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const nk = new Uint8Array(await crypto.subtle.exportKey('raw', k.publicKey));
  const fp = crypto.getRandomValues(new Uint8Array(32));
  const body = concat(new Uint8Array([1, 0, 127, 0, 0, 1, port >> 8, port & 255]), fp, nk);
  const sig = await crypto.subtle.sign('Ed25519', k.privateKey, concat(te.encode('lumamesh/relay-entry/v1\0'), body));
  return toB64u(concat(body, new Uint8Array(sig)));
}

test('issue 13: pages on two relays meet; one relay dies, its page moves on and keeps its channel', async () => {
  const [x, y] = [await signedLine(40001), await signedLine(40002)];
  const [rx, ry] = [rtc.federate(x), rtc.federate(y)];
  // Each page knows only its own relay; the other relays it learns from Nodes.
  const pin = async (line, nick) => {
    const rec = await page('fed', nick, [line]);
    rec.net.on('relay', (w) => rec.events.push('me ' + w.me));
    return rec;
  };
  const a = await pin(x, 'alice');
  const b = await pin(y, 'bob');
  await until(() => open(a).length == 1 && open(b).length == 1, 5000, 'alice and bob across relays');
  assert.ok(open(b)[0].id.startsWith(rx.tag) && open(a)[0].id.startsWith(ry.tag));
  rx.kill();
  await until(() => a.events.some((e) => e.startsWith('me ') && !e.startsWith('me ' + rx.tag)), 8000, 'alice on another relay');
  await until(() => open(b)[0].id == a.events.findLast((e) => e.startsWith('me ')).slice(3), 8000, 'bob re-addresses alice');
  a.room.broadcast('after the move');
  b.room.broadcast('bob too');
  await until(() => b.data.includes('after the move') && a.data.includes('bob too'), 5000, 'the same channel carries on');
  assert.deepEqual([a.peers.length, b.peers.length], [1, 1], 'no second connection');
  assert.ok(!a.events.some((e) => e.startsWith('close')) && !b.events.some((e) => e.startsWith('close')), 'nothing closed');
});

test('issue 13: a page whose relay drops it (the relay still up) tries the other relays first', async () => {
  const [x, y] = [await signedLine(40003), await signedLine(40004)];
  const [rx, ry] = [rtc.federate(x), rtc.federate(y)];
  const mes = [];
  const a = await page('drop', 'alice', [x]);
  a.net.on('relay', (w) => mes.push(w.me));
  const b = await page('drop', 'bob', [y]);
  await until(() => open(a).length == 1 && open(b).length == 1, 5000, 'alice and bob across relays');
  // The relay drops alice's session, as one closing a session would; it keeps serving others.
  const [end] = rx.sessions.values();
  end.linkDown();
  await until(() => mes.length == 1, 8000, 'alice back on a relay');
  assert.ok(!mes[0].startsWith(rx.tag), 'not the relay that dropped her: ' + mes[0]);
  await until(() => open(b)[0].id == mes[0], 8000, 'bob re-addresses alice');
  assert.ok(rx.alive);
  assert.deepEqual([a.peers.length, b.peers.length], [1, 1]);
  assert.ok(![...a.events, ...b.events].some((e) => e.startsWith('close')), 'nothing closed');
});

test('issue 13: pages joining on two relays at the same moment meet once', async () => {
  const [x, y] = [await signedLine(40005), await signedLine(40006)];
  // Joins take 30 ms to cross the federation, so each relay answers its joiner with an empty
  // Room; each page probes the other on its link's second ping tick (idle 1 s: every 333 ms).
  for (const r of [rtc.federate(x), rtc.federate(y)]) Object.assign(r, { idle: 1, pongs: true, gossip: (f) => setTimeout(f, 30) });
  for (let round = 0; round < 5; round++) {
    const [a, b] = await Promise.all([page('race' + round, 'alice', [x]), page('race' + round, 'bob', [y])]);
    await until(() => open(a).length == 1 && open(b).length == 1, 5000, 'alice and bob, round ' + round);
    assert.deepEqual([a.peers.length, b.peers.length], [1, 1]);
    a.room.broadcast('hi ' + round);
    await until(() => b.data.includes('hi ' + round), 5000, 'a message');
  }
});

test('issue 14: a relay listing 1,000 made-up members in a Room makes no peer and no RTCPeerConnection', async () => {
  const { roomKeys } = await import('../src/keys.js');
  const { frames } = await import('./relay-fake.js');
  const a = await page('crowd', 'alice');
  const { id } = await roomKeys('lumamesh', 'crowd', 's');
  const [me] = rtc.relay._members(id);
  const fake = Array.from({ length: 1000 }, (_, i) => rtc.relay.tag + (i + 1000).toString(16).padStart(8, '0'));
  // Peer connections carry the channels m0 and m1; a relay link's do not.
  const peerPcs = () => [...rtc.pcs.values()].filter((pc) => pc.channels.some((c) => c.label == 'm0')).length;
  const pcs = peerPcs();
  rtc.relay.sessions.get(me).frame(frames.room(id, fake));
  for (const x of fake.slice(0, 10)) rtc.relay.sessions.get(me).frame(frames.joined(id, x));
  // The probes it sends are sealed, one per listed member; none is answered.
  await until(() => rtc.relay.seen.filter((f) => f[0] == 7).length >= 1000, 60000, 'the probes');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual([a.peers.length, a.room.peers.length, peerPcs() - pcs], [0, 0, 0]);
});
