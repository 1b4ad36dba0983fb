//! Bitcoin Core's JSON-RPC: a small client ([`Rpc`]) and `listunspent` for funding UTXOs.
//!
//! Plain HTTP/1.1 with the workspace's client, [`http1`] (Bitcoin Core's RPC port speaks
//! nothing else), with the cookie file (`~/.bitcoin/<network>/.cookie`,
//! `__cookie__:<password>`) as Basic auth. The cookie goes only to an address of this machine
//! unless the caller allows a remote host ([`Reach`]): plain HTTP shows it to every hop, and
//! whoever holds it controls the node (and any wallet loaded in it). `listunspent`'s result is
//! checked exactly as a UTXO file is ([`super::utxos::parse_utxos`]), so amounts are converted
//! exactly and addresses checked against the network. Bitcoin Core does not know about
//! inscriptions: its outputs come back with none marked.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use bitcoin::base64::engine::general_purpose::STANDARD;
use bitcoin::base64::Engine;
use bitcoin::Network;
use http1::{HttpError, Limits, Request};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::network::network_name;
use super::utxos::{parse_utxos, Utxo, UtxoError};

/// How long to wait for Bitcoin Core to connect, and for each read or write.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// Replies larger than this are refused (a listunspent of ~100,000 outputs).
const MAX_REPLY: u64 = 64 << 20;

/// Why a call to Bitcoin Core failed, or was not made.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The URL is not `http://HOST:PORT[/wallet/NAME]`.
    #[error("RPC URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    /// The cookie file could not be read, or is not `user:password`.
    #[error("{file}: {reason}")]
    Cookie { file: String, reason: String },
    /// Connecting, sending or receiving failed.
    #[error("RPC {url}: {error}")]
    Io { url: String, error: std::io::Error },
    /// Not an HTTP reply we understand.
    #[error("RPC {url}: bad HTTP reply: {reason}")]
    Http { url: String, reason: String },
    /// The cookie was refused.
    #[error("RPC {url}: 401 Unauthorized: the cookie is wrong or stale (is this the node's current cookie file?)")]
    Unauthorized { url: String },
    /// The host is not this machine and remote hosts were not allowed: nothing was sent.
    #[error(
        "RPC {url}: {ip} is not this machine; the cookie gives full control of the node and \
         plain HTTP shows it to every hop, so it is sent only to 127.0.0.1 or ::1 (tunnel the \
         port over SSH, or allow a remote node explicitly)"
    )]
    Remote { url: String, ip: IpAddr },
    /// The node follows another chain than the one asked for.
    #[error("RPC {url}: the node is on chain {chain:?}, not {network}")]
    WrongChain {
        url: String,
        chain: String,
        network: &'static str,
    },
    /// Bitcoin Core answered with an error (e.g. -18: wallet not loaded).
    #[error("RPC {url}: {method} failed: error {code}: {message}")]
    Rpc {
        url: String,
        method: &'static str,
        code: i64,
        message: String,
    },
    /// The outputs listed are not valid for the network.
    #[error(transparent)]
    Utxos(#[from] UtxoError),
}

/// An RPC endpoint: where to connect and which path (wallet) to post to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcUrl {
    /// `host:port`, as given.
    pub authority: String,
    /// `/` or `/wallet/<name>`.
    pub path: String,
}

impl RpcUrl {
    /// Parses `http://HOST:PORT[/PATH]` (`http://` may be left out; HTTPS is not supported).
    pub fn parse(url: &str) -> Result<RpcUrl, RpcError> {
        let bad = |reason: &str| RpcError::Url {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        if url.starts_with("https://") {
            return Err(bad("Bitcoin Core's RPC is plain http://"));
        }
        let rest = url.strip_prefix("http://").unwrap_or(url);
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(bad("put credentials in the cookie file, not the URL"));
        }
        let port_ok = authority
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !port_ok {
            return Err(bad(
                "expected http://HOST:PORT, e.g. http://127.0.0.1:18443",
            ));
        }
        if path.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(bad("the path may not contain spaces"));
        }
        Ok(RpcUrl {
            authority: authority.to_owned(),
            path: path.to_owned(),
        })
    }

    /// The first address the host resolves to (`url` names it in errors).
    fn resolve(&self, url: &str) -> Result<SocketAddr, RpcError> {
        let io = |error| RpcError::Io {
            url: url.to_owned(),
            error,
        };
        self.authority
            .to_socket_addrs()
            .map_err(io)?
            .next()
            .ok_or_else(|| RpcError::Http {
                url: url.to_owned(),
                reason: format!("{} resolves to no address", self.authority),
            })
    }
}

/// Whether the cookie may be sent to a host that is not this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Only to a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104): the default.
    LoopbackOnly,
    /// To any host (the user asked for it, e.g. over a VPN they trust).
    RemoteAllowed,
}

/// A Bitcoin Core RPC endpoint, checked and authenticated; no connection is open between
/// calls (one request per connection).
#[derive(Debug, Clone)]
pub struct Rpc {
    url: String,
    endpoint: RpcUrl,
    addr: SocketAddr,
    cookie: String,
}

impl Rpc {
    /// Parses `url`, resolves its host and checks it against `reach`, then reads the cookie
    /// file. Connects to nothing: a host refused by `reach` is refused before the cookie is
    /// even read.
    pub fn new(url: &str, cookie_file: &Path, reach: Reach) -> Result<Rpc, RpcError> {
        let endpoint = RpcUrl::parse(url)?;
        let addr = endpoint.resolve(url)?;
        check_reach(url, addr, reach)?;
        let cookie = read_cookie(cookie_file)?;
        Ok(Rpc {
            url: url.to_owned(),
            endpoint,
            addr,
            cookie,
        })
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with `params` (a JSON array) and returns its `result`, or the node's
    /// error as [`RpcError::Rpc`] with Bitcoin Core's code and message.
    pub fn call(
        &self,
        method: &'static str,
        params: serde_json::Value,
    ) -> Result<Box<RawValue>, RpcError> {
        let body = serde_json::json!({
            "jsonrpc": "1.0",
            "id": "lumamesh",
            "method": method,
            "params": params,
        })
        .to_string();
        let (status, reply) = self.post(&body)?;
        let url = || self.url.clone();
        if status == 401 {
            return Err(RpcError::Unauthorized { url: url() });
        }
        let parsed: Reply = serde_json::from_slice(&reply).map_err(|e| RpcError::Http {
            url: url(),
            reason: format!("HTTP {status} with a body that is not a JSON-RPC reply ({e})"),
        })?;
        if let Some(error) = parsed.error {
            return Err(RpcError::Rpc {
                url: url(),
                method,
                code: error.code,
                message: error.message,
            });
        }
        // A JSON `null` result (gettxout of a spent output) arrives as `None` here.
        Ok(parsed
            .result
            .unwrap_or_else(|| RawValue::from_string("null".into()).expect("null is JSON")))
    }

    /// [`Rpc::call`], with the result read as `T`.
    pub fn call_as<T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: serde_json::Value,
    ) -> Result<T, RpcError> {
        let raw = self.call(method, params)?;
        serde_json::from_str(raw.get()).map_err(|e| RpcError::Http {
            url: self.url.clone(),
            reason: format!("{method}: unexpected result ({e}): {}", raw.get()),
        })
    }

    /// Checks that the node's chain (`getblockchaininfo`'s `chain`: `main`, `test`,
    /// `testnet4`, `signet`, `regtest`) is `network`'s.
    pub fn check_chain(&self, network: Network) -> Result<(), RpcError> {
        #[derive(serde::Deserialize)]
        struct Info {
            chain: String,
        }
        let info: Info = self.call_as("getblockchaininfo", serde_json::json!([]))?;
        if info.chain != network.to_core_arg() {
            return Err(RpcError::WrongChain {
                url: self.url.clone(),
                chain: info.chain,
                network: network_name(network),
            });
        }
        Ok(())
    }

    /// `listunspent` (minconf `min_conf`), every output checked for `network`.
    pub fn listunspent(&self, network: Network, min_conf: u32) -> Result<Vec<Utxo>, RpcError> {
        let result = self.call("listunspent", serde_json::json!([min_conf]))?;
        Ok(parse_utxos(result.get(), "listunspent", network)?)
    }

    /// POSTs `body` and returns the status code and the (de-chunked) body.
    fn post(&self, body: &str) -> Result<(u16, Vec<u8>), RpcError> {
        let url = &self.url;
        let io = |error| RpcError::Io {
            url: url.to_owned(),
            error,
        };
        let auth = format!("Basic {}", STANDARD.encode(&self.cookie));
        let request = Request::new("POST", &self.endpoint.path)
            .host(&self.endpoint.authority)
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .body(body.as_bytes());
        let limits = Limits {
            timeout: RPC_TIMEOUT,
            max_response: MAX_REPLY,
        };
        let response = http1::send(self.addr, &request, &limits).map_err(|error| match error {
            HttpError::Io(error) => io(error),
            timeout @ HttpError::Timeout(_) => io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                timeout.to_string(),
            )),
            other => RpcError::Http {
                url: url.to_owned(),
                reason: other.to_string(),
            },
        })?;
        Ok((response.status, response.body))
    }
}

/// Refuses `addr` (where `url` resolved) unless it is a loopback address or `reach` allows
/// remote hosts.
pub fn check_reach(url: &str, addr: SocketAddr, reach: Reach) -> Result<(), RpcError> {
    if reach == Reach::LoopbackOnly && !is_loopback(addr.ip()) {
        return Err(RpcError::Remote {
            url: url.to_owned(),
            ip: addr.ip(),
        });
    }
    Ok(())
}

/// Whether `ip` is this machine's loopback: 127.0.0.0/8, ::1, and IPv4 loopback mapped into
/// IPv6 (`::ffff:127.0.0.1`). The one rule for "a node or an ord server on this machine".
pub(crate) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Calls `listunspent` (minconf `min_conf`) on Bitcoin Core at `url` on this machine
/// ([`Reach::LoopbackOnly`]), authenticating with the cookie file, and checks every output
/// for `network`.
pub fn fetch_listunspent(
    url: &str,
    cookie_file: &Path,
    network: Network,
    min_conf: u32,
) -> Result<Vec<Utxo>, RpcError> {
    Rpc::new(url, cookie_file, Reach::LoopbackOnly)?.listunspent(network, min_conf)
}

#[derive(serde::Deserialize)]
struct Reply {
    result: Option<Box<RawValue>>,
    error: Option<ReplyError>,
}

#[derive(serde::Deserialize)]
struct ReplyError {
    code: i64,
    message: String,
}

fn read_cookie(file: &Path) -> Result<String, RpcError> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| RpcError::Cookie {
        file: name.clone(),
        reason: e.to_string(),
    })?;
    let cookie = text.trim_end_matches(['\r', '\n']);
    if !cookie.contains(':') {
        return Err(RpcError::Cookie {
            file: name,
            reason: "expected user:password (Bitcoin Core writes __cookie__:<password>)".into(),
        });
    }
    Ok(cookie.to_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::net::SocketAddr;
    use std::path::Path;

    use bitcoin::base64::engine::general_purpose::STANDARD;
    use bitcoin::base64::Engine;
    use bitcoin::Network;

    pub(crate) use fixtures::rpc::serve_once;

    use super::{check_reach, fetch_listunspent, Reach, Rpc, RpcError, RpcUrl};

    const TXID: &str = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";

    /// A cookie file in `dir` that the test servers accept.
    pub(crate) fn cookie(dir: &Path) -> std::path::PathBuf {
        let path = dir.join(".cookie");
        std::fs::write(&path, "__cookie__:s3cret").unwrap();
        path
    }

    fn regtest_spk_and_address() -> (String, String) {
        let mnemonic: bip39::Mnemonic = format!("{}about", "abandon ".repeat(11)).parse().unwrap();
        let w = crate::wallet::Wallet::from_mnemonic(&mnemonic, "", Network::Regtest).unwrap();
        let a = w.receive_address(0).unwrap();
        (a.script_pubkey().to_hex_string(), a.to_string())
    }

    #[test]
    fn urls() {
        let u = RpcUrl::parse("http://127.0.0.1:18443/wallet/x").unwrap();
        assert_eq!(
            (u.authority.as_str(), u.path.as_str()),
            ("127.0.0.1:18443", "/wallet/x")
        );
        assert_eq!(RpcUrl::parse("localhost:8332").unwrap().path, "/");
        for bad in [
            "https://h:1",
            "http://h",
            "http://u:p@h:1",
            "http://:1",
            "http://h:99999",
        ] {
            assert!(RpcUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_this_machine_is_loopback() {
        let url = "http://node:8332";
        for ok in [
            "127.0.0.1:8332",
            "127.9.9.9:1",
            "[::1]:8332",
            "[::ffff:127.0.0.1]:8332",
        ] {
            let addr: SocketAddr = ok.parse().unwrap();
            assert!(check_reach(url, addr, Reach::LoopbackOnly).is_ok(), "{ok}");
        }
        for remote in [
            "10.0.0.1:8332",
            "[::ffff:10.0.0.1]:8332",
            "[fe80::1]:8332",
            "0.0.0.0:1",
        ] {
            let addr: SocketAddr = remote.parse().unwrap();
            assert!(
                matches!(
                    check_reach(url, addr, Reach::LoopbackOnly),
                    Err(RpcError::Remote { .. })
                ),
                "{remote}"
            );
            assert!(
                check_reach(url, addr, Reach::RemoteAllowed).is_ok(),
                "{remote}"
            );
        }
    }

    #[test]
    fn listunspent_over_json_rpc() {
        let tmp = tempfile::tempdir().unwrap();
        let (spk, address) = regtest_spk_and_address();
        for chunked in [false, true] {
            let result = format!(
                r#"{{"result":[{{"txid":"{TXID}","vout":1,"address":"{address}","label":"","scriptPubKey":"{spk}","amount":12.50000000,"confirmations":101,"spendable":true,"solvable":true,"desc":"rawtr(x)","safe":true}}],"error":null,"id":"lumamesh"}}"#
            );
            let (url, server) = serve_once("200 OK", result, chunked);
            let utxos = fetch_listunspent(&url, &cookie(tmp.path()), Network::Regtest, 1).unwrap();
            assert_eq!(utxos.len(), 1);
            assert_eq!(utxos[0].value.to_sat(), 1_250_000_000);
            assert_eq!(utxos[0].outpoint.vout, 1);
            assert!(!utxos[0].is_inscribed());
            let request = server.join().unwrap().whole();
            assert!(
                request.starts_with("POST /wallet/lm HTTP/1.1\r\n"),
                "{request}"
            );
            let auth = format!(
                "Authorization: Basic {}\r\n",
                STANDARD.encode("__cookie__:s3cret")
            );
            assert!(request.contains(&auth), "{request}");
            let sent: serde_json::Value =
                serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
            assert_eq!(sent["method"], "listunspent");
            assert_eq!(sent["params"], serde_json::json!([1]));
        }
    }

    #[test]
    fn rpc_failures_are_explained() {
        let tmp = tempfile::tempdir().unwrap();
        let cookie = cookie(tmp.path());

        let (url, server) = serve_once("401 Unauthorized", String::new(), false);
        let err = fetch_listunspent(&url, &cookie, Network::Regtest, 1).unwrap_err();
        assert!(matches!(err, RpcError::Unauthorized { .. }), "{err}");
        server.join().unwrap();

        let body = r#"{"result":null,"error":{"code":-18,"message":"Requested wallet does not exist or is not loaded"},"id":"lumamesh"}"#;
        let (url, server) = serve_once("500 Internal Server Error", body.into(), false);
        let err = fetch_listunspent(&url, &cookie, Network::Regtest, 1).unwrap_err();
        assert!(
            err.to_string()
                .contains("listunspent failed: error -18: Requested wallet"),
            "{err}"
        );
        server.join().unwrap();

        // A mainnet address in a regtest node's reply: checked like a file.
        let body = format!(
            r#"{{"result":[{{"txid":"{TXID}","vout":0,"address":"bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr","amount":1}}],"error":null}}"#
        );
        let (url, server) = serve_once("200 OK", body, false);
        let err = fetch_listunspent(&url, &cookie, Network::Regtest, 1).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("listunspent: entry 0: field \"address\""),
            "{err}"
        );
        server.join().unwrap();

        let err =
            fetch_listunspent(&url, &tmp.path().join("none"), Network::Regtest, 1).unwrap_err();
        assert!(matches!(err, RpcError::Cookie { .. }), "{err}");
    }

    #[test]
    fn the_cookie_goes_to_this_machine_only_unless_allowed() {
        let tmp = tempfile::tempdir().unwrap();
        // No cookie file: the host is refused before the cookie is read, and nothing
        // connects (192.0.2.1 is TEST-NET-1, routed nowhere).
        let missing = tmp.path().join("no-cookie");
        for url in ["http://192.0.2.1:8332", "http://[2001:db8::1]:8332"] {
            let err = Rpc::new(url, &missing, Reach::LoopbackOnly).unwrap_err();
            assert!(matches!(err, RpcError::Remote { .. }), "{err}");
            assert!(err.to_string().contains("is not this machine"), "{err}");
            let err = fetch_listunspent(url, &missing, Network::Regtest, 1).unwrap_err();
            assert!(matches!(err, RpcError::Remote { .. }), "{err}");
        }
        let err = Rpc::new("http://192.0.2.1:8332", &missing, Reach::RemoteAllowed).unwrap_err();
        assert!(matches!(err, RpcError::Cookie { .. }), "{err}");
        let cookie = cookie(tmp.path());
        for url in [
            "http://127.0.0.1:8332",
            "http://127.0.0.2:1",
            "http://[::1]:8332",
        ] {
            Rpc::new(url, &cookie, Reach::LoopbackOnly).unwrap();
        }
    }

    #[test]
    fn the_nodes_chain_is_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let cookie = cookie(tmp.path());
        let body = r#"{"result":{"chain":"test","blocks":1},"error":null,"id":"lumamesh"}"#;
        let (url, server) = serve_once("200 OK", body.into(), false);
        let rpc = Rpc::new(&url, &cookie, Reach::LoopbackOnly).unwrap();
        let err = rpc.check_chain(Network::Signet).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("RPC {url}: the node is on chain \"test\", not signet")
        );
        server.join().unwrap();
        let body = r#"{"result":{"chain":"signet"},"error":null,"id":"lumamesh"}"#;
        let (url, server) = serve_once("200 OK", body.into(), false);
        let rpc = Rpc::new(&url, &cookie, Reach::LoopbackOnly).unwrap();
        rpc.check_chain(Network::Signet).unwrap();
        server.join().unwrap();
    }
}
