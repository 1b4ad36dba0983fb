// Fake WebRTC for node: just enough RTCPeerConnection and RTCDataChannel for the runtime's
// browser layer (index.js, room.js, peer.js, relay.js) to run unchanged against the fake
// relay. Descriptions carry a token naming their connection; two connections meet once both
// hold both descriptions (unless `rtc.iceHold`); channels buffer what is sent and drain it
// WIRE bytes per turn, firing bufferedamountlow as a browser does; each added track makes
// the description `rtc.pad` bytes (20 KiB) longer, so renegotiating media means a control message over 16 KiB.
// Relays form one fake federation (relay-fake.js); a static answer reaches the relay whose
// entry has the answer's port, which welcomes with its entry (and its `idle` timeout, 30 s
// unless a test sets one) and answers GetNodes with every entry of the federation.

import { readFileSync } from 'node:fs';

import { FakeRelay, frames } from './relay-fake.js';
import { decodeEntry } from '../src/entry.js';
import { fromB64u, hex } from '../src/bytes.js';

const WIRE = 256 * 1024;
const turn = () => new Promise((r) => setImmediate(r));
const later = (f) => setImmediate(f);

/** The fake network: the relays by port, every connection by token. */
export const rtc = { relays: new Map(), fed: [], pcs: new Map(), iceHold: false, relayDown: false, n: 0, pad: 20 * 1024 };

/** Adds a relay for a relay.txt line (its tag from the entry's node key) to the federation. */
rtc.federate = (line) => {
  const entry = fromB64u(line);
  const e = decodeEntry(entry);
  const relay = new FakeRelay({ later }, hex(e.nk.subarray(0, 8)), rtc.fed);
  relay.entry = entry;
  rtc.relays.set(e.port, relay);
  for (const r of rtc.fed) r.nodes = rtc.fed.map((x) => x.entry);
  return relay;
};

/** The relay.txt lines of fixtures/relay/relay.txt. */
export const fixtureRelays = readFileSync(new URL('../../fixtures/relay/relay.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.split(/\s/)[0]);
/** The relay of the first fixture entry. */
rtc.relay = rtc.federate(fixtureRelays[0]);

/** Lets held connections meet. */
rtc.release = () => {
  rtc.iceHold = false;
  for (const pc of rtc.pcs.values()) pc._meet();
};

class Channel {
  constructor(pc, label, o = {}) {
    Object.assign(this, { pc, label, id: o.id, negotiated: !!o.negotiated, readyState: 'connecting' });
    Object.assign(this, { bufferedAmount: 0, bufferedAmountLowThreshold: 0, binaryType: 'blob', q: [] });
  }
  send(data) {
    if (this.readyState != 'open') throw Error('InvalidStateError: channel not open');
    const buf = data instanceof ArrayBuffer ? data.slice(0) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer;
    this.bufferedAmount += buf.byteLength;
    this.q.push(buf);
    if (this.q.length == 1) later(() => this._drain());
  }
  _drain() {
    let budget = WIRE;
    while (this.q.length && budget > 0 && this.readyState == 'open') {
      const buf = this.q.shift();
      budget -= buf.byteLength;
      const before = this.bufferedAmount;
      this.bufferedAmount -= buf.byteLength;
      this.deliver(buf);
      if (before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold)
        this.onbufferedamountlow?.();
    }
    if (this.readyState != 'open') this.q = [];
    if (this.q.length) later(() => this._drain());
  }
  deliver(buf) {
    this.other?.onmessage?.({ data: buf });
  }
  _open() {
    this.readyState = 'open';
    later(() => this.onopen?.());
  }
  close() {
    if (this.readyState == 'closed') return;
    this.readyState = 'closed';
    later(() => this.onclose?.());
    this.other?.close();
  }
}

/** The relay's end of a page's relay channel. */
class RelayEnd {
  constructor(dc) {
    this.dc = dc;
  }
  linkDown() {
    this.dc.close();
  }
  frame(bytes) {
    if (this.dc.readyState == 'open') this.dc.onmessage?.({ data: bytes.slice().buffer });
  }
}

const desc = (type, sdp) => ({ type, sdp, toJSON: () => ({ type, sdp }) });

export class RTCPeerConnection {
  constructor() {
    this.token = 'pc' + ++rtc.n;
    rtc.pcs.set(this.token, this);
    Object.assign(this, { signalingState: 'stable', connectionState: 'new', channels: [], tracks: [] });
    Object.assign(this, { localDescription: null, remoteDescription: null, candidates: [], seen: new Set() });
  }
  createDataChannel(label, o) {
    const c = new Channel(this, label, o);
    this.channels.push(c);
    this._needed();
    return c;
  }
  addTrack(track, stream) {
    this.tracks.push(stream.id);
    this._needed();
  }
  _needed() {
    if (this.nn) return;
    this.nn = true;
    later(() => this._fireNeeded());
  }
  _fireNeeded() {
    if (!this.nn || this.signalingState != 'stable' || this.closed) return;
    this.nn = false;
    this.onnegotiationneeded?.();
  }
  _sdp() {
    const lines = ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 'a=mid:0', `a=x-token:${this.token}`];
    for (const id of this.tracks) lines.push(`a=x-track:${id}`, 'a=x-pad:' + 'p'.repeat(rtc.pad));
    return lines.join('\r\n') + '\r\n';
  }
  async setLocalDescription() {
    await turn();
    const type = this.signalingState == 'have-remote-offer' ? 'answer' : 'offer';
    this.localDescription = desc(type, this._sdp());
    this.signalingState = type == 'offer' ? 'have-local-offer' : 'stable';
    if (!this.gathered) {
      this.gathered = true;
      later(() => this.emitCandidate('candidate:1 1 udp 1 127.0.0.1 9 typ host'));
    }
    this._settled();
  }
  /** Fires onicecandidate, as ICE gathering would. */
  emitCandidate(candidate) {
    const c = { candidate, sdpMid: '0', sdpMLineIndex: 0 };
    this.onicecandidate?.({ candidate: { ...c, toJSON: () => c } });
  }
  async setRemoteDescription(d) {
    await turn();
    if (d.type == 'answer' && this.signalingState != 'have-local-offer')
      throw Error('InvalidStateError: answer in state ' + this.signalingState);
    this.signalingState = d.type == 'offer' ? 'have-remote-offer' : 'stable';
    this.remoteDescription = d;
    this.remote = /a=x-token:(\S+)/.exec(d.sdp)?.[1];
    const relay = /a=candidate:\S+ \S+ udp \S+ \S+ (\d+) typ host/.exec(d.sdp);
    if (relay) this._dialRelay(rtc.relays.get(Number(relay[1])));
    for (const [, id] of d.sdp.matchAll(/a=x-track:(\S+)/g))
      if (!this.seen.has(id)) {
        this.seen.add(id);
        later(() => this.ontrack?.({ track: { kind: 'video' }, streams: [{ id }] }));
      }
    this._settled();
  }
  async addIceCandidate(c) {
    await turn();
    if (!this.remoteDescription) throw Error('InvalidStateError: no remote description');
    this.candidates.push(c.candidate);
  }
  _settled() {
    if (this.signalingState != 'stable') return;
    this._meet();
    this._fireNeeded();
  }
  _meet() {
    const o = rtc.pcs.get(this.remote);
    if (this.met || rtc.iceHold || !o || o.remote != this.token || !this.localDescription || !o.localDescription) return;
    if (this.signalingState != 'stable' || o.signalingState != 'stable') return;
    this.met = o.met = true;
    for (const c of this.channels) {
      const d = o.channels.find((x) => x.negotiated && x.id == c.id);
      if (!d) continue;
      [c.other, d.other] = [d, c];
      c._open();
      d._open();
    }
    this.connectionState = o.connectionState = 'connected';
  }
  _dialRelay(relay) {
    const [dc] = this.channels;
    if (rtc.relayDown || !relay?.alive) return later(() => dc.close());
    const end = new RelayEnd(dc);
    dc.deliver = (buf) => {
      const b = new Uint8Array(buf);
      if (b[0] == 1) return end.frame(frames.welcome(relay.connect(end).peer, relay.idle || 30, relay.entry));
      relay.recv(end, b);
    };
    const close = dc.close.bind(dc);
    dc.close = () => (relay.drop(end), close());
    dc._open();
  }
  close() {
    this.closed = true;
    this.connectionState = 'closed';
    for (const c of this.channels) c.close();
  }
}

/** Installs the fakes as globals. */
export function install() {
  globalThis.RTCPeerConnection = RTCPeerConnection;
}

/** Resolves once `cond()` holds; rejects after `ms`. */
export async function until(cond, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 5));
  }
}
