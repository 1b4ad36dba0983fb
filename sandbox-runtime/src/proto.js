// Layer-1 frames between a client and a relay (docs/protocol.md), version 2: room traffic
// names peers by address (relay tag, 8 bytes, then the relay's u32 session id), which the
// runtime writes as 24 lower-case hex characters. Every frame of
// fixtures/protocol/layer1.json is checked against this file by test/proto.test.js.

import { concat, hex, unhex } from './bytes.js';
import { decodeEntry } from './entry.js';

export const VERSION = 2;
const MAX = 16384;
const bad = (why) => {
  throw Error('relay frame: ' + why);
};
const u32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const frame = (type, ...parts) => {
  const f = concat(new Uint8Array([type]), ...parts);
  return f.length > MAX ? bad('too large') : f;
};

export const hello = () => new Uint8Array([1, VERSION]);
export const join = (room) => frame(2, room);
export const leave = (room) => frame(3, room);
/** Throws if `blob` does not fit in one frame (16347 bytes). */
export const signal = (room, to, blob) => frame(4, room, u32(to), blob);
export const ping = (n) => frame(5, u32(0), u32(n));
export const getNodes = () => new Uint8Array([6]);
/** A signal to a peer address; throws if `blob` does not fit in one frame (16339 bytes). */
export const signal2 = (room, to, blob) => frame(7, room, unhex(to), blob);

/**
 * Our own address on the relay that sent `welcome`: the first 8 bytes of its node key (from
 * the entry in the Welcome, else `nk`, the key of the entry we dialled), then our peer id.
 */
export const address = (welcome, nk) =>
  hex((welcome.entry.length ? decodeEntry(welcome.entry).nk : nk).subarray(0, 8)) + hex(u32(welcome.peer));

export const WELCOME = 0x81, ROOM = 0x82, JOINED = 0x83, LEFT = 0x84, SIGNAL = 0x85, PONG = 0x86,
  NODES = 0x87, ERROR = 0x88, CLOSING = 0x89, ROOM2 = 0x8a, JOINED2 = 0x8b, LEFT2 = 0x8c, SIGNAL2 = 0x8d;

/**
 * Decodes a relay frame to `{ t, … }`. Throws an Error naming why (empty, too large, unknown
 * type, truncated, trailing bytes, invalid <field>) unless the frame decodes exactly.
 */
export function decode(buf) {
  const b = new Uint8Array(buf), n = b.length, t = b[0];
  const v = new DataView(b.buffer, b.byteOffset, n);
  let o = 1;
  // Takes k bytes; returns where they start.
  const take = (k) => (n < o + k && bad('truncated'), (o += k) - k);
  const r8 = () => b[take(1)];
  const r16 = () => v.getUint16(take(2));
  const r32 = () => v.getUint32(take(4));
  const peer = (what = 'peer id') => r32() || bad('invalid ' + what);
  // An address: tag then a non-zero session id.
  const addr = (what = 'peer address') => hex(b.subarray(take(8), o)) + hex(u32(peer(what)));
  const room = () => b.slice(take(32), o);
  const rest = () => b.slice(o, (o = n));
  // A list of `k`-byte items to the end of the frame.
  const list = (k, item, what) => {
    const out = [];
    if ((n - o) % k) bad('invalid ' + what);
    while (o < n) out.push(item(what));
    return out;
  };
  let f;
  if (n > MAX) bad('too large');
  if (!n) bad('empty');
  if (t == WELCOME) {
    f = { version: r8(), peer: peer(), maxFrame: r16(), maxRoom: r16(), maxRooms: r8(), rate: r16(), idle: r16(),
      entry: rest() };
    if (f.entry.length > 1024) bad('invalid entry');
  } else if (t == ROOM) f = { room: room(), peers: list(4, peer, 'peer list') };
  else if (t == ROOM2) f = { room: room(), peers: list(12, addr, 'peer address list') };
  else if (t == JOINED || t == LEFT) f = { room: room(), peer: peer() };
  else if (t == JOINED2 || t == LEFT2) f = { room: room(), peer: addr() };
  else if (t == SIGNAL) f = { room: room(), from: peer(), blob: rest() };
  else if (t == SIGNAL2) f = { room: room(), from: addr(), blob: rest() };
  else if (t == PONG) f = { nonce: r32() * 2 ** 32 + r32() };
  else if (t == NODES) {
    f = { entries: [] };
    for (let k; o < n; f.entries.push(b.slice(o, (o += k)))) {
      k = n - o > 1 && v.getUint16(o);
      if (!k || k > 1024 || (o += 2) + k > n || f.entries.length > 15) bad('invalid entries');
    }
  } else if (t == ERROR) f = { code: r8(), request: r8() };
  else if (t == CLOSING) f = { code: r8() };
  else bad('unknown type ' + t);
  if (o < n) bad('trailing bytes');
  return { t, ...f };
}
