// The runtime's pure core: the relay link's life (link.js), the rooms and their members,
// the signaling that connects two members (nego.js; sealed through the relay until their
// own reliable channel opens, in band after that) and each member's send queue (queue.js).
//
// Inputs go in with `handle(now, input)`; what to do comes out of `poll()`; `timeout()` is
// when to call `handle(now, { t: 'tick' })` next. Nothing here touches RTCPeerConnection,
// timers, the clock, storage, crypto or randomness: the browser layer (peer.js, room.js,
// index.js) carries the actions out, and the node tests drive it with fakes.
//
// Members are known by address (relay tag + that relay's session id, as hex: proto.js).
// Addresses change when a relay restarts or a member moves to another relay; session ids
// (`sid`, random per connect(), carried in every sealed signal) do not. A Room or Joined
// creates nothing: a newcomer probes the members its Room lists ({who}), and a member probes
// a newcomer on another relay that has not probed it by its link's second ping tick (two
// joins on two relays at once may each find the room empty, and a probe may cross the
// federation ahead of its sender's join). Each answers ({ack}: 1 if it does not know us, 2
// if its offer is on the way or its channel is open, 3 if it waits for our offer). Only a
// signal that decrypted under the room key and answers one of ours on this link creates a
// peer, at most `max` (64) per room.
//
// Every sealed signal carries our session id `s`, a counter `n` (one per session, rising),
// and, once known, the recipient's session id `r` and `e`, the highest counter we heard from
// it. A signal is taken only if its counter is new from its address (not seen, not older
// than the one that made the peer: relays may reorder), and (a probe apart) meant for our
// session; one that creates a peer must echo a counter of ours from this link. So a signal
// recorded earlier replays into nothing, in a later session or the same one. Session ids
// are self-asserted, so no sealed signal moves a peer to another address: a member at a new
// address whose session id we already have a peer for is not answered. An open peer tells
// its new address in band (its DTLS channel is the proof); a connection that has not opened
// starts afresh when we rejoin, and is closed on a Left. A Left for a member whose channel
// is open only detaches it from the relay (its channel does not need one). A member whose
// channel has not opened is probed again on every ping tick from the second on: a pending
// offer is made again, a lost answer given again, and a member that no longer knows us is
// started afresh (anything lost would leave both sides waiting).

import { Link } from './link.js';
import { Negotiation } from './nego.js';
import { Outbox } from './queue.js';
import { pack, chunks, reassembler, CTRL } from './chunk.js';
import { te, td, equal } from './bytes.js';
import { join, leave, ping, getNodes, ROOM2, JOINED2, LEFT2, SIGNAL2, NODES, ERROR } from './proto.js';

export class Mesh {
  /** `sid` is this session's id, random and hex, chosen by the caller. */
  constructor(sid) {
    this.sid = sid;
    this.link = new Link();
    this.rooms = [];
    this.out = [];
    this.closed = false;
    // Our signal counter, and its value when the current link opened.
    this.n = this.n0 = 0;
  }

  /** The next action, or undefined when there is none. */
  poll() {
    return this.out.shift();
  }

  /** When the next `tick` is due (Infinity: none). */
  timeout() {
    return this.link.at;
  }

  _do(t, o) {
    this.out.push({ t, ...o });
  }

  _emit(to, type, arg) {
    this._do('emit', { to, type, arg });
  }

  _relay(frame) {
    if (this.link.up) this._do('relay', { frame });
  }

  /**
   * Feeds one input at time `now` (ms). Returns a room for `join` and a promise for
   * `send`; see the README for the list of inputs and actions.
   */
  handle(now, i) {
    const L = this.link;
    const p = i.peer;
    if (p?.closed) return i.t == 'send' ? Promise.resolve() : undefined;
    switch (i.t) {
      case 'up':
        if (this.closed) return this._do('hangup');
        L.open(now, i.welcome);
        this.n0 = this.n;
        this._relay(getNodes());
        for (const r of this.rooms) {
          r.soon = {};
          this._relay(join(r.id));
          // A connection that has not opened starts afresh (nothing sealed can prove that a
          // member at a new address is the one we had); an open one tells its peer in band.
          for (const p of [...r.peers]) p.box.open ? this._ctl(p, { a: L.me }) : this._close(p);
        }
        return this._emit(null, 'relay', i.welcome);
      case 'down':
      case 'fail':
        if (this.closed) return;
        L.lost(now);
        return this._emit(null, 'disconnected');
      case 'tick': {
        const due = L.tick(now);
        if (due == 'dial') this._do('dial');
        else if (due == 'dead') this._do('hangup');
        else if (due) {
          this._relay(ping(now >>> 0));
          for (const r of this.rooms) {
            // Probe again, from the second tick on, a member whose channel has not opened.
            for (const p of r.peers) !p.box.open && p.ep == L.epoch && p.old++ && this._sig(r, p.id, { who: 1 }, p);
            // Probe, from the second tick on, a newcomer on another relay we have not met.
            for (const id in r.soon)
              if (this._byId(r, id)) delete r.soon[id];
              else if (r.soon[id]++) delete r.soon[id], this._sig(r, id, { who: 1 });
          }
        }
        return;
      }
      case 'frame':
        L.heard = now;
        return this._frame(i.f);
      case 'sig':
        return this._incoming(i.room, i.from, i.body, i.ep);
      case 'join': {
        const r = { id: i.id, nick: i.nick, kinds: {}, peers: [], max: i.max || 64, soon: {} };
        this.rooms.push(r);
        this._relay(join(r.id));
        return r;
      }
      case 'leave':
        return this._leave(i.room);
      case 'publish':
        i.room.kinds[i.id] = i.kind;
        return;
      case 'close':
        this.closed = true;
        for (const r of [...this.rooms]) this._leave(r);
        L.stop();
        return this._do('hangup');
      case 'send':
        return this._send(p, i.msg, i.reliable);
      case 'pull':
        return p.box.next();
      case 'nn':
        if (p.neg.wants()) this._do('offer', { peer: p });
        return;
      case 'local':
        if (p.neg.local(i.desc)) this._ctl(p, this._desc(p, i.desc));
        return;
      case 'ice':
        return this._ctl(p, { c: i.c });
      case 'unsent':
        return this._ctl(p, i.obj);
      case 'open':
        p.box.open = true;
        this._flush(p);
        this._do('ready', { peer: p });
        return this._emit(p, 'open');
      case 'rx': {
        const got = p.feed(i.data);
        if (got) got[0] == CTRL ? this._apply(p, got[1], 1) : this._emit(p, 'data', got[1]);
        return;
      }
      case 'urx': {
        // Unreliable messages are single frames; a chunk or a control frame here is not ours.
        const got = reassembler()(i.data);
        if (got && got[0] != CTRL) this._emit(p, 'data', got[1]);
        return;
      }
      case 'gone':
        return this._close(p);
    }
    throw Error('unknown input ' + i.t);
  }

  _frame(f) {
    if (f.t == NODES) return this._do('learn', { entries: f.entries });
    if (f.t == ERROR) return this._emit(null, 'error', f);
    const r = f.room && this.rooms.find((r) => equal(r.id, f.room));
    if (!r) return;
    // A newcomer probes the members its Room lists. Across relays, each of two members may
    // learn of the other from its Room or from a Joined, in either order, or both (two joins
    // at once may each find the room empty): there the larger address probes at once and the
    // other only if not probed by its second tick (if both probed, both would offer and one
    // first offer would be rolled back). One relay orders its own joins, so its Room is
    // complete and its Joined needs no probe.
    const far = (id) => id.slice(0, 16) != this.link.me.slice(0, 16);
    const probe = (id) => (far(id) && id > this.link.me ? (r.soon[id] = 0) : this._sig(r, id, { who: 1 }));
    if (f.t == ROOM2) f.peers.forEach(probe);
    else if (f.t == JOINED2 && far(f.peer)) this._byId(r, f.peer) || probe(f.peer);
    else if (f.t == LEFT2) {
      delete r.soon[f.peer];
      const p = this._byId(r, f.peer);
      // Epochs start at 1: a detached member is found again by its session id only.
      if (p) p.box.open ? (p.ep = 0) : this._close(p);
    } else if (f.t == SIGNAL2)
      this._do('unseal', { room: r, from: f.from, to: this.link.me, blob: f.blob, ep: this.link.epoch });
  }

  /** A member on the current link by address. */
  _byId(r, id) {
    return r.peers.find((p) => p.id == id && p.ep == this.link.epoch);
  }

  _peer(r, id, initiator, sid) {
    if (r.peers.length >= r.max) return;
    // The initiator is the impolite side of perfect negotiation, for the connection's life.
    const p = { id, sid, room: r, nick: '', kinds: {}, ep: this.link.epoch, held: [], old: 0, at: this.n, got: new Set() };
    p.neg = new Negotiation(initiator);
    p.box = new Outbox();
    p.feed = reassembler();
    r.peers.push(p);
    this._do('peer', { peer: p });
    return p;
  }

  /** A sealed signal from address `from`, opened by the browser layer. */
  _incoming(r, from, body, ep) {
    if (ep != this.link.epoch || !this.rooms.includes(r)) return;
    const msg = JSON.parse(td.decode(body));
    // Not ours to answer: malformed, our own signal come back, or meant for another session
    // (only a probe may go before its sender knows ours).
    const mine = msg?.r || (msg?.who && this.sid);
    if (typeof msg?.s != 'string' || msg.s == this.sid || !(msg.n > 0) || mine != this.sid) return;
    let p = this._byId(r, from);
    // An address speaks for one session; a counter seen before, or older than the signal
    // that made the peer, is a replay (relays may reorder signals, so newer is not required);
    // a session id we have a peer for elsewhere moves nothing (a peer moves in band only).
    if (p ? p.sid != msg.s || msg.n < p.f || p.got.has(msg.n) : r.peers.some((q) => q.sid == msg.s)) return;
    // It forgot us, answering a probe made since this connection began: start afresh.
    if (p && msg.ack == 1 && msg.e > p.at && !p.box.open) this._close(p), (p = null);
    // Ack 1: I do not know you; 2: my offer is on its way, or the channel is open; 3: I wait
    // for your offer. Anything else creates a peer only if it answers us on this link.
    if (msg.who) this._sig(r, from, { ack: !p ? 1 : p.box.open || p.neg.initiator ? 2 : 3, r: msg.s, e: msg.n }, p);
    else if (!p && msg.e > this.n0) p = this._peer(r, from, !!(msg.ack & 1), msg.s);
    if (!p) return;
    p.f ??= msg.n;
    p.got.add(msg.n);
    p.n = Math.max(p.n | 0, msg.n);
    // Our offer may have been lost on its way when it asks again: make it again (the other
    // side ignores an offer it has seen).
    if ((msg.who || msg.ack == 3) && !p.box.open && p.neg.state == 'have-local-offer' && !p.held.some((o) => o.sdp))
      p.held.unshift(this._desc(p, p.neg.offer));
    this._flush(p);
    // Once the direct channel is open, negotiation runs in it; the relay carries none.
    if (!msg.who && !msg.ack && !p.box.open) this._apply(p, msg);
  }

  _desc(p, sdp) {
    return { sdp, kinds: p.room.kinds, nick: p.room.nick };
  }

  /** A control message from the other side, through the relay or in band. */
  _apply(p, { sdp, kinds, nick, c, a }, inBand) {
    // Our open channel is the member itself: it moved to address `a`. Detached, so that no
    // signal from that address is taken for it (it could name another member's).
    if (inBand && a) (p.id = a), (p.ep = 0);
    if (nick != null) p.nick = String(nick);
    if (kinds && typeof kinds == 'object') for (const k in kinds) p.kinds[k] = kinds[k];
    // Both sides know both session ids by now; the smaller one is polite.
    if (p.sid) p.neg.polite = this.sid < p.sid;
    if (c) this._do('cand', { peer: p, c });
    else if (sdp && p.neg.remote(sdp)) this._do('remote', { peer: p, desc: sdp });
    // The offer we answered, made again: our answer was lost.
    else if (sdp?.sdp == p.neg.seen && p.neg.answer) this._ctl(p, this._desc(p, p.neg.answer));
  }

  /**
   * Seals `obj` from us to address `to` (the browser layer seals; the AAD binds both addresses)
   * for member `who`, to whom it comes back as `unsent` if the link is gone by then.
   */
  _sig(r, to, obj, who) {
    const body = te.encode(JSON.stringify({ s: this.sid, n: ++this.n, r: who?.sid, e: who?.n, ...obj }));
    // Sealed (12-byte IV, 16-byte tag) it must fit a Signal2 frame's 16,339-byte blob.
    if (body.length > 16311) return false;
    if (this.link.up) this._do('seal', { room: r, from: this.link.me, to, body, who, obj });
    return true;
  }

  /** Sends a control message: in band once the channel is open, else sealed via the relay. */
  _ctl(p, obj) {
    if (p.box.open) {
      p.box.push(pack(obj, CTRL));
      this._do('ready', { peer: p });
    } else if (!(this.link.up && p.ep == this.link.epoch && this._sig(p.room, p.id, obj, p)))
      // Until the relay is back, or (too large for a relay frame) until the channel opens.
      p.held.push(obj);
  }

  _flush(p) {
    for (const obj of p.held.splice(0)) this._ctl(p, obj);
  }

  _send(p, msg, reliable = true) {
    const packed = pack(msg);
    if (!reliable) {
      const [frame, more] = chunks(packed);
      if (more) throw Error('unreliable messages are limited to 16 KiB');
      if (p.box.open) this._do('utx', { peer: p, frame });
      return Promise.resolve();
    }
    if (!p.box.open) return Promise.resolve();
    return new Promise((done) => {
      p.box.push(packed, done);
      this._do('ready', { peer: p });
    });
  }

  _leave(r) {
    if (!this.rooms.includes(r)) return;
    this.rooms = this.rooms.filter((x) => x != r);
    this._relay(leave(r.id));
    for (const p of [...r.peers]) this._close(p);
  }

  _close(p) {
    p.closed = true;
    p.box.clear();
    const r = p.room;
    r.peers = r.peers.filter((q) => q != p);
    this._do('close', { peer: p });
  }
}
