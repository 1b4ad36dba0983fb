//! Counters the relay keeps for /statsz and /metrics.

use serde::Serialize;

/// Why a packet or a new session was refused.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Rejects {
    /// Packets from unknown addresses that were not an authenticated STUN binding request.
    pub unauthenticated: u64,
    /// New sessions refused by the per-IP rate limit.
    pub ip_rate_limited: u64,
    /// New sessions refused by the per-prefix (/24, /64) rate limit.
    pub prefix_rate_limited: u64,
    /// New sessions refused because their IP holds `max_sessions_per_ip` sessions.
    pub ip_sessions: u64,
    /// New sessions refused because their prefix holds `max_sessions_per_prefix` sessions.
    pub prefix_sessions: u64,
    /// New sessions refused because their IP has `max_handshaking_per_ip` handshakes running.
    pub ip_handshakes: u64,
    /// New sessions refused because their prefix has `max_handshaking_per_prefix` handshakes
    /// running.
    pub prefix_handshakes: u64,
    /// Binding requests naming a live session's ufrag from an address the session may not
    /// take on (it is past its first DTLS datagram, or has `max_addrs_per_session`).
    pub new_address: u64,
    /// New sessions refused outright because even the overflow allowance was used.
    pub relay_full: u64,
    /// New sessions accepted only to be told `Closing RelayFull`.
    pub relay_full_notified: u64,
    /// New sessions refused because `max_handshaking` handshakes are already running.
    pub too_many_handshakes: u64,
    /// New sessions refused while shutting down.
    pub shutting_down: u64,
    /// Frames refused by the per-session rate limit.
    pub message_rate_limited: u64,
    /// Frames that did not decode (malformed, too large, unknown type).
    pub malformed: u64,
    /// Requests refused by room rules (room full, not in room, unknown peer, …).
    pub refused: u64,
    /// Frames that could not be queued: the recipient's send buffer was full or its
    /// connection was already closing.
    pub send_dropped: u64,
}

/// Cumulative counters plus current gauges.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Stats {
    /// Sessions currently held (including ones still handshaking or closing).
    pub sessions: u64,
    /// Sessions still handshaking (ICE, DTLS, SCTP, channel open).
    pub sessions_handshaking: u64,
    /// Sessions whose DataChannel is open.
    pub sessions_open: u64,
    /// Rooms with at least one member.
    pub rooms: u64,
    /// Sessions ever created (authenticated STUN from a new client).
    pub sessions_created: u64,
    /// Sessions whose DataChannel opened (handshakes completed).
    pub handshakes: u64,
    /// Sessions removed for any reason.
    pub sessions_closed: u64,
    /// Sessions removed because of ICE consent loss, idle or handshake timeout.
    pub sessions_timed_out: u64,
    /// Handshaking sessions dropped for not proving their address (no DTLS, or no
    /// ClientHello returning the cookie) within `handshake_stall` (also counted in
    /// `sessions_timed_out`).
    pub sessions_stalled: u64,
    /// Handshaking sessions that had not returned their DTLS cookie, dropped to make room
    /// for a new one when every handshake slot was taken.
    pub handshakes_evicted: u64,
    /// Sessions closed for too many errors.
    pub sessions_kicked: u64,
    /// Refusals by reason.
    pub rejects: Rejects,
    /// Frames received from clients.
    pub messages_in: u64,
    /// Frames sent to clients.
    pub messages_out: u64,
    /// Frame bytes received from clients.
    pub bytes_in: u64,
    /// Frame bytes sent to clients.
    pub bytes_out: u64,
    /// UDP datagrams received.
    pub datagrams_in: u64,
    /// UDP datagrams sent.
    pub datagrams_out: u64,
    /// Signals forwarded between sessions of this relay.
    pub signals_forwarded: u64,
    /// Signals between sessions of this relay that the target's channel could not take (its
    /// send buffer full, or closing): answered `Error RateLimited` to the sender without a
    /// strike; also counted in `rejects.send_dropped`.
    pub signals_unqueued: u64,
    /// Members of this relay's rooms that other relays serve (gauge).
    pub remote_members: u64,
    /// Signals this relay's sessions sent to sessions of other relays.
    pub signals_to_relays: u64,
    /// Signals from other relays delivered to this relay's sessions.
    pub signals_from_relays: u64,
    /// Signals from other relays dropped: the sender is not a member its relay announced in
    /// the room, or the recipient is not an open version 2 session in it (a version 1
    /// session, a closed one, a room without local members).
    pub mesh_signals_dropped: u64,
    /// Remote members not kept because the room already had `max_room_size` members.
    pub remote_members_refused: u64,
    /// Federation input ignored: about a room with no local member, naming this relay, or
    /// received while not federated.
    pub mesh_ignored: u64,
    /// Signals over their sender→target pair's budget (refused `RateLimited` to a local
    /// sender; from another relay, dropped and also counted in `mesh_signals_dropped`).
    pub signals_limited: u64,
    /// Joins over the member's budget in the room (refused `RateLimited` to a local member;
    /// from another relay, not kept and also counted in `mesh_ignored`).
    pub joins_limited: u64,
    /// Rejoins refused because their room's churn budget (`ROOM_CHURN_PER_SEC`) was spent
    /// (refused `RateLimited` to a local member; from another relay, not kept and also
    /// counted in `mesh_ignored`). Not counted in `joins_limited`.
    pub room_churn_limited: u64,
}

/// Adds `other`'s fields to `this`'s, one by one. The destructuring names every field, so a
/// field added to the struct but not here fails to compile instead of being left out.
macro_rules! add_fields {
    ($ty:ident, $this:ident, $other:ident; $($field:ident),* $(,)?) => {{
        let $ty { $($field),* } = $other;
        $($this.$field += $field;)*
    }};
}

impl std::ops::AddAssign for Rejects {
    fn add_assign(&mut self, other: Self) {
        add_fields!(Rejects, self, other;
            unauthenticated, ip_rate_limited, prefix_rate_limited, ip_sessions, prefix_sessions,
            ip_handshakes, prefix_handshakes, new_address, relay_full, relay_full_notified,
            too_many_handshakes, shutting_down, message_rate_limited, malformed, refused,
            send_dropped);
    }
}

/// The stats of several shards of one relay together: every counter and gauge summed (a
/// room with members on two shards counts twice in `rooms`; the sharded driver replaces
/// that gauge with the relay's distinct rooms).
impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, other: Self) {
        add_fields!(Stats, self, other;
            sessions, sessions_handshaking, sessions_open, rooms, sessions_created, handshakes,
            sessions_closed, sessions_timed_out, sessions_stalled, handshakes_evicted,
            sessions_kicked, rejects, messages_in, messages_out, bytes_in, bytes_out,
            datagrams_in, datagrams_out, signals_forwarded, signals_unqueued, remote_members,
            signals_to_relays, signals_from_relays, mesh_signals_dropped, remote_members_refused,
            mesh_ignored, signals_limited, joins_limited, room_churn_limited);
    }
}

impl std::iter::Sum for Stats {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |mut total, s| {
            total += s;
            total
        })
    }
}
