//! A stand-in for `ord server` on 127.0.0.1 answering `GET /output/<txid:vout>` as ord 0.27
//! does (`src/subcommand/server.rs` `output`, `src/api.rs` `Output`): with exactly
//! `Accept: application/json` the output's JSON (keys in ord's order; `runes` and
//! `sat_ranges` null, as without `--index-runes` and `--index-sats`), without it an HTML
//! page, 404 `output <outpoint>` for one it does not know, 400 for a bad outpoint.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// What the stand-in knows of one output.
#[derive(Clone, Debug)]
pub struct Known {
    /// Sats.
    pub value: u64,
    /// The output's script, hex.
    pub script_pubkey: String,
    /// Its address on regtest.
    pub address: String,
    /// Inscription ids on it.
    pub inscriptions: Vec<String>,
}

/// A request as served: its first line and its `Accept` header.
pub type Served = (String, Option<String>);

/// A running stand-in: its URL, and the request lines it has served.
pub struct OrdServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Each request served, in order.
    pub requests: Arc<Mutex<Vec<Served>>>,
}

/// Serves `outputs` (by `txid:vout`) until the test process ends.
pub fn start(outputs: HashMap<String, Known>) -> OrdServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("bound address"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut accept = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("accept") {
                        accept = Some(value.trim().to_owned());
                    }
                }
            }
            let target = first.split(' ').nth(1).unwrap_or("").to_owned();
            log.lock()
                .unwrap()
                .push((first.trim_end().to_owned(), accept.clone()));
            let json = accept.as_deref() == Some("application/json");
            let (status, kind, body) = answer(&outputs, &target, json);
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = reader.into_inner().write_all(reply.as_bytes());
        }
    });
    OrdServer { url, requests }
}

fn answer(
    outputs: &HashMap<String, Known>,
    target: &str,
    json: bool,
) -> (&'static str, &'static str, String) {
    let Some(outpoint) = target.strip_prefix("/output/") else {
        return ("404 Not Found", "text/plain", String::new());
    };
    let valid = outpoint.split_once(':').is_some_and(|(txid, vout)| {
        txid.len() == 64
            && txid.bytes().all(|b| b.is_ascii_hexdigit())
            && vout.parse::<u32>().is_ok()
    });
    if !valid {
        return (
            "400 Bad Request",
            "text/plain; charset=utf-8",
            format!("Invalid URL: Cannot parse `output` with value `{outpoint}`"),
        );
    }
    let Some(known) = outputs.get(outpoint) else {
        return (
            "404 Not Found",
            "text/plain; charset=utf-8",
            format!("output {outpoint}"),
        );
    };
    if !json {
        return (
            "200 OK",
            "text/html; charset=utf-8",
            format!("<!doctype html><title>Output {outpoint}</title>"),
        );
    }
    let body = serde_json::json!({
        "address": known.address,
        "confirmations": 6,
        "indexed": true,
        "inscriptions": known.inscriptions,
        "outpoint": outpoint,
        "runes": null,
        "sat_ranges": null,
        "script_pubkey": known.script_pubkey,
        "spent": false,
        "transaction": outpoint.split(':').next().unwrap(),
        "value": known.value,
    });
    ("200 OK", "application/json", body.to_string())
}
