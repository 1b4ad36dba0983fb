//! The packet watcher in a network namespace of its own: everything sent there is seen on
//! the wire, and only what reaches neither the server nor the relay is judged a leak.
//!
//! The test re-runs itself inside `unshare --user --map-root-user --net` (marked by
//! `LUMAMESH_PACKETS_NETNS`); there it brings `lo` up, adds a veth with 10.77.0.1/24 and
//! fd77::1/64 and default routes through a gateway with a permanent neighbour entry, and
//! sends from real sockets.

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

use harness::watch::packets::{judge, PacketWatch, What};

const MARK: &str = "LUMAMESH_PACKETS_NETNS";
const TEST: &str = "every_attempt_in_a_namespace_is_seen_on_the_wire";

/// Runs `ip` with `args`, failing the test with its words.
fn ip(args: &str) {
    let out = Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `ip {args}` (iproute2): {e}"));
    assert!(
        out.status.success(),
        "ip {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stun_binding_request() -> Vec<u8> {
    let mut m = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
    m.extend([0x5a; 12]);
    m
}

fn dns_query(name: &str) -> Vec<u8> {
    let mut m = vec![0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend(label.as_bytes());
    }
    m.extend([0, 0, 1, 0, 1]);
    m
}

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

    ip("link set lo up");
    ip("link add lm0 type veth peer name lm1");
    ip("addr add 10.77.0.1/24 dev lm0");
    ip("-6 addr add fd77::1/64 dev lm0 nodad");
    ip("link set lm1 up");
    ip("link set lm0 up");
    ip("route add default via 10.77.0.2");
    ip("-6 route add default via fd77::2");
    ip("neigh replace 10.77.0.2 lladdr 02:00:00:00:00:02 dev lm0 nud permanent");
    ip("-6 neigh replace fd77::2 lladdr 02:00:00:00:00:02 dev lm0 nud permanent");

    // The content server on loopback and the relay on the namespace's address.
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let relay = UdpSocket::bind("10.77.0.1:0").unwrap();
    let allowed = [server.local_addr().unwrap(), relay.local_addr().unwrap()];

    let watch = PacketWatch::start().expect("a packet socket in the test's own namespace");

    // Allowed: a load from the server, a datagram to the relay and its answer.
    let load = TcpStream::connect(allowed[0]).unwrap();
    let page = UdpSocket::bind("10.77.0.1:0").unwrap();
    page.send_to(&stun_binding_request(), allowed[1]).unwrap();
    let mut buf = [0u8; 64];
    let (_, from) = relay.recv_from(&mut buf).unwrap();
    relay.send_to(b"answer", from).unwrap();

    // Leaks: a local service, a datagram and a STUN request out the default route, a DNS
    // query to a resolver that is not there, and the same over IPv6.
    let refused = TcpStream::connect_timeout(&addr("127.0.0.2:9"), Duration::from_secs(5));
    assert!(refused.is_err(), "nothing listens on 127.0.0.2:9");
    let udp = UdpSocket::bind("0.0.0.0:0").unwrap();
    udp.send_to(b"hello", "10.99.0.5:3478").unwrap();
    let stun = UdpSocket::bind("0.0.0.0:0").unwrap();
    stun.send_to(&stun_binding_request(), "10.99.0.6:19302")
        .unwrap();
    let dns = UdpSocket::bind("0.0.0.0:0").unwrap();
    dns.send_to(&dns_query("leak.example"), "192.0.2.53:53")
        .unwrap();
    let v6 = UdpSocket::bind("[::]:0").unwrap();
    v6.send_to(b"hello", "[2001:db8::5]:5000").unwrap();

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
            "[2001:db8::5]:5000"
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
