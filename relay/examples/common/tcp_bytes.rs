//! Bytes carried by this machine's established loopback TCP connections, per socket, from
//! the kernel's TCP_INFO as `ss -tin` prints it: what a relay really sends and receives
//! (pnet, Noise, Yamux and gossipsub framing included; TCP/IP headers not).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::Command;

/// One socket's counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    /// Bytes the peer acknowledged (sent, retransmissions not counted twice).
    pub sent: u64,
    /// Bytes received.
    pub received: u64,
}

/// Every established TCP socket, keyed by (local, peer) address.
pub type Sockets = HashMap<(SocketAddr, SocketAddr), Counters>;

/// Reads every established TCP socket's counters (`ss -tinH state established`).
pub fn sample() -> Sockets {
    let out = Command::new("ss")
        .args(["-tinH", "state", "established"])
        .output()
        .expect("ss (iproute2) runs");
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// Parses `ss -tinH state established`: an address line, then indented info lines.
fn parse(text: &str) -> Sockets {
    let mut sockets = Sockets::new();
    let mut current = None;
    for line in text.lines() {
        if !line.starts_with(char::is_whitespace) {
            let addrs: Vec<SocketAddr> = line
                .split_whitespace()
                .filter_map(|t| t.parse().ok())
                .collect();
            current = (addrs.len() == 2).then(|| (addrs[0], addrs[1]));
            if let Some(key) = current {
                sockets.insert(key, Counters::default());
            }
            continue;
        }
        let Some(key) = current else { continue };
        let counters = sockets.get_mut(&key).expect("inserted above");
        for token in line.split_whitespace() {
            if let Some(v) = token.strip_prefix("bytes_acked:") {
                counters.sent = v.parse().unwrap_or(0);
            } else if let Some(v) = token.strip_prefix("bytes_received:") {
                counters.received = v.parse().unwrap_or(0);
            }
        }
    }
    sockets
}

/// What the sockets touching `ports` (as local or peer port) moved between two samples,
/// per local port in `ports` (a listening relay and, with port reuse, its outbound
/// connections), plus the sockets whose local port is not in `ports`, and the total
/// received by all. A socket new in `after` counts from zero.
pub struct Moved {
    /// Per local port: (sent, received).
    pub by_port: HashMap<u16, Counters>,
    /// Sockets whose owner the ports do not tell (outbound from an ephemeral port).
    pub unattributed: Counters,
    /// Everything received by every socket touching `ports`.
    pub total_received: u64,
}

/// The difference of two samples over the sockets that touch `ports`.
pub fn moved(before: &Sockets, after: &Sockets, ports: &HashSet<u16>) -> Moved {
    let mut m = Moved {
        by_port: HashMap::new(),
        unattributed: Counters::default(),
        total_received: 0,
    };
    for (key, now) in after {
        let (local, peer) = *key;
        if !ports.contains(&local.port()) && !ports.contains(&peer.port()) {
            continue;
        }
        let was = before.get(key).copied().unwrap_or_default();
        let delta = Counters {
            sent: now.sent.saturating_sub(was.sent),
            received: now.received.saturating_sub(was.received),
        };
        m.total_received += delta.received;
        let slot = if ports.contains(&local.port()) {
            m.by_port.entry(local.port()).or_default()
        } else {
            &mut m.unattributed
        };
        slot.sent += delta.sent;
        slot.received += delta.received;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_two_sockets() {
        let text = "0 0 127.0.0.1:4001 127.0.0.1:5002\n\t cubic bytes_sent:10 bytes_acked:11 bytes_received:7 segs_out:3\n0 0 127.0.0.1:5002 127.0.0.1:4001\n\t cubic bytes_acked:7 bytes_received:11\n";
        let s = parse(text);
        assert_eq!(s.len(), 2);
        let a = s[&(
            "127.0.0.1:4001".parse().unwrap(),
            "127.0.0.1:5002".parse().unwrap(),
        )];
        assert_eq!((a.sent, a.received), (11, 7));
    }
}
