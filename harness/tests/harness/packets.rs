//! The packet watcher in the check's network namespace: everything sent there is seen on
//! the wire — on loopback, on the namespace's own subnet, off-box over IPv4 and IPv6 —
//! and only what reaches neither the server nor the relay is judged a leak.
//!
//! The test re-runs itself inside `unshare --user --map-root-user --net` (marked by
//! `LUMAMESH_PACKETS_NETNS`); there it sets the namespace up exactly as `lumamesh check`
//! does ([`harness::netns::setup`]) and sends from real sockets.

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

use harness::netns;
use harness::watch::packets::build::{dns_query, stun};
use harness::watch::packets::{judge, PacketWatch, What};

const MARK: &str = "LUMAMESH_PACKETS_NETNS";
const TEST: &str = "packets::every_attempt_in_a_namespace_is_seen_on_the_wire";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn every_attempt_in_a_namespace_is_seen_on_the_wire() {
    if std::env::var_os(MARK).is_none() {
        let exe = std::env::current_exe().unwrap();
        let out = Command::new("unshare")
            .args(["--user", "--map-root-user", "--net", "--"])
            .arg(&exe)
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(MARK, "1")
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run unshare (util-linux) for a network namespace: {e}")
            });
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success(),
            "the test in its own network namespace failed (are user and network namespaces available? `unshare --user --map-root-user --net true` must work):\n{stdout}\n{stderr}"
        );
        println!("{stdout}");
        assert!(
            stdout.contains("1 passed"),
            "the namespaced run did not run the test:\n{stdout}"
        );
        return;
    }

    netns::setup().expect("the check's namespace set-up, in a fresh namespace");

    // The content server on loopback and the relay on the namespace's address.
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let relay = UdpSocket::bind("10.77.0.1:0").unwrap();
    let allowed = [server.local_addr().unwrap(), relay.local_addr().unwrap()];

    let watch = PacketWatch::start().expect("a packet socket in the test's own namespace");

    // Allowed: a load from the server, a datagram to the relay and its answer.
    let load = TcpStream::connect(allowed[0]).unwrap();
    let page = UdpSocket::bind("10.77.0.1:0").unwrap();
    page.send_to(&stun(0x0001), allowed[1]).unwrap();
    let mut buf = [0u8; 64];
    let (_, from) = relay.recv_from(&mut buf).unwrap();
    relay.send_to(b"answer", from).unwrap();

    // Leaks: a local service, a datagram and a STUN request out the default route, a DNS
    // query to a resolver that is not there, the same over IPv6, and a TCP connection
    // attempt to an address of the namespace's own subnet (no neighbour answers there:
    // the veth must transmit without asking) and off-box over both families.
    let refused = TcpStream::connect_timeout(&addr("127.0.0.2:9"), Duration::from_secs(5));
    assert!(refused.is_err(), "nothing listens on 127.0.0.2:9");
    let udp = UdpSocket::bind("0.0.0.0:0").unwrap();
    udp.send_to(b"hello", "10.99.0.5:3478").unwrap();
    let stun_client = UdpSocket::bind("0.0.0.0:0").unwrap();
    stun_client
        .send_to(&stun(0x0001), "10.99.0.6:19302")
        .unwrap();
    let dns = UdpSocket::bind("0.0.0.0:0").unwrap();
    dns.send_to(&dns_query("leak.example"), "192.0.2.53:53")
        .unwrap();
    let v6 = UdpSocket::bind("[::]:0").unwrap();
    v6.send_to(b"hello", "[2001:db8::5]:5000").unwrap();
    for to in ["10.77.0.9:80", "192.0.2.1:8080", "[2001:db8::1]:443"] {
        // The SYN leaves at once; nobody answers it.
        let unanswered = TcpStream::connect_timeout(&addr(to), Duration::from_millis(100));
        assert!(unanswered.is_err(), "nothing answers {to}");
    }

    let attempts = watch.stop().expect("a whole capture");
    drop(load);
    for a in &attempts {
        println!(
            "{:?} {} {} -> {} {:?}",
            a.at, a.interface, a.event.src, a.event.dst, a.event.what
        );
    }
    let seen: BTreeSet<(SocketAddr, What)> = attempts
        .iter()
        .map(|a| (a.event.dst, a.event.what.clone()))
        .collect();
    let binding = What::Stun {
        message_type: 0x0001,
    };
    let expected: BTreeSet<(SocketAddr, What)> = [
        (allowed[0], What::TcpSyn),
        (allowed[1], binding.clone()),
        (page.local_addr().unwrap(), What::Udp),
        (addr("127.0.0.2:9"), What::TcpSyn),
        (addr("10.99.0.5:3478"), What::Udp),
        (addr("10.99.0.6:19302"), binding),
        (
            addr("192.0.2.53:53"),
            What::Dns {
                name: "leak.example".into(),
            },
        ),
        (addr("[2001:db8::5]:5000"), What::Udp),
        (addr("10.77.0.9:80"), What::TcpSyn),
        (addr("192.0.2.1:8080"), What::TcpSyn),
        (addr("[2001:db8::1]:443"), What::TcpSyn),
    ]
    .into_iter()
    .collect();
    assert_eq!(seen, expected, "{attempts:#?}");
    assert_eq!(attempts.len(), expected.len(), "each once: {attempts:#?}");

    let records = judge(&attempts, &allowed);
    let leaks: BTreeSet<&str> = records.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        leaks,
        BTreeSet::from([
            "127.0.0.2:9",
            "10.99.0.5:3478",
            "10.99.0.6:19302",
            "leak.example",
            "[2001:db8::5]:5000",
            "10.77.0.9:80",
            "192.0.2.1:8080",
            "[2001:db8::1]:443",
        ]),
        "{records:#?}"
    );
    for r in &records {
        let message = r.message();
        assert!(message.contains("seen on the wire"), "{message}");
        assert!(message.contains(&r.destination), "{message}");
        println!("{message}");
    }
}
