// The browser side of a room: the page's handle on the core's room record, the media
// streams published to every current and future member, and each peer's verification code.

import { Emitter } from './emitter.js';
import { verify } from './verify.js';

const addTracks = (peer, stream) => {
  for (const t of stream.getTracks()) peer.pc.addTrack(t, stream);
};

export class Room extends Emitter {
  /** `rec` is the core's room, `feed` gives the core an input, `view` maps a member to its Peer
   * (undefined until the driver has made it), `id` is the room id. */
  constructor(rec, feed, view, id) {
    super();
    this._rec = rec;
    this._feed = feed;
    this._view = view;
    this._streams = [];
    // Peer → its code (a promise); an entry goes with its peer.
    this._codes = new WeakMap();
    this.on('peer', (p) => {
      this._codes.set(p, verify(p.pc, id));
      this._streams.forEach((s) => addTracks(p, s));
    });
  }

  /** Resolves to the six digits `peer`'s screen shows too, unless someone sits between us. */
  code(peer) {
    return this._codes.get(peer);
  }

  /** The connected peers. */
  get peers() {
    return this._rec.peers.map(this._view).filter(Boolean);
  }

  /** Sends to every open peer. */
  broadcast(msg, opts) {
    for (const p of this.peers) p.send(msg, opts);
  }

  /** Publishes a MediaStream to every current and future peer; `kind` travels with it. */
  publish(stream, { kind = 'media' } = {}) {
    this._feed({ t: 'publish', room: this._rec, id: stream.id, kind });
    this._streams.push(stream);
    for (const p of this.peers) addTracks(p, stream);
  }

  leave() {
    this._feed({ t: 'leave', room: this._rec });
  }
}
