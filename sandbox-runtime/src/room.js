// A room: members found through the relay, each reached by a direct Peer connection.

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
  }

  /** The connected peers. */
  get peers() {
    return [...this._peers.values()];
  }

  get _me() {
    return this._net._link.welcome.peer;
  }

  _peer(id, initiator) {
    let p = this._peers.get(id);
    if (p) return p;
    p = new Peer(id, this._me > id, initiator, (obj) => this._signal(id, obj), this._opts.rtc);
    p._nick = this._opts.nick || '';
    p._kinds = {};
    this._peers.set(id, p);
    p.on('close', () => this._peers.get(id) == p && this._peers.delete(id));
    this.emit('peer', p);
    for (const [stream, kind] of this._streams) add(p, stream, kind);
    return p;
  }

  async _signal(to, obj) {
    const blob = await seal(this._keys, this._me, to, te.encode(JSON.stringify(obj)));
    this._net._send(signal(this._keys.id, to, blob));
  }

  async _frame(f) {
    if (f.t == ROOM) for (const id of f.peers) this._peer(id, true);
    else if (f.t == LEFT) this._peers.get(f.peer)?.close();
    else if (f.t == SIGNAL) {
      try {
        const msg = JSON.parse(td.decode(await open(this._keys, f.from, this._me, f.blob)));
        await this._peer(f.from, false).handle(msg);
      } catch (e) {
        console.error('dropped a signal that failed to decrypt or apply', e);
      }
    }
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
