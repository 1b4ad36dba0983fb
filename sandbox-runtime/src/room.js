// A room: members found through the relay, each reached by a direct Peer connection.
//
// Every sealed signal carries the sender's session id `s` (random, per connect()). Relay peer
// ids change when the relay restarts; session ids do not. After a rejoin the page probes the
// members it is told about ({who}) and each answers ({ack}); a member it already has a live
// connection with is re-addressed instead of connected to twice.

import { Emitter } from './emitter.js';
import { Peer } from './peer.js';
import { seal, open } from './keys.js';
import { te, td } from './bytes.js';
import { signal, ROOM, LEFT, SIGNAL } from './proto.js';

export class Room extends Emitter {
  constructor(net, keys, opts) {
    super();
    this._net = net;
    this._keys = keys;
    this._opts = opts;
    this._peers = new Map();
    this._streams = [];
    this._rx = {};
    this._bySid = new Map();
  }

  /** The connected peers. */
  get peers() {
    return [...this._peers.values()];
  }

  get _me() {
    return this._net._link.welcome.peer;
  }

  _peer(id, initiator, sid) {
    let p = this._peers.get(id);
    if (p) return p;
    // The initiator is the impolite side of perfect negotiation, for the connection's life.
    p = new Peer(id, !initiator, initiator, (obj) => this._signal(p.id, obj), this._opts.rtc);
    p._nick = this._opts.nick || '';
    p._kinds = {};
    p.sid = sid;
    if (sid) this._bySid.set(sid, p);
    this._peers.set(id, p);
    p.on('close', () => {
      if (this._peers.get(p.id) == p) this._peers.delete(p.id);
      if (this._bySid.get(p.sid) == p) this._bySid.delete(p.sid);
    });
    this.emit('peer', p);
    for (const [stream, kind] of this._streams) add(p, stream, kind);
    return p;
  }

  async _signal(to, obj) {
    const body = te.encode(JSON.stringify({ ...obj, s: this._net.sid }));
    const blob = await seal(this._keys, this._me, to, body);
    this._net._send(signal(this._keys.id, to, blob));
  }

  _frame(f) {
    if (f.t == ROOM)
      for (const id of f.peers) {
        if (this._probe) this._signal(id, { who: 1 });
        else this._peer(id, true);
      }
    else if (f.t == LEFT) this._peers.get(f.peer)?.close();
    else if (f.t == SIGNAL) {
      // One queue per sender keeps its signals in order; a peer appears only once a signal
      // from it decrypts.
      const from = f.from;
      this._rx[from] = (this._rx[from] || Promise.resolve())
        .then(() => open(this._keys, from, this._me, f.blob))
        .then((pt) => this._incoming(from, JSON.parse(td.decode(pt))))
        .catch(() => console.error('lumamesh: dropped a signal that did not decrypt'));
    }
  }

  _incoming(from, msg) {
    let p = this._bySid.get(msg.s) || this._peers.get(from);
    if (p && p.id != from) {
      // A member we know, under a new relay id (the relay restarted).
      if (this._peers.get(p.id) == p) this._peers.delete(p.id);
      p.id = from;
      this._peers.set(from, p);
    }
    if (p && !p.sid && msg.s) (p.sid = msg.s), this._bySid.set(msg.s, p);
    if (msg.who) return this._signal(from, { ack: 1 });
    if (msg.ack) return p || this._peer(from, true, msg.s);
    (p || this._peer(from, false, msg.s)).handle(msg);
  }

  /** Sends to every open peer. */
  broadcast(msg, opts) {
    for (const p of this._peers.values()) if (p.rel.readyState == 'open') p.send(msg, opts);
  }

  /** Publishes a MediaStream to every current and future peer; `kind` travels with it. */
  publish(stream, { kind = 'media' } = {}) {
    this._streams.push([stream, kind]);
    for (const p of this._peers.values()) add(p, stream, kind);
  }

  leave() {
    this._net._leave(this);
    for (const p of this._peers.values()) p.close();
  }
}

function add(peer, stream, kind) {
  peer._kinds[stream.id] = kind;
  for (const t of stream.getTracks()) peer.pc.addTrack(t, stream);
}
