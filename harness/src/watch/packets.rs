//! Watching a visit from below the browser: every packet that leaves any process of the
//! check's private network namespace.
//!
//! Inside a network namespace of its own (`unshare --user --map-root-user --net`, `lo` up,
//! a veth with a private address and a default route), everything a browser sends — from
//! a tab, a dedicated or service worker, a prefetch, its resolver, WebRTC's STUN and TURN,
//! QUIC — is a packet transmitted on `lo` or the veth. A packet socket (`AF_PACKET`,
//! `ETH_P_ALL`, every interface of the namespace) sees each one as it is transmitted, so
//! nothing a page does in the browser can hide an attempt from it.
//!
//! Three parts:
//! - [`parse`]: a sans-IO parser, one cooked frame (the L3 packet an `AF_PACKET`
//!   `SOCK_DGRAM` socket gives, with the frame's EtherType) to a [`PacketEvent`] — a TCP
//!   connection attempt (SYN without ACK) or a UDP datagram, named a STUN/TURN message by its
//!   magic cookie or a DNS query with its name; ICMP and anything else is ignored;
//! - [`Tracker`], the sans-IO capture core (frames and times in, [`Attempt`]s out): keeps
//!   only transmitted frames and the first of each kind per flow;
//! - [`PacketWatch`], the thin driver: the socket and a thread that feeds the tracker.
//!
//! [`judge`] turns attempts into [`WireRecord`]s: what went anywhere but the inscription
//! server and the relays.
//!
//! For an attempt to become a packet the namespace must route it: a default route for IPv4
//! and for IPv6, and a gateway with a permanent neighbour entry (an unanswered ARP or
//! neighbour solicitation keeps the packet queued, never transmitted, and it is not seen).

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

pub mod build;

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
/// `sll_pkttype` of a frame this host transmitted (`PACKET_OUTGOING`).
pub const PACKET_OUTGOING: u8 = 4;

/// STUN's magic cookie (RFC 5389), bytes 4..8 of every STUN message.
const STUN_COOKIE: u32 = 0x2112_A442;
/// At most this many attempts are kept per capture; more are counted, not stored.
const MAX_ATTEMPTS: usize = 10_000;
/// Bytes of each frame the kernel copies to the socket (headers and a DNS question fit).
const SNAP_LEN: u32 = 2048;

/// What a packet was.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum What {
    /// A TCP connection attempt (SYN without ACK).
    TcpSyn,
    /// A UDP datagram that is neither STUN nor a DNS query.
    Udp,
    /// A STUN or TURN message (its magic cookie), with its message type
    /// (`0x0001` binding request, `0x0003` TURN allocate request, …).
    Stun {
        /// The STUN message type.
        message_type: u16,
    },
    /// A DNS (or mDNS/LLMNR) query, with the name of its first question.
    Dns {
        /// The queried name, dotted, non-printable bytes as `\DDD`.
        name: String,
    },
}

impl What {
    /// The transport: `TCP` or `UDP`.
    pub fn proto(&self) -> &'static str {
        match self {
            Self::TcpSyn => "TCP",
            _ => "UDP",
        }
    }

    /// In words: `a TCP connection attempt`, `a STUN binding request`, `a DNS query for x`.
    pub fn describe(&self) -> String {
        match self {
            Self::TcpSyn => "a TCP connection attempt (SYN)".into(),
            Self::Udp => "a UDP datagram".into(),
            Self::Stun { message_type } => match message_type {
                0x0001 => "a STUN binding request".into(),
                0x0003 => "a TURN allocate request".into(),
                0x0101 => "a STUN binding response".into(),
                t => format!("a STUN message (type 0x{t:04x})"),
            },
            Self::Dns { name } => format!("a DNS query for {name}"),
        }
    }
}

/// One packet, as far as the check cares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PacketEvent {
    /// Sender address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// What it was.
    pub what: What,
}

/// Parses one cooked frame: `ethertype` (host order, from `sll_protocol`) and the L3
/// packet. `None` for anything that is not a TCP SYN or a UDP datagram over IPv4/IPv6
/// (ICMP, ARP, a later fragment, a cut header, garbage). Never panics.
pub fn parse(ethertype: u16, packet: &[u8]) -> Option<PacketEvent> {
    let (src, dst, proto, l4) = match ethertype {
        ETHERTYPE_IPV4 => ipv4(packet)?,
        ETHERTYPE_IPV6 => ipv6(packet)?,
        _ => return None,
    };
    match proto {
        6 => {
            let flags = *l4.get(13)?;
            let (syn, ack) = (flags & 0x02 != 0, flags & 0x10 != 0);
            if !syn || ack {
                return None;
            }
            Some(PacketEvent {
                src: SocketAddr::new(src, be16(l4, 0)?),
                dst: SocketAddr::new(dst, be16(l4, 2)?),
                what: What::TcpSyn,
            })
        }
        17 => {
            let (sport, dport) = (be16(l4, 0)?, be16(l4, 2)?);
            let length = usize::from(be16(l4, 4)?);
            let end = if length >= 8 {
                length.min(l4.len())
            } else {
                l4.len()
            };
            let payload = l4.get(8..end)?;
            Some(PacketEvent {
                src: SocketAddr::new(src, sport),
                dst: SocketAddr::new(dst, dport),
                what: udp_payload(dport, payload),
            })
        }
        _ => None,
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

type L3<'a> = (IpAddr, IpAddr, u8, &'a [u8]);

fn ipv4(p: &[u8]) -> Option<L3<'_>> {
    let first = *p.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let header = usize::from(first & 0x0f) * 4;
    if header < 20 {
        return None;
    }
    // A later fragment carries no transport header.
    if be16(p, 6)? & 0x1fff != 0 {
        return None;
    }
    let total = usize::from(be16(p, 2)?);
    let end = if total >= header {
        total.min(p.len())
    } else {
        p.len()
    };
    let src: [u8; 4] = p.get(12..16)?.try_into().ok()?;
    let dst: [u8; 4] = p.get(16..20)?.try_into().ok()?;
    Some((
        Ipv4Addr::from(src).into(),
        Ipv4Addr::from(dst).into(),
        *p.get(9)?,
        p.get(header..end)?,
    ))
}

fn ipv6(p: &[u8]) -> Option<L3<'_>> {
    if *p.first()? >> 4 != 6 {
        return None;
    }
    let src: [u8; 16] = p.get(8..24)?.try_into().ok()?;
    let dst: [u8; 16] = p.get(24..40)?.try_into().ok()?;
    let end = (40 + usize::from(be16(p, 4)?)).min(p.len());
    let mut next = *p.get(6)?;
    let mut at = 40;
    // Extension headers, each skipped by its own length; a chain longer than this is
    // not something a host sends.
    for _ in 0..16 {
        let length = match next {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6.
            0 | 43 | 60 | 135 | 139 | 140 => (usize::from(*p.get(at + 1)?) + 1) * 8,
            // Fragment: only the first one carries the transport header.
            44 => {
                if be16(p, at + 2)? & 0xfff8 != 0 {
                    return None;
                }
                8
            }
            // Authentication header.
            51 => (usize::from(*p.get(at + 1)?) + 2) * 4,
            _ => {
                return Some((
                    Ipv6Addr::from(src).into(),
                    Ipv6Addr::from(dst).into(),
                    next,
                    p.get(at..end.max(at))?,
                ))
            }
        };
        next = *p.get(at)?;
        at = at.checked_add(length)?;
    }
    None
}

fn udp_payload(dport: u16, payload: &[u8]) -> What {
    if let (Some(message_type), Some(cookie)) = (be16(payload, 0), be32(payload, 4)) {
        if cookie == STUN_COOKIE && message_type & 0xc000 == 0 && payload.len() >= 20 {
            return What::Stun { message_type };
        }
    }
    if matches!(dport, 53 | 5353 | 5355) {
        if let Some(name) = dns_query_name(payload) {
            return What::Dns { name };
        }
    }
    What::Udp
}

/// The first question's name of a DNS query (QR = 0, opcode 0, at least one question).
fn dns_query_name(m: &[u8]) -> Option<String> {
    let flags = be16(m, 2)?;
    if flags & 0x8000 != 0 || (flags >> 11) & 0x0f != 0 || be16(m, 4)? == 0 {
        return None;
    }
    let mut at = 12;
    let mut name = String::new();
    loop {
        let length = usize::from(*m.get(at)?);
        if length == 0 {
            break;
        }
        // A compression pointer cannot start a query's first name; longer labels do not
        // exist.
        if length > 63 {
            return None;
        }
        let label = m.get(at + 1..at + 1 + length)?;
        if !name.is_empty() {
            name.push('.');
        }
        for &b in label {
            match b {
                b'.' | b'\\' => {
                    name.push('\\');
                    name.push(char::from(b));
                }
                0x21..=0x7e => name.push(char::from(b)),
                _ => name.push_str(&format!("\\{b:03}")),
            }
        }
        at += 1 + length;
        if at > 12 + 255 {
            return None;
        }
    }
    if name.is_empty() {
        name.push('.');
    }
    Some(name)
}

/// One thing some process of the namespace tried to reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// When it was first seen, since the capture started.
    pub at: Duration,
    /// The interface it was transmitted on (`lo`, the veth, …).
    pub interface: String,
    /// The packet.
    pub event: PacketEvent,
}

/// The sans-IO capture core: cooked frames in, [`Attempt`]s out. Keeps frames this host
/// transmitted only (on `lo` each packet is also seen arriving), and of each flow
/// (source, destination, and what it was) the first.
#[derive(Debug, Default)]
pub struct Tracker {
    seen: BTreeSet<(SocketAddr, SocketAddr, What)>,
    attempts: Vec<Attempt>,
    /// Attempts beyond [`MAX_ATTEMPTS`], not stored.
    overflow: u64,
}

impl Tracker {
    /// A tracker with nothing seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// One frame: its time since the start, interface, `sll_pkttype`, `sll_protocol`
    /// (host order) and L3 bytes.
    pub fn frame(
        &mut self,
        at: Duration,
        interface: &str,
        pkttype: u8,
        ethertype: u16,
        bytes: &[u8],
    ) {
        if pkttype != PACKET_OUTGOING {
            return;
        }
        let Some(event) = parse(ethertype, bytes) else {
            return;
        };
        if !self.seen.insert((event.src, event.dst, event.what.clone())) {
            return;
        }
        if self.attempts.len() >= MAX_ATTEMPTS {
            self.overflow += 1;
            return;
        }
        self.attempts.push(Attempt {
            at,
            interface: interface.to_owned(),
            event,
        });
    }

    /// Everything seen, first seen first.
    pub fn attempts(&self) -> &[Attempt] {
        &self.attempts
    }

    /// Distinct attempts that were not stored (beyond the cap).
    pub fn overflow(&self) -> u64 {
        self.overflow
    }
}

/// A leak seen on the wire: an attempt to reach neither the inscription server nor a
/// relay. Judged by the check's rules like any other record of the visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WireRecord {
    /// `TCP` or `UDP`.
    pub proto: String,
    /// Where it went: `address:port` (`[v6]:port`).
    pub destination: String,
    /// What it reached for: the queried name of a DNS query, else `destination`.
    pub target: String,
    /// What it was, in words (`a STUN binding request`, `a DNS query for x`).
    pub what: String,
    /// Its source `address:port`.
    pub source: String,
    /// The interface it left on.
    pub interface: String,
    /// Milliseconds since the capture started (just before the page was opened).
    pub at_ms: u64,
}

impl WireRecord {
    /// The sentence a verdict says.
    pub fn message(&self) -> String {
        format!(
            "sends {} to {}, seen on the wire ({} from {} on {}, {:.1} s after the capture started), which is neither the inscription server nor a listed relay",
            self.what,
            self.destination,
            self.proto,
            self.source,
            self.interface,
            self.at_ms as f64 / 1000.0
        )
    }
}

/// The attempts that went anywhere but `allowed` (the content server's and the relays'
/// addresses and ports), one record per distinct destination and kind.
///
/// Not leaks: a packet to an allowed endpoint; a packet *from* one (its answer); mDNS to
/// its multicast group (WebRTC's own `.local` candidates); and a UDP datagram on `lo` to a
/// port another socket of the namespace sent from on `lo` (the check's own browsers
/// meeting each other, as two visitors would).
pub fn judge(attempts: &[Attempt], allowed: &[SocketAddr]) -> Vec<WireRecord> {
    let is_allowed = |a: &SocketAddr| allowed.iter().any(|b| same(a, b));
    let local_udp: Vec<SocketAddr> = attempts
        .iter()
        .filter(|a| a.interface == "lo" && a.event.what != What::TcpSyn)
        .map(|a| a.event.src)
        .collect();
    let mut out: Vec<WireRecord> = Vec::new();
    for a in attempts {
        let e = &a.event;
        let mdns = e.dst.port() == 5353
            && matches!(e.dst.ip().to_string().as_str(), "224.0.0.251" | "ff02::fb");
        let peer = a.interface == "lo"
            && e.what != What::TcpSyn
            && local_udp.iter().any(|s| *s != e.src && same(s, &e.dst));
        if is_allowed(&e.dst) || is_allowed(&e.src) || mdns || peer {
            continue;
        }
        let target = match &e.what {
            What::Dns { name } => name.clone(),
            _ => e.dst.to_string(),
        };
        let what = e.what.describe();
        if out.iter().any(|r| r.target == target && r.what == what) {
            continue;
        }
        out.push(WireRecord {
            proto: e.what.proto().into(),
            destination: e.dst.to_string(),
            target,
            what,
            source: e.src.to_string(),
            interface: a.interface.clone(),
            at_ms: a.at.as_millis() as u64,
        });
    }
    out
}

/// Same endpoint, an IPv4-mapped IPv6 address equal to its IPv4 one.
fn same(a: &SocketAddr, b: &SocketAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    a.port() == b.port() && canon(a.ip()) == canon(b.ip())
}

/// Why a capture could not start or is not whole.
#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    /// The packet socket was refused.
    #[error("a packet capture needs CAP_NET_RAW in this network namespace (run the check in its own namespace, e.g. `unshare --user --map-root-user --net`, or as root)")]
    Permission(#[source] std::io::Error),
    /// A socket call failed.
    #[error("packet socket: {0}")]
    Socket(&'static str, #[source] std::io::Error),
    /// The kernel dropped frames the socket had no room for: the record is not whole.
    #[error(
        "the packet capture dropped {0} frame(s): what was seen is not everything that was sent"
    )]
    Dropped(u32),
    /// More distinct attempts than the capture keeps.
    #[error("the packet capture saw {0} more distinct attempts than it keeps")]
    Overflow(u64),
    /// The capture thread died.
    #[error("the packet capture thread panicked")]
    Thread,
}

/// A running capture of every packet transmitted in this network namespace.
pub struct PacketWatch {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<Tracker, PacketError>>,
}

impl PacketWatch {
    /// Opens the packet socket (every interface, transmitted frames only, a 16 MiB buffer)
    /// and starts reading it on its own thread. Frames are captured from the moment this
    /// returns.
    pub fn start() -> Result<Self, PacketError> {
        let socket = sys::PacketSocket::open()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("packet-watch".into())
            .spawn(move || run(socket, &flag))
            .map_err(|e| PacketError::Socket("thread", e))?;
        Ok(Self { stop, thread })
    }

    /// Reads what is still queued, stops, and returns every attempt, first seen first.
    /// An error if the kernel dropped frames or the cap was passed: then the record is not
    /// everything.
    pub fn stop(self) -> Result<Vec<Attempt>, PacketError> {
        self.stop.store(true, Ordering::SeqCst);
        let tracker = self.thread.join().map_err(|_| PacketError::Thread)??;
        if tracker.overflow() > 0 {
            return Err(PacketError::Overflow(tracker.overflow()));
        }
        Ok(tracker.attempts)
    }
}

fn run(socket: sys::PacketSocket, stop: &AtomicBool) -> Result<Tracker, PacketError> {
    let start = Instant::now();
    let mut tracker = Tracker::new();
    let mut names: HashMap<i32, String> = HashMap::new();
    let mut buf = vec![0u8; SNAP_LEN as usize];
    loop {
        // Once stopping, what is queued is read without waiting, then the loop ends.
        let stopping = stop.load(Ordering::SeqCst);
        match socket.recv(&mut buf, !stopping)? {
            Some(frame) => {
                let name = names
                    .entry(frame.ifindex)
                    .or_insert_with(|| sys::interface_name(frame.ifindex));
                let len = frame.len.min(buf.len());
                tracker.frame(
                    start.elapsed(),
                    name,
                    frame.pkttype,
                    frame.ethertype,
                    &buf[..len],
                );
            }
            None if stopping => break,
            None => {}
        }
    }
    let dropped = socket.dropped()?;
    if dropped > 0 {
        return Err(PacketError::Dropped(dropped));
    }
    Ok(tracker)
}

/// The packet socket, in `libc` calls.
mod sys {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    use super::{PacketError, PACKET_OUTGOING, SNAP_LEN};

    pub(super) struct PacketSocket(OwnedFd);

    pub(super) struct Frame {
        pub(super) len: usize,
        pub(super) ifindex: i32,
        pub(super) pkttype: u8,
        pub(super) ethertype: u16,
    }

    fn check(what: &'static str, rc: libc::c_int) -> Result<(), PacketError> {
        if rc < 0 {
            return Err(PacketError::Socket(what, io::Error::last_os_error()));
        }
        Ok(())
    }

    fn set<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> libc::c_int {
        // SAFETY: `value` is a live `T` and its size is passed with it.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                level,
                name,
                (value as *const T).cast(),
                std::mem::size_of::<T>() as libc::socklen_t,
            )
        }
    }

    impl PacketSocket {
        pub(super) fn open() -> Result<Self, PacketError> {
            let protocol = (libc::ETH_P_ALL as u16).to_be();
            // SAFETY: a plain socket(2) call; the result is checked before use.
            let fd = unsafe {
                libc::socket(
                    libc::AF_PACKET,
                    libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                    libc::c_int::from(protocol),
                )
            };
            if fd < 0 {
                let e = io::Error::last_os_error();
                return Err(match e.kind() {
                    io::ErrorKind::PermissionDenied => PacketError::Permission(e),
                    _ => PacketError::Socket("socket(AF_PACKET)", e),
                });
            }
            // SAFETY: `fd` is a new descriptor nobody else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            // Only transmitted frames are queued, each cut to SNAP_LEN bytes.
            let mut program = [
                libc::sock_filter {
                    code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
                    jt: 0,
                    jf: 0,
                    k: (libc::SKF_AD_OFF + libc::SKF_AD_PKTTYPE) as u32,
                },
                libc::sock_filter {
                    code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
                    jt: 0,
                    jf: 1,
                    k: u32::from(PACKET_OUTGOING),
                },
                libc::sock_filter {
                    code: (libc::BPF_RET | libc::BPF_K) as u16,
                    jt: 0,
                    jf: 0,
                    k: SNAP_LEN,
                },
                libc::sock_filter {
                    code: (libc::BPF_RET | libc::BPF_K) as u16,
                    jt: 0,
                    jf: 0,
                    k: 0,
                },
            ];
            let fprog = libc::sock_fprog {
                len: program.len() as u16,
                filter: program.as_mut_ptr(),
            };
            check(
                "SO_ATTACH_FILTER",
                set(&fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog),
            )?;
            let size: libc::c_int = 16 << 20;
            if set(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &size) < 0 {
                check(
                    "SO_RCVBUF",
                    set(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &size),
                )?;
            }
            let wait = libc::timeval {
                tv_sec: 0,
                tv_usec: 50_000,
            };
            check(
                "SO_RCVTIMEO",
                set(&fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &wait),
            )?;
            // Frames queued before the filter was attached count as nothing: reset the
            // drop counter.
            let socket = Self(fd);
            socket.dropped()?;
            Ok(socket)
        }

        /// One frame into `buf`, waiting at most the receive timeout if `wait`;
        /// `None` when there is none.
        pub(super) fn recv(
            &self,
            buf: &mut [u8],
            wait: bool,
        ) -> Result<Option<Frame>, PacketError> {
            // SAFETY: an all-zero sockaddr_ll is valid.
            let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut from_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            let flags = libc::MSG_TRUNC | if wait { 0 } else { libc::MSG_DONTWAIT };
            // SAFETY: `buf` and `from` are live and their sizes are passed with them.
            let n = unsafe {
                libc::recvfrom(
                    self.0.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    flags,
                    (&mut from as *mut libc::sockaddr_ll).cast(),
                    &mut from_len,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                    _ => Err(PacketError::Socket("recvfrom", e)),
                };
            }
            Ok(Some(Frame {
                len: n as usize,
                ifindex: from.sll_ifindex,
                pkttype: from.sll_pkttype,
                ethertype: u16::from_be(from.sll_protocol),
            }))
        }

        /// Frames the kernel dropped since the last call (`PACKET_STATISTICS`).
        pub(super) fn dropped(&self) -> Result<u32, PacketError> {
            let mut stats = libc::tpacket_stats {
                tp_packets: 0,
                tp_drops: 0,
            };
            let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
            // SAFETY: `stats` is live and its size is passed with it.
            let rc = unsafe {
                libc::getsockopt(
                    self.0.as_raw_fd(),
                    libc::SOL_PACKET,
                    libc::PACKET_STATISTICS,
                    (&mut stats as *mut libc::tpacket_stats).cast(),
                    &mut len,
                )
            };
            check("PACKET_STATISTICS", rc)?;
            Ok(stats.tp_drops)
        }
    }

    /// The interface's name, or `if<index>`.
    pub(super) fn interface_name(index: i32) -> String {
        let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
        // SAFETY: `name` has IF_NAMESIZE bytes, as if_indextoname requires.
        let found = unsafe { libc::if_indextoname(index as libc::c_uint, name.as_mut_ptr()) };
        if found.is_null() {
            return format!("if{index}");
        }
        // SAFETY: if_indextoname wrote a NUL-terminated name into `name`.
        unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }
}

#[cfg(test)]
mod tests;
