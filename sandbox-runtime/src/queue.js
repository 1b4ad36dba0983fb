// The send queue of one reliable channel. Every message, the page's data and the runtime's
// own control messages alike, is cut into chunks and queued whole, so the chunks of two
// messages never interleave and a control message is never cut short. The browser layer
// pulls frames while the channel's buffer is below HIGH; nothing here touches a channel.

import { chunks } from './chunk.js';

/** Bytes a channel may buffer before the queue waits for it to drain. */
export const HIGH = 1 << 20;

export class Outbox {
  constructor() {
    this.q = [];
    this.open = false;
  }

  /** Queues a packed `[kind, bytes]` message; `done` travels with its last frame. */
  push(packed, done) {
    for (const frame of chunks(packed)) this.q.push({ frame });
    this.q[this.q.length - 1].done = done;
  }

  /** The next `{ frame, done }` to hand to the channel, or undefined. */
  next() {
    return this.open ? this.q.shift() : undefined;
  }

  /** Gives up on everything queued (the channel closed); pending sends settle. */
  clear() {
    this.open = false;
    for (const item of this.q.splice(0)) item.done?.();
  }
}
