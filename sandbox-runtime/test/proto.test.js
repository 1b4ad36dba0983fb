// Layer-1 frames against the shared vectors in fixtures/protocol/layer1.json (the same file
// the relay's Rust tests read): client frames encode to their bytes, relay frames decode to
// their fields, and every malformed relay frame is refused with the error the file names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import * as P from '../src/proto.js';
import { hex } from '../src/bytes.js';

const file = JSON.parse(readFileSync(new URL('../../fixtures/protocol/layer1.json', import.meta.url), 'utf8'));
const CLIENT = 'client_to_relay', RELAY = 'relay_to_client';

/** The file's byte notation: hex groups, `<hex>*<n>` for a group repeated n times. */
function bytes(notation) {
  const digits = notation
    .split(/\s+/)
    .filter(Boolean)
    .map((g) => {
      const [h, n = '1'] = g.split('*');
      assert.match(h + ' ' + n, /^([0-9a-f]{2})* \d+$/, `not hex groups: ${notation}`);
      return h.repeat(Number(n));
    })
    .join('');
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}
const plain = (notation) => hex(bytes(notation));

// The file's fields with byte fields spelled as plain hex.
function normalize(fields) {
  const out = { ...fields };
  for (const k of ['room', 'blob', 'entry']) if (k in out) out[k] = plain(out[k]);
  if (out.entries) out.entries = out.entries.map(plain);
  return out;
}

const TYPE = Object.fromEntries(file.types.filter((r) => r.direction == RELAY).map((r) => [r.byte, r.name]));

// A decoded relay frame as the file writes it: its type name and fields.
function fields({ t, ...f }) {
  const out = {};
  const names = { maxFrame: 'max_frame', maxRoom: 'max_room_size', maxRooms: 'max_rooms', rate: 'rate_per_sec',
    idle: 'idle_timeout_secs' };
  for (const [k, v] of Object.entries(f)) {
    out[names[k] ?? k] = v instanceof Uint8Array ? hex(v) : Array.isArray(v) && k == 'entries' ? v.map((e) => hex(e)) : v;
  }
  return [TYPE[t], out];
}

// Client frames as proto.js builds them; `null` for what the runtime never sends.
const encode = {
  Hello: (f) => (f.version == P.VERSION ? P.hello() : null),
  Join: (f) => P.join(bytes(f.room)),
  Leave: (f) => P.leave(bytes(f.room)),
  Signal: (f) => P.signal(bytes(f.room), f.to, bytes(f.blob)),
  Signal2: (f) => P.signal2(bytes(f.room), f.to, bytes(f.blob)),
  Ping: (f) => P.ping(f.nonce),
  GetNodes: () => P.getNodes(),
};

// The message decode throws with, for the file's error kind.
const why = (c) => c.error.replace('_', ' ') + (c.field ? ' ' + c.field : '');

test('the file states the limits proto.js keeps', () => {
  assert.equal(file.limits.version, P.VERSION);
  assert.equal(file.limits.max_frame_len, 16384);
  assert.deepEqual(
    Object.entries(TYPE).map(([b, name]) => [name, Number(b)]),
    Object.entries({ Welcome: P.WELCOME, Room: P.ROOM, Joined: P.JOINED, Left: P.LEFT, Signal: P.SIGNAL, Pong: P.PONG,
      Nodes: P.NODES, Error: P.ERROR, Closing: P.CLOSING, Room2: P.ROOM2, Joined2: P.JOINED2, Left2: P.LEFT2,
      Signal2: P.SIGNAL2 }),
  );
  // A sealed signal (12-byte IV, 16-byte tag) of the largest body mesh.js sends fits Signal2.
  assert.equal(file.limits.max_blob2_len, 16311 + 28);
});

test('client frames encode to the bytes of the vectors', () => {
  const skipped = [];
  for (const v of file.valid.filter((v) => v.direction == CLIENT)) {
    const frame = encode[v.type](v.fields);
    if (frame === null) skipped.push(v.name);
    else assert.equal(hex(frame), plain(v.hex), v.name);
  }
  // proto.js only ever says Hello with its own version.
  assert.deepEqual(skipped, ['hello-other-version']);
});

test('relay frames decode to the fields of the vectors', () => {
  for (const v of file.valid.filter((v) => v.direction == RELAY)) {
    assert.deepEqual(fields(P.decode(bytes(v.hex))), [v.type, normalize(v.fields)], v.name);
  }
});

test('relay frames are decoded from an ArrayBuffer and from a view into a larger buffer', () => {
  const v = file.valid.find((v) => v.name == 'welcome');
  const frame = bytes(v.hex);
  assert.deepEqual(fields(P.decode(frame.buffer)), [v.type, normalize(v.fields)]);
  const big = new Uint8Array(frame.length + 10);
  big.set(frame, 5);
  assert.deepEqual(fields(P.decode(big.subarray(5, 5 + frame.length))), [v.type, normalize(v.fields)]);
});

test('every malformed relay frame is refused with the named error', () => {
  const cases = file.invalid.filter((c) => c.direction == RELAY);
  assert.ok(cases.length > 30);
  for (const c of cases) {
    assert.throws(() => P.decode(bytes(c.hex)), (e) => e instanceof Error && e.message.includes(why(c)), c.name);
  }
});

test('client frames are refused by the relay-frame decoder', () => {
  for (const v of file.valid.filter((v) => v.direction == CLIENT)) {
    assert.throws(() => P.decode(bytes(v.hex)), /unknown type/, v.name);
  }
});

test('every proper prefix of a relay frame is refused unless it is itself a frame of its type', () => {
  for (const v of file.valid.filter((v) => v.direction == RELAY)) {
    const frame = bytes(v.hex);
    for (let n = 0; n < frame.length; n++) {
      let f;
      try {
        f = P.decode(frame.subarray(0, n));
      } catch (e) {
        assert.match(e.message, /empty|truncated|invalid/, `${v.name} cut to ${n}`);
        continue;
      }
      assert.equal(f.t, frame[0], `${v.name} cut to ${n}`);
    }
  }
});

test('a trailing byte after any fixed-size relay frame is refused', () => {
  for (const v of file.valid.filter((v) => v.direction == RELAY && !/Welcome|Room|Signal|Nodes/.test(v.type))) {
    const frame = bytes(v.hex + ' 00');
    assert.throws(() => P.decode(frame), /trailing bytes/, v.name);
  }
});

test('a signal that would not fit in one frame is not built', () => {
  const room = bytes('aa*32');
  const most = file.limits.max_blob_len;
  assert.equal(P.signal(room, 2, new Uint8Array(most)).length, file.limits.max_frame_len);
  assert.throws(() => P.signal(room, 2, new Uint8Array(most + 1)), /too large/);
  const most2 = file.limits.max_blob2_len;
  const to = 'd75a980182b10ab700000002';
  assert.equal(P.signal2(room, to, new Uint8Array(most2)).length, file.limits.max_frame_len);
  assert.throws(() => P.signal2(room, to, new Uint8Array(most2 + 1)), /too large/);
});

// Issue 13: protocol v2 frames and addresses.

const ROOM2 = 'aa'.repeat(32);
const relayFrame = (type, ...hexParts) => bytes([type, ROOM2, ...hexParts].join(' '));

test('v2 room frames round-trip: what signal2 addresses, a relay Signal2 names as its sender', () => {
  const to = '0102030405060708090a0b0c';
  const out = P.signal2(bytes(ROOM2), to, bytes('6869'));
  assert.equal(hex(out), '07' + ROOM2 + to + '6869');
  // The relay swaps `to` for the sender's address and the type for 0x8d.
  const back = P.decode(relayFrame('8d', hex(out.subarray(33))));
  assert.deepEqual([back.t, back.from, hex(back.blob)], [P.SIGNAL2, to, '6869']);
  for (const [type, t] of [['8b', P.JOINED2], ['8c', P.LEFT2]])
    assert.deepEqual(P.decode(relayFrame(type, to)), { t, room: bytes(ROOM2), peer: to });
  // Addresses keep every byte, upper half and leading zeros alike, as lower-case hex.
  const peers = ['00000000000000000000000f', 'ff00ff00ff00ff00ffffffff', to];
  assert.deepEqual(P.decode(relayFrame('8a', ...peers)).peers, peers);
  assert.deepEqual(P.decode(relayFrame('8a')).peers, []);
});

test('v2 frames that lie about addresses are refused', () => {
  const cases = [
    [relayFrame('8a', '0102030405060708 00000001', '0102030405060708 00000000'), /invalid peer address list/],
    [relayFrame('8a', '0102030405060708 000000'), /invalid peer address list/],
    [relayFrame('8a', '00000001'), /invalid peer address list/, 'a v1 peer list'],
    [relayFrame('8b', '00000002'), /truncated/, 'a v1 peer id'],
    [relayFrame('8c', '0102030405060708 00000000'), /invalid peer address/],
    [relayFrame('8c', '0102030405060708 00000002 00'), /trailing bytes/],
    [relayFrame('8d', '0102030405060708 000000'), /truncated/],
    [relayFrame('8d', '0102030405060708 00000000 6869'), /invalid peer address/],
    [bytes('8d ' + ROOM2 + ' 0102030405060708 00000001 ' + '55*16340'), /too large/],
  ];
  for (const [frame, error, what] of cases) assert.throws(() => P.decode(frame), error, what || hex(frame));
});

test('our own address: the Welcome entry\'s node key tag, else the dialled one, then our peer id', async () => {
  const { decodeEntry } = await import('../src/entry.js');
  const line = readFileSync(new URL('../../fixtures/relay/relay.txt', import.meta.url), 'utf8')
    .split('\n')
    .find((l) => l && !l.startsWith('#'))
    .split(/\s/)[0];
  const e = decodeEntry(line);
  const tag = hex(e.nk.subarray(0, 8));
  const w = P.decode(bytes('81 02 0000002a 4000 0552 08 0032 001e ' + hex(e.body) + hex(e.sig)));
  assert.equal(P.address(w, new Uint8Array(32)), tag + '0000002a');
  const bare = P.decode(bytes('81 02 ffffffff 4000 0552 08 0032 001e'));
  assert.equal(P.address(bare, e.nk), tag + 'ffffffff');
  // A Welcome whose entry does not decode is not a relay we can be addressed on.
  const junk = P.decode(bytes('81 02 00000001 4000 0552 08 0032 001e eeee'));
  assert.throws(() => P.address(junk, e.nk), /field/);
});

test('random relay-typed frames decode exactly or throw the decoder\'s own Error', () => {
  // A fixed xorshift generator: the same frames on every run.
  let s = 0x9e3779b9;
  const next = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), s >>> 0);
  for (let i = 0; i < 20000; i++) {
    const frame = Uint8Array.from({ length: next() % 80 }, next);
    if (frame.length) frame[0] = 0x81 + (next() % 13);
    try {
      const f = P.decode(frame);
      assert.equal(f.t, frame[0]);
    } catch (e) {
      // Not a RangeError from reading past the end, nor a TypeError.
      assert.match(e.message, /^relay frame: /, hex(frame));
    }
  }
});
