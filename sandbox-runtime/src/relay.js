// One DataChannel to one relay, opened from its entry with a static SDP answer.

import { staticAnswer, offerMid } from './sdp.js';
import { hello, decode, address, WELCOME, CLOSING } from './proto.js';

/**
 * Dials a relay. Resolves to a link once the relay's Welcome arrives:
 * `{ entry, welcome, send(frame), close(), onframe, onclose }`, with our own address on the
 * relay in `welcome.me`. `entry.verified` is the promise of its signature check; the link
 * is abandoned if it rejects, or if no Welcome comes within `o.timeout` ms of the dial's
 * start. The peer connection, its channel and its implicit offer are made before anything
 * waits, or taken
 * from `o.pc` (`[pc, dc, pc.setLocalDescription()]`, made by the page while the library
 * loaded), which only the first dial takes.
 */
export async function dial(entry, o) {
  const [pc = new RTCPeerConnection(), dc = pc.createDataChannel('lumamesh'), offered = pc.setLocalDescription()] = o.pc || [];
  o.pc = 0;
  dc.binaryType = 'arraybuffer';
  const link = { entry, onframe() {}, onclose() {}, send: (f) => dc.send(f) };
  let done;
  link.close = () => {
    if (done) return;
    done = true;
    pc.close();
    link.onclose();
  };
  try {
    link.welcome = await new Promise((ok, no) => {
      // From the start: an offer, a check or an answer that never settles gives up too.
      const t = setTimeout(() => no(Error('relay did not answer')), o.timeout);
      dc.onopen = () => dc.send(hello());
      dc.onmessage = (m) => {
        const f = decode(m.data);
        if (f.t == WELCOME) clearTimeout(t), ok(f);
        else if (f.t == CLOSING) no(Error('relay closing: ' + f.code));
      };
      dc.onclose = () => no(Error('relay closed'));
      (async () => {
        // Implicit offer: one call instead of createOffer + setLocalDescription.
        await offered;
        await entry.verified;
        await pc.setRemoteDescription({ type: 'answer', sdp: staticAnswer(entry, offerMid(pc.localDescription.sdp), o.lite) });
      })().catch(no);
    });
    link.welcome.me = address(link.welcome, entry.nk);
  } catch (err) {
    link.close();
    throw err;
  }
  dc.onmessage = (m) => {
    try {
      link.onframe(decode(m.data));
    } catch (e) {
      console.error(e);
    }
  };
  dc.onclose = link.close;
  pc.onconnectionstatechange = () => /failed|closed/.test(pc.connectionState) && link.close();
  return link;
}
