// Verification codes (docs/security.md): six digits two people compare to learn that no one
// sits in the middle of their direct connection. Each side draws a 16-byte nonce and, on a
// pre-negotiated channel (id 2), sends its SHA-256 first and the nonce itself only once it
// holds the other side's hash, so no one (a middleman included) picks a nonce after seeing
// the other's. The code binds both nonces to both DTLS fingerprints: a middleman has its own
// certificates, so the two screens show codes that differ, except by a one-in-a-million chance
// it cannot improve by trying certificates.

import { te, concat, equal, sha256 } from './bytes.js';

// The `a=fingerprint` of a description: "sha-256 AB:CD:…".
const fp = (d) => /a=fingerprint:(\S+ \S+)/.exec(d.sdp)?.[1];

/** The code of room id `id` for both fingerprints and both nonces, each pair in any order. */
export async function code(id, fps, a, b) {
  // The fingerprints as text: in string order, joined by ",".
  const h = await sha256(concat(id, a.map((x, i) => x ^ b[i]), te.encode(fps.sort())));
  return String(new DataView(h.buffer).getUint32(0) % 1e6).padStart(6, 0);
}

/**
 * Runs the exchange on peer connection `pc` of the room with id `id`; resolves to the code
 * once both nonces are in, rejects if the other side's nonce is not the one it committed to.
 */
export function verify(pc, id) {
  const c = pc.createDataChannel('v', { negotiated: true, id: 2 });
  const n = crypto.getRandomValues(new Uint8Array(16));
  const h = sha256(n);
  // Both sends wait for the hash, so the nonce never goes before it.
  const tx = (b) => h.then((x) => c.readyState == 'open' && c.send(b || x));
  let theirs;
  c.binaryType = 'arraybuffer';
  c.onopen = () => tx();
  return new Promise((ok) => {
    c.onmessage = ({ data }) => {
      const m = new Uint8Array(data);
      theirs ? ok(m) : ((theirs = m), tx(n));
    };
  }).then(async (m) => {
    if (!equal(await sha256(m), theirs)) throw Error('lumamesh: bad nonce');
    return code(id, [pc.localDescription, pc.remoteDescription].map(fp), n, m);
  });
}
