//! Keeps the `MESH_PEERS` connected: each is dialled at start and redialled after a failure
//! or a close, waiting 1 s, then twice as long after each failure, at most 60 s; a success
//! resets the wait. A peer reached over another connection (it dialled us; one connection
//! per pair of relays) is not redialled until that connection closes too. Sans-IO: the
//! engine reports what the swarm did and asks what is due.

use std::time::{Duration, Instant};

use libp2p::swarm::ConnectionId;
use libp2p::PeerId;

use super::settings::HostPort;

/// The first wait, and the wait after a connection that was up closes.
pub(super) const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest wait between two attempts.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The dialling state of every configured peer.
#[derive(Debug)]
pub(super) struct Dialer {
    targets: Vec<Target>,
}

#[derive(Debug)]
struct Target {
    addr: HostPort,
    state: State,
    backoff: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Next attempt at this time.
    Waiting(Instant),
    /// The host name is being resolved.
    Resolving,
    /// A dial is under way.
    Dialing(ConnectionId),
    /// Connected over this connection.
    Connected(ConnectionId),
    /// Connected to this relay over a connection that is not ours (it dialled us).
    Covered(PeerId),
}

impl Dialer {
    /// Every peer is due at once.
    pub(super) fn new(peers: Vec<HostPort>, now: Instant) -> Self {
        let targets = peers
            .into_iter()
            .map(|addr| Target {
                addr,
                state: State::Waiting(now),
                backoff: FIRST_BACKOFF,
            })
            .collect();
        Self { targets }
    }

    /// The peers whose attempt is due (index, address); they are now resolving.
    pub(super) fn due(&mut self, now: Instant) -> Vec<(usize, HostPort)> {
        let mut due = Vec::new();
        for (index, target) in self.targets.iter_mut().enumerate() {
            if matches!(target.state, State::Waiting(at) if at <= now) {
                target.state = State::Resolving;
                due.push((index, target.addr.clone()));
            }
        }
        due
    }

    /// Peer `index` is being dialled over `connection`.
    pub(super) fn dialing(&mut self, index: usize, connection: ConnectionId) {
        if let Some(target) = self.targets.get_mut(index) {
            target.state = State::Dialing(connection);
        }
    }

    /// The attempt for peer `index` failed before a dial started (no address, refused).
    pub(super) fn not_dialled(&mut self, index: usize, now: Instant) {
        if let Some(target) = self.targets.get_mut(index) {
            target.retry(now);
        }
    }

    /// A connection is up; if it is one of ours, the peer's wait is reset. Returns whether it
    /// was one of ours.
    pub(super) fn established(&mut self, connection: ConnectionId) -> bool {
        match self.find(State::Dialing(connection)) {
            Some(target) => {
                target.state = State::Connected(connection);
                target.backoff = FIRST_BACKOFF;
                true
            }
            None => false,
        }
    }

    /// A dial failed or a connection closed; if it was one of ours, a new attempt is
    /// scheduled, unless the relay is still connected over another connection (`covered`):
    /// then it is redialled once that one closes too ([`Self::disconnected`]).
    pub(super) fn ended(
        &mut self,
        connection: ConnectionId,
        now: Instant,
        covered: Option<PeerId>,
    ) {
        let target = self.targets.iter_mut().find(
            |t| matches!(t.state, State::Dialing(c) | State::Connected(c) if c == connection),
        );
        if let Some(target) = target {
            match covered {
                Some(peer) => {
                    target.state = State::Covered(peer);
                    target.backoff = FIRST_BACKOFF;
                }
                None => target.retry(now),
            }
        }
    }

    /// The last connection to `peer` closed: peers it covered are redialled after the wait.
    pub(super) fn disconnected(&mut self, peer: PeerId, now: Instant) {
        for target in &mut self.targets {
            if target.state == State::Covered(peer) {
                target.retry(now);
            }
        }
    }

    /// When the next attempt is due, if one is waiting.
    pub(super) fn next_timeout(&self) -> Option<Instant> {
        self.targets
            .iter()
            .filter_map(|t| match t.state {
                State::Waiting(at) => Some(at),
                _ => None,
            })
            .min()
    }

    fn find(&mut self, state: State) -> Option<&mut Target> {
        self.targets.iter_mut().find(|t| t.state == state)
    }
}

impl Target {
    fn retry(&mut self, now: Instant) {
        self.state = State::Waiting(now + self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use libp2p::swarm::ConnectionId;
    use libp2p::PeerId;

    use super::{Dialer, FIRST_BACKOFF, MAX_BACKOFF};

    fn dialer(now: Instant) -> Dialer {
        Dialer::new(
            vec![
                "127.0.0.1:1".parse().unwrap(),
                "peer.example:2".parse().unwrap(),
            ],
            now,
        )
    }

    #[test]
    fn everyone_is_dialled_at_start_once() {
        let now = Instant::now();
        let mut d = dialer(now);
        assert_eq!(d.next_timeout(), Some(now));
        let due = d.due(now);
        assert_eq!(due.len(), 2);
        assert!(
            d.due(now + MAX_BACKOFF).is_empty(),
            "resolving, not due again"
        );
        assert_eq!(d.next_timeout(), None);
    }

    #[test]
    fn failures_double_the_wait_up_to_a_minute_and_success_resets_it() {
        let mut now = Instant::now();
        let mut d = dialer(now);
        let mut waits = Vec::new();
        for n in 0..10 {
            for (index, _) in d.due(now) {
                let c = ConnectionId::new_unchecked(100 * n + index);
                d.dialing(index, c);
                d.ended(c, now, None);
            }
            let at = d.next_timeout().unwrap();
            waits.push(at - now);
            now = at;
        }
        let secs: Vec<u64> = waits.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);

        // Connected: the next close waits one second again, then doubles.
        let due = d.due(now);
        let c = ConnectionId::new_unchecked(5000);
        d.dialing(due[0].0, c);
        d.not_dialled(due[1].0, now);
        assert!(d.established(c));
        assert!(
            !d.established(ConnectionId::new_unchecked(5001)),
            "not ours"
        );
        d.ended(c, now, None);
        let first = d.due(now + FIRST_BACKOFF);
        assert_eq!(first.len(), 1, "only the closed one is due after 1 s");
        assert_eq!(first[0].0, due[0].0);
        d.not_dialled(first[0].0, now + FIRST_BACKOFF);
        assert_eq!(d.due(now + FIRST_BACKOFF * 2).len(), 0, "now it waits 2 s");
        assert_eq!(d.due(now + FIRST_BACKOFF * 3).len(), 1);
    }

    #[test]
    fn unknown_connections_are_ignored() {
        let now = Instant::now();
        let mut d = dialer(now);
        d.ended(ConnectionId::new_unchecked(77), now, None);
        assert_eq!(d.due(now).len(), 2);
    }

    #[test]
    fn a_peer_reached_over_its_own_dial_is_redialled_only_once_it_is_gone() {
        let now = Instant::now();
        let mut d = dialer(now);
        let peer = PeerId::random();
        let due = d.due(now);
        let c = ConnectionId::new_unchecked(1);
        d.dialing(due[0].0, c);
        d.not_dialled(due[1].0, now);
        // Refused: the peer dialled us first, and that connection stays.
        d.ended(c, now, Some(peer));
        let later = now + MAX_BACKOFF * 10;
        assert_eq!(
            d.due(later).len(),
            1,
            "only the other peer, never the covered one"
        );
        d.disconnected(PeerId::random(), later);
        assert_eq!(
            d.next_timeout(),
            None,
            "another relay's disconnection changes nothing"
        );
        d.disconnected(peer, later);
        assert_eq!(d.next_timeout(), Some(later + FIRST_BACKOFF));
    }
}
