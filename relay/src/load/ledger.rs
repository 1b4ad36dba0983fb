//! Which signal reached whom: one ledger for the whole run, so every signal sent is either
//! delivered, refused by an `Error` frame, addressed to a member that had gone, or lost.
//!
//! Every load client is in this process, but a client does not know its own full peer
//! address: `Welcome` gives only the session id, and the relay tag in front of it names
//! whatever serves the session (a shard may have a tag of its own), not necessarily the tag
//! of the entry the client dialled. So the ledger never assumes a tag. It learns which client
//! owns an address from what the relay delivers: a signal's blob carries its sender's index,
//! a sequence number and the full address it was sent to, so a delivery names both ends
//! (`from`, from the relay's frame, is the sender; the address in the blob is the
//! receiver). An address not learnt that way is resolved by elimination: the client with that
//! session id that owns no learnt address yet, if there is exactly one.
//!
//! At the end, a signal still pending went *to an absent member* when its target had gone
//! before it could be delivered, came *from an absent member* when its sender failed before
//! the relay could forward it (it may never have left the sender), is *lost to a present
//! member* when both were there, and went *to an unidentified member* when no client of the
//! run could be named as its target (counted apart; never seen in a healthy run).

use std::collections::{HashMap, HashSet};

use crate::protocol::{PeerAddr, PeerId};

/// Bytes at the head of every load blob: stamp (8), sender index (4), sequence (4), target
/// address (12).
pub const HEADER_LEN: usize = 8 + 4 + 4 + PeerAddr::LEN;

/// The run's signals.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    /// Client index by full address, learnt from deliveries.
    clients: HashMap<PeerAddr, usize>,
    /// Clients that own a learnt address.
    identified: HashSet<usize>,
    /// Each client's session id and relay (index in the plan's list), from `Welcome`.
    welcomed: HashMap<usize, (PeerId, usize)>,
    /// Clients by session id, for resolution by elimination.
    by_session: HashMap<PeerId, Vec<usize>>,
    /// Clients that stopped early (failed, or closed by the relay).
    gone: HashSet<usize>,
    /// Signals sent and not yet delivered: (sender, sequence) to target address.
    pending: HashMap<(u32, u32), PeerAddr>,
    /// Signals delivered, by whether both ends were clients of one relay of the list.
    delivered: [u64; 2],
    /// Signals answered by an `Error` frame (the relay refused them).
    refused: u64,
    /// Deliveries of no signal the ledger knows (a repeat, or a blob it did not write).
    unexpected: u64,
}

/// What the ledger found, once the run is over.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Outcome {
    /// Signals delivered.
    pub(super) delivered: u64,
    /// Signals whose target was present from the send to the end and never got them
    /// (refused ones included).
    pub(super) lost_to_present: u64,
    /// Signals whose target had gone before they could be delivered.
    pub(super) to_absent: u64,
    /// Signals whose sender failed before they were delivered (their target still there).
    pub(super) from_absent: u64,
    /// Signals never delivered to an address no client of the run could be named for.
    pub(super) to_unidentified: u64,
    /// Signals refused with an `Error` frame.
    pub(super) refused: u64,
    /// Deliveries the ledger could not match to a signal it sent.
    pub(super) unexpected: u64,
    /// Signals sent between two clients of one relay of the list, and of two relays (an
    /// unidentified target counts as another relay's).
    pub(super) sent_pairs: [u64; 2],
    /// Signals delivered, likewise.
    pub(super) delivered_pairs: [u64; 2],
}

impl Ledger {
    /// Client `index`, a client of relay `relay` (its index in the plan's list), was
    /// welcomed with session id `session`.
    pub(super) fn register(&mut self, index: usize, relay: usize, session: PeerId) {
        self.welcomed.insert(index, (session, relay));
        self.by_session.entry(session).or_default().push(index);
    }

    /// Client `index` stopped early: nothing more reaches it.
    pub(super) fn gone(&mut self, index: usize) {
        self.gone.insert(index);
    }

    /// Client `index` owns `addr` (a delivery showed it).
    fn learn(&mut self, addr: PeerAddr, index: usize) {
        if self.welcomed.contains_key(&index) && !self.clients.contains_key(&addr) {
            self.clients.insert(addr, index);
            self.identified.insert(index);
        }
    }

    /// The client that owns `addr`: learnt, or the only client welcomed with its session id
    /// that owns no learnt address yet; `None` if neither names one.
    pub(super) fn resolve(&self, addr: &PeerAddr) -> Option<usize> {
        if let Some(&index) = self.clients.get(addr) {
            return Some(index);
        }
        let mut open = self
            .by_session
            .get(&addr.session)?
            .iter()
            .filter(|i| !self.identified.contains(i));
        match (open.next(), open.next()) {
            (Some(&index), None) => Some(index),
            _ => None,
        }
    }

    /// Whether a member the relay announced at `addr` may be signalled: not a client of the
    /// run that is known to have gone. (An address the ledger cannot name yet is taken on the
    /// relay's word; its signals are sorted at the end.)
    pub(super) fn present(&self, addr: &PeerAddr) -> bool {
        self.resolve(addr).is_none_or(|i| !self.gone.contains(&i))
    }

    /// Client `from` sent its signal `seq` to `to`, a member the relay announced.
    pub(super) fn sent(&mut self, from: u32, seq: u32, to: PeerAddr) {
        self.pending.insert((from, seq), to);
    }

    /// A signal came back with an `Error` frame.
    pub(super) fn refused(&mut self) {
        self.refused += 1;
    }

    /// Client `receiver` got, from the relay's `from`, a signal whose blob names sender
    /// `sender`, sequence `seq` and target `to`.
    pub(super) fn delivered(
        &mut self,
        receiver: usize,
        from: PeerAddr,
        (sender, seq, to): (u32, u32, PeerAddr),
    ) {
        self.learn(from, sender as usize);
        self.learn(to, receiver);
        if self.pending.remove(&(sender, seq)).is_some() {
            let pair = self.pair(sender as usize, Some(receiver));
            self.delivered[pair] += 1;
        } else {
            self.unexpected += 1;
        }
    }

    /// A signal arrived whose blob no client of this run wrote.
    pub(super) fn delivered_foreign(&mut self) {
        self.unexpected += 1;
    }

    /// 0 when clients `a` and `b` dialled one relay of the list, else 1 (also for `None`).
    fn pair(&self, a: usize, b: Option<usize>) -> usize {
        let relay = |i: usize| self.welcomed.get(&i).map(|&(_, relay)| relay);
        match (relay(a), b.and_then(relay)) {
            (Some(x), Some(y)) if x == y => 0,
            _ => 1,
        }
    }

    /// Signals still on their way between two present members (refused ones never arrive).
    pub(super) fn outstanding(&self) -> u64 {
        let waiting = self
            .pending
            .iter()
            .filter(|(&(from, _), to)| !self.gone.contains(&(from as usize)) && self.present(to))
            .count() as u64;
        waiting.saturating_sub(self.refused)
    }

    /// What became of every signal.
    pub(super) fn outcome(&self) -> Outcome {
        let mut outcome = Outcome {
            delivered: self.delivered.iter().sum(),
            refused: self.refused,
            unexpected: self.unexpected,
            sent_pairs: self.delivered,
            delivered_pairs: self.delivered,
            ..Outcome::default()
        };
        for (&(from, _), to) in &self.pending {
            let target = self.resolve(to);
            outcome.sent_pairs[self.pair(from as usize, target)] += 1;
            let column = match target {
                None => &mut outcome.to_unidentified,
                Some(t) if self.gone.contains(&t) => &mut outcome.to_absent,
                Some(_) if self.gone.contains(&(from as usize)) => &mut outcome.from_absent,
                Some(_) => &mut outcome.lost_to_present,
            };
            *column += 1;
        }
        outcome
    }
}

/// Writes a signal's identity into `blob` after its stamp: sender `from`, sequence `seq`,
/// target `to` (`blob` holds at least [`HEADER_LEN`] bytes).
pub(super) fn write_id(blob: &mut [u8], from: u32, seq: u32, to: &PeerAddr) {
    blob[8..12].copy_from_slice(&from.to_be_bytes());
    blob[12..16].copy_from_slice(&seq.to_be_bytes());
    let mut addr = Vec::with_capacity(PeerAddr::LEN);
    to.encode_into(&mut addr);
    blob[16..HEADER_LEN].copy_from_slice(&addr);
}

/// A received blob's identity: sender index, sequence and target address; `None` if it is
/// too short or names no valid address.
pub(super) fn read_id(blob: &[u8]) -> Option<(u32, u32, PeerAddr)> {
    let from = u32::from_be_bytes(blob.get(8..12)?.try_into().ok()?);
    let seq = u32::from_be_bytes(blob.get(12..16)?.try_into().ok()?);
    let to = PeerAddr::from_wire(blob.get(16..HEADER_LEN)?)?;
    Some((from, seq, to))
}

#[cfg(test)]
mod tests {
    use super::{read_id, write_id, Ledger, Outcome, HEADER_LEN};
    use crate::protocol::{PeerAddr, PeerId, RelayTag};

    fn id(n: u32) -> PeerId {
        PeerId::new(n).expect("non-zero")
    }

    fn addr(tag: u8, n: u32) -> PeerAddr {
        PeerAddr {
            relay: RelayTag::from_bytes([tag; 8]),
            session: id(n),
        }
    }

    #[test]
    fn every_signal_ends_in_one_column() {
        let mut ledger = Ledger::default();
        // Clients 0, 1, 2 on one relay, sessions 1, 2, 3, all on one shard (tag 1).
        for i in 0..3 {
            ledger.register(i, 0, id(i as u32 + 1));
        }
        // 0 → 1 twice (one delivered, one lost), 0 → 2 once (2 then fails), 1 → 0 refused,
        // 2 → 0 once (2 fails before it is delivered).
        ledger.sent(0, 0, addr(1, 2));
        ledger.sent(0, 1, addr(1, 2));
        ledger.sent(0, 2, addr(1, 3));
        ledger.sent(1, 0, addr(1, 1));
        ledger.sent(2, 0, addr(1, 1));
        ledger.refused();
        ledger.delivered(1, addr(1, 1), (0, 0, addr(1, 2)));
        assert_eq!(ledger.outstanding(), 3);
        ledger.gone(2);
        assert!(!ledger.present(&addr(1, 3)));
        assert!(ledger.present(&addr(1, 1)));
        assert!(
            ledger.present(&addr(1, 9)),
            "not named: the relay's word stands"
        );
        assert_eq!(ledger.outstanding(), 1);
        // A repeat is not a second delivery.
        ledger.delivered(1, addr(1, 1), (0, 0, addr(1, 2)));
        assert_eq!(
            ledger.outcome(),
            Outcome {
                delivered: 1,
                lost_to_present: 2,
                to_absent: 1,
                from_absent: 1,
                to_unidentified: 0,
                refused: 1,
                unexpected: 1,
                sent_pairs: [5, 0],
                delivered_pairs: [1, 0],
            }
        );
    }

    /// Two shards of one relay number their sessions alike: clients 0 and 1 both got session
    /// 1, on shards with tags 1 and 2, which no `Welcome` tells. The ledger must not take
    /// either address for the entry's, and learns each from a delivery.
    #[test]
    fn shards_that_reuse_session_ids_are_told_apart_by_deliveries() {
        let mut ledger = Ledger::default();
        ledger.register(0, 0, id(1));
        ledger.register(1, 0, id(1));
        ledger.register(2, 0, id(2));
        let (a, b, c) = (addr(1, 1), addr(2, 1), addr(2, 2));
        // Session 1 is ambiguous, session 2 is not.
        assert_eq!(ledger.resolve(&a), None);
        assert_eq!(ledger.resolve(&c), Some(2));
        ledger.sent(2, 0, b);
        ledger.sent(2, 1, a);
        // Client 1 receives the first: it is b, so a is client 0 by elimination.
        ledger.delivered(1, c, (2, 0, b));
        assert_eq!(ledger.resolve(&b), Some(1));
        assert_eq!(ledger.resolve(&a), Some(0));
        ledger.gone(0);
        assert!(!ledger.present(&a));
        assert!(ledger.present(&b));
        let outcome = ledger.outcome();
        assert_eq!((outcome.delivered, outcome.to_absent), (1, 1));
        assert_eq!(outcome.lost_to_present, 0);
    }

    #[test]
    fn a_target_nobody_can_name_is_counted_apart() {
        let mut ledger = Ledger::default();
        ledger.register(0, 0, id(1));
        ledger.register(1, 0, id(1));
        ledger.register(2, 0, id(1));
        ledger.sent(2, 0, addr(5, 1));
        let outcome = ledger.outcome();
        assert_eq!(outcome.to_unidentified, 1);
        assert_eq!(outcome.lost_to_present, 0);
        assert_eq!(outcome.sent_pairs, [0, 1]);
    }

    #[test]
    fn ids_round_trip_and_short_blobs_have_none() {
        let mut blob = [0u8; HEADER_LEN];
        let to = addr(7, u32::MAX);
        write_id(&mut blob, 7, u32::MAX, &to);
        assert_eq!(read_id(&blob), Some((7, u32::MAX, to)));
        assert_eq!(read_id(&blob[..HEADER_LEN - 1]), None);
    }
}
