//! The parser on hand-made packets and on garbage; the tracker; the judge.

use std::net::SocketAddr;
use std::time::Duration;

use proptest::prelude::*;

use super::build::packet;
use super::{
    judge, parse, Attempt, PacketEvent, Tracker, What, ETHERTYPE_IPV4, ETHERTYPE_IPV6,
    PACKET_OUTGOING,
};

const PACKET_HOST: u8 = 0;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn event(src: &str, dst: &str, what: What) -> PacketEvent {
    PacketEvent {
        src: addr(src),
        dst: addr(dst),
        what,
    }
}

#[test]
fn a_tcp_syn_is_an_attempt_and_its_answer_is_not() {
    let syn = event("127.0.0.1:40000", "127.0.0.2:9", What::TcpSyn);
    let (ethertype, mut bytes) = packet(&syn, &[]);
    assert_eq!(parse(ethertype, &bytes), Some(syn));
    // SYN+ACK, RST+ACK, a plain ACK: answers and established traffic.
    for flags in [0x12, 0x14, 0x10, 0x18] {
        bytes[20 + 13] = flags;
        assert_eq!(parse(ethertype, &bytes), None, "flags {flags:#x}");
    }
}

#[test]
fn udp_stun_and_dns_are_told_apart() {
    for e in [
        event("10.77.0.1:5000", "10.99.0.5:3478", What::Udp),
        event(
            "10.77.0.1:5001",
            "10.99.0.6:19302",
            What::Stun {
                message_type: 0x0001,
            },
        ),
        event(
            "10.77.0.1:5002",
            "192.0.2.53:53",
            What::Dns {
                name: "leak.example".into(),
            },
        ),
        event(
            "[fd77::1]:5003",
            "[2001:db8::5]:3478",
            What::Stun {
                message_type: 0x0003,
            },
        ),
    ] {
        let (ethertype, bytes) = packet(&e, &[]);
        assert_eq!(parse(ethertype, &bytes), Some(e));
    }
    // A STUN cookie in a datagram too short for a STUN header is just a datagram.
    let e = event("10.77.0.1:5000", "10.99.0.5:3478", What::Udp);
    let (ethertype, mut bytes) = packet(&e, &[]);
    bytes.truncate(20 + 8);
    bytes.extend([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]);
    assert_eq!(parse(ethertype, &bytes).unwrap().what, What::Udp);
}

#[test]
fn a_dns_name_is_decoded_and_only_queries_count() {
    let mut q = vec![0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    q.extend([3, b'a', b'.', 0x07, 2, b'x', b'y', 0, 0, 1, 0, 1]);
    assert_eq!(super::dns_query_name(&q).as_deref(), Some("a\\.\\007.xy"));
    // A response (QR set), a query without questions, a compression pointer, a cut name.
    let mut response = q.clone();
    response[2] |= 0x80;
    assert_eq!(super::dns_query_name(&response), None);
    let mut empty = q.clone();
    empty[5] = 0;
    assert_eq!(super::dns_query_name(&empty), None);
    let mut pointer = q[..12].to_vec();
    pointer.extend([0xc0, 0x0c]);
    assert_eq!(super::dns_query_name(&pointer), None);
    assert_eq!(super::dns_query_name(&q[..15]), None);
    // On another port the same bytes are a plain datagram.
    let e = event(
        "10.77.0.1:5002",
        "192.0.2.53:53",
        What::Dns {
            name: "leak.example".into(),
        },
    );
    let (ethertype, mut bytes) = packet(&e, &[]);
    bytes[22..24].copy_from_slice(&5000u16.to_be_bytes());
    assert_eq!(parse(ethertype, &bytes).unwrap().what, What::Udp);
}

#[test]
fn ipv6_extension_headers_are_skipped() {
    let e = event("[fd77::1]:5000", "[2001:db8::5]:443", What::TcpSyn);
    for ext in [&[][..], &[0], &[0, 60, 43], &[44], &[0, 51, 60]] {
        let (ethertype, bytes) = packet(&e, ext);
        assert_eq!(parse(ethertype, &bytes), Some(e.clone()), "{ext:?}");
    }
    // A later fragment carries no transport header; ESP hides it; ICMPv6 is ignored.
    let (ethertype, mut bytes) = packet(&e, &[44]);
    bytes[40 + 3] = 0x08;
    assert_eq!(parse(ethertype, &bytes), None);
    let (_, mut esp) = packet(&e, &[]);
    esp[6] = 50;
    assert_eq!(parse(ETHERTYPE_IPV6, &esp), None);
    esp[6] = 58;
    assert_eq!(parse(ETHERTYPE_IPV6, &esp), None);
}

#[test]
fn ipv4_fragments_icmp_and_other_frames_are_ignored() {
    let e = event("10.77.0.1:5000", "10.99.0.5:3478", What::Udp);
    let (ethertype, bytes) = packet(&e, &[]);
    let mut later = bytes.clone();
    later[6..8].copy_from_slice(&0x2001u16.to_be_bytes());
    assert_eq!(parse(ethertype, &later), None);
    let mut first = bytes.clone();
    first[6..8].copy_from_slice(&0x2000u16.to_be_bytes());
    assert_eq!(parse(ethertype, &first), Some(e));
    let mut icmp = bytes.clone();
    icmp[9] = 1;
    assert_eq!(parse(ethertype, &icmp), None);
    // ARP, an IPv6 packet labelled IPv4, a header length below 20.
    assert_eq!(parse(0x0806, &bytes), None);
    assert_eq!(parse(ETHERTYPE_IPV6, &bytes), None);
    let mut short = bytes;
    short[0] = 0x44;
    assert_eq!(parse(ethertype, &short), None);
}

#[test]
fn the_tracker_keeps_transmitted_frames_once() {
    let mut tracker = Tracker::new();
    let syn = event("127.0.0.1:40000", "127.0.0.2:9", What::TcpSyn);
    let (ethertype, bytes) = packet(&syn, &[]);
    // On lo a packet is seen leaving and arriving; a retransmitted SYN is the same attempt.
    for (ms, kind) in [
        (1, PACKET_OUTGOING),
        (1, PACKET_HOST),
        (900, PACKET_OUTGOING),
    ] {
        tracker.frame(Duration::from_millis(ms), "lo", kind, ethertype, &bytes);
    }
    let udp = event("10.77.0.1:5000", "10.99.0.5:3478", What::Udp);
    let (ethertype, bytes) = packet(&udp, &[]);
    tracker.frame(
        Duration::from_millis(5),
        "lm0",
        PACKET_HOST,
        ethertype,
        &bytes,
    );
    tracker.frame(
        Duration::from_millis(7),
        "lm0",
        PACKET_OUTGOING,
        ethertype,
        &bytes,
    );
    tracker.frame(
        Duration::from_millis(8),
        "lm0",
        PACKET_OUTGOING,
        ethertype,
        &bytes,
    );
    assert_eq!(
        tracker.attempts(),
        [
            Attempt {
                at: Duration::from_millis(1),
                interface: "lo".into(),
                event: syn,
            },
            Attempt {
                at: Duration::from_millis(7),
                interface: "lm0".into(),
                event: udp,
            },
        ]
    );
}

fn attempt(interface: &str, e: PacketEvent) -> Attempt {
    Attempt {
        at: Duration::from_millis(3200),
        interface: interface.into(),
        event: e,
    }
}

#[test]
fn judge_names_what_is_neither_the_server_nor_a_relay() {
    let server = addr("127.0.0.1:8080");
    let relay = addr("10.77.0.1:3478");
    let binding = What::Stun {
        message_type: 0x0001,
    };
    let attempts = [
        // The page's own loads and its relay channel, and the relay's answers.
        attempt(
            "lo",
            event("127.0.0.1:40001", "127.0.0.1:8080", What::TcpSyn),
        ),
        attempt(
            "lo",
            event("10.77.0.1:50000", "10.77.0.1:3478", binding.clone()),
        ),
        attempt("lo", event("10.77.0.1:3478", "10.77.0.1:50000", What::Udp)),
        // The check's two browsers meeting each other directly.
        attempt(
            "lo",
            event("10.77.0.1:50002", "10.77.0.1:50004", binding.clone()),
        ),
        attempt(
            "lo",
            event("10.77.0.1:50004", "10.77.0.1:50002", binding.clone()),
        ),
        attempt(
            "lm0",
            event(
                "10.77.0.1:5353",
                "224.0.0.251:5353",
                What::Dns {
                    name: "x.local".into(),
                },
            ),
        ),
        // What the relay itself sends (to its federation) is not the page's.
        attempt(
            "lm0",
            event("10.77.0.1:3478", "198.51.100.1:3478", What::Udp),
        ),
        // Leaks.
        attempt("lo", event("127.0.0.1:40002", "127.0.0.2:9", What::TcpSyn)),
        attempt("lo", event("127.0.0.1:40003", "127.0.0.1:9999", What::Udp)),
        attempt(
            "lm0",
            event("10.77.0.1:50006", "10.99.0.6:19302", binding.clone()),
        ),
        attempt("lm0", event("10.77.0.1:50007", "10.99.0.6:19302", binding)),
        attempt(
            "lm0",
            event(
                "10.77.0.1:41000",
                "192.0.2.53:53",
                What::Dns {
                    name: "leak.example".into(),
                },
            ),
        ),
        attempt(
            "lm0",
            event("[fd77::1]:41000", "[2001:db8::5]:443", What::TcpSyn),
        ),
    ];
    let records = judge(&attempts, &[server, relay]);
    let targets: Vec<&str> = records.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "127.0.0.2:9",
            "127.0.0.1:9999",
            "10.99.0.6:19302",
            "leak.example",
            "[2001:db8::5]:443"
        ],
        "{records:#?}"
    );
    assert_eq!(
        records[3].message(),
        "sends a DNS query for leak.example to 192.0.2.53:53, seen on the wire (UDP from 10.77.0.1:41000 on lm0, 3.2 s after the capture started), which is neither the inscription server nor a listed relay"
    );
    assert!(records[2]
        .message()
        .contains("a STUN binding request to 10.99.0.6:19302, seen on the wire"));
    // An IPv4-mapped address is the same endpoint.
    let mapped = [attempt(
        "lo",
        event(
            "[::ffff:127.0.0.1]:40001",
            "[::ffff:127.0.0.1]:8080",
            What::TcpSyn,
        ),
    )];
    assert!(judge(&mapped, &[server]).is_empty());
}

fn what() -> impl Strategy<Value = What> {
    prop_oneof![
        Just(What::TcpSyn),
        Just(What::Udp),
        (0u16..0x4000).prop_map(|message_type| What::Stun { message_type }),
        prop::collection::vec("[a-z0-9-]{1,20}", 1..5).prop_map(|labels| What::Dns {
            name: labels.join(".")
        }),
    ]
}

fn endpoints() -> impl Strategy<Value = (SocketAddr, SocketAddr)> {
    prop_oneof![
        (
            any::<[u8; 4]>(),
            any::<u16>(),
            any::<[u8; 4]>(),
            any::<u16>()
        )
            .prop_map(|(s, sp, d, dp)| (SocketAddr::from((s, sp)), SocketAddr::from((d, dp)))),
        (
            any::<[u8; 16]>(),
            any::<u16>(),
            any::<[u8; 16]>(),
            any::<u16>()
        )
            .prop_map(|(s, sp, d, dp)| (SocketAddr::from((s, sp)), SocketAddr::from((d, dp)))),
    ]
}

fn built() -> impl Strategy<Value = (PacketEvent, Vec<u8>)> {
    (
        endpoints(),
        what(),
        prop::collection::vec(prop::sample::select(vec![0u8, 43, 44, 51, 60]), 0..4),
    )
        .prop_map(|((src, mut dst), what, ext)| {
            if matches!(what, What::Dns { .. }) {
                dst.set_port(53);
            }
            (PacketEvent { src, dst, what }, ext)
        })
}

proptest! {
    #[test]
    fn garbage_never_panics(ethertype in prop::sample::select(vec![ETHERTYPE_IPV4, ETHERTYPE_IPV6, 0x0806, 0]),
                            bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse(ethertype, &bytes);
    }

    #[test]
    fn built_packets_round_trip((e, ext) in built()) {
        let (ethertype, bytes) = packet(&e, &ext);
        prop_assert_eq!(parse(ethertype, &bytes), Some(e));
    }

    #[test]
    fn cut_or_mangled_packets_never_panic((e, ext) in built(), cut in any::<prop::sample::Index>(),
                                          flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4)) {
        let (ethertype, mut bytes) = packet(&e, &ext);
        let _ = parse(ethertype, &bytes[..cut.index(bytes.len() + 1)]);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = parse(ethertype, &bytes);
    }
}

#[test]
fn the_check_names_a_wire_leak_in_its_verdict() {
    use crate::check::{problems, Allowed};
    use crate::watch::Observation;
    let attempts = [attempt(
        "lm0",
        event(
            "10.77.0.1:41000",
            "192.0.2.53:53",
            What::Dns {
                name: "leak.example".into(),
            },
        ),
    )];
    let observation = Observation {
        wire: judge(&attempts, &[]),
        ..Observation::default()
    };
    let allowed = Allowed {
        relays: &[],
        local_ports: &[],
    };
    let found = problems(&observation, "http://127.0.0.1:1", "/content/x", &allowed);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].api, "wire");
    assert_eq!(found[0].url.as_deref(), Some("leak.example"));
    assert!(found[0]
        .message
        .contains("to 192.0.2.53:53, seen on the wire"));
}

#[test]
fn only_firefox_own_lookups_are_passed_over() {
    use crate::watch::firefox::own_lookup;
    let dns = |name: &str| {
        attempt(
            "lmcheck0",
            event(
                "10.77.0.1:41000",
                "10.255.255.53:53",
                What::Dns { name: name.into() },
            ),
        )
    };
    let attempts = [
        dns("incoming.telemetry.mozilla.org"),
        dns("leak.incoming.telemetry.mozilla.org"),
        dns("leak.example"),
    ];
    let kept: Vec<String> = judge(&attempts, &[])
        .into_iter()
        .filter(|r| !own_lookup(r))
        .map(|r| r.target)
        .collect();
    assert_eq!(
        kept,
        ["leak.incoming.telemetry.mozilla.org", "leak.example"]
    );
}
