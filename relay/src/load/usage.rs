//! What the load generator needs from the machine: source address lists (`--local-ips`,
//! `--prefixes`) and the CPU time a process has used (its own, and the relay's).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// The most addresses one range may name (a /16 of IPv4).
pub const MAX_RANGE: u128 = 65_536;

/// Why a source address list was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IpListError {
    /// An item is neither an address nor a range of two.
    #[error("`{0}` is not an IP address or a range FIRST-LAST")]
    NotAnAddress(String),
    /// A range's ends are of two families, or the first is above the last.
    #[error("range `{0}` must go up, within one address family")]
    BadRange(String),
    /// A range names more than [`MAX_RANGE`] addresses.
    #[error("range `{0}` names more than {MAX_RANGE} addresses")]
    TooLong(String),
    /// `--prefixes` asks for none, or more than 255.
    #[error("--prefixes must be 1..=255, not {0}")]
    Prefixes(usize),
}

/// Parses one item of a source address list: an address (`127.0.1.2`) or an inclusive range
/// (`127.0.1.2-127.0.8.2`, every address between the two).
pub fn parse_ips(item: &str) -> Result<Vec<IpAddr>, IpListError> {
    let item = item.trim();
    let ip = |s: &str| {
        s.trim()
            .parse::<IpAddr>()
            .map_err(|_| IpListError::NotAnAddress(item.to_owned()))
    };
    let Some((first, last)) = item.split_once('-') else {
        return Ok(vec![ip(item)?]);
    };
    let bad = || IpListError::BadRange(item.to_owned());
    let (first, last) = match (ip(first)?, ip(last)?) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b))),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b)),
        _ => return Err(bad()),
    };
    if first > last {
        return Err(bad());
    }
    if last - first >= MAX_RANGE {
        return Err(IpListError::TooLong(item.to_owned()));
    }
    let v4 = item.contains('.') && !item.contains(':');
    Ok((first..=last)
        .map(|n| match v4 {
            // In range: both ends were IPv4.
            true => IpAddr::V4(Ipv4Addr::from(n as u32)),
            false => IpAddr::V6(Ipv6Addr::from(n)),
        })
        .collect())
}

/// `count` loopback addresses, one in each /24: 127.0.1.2, 127.0.2.2, … (the relay limits
/// each /24, and a sharded relay dispatches by /24).
pub fn loopback_prefixes(count: usize) -> Result<Vec<IpAddr>, IpListError> {
    if !(1..=255).contains(&count) {
        return Err(IpListError::Prefixes(count));
    }
    Ok((1..=count)
        .map(|k| IpAddr::V4(Ipv4Addr::new(127, 0, k as u8, 2)))
        .collect())
}

/// Clock ticks per second of /proc's CPU times (`USER_HZ`, 100 on every Linux build the
/// kernel's ABI allows userspace to see).
const USER_HZ: u64 = 100;

/// The CPU time (user + system, every thread) process `pid` has used so far, from
/// /proc/PID/stat (this process with `None`); `None` if it cannot be read (no such process,
/// not Linux). Resolution 10 ms.
pub fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

/// utime + stime from a /proc/PID/stat line.
fn parse_stat(stat: &str) -> Option<Duration> {
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After the name: state (3), ppid … cmajflt (4–13), utime (14), stime (15).
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / USER_HZ))
}

#[cfg(test)]
mod tests {
    use super::{loopback_prefixes, parse_ips, parse_stat, IpListError};
    use std::net::IpAddr;
    use std::time::Duration;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().expect("address")).collect()
    }

    #[test]
    fn addresses_and_ranges() {
        assert_eq!(parse_ips("127.0.0.2").unwrap(), ips(&["127.0.0.2"]));
        let range = parse_ips("127.0.1.254-127.0.2.1").unwrap();
        assert_eq!(
            range,
            ips(&["127.0.1.254", "127.0.1.255", "127.0.2.0", "127.0.2.1"])
        );
        assert_eq!(parse_ips("::1-::2").unwrap(), ips(&["::1", "::2"]));
        assert_eq!(parse_ips("127.0.1.2-127.0.8.2").unwrap().len(), 7 * 256 + 1);
    }

    #[test]
    fn careless_lists_are_refused() {
        for bad in ["", "127.0.0", "localhost", "127.0.0.1-", "-127.0.0.1"] {
            assert!(
                matches!(parse_ips(bad), Err(IpListError::NotAnAddress(_))),
                "{bad}"
            );
        }
        for bad in ["127.0.0.9-127.0.0.2", "127.0.0.1-::1"] {
            assert_eq!(
                parse_ips(bad),
                Err(IpListError::BadRange(bad.to_owned())),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_ips("10.0.0.0-10.1.0.0"),
            Err(IpListError::TooLong(_))
        ));
        assert_eq!(parse_ips("10.0.0.0-10.0.255.255").unwrap().len(), 65_536);
    }

    #[test]
    fn one_address_per_prefix() {
        assert_eq!(
            loopback_prefixes(3).unwrap(),
            ips(&["127.0.1.2", "127.0.2.2", "127.0.3.2"])
        );
        assert_eq!(loopback_prefixes(255).unwrap().len(), 255);
        assert_eq!(loopback_prefixes(0), Err(IpListError::Prefixes(0)));
        assert_eq!(loopback_prefixes(256), Err(IpListError::Prefixes(256)));
    }

    #[test]
    fn stat_lines_give_user_plus_system() {
        // A name with spaces and a parenthesis, utime 150 and stime 25 ticks.
        let line = "42 (tokio (rt) w) S 1 42 42 0 -1 4194560 900 0 0 0 150 25 0 0 20 0 3 0";
        assert_eq!(parse_stat(line), Some(Duration::from_millis(1750)));
        assert_eq!(parse_stat("garbage"), None);
        assert!(
            super::cpu_time(None).is_some(),
            "this process's own line reads"
        );
    }
}
