// Lumamesh sandbox runtime: reach a relay with no signaling server, meet peers in rooms,
// and talk to them directly. See sandbox-runtime/README.md for the API.

import { Emitter } from './emitter.js';
import { decodeEntry, verifyEntry } from './entry.js';
import { dial } from './relay.js';
import { roomKeys } from './keys.js';
import { Room } from './room.js';
import { hex, toB64u, equal } from './bytes.js';
import { join, leave, ping, getNodes, NODES, ERROR } from './proto.js';

/** Relay entries embedded by `lumamesh bundle` (relay.txt lines). */
export const RELAYS = [];
const STORE = 'lumamesh.relays';

/** localStorage when the page may use it; inside an opaque-origin sandbox it throws. */
function store(value) {
  try {
    if (value === undefined) return JSON.parse(localStorage.getItem(STORE)) || [];
    localStorage.setItem(STORE, JSON.stringify(value));
  } catch {
    return [];
  }
}

class Net extends Emitter {
  constructor(opts) {
    super();
    this._opts = opts;
    this._rooms = new Set();
    this._known = new Map();
    this._backoff = 250;
    this.sid = hex(crypto.getRandomValues(new Uint8Array(8)));
    for (const line of [...(opts.relays || RELAYS), ...store()]) this._learn(line);
  }

  /** Adds a relay entry (relay.txt line or bytes) to the candidates; ignores bad ones. */
  _learn(line) {
    try {
      const e = decodeEntry(line);
      e.line = typeof line == 'string' ? line : toB64u(line);
      const key = hex(e.body);
      if (!this._known.has(key)) {
        e.verified = verifyEntry(e);
        e.verified.catch(() => this._known.delete(key));
        this._known.set(key, e);
      }
    } catch (err) {
      console.error('lumamesh: ignoring relay entry:', err.message);
    }
  }

  /** Dials every known relay at once; the first Welcome wins and the others are closed. */
  async _dial() {
    const tries = [...this._known.values()].map((e) => dial(e, e.verified, this._opts));
    if (!tries.length) throw Error('lumamesh: no valid relay entries');
    const link = await Promise.any(tries).catch((e) => {
      throw Error('lumamesh: no relay reachable: ' + e.errors.map((x) => x.message).join('; '));
    });
    for (const t of tries) t.then((l) => l != link && l.close(), () => {});
    this._link = link;
    this._backoff = 250;
    // Keepalive, and the way a dead relay is noticed: one that restarted on the same address
    // answers ICE consent checks for a session it has forgotten, so only silence on the
    // channel itself tells. No frame for three pings: redial.
    let heard = Date.now();
    const every = Math.min((link.welcome.idle * 1000) / 3, 5000);
    link.onframe = (f) => ((heard = Date.now()), this._frame(f));
    link.onclose = () => this._lost();
    this._ping = setInterval(() => {
      if (Date.now() - heard > 3 * every) link.close();
      else link.send(ping(Date.now() >>> 0));
    }, every);
    link.send(getNodes());
    for (const r of this._rooms) {
      r._probe = true;
      link.send(join(r._keys.id));
    }
    this.emit('relay', link.welcome);
  }

  _frame(f) {
    if (f.t == NODES) {
      for (const e of f.entries) this._learn(e);
      store([...this._known.values()].map((e) => e.line).slice(0, 32));
    } else if (f.room) {
      for (const r of this._rooms) if (equal(r._keys.id, f.room)) r._frame(f);
    } else if (f.t == ERROR) this.emit('error', f);
  }

  _lost() {
    clearInterval(this._ping);
    this._link = null;
    if (this._closed) return;
    this.emit('disconnected');
    setTimeout(() => this._dial().catch(() => this._lost()), this._backoff);
    this._backoff = Math.min(this._backoff * 2, 10000);
  }

  _send(frame) {
    this._link?.send(frame);
  }

  _leave(room) {
    this._rooms.delete(room);
    this._send(leave(room._keys.id));
  }

  /** Joins a room by name. Only a key-derived id reaches the relay, never the name. */
  async joinRoom(name, { nick = '', secret = '', app = 'lumamesh', rtc } = {}) {
    const room = new Room(this, await roomKeys(app, name, secret), { nick, rtc });
    this._rooms.add(room);
    this._send(join(room._keys.id));
    return room;
  }

  /** Leaves every room and closes the relay link. */
  close() {
    this._closed = true;
    for (const r of this._rooms) r.leave();
    this._link?.close();
  }
}


/**
 * Connects to the first reachable relay. Options: `relays` (relay.txt lines instead of the
 * embedded ones), `lite` (announce a=ice-lite, default false: Chromium nominates sooner
 * without it), `timeout` (ms per relay).
 */
export const connect = async (opts = {}) => {
  const net = new Net(opts);
  await net._dial();
  // A closing tab leaves its rooms at once, so peers see `close` now rather than after
  // ICE consent runs out.
  globalThis.addEventListener?.('pagehide', () => net.close());
  return net;
};
