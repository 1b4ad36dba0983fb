// Fake relays that speak Layer 1 version 2 (docs/protocol.md) to in-memory links, and form a
// federation the way the real relays do: each hands out session ids under its own tag,
// tells the others its members' joins and leaves, forwards signals to the relay whose tag
// an address names, and when one dies (or restarts) the others drop all of its members at
// once. A link is any object with `addr`, `linkDown()` and `frame(bytes)`;
// `world.later(f)` schedules a delivery. Used by the core tests (world.js) and the
// browser-layer tests (fake-rtc.js).

import { decode, address } from '../src/proto.js';
import { concat, unhex } from '../src/bytes.js';

export const u32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const u16 = (n) => new Uint8Array([n >> 8, n & 255]);
const key = (b) => Buffer.from(b).toString('hex');

/** Relay frames, as docs/protocol.md lays them out; addresses are hex. */
export const frames = {
  welcome: (peer, idle = 30, entry = new Uint8Array()) =>
    concat(new Uint8Array([0x81, 2]), u32(peer), u16(16384), u16(250), new Uint8Array([8]), u16(50), u16(idle), entry),
  room: (room, peers) => concat(new Uint8Array([0x8a]), room, ...peers.map(unhex)),
  joined: (room, peer) => concat(new Uint8Array([0x8b]), room, unhex(peer)),
  left: (room, peer) => concat(new Uint8Array([0x8c]), room, unhex(peer)),
  signal: (room, from, blob) => concat(new Uint8Array([0x8d]), room, unhex(from), blob),
  pong: (n) => concat(new Uint8Array([0x86]), u32(0), u32(n)),
  nodes: (...entries) => concat(new Uint8Array([0x87]), ...entries.flatMap((e) => [u16(e.length), e])),
};

/** "Sealing" that binds sender and recipient as keys.js does (its AAD), without crypto. */
export const fakeSeal = (from, to, body) => concat(unhex(from), unhex(to), body);
export function fakeOpen(from, to, blob) {
  if (key(blob.subarray(0, 24)) != from + to) throw Error('does not open');
  return blob.subarray(24);
}

/**
 * A relay with tag `tag` (16 hex digits) in federation `fed` (the array of its relays, to
 * which it adds itself). Forwards nothing while `blackhole`; lists every member twice in a
 * Room while `twice`; answers GetNodes with `nodes`; `gossip(f)` carries what it tells the
 * other relays (a delivery of the world unless a test slows it down), `forward(f)` the signals
 * it sends them (through `gossip`, so never ahead of a join, unless a test says otherwise).
 */
export class FakeRelay {
  constructor(world, tag = '7a'.repeat(8), fed = []) {
    Object.assign(this, { world, tag, fed, next: 1, alive: true, sessions: new Map(), rooms: new Map(), seen: [] });
    this.nodes = [];
    this.gossip = (f) => world.later(f);
    this.forward = (f) => this.gossip(f);
    fed.push(this);
  }
  /** A node's link opens: returns its Welcome, our address for it in `me`. */
  connect(node, idle = 30) {
    const id = this.next++;
    const w = decode(frames.welcome(id, idle));
    w.me = address(w, unhex(this.tag));
    this.sessions.set(w.me, node);
    node.addr = w.me;
    return w;
  }
  /** The relay dies: every link drops and every other relay forgets its members. */
  kill() {
    this.alive = false;
    const nodes = [...this.sessions.values()];
    this.sessions.clear();
    this.rooms.clear();
    for (const r of this._others()) r._forget(this.tag);
    for (const n of nodes) n.linkDown();
  }
  /** The relay restarts: as `kill`, and it is back at once, handing out ids from 1 again. */
  restart() {
    this.kill();
    this.alive = true;
    this.next = 1;
  }
  /** A node's link closes. */
  drop(node) {
    const addr = node.addr;
    if (this.sessions.get(addr) != node) return;
    this.sessions.delete(addr);
    for (const r of this.rooms.keys()) this._member(Buffer.from(r, 'hex'), addr, false);
  }
  _others() {
    return this.fed.filter((r) => r != this && r.alive);
  }
  _to(addr, frame) {
    const node = this.sessions.get(addr);
    if (node) this.world.later(() => node.frame(frame));
  }
  _members(room) {
    const k = key(room);
    if (!this.rooms.has(k)) this.rooms.set(k, new Set());
    return this.rooms.get(k);
  }
  /** `addr` joins or leaves `room`: its own relay tells the others, each tells its sessions. */
  _member(room, addr, joins, gossip = addr.startsWith(this.tag)) {
    const members = this._members(room);
    if (members.has(addr) == joins) return;
    joins ? members.add(addr) : members.delete(addr);
    for (const m of members) if (m != addr && this.sessions.has(m)) this._to(m, (joins ? frames.joined : frames.left)(room, addr));
    if (gossip) for (const r of this._others()) this.gossip(() => r._member(room, addr, joins, false));
  }
  /** A relay of the federation is gone: its members leave every room. */
  _forget(tag) {
    for (const [r, members] of this.rooms)
      for (const m of members) if (m.startsWith(tag)) this._member(Buffer.from(r, 'hex'), m, false, false);
  }
  /** A signal from another relay for one of our sessions. */
  _deliver(room, from, to, blob) {
    if (this._members(room).has(from) && this._members(room).has(to)) this._to(to, frames.signal(room, from, blob));
  }
  /** A frame from `node`'s link. */
  recv(node, f) {
    this.seen.push(f);
    const from = node.addr;
    if (this.sessions.get(from) != node) return;
    if (f[0] == 5 && this.pongs) return this._to(from, frames.pong(0));
    if (f[0] == 6) return this._to(from, frames.nodes(...this.nodes));
    const room = f.subarray(1, 33);
    const members = this._members(room);
    if (f[0] == 2) {
      this._to(from, frames.room(room, [...members, ...(this.twice ? members : [])]));
      this._member(room, from, true);
    } else if (f[0] == 3) this._member(room, from, false);
    else if (f[0] == 7 && !this.blackhole && members.has(from)) {
      const to = key(f.subarray(33, 45));
      const relay = this.fed.find((r) => r.alive && to.startsWith(r.tag));
      const blob = f.slice(45);
      // Through the same gossip as the sender's join, so never ahead of it.
      const deliver = () => relay._deliver(room, from, to, blob);
      if (relay) relay == this ? this.world.later(deliver) : this.forward(deliver);
    }
  }
}
