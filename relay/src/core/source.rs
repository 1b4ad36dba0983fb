//! Per-source admission: who is asking for a new session, counted by address and by prefix.
//!
//! A source is an IP address (IPv4-mapped IPv6 counted as IPv4) and its prefix: the /24 of
//! an IPv4 address, the /64 of an IPv6 one (one host or one customer typically holds a whole
//! /64, so per-address counting alone would not limit it). The table counts the sessions and
//! the handshakes each address and each prefix holds, and rate limits new sessions per
//! address and per prefix. Entries exist only while they count something (or while a rate
//! bucket is not full), so the table is bounded by the sessions held and the limiters' own
//! capacity.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use super::config::Limits;
use super::rate::IpLimiter;
use super::stats::Rejects;

/// The address a session is counted under: IPv4-mapped IPv6 as IPv4.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The prefix `ip` is counted under: its /24 (IPv4) or /64 (IPv6), as an address.
pub(crate) fn prefix(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

/// What one address or prefix holds.
#[derive(Debug, Default, Clone, Copy)]
struct Held {
    sessions: usize,
    handshaking: usize,
}

/// Why a source may not open a session now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The address holds `max_sessions_per_ip` sessions.
    IpSessions,
    /// The prefix holds `max_sessions_per_prefix` sessions.
    PrefixSessions,
    /// The address has `max_handshaking_per_ip` handshakes running.
    IpHandshakes,
    /// The prefix has `max_handshaking_per_prefix` handshakes running.
    PrefixHandshakes,
    /// The address is over its new-session rate.
    IpRate,
    /// The prefix is over its new-session rate.
    PrefixRate,
}

impl Refusal {
    /// Counts the refusal in the stats.
    pub(crate) fn count(self, rejects: &mut Rejects) {
        let counter = match self {
            Self::IpSessions => &mut rejects.ip_sessions,
            Self::PrefixSessions => &mut rejects.prefix_sessions,
            Self::IpHandshakes => &mut rejects.ip_handshakes,
            Self::PrefixHandshakes => &mut rejects.prefix_handshakes,
            Self::IpRate => &mut rejects.ip_rate_limited,
            Self::PrefixRate => &mut rejects.prefix_rate_limited,
        };
        *counter += 1;
    }
}

/// Sessions and handshakes held per address and per prefix, and their new-session rates.
#[derive(Debug)]
pub(crate) struct Sources {
    by_ip: HashMap<IpAddr, Held>,
    by_prefix: HashMap<IpAddr, Held>,
    ip_rate: IpLimiter,
    prefix_rate: IpLimiter,
    max_sessions: (usize, usize),
    max_handshaking: (usize, usize),
}

impl Sources {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            by_ip: HashMap::new(),
            by_prefix: HashMap::new(),
            ip_rate: IpLimiter::new(
                limits.new_sessions_per_ip_per_sec,
                limits.new_session_burst_per_ip,
                limits.ip_table_capacity,
            ),
            prefix_rate: IpLimiter::new(
                limits.new_sessions_per_prefix_per_sec,
                limits.new_session_burst_per_prefix,
                limits.ip_table_capacity,
            ),
            max_sessions: (limits.max_sessions_per_ip, limits.max_sessions_per_prefix),
            max_handshaking: (
                limits.max_handshaking_per_ip,
                limits.max_handshaking_per_prefix,
            ),
        }
    }

    /// Whether `ip` may open one more session now. Checks what it holds first, then charges
    /// its rate buckets (a refused source pays for its attempts; a source at its cap does not
    /// drain its bucket for nothing).
    pub(crate) fn admit(&mut self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        let (ip, net) = (canonical(ip), prefix(ip));
        let at_ip = self.by_ip.get(&ip).copied().unwrap_or_default();
        let at_net = self.by_prefix.get(&net).copied().unwrap_or_default();
        if at_ip.sessions >= self.max_sessions.0 {
            return Err(Refusal::IpSessions);
        }
        if at_net.sessions >= self.max_sessions.1 {
            return Err(Refusal::PrefixSessions);
        }
        if at_ip.handshaking >= self.max_handshaking.0 {
            return Err(Refusal::IpHandshakes);
        }
        if at_net.handshaking >= self.max_handshaking.1 {
            return Err(Refusal::PrefixHandshakes);
        }
        if !self.ip_rate.allow(ip, now) {
            return Err(Refusal::IpRate);
        }
        if !self.prefix_rate.allow(net, now) {
            return Err(Refusal::PrefixRate);
        }
        Ok(())
    }

    /// Counts a new (handshaking) session from `ip`.
    pub(crate) fn opened(&mut self, ip: IpAddr) {
        for held in self.both(ip) {
            held.sessions += 1;
            held.handshaking += 1;
        }
    }

    /// A session from `ip` finished its handshake.
    pub(crate) fn handshake_done(&mut self, ip: IpAddr) {
        for held in self.both(ip) {
            held.handshaking = held.handshaking.saturating_sub(1);
        }
    }

    /// A session from `ip` is gone (`handshaking`: it had not finished its handshake).
    pub(crate) fn closed(&mut self, ip: IpAddr, handshaking: bool) {
        for held in self.both(ip) {
            held.sessions = held.sessions.saturating_sub(1);
            if handshaking {
                held.handshaking = held.handshaking.saturating_sub(1);
            }
        }
        let (ip, net) = (canonical(ip), prefix(ip));
        if self.by_ip.get(&ip).is_some_and(|h| h.sessions == 0) {
            self.by_ip.remove(&ip);
        }
        if self.by_prefix.get(&net).is_some_and(|h| h.sessions == 0) {
            self.by_prefix.remove(&net);
        }
    }

    /// Lets the rate limiters forget sources whose buckets are full again.
    pub(crate) fn prune(&mut self, now: Instant) {
        self.ip_rate.prune(now);
        self.prefix_rate.prune(now);
    }

    fn both(&mut self, ip: IpAddr) -> [&mut Held; 2] {
        let (ip, net) = (canonical(ip), prefix(ip));
        [
            self.by_ip.entry(ip).or_default(),
            self.by_prefix.entry(net).or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::prefix;

    #[test]
    fn prefixes() {
        let p = |s: &str| prefix(s.parse::<IpAddr>().expect("ip")).to_string();
        assert_eq!(p("192.0.2.77"), "192.0.2.0");
        assert_eq!(p("::ffff:192.0.2.77"), "192.0.2.0");
        assert_eq!(p("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
    }
}
