// Layer-1 frames between a client and a relay (docs/protocol.md), version 1.

import { concat } from './bytes.js';

export const VERSION = 1;
const u32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const frame = (type, ...parts) => concat(new Uint8Array([type]), ...parts);

export const hello = () => new Uint8Array([1, VERSION]);
export const join = (room) => frame(2, room);
export const leave = (room) => frame(3, room);
export const signal = (room, to, blob) => frame(4, room, u32(to), blob);
export const ping = (n) => frame(5, u32(0), u32(n));
export const getNodes = () => new Uint8Array([6]);

export const WELCOME = 0x81, ROOM = 0x82, JOINED = 0x83, LEFT = 0x84, SIGNAL = 0x85, PONG = 0x86,
  NODES = 0x87, ERROR = 0x88, CLOSING = 0x89;

/** Decodes a relay frame to `{ t, … }`; throws on a malformed frame. */
export function decode(buf) {
  const b = new Uint8Array(buf);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const need = (n) => {
    if (b.length < n) throw Error('malformed frame');
  };
  const t = b[0];
  const room = () => (need(33), b.slice(1, 33));
  switch (t) {
    case WELCOME:
      need(15);
      return { t, version: b[1], peer: v.getUint32(2), maxFrame: v.getUint16(6), maxRoom: v.getUint16(8),
        maxRooms: b[10], rate: v.getUint16(11), idle: v.getUint16(13), entry: b.slice(15) };
    case ROOM: {
      const r = room();
      if ((b.length - 33) % 4) throw Error('malformed frame');
      const peers = [];
      for (let o = 33; o < b.length; o += 4) peers.push(v.getUint32(o));
      return { t, room: r, peers };
    }
    case JOINED:
    case LEFT:
      need(37);
      return { t, room: room(), peer: v.getUint32(33) };
    case SIGNAL:
      need(37);
      return { t, room: room(), from: v.getUint32(33), blob: b.slice(37) };
    case PONG:
      need(9);
      return { t, nonce: v.getUint32(5) };
    case NODES: {
      const entries = [];
      for (let o = 1; o < b.length; ) {
        need(o + 2);
        const n = v.getUint16(o);
        need(o + 2 + n);
        entries.push(b.slice(o + 2, (o += 2 + n)));
      }
      return { t, entries };
    }
    case ERROR:
      need(3);
      return { t, code: b[1], request: b[2] };
    case CLOSING:
      need(2);
      return { t, code: b[1] };
  }
  throw Error('unknown frame type ' + t);
}
