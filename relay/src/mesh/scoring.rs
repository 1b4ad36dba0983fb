//! Per-relay penalties (turned into gossipsub application scores) and per-relay rate gates.
//!
//! A refused message adds [`REFUSAL_POINTS`] to the penalty of the relay that handed it to
//! us, a room message over the rate limit [`EXCESS_POINTS`]; penalties halve every
//! [`HALF_LIFE`] and are capped at [`MAX_POINTS`], so a relay that stops misbehaving recovers
//! within minutes (docs/federation.md "Validation" says why these numbers).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bootstrap_codec::NodeKey;

/// Penalty points for a refused (rejected) message.
pub(crate) const REFUSAL_POINTS: f64 = 10.0;
/// Penalty points for a room message over the author's rate limit.
pub(crate) const EXCESS_POINTS: f64 = 1.0;
/// Time for a penalty to halve.
pub(crate) const HALF_LIFE: Duration = Duration::from_secs(60);
/// Largest penalty (bounds the time to recover: about ten half-lives).
pub(crate) const MAX_POINTS: f64 = 1_000.0;
/// A score change smaller than this waits for the next tick instead of being reported at once.
const REPORT_STEP: f64 = REFUSAL_POINTS;

#[derive(Debug, Clone, Copy)]
struct Penalty {
    points: f64,
    at: Instant,
    /// The score last reported to gossipsub.
    reported: f64,
}

impl Penalty {
    fn decay(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.points *= 0.5f64.powf(elapsed / HALF_LIFE.as_secs_f64());
        if self.points < 0.5 {
            self.points = 0.0;
        }
        self.at = now;
    }

    fn score(&self) -> f64 {
        -self.points.round()
    }
}

/// The penalties of the relays that misbehaved recently, bounded by `capacity` relays.
#[derive(Debug)]
pub(crate) struct Penalties {
    by_relay: HashMap<NodeKey, Penalty>,
    capacity: usize,
}

impl Penalties {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            by_relay: HashMap::new(),
            capacity,
        }
    }

    /// Adds `points` to `relay`'s penalty; returns the score to report now, if the change
    /// since the last report is large enough (smaller changes go out on [`Self::tick`]).
    pub(crate) fn add(&mut self, relay: NodeKey, points: f64, now: Instant) -> Option<f64> {
        if !self.by_relay.contains_key(&relay) && self.by_relay.len() >= self.capacity {
            // Gossipsub's own penalty for rejected messages still applies.
            return None;
        }
        let penalty = self.by_relay.entry(relay).or_insert(Penalty {
            points: 0.0,
            at: now,
            reported: 0.0,
        });
        penalty.decay(now);
        penalty.points = (penalty.points + points).min(MAX_POINTS);
        let score = penalty.score();
        if (penalty.reported - score).abs() >= REPORT_STEP {
            penalty.reported = score;
            return Some(score);
        }
        None
    }

    /// Decays every penalty; returns the scores that changed since their last report and
    /// forgets relays that are back at zero.
    pub(crate) fn tick(&mut self, now: Instant) -> Vec<(NodeKey, f64)> {
        let mut changed = Vec::new();
        self.by_relay.retain(|relay, penalty| {
            penalty.decay(now);
            let score = penalty.score();
            if score != penalty.reported {
                penalty.reported = score;
                changed.push((*relay, score));
            }
            penalty.points > 0.0
        });
        changed
    }

    /// `relay`'s current penalty points (0 when unknown).
    pub(crate) fn points(&self, relay: &NodeKey) -> f64 {
        self.by_relay.get(relay).map_or(0.0, |p| p.points)
    }
}

/// A per-relay rate limit (the generic cell rate algorithm: one "theoretical arrival time"
/// per relay instead of a token count).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateGate {
    /// Time between messages at the sustained rate.
    interval: Duration,
    /// How far ahead of `now` the arrival time may run: the burst.
    slack: Duration,
}

impl RateGate {
    /// `per_sec` messages per second sustained, `burst` at once. A rate that is not a
    /// positive number lets nothing through.
    pub(crate) fn new(per_sec: f32, burst: f32) -> Self {
        let interval = Duration::try_from_secs_f64(1.0 / f64::from(per_sec))
            .ok()
            .filter(|_| per_sec > 0.0)
            .unwrap_or(Duration::MAX);
        let burst = f64::from(burst).max(1.0) - 1.0;
        let slack = Duration::try_from_secs_f64(interval.as_secs_f64() * burst).unwrap_or_default();
        Self { interval, slack }
    }

    /// Whether a message may pass now, given (and updating) its relay's arrival time
    /// (`None` for a relay not heard from yet).
    pub(crate) fn pass(&self, arrival: &mut Option<Instant>, now: Instant) -> bool {
        let due = arrival.map_or(now, |t| t.max(now));
        if due.saturating_duration_since(now) > self.slack {
            return false;
        }
        match due.checked_add(self.interval) {
            Some(next) => {
                *arrival = Some(next);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use bootstrap_codec::NodeSecret;

    use super::{Penalties, RateGate, HALF_LIFE, MAX_POINTS, REFUSAL_POINTS};

    #[test]
    fn a_penalty_is_reported_at_once_and_recovers_to_zero() {
        let relay = NodeSecret::from_seed(&[1; 32]).public();
        let t0 = Instant::now();
        let mut p = Penalties::new(4);
        assert_eq!(p.add(relay, REFUSAL_POINTS, t0), Some(-10.0));
        assert_eq!(p.add(relay, REFUSAL_POINTS, t0), Some(-20.0));
        assert_eq!(p.tick(t0 + HALF_LIFE), vec![(relay, -10.0)]);
        let later = p.tick(t0 + HALF_LIFE * 20);
        assert_eq!(later, vec![(relay, 0.0)]);
        assert_eq!(p.points(&relay), 0.0);
        assert!(p.tick(t0 + HALF_LIFE * 21).is_empty());
    }

    #[test]
    fn penalties_are_capped_and_bounded_in_relays() {
        let t0 = Instant::now();
        let mut p = Penalties::new(1);
        let a = NodeSecret::from_seed(&[1; 32]).public();
        let b = NodeSecret::from_seed(&[2; 32]).public();
        for _ in 0..1_000 {
            p.add(a, REFUSAL_POINTS, t0);
        }
        assert_eq!(p.points(&a), MAX_POINTS);
        assert_eq!(p.add(b, REFUSAL_POINTS, t0), None);
        assert_eq!(p.points(&b), 0.0);
    }

    #[test]
    fn the_gate_lets_a_burst_through_then_the_rate() {
        let gate = RateGate::new(10.0, 5.0);
        let t0 = Instant::now();
        let mut arrival = None;
        let passed = (0..20).filter(|_| gate.pass(&mut arrival, t0)).count();
        assert_eq!(passed, 5);
        let t1 = t0 + Duration::from_secs(1);
        let passed = (0..20).filter(|_| gate.pass(&mut arrival, t1)).count();
        assert_eq!(
            passed, 5,
            "a second at 10/s refills more than the burst: capped"
        );
    }

    #[test]
    fn a_zero_rate_passes_nothing() {
        let gate = RateGate::new(0.0, 100.0);
        let mut arrival = None;
        let now = Instant::now();
        assert!(!gate.pass(&mut arrival, now));
        assert!(!gate.pass(&mut arrival, now + Duration::from_secs(3600)));
    }
}
