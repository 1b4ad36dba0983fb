// A fake relay that speaks Layer 1 (docs/protocol.md) to in-memory links: sessions with ids,
// rooms, forwarding, and restart() that drops every link and hands out ids afresh. A link is
// any object with `relayId`, `linkDown()` and `frame(bytes)`; `world.later(f)` schedules a
// delivery. Used by the core tests (world.js) and the browser-layer tests (fake-rtc.js).

import { decode } from '../src/proto.js';
import { concat } from '../src/bytes.js';

export const u32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const u16 = (n) => new Uint8Array([n >> 8, n & 255]);

/** Relay frames, as docs/protocol.md lays them out. */
export const frames = {
  welcome: (peer, idle = 30) =>
    concat(new Uint8Array([0x81, 1]), u32(peer), u16(16384), u16(250), new Uint8Array([8]), u16(50), u16(idle)),
  room: (room, peers) => concat(new Uint8Array([0x82]), room, ...peers.map(u32)),
  joined: (room, peer) => concat(new Uint8Array([0x83]), room, u32(peer)),
  left: (room, peer) => concat(new Uint8Array([0x84]), room, u32(peer)),
  signal: (room, from, blob) => concat(new Uint8Array([0x85]), room, u32(from), blob),
  pong: (n) => concat(new Uint8Array([0x86]), u32(0), u32(n)),
  nodes: (...entries) => concat(new Uint8Array([0x87]), ...entries.flatMap((e) => [u16(e.length), e])),
};

const key = (b) => Buffer.from(b).toString('hex');

/** "Sealing" that binds sender and recipient as keys.js does (its AAD), without crypto. */
export const fakeSeal = (from, to, body) => concat(u32(from), u32(to), body);
export function fakeOpen(from, to, blob) {
  const v = new DataView(blob.buffer, blob.byteOffset);
  if (v.getUint32(0) != from || v.getUint32(4) != to) throw Error('does not open');
  return blob.subarray(8);
}

/** A relay: sessions with ids, rooms, forwarding (none while `blackhole`); restart() forgets everything. */
export class FakeRelay {
  constructor(world) {
    this.world = world;
    this.next = 1;
    this.sessions = new Map();
    this.rooms = new Map();
    this.seen = [];
  }
  /** A node's link opens: returns its Welcome. */
  connect(node, idle = 30) {
    const id = this.next++;
    this.sessions.set(id, node);
    node.relayId = id;
    return decode(frames.welcome(id, idle));
  }
  /** The relay goes away: every link drops, and the next ids start over. */
  restart() {
    const nodes = [...this.sessions.values()];
    this.sessions.clear();
    this.rooms.clear();
    this.next = 1;
    for (const n of nodes) n.linkDown();
  }
  drop(node) {
    const id = node.relayId;
    if (this.sessions.get(id) != node) return;
    this.sessions.delete(id);
    for (const [r, members] of this.rooms)
      if (members.delete(id)) for (const m of members) this._to(m, frames.left(Buffer.from(r, 'hex'), id));
  }
  _to(id, frame) {
    const node = this.sessions.get(id);
    if (node) this.world.later(() => node.frame(frame));
  }
  /** A frame from `node`'s link. */
  recv(node, f) {
    this.seen.push(f);
    const from = node.relayId;
    if (this.sessions.get(from) != node) return;
    if (f[0] == 5 && this.pongs) return this._to(from, frames.pong(0));
    const room = f.subarray(1, 33);
    const members = this.rooms.get(key(room)) || new Set();
    if (f[0] == 2) {
      this._to(from, frames.room(room, [...members]));
      for (const m of members) this._to(m, frames.joined(room, from));
      members.add(from);
      this.rooms.set(key(room), members);
    } else if (f[0] == 3) {
      members.delete(from);
      for (const m of members) this._to(m, frames.left(room, from));
    } else if (f[0] == 4 && !this.blackhole) {
      const to = new DataView(f.buffer, f.byteOffset).getUint32(33);
      if (members.has(from) && members.has(to)) this._to(to, frames.signal(room, from, f.subarray(37)));
    }
  }
}
