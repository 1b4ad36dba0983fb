// Type declarations for the Lumamesh runtime (`lumamesh bundle` output and src/index.js).

/** Relay entries embedded at bundle time (relay.txt lines). */
export const RELAYS: readonly string[];

export interface ConnectOptions {
  /** relay.txt lines to use instead of the embedded ones. */
  relays?: string[];
  /**
   * Announce `a=ice-lite` in the static answer (default false: the relay is a lite agent
   * either way, and Chromium opens the channel ~50 ms sooner without the line).
   */
  lite?: boolean;
  /** Milliseconds to wait for each relay's Welcome (default 8000). */
  timeout?: number;
  /** Whose learned relays to keep and use (`localStorage` key `lumamesh.relays.<app>`). */
  app?: string;
  /** Dial learned relays at once, not only when none of the page's own has answered. */
  learned?: boolean;
  /**
   * The relay link, started by the page while the library loads (an inline classic script
   * runs before any module): `[pc, pc.createDataChannel('lumamesh'), pc.setLocalDescription()]`
   * for `pc = new RTCPeerConnection()`. The first dial uses it, so the browser's own set-up
   * (~20 ms in Chromium) overlaps the library's fetch and evaluation.
   */
  pc?: [RTCPeerConnection, RTCDataChannel, Promise<void>];
}

export interface Welcome {
  /** Protocol version of the session (2). */
  version: number;
  /** Our session id on this relay. */
  peer: number;
  /** Our address: the relay's tag (first 8 bytes of its node key) and `peer`, 24 hex digits. */
  me: string;
  maxFrame: number;
  maxRoom: number;
  maxRooms: number;
  rate: number;
  idle: number;
  entry: Uint8Array;
}

export interface JoinOptions {
  /** Shown to other peers as `peer.nick`. */
  nick?: string;
  /**
   * Makes the room private to those who know it (give it 128 random bits, e.g. in the URL
   * fragment). Without it anyone who knows the name, relay operators included, can read the
   * room's signals and sit in the middle of its connections; `joinRoom` warns once per page.
   */
  secret?: string;
  /** Separates applications that use the same room names (default "lumamesh"). */
  app?: string;
  /** RTCConfiguration for peer connections (e.g. iceServers). */
  rtc?: RTCConfiguration;
}

export type Message = unknown;

export interface SendOptions {
  /** false: unordered, no retransmits, at most 16 KiB (for 60 Hz state). Default true. */
  reliable?: boolean;
}

export interface TrackEvent {
  track: MediaStreamTrack;
  stream: MediaStream;
  /** The `kind` the sender passed to `room.publish`. */
  kind: string | undefined;
}

export interface Peer {
  /**
   * The peer's address (its relay's tag and session id, 24 hex digits). It changes when the
   * peer's relay restarts or the peer moves to another relay; the connection stays.
   */
  readonly id: string;
  readonly nick: string;
  readonly pc: RTCPeerConnection;
  on(type: 'open' | 'close', fn: () => void): this;
  on(type: 'data', fn: (msg: Message) => void): this;
  on(type: 'track', fn: (ev: TrackEvent) => void): this;
  off(type: string, fn: (...args: any[]) => void): this;
  /** JSON values, strings, ArrayBuffers and typed arrays; large messages are chunked. */
  send(msg: Message, opts?: SendOptions): Promise<void>;
  close(): void;
}

export interface Room {
  readonly peers: Peer[];
  on(type: 'peer', fn: (peer: Peer) => void): this;
  off(type: string, fn: (...args: any[]) => void): this;
  broadcast(msg: Message, opts?: SendOptions): void;
  publish(stream: MediaStream, opts?: { kind?: string }): void;
  /**
   * Six digits that `peer`'s screen shows too, unless someone sits in the middle of the
   * connection (then they differ, but for a one-in-a-million chance). Resolves once both sides
   * have exchanged their nonces over the connection; rejects if the other side's nonce is not
   * the one it committed to. See docs/security.md.
   */
  code(peer: Peer): Promise<string>;
  leave(): void;
}

export interface Net {
  joinRoom(name: string, opts?: JoinOptions): Promise<Room>;
  on(type: 'relay', fn: (welcome: Welcome) => void): this;
  on(type: 'disconnected', fn: () => void): this;
  on(type: 'error', fn: (err: { code: number; request: number }) => void): this;
  off(type: string, fn: (...args: any[]) => void): this;
  close(): void;
}

/** Opens a DataChannel to the first relay that answers. */
export function connect(opts?: ConnectOptions): Promise<Net>;
