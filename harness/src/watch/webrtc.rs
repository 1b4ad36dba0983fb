//! Chromium's own record of every RTCPeerConnection, read from `chrome://webrtc-internals`.
//!
//! Blink reports each connection's configuration, every offer/answer applied, every
//! `addIceCandidate`, state changes and periodic stats to the browser process, which
//! hands them to the internals page (`peerConnectionDataStore`, keyed `<pid>-<id>`). The
//! page under check cannot see or change any of it.

use serde::Serialize;
use serde_json::Value;

/// A remote ICE candidate the page gave its connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// Address (an IP, or a host name such as an mDNS `….local`).
    pub address: String,
    /// Port.
    pub port: u16,
    /// `udp` or `tcp`.
    pub protocol: String,
    /// `remote description` or `addIceCandidate`.
    pub from: String,
}

/// One RTCPeerConnection as Chromium recorded it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PeerConnection {
    /// URL of the document that created it.
    pub url: String,
    /// Every ICE server URL of its configuration (`stun:…`, `turn:…`).
    pub ice_servers: Vec<String>,
    /// Every remote candidate it was given.
    pub remote_candidates: Vec<Candidate>,
    /// Its connection states, in order.
    pub states: Vec<String>,
    /// ICE candidate errors (`url: text`), such as a STUN server that could not be found.
    pub ice_errors: Vec<String>,
    /// Whether any of its data channels was seen `open`.
    pub data_channel_open: bool,
}

impl PeerConnection {
    /// Whether it reached `connected` or opened a data channel.
    pub fn connected(&self) -> bool {
        self.data_channel_open || self.states.iter().any(|s| s == "connected")
    }
}

/// Parses `JSON.stringify(peerConnectionDataStore)`; anything unreadable is left out.
pub fn parse_store(text: &str) -> Vec<PeerConnection> {
    let Ok(Value::Object(store)) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    store.values().map(parse_connection).collect()
}

fn parse_connection(entry: &Value) -> PeerConnection {
    let mut pc = PeerConnection {
        url: entry["url"].as_str().unwrap_or_default().to_owned(),
        ..PeerConnection::default()
    };
    if let Some(config) = entry["rtcConfiguration"].as_str() {
        let config: Value = serde_json::from_str(config).unwrap_or(Value::Null);
        for server in config["iceServers"].as_array().into_iter().flatten() {
            match &server["urls"] {
                Value::String(url) => pc.ice_servers.push(url.clone()),
                Value::Array(urls) => pc
                    .ice_servers
                    .extend(urls.iter().filter_map(|u| u.as_str().map(str::to_owned))),
                _ => {}
            }
        }
    }
    for update in entry["updateLog"].as_array().into_iter().flatten() {
        let value = update["value"].as_str().unwrap_or_default();
        match update["type"].as_str().unwrap_or_default() {
            "setRemoteDescription" => {
                let sdp = serde_json::from_str::<Value>(value)
                    .ok()
                    .and_then(|v| v["sdp"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| value.replace("\\r\\n", "\n"));
                for line in sdp.lines() {
                    if let Some(candidate) = line.trim().strip_prefix("a=") {
                        push_candidate(&mut pc, candidate, "remote description");
                    }
                }
            }
            "addIceCandidate" => {
                let candidate = serde_json::from_str::<Value>(value)
                    .ok()
                    .and_then(|v| v["candidate"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                push_candidate(&mut pc, &candidate, "addIceCandidate");
            }
            "onconnectionstatechange" => {
                let state = value.trim_matches('"').to_owned();
                if pc.states.last() != Some(&state) {
                    pc.states.push(state);
                }
            }
            "onicecandidateerror" => {
                let error: Value = serde_json::from_str(value).unwrap_or(Value::Null);
                pc.ice_errors.push(format!(
                    "{}: {}",
                    error["url"].as_str().unwrap_or("?"),
                    error["error_text"].as_str().unwrap_or(value)
                ));
            }
            _ => {}
        }
    }
    if let Value::Object(stats) = &entry["stats"] {
        pc.data_channel_open = stats.iter().any(|(key, stat)| {
            stat["statsType"] == "data-channel"
                && key.ends_with("-state")
                && stat["values"]
                    .as_str()
                    .is_some_and(|v| v.contains("\"open\""))
        });
    }
    pc
}

/// Adds `candidate:<foundation> <component> <transport> <priority> <address> <port> …`.
fn push_candidate(pc: &mut PeerConnection, line: &str, from: &str) {
    let Some(rest) = line.trim().strip_prefix("candidate:") else {
        return;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (Some(protocol), Some(address), Some(port)) = (fields.get(2), fields.get(4), fields.get(5))
    else {
        return;
    };
    let Ok(port) = port.parse::<u16>() else {
        return;
    };
    let candidate = Candidate {
        address: address.to_string(),
        port,
        protocol: protocol.to_ascii_lowercase(),
        from: from.into(),
    };
    if !pc.remote_candidates.contains(&candidate) {
        pc.remote_candidates.push(candidate);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_store;

    #[test]
    fn reads_servers_candidates_states_and_channels() {
        let store = serde_json::json!({
            "8-1": {
                "url": "http://127.0.0.1:1/content/x",
                "rtcConfiguration": "{\"iceServers\":[{\"urls\":[\"stun:127.0.0.2:3478\"]},{\"urls\":\"turn:tracker.example\"}]}",
                "updateLog": [
                    {"type": "setRemoteDescription", "value": "{\"type\":\"answer\",\"sdp\":\"v=0\\r\\na=candidate:1 1 udp 2130706431 127.0.0.3 9999 typ host\\r\\n\"}"},
                    {"type": "addIceCandidate", "value": "{\"sdpMid\":\"0\",\"candidate\":\"candidate:2 1 udp 1 evil.example 7777 typ host\"}"},
                    {"type": "onconnectionstatechange", "value": "\"connecting\""},
                    {"type": "onconnectionstatechange", "value": "\"connected\""},
                    {"type": "onicecandidateerror", "value": "{\"url\":\"stun:tracker.example:3479\",\"error_text\":\"STUN host lookup received error.\"}"}
                ],
                "stats": {"D1-state": {"statsType": "data-channel", "values": "[\"connecting\",\"open\"]"}}
            }
        });
        let pcs = parse_store(&store.to_string());
        assert_eq!(pcs.len(), 1);
        let pc = &pcs[0];
        assert_eq!(
            pc.ice_servers,
            ["stun:127.0.0.2:3478", "turn:tracker.example"]
        );
        let candidates: Vec<(&str, u16)> = pc
            .remote_candidates
            .iter()
            .map(|c| (c.address.as_str(), c.port))
            .collect();
        assert_eq!(candidates, [("127.0.0.3", 9999), ("evil.example", 7777)]);
        assert_eq!(pc.states, ["connecting", "connected"]);
        assert!(pc.data_channel_open && pc.connected());
        assert_eq!(pc.ice_errors.len(), 1);
    }

    #[test]
    fn garbage_gives_nothing() {
        assert!(parse_store("not json").is_empty());
        assert!(parse_store("[1,2]").is_empty());
    }
}
