// A direct connection to one other member of a room: its own RTCPeerConnection with two
// pre-negotiated DataChannels (0 reliable+ordered, 1 unordered with no retransmits). Signaling
// goes through the relay, sealed end to end, until the reliable channel opens; renegotiation
// (media) then runs over the channel itself, so the relay is out of the path. ICE candidates
// trickle: each is sent as it is found, so no one waits for gathering to finish.

import { Emitter } from './emitter.js';
import { pack, chunks, reassembler, CTRL } from './chunk.js';

const HIGH = 1 << 20;

export class Peer extends Emitter {
  /**
   * `signal(obj)` sends a sealed signal via the relay; `polite` yields on offer glare;
   * the `initiator` makes the first offer.
   */
  constructor(id, polite, initiator, signal, config) {
    super();
    this.id = id;
    this.nick = '';
    this.kinds = {};
    this._signal = signal;
    this._polite = polite;
    this._making = false;
    this._queue = Promise.resolve();
    this._rx = Promise.resolve();
    const pc = (this.pc = new RTCPeerConnection(config));
    const ch = (id, o) => {
      const c = pc.createDataChannel('m' + id, { negotiated: true, id, ...o });
      c.binaryType = 'arraybuffer';
      c.bufferedAmountLowThreshold = HIGH / 4;
      return c;
    };
    this.rel = ch(0, {});
    this.unrel = ch(1, { ordered: false, maxRetransmits: 0 });
    const feed = reassembler();
    this.rel.onopen = () => this.emit('open');
    this.rel.onclose = () => this.close();
    this.rel.onmessage = (m) => this._recv(feed(m.data));
    this.unrel.onmessage = (m) => this._recv(reassembler()(m.data));
    // The side that did not initiate waits for the first offer rather than racing it.
    pc.onnegotiationneeded = () => (initiator || pc.remoteDescription) && this._offer();
    pc.onicecandidate = ({ candidate }) => candidate && this._send({ c: candidate });
    pc.ontrack = ({ track, streams: [stream] }) =>
      this.emit('track', { track, stream, kind: this.kinds[stream && stream.id] });
    pc.onconnectionstatechange = () => /failed|closed/.test(pc.connectionState) && this.close();
  }

  /** Sends any JSON value, string, ArrayBuffer or typed array. */
  send(msg, { reliable = true } = {}) {
    const frames = [...chunks(pack(msg))];
    if (!reliable) {
      if (frames.length > 1) throw Error('unreliable messages are limited to 16 KiB');
      if (this.unrel.readyState == 'open') this.unrel.send(frames[0]);
      return Promise.resolve();
    }
    return (this._queue = this._queue.then(() => this._pump(frames)));
  }

  async _pump(frames) {
    const c = this.rel;
    for (const f of frames) {
      if (c.readyState != 'open') return;
      if (c.bufferedAmount > HIGH) await new Promise((r) => (c.onbufferedamountlow = r));
      c.send(f);
    }
  }

  _recv(got) {
    if (!got) return;
    const [kind, msg] = got;
    if (kind == CTRL) this.handle(msg);
    else this.emit('data', msg);
  }

  _send(obj) {
    if (this.rel.readyState == 'open') this.rel.send([...chunks(pack(obj, CTRL))][0]);
    else this._signal(obj);
  }

  async _offer() {
    try {
      this._making = true;
      await this.pc.setLocalDescription();
      this._send({ sdp: this.pc.localDescription, kinds: this._kinds, nick: this._nick });
    } catch (e) {
      console.error(e);
    } finally {
      this._making = false;
    }
  }

  /** Queues a signal (or in-band control message) from the other side, in arrival order. */
  handle(msg) {
    return (this._rx = this._rx.then(async () => this._apply(await msg)).catch((e) => console.error(e)));
  }

  async _apply({ sdp, kinds, nick, c }) {
    if (nick != null) this.nick = nick;
    Object.assign(this.kinds, kinds);
    if (c) return this.pc.addIceCandidate(c).catch(() => {}); // a candidate of an ignored offer
    if (!sdp) return;
    const pc = this.pc;
    const glare = sdp.type == 'offer' && (this._making || pc.signalingState != 'stable');
    if (glare && !this._polite) return;
    await pc.setRemoteDescription(sdp);
    if (sdp.type == 'offer') {
      await pc.setLocalDescription();
      this._send({ sdp: pc.localDescription, kinds: this._kinds, nick: this._nick });
    }
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.pc.close();
    this.emit('close');
  }
}
