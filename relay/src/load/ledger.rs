//! Which signal reached whom: one ledger for the whole run, so every signal sent is either
//! delivered, refused by an `Error` frame, addressed to a member that had gone, or lost.
//!
//! Every load client is in this process, so the ledger knows each member's address (from its
//! `Welcome`) and whether it is still there (it has not failed or been closed by the relay).
//! A signal's blob carries its sender's index and a sequence number after the time stamp;
//! the receiver hands them back. At the end, a signal still pending went *to an absent
//! member* when its target had gone before it could be delivered, came *from an absent
//! member* when its sender failed before the relay could forward it (it may never have left
//! the sender), and is *lost to a present member* otherwise.

use std::collections::{HashMap, HashSet};

use crate::protocol::PeerAddr;

/// The run's signals.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    /// Client index by address, from `Welcome`.
    clients: HashMap<PeerAddr, usize>,
    /// Clients that stopped early (failed, or closed by the relay).
    gone: HashSet<usize>,
    /// Signals sent and not yet delivered: (sender, sequence) to target client.
    pending: HashMap<(u32, u32), usize>,
    /// Signals answered by an `Error` frame (the relay refused them).
    refused: u64,
    /// Signals delivered.
    delivered: u64,
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
    /// Signals refused with an `Error` frame.
    pub(super) refused: u64,
    /// Deliveries the ledger could not match to a signal it sent.
    pub(super) unexpected: u64,
}

impl Ledger {
    /// Client `index` has address `addr`.
    pub(super) fn register(&mut self, index: usize, addr: PeerAddr) {
        self.clients.insert(addr, index);
    }

    /// Client `index` stopped early: nothing more reaches it.
    pub(super) fn gone(&mut self, index: usize) {
        self.gone.insert(index);
    }

    /// Whether `addr` is a client of this run that is still there.
    pub(super) fn present(&self, addr: &PeerAddr) -> bool {
        self.clients
            .get(addr)
            .is_some_and(|i| !self.gone.contains(i))
    }

    /// Client `from` sent its signal `seq` to `to` (a present member: see [`Self::present`]).
    pub(super) fn sent(&mut self, from: u32, seq: u32, to: &PeerAddr) {
        if let Some(&target) = self.clients.get(to) {
            self.pending.insert((from, seq), target);
        }
    }

    /// A signal came back with an `Error` frame.
    pub(super) fn refused(&mut self) {
        self.refused += 1;
    }

    /// Signal `seq` of client `from` was delivered.
    pub(super) fn delivered(&mut self, from: u32, seq: u32) {
        if self.pending.remove(&(from, seq)).is_some() {
            self.delivered += 1;
        } else {
            self.unexpected += 1;
        }
    }

    /// Signals still on their way between two present members (refused ones never arrive).
    pub(super) fn outstanding(&self) -> u64 {
        let [_, _, waiting] = self.sorted();
        waiting.saturating_sub(self.refused)
    }

    /// Sorts what is still pending: to an absent member, from one, between present ones.
    fn sorted(&self) -> [u64; 3] {
        let mut counts = [0; 3];
        for (&(from, _), target) in &self.pending {
            let column = if self.gone.contains(target) {
                0
            } else if self.gone.contains(&(from as usize)) {
                1
            } else {
                2
            };
            counts[column] += 1;
        }
        counts
    }

    /// What became of every signal.
    pub(super) fn outcome(&self) -> Outcome {
        let [to_absent, from_absent, lost_to_present] = self.sorted();
        Outcome {
            delivered: self.delivered,
            lost_to_present,
            to_absent,
            from_absent,
            refused: self.refused,
            unexpected: self.unexpected,
        }
    }
}

/// Writes a signal's identity into `blob` after its stamp (`blob` holds at least 16 bytes).
pub(super) fn write_id(blob: &mut [u8], from: u32, seq: u32) {
    blob[8..12].copy_from_slice(&from.to_be_bytes());
    blob[12..16].copy_from_slice(&seq.to_be_bytes());
}

/// A received blob's identity: sender index and sequence; `None` if it is too short.
pub(super) fn read_id(blob: &[u8]) -> Option<(u32, u32)> {
    let from = u32::from_be_bytes(blob.get(8..12)?.try_into().ok()?);
    let seq = u32::from_be_bytes(blob.get(12..16)?.try_into().ok()?);
    Some((from, seq))
}

#[cfg(test)]
mod tests {
    use super::{read_id, write_id, Ledger, Outcome};
    use crate::protocol::{PeerAddr, PeerId, RelayTag};

    fn addr(n: u32) -> PeerAddr {
        PeerAddr {
            relay: RelayTag::from_bytes([1; 8]),
            session: PeerId::new(n).expect("non-zero"),
        }
    }

    #[test]
    fn every_signal_ends_in_one_column() {
        let mut ledger = Ledger::default();
        for i in 0..3 {
            ledger.register(i, addr(i as u32 + 1));
        }
        // 0 → 1 twice (one delivered, one lost), 0 → 2 once (2 then fails), 1 → 0 refused,
        // 2 → 0 once (2 fails before it is delivered).
        ledger.sent(0, 0, &addr(2));
        ledger.sent(0, 1, &addr(2));
        ledger.sent(0, 2, &addr(3));
        ledger.sent(1, 0, &addr(1));
        ledger.sent(2, 0, &addr(1));
        ledger.refused();
        ledger.delivered(0, 0);
        assert_eq!(ledger.outstanding(), 3);
        ledger.gone(2);
        assert!(!ledger.present(&addr(3)));
        assert!(ledger.present(&addr(1)));
        assert!(!ledger.present(&addr(9)), "not a client of this run");
        assert_eq!(ledger.outstanding(), 1);
        // A repeat is not a second delivery.
        ledger.delivered(0, 0);
        assert_eq!(
            ledger.outcome(),
            Outcome {
                delivered: 1,
                lost_to_present: 2,
                to_absent: 1,
                from_absent: 1,
                refused: 1,
                unexpected: 1,
            }
        );
    }

    #[test]
    fn ids_round_trip_and_short_blobs_have_none() {
        let mut blob = [0u8; 16];
        write_id(&mut blob, 7, u32::MAX);
        assert_eq!(read_id(&blob), Some((7, u32::MAX)));
        assert_eq!(read_id(&blob[..15]), None);
    }
}
