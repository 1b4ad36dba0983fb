// The static SDP answer a page applies to reach a relay (docs/relay-txt.md).

import { fpText } from './entry.js';

/** The `a=mid` of our own offer. */
export const offerMid = (sdp) => (/^a=mid:(\S+)/m.exec(sdp) || [, '0'])[1];

/** Builds the answer for a verified entry, with `a=ice-lite` if `lite`; byte-identical to bootstrap-codec's. */
export function staticAnswer(e, mid, lite) {
  // A host name goes only into the candidate (docs/relay-txt.md, "Host names").
  const c = `IN IP${e.v6 ? 6 : 4} ${e.ip || '0.0.0.0'}`;
  return [
    'v=0',
    `o=- 1 1 ${c}`,
    's=-',
    't=0 0',
    ...(lite ? ['a=ice-lite'] : []),
    `m=application ${e.port} UDP/DTLS/SCTP webrtc-datachannel`,
    `c=${c}`,
    `a=mid:${mid}`,
    `a=ice-ufrag:${e.ufrag}`,
    `a=ice-pwd:${e.pwd}`,
    `a=fingerprint:sha-256 ${fpText(e.fp)}`,
    'a=setup:passive',
    'a=sctp-port:5000',
    'a=max-message-size:16384',
    `a=candidate:1 1 udp 2130706431 ${e.ip || e.host} ${e.port} typ host`,
    '',
  ].join('\r\n');
}
