//! Packets in the shapes [`super::parse`] names, built by hand: the parser's unit and
//! property tests build whole L3 packets with [`packet`], and the live capture test sends
//! [`stun`] and [`dns_query`] payloads from real sockets. One builder, so what the tests
//! send is what the parser is tested on.

use std::net::{IpAddr, SocketAddr};

use super::{PacketEvent, What, ETHERTYPE_IPV4, ETHERTYPE_IPV6};

/// A STUN message of `message_type` (`0x0001` binding request, …): the 20-byte header
/// with the magic cookie, no attributes.
pub fn stun(message_type: u16) -> Vec<u8> {
    let mut m = message_type.to_be_bytes().to_vec();
    m.extend([0, 0, 0x21, 0x12, 0xa4, 0x42]);
    m.extend([7; 12]);
    m
}

/// A DNS query (recursion desired) with one question: `name`, type A, class IN.
pub fn dns_query(name: &str) -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend(label.as_bytes());
    }
    m.extend([0, 0, 1, 0, 1]);
    m
}

/// The payload a UDP `what` carries (four `0xff` bytes for a plain datagram); `None` for
/// [`What::TcpSyn`].
pub fn payload(what: &What) -> Option<Vec<u8>> {
    match what {
        What::TcpSyn => None,
        What::Udp => Some(vec![0xff; 4]),
        What::Stun { message_type } => Some(stun(*message_type)),
        What::Dns { name } => Some(dns_query(name)),
    }
}

/// The transport header and payload of `what` from `src` to `dst`: the IP protocol
/// number and bytes.
fn l4(src: SocketAddr, dst: SocketAddr, what: &What) -> (u8, Vec<u8>) {
    let mut b = Vec::new();
    b.extend(src.port().to_be_bytes());
    b.extend(dst.port().to_be_bytes());
    let Some(payload) = payload(what) else {
        // Sequence 1, no ack, a 20-byte header, SYN, a full window.
        b.extend([0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
        return (6, b);
    };
    b.extend((8 + payload.len() as u16).to_be_bytes());
    b.extend([0, 0]);
    b.extend(payload);
    (17, b)
}

/// A whole L3 packet for `event` and its EtherType; `ext` are IPv6 extension headers to
/// put in front of the transport header (their protocol numbers: 44 fragment, 51
/// authentication, any other an 8-byte options header).
///
/// # Panics
/// If `event`'s two addresses are not of one family.
pub fn packet(event: &PacketEvent, ext: &[u8]) -> (u16, Vec<u8>) {
    let (proto, l4) = l4(event.src, event.dst, &event.what);
    match (event.src.ip(), event.dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut p = vec![0x45, 0];
            p.extend((20 + l4.len() as u16).to_be_bytes());
            p.extend([0, 1, 0x40, 0, 64, proto, 0, 0]);
            p.extend(s.octets());
            p.extend(d.octets());
            p.extend(l4);
            (ETHERTYPE_IPV4, p)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut headers = Vec::new();
            for (i, &kind) in ext.iter().enumerate() {
                let next = ext.get(i + 1).copied().unwrap_or(proto);
                match kind {
                    44 => headers.extend([next, 0, 0, 1, 0, 0, 0, 9]),
                    51 => headers.extend([next, 1, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1]),
                    _ => headers.extend([next, 1, 1, 4, 0, 0, 0, 0, 1, 6, 0, 0, 0, 0, 0, 0]),
                }
            }
            let first = ext.first().copied().unwrap_or(proto);
            let mut p = vec![0x60, 0, 0, 0];
            p.extend(((headers.len() + l4.len()) as u16).to_be_bytes());
            p.extend([first, 64]);
            p.extend(s.octets());
            p.extend(d.octets());
            p.extend(headers);
            p.extend(l4);
            (ETHERTYPE_IPV6, p)
        }
        _ => panic!("one address family per packet"),
    }
}
