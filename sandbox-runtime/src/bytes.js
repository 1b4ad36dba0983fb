// Byte helpers shared by the runtime: base64url, UTF-8, hex both ways, concatenation, and
// WebCrypto's SHA-256.

export const te = new TextEncoder();
export const td = new TextDecoder();

/** Decodes base64url without padding; throws on any other character. */
export function fromB64u(s) {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw Error('not a relay entry');
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** Standard base64 of bytes (no padding stripped). */
export function toB64(bytes) {
  return btoa(String.fromCharCode(...bytes));
}

/** base64url without padding. */
export const toB64u = (bytes) => toB64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

export const hex = (bytes, sep = '') =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(sep);

/** Bytes of lower-case hex text (a peer address). */
export const unhex = (s) => Uint8Array.from(s.match(/../g) || [], (h) => parseInt(h, 16));

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}

/** WebCrypto (read when used: node tests install it late). */
export const subtle = () => crypto.subtle;

/** SHA-256 of bytes. */
export const sha256 = async (b) => new Uint8Array(await subtle().digest('SHA-256', b));

export const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
