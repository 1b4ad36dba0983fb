//! Reading Chromium's NetLog (`--log-net-log`): where WebRTC sent its datagrams.
//!
//! The file is JSON written as a stream: line 1 holds `{"constants":{…},`, line 2
//! `"events": [`, then one event per line, each ending in a comma; a browser killed
//! mid-write leaves the last line cut, so lines are read one by one and reading stops at
//! the first that does not parse. WebRTC's sockets are unconnected UDP sockets: each
//! `UDP_BYTES_SENT` on them names its destination (`address`), in every capture mode.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

/// Datagrams sent to one destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UdpDestination {
    /// `ip:port` (`[v6]:port`).
    pub address: String,
    /// How many datagrams.
    pub datagrams: u64,
}

/// What the NetLog shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetworkLog {
    /// Every destination of an unconnected UDP socket (WebRTC's), first seen first.
    pub udp: Vec<UdpDestination>,
    /// Local UDP ports the browser bound.
    pub udp_local_ports: Vec<u16>,
    /// URLs the browser preconnected to (`<link rel=preconnect>` and the like).
    pub preconnects: Vec<String>,
}

/// Why a NetLog could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NetLogError {
    /// The file could not be read.
    #[error("cannot read the NetLog")]
    Io(#[from] std::io::Error),
    /// Its first line is not the constants table.
    #[error("the NetLog has no constants table")]
    NoConstants,
}

/// Reads the NetLog at `path`.
pub fn read(path: &Path) -> Result<NetworkLog, NetLogError> {
    let file = std::fs::File::open(path)?;
    parse(BufReader::new(file))
}

/// Parses a NetLog stream.
pub fn parse(reader: impl BufRead) -> Result<NetworkLog, NetLogError> {
    let mut lines = reader.lines();
    let first = lines.next().ok_or(NetLogError::NoConstants)??;
    let constants: Value = serde_json::from_str(&format!("{}}}", first.trim_end_matches(',')))
        .map_err(|_| NetLogError::NoConstants)?;
    let types = &constants["constants"]["logEventTypes"];
    let code = |name: &str| types[name].as_i64().unwrap_or(-1);
    let (sent, local, stream_job) = (
        code("UDP_BYTES_SENT"),
        code("UDP_LOCAL_ADDRESS"),
        code("HTTP_STREAM_JOB_CONTROLLER"),
    );
    let mut out = NetworkLog::default();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in lines {
        let Ok(line) = line else { break };
        let line = line.trim().trim_end_matches(',');
        if line.is_empty() || line.starts_with("\"events\"") {
            continue;
        }
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            break;
        };
        let kind = event["type"].as_i64().unwrap_or(-2);
        let params = &event["params"];
        if kind == sent {
            let Some(address) = params["address"].as_str() else {
                continue;
            };
            match counts.get(address) {
                Some(&i) => out.udp[i].datagrams += 1,
                None => {
                    counts.insert(address.to_owned(), out.udp.len());
                    out.udp.push(UdpDestination {
                        address: address.to_owned(),
                        datagrams: 1,
                    });
                }
            }
        } else if kind == local {
            let port = params["address"]
                .as_str()
                .and_then(|a| a.rsplit_once(':'))
                .and_then(|(_, port)| port.parse::<u16>().ok());
            if let Some(port) = port {
                if !out.udp_local_ports.contains(&port) {
                    out.udp_local_ports.push(port);
                }
            }
        } else if kind == stream_job && params["is_preconnect"] == Value::Bool(true) {
            if let Some(url) = params["url"].as_str() {
                if !out.preconnects.iter().any(|u| u == url) {
                    out.preconnects.push(url.to_owned());
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse;

    const LOG: &str = concat!(
        r#"{"constants":{"logEventTypes":{"UDP_BYTES_SENT":99,"UDP_LOCAL_ADDRESS":98,"HTTP_STREAM_JOB_CONTROLLER":7,"HOST_RESOLVER_MANAGER_REQUEST":5}},"#,
        "\n\"events\": [\n",
        r#"{"params":{"address":"0.0.0.0:36931"},"phase":0,"source":{"id":1,"type":24},"time":"1","type":98},"#,
        "\n",
        r#"{"params":{"address":"127.0.0.3:9999","byte_count":100},"phase":0,"source":{"id":1,"type":24},"time":"2","type":99},"#,
        "\n",
        r#"{"params":{"byte_count":28},"phase":0,"source":{"id":2,"type":24},"time":"2","type":99},"#,
        "\n",
        r#"{"params":{"address":"127.0.0.3:9999","byte_count":100},"phase":0,"source":{"id":1,"type":24},"time":"3","type":99},"#,
        "\n",
        r#"{"params":{"is_preconnect":true,"url":"https://127.0.0.2:9/"},"phase":1,"source":{"id":3,"type":32},"time":"3","type":7},"#,
        "\n",
        r#"{"params":{"host":"https://tracker.example","network_anonymization_key":"http://127.0.0.1 same_site"},"phase":1,"source":{"id":4,"type":43},"time":"3","type":5},"#,
        "\n",
        r#"{"params":{"host":"google.com:443","network_anonymization_key":"null"},"phase":1,"source":{"id":5,"type":43},"time":"3","type":5},"#,
        "\n",
        r#"{"params":{"address":"127.0.0.4:7"#,
    );

    #[test]
    fn reads_webrtc_destinations_from_a_cut_log() {
        let log = parse(LOG.as_bytes()).unwrap();
        assert_eq!(log.udp.len(), 1);
        assert_eq!(log.udp[0].address, "127.0.0.3:9999");
        assert_eq!(log.udp[0].datagrams, 2);
        assert_eq!(log.udp_local_ports, [36931]);
        assert_eq!(log.preconnects, ["https://127.0.0.2:9/"]);
    }

    #[test]
    fn refuses_a_file_without_constants() {
        assert!(parse("garbage\n".as_bytes()).is_err());
        assert!(parse("".as_bytes()).is_err());
    }
}
