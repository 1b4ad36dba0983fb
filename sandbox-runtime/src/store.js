// The relay directory (docs/security.md, "Relay directory"): the page's own relays, and at
// most LEARNED others learned from relays' Nodes answers, kept per app in localStorage as
// `[[line, last seen ms], …]`, checked, aged out after a week and dropped when they fail.

import { decodeEntry, verifyEntry } from './entry.js';

const LEARNED = 16;
const WEEK = 6048e5;

/**
 * The range of an entry's address that a learned entry may use only if one of the page's own
 * entries does: its host name (a lookup would tell the name's owner who dialled), or the
 * start of a loopback, private, link-local, CGNAT or 0.0.0.0/8 address (127., 10., 192.168.,
 * 172.16. to 172.31., 169.254., 100.64. to 100.127., 0., ::1, fc00::/7, fe80::/10 and the
 * rest of fe00::/8, and 0fc0::/16 to 0fef::/16, reserved); '' for any other address. (An
 * IPv4 address's text has no `:`, an IPv6 one's no `.`.)
 */
export const range = ({ ip, host }) =>
  host || /^(::1$|f[c-e]..:|(0|10|127|169\.254|192\.168|172\.(1[6-9]|2.|3[01])|100\.(6[4-9]|[7-9].|1[01].|12[0-7]))\.)/.exec(ip)?.[0] || '';

/**
 * The directory for `app`: the page's own relays (`own`, from `lines`) and the learned ones
 * (`rest`, from localStorage where the page may use it, once `read` has settled: the
 * page dials its own relays first, so storage stays off its critical path), maps of entries
 * by relay.txt token; `learn(line)` adds one, `drop(e)` forgets a learned one, `save()`
 * writes the learned ones, then the page's own.
 */
export function directory(lines, app) {
  // `lumamesh.relays.<app>`, or `lumamesh.relays` without an app ([undefined] joins as '').
  const key = 'lumamesh.relays' + [app && '.' + app];
  const own = new Map();
  const rest = new Map();
  const ranges = new Set();
  const save = () => {
    try {
      localStorage.setItem(key, JSON.stringify([...rest.values(), ...own.values()].map((e) => [e.line, e.seen])));
    } catch {}
  };
  // Adds a relay entry (relay.txt token) to `map`, or refreshes its last-seen time;
  // ignores a bad (logged), refused or surplus one, and forgets one whose signature fails.
  // Returns the check of an entry it added.
  const learn = (line, map = rest, seen = Date.now()) => {
    // Too old or in the future, as every item a runtime before issue 14 stored (bare lines).
    if (!(Date.now() - seen < WEEK && seen <= Date.now())) return;
    try {
      const e = decodeEntry(line);
      const k = (e.line = line);
      const r = range(e);
      const old = own.get(k) || rest.get(k);
      if (old) return (old.seen = seen);
      if (map == own) ranges.add(r);
      else if (map.size >= LEARNED || (r && !ranges.has(r))) return;
      e.seen = seen;
      e.verified = verifyEntry(e);
      map.set(k, e);
      // Settles with the check, never rejects.
      return e.verified.catch(() => map.delete(k) && save());
    } catch (err) {
      console.error('lumamesh: ignoring relay entry:', err.message);
    }
  };
  const checks = lines.map((line) => learn(line, own));
  const read = () => {
    try {
      // Bounded in bytes before it is parsed. Anything but an array of [line, time] throws
      // (what came before it is kept); an item without a time is too old.
      const v = localStorage.getItem(key);
      if (v.length < 3e4) for (const [line, seen] of JSON.parse(v).slice(0, LEARNED)) learn(line, rest, +seen);
    } catch {}
    save();
  };
  return {
    own,
    rest,
    learn,
    save,
    // Storage is read (a synchronous load, ms in Firefox) once the page's own entries are
    // checked, off the path to the first packet: a dial applies its answer first.
    read: Promise.all(checks).then(read),
    drop: (e) => rest.delete(e.line) && save(),
  };
}
