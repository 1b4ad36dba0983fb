// The browser side of one room member: its RTCPeerConnection with two pre-negotiated
// DataChannels (0 reliable+ordered, 1 unordered with no retransmits), doing what the core
// (mesh.js) decides and telling it what the connection did. ICE candidates trickle: each is
// handed to the core as it is found.

import { Emitter } from './emitter.js';
import { HIGH } from './queue.js';

export class Peer extends Emitter {
  /**
   * `rec` is the core's record of the member, `feed(input)` gives the core an input, and
   * `bind(peer, act)` hands the driver the function that carries out the core's actions.
   */
  constructor(rec, feed, config, bind) {
    super();
    this._rec = rec;
    this._feed = feed;
    const pc = (this.pc = new RTCPeerConnection(config));
    const tell = (t, o) => feed({ t, peer: rec, ...o });
    const ch = (id, o) => {
      const c = pc.createDataChannel('m' + id, { negotiated: true, id, ...o });
      c.binaryType = 'arraybuffer';
      c.bufferedAmountLowThreshold = HIGH / 4;
      return c;
    };
    const rel = ch(0, {});
    const unrel = ch(1, { ordered: false, maxRetransmits: 0 });
    // The reliable channel drains the core's send queue while its buffer is under HIGH.
    const pump = () => {
      for (let it; rel.readyState == 'open' && rel.bufferedAmount <= HIGH && (it = tell('pull')); ) {
        rel.send(it.frame);
        it.done?.();
      }
    };
    rel.onopen = () => tell('open');
    rel.onclose = () => this.close();
    rel.onbufferedamountlow = pump;
    rel.onmessage = (m) => tell('rx', { data: m.data });
    unrel.onmessage = (m) => tell('urx', { data: m.data });
    pc.onnegotiationneeded = () => tell('nn');
    pc.onicecandidate = ({ candidate }) => candidate && tell('ice', { c: candidate.toJSON() });
    pc.ontrack = ({ track, streams: [stream] }) =>
      this.emit('track', { track, stream, kind: rec.kinds[stream && stream.id] });
    pc.onconnectionstatechange = () => /failed|closed/.test(pc.connectionState) && this.close();

    // Descriptions are set one after another, in the order the core decided them.
    let ops = Promise.resolve();
    const op = (f) => (ops = ops.then(f).catch((e) => console.error(e)));
    const local = async () => {
      await pc.setLocalDescription();
      tell('local', { desc: pc.localDescription.toJSON() });
    };
    bind(this, (a) => {
      if (a.t == 'offer') op(local);
      else if (a.t == 'remote')
        op(async () => {
          await pc.setRemoteDescription(a.desc);
          if (a.desc.type == 'offer') await local();
        });
      // A candidate of an offer we ignored fails to apply, and that is fine.
      else if (a.t == 'cand') op(() => pc.addIceCandidate(a.c).catch(() => {}));
      else if (a.t == 'ready') pump();
      else if (a.t == 'utx') unrel.readyState == 'open' && unrel.send(a.frame);
      else if (a.t == 'close') pc.close(), this.emit('close');
    });
  }

  /** The peer's address, relay tag + session id in hex (it changes when the peer moves). */
  get id() {
    return this._rec.id;
  }

  /** The nick the peer joined with. */
  get nick() {
    return this._rec.nick;
  }

  /** Sends any JSON value, string, ArrayBuffer or typed array. */
  send(msg, { reliable = true } = {}) {
    return this._feed({ t: 'send', peer: this._rec, msg, reliable });
  }

  close() {
    this._feed({ t: 'gone', peer: this._rec });
  }
}
