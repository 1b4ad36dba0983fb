// Relay entry v1 (docs/relay-txt.md): decode the binary form and verify its signature.

import { fromB64u, toB64, concat, te, hex, subtle, sha256 } from './bytes.js';

const DOMAIN = te.encode('lumamesh/relay-entry/v1\0');
const PWD_DOMAIN = te.encode('lumamesh/ice-pwd/v1\0');
const ICE = /^[A-Za-z0-9+/]+$/;

const fail = (field, why) => {
  throw Error(`field \`${field}\`: ${why}`);
};

function v6text(b) {
  const g = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i] << 8) | b[i + 1]).toString(16));
  const t = g.join(':');
  // RFC 5952: the longest run (>= 2) of zero groups becomes `::`, the first one on a tie.
  const zeros = (r) => r.split(0).length;
  const run = (t.match(/(^|:)0(:0)+(:|$)/g) || []).reduce((a, r) => (zeros(r) > zeros(a) ? r : a), '');
  return run ? t.replace(run, '::') : t;
}

/**
 * Decodes a relay.txt token or binary entry. Returns the fields and `body` (the signed
 * bytes); `pwd` is null when derived (see `verifyEntry`). Throws `field \`x\`: …`.
 */
export function decodeEntry(input) {
  const b = typeof input == 'string' ? fromB64u(input) : input;
  let o = 0;
  const take = (n, f) => (o + n > b.length && fail(f, 'truncated'), b.subarray(o, (o += n)));
  const cred = (f, min) => {
    const s = String.fromCharCode(...take(take(1, f)[0] + 1, f));
    if (!ICE.test(s)) fail(f, 'not an ICE character');
    if (s.length < min) fail(f, 'length');
    return s;
  };
  const version = take(1, 'version')[0];
  if (version != 1) fail('version', `unknown entry version ${version}`);
  const flags = take(1, 'flags')[0];
  if (flags & 0xf0) fail('flags', 'reserved bits set');
  const kind = flags & 3;
  let host, ip;
  if (kind == 0) {
    const a = take(4, 'address');
    ip = a.join('.');
    if (a.every((x) => !x) || a[0] >> 4 == 14 || a.every((x) => x == 255)) fail('address', ip);
  } else if (kind == 1) {
    const a = take(16, 'address');
    ip = v6text(a);
    if (a.every((x) => !x) || a[0] == 255 || ip.startsWith('::ffff:')) fail('address', ip);
  } else if (kind == 2) {
    host = String.fromCharCode(...take(take(1, 'address')[0], 'address'));
    if (!/^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/.test(host) || /(^|\.)\d+$/.test(host))
      fail('address', host);
  } else fail('flags', 'unknown address kind');
  const p = take(2, 'port');
  const port = (p[0] << 8) | p[1];
  if (!port) fail('port', 'port 0 is not allowed');
  const fp = take(32, 'fingerprint');
  const ufrag = flags & 4 ? cred('ufrag', 4) : 'luma';
  if (flags & 4 && ufrag == 'luma') fail('ufrag', 'non-canonical');
  const pwd = flags & 8 ? cred('pwd', 22) : null;
  const nk = take(32, 'nk');
  const body = b.subarray(0, o);
  const sig = take(64, 'signature');
  if (o != b.length) fail('signature', 'trailing bytes');
  return { ip, host, v6: kind == 1, port, fp, ufrag, pwd, nk, sig, body };
}

/** The derived ICE password: base64 of the first 18 bytes of SHA-256(domain, nk, fp). */
export async function derivedPwd(nk, fp) {
  return toB64((await sha256(concat(PWD_DOMAIN, nk, fp))).subarray(0, 18));
}

/**
 * Verifies the entry's Ed25519 signature with WebCrypto and fills in a derived password.
 * Resolves to the entry; rejects with `field \`signature\`: bad signature` (or `pwd`).
 */
export async function verifyEntry(e) {
  const derived = await derivedPwd(e.nk, e.fp);
  if (e.pwd == derived) fail('pwd', 'non-canonical');
  e.pwd ||= derived;
  const key = await subtle().importKey('raw', e.nk, { name: 'Ed25519' }, false, ['verify']);
  if (!(await subtle().verify('Ed25519', key, e.sig, concat(DOMAIN, e.body))))
    fail('signature', 'bad signature');
  return e;
}

/** Upper-case colon-separated hex, as SDP writes fingerprints. */
export const fpText = (fp) => hex(fp, ':').toUpperCase();
