// The browser side of a room: the page's handle on the core's room record, and the media
// streams published to every current and future member.

import { Emitter } from './emitter.js';

const addTracks = (peer, stream) => {
  for (const t of stream.getTracks()) peer.pc.addTrack(t, stream);
};

export class Room extends Emitter {
  /** `rec` is the core's room, `feed` gives the core an input, `view` maps a member to its Peer
   * (undefined until the driver has made it). */
  constructor(rec, feed, view) {
    super();
    this._rec = rec;
    this._feed = feed;
    this._view = view;
    this._streams = [];
    this.on('peer', (p) => this._streams.forEach((s) => addTracks(p, s)));
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
