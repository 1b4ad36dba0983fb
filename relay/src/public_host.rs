//! `PUBLIC_HOST`: the relay published under a DNS name (docs/relay-txt.md, "Host names").
//!
//! The entry carries the name; the relay still serves on an IP address, its `PUBLIC_IP`, or
//! else the address the name resolves to. [`plan`] is pure (the caller resolves the name);
//! [`resolve`] asks the system's resolver, bounded in time.

use std::net::IpAddr;
use std::time::Duration;

use bootstrap_codec::HostName;

/// How long the relay waits for the system's resolver at start.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the relay serves for its `PUBLIC_HOST`, and what the operator should know.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// The address of the relay's own ICE candidate (its `ip:` at start).
    pub ip: IpAddr,
    /// Warnings for the log, each a sentence.
    pub warnings: Vec<String>,
}

/// Parses `PUBLIC_HOST`: a DNS name (upper case folded), never an IP address.
pub fn parse(s: &str) -> Result<HostName, String> {
    if s.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
        return Err(format!("{s} is an IP address: set PUBLIC_IP instead"));
    }
    HostName::parse_lenient(s).map_err(|e| e.to_string())
}

/// The address Chromium sends to for a host-name candidate: it takes an IPv6 address of the
/// name when there is one, else an IPv4 one (tested: docs/relay-txt.md, "Host names").
fn chromium_pick(resolved: &[IpAddr]) -> Option<IpAddr> {
    let v6 = resolved.iter().find(|ip| ip.is_ipv6());
    v6.or_else(|| resolved.first()).copied()
}

/// Decides the relay's IP for `host`: the operator's `PUBLIC_IP` if given (the name is then
/// not looked up: it may point here from elsewhere, or only later), else the address
/// Chromium will send to among those the name resolves to here. Always warns which browsers
/// cannot use a host-name entry.
pub async fn serve_ip(host: &HostName, public_ip: Option<IpAddr>) -> Result<Plan, String> {
    match public_ip {
        Some(ip) => Ok(Plan {
            ip,
            warnings: vec![HostName::BROWSER_SUPPORT.to_owned()],
        }),
        None => plan(host, resolve(host).await),
    }
}

/// [`serve_ip`] without `PUBLIC_IP`, from what the name resolved to: a name that does not
/// resolve is an error.
pub fn plan(host: &HostName, resolved: Result<Vec<IpAddr>, String>) -> Result<Plan, String> {
    let resolved = resolved.and_then(|r| match r.is_empty() {
        true => Err("no address".to_owned()),
        false => Ok(r),
    });
    let resolved = resolved.map_err(|e| {
        format!(
            "PUBLIC_HOST {host} does not resolve here ({e}); set PUBLIC_IP to the address it \
             points at"
        )
    })?;
    let ip = chromium_pick(&resolved).expect("resolved is not empty");
    let mut warnings = vec![HostName::BROWSER_SUPPORT.to_owned()];
    if resolved.iter().any(IpAddr::is_ipv4) && ip.is_ipv6() {
        let list: Vec<String> = resolved.iter().map(ToString::to_string).collect();
        warnings.push(format!(
            "PUBLIC_HOST {host} resolves to {}: Chromium sends only to the IPv6 address \
             {ip}, so the relay serves there and browsers without IPv6 cannot reach it by \
             this name",
            list.join(", ")
        ));
    }
    Ok(Plan { ip, warnings })
}

/// Resolves `host` with the system's resolver (`getaddrinfo`), at most [`RESOLVE_TIMEOUT`].
pub async fn resolve(host: &HostName) -> Result<Vec<IpAddr>, String> {
    let lookup = tokio::net::lookup_host((host.as_str(), 0));
    match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
        Ok(Ok(addrs)) => {
            let mut ips: Vec<IpAddr> = Vec::new();
            for ip in addrs.map(|a| a.ip()) {
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
            Ok(ips)
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer in {} s", RESOLVE_TIMEOUT.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, plan, Plan};
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn host() -> bootstrap_codec::HostName {
        parse("relay.example.org").unwrap()
    }

    #[test]
    fn parse_folds_case_and_refuses_ips() {
        assert_eq!(
            parse("Relay.Example.ORG").unwrap().as_str(),
            "relay.example.org"
        );
        for bad in ["1.2.3.4", "::1", "[2001:db8::1]"] {
            assert!(parse(bad).unwrap_err().contains("set PUBLIC_IP"), "{bad}");
        }
        assert!(parse("a_b.org")
            .unwrap_err()
            .contains("not a DNS host name"));
    }

    #[test]
    fn the_name_decides_the_address() {
        let plan4 = plan(&host(), Ok(vec![ip("192.0.2.7")])).unwrap();
        assert_eq!(plan4.ip, ip("192.0.2.7"));
        assert_eq!(
            plan4.warnings,
            vec![bootstrap_codec::HostName::BROWSER_SUPPORT.to_owned()]
        );
        let err = plan(&host(), Err("Name or service not known".into())).unwrap_err();
        assert!(
            err.starts_with("PUBLIC_HOST relay.example.org does not resolve here (Name or"),
            "{err}"
        );
        assert!(err.contains("set PUBLIC_IP"), "{err}");
        let err = plan(&host(), Ok(vec![])).unwrap_err();
        assert!(err.contains("(no address)"), "{err}");
    }

    #[test]
    fn both_families_serve_the_one_chromium_dials() {
        let Plan { ip: got, warnings } =
            plan(&host(), Ok(vec![ip("192.0.2.7"), ip("2001:db8::7")])).unwrap();
        assert_eq!(got, ip("2001:db8::7"));
        assert!(
            warnings[1].contains("Chromium sends only to the IPv6 address 2001:db8::7"),
            "{warnings:?}"
        );
        let only6 = plan(&host(), Ok(vec![ip("2001:db8::7")])).unwrap();
        assert_eq!(only6.warnings.len(), 1, "{only6:?}");
    }

    #[tokio::test]
    async fn public_ip_is_taken_without_a_lookup() {
        // A name that would not resolve: with PUBLIC_IP it is never looked up.
        let p = super::serve_ip(&parse("relay.invalid").unwrap(), Some(ip("127.0.0.1")))
            .await
            .unwrap();
        assert_eq!(p.ip, ip("127.0.0.1"));
        assert_eq!(p.warnings.len(), 1);
    }
}
