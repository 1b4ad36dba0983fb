//! Admission under attack (issue 14): floods of authenticated binding requests, one host
//! hoarding sessions, an IPv6 /64 posing as many hosts, session hijack by a binding request
//! from a new address, and reflection of the DTLS server flight toward a spoofed source.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::harness::{Net, RELAY_ADDR};
use super::{binding_request, decode, stun_request};
use crate::client::{ClientOutput, Connection};
use crate::core::{Input, Limits, Output};
use crate::protocol::{ClientMessage, RelayMessage};

/// An authenticated binding request nominating its pair, as a browser's last check.
fn nominating_request(username: &str, pwd: &str) -> Vec<u8> {
    binding_request(username, pwd, true)
}

/// Feeds one datagram from `source` and drops whatever the relay answers (the harness has no
/// client there).
fn inject(net: &mut Net, source: SocketAddr, contents: &[u8]) {
    net.relay
        .handle_input(net.now, Input::Receive { source, contents });
}

#[test]
fn random_ufrag_flood_from_two_addresses_keeps_no_one_out() {
    let mut net = Net::new(Limits::default());
    let pwd = net.entry.pwd().as_str().to_owned();
    let flooders = [Ipv4Addr::new(10, 66, 0, 1), Ipv4Addr::new(10, 77, 0, 1)];
    let mut n = 0u32;
    let mut clients = Vec::new();
    // 100 requests a second from each flooder, each from a new port with a new ufrag, never
    // going on to DTLS; after 3 s, 20 ordinary clients from other addresses arrive and must
    // all be in within 5 s (of simulated time; unhindered they take milliseconds).
    for tick in 0..800u32 {
        for ip in flooders {
            n += 1;
            let source = SocketAddr::from((ip, 10_000 + (n % 50_000) as u16));
            let request = stun_request(&format!("luma:fl{n:06}"), &pwd);
            inject(&mut net, source, &request);
        }
        if tick == 300 {
            clients = (0..20).map(|_| net.add_client()).collect();
        }
        net.run_exactly(Duration::from_millis(10));
        if !clients.is_empty() && clients.iter().all(|&c| net.clients[c].open) {
            break;
        }
    }
    let open = clients.iter().filter(|&&c| net.clients[c].open).count();
    assert_eq!(open, 20, "clients kept out by the flood");
    let stats = net.relay.stats();
    assert!(stats.rejects.ip_handshakes + stats.rejects.ip_rate_limited > 0);
}

#[test]
fn one_address_holds_at_most_its_share_of_sessions() {
    let limits = Limits::default();
    let cap = limits.max_sessions_per_ip;
    let mut net = Net::new(limits);
    let hoarder: Vec<usize> = (0..cap + 10).map(|_| net.add_client_on(9)).collect();
    net.run_until("the hoarder at its cap", |n| {
        hoarder.iter().filter(|&&c| n.clients[c].open).count() >= cap
    });
    net.run_for(Duration::from_secs(5));
    let open = hoarder.iter().filter(|&&c| net.clients[c].open).count();
    assert_eq!(open, cap, "sessions held by one address");
    assert!(net.relay.stats().rejects.ip_sessions > 0);
    // Someone else still gets in.
    let other = net.add_client();
    net.connect(other);
}

#[test]
fn an_ipv6_slash_64_counts_as_one_source() {
    let limits = Limits::default();
    let cap = limits.max_handshaking_per_prefix;
    let mut net = Net::new(limits);
    let pwd = net.entry.pwd().as_str().to_owned();
    // Every request from its own address of one /64: the per-address limits never bite.
    for i in 0..200u16 {
        let ip = Ipv6Addr::new(0x2001, 0xdb8, 7, 7, i, 1, 2, 3);
        let request = stun_request(&format!("luma:v6{i:05}"), &pwd);
        inject(&mut net, SocketAddr::new(IpAddr::V6(ip), 4000), &request);
    }
    let held = net.relay.stats().sessions_handshaking as usize;
    assert!(held <= cap, "one /64 holds {held} handshakes, cap {cap}");
    // Another /64 is not affected.
    let ip = Ipv6Addr::new(0x2001, 0xdb8, 7, 8, 0, 0, 0, 1);
    inject(
        &mut net,
        SocketAddr::new(IpAddr::V6(ip), 4000),
        &stun_request("luma:other64", &pwd),
    );
    assert_eq!(net.relay.stats().sessions_handshaking as usize, held + 1);
}

#[test]
fn a_nominating_request_from_a_new_address_does_not_hijack_a_session() {
    let mut net = Net::new(Limits::default());
    let pwd = net.entry.pwd().as_str().to_owned();
    let a = net.add_client();
    net.hello(a);
    let addr = net.clients[a].addr;
    let ufrag = net
        .relay
        .sessions
        .iter()
        .flatten()
        .find(|s| s.addrs.contains(&addr))
        .map(|s| s.remote_ufrag.clone())
        .expect("a's session");
    let thief: SocketAddr = "10.99.0.1:6666".parse().expect("addr");
    for _ in 0..3 {
        inject(
            &mut net,
            thief,
            &nominating_request(&format!("luma:{ufrag}"), &pwd),
        );
        net.run_for(Duration::from_millis(50));
    }
    net.send(a, ClientMessage::Ping { nonce: 9 });
    let f = net.next_frame(a);
    assert_eq!(decode(&f), RelayMessage::Pong { nonce: 9 });
    net.run_for(Duration::from_secs(2));
    assert!(
        net.strays.iter().all(|(to, _)| *to != thief),
        "the relay answered the thief: {:?}",
        net.strays
    );
    assert!(net.relay.stats().rejects.new_address > 0);
}

/// A real client's first DTLS datagram (its ClientHello), captured off the wire.
fn client_hello(net: &mut Net) -> Vec<u8> {
    let local: SocketAddr = "10.40.0.1:5555".parse().expect("addr");
    let mut conn = Connection::new(&net.entry, local, None, net.now).expect("client");
    let mut now = net.now;
    for _ in 0..10_000 {
        while let Output::Transmit(t) = net.relay.poll_output() {
            if t.destination == local {
                conn.handle_receive(now, RELAY_ADDR, &t.contents);
            }
        }
        let mut wake = now + Duration::from_millis(10);
        loop {
            match conn.poll() {
                ClientOutput::Transmit(t) if (20..=63).contains(&t.contents[0]) => {
                    return t.contents.to_vec();
                }
                ClientOutput::Transmit(t) => {
                    let input = Input::Receive {
                        source: local,
                        contents: &t.contents,
                    };
                    net.relay.handle_input(now, input);
                }
                ClientOutput::Timeout(t) => {
                    wake = wake.min(t);
                    break;
                }
                _ => {}
            }
        }
        now = wake.max(now + Duration::from_millis(1));
        conn.handle_timeout(now);
    }
    panic!("the client never sent DTLS");
}

#[test]
fn a_spoofed_binding_request_and_client_hello_get_only_a_small_reply() {
    let mut net = Net::new(Limits::default());
    let pwd = net.entry.pwd().as_str().to_owned();
    let hello = client_hello(&mut net);
    net.strays.clear();
    let victim: SocketAddr = "10.50.0.1:7000".parse().expect("addr");
    let sent = hello.len() + nominating_request("luma:victim01", &pwd).len();
    inject(&mut net, victim, &nominating_request("luma:victim01", &pwd));
    inject(&mut net, victim, &hello);
    net.run_for(Duration::from_secs(30));
    let to_victim: Vec<usize> = net
        .strays
        .iter()
        .filter(|(to, _)| *to == victim)
        .map(|(_, len)| *len)
        .collect();
    let bytes: usize = to_victim.iter().sum();
    println!("spoofer sent {sent} bytes; victim got {to_victim:?} ({bytes} bytes)");
    // A STUN success and HelloVerifyRequests, never the certificate flight.
    assert!(
        to_victim.iter().all(|&len| len <= 150),
        "datagrams to the victim: {to_victim:?}"
    );
    assert!(bytes <= 2 * sent, "victim got {bytes} bytes for {sent}");
}

/// Spoofed sources in many prefixes, each within its prefix's limits, together holding every
/// handshake slot: each sends an authenticated binding request and a ClientHello but, never
/// receiving, never returns the DTLS cookie. Clients that do receive must still get in.
#[test]
fn spoofers_in_many_prefixes_cannot_hold_the_handshake_slots() {
    let mut net = Net::new(Limits::default());
    let pwd = net.entry.pwd().as_str().to_owned();
    let hello = client_hello(&mut net);
    let mut clients = Vec::new();
    let mut n = 0u32;
    // 12 prefixes, 20 new sources a second each (their limit), for 3 s before 20 clients
    // from elsewhere arrive, and on while they connect.
    for tick in 0..800u32 {
        if tick % 5 == 0 {
            for prefix in 0..12u8 {
                n += 1;
                let ip = Ipv4Addr::new(10, 90, prefix, (n % 250) as u8 + 1);
                let source = SocketAddr::from((ip, 20_000 + (n % 40_000) as u16));
                inject(
                    &mut net,
                    source,
                    &stun_request(&format!("luma:sp{n:06}"), &pwd),
                );
                inject(&mut net, source, &hello);
            }
        }
        if tick == 300 {
            let stats = net.relay.stats();
            // Every slot taken: newcomers refused (before the fix) or an old one evicted.
            assert!(
                stats.rejects.too_many_handshakes + stats.handshakes_evicted > 0,
                "the spoofers did not fill the handshake slots: {stats:?}"
            );
            clients = (0..20).map(|_| net.add_client()).collect();
        }
        net.run_exactly(Duration::from_millis(10));
        if !clients.is_empty() && clients.iter().all(|&c| net.clients[c].open) {
            break;
        }
    }
    let open = clients.iter().filter(|&&c| net.clients[c].open).count();
    assert_eq!(open, 20, "clients kept out by spoofed handshakes");
    assert!(net.relay.stats().handshakes_evicted > 0);
}

#[test]
fn a_handshake_without_dtls_is_dropped_early() {
    let limits = Limits::default();
    let stall = limits.handshake_stall;
    assert!(stall < limits.handshake_timeout / 2);
    let mut net = Net::new(limits);
    let pwd = net.entry.pwd().as_str().to_owned();
    let source: SocketAddr = "10.60.0.1:4000".parse().expect("addr");
    inject(&mut net, source, &stun_request("luma:stall01", &pwd));
    assert_eq!(net.relay.stats().sessions, 1);
    net.run_for(stall + Duration::from_millis(500));
    assert_eq!(net.relay.stats().sessions, 0);
    assert_eq!(net.relay.stats().sessions_stalled, 1);
}

#[test]
fn bad_admission_limits_name_their_setting() {
    let cases: [(&str, Limits); 5] = [
        (
            "MAX_SESSIONS_PER_IP",
            Limits {
                max_sessions_per_ip: 0,
                ..Limits::default()
            },
        ),
        (
            "MAX_HANDSHAKING_PER_PREFIX",
            Limits {
                max_handshaking_per_prefix: 0,
                ..Limits::default()
            },
        ),
        (
            "NEW_SESSIONS_PER_PREFIX",
            Limits {
                new_sessions_per_prefix_per_sec: f32::NAN,
                ..Limits::default()
            },
        ),
        (
            "NEW_SESSION_BURST_PER_IP",
            Limits {
                new_session_burst_per_ip: 0.5,
                ..Limits::default()
            },
        ),
        (
            "HANDSHAKE_STALL_MS",
            Limits {
                handshake_stall: Duration::from_secs(11),
                ..Limits::default()
            },
        ),
    ];
    for (name, limits) in cases {
        let err = limits.validate().expect_err(name).to_string();
        assert!(err.starts_with(name), "{err}");
    }
    Limits::default()
        .validate()
        .expect("the defaults are valid");
}
