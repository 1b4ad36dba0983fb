// Room ids and end-to-end encryption of signaling (docs/security.md).
//
// PBKDF2-SHA-256 (ITERATIONS) over app, room name and secret gives a master secret; HKDF
// expands it into the 32-byte room id the relay sees and an AES-GCM-256 key the relay never
// sees. Every signal blob is sealed with a fresh 12-byte IV and bound (additional data) to
// the room id and the sender's and recipient's peer addresses (relay tag + session id), so
// no relay can read it or redirect it to another session, relay or room.

import { te, concat, unhex, subtle } from './bytes.js';

export const ITERATIONS = 60000;
const SALT = te.encode('lumamesh/room/v1');

/** Derives `{ id, key }` for a room. */
export async function roomKeys(app, name, secret = '') {
  const pw = await subtle().importKey('raw', te.encode([app, name, secret].join('\0')), 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle().deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: SALT, iterations: ITERATIONS }, pw, 256);
  const master = await subtle().importKey('raw', bits, 'HKDF', false, ['deriveBits', 'deriveKey']);
  const hkdf = (info) => ({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(), info: te.encode(info) });
  const id = new Uint8Array(await subtle().deriveBits(hkdf('room-id'), master, 256));
  const key = await subtle().deriveKey(hkdf('signal-key'), master, { name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  return { id, key };
}

// Room id (32) || from address (12) || to address (12): a blob opens only between the two
// sessions it was sealed for, each on the relay that serves it.
const aad = (id, from, to) => concat(id, unhex(from), unhex(to));

/** Encrypts `bytes` from address `from` to address `to` (hex): IV || ciphertext+tag. */
export async function seal(room, from, to, bytes) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: aad(room.id, from, to) }, room.key, bytes);
  return concat(iv, new Uint8Array(ct));
}

/** Decrypts a sealed blob; rejects if it was altered, redirected or sealed with another key. */
export async function open(room, from, to, blob) {
  const pt = await subtle().decrypt(
    { name: 'AES-GCM', iv: blob.subarray(0, 12), additionalData: aad(room.id, from, to) },
    room.key,
    blob.subarray(12),
  );
  return new Uint8Array(pt);
}
