// Message framing on peer DataChannels: one kind byte, then payload; large messages are cut
// into chunks whose kind byte has bit 7 set on every chunk but the last. Reliable channels
// are ordered, so reassembly is concatenation.

import { te, td, concat } from './bytes.js';

export const CHUNK = 16 * 1024 - 1;
const JSON_ = 0, TEXT = 1, BUF = 2, U8 = 3;
export const CTRL = 4;

/** Encodes a user message to `[kind, bytes]`. */
export function pack(msg, kind) {
  if (kind != null) return [kind, te.encode(JSON.stringify(msg))];
  if (typeof msg == 'string') return [TEXT, te.encode(msg)];
  if (msg instanceof ArrayBuffer) return [BUF, new Uint8Array(msg)];
  if (ArrayBuffer.isView(msg)) return [U8, new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)];
  return [JSON_, te.encode(JSON.stringify(msg))];
}

/** Splits into chunk frames of at most CHUNK + 1 bytes. */
export function* chunks([kind, bytes]) {
  let o = 0;
  do {
    const part = bytes.subarray(o, (o += CHUNK));
    yield concat(new Uint8Array([o < bytes.length ? kind | 128 : kind]), part);
  } while (o < bytes.length);
}

function unpack(kind, bytes) {
  if (kind == TEXT) return td.decode(bytes);
  if (kind == BUF) return bytes.slice().buffer;
  if (kind == U8) return bytes.slice();
  return JSON.parse(td.decode(bytes));
}

/** A reassembler: feed frames, get `[kind, message]` when a message completes. */
export function reassembler() {
  let parts = [];
  return (frame) => {
    const f = new Uint8Array(frame);
    parts.push(f.subarray(1));
    if (f[0] & 128) return null;
    const bytes = parts.length == 1 ? parts[0] : concat(...parts);
    parts = [];
    return [f[0], unpack(f[0], bytes)];
  };
}
