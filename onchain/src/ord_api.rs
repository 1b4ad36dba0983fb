//! Asking an ord server what a UTXO carries: `GET /output/<txid:vout>` with
//! `Accept: application/json` (ord's JSON API, on by default; `ord server
//! --disable-json-api` answers 406).
//!
//! ord 0.27's answer (`api::Output`) holds `indexed`, `inscriptions` (null when the server
//! does not index inscriptions), `runes` (null without `--index-runes`), `spent`, `value`
//! and `script_pubkey` (hex), among others. An output counts as checked
//! ([`Checked::Ord`]) only if ord has indexed it and indexes inscriptions; its inscriptions
//! and runes are added to what the UTXO file listed (ord's word never removes one). A
//! value or script that differs from the UTXO's, a spent output and an output ord does not
//! know are errors: the UTXO list is wrong or ord serves another chain.
//!
//! The answer decides what may be spent, and plain HTTP can be rewritten by anything on
//! the path, so the server must be on loopback unless the caller allows a remote one.
//! Nothing secret is sent; a remote server learns which outputs the wallet holds.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use bitcoin::OutPoint;
use http1::{Limits, Request};
use serde::de::IgnoredAny;

use crate::wallet::rpc::{is_loopback, RpcUrl};
use crate::wallet::{Checked, Utxo};

/// How long to wait for ord to connect, and for each read or write.
pub const ORD_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers larger than this are refused (an output with thousands of inscriptions).
const MAX_ANSWER: u64 = 4 << 20;

/// An ord server to ask.
#[derive(Debug, Clone, Copy)]
pub struct OrdServer<'a> {
    /// `http://host:port[/path]` of `ord server`.
    pub url: &'a str,
    /// Ask a server that is not on loopback (its answers are trusted with the wallet's
    /// inscriptions, over plain HTTP).
    pub allow_remote: bool,
}

/// Why ord could not say what an output carries.
#[derive(Debug, thiserror::Error)]
pub enum OrdError {
    /// The URL is not `http://HOST:PORT[/PATH]`, or not on loopback when it must be.
    #[error("ord URL {url:?}: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Connecting, sending or receiving failed.
    #[error("ord {url}: {reason}")]
    Io {
        /// The URL asked.
        url: String,
        /// What failed.
        reason: String,
    },
    /// ord answered with an error status.
    #[error("ord {url}: /output/{outpoint}: HTTP {status}: {body}")]
    Status {
        /// The URL asked.
        url: String,
        /// The output asked about.
        outpoint: OutPoint,
        /// The status code.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// The server runs with `--disable-json-api`.
    #[error(
        "ord {url}: the JSON API is disabled (406); run `ord server` without --disable-json-api"
    )]
    JsonDisabled {
        /// The URL asked.
        url: String,
    },
    /// ord does not know the output: the UTXO list is wrong, or ord serves another chain.
    #[error("ord {url}: output {outpoint} not found (is ord on the same network as the UTXOs?)")]
    NotFound {
        /// The URL asked.
        url: String,
        /// The output.
        outpoint: OutPoint,
    },
    /// The answer is not ord's output JSON.
    #[error("ord {url}: /output/{outpoint}: not ord's output JSON ({reason})")]
    Json {
        /// The URL asked.
        url: String,
        /// The output.
        outpoint: OutPoint,
        /// Why.
        reason: String,
    },
    /// ord knows the output with another value or script than the UTXO list says.
    #[error("ord {url}: output {outpoint} holds {found}, the UTXO list says {listed}")]
    Mismatch {
        /// The URL asked.
        url: String,
        /// The output.
        outpoint: OutPoint,
        /// What ord says.
        found: String,
        /// What the list says.
        listed: String,
    },
    /// ord says the output is spent already.
    #[error("ord {url}: output {outpoint} is spent already; refresh the UTXO list")]
    Spent {
        /// The URL asked.
        url: String,
        /// The output.
        outpoint: OutPoint,
    },
}

/// The fields of ord's `api::Output` this module reads.
#[derive(Debug, serde::Deserialize)]
pub struct OutputInfo {
    /// Whether ord has indexed the output (false while its block is not indexed yet).
    pub indexed: bool,
    /// The inscriptions on it; `None` when the server does not index inscriptions.
    pub inscriptions: Option<Vec<String>>,
    /// The rune balances on it, by spaced name; `None` without a rune index.
    pub runes: Option<BTreeMap<String, IgnoredAny>>,
    /// Whether it is spent.
    pub spent: bool,
    /// Its value in sat.
    pub value: u64,
    /// Its script, lowercase hex.
    pub script_pubkey: String,
}

/// Reads ord's answer (`status`, `body`) about `outpoint` from `url` (sans-IO).
pub fn parse_output(
    url: &str,
    outpoint: OutPoint,
    status: u16,
    body: &[u8],
) -> Result<OutputInfo, OrdError> {
    match status {
        200 => serde_json::from_slice(body).map_err(|e| OrdError::Json {
            url: url.to_owned(),
            outpoint,
            reason: e.to_string(),
        }),
        404 => Err(OrdError::NotFound {
            url: url.to_owned(),
            outpoint,
        }),
        406 => Err(OrdError::JsonDisabled {
            url: url.to_owned(),
        }),
        _ => Err(OrdError::Status {
            url: url.to_owned(),
            outpoint,
            status,
            body: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        }),
    }
}

/// `utxo` with ord's word added (see the module documentation).
pub fn apply(url: &str, mut utxo: Utxo, info: OutputInfo) -> Result<Utxo, OrdError> {
    let outpoint = utxo.outpoint;
    let listed_script = utxo.script_pubkey.to_hex_string();
    if info.value != utxo.value.to_sat() || !info.script_pubkey.eq_ignore_ascii_case(&listed_script)
    {
        return Err(OrdError::Mismatch {
            url: url.to_owned(),
            outpoint,
            found: format!("{} sat to {}", info.value, info.script_pubkey),
            listed: format!("{} sat to {listed_script}", utxo.value.to_sat()),
        });
    }
    if info.spent {
        return Err(OrdError::Spent {
            url: url.to_owned(),
            outpoint,
        });
    }
    for rune in info.runes.into_iter().flat_map(BTreeMap::into_keys) {
        if !utxo.runes.contains(&rune) {
            utxo.runes.push(rune);
        }
    }
    if let (true, Some(ids)) = (info.indexed, info.inscriptions) {
        for id in ids {
            if !utxo.inscriptions.contains(&id) {
                utxo.inscriptions.push(id);
            }
        }
        utxo.checked = Checked::Ord;
    }
    Ok(utxo)
}

impl OrdServer<'_> {
    /// Asks ord about every output of `utxos` and returns them with its word added.
    pub fn check(&self, utxos: Vec<Utxo>) -> Result<Vec<Utxo>, OrdError> {
        let endpoint = self.endpoint()?;
        let base = endpoint.1.trim_end_matches('/');
        utxos
            .into_iter()
            .map(|utxo| {
                let target = format!("{base}/output/{}", utxo.outpoint);
                let (status, body) = self.get(&endpoint, &target)?;
                let info = parse_output(self.url, utxo.outpoint, status, &body)?;
                apply(self.url, utxo, info)
            })
            .collect()
    }

    /// The address to connect to, the base path and the `Host` header.
    fn endpoint(&self) -> Result<(SocketAddr, String, String), OrdError> {
        let bad = |reason: String| OrdError::Url {
            url: self.url.to_owned(),
            reason,
        };
        if self.url.starts_with("https://") {
            return Err(bad("only plain http:// is supported".into()));
        }
        let parsed = RpcUrl::parse(self.url).map_err(|e| match e {
            crate::wallet::RpcError::Url { reason, .. } => {
                bad(reason.replace("e.g. http://127.0.0.1:18443", "e.g. http://127.0.0.1:80"))
            }
            other => bad(other.to_string()),
        })?;
        let addr = parsed
            .authority
            .to_socket_addrs()
            .map_err(|e| bad(e.to_string()))?
            .next()
            .ok_or_else(|| bad(format!("{} resolves to no address", parsed.authority)))?;
        if !self.allow_remote && !is_loopback(addr.ip()) {
            return Err(bad(format!(
                "{} is not on this machine; its answers decide which outputs may be spent and \
                 plain HTTP can be altered on the way, so allow a remote ord server explicitly",
                addr.ip()
            )));
        }
        Ok((addr, parsed.path, parsed.authority))
    }

    fn get(
        &self,
        (addr, _, host): &(SocketAddr, String, String),
        target: &str,
    ) -> Result<(u16, Vec<u8>), OrdError> {
        let request = Request::new("GET", target)
            .host(host)
            .header("Accept", "application/json");
        let limits = Limits {
            timeout: ORD_TIMEOUT,
            max_response: MAX_ANSWER,
        };
        let response = http1::send(*addr, &request, &limits).map_err(|e| OrdError::Io {
            url: self.url.to_owned(),
            reason: e.to_string(),
        })?;
        Ok((response.status, response.body))
    }
}

#[cfg(test)]
mod tests;
