// Lumamesh sandbox runtime: reach a relay with no signaling server, meet peers in rooms,
// and talk to them directly. See sandbox-runtime/README.md for the API.
//
// This is the driver: it owns the relay link, the clock, one timer, WebCrypto and
// localStorage, and carries out the actions of the core (mesh.js).

import { Emitter } from './emitter.js';
import { dial } from './relay.js';
import { directory } from './store.js';
import { roomKeys, seal, open } from './keys.js';
import { Mesh } from './mesh.js';
import { Peer } from './peer.js';
import { Room } from './room.js';
import { hex, toB64u } from './bytes.js';
import { signal2 } from './proto.js';

/** Relay entries embedded by `lumamesh bundle` (relay.txt lines). */
export const RELAYS = [];
// How long a lost relay waits before it is dialled again, so that the others are tried first.
const PAUSE = 2000;
// How many times joinRoom was asked for a room without a secret (it warns once per page).
let warned = 0;
const wait = (ms) => new Promise((ok) => setTimeout(ok, ms));

class Net extends Emitter {
  constructor(opts, ready, failed) {
    super();
    this._opts = { timeout: 8000, ...opts };
    this._dir = directory(opts.relays || RELAYS, opts.app);
    // The first dial settles connect(); later ones are the core's. It applies the answers of
    // the page's own relays before the directory reads storage (the learned relays).
    this._dial().then(() => ready(this), failed);
    // Core record (room or peer) → { view, act, keys, rtc } on this side.
    this._views = new Map();
    this._rx = {};
    this._tx = Promise.resolve();
    this._mesh = new Mesh(hex(crypto.getRandomValues(new Uint8Array(8))));
    this._feed = (input) => this._run(input);
  }

  /** Gives the core one input, carries out every action it yields, re-arms the timer. */
  _run(input) {
    const mesh = this._mesh;
    try {
      return mesh.handle(Date.now(), input);
    } catch (e) {
      // A bad send is the caller's error; anything else came off the network.
      if (input.t == 'send') throw e;
      console.error(e);
    } finally {
      for (let a; (a = mesh.poll()); ) this._act(a);
      const at = mesh.timeout();
      if (at != this._at) {
        clearTimeout(this._timer);
        this._at = at;
        if (at < Infinity) this._timer = setTimeout(() => ((this._at = null), this._run({ t: 'tick' })), at - Date.now());
      }
    }
  }

  _act(a) {
    const v = this._views.get(a.peer || a.room);
    const link = this._link;
    switch (a.t) {
      case 'relay':
        // A closing channel throws; its `down` follows.
        try {
          link?.send(a.frame);
        } catch {}
        return;
      case 'seal':
        // Sealing is asynchronous; one chain keeps signals in order. A signal sealed for a
        // link that has closed meanwhile goes back to the core, to wait for the next one.
        this._tx = this._tx
          .then(async () => {
            let f;
            try {
              f = signal2(a.room.id, a.to, await seal(v.keys, a.from, a.to, a.body));
            } catch (e) {
              // Too large for a relay frame (or not sealable): sending it again cannot help.
              return console.error('lumamesh: dropped a signal:', e.message);
            }
            if (link != this._link) throw 0;
            link.send(f);
          })
          .catch(() => a.who && this._run({ t: 'unsent', peer: a.who, obj: a.obj }));
        return;
      case 'unseal':
        // One queue per sender keeps its signals in order.
        this._rx[a.from] = (this._rx[a.from] || Promise.resolve())
          .then(() => open(v.keys, a.from, a.to, a.blob))
          .then(
            (body) => this._run({ t: 'sig', room: a.room, from: a.from, body, ep: a.ep }),
            () => console.error('lumamesh: unreadable signal'),
          );
        return;
      case 'dial':
        return void this._dial().catch(() => this._run({ t: 'fail' }));
      case 'hangup':
        return link?.close();
      case 'learn':
        for (const e of a.entries) this._dir.learn(toB64u(e));
        return this._dir.save();
      case 'peer': {
        const room = this._views.get(a.peer.room);
        new Peer(a.peer, this._feed, room.rtc, (view, act) => this._views.set(a.peer, { view, act }));
        return room.view.emit('peer', this._views.get(a.peer).view);
      }
      case 'emit':
        return (a.to ? this._views.get(a.to)?.view : this)?.emit(a.type, a.arg);
    }
    v?.act(a);
    if (a.t == 'close') this._views.delete(a.peer);
  }

  /**
   * Dials the page's own relays at once, the one whose link was lost only after PAUSE (it may
   * be gone); the learned ones only if none of those answers within the timeout, or at once
   * with `learned`. The first Welcome wins and the others are closed; a learned relay that
   * fails is forgotten. Each dial starts before this returns, unless it waits.
   */
  async _dial() {
    const { own, rest, drop, read } = this._dir;
    const tries = [];
    const go = (map) =>
      map.forEach((e) =>
        tries.push(
          (async () => (e == this._lost && (await wait(PAUSE)), dial(e, this._opts)))()
            .catch((err) => {
              throw (map == rest && drop(e), err);
            }),
        ),
      );
    const any = () => Promise.any(tries);
    go(own);
    let link = await (!this._opts.learned && Promise.race([any().catch(() => 0), wait(this._opts.timeout)]));
    // `rest` is filled once storage is read (before `connect()` resolves).
    await read;
    if (!link) {
      go(rest);
      link = await any().catch((e) => {
        throw Error('lumamesh: no relay reachable: ' + e.errors.map((x) => x.message).join('; '));
      });
    }
    for (const t of tries) t.then((l) => l != link && l.close(), () => {});
    this._link = link;
    link.onframe = (f) => this._run({ t: 'frame', f });
    link.onclose = () => this._link == link && ((this._link = null), (this._lost = link.entry), this._run({ t: 'down' }));
    this._run({ t: 'up', welcome: link.welcome });
  }

  /** Joins a room by name. Only a key-derived id reaches the relay, never the name. */
  async joinRoom(name, { nick = '', secret = '', app = 'lumamesh', rtc } = {}) {
    // Without a secret the key derives from what anyone can know (docs/security.md).
    if (!secret && !warned++)
      console.warn(`lumamesh: room "${name}" has no secret: anyone knowing its name (relays too) can read and intercept it`);
    const keys = await roomKeys(app, name, secret);
    const rec = this._run({ t: 'join', id: keys.id, nick });
    const view = new Room(rec, this._feed, (p) => this._views.get(p)?.view, keys.id);
    this._views.set(rec, { view, keys, rtc });
    return view;
  }

  /** Leaves every room and closes the relay link. */
  close() {
    this._run({ t: 'close' });
  }
}

/**
 * Connects to the first reachable relay. Options: `relays` (relay.txt lines instead of the
 * embedded ones), `lite` (announce a=ice-lite, default false: Chromium nominates sooner
 * without it), `timeout` (ms per relay), `app` (whose learned relays to keep and use),
 * `learned` (dial learned relays at once, not only when none of the page's own answers), `pc`
 * (`[pc, dc, pc.setLocalDescription()]`: a peer connection with one data channel, its implicit
 * offer under way, that the page started while the library loaded; the first dial uses it).
 */
export const connect = (opts = {}) =>
  new Promise((ready, failed) => new Net(opts, ready, failed)).then((net) => {
    // A closing tab leaves its rooms at once, so peers see `close` now rather than after
    // ICE consent runs out.
    globalThis.addEventListener?.('pagehide', () => net.close());
    return net;
  });
