//! What a load run reports, and the per-client tallies it is summed from.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::protocol::{msg_type, ErrorCode, RelayTag};

/// Percentiles of a set of durations, in milliseconds.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} samples)",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms, self.count
        )
    }
}

impl Percentiles {
    /// Summarises `samples` (sorted in place).
    pub fn of(samples: &mut [Duration]) -> Self {
        samples.sort_unstable();
        let at = |q: f64| -> f64 {
            if samples.is_empty() {
                return 0.0;
            }
            let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples[i.min(samples.len() - 1)].as_secs_f64() * 1000.0
        };
        Self {
            count: samples.len(),
            p50_ms: at(0.5),
            p90_ms: at(0.9),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// Whether a signal's two ends are sessions of one relay or of two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pair {
    /// Both addresses carry the same relay tag: the relay forwards the signal itself.
    SameRelay,
    /// The tags differ: the signal crosses the federation.
    CrossRelay,
}

impl Pair {
    /// The kind of pair between a session of relay `mine` and one of relay `theirs`.
    pub fn of(mine: RelayTag, theirs: RelayTag) -> Self {
        if mine == theirs {
            Self::SameRelay
        } else {
            Self::CrossRelay
        }
    }

    fn index(self) -> usize {
        match self {
            Self::SameRelay => 0,
            Self::CrossRelay => 1,
        }
    }
}

/// Signals of one kind of [`Pair`].
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairReport {
    /// Signals sent to a member of this kind.
    pub signals_sent: u64,
    /// Signals received from a member of this kind.
    pub signals_delivered: u64,
    /// One-way latency from sender to receiver, through the relay (or relays).
    pub forward_latency: Percentiles,
}

impl std::fmt::Display for PairReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sent {} delivered {}, forward {}",
            self.signals_sent, self.signals_delivered, self.forward_latency
        )
    }
}

/// The clients given to one entry of the relay list.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayShare {
    /// The relay's tag (first 8 bytes of its node key), 16 hex digits.
    pub tag: String,
    /// Its address as the entry (or `--relay-addr`) gives it.
    pub address: String,
    /// Clients started on it.
    pub sessions: usize,
    /// Clients that got `Welcome` from it.
    pub connected: usize,
    /// Clients that failed to connect or were dropped.
    pub failed: usize,
}

/// The load run's result.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadReport {
    /// Clients started.
    pub sessions: usize,
    /// Clients whose channel opened and got `Welcome`.
    pub connected: usize,
    /// Clients that failed to connect or were dropped.
    pub failed: usize,
    /// Time from start to `Welcome`.
    pub connect: Percentiles,
    /// Signals sent.
    pub signals_sent: u64,
    /// Signals received.
    pub signals_received: u64,
    /// One-way signal latency through the relay, every pair.
    pub signal_latency: Percentiles,
    /// Signals between two sessions of one relay.
    pub same_relay: PairReport,
    /// Signals between sessions of two relays (through the federation).
    pub cross_relay: PairReport,
    /// Each entry of the relay list, in order, with the clients it was given.
    pub relays: Vec<RelayShare>,
    /// Signals the run's ledger matched to a delivery (the rest of `signals_sent` is in
    /// `lost_to_present`, `to_absent` and `from_absent`).
    pub signals_delivered: u64,
    /// Signals to a member that was there from the send to the end of the run and never got
    /// them, refused ones included. Must be 0.
    pub lost_to_present: u64,
    /// Signals whose target failed or was closed by the relay before they arrived.
    pub to_absent: u64,
    /// Signals whose sender failed or was closed before they arrived (its target still
    /// there): they may never have left the sender.
    pub from_absent: u64,
    /// Signals never delivered to an address no client of the run could be named for (the
    /// relay announced it, no delivery or `Welcome` ties it to one client). Should be 0.
    pub to_unidentified: u64,
    /// Signals the relay answered with an `Error` frame (also in `errors`).
    pub signals_refused: u64,
    /// Deliveries the ledger could not match to a signal sent (repeats, foreign blobs).
    pub signals_unexpected: u64,
    /// Seconds from the end of signalling until every signal to a present member had
    /// arrived (or the drain gave up).
    pub drain_secs: f64,
    /// Error frames received.
    pub error_frames: u64,
    /// Error frames by code name (`RateLimited`, `UnknownPeer`, …).
    pub errors_by_code: BTreeMap<String, u64>,
    /// Error frames by code and by the request they answer, each code named and explained.
    pub errors: Vec<ErrorCount>,
    /// First few failure messages.
    pub failures: Vec<String>,
    /// Wall time of the run.
    pub elapsed_secs: f64,
    /// Clients started per second, as planned.
    pub offered_rate: f64,
    /// Clients welcomed per second: `connected` over the time from the start to the last
    /// `Welcome`.
    pub achieved_rate: f64,
}

/// `Error` frames of one code answering one kind of request.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCount {
    /// The code's name (`RateLimited`, `UnknownPeer`, …).
    pub code: String,
    /// What the code means, as the protocol says it.
    pub meaning: String,
    /// The request it answered (`Signal2`, `Join`, …; `0x..` for a type the client never
    /// sends).
    pub request: String,
    /// How many.
    pub count: u64,
}

/// The name of a client request type, as an `Error` frame's `request` byte gives it.
fn request_name(request: u8) -> String {
    let name = match request {
        msg_type::HELLO => "Hello",
        msg_type::JOIN => "Join",
        msg_type::LEAVE => "Leave",
        msg_type::SIGNAL => "Signal",
        msg_type::PING => "Ping",
        msg_type::GET_NODES => "GetNodes",
        msg_type::SIGNAL2 => "Signal2",
        other => return format!("0x{other:02x}"),
    };
    name.to_owned()
}

/// What one client counted.
#[derive(Debug, Default)]
pub(super) struct Tally {
    sent: [u64; 2],
    delivered: [u64; 2],
    latency: [Vec<Duration>; 2],
    errors: BTreeMap<(u8, u8), u64>,
}

impl Tally {
    /// A signal sent to a member of `pair` (a run counts these in its ledger instead).
    #[cfg(test)]
    pub(super) fn sent(&mut self, pair: Pair) {
        self.sent[pair.index()] += 1;
    }

    /// A signal from a member of `pair`, `latency` after it was sent.
    pub(super) fn delivered(&mut self, pair: Pair, latency: Duration) {
        self.delivered[pair.index()] += 1;
        self.latency[pair.index()].push(latency);
    }

    /// An `Error` frame with `code`, answering a request of type `request`.
    pub(super) fn error(&mut self, code: ErrorCode, request: u8) {
        *self.errors.entry((code.to_u8(), request)).or_default() += 1;
    }
}

/// The tallies of every client, summed as they finish.
#[derive(Debug, Default)]
pub(super) struct Totals {
    tally: Tally,
}

impl Totals {
    /// Adds one client's tally.
    pub(super) fn add(&mut self, tally: Tally) {
        let t = &mut self.tally;
        for i in 0..2 {
            t.sent[i] += tally.sent[i];
            t.delivered[i] += tally.delivered[i];
        }
        for (mine, theirs) in t.latency.iter_mut().zip(tally.latency) {
            mine.extend(theirs);
        }
        for (code, n) in tally.errors {
            *t.errors.entry(code).or_default() += n;
        }
    }

    /// Writes the signal and error figures into `report`.
    pub(super) fn finish(mut self, report: &mut LoadReport) {
        let t = &mut self.tally;
        let mut all: Vec<Duration> = t.latency.iter().flatten().copied().collect();
        report.signal_latency = Percentiles::of(&mut all);
        report.signals_sent = t.sent.iter().sum();
        report.signals_received = t.delivered.iter().sum();
        for (pair, out) in [
            (Pair::SameRelay, &mut report.same_relay),
            (Pair::CrossRelay, &mut report.cross_relay),
        ] {
            let i = pair.index();
            *out = PairReport {
                signals_sent: t.sent[i],
                signals_delivered: t.delivered[i],
                forward_latency: Percentiles::of(&mut t.latency[i]),
            };
        }
        report.error_frames = t.errors.values().sum();
        for (&(code, request), &count) in &t.errors {
            let code = ErrorCode::from_u8(code);
            *report
                .errors_by_code
                .entry(format!("{code:?}"))
                .or_default() += count;
            report.errors.push(ErrorCount {
                code: format!("{code:?}"),
                meaning: code.to_string(),
                request: request_name(request),
                count,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{ErrorCount, LoadReport, Pair, Percentiles, Tally, Totals};
    use crate::protocol::{msg_type, ErrorCode, RelayTag};

    const A: RelayTag = RelayTag::from_bytes([0xa; 8]);
    const B: RelayTag = RelayTag::from_bytes([0xb; 8]);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_pair_is_cross_relay_when_the_tags_differ() {
        assert_eq!(Pair::of(A, A), Pair::SameRelay);
        assert_eq!(Pair::of(A, B), Pair::CrossRelay);
        assert_eq!(Pair::of(B, A), Pair::CrossRelay);
    }

    #[test]
    fn totals_keep_same_and_cross_relay_signals_apart() {
        let mut totals = Totals::default();
        let mut one = Tally::default();
        one.sent(Pair::SameRelay);
        one.sent(Pair::CrossRelay);
        one.delivered(Pair::SameRelay, ms(1));
        one.error(ErrorCode::UnknownPeer, msg_type::SIGNAL2);
        let mut two = Tally::default();
        two.sent(Pair::CrossRelay);
        for latency in [7, 5, 6] {
            two.delivered(Pair::CrossRelay, ms(latency));
        }
        two.error(ErrorCode::UnknownPeer, msg_type::SIGNAL2);
        two.error(ErrorCode::Unknown(200), 0x42);
        two.error(ErrorCode::RateLimited, msg_type::JOIN);
        totals.add(one);
        totals.add(two);
        let mut report = LoadReport::default();
        totals.finish(&mut report);

        assert_eq!(report.signals_sent, 3);
        assert_eq!(report.signals_received, 4);
        assert_eq!(report.same_relay.signals_sent, 1);
        assert_eq!(report.same_relay.signals_delivered, 1);
        assert_eq!(report.cross_relay.signals_sent, 2);
        assert_eq!(report.cross_relay.signals_delivered, 3);
        assert_eq!(report.same_relay.forward_latency.count, 1);
        assert_eq!(report.cross_relay.forward_latency.p50_ms, 6.0);
        assert_eq!(report.cross_relay.forward_latency.max_ms, 7.0);
        assert_eq!(report.signal_latency.count, 4);
        assert_eq!(report.error_frames, 4);
        assert_eq!(report.errors_by_code["UnknownPeer"], 2);
        assert_eq!(report.errors_by_code["Unknown(200)"], 1);
        // Each code named, explained and tied to the request it answered.
        let row = |code: &str, meaning: &str, request: &str, count| ErrorCount {
            code: code.into(),
            meaning: meaning.into(),
            request: request.into(),
            count,
        };
        assert_eq!(
            report.errors,
            [
                row("UnknownPeer", "unknown peer", "Signal2", 2),
                row("RateLimited", "rate limited", "Join", 1),
                row("Unknown(200)", "unknown code 200", "0x42", 1),
            ]
        );
    }

    #[test]
    fn nothing_sent_reports_zeros() {
        let mut report = LoadReport::default();
        Totals::default().finish(&mut report);
        assert_eq!(report.cross_relay.signals_sent, 0);
        assert_eq!(report.cross_relay.forward_latency, Percentiles::default());
        assert!(report.errors_by_code.is_empty());
    }

    #[test]
    fn an_older_report_still_reads() {
        // A report from before the relay list and the pair split.
        let old = r#"{"sessions":2,"connected":2,"failed":0,"signals_sent":4,"signals_received":4,
            "error_frames":0,"failures":[],"elapsed_secs":1.5}"#;
        let report: LoadReport = serde_json::from_str(old).expect("reads");
        assert_eq!(report.signals_sent, 4);
        assert!(report.relays.is_empty());
    }
}
