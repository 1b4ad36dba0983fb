// The relay link's life, as a state machine with time passed in: after a Welcome it pings
// every third of the relay's idle timeout (at most 5 s) and gives the link up after three
// silent periods; a lost link (or a failed dial) is redialled after a backoff that starts at
// 250 ms and doubles to 10 s. Each new link is a new epoch (the first is 1): addresses from
// an earlier one mean nothing on it, since a restarted relay hands out ids afresh and
// another relay may serve us.

export const FIRST_BACKOFF = 250;
export const MAX_BACKOFF = 10000;

export class Link {
  constructor() {
    this.up = false;
    this.epoch = 0;
    this.backoff = FIRST_BACKOFF;
    this.at = Infinity;
  }

  /** A Welcome arrived at `now` on a new link. */
  open(now, welcome) {
    this.up = true;
    this.epoch++;
    // Our own address on this relay (proto.js `address`, filled in by the driver).
    this.me = welcome.me;
    this.backoff = FIRST_BACKOFF;
    // A relay that restarted on the same address answers ICE consent checks for a session it
    // has forgotten, so only silence on the channel itself tells that it is gone.
    this.every = Math.max(Math.min((welcome.idle * 1000) / 3, 5000), 100);
    this.heard = now;
    this.at = now + this.every;
  }

  /** The link closed, or a dial failed, at `now`: the next dial waits out the backoff. */
  lost(now) {
    this.up = false;
    this.at = now + this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF);
  }

  /** Stops every timer (the page closed the runtime). */
  stop() {
    this.up = false;
    this.at = Infinity;
  }

  /** What is due at `now`: 'dial', 'dead' (three silent periods), 'ping', or nothing. */
  tick(now) {
    if (now < this.at) return;
    if (!this.up) {
      this.at = Infinity;
      return 'dial';
    }
    this.at = now + this.every;
    return now - this.heard > 3 * this.every ? 'dead' : 'ping';
  }
}
