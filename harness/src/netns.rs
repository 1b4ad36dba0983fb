//! A private network namespace for a check: the program re-runs itself inside one, where
//! only loopback and one private address exist and nothing leaves the machine.
//!
//! Firefox gathers ICE candidates in an opaque origin (the explorer's sandboxed iframe)
//! only on the address of its default route, so a relay on 127.0.0.1 is out of its reach
//! there. Inside the namespace, [`setup`] makes that default route: a veth pair whose one
//! end holds [`ADDRESS`] and [`ADDRESS_V6`], with no peer beyond it. A relay bound on
//! [`ADDRESS`] is then reached by both load contexts, and a page that leaks reaches nothing
//! at all.
//!
//! Every packet sent to anything but the namespace's own addresses is transmitted on that
//! veth at once, so a packet capture ([`crate::watch::packets`]) sees each attempt: the
//! veth resolves no neighbours (`arp off`: no ARP request or neighbour solicitation waits
//! unanswered, holding the packet back), and IPv4 and IPv6 both have a default route.
//!
//! `unshare(2)` cannot move a process with several threads, so [`rerun`] starts this
//! program again (`/proc/self/exe`) under the `unshare` command with [`MARKER`] set; the
//! new process calls [`setup`] first.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

/// Set (to `1`) in the environment of the process [`rerun`] starts.
pub const MARKER: &str = "LUMAMESH_CHECK_NETNS";

/// The namespace's one address besides loopback (a private range; nothing routes to it).
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

/// The namespace's IPv6 address (a unique local one; nothing routes to it either).
pub const ADDRESS_V6: Ipv6Addr = Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1);

/// The veth pair's two ends; the first holds [`ADDRESS`], [`ADDRESS_V6`] and the default
/// routes.
const LINKS: [&str; 2] = ["lmcheck0", "lmcheck1"];

/// Why the namespace could not be made or set up.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// No `unshare` binary.
    #[error("`unshare` not found (Debian's util-linux package provides it)")]
    NoUnshare,
    /// No `ip` binary.
    #[error("`ip` not found; install it with `apt-get update && apt-get install -y iproute2`")]
    NoIp,
    /// The kernel or the container refused every way of making a namespace.
    #[error("network namespaces are not available here ({0})")]
    Unavailable(String),
    /// [`setup`] ran outside a fresh namespace (it would change this machine's network).
    #[error("{MARKER} is set but this process is not in a fresh network namespace ({0})")]
    NotFresh(String),
    /// An `ip` command failed inside the namespace.
    #[error("setting up the namespace's network: `ip {command}` failed: {stderr}")]
    Setup {
        /// The arguments given to `ip`.
        command: String,
        /// What it said.
        stderr: String,
    },
    /// The program could not be started again.
    #[error("cannot start {0} again inside the namespace")]
    Spawn(String, #[source] std::io::Error),
}

/// Whether this process is the one [`rerun`] started.
pub fn inside() -> bool {
    std::env::var_os(MARKER).is_some_and(|v| v == "1")
}

/// `name` on `PATH`, or in `/usr/sbin` and `/sbin` (not on a non-root `PATH`).
fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The `unshare` command line that makes a network namespace here: `unshare --net` as
/// root, else (or if that is refused) `unshare --user --map-root-user --net`. Each is
/// tried with `true` first; the error names what the last one said.
pub fn probe() -> Result<Vec<OsString>, NetnsError> {
    let unshare = find("unshare").ok_or(NetnsError::NoUnshare)?;
    find("ip").ok_or(NetnsError::NoIp)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let mut tries: Vec<&[&str]> = Vec::new();
    if root {
        tries.push(&["--net"]);
    }
    tries.push(&["--user", "--map-root-user", "--net"]);
    let mut last = String::new();
    for flags in tries {
        let out = Command::new(&unshare)
            .args(flags)
            .arg("true")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| NetnsError::Unavailable(format!("{}: {e}", unshare.display())))?;
        if out.status.success() {
            let mut line = vec![unshare.into_os_string()];
            line.extend(flags.iter().map(OsString::from));
            return Ok(line);
        }
        last = format!(
            "`unshare {}` said: {}",
            flags.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Err(NetnsError::Unavailable(last))
}

/// Runs this program again with `args` inside a new network namespace (`unshare`, see
/// [`probe`]), with [`MARKER`] set and this process's standard streams; waits for it.
/// The new process is killed if this one dies.
pub fn rerun(args: impl IntoIterator<Item = OsString>) -> Result<ExitStatus, NetnsError> {
    let line = probe()?;
    let exe = std::fs::read_link("/proc/self/exe")
        .unwrap_or_else(|_| PathBuf::from(std::env::args_os().next().unwrap_or_default()));
    let mut command = Command::new(&line[0]);
    command
        .args(&line[1..])
        .arg(&exe)
        .args(args)
        .env(MARKER, "1");
    // SAFETY: prctl is async-signal-safe; the closure allocates nothing.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    command
        .status()
        .map_err(|e| NetnsError::Spawn(exe.display().to_string(), e))
}

/// Inside the namespace [`rerun`] made: brings `lo` up and makes a veth pair whose first
/// end holds [`ADDRESS`]/24, [`ADDRESS_V6`]/64 and both default routes, and resolves no
/// neighbours (every packet off the namespace's own addresses is transmitted there at
/// once, where a capture sees it). Returns [`ADDRESS`]. Refuses to run where a route
/// exists already (not a fresh namespace).
pub fn setup() -> Result<IpAddr, NetnsError> {
    let ip = find("ip").ok_or(NetnsError::NoIp)?;
    // /proc/self/net is this process's namespace (/sys/class/net is the mounter's). A
    // fresh one has no route in its main table.
    let routes: Vec<String> = std::fs::read_to_string("/proc/self/net/route")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect();
    if !routes.is_empty() {
        return Err(NetnsError::NotFresh(format!(
            "routes through {}",
            routes.join(", ")
        )));
    }
    let (address, address_v6) = (format!("{ADDRESS}/24"), format!("{ADDRESS_V6}/64"));
    let [first, second] = LINKS;
    let steps: [&[&str]; 9] = [
        &["link", "set", "lo", "up"],
        &["link", "add", first, "type", "veth", "peer", "name", second],
        &["link", "set", first, "arp", "off"],
        &["addr", "add", &address, "dev", first],
        // No duplicate address detection: the address is usable at once.
        &["-6", "addr", "add", &address_v6, "dev", first, "nodad"],
        &["link", "set", first, "up"],
        &["link", "set", second, "up"],
        &["route", "add", "default", "dev", first],
        &["-6", "route", "add", "default", "dev", first],
    ];
    for args in steps {
        let out = Command::new(&ip)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| NetnsError::Setup {
                command: args.join(" "),
                stderr: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(NetnsError::Setup {
                command: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
    }
    Ok(IpAddr::V4(ADDRESS))
}
