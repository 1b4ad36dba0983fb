//! Session lifecycle: channel events, timeouts, closing and removal.

use std::time::Instant;

use str0m::{Event, IceConnectionState};
use tracing::debug;

use super::session::{Phase, Timeouts};
use super::{Relay, Removal};
use crate::protocol::{CloseCode, RelayMessage};

impl Relay {
    /// Handles a session's wake-up: the `Rtc`'s timer, then the relay's own deadlines
    /// (handshake, idle, end of closing linger).
    pub(super) fn session_timeout(&mut self, key: usize, now: Instant) {
        let timeouts = Timeouts::of(&self.config.limits);
        let Some(session) = self.session(key) else {
            return;
        };
        session.scheduled = None;
        if session.rtc_timeout.is_some_and(|t| t <= now) {
            if let Err(e) = session.rtc.handle_input(str0m::Input::Timeout(now)) {
                debug!(error = %e, "session failed on timeout");
                self.remove_session(key, Removal::Failed);
                return;
            }
        }
        if session.deadline(timeouts) <= now {
            match session.phase {
                Phase::Closing(_) => {
                    // Queue DTLS close_notify, flush it, then forget the session.
                    let _ = session.rtc.close();
                    self.drain(key);
                    self.remove_session(key, Removal::RelayClosed);
                }
                Phase::Handshaking => {
                    if session.is_stalled(timeouts.stall, now) {
                        self.stats.sessions_stalled += 1;
                    }
                    self.remove_session(key, Removal::TimedOut);
                }
                Phase::Open => {
                    // ICE is alive but the client went quiet: tell it, then let it go.
                    self.stats.sessions_timed_out += 1;
                    self.close_session(key, now, CloseCode::IdleTimeout);
                }
            }
            return;
        }
        self.mark_dirty(key);
    }

    /// Handles a str0m event: the first channel opening, its frames, its closing, the
    /// connection closing, and ICE consent loss.
    pub(super) fn on_event(&mut self, key: usize, now: Instant, event: Event) {
        let Some(session) = self.session(key) else {
            return;
        };
        match event {
            Event::ChannelOpen(id, _label) => {
                if session.channel.is_some() || session.phase != Phase::Handshaking {
                    return;
                }
                session.channel = Some(id);
                session.phase = Phase::Open;
                session.last_activity = now;
                let over_capacity = session.over_capacity;
                let origin = session.origin();
                self.handshaking -= 1;
                self.sources.handshake_done(origin);
                self.stats.handshakes += 1;
                self.stats.sessions_open += 1;
                if over_capacity {
                    self.stats.rejects.relay_full_notified += 1;
                    self.close_session(key, now, CloseCode::RelayFull);
                }
                self.mark_dirty(key);
            }
            Event::ChannelData(data) if session.channel == Some(data.id) && session.is_open() => {
                self.on_frame(key, now, &data.data);
            }
            // The channel closed, or DTLS/SCTP did (a client's close() sends close_notify;
            // str0m then stops taking writes and reports no ChannelClose).
            Event::ChannelClose(id) if session.channel == Some(id) => {
                self.remove_session(key, Removal::ClientClosed);
            }
            Event::Closed => self.remove_session(key, Removal::ClientClosed),
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.remove_session(key, Removal::TimedOut);
            }
            _ => {}
        }
    }

    /// Starts closing a session: leaves its rooms now, sends `Closing` if its channel is open
    /// and removes it after the linger time; a session without a channel goes at once.
    pub(super) fn close_session(&mut self, key: usize, now: Instant, code: CloseCode) {
        let linger = self.config.limits.close_linger;
        let Some(session) = self.session(key) else {
            return;
        };
        match session.phase {
            Phase::Closing(_) => {}
            Phase::Handshaking => self.remove_session(key, Removal::RelayClosed),
            Phase::Open => {
                session.phase = Phase::Closing(now + linger);
                self.stats.sessions_open -= 1;
                self.leave_all_rooms(key);
                self.send(key, &RelayMessage::Closing { code });
            }
        }
    }

    /// Removes a session now: its rooms hear `Left`, its queued events are dropped, its
    /// state and indexes are forgotten. Nothing more is sent to it.
    pub(super) fn remove_session(&mut self, key: usize, why: Removal) {
        self.leave_all_rooms(key);
        self.events.retain(|(k, _)| *k != key);
        self.forget(key, why);
    }

    /// Drops a session's state and indexes (rooms already left).
    fn forget(&mut self, key: usize, why: Removal) {
        let Some(session) = self.sessions.get_mut(key).and_then(Option::take) else {
            return;
        };
        for addr in &session.addrs {
            self.by_addr.remove(addr);
        }
        self.by_ufrag.remove(&session.remote_ufrag);
        self.by_peer.remove(&session.peer);
        self.free.push(key);
        self.live -= 1;
        let handshaking = session.phase == Phase::Handshaking;
        if handshaking {
            self.handshaking -= 1;
        }
        self.sources.closed(session.origin(), handshaking);
        if session.phase == Phase::Open {
            self.stats.sessions_open -= 1;
        }
        self.stats.sessions_closed += 1;
        if why == Removal::TimedOut {
            self.stats.sessions_timed_out += 1;
        }
        debug!(peer = %session.peer, reason = ?why, "session removed");
    }
}
