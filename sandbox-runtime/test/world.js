// An in-memory world for the core (src/mesh.js): a federation of fake relays that speak
// Layer 1 (one relay unless `relays` asks for more), fake time, and nodes that carry the
// core's actions out the way the browser layer does, with fake peer connections whose
// channels have a buffer and deliver in order. No browser, no network, no timers:
// `settle()` runs every pending delivery, `advance(ms)` moves time.

import { Mesh } from '../src/mesh.js';
import { decode, signal2 } from '../src/proto.js';
import { HIGH } from '../src/queue.js';
import { FakeRelay, fakeSeal, fakeOpen } from './relay-fake.js';

export { frames, fakeSeal } from './relay-fake.js';

/** Fake time, one FIFO of pending deliveries, and `relays` federated relays (tags a1a1…, a2a2…). */
export class World {
  constructor(relays = 1) {
    this.now = 1000;
    this.q = [];
    this.relays = [];
    for (let i = 1; i <= relays; i++) new FakeRelay(this, ('a' + i).repeat(8), this.relays);
    this.relay = this.relays[0];
    this.nodes = [];
  }
  later(f) {
    this.q.push(f);
  }
  settle(limit = 1e6) {
    while (this.q.length && limit--) this.q.shift()();
  }
  /** Moves time on by `ms`, firing each node's timer on the way, and settles. */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      this.settle();
      const due = Math.min(...this.nodes.map((n) => n.mesh.timeout()));
      if (due > end) break;
      this.now = Math.max(this.now, due);
      for (const n of this.nodes) if (n.mesh.timeout() <= this.now) n.input({ t: 'tick' });
    }
    this.now = end;
    this.settle();
  }
  /** Runs `f` with the relay dropping every signal, and settles. */
  lose(f) {
    this.relay.blackhole = true;
    f();
    this.settle();
    this.relay.blackhole = false;
  }
  /** Restarts the relay and gives every node time to redial and rejoin. */
  restartRelay() {
    this.relay.restart();
    this.advance(300);
  }
  node(name, opts) {
    const n = new Node(this, name, opts);
    this.nodes.push(n);
    return n;
  }
}

/**
 * One page's runtime: the core, and a driver that does its actions in memory. It first dials
 * `relay`; a redial goes, as index.js does, to a live relay other than the one just lost
 * if there is one.
 */
export class Node {
  constructor(world, sid, { autoDial = true, relay = world.relay } = {}) {
    this.world = world;
    this.sid = sid;
    this.relay = relay;
    this.mesh = new Mesh(sid);
    this.autoDial = autoDial;
    this.events = [];
    this.actions = [];
    this.pcs = new Map();
    this.up = false;
  }
  input(i) {
    const r = this.mesh.handle(this.world.now, i);
    for (let a; (a = this.mesh.poll()); ) this.act(a);
    return r;
  }
  dial(relay = this.relay) {
    this.up = true;
    this.relay = relay;
    this.input({ t: 'up', welcome: relay.connect(this) });
  }
  redial() {
    const live = this.world.relays.filter((r) => r.alive);
    const relay = live.find((r) => r != this.lost) || live[0];
    relay ? this.dial(relay) : this.input({ t: 'fail' });
  }
  linkDown() {
    if (!this.up) return;
    this.up = false;
    this.lost = this.relay;
    this.world.later(() => this.input({ t: 'down' }));
  }
  frame(bytes) {
    if (this.up) this.input({ t: 'frame', f: decode(bytes) });
  }
  join(id, nick = this.sid) {
    return this.input({ t: 'join', id, nick });
  }
  /** The fake connection to the member with session id `sid`, if any (a live one first). */
  pcTo(sid) {
    const all = [...this.pcs.values()].filter((pc) => pc.rec.sid == sid);
    return all.find((pc) => !pc.closed) || all[0];
  }
  act(a) {
    this.actions.push(a);
    const relay = this.relay;
    const pc = a.peer && this.pcs.get(a.peer);
    switch (a.t) {
      case 'relay':
        return this.up && relay.recv(this, a.frame);
      case 'seal':
        // Sealing takes a while, as WebCrypto does; the link may be gone (or another one up)
        // when it is done.
        const ep = this.mesh.link.epoch;
        return this.world.later(() => {
          if (!this.up || ep != this.mesh.link.epoch) return a.who && this.input({ t: 'unsent', peer: a.who, obj: a.obj });
          this.relay.recv(this, signal2(a.room.id, a.to, fakeSeal(a.from, a.to, a.body)));
        });
      case 'unseal':
        return this.world.later(() =>
          this.input({ t: 'sig', room: a.room, from: a.from, body: fakeOpen(a.from, a.to, a.blob), ep: a.ep }),
        );
      case 'dial':
        if (this.autoDial) this.world.later(() => this.redial());
        return;
      case 'hangup':
        relay.drop(this);
        return this.linkDown();
      case 'peer':
        return this.pcs.set(a.peer, new FakePc(this, a.peer));
      case 'emit':
        return this.events.push({ type: a.type, to: a.to, arg: a.arg });
    }
    pc?.act(a);
  }
}

/**
 * A peer connection: descriptions name their session, the channel opens once both sides
 * hold both descriptions, and the reliable channel's buffer drains one frame per delivery.
 */
export class FakePc {
  constructor(node, rec) {
    this.node = node;
    this.rec = rec;
    this.buffered = 0;
    this.open = false;
    this.sent = [];
    this.candidates = [];
    this.n = 0;
    this.maxBuffered = 0;
    // Like a browser, the new connection asks to negotiate once its channels exist.
    this.later(() => this.tell('nn'));
  }
  tell(t, o) {
    return this.node.input({ t, peer: this.rec, ...o });
  }
  act(a) {
    if (a.t == 'offer') this.later(() => this.setLocal('offer'));
    else if (a.t == 'remote') {
      this.remote = a.desc;
      if (a.desc.type == 'offer') this.later(() => this.setLocal('answer'));
      else this.later(() => this.maybeOpen());
    } else if (a.t == 'cand') this.candidates.push(a.c);
    else if (a.t == 'ready') this.pump();
    else if (a.t == 'close') {
      // Closing a connection closes its channels, which the other side sees.
      this.closed = true;
      const o = this.open && this.other();
      if (o && !o.closed) this.later(() => o.tell('gone'));
    }
  }
  later(f) {
    this.node.world.later(f);
  }
  setLocal(type) {
    this.local = { type, sdp: `${type} ${this.node.sid} #${++this.n} ` + (this.sdpPad || '') };
    this.tell('local', { desc: this.local });
    this.maybeOpen();
  }
  other() {
    const sid = this.remote && this.remote.sdp.split(' ')[1];
    return this.node.world.nodes.find((n) => n.sid == sid)?.pcTo(this.node.sid);
  }
  maybeOpen() {
    const o = this.other();
    if (this.open || this.node.world.noIce || !o || !this.local || !this.remote || !o.local || !o.remote) return;
    this.open = o.open = true;
    this.tell('open');
    o.tell('open');
  }
  /** The browser layer's pump: pull while the buffer is under HIGH. */
  pump() {
    for (let it; this.open && !this.closed && this.buffered <= HIGH && (it = this.tell('pull')); ) {
      this.buffered += it.frame.length;
      this.maxBuffered = Math.max(this.maxBuffered, this.buffered);
      this.sent.push(it.frame);
      it.done?.();
      const frame = it.frame;
      this.later(() => this.deliver(frame));
    }
  }
  deliver(frame) {
    const before = this.buffered;
    this.buffered -= frame.length;
    const o = this.other();
    if (o && !o.closed) o.tell('rx', { data: frame.slice().buffer });
    if (before > HIGH / 4 && this.buffered <= HIGH / 4) this.pump();
  }
}
