//! A stand-in for Bitcoin Core's JSON-RPC on 127.0.0.1 (there is no bitcoind here): cookie
//! auth, HTTP/1.1 POST, JSON-RPC 1.0 replies `{result, error: {code, message}, id}` with
//! Bitcoin Core's codes, messages and HTTP statuses (500 for an error, 404 for an unknown
//! method, 401 for a wrong cookie). It keeps a UTXO set seeded with the test's funding
//! outputs and a mempool, and accepts a transaction only as Core would: every input unspent
//! (-25 "bad-txns-inputs-missingorspent", or "missing-inputs" from testmempoolaccept), no
//! spend of an output a mempool transaction spends (-26 "txn-mempool-conflict", Core's answer
//! without replacement), at least 1 sat/vB, and every script verified by libbitcoinconsensus
//! with Core's standardness rules ([`verify_transaction`]). A transaction already in the
//! mempool is answered with its txid by sendrawtransaction (counted apart from sends) and
//! "txn-already-in-mempool" by testmempoolaccept; one already confirmed with -27 and
//! "txn-already-known". Confirmed transactions are found by `gettxout` only (no -txindex).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use bitcoin::base64::engine::general_purpose::STANDARD;
use bitcoin::base64::Engine;
use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::{Address, Amount, Network, OutPoint, Transaction, TxOut, Txid};
use onchain::reveal::verify_transaction;
use serde_json::{json, Value};

/// What the node holds, and what it was asked.
#[derive(Clone, Default)]
pub struct Chain {
    chain: String,
    utxos: HashMap<OutPoint, TxOut>,
    mempool: HashMap<Txid, Transaction>,
    order: Vec<Txid>,
    spent: HashMap<OutPoint, Txid>,
    /// Behave as Bitcoin Core before 22.0: testmempoolaccept takes one transaction.
    pub no_packages: bool,
    /// Accepted `sendrawtransaction`s per txid.
    pub sends: HashMap<Txid, u32>,
    /// `sendrawtransaction`s of a transaction already in the mempool.
    pub resends: u32,
    /// Every method called, in order.
    pub calls: Vec<String>,
}

type Reject = (i64, String);

const ONE_ONLY: &str = "Array must contain exactly one raw transaction for now";
const IN_UTXO_SET: &str = "Transaction outputs already in utxo set";

const NO_TXINDEX: &str = "No such mempool transaction. Use -txindex or provide a block hash to \
                          enable blockchain transaction queries. Use gettransaction for wallet \
                          transactions.";

fn err(code: i64, message: &str) -> Reject {
    (code, message.to_owned())
}

/// A hex transaction, or Core's -22 (`which` is " for tx N" in testmempoolaccept).
fn decode(hex: &Value, which: &str) -> Result<Transaction, Reject> {
    deserialize_hex(hex.as_str().unwrap_or_default()).map_err(|_| {
        let m = format!("TX decode failed{which}. Make sure the tx has at least one input.");
        (-22, m)
    })
}

impl Chain {
    fn prevout(&self, op: &OutPoint) -> Option<TxOut> {
        if self.spent.contains_key(op) {
            return None;
        }
        if let Some(out) = self.utxos.get(op) {
            return Some(out.clone());
        }
        self.mempool
            .get(&op.txid)?
            .output
            .get(op.vout as usize)
            .cloned()
    }

    /// Core's checks, in its order; on success the transaction is in the mempool.
    fn accept(&mut self, tx: &Transaction) -> Result<(), (Reject, &'static str)> {
        let txid = tx.compute_txid();
        let reject = |code, reason: &str, short| Err(((code, reason.to_owned()), short));
        if self.mempool.contains_key(&txid) {
            return reject(-26, "txn-already-in-mempool", "txn-already-in-mempool");
        }
        if tx
            .input
            .iter()
            .any(|i| self.spent.contains_key(&i.previous_output))
        {
            return reject(-26, "txn-mempool-conflict", "txn-mempool-conflict");
        }
        if (0..tx.output.len()).any(|i| self.utxos.contains_key(&OutPoint::new(txid, i as u32))) {
            return reject(-27, IN_UTXO_SET, "txn-already-known");
        }
        let prevouts = tx.input.iter().map(|i| self.prevout(&i.previous_output));
        let Some(prevouts) = prevouts.collect::<Option<Vec<TxOut>>>() else {
            return reject(-25, "bad-txns-inputs-missingorspent", "missing-inputs");
        };
        let inputs: Amount = prevouts.iter().map(|o| o.value).sum();
        let outputs: Amount = tx.output.iter().map(|o| o.value).sum();
        let Some(fee) = inputs.checked_sub(outputs) else {
            return reject(-26, "bad-txns-in-belowout", "bad-txns-in-belowout");
        };
        let vsize = tx.vsize() as u64;
        if fee.to_sat() < vsize {
            let reason = format!("min relay fee not met, {} < {vsize}", fee.to_sat());
            return Err(((-26, reason), "min relay fee not met"));
        }
        if let Err(e) = verify_transaction(tx, &prevouts) {
            let reason = format!("mandatory-script-verify-flag-failed ({e})");
            return Err(((-26, reason), "mandatory-script-verify-flag-failed"));
        }
        for input in &tx.input {
            self.spent.insert(input.previous_output, txid);
        }
        self.mempool.insert(txid, tx.clone());
        self.order.push(txid);
        Ok(())
    }

    /// Mines the mempool into one block.
    pub fn mine(&mut self) {
        for txid in std::mem::take(&mut self.order) {
            let tx = &self.mempool[&txid];
            for input in &tx.input {
                self.utxos.remove(&input.previous_output);
            }
            for (i, out) in tx.output.iter().enumerate() {
                self.utxos
                    .insert(OutPoint::new(txid, i as u32), out.clone());
            }
        }
        self.mempool.clear();
        self.spent.clear();
    }

    fn call(&mut self, method: &str, params: &Value) -> Result<Value, Reject> {
        self.calls.push(method.to_owned());
        let txid = || -> Result<Txid, Reject> {
            let text = params[0].as_str().unwrap_or_default();
            text.parse()
                .map_err(|_| (-8, "txid must be of length 64 (not 0, for '')".into()))
        };
        match method {
            "getblockchaininfo" => Ok(json!({
                "chain": self.chain, "blocks": 101, "headers": 101,
                "initialblockdownload": false, "warnings": []
            })),
            "listunspent" => Ok(self.listunspent()),
            "getmempoolentry" => match self.mempool.get(&txid()?) {
                Some(tx) => Ok(json!({"vsize": tx.vsize(), "weight": tx.weight().to_wu()})),
                None => Err((-5, "Transaction not in mempool".into())),
            },
            "getrawtransaction" => match self.mempool.get(&txid()?) {
                Some(tx) => Ok(json!(serialize_hex(tx))),
                None => Err(err(-5, NO_TXINDEX)),
            },
            "gettxout" => {
                let op = OutPoint::new(txid()?, params[1].as_u64().unwrap_or(0) as u32);
                let confirmed = self.utxos.contains_key(&op);
                let mempool_too = params[2].as_bool().unwrap_or(true);
                match self.prevout(&op).filter(|_| confirmed || mempool_too) {
                    Some(out) => Ok(json!({
                        "confirmations": u32::from(confirmed),
                        "value": out.value.to_btc(),
                        "scriptPubKey": {"hex": out.script_pubkey.to_hex_string()},
                        "coinbase": false
                    })),
                    None => Ok(Value::Null),
                }
            }
            "testmempoolaccept" => self.testmempoolaccept(params),
            "sendrawtransaction" => {
                let tx = decode(&params[0], "")?;
                let txid = tx.compute_txid();
                match self.accept(&tx) {
                    Ok(()) => *self.sends.entry(txid).or_default() += 1,
                    Err((_, "txn-already-in-mempool")) => self.resends += 1,
                    Err((reject, _)) => return Err(reject),
                }
                Ok(json!(txid.to_string()))
            }
            _ => Err((-32601, "Method not found".into())),
        }
    }

    fn testmempoolaccept(&mut self, params: &Value) -> Result<Value, Reject> {
        let raw = params[0].as_array().cloned().unwrap_or_default();
        if self.no_packages && raw.len() != 1 {
            return Err(err(-8, ONE_ONLY));
        }
        if raw.is_empty() || raw.len() > 25 {
            return Err(err(-8, "Array must contain between 1 and 25 transactions."));
        }
        let txs = raw
            .iter()
            .enumerate()
            .map(|(i, hex)| decode(hex, &format!(" for tx {i}")));
        let txs = txs.collect::<Result<Vec<_>, _>>()?;
        // Checked on a copy: a test changes nothing. After a failure the rest go unchecked.
        let (mut scratch, mut failed, mut results) = (self.clone(), false, vec![]);
        for tx in &txs {
            let (txid, wtxid) = (tx.compute_txid(), tx.compute_wtxid());
            let mut r = json!({"txid": txid.to_string(), "wtxid": wtxid.to_string()});
            match scratch.accept(tx) {
                _ if failed => {}
                Ok(()) => (r["allowed"], r["vsize"]) = (json!(true), json!(tx.vsize())),
                Err(((_, reason), short)) => {
                    failed = true;
                    (r["allowed"], r["reject-reason"]) = (json!(false), json!(short));
                    if short != "missing-inputs" {
                        r["reject-details"] = json!(reason);
                    }
                }
            }
            results.push(r);
        }
        Ok(Value::Array(results))
    }

    fn listunspent(&self) -> Value {
        let network = Network::from_core_arg(&self.chain).expect("a chain Core names");
        let entries: Vec<Value> = self
            .utxos
            .iter()
            .filter(|(op, _)| !self.spent.contains_key(op))
            .map(|(op, out)| {
                let address = Address::from_script(&out.script_pubkey, network).unwrap();
                json!({"txid": op.txid.to_string(), "vout": op.vout,
                       "address": address.to_string(),
                       "scriptPubKey": out.script_pubkey.to_hex_string(),
                       "amount": out.value.to_btc(), "confirmations": 6,
                       "spendable": true, "solvable": true, "safe": true})
            })
            .collect();
        Value::Array(entries)
    }
}

#[derive(Default)]
struct Hold {
    /// Hold the reply to the `nth` call of `method` (1-based), after doing what it asks.
    at: Option<(String, usize)>,
    seen: usize,
    holding: bool,
    released: bool,
}

struct Shared {
    chain: Mutex<Chain>,
    hold: Mutex<Hold>,
    wake: Condvar,
}

/// A running stand-in.
pub struct StandIn {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// A cookie file it accepts.
    pub cookie: PathBuf,
    shared: Arc<Shared>,
}

impl StandIn {
    /// Serves on a free loopback port a node on `chain` ("regtest", "main"…) whose UTXO set
    /// holds `funding`; writes its cookie file into `dir`.
    pub fn start(dir: &Path, chain: &str, funding: Vec<(OutPoint, TxOut)>) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let cookie = dir.join("node.cookie");
        std::fs::write(&cookie, "__cookie__:standin").unwrap();
        let chain = Chain {
            chain: chain.to_owned(),
            utxos: funding.into_iter().collect(),
            ..Chain::default()
        };
        let shared = Arc::new(Shared {
            chain: Mutex::new(chain),
            hold: Mutex::new(Hold::default()),
            wake: Condvar::new(),
        });
        let serving = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = serving.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        StandIn {
            url,
            cookie,
            shared,
        }
    }

    /// The node's state, to read or change.
    pub fn chain(&self) -> std::sync::MutexGuard<'_, Chain> {
        self.shared.chain.lock().unwrap()
    }

    /// From now on, the `nth` call of `method` is carried out but never answered until
    /// [`StandIn::release`].
    pub fn hold_reply(&self, method: &str, nth: usize) {
        let mut hold = self.shared.hold.lock().unwrap();
        *hold = Hold {
            at: Some((method.to_owned(), nth)),
            ..Hold::default()
        };
    }

    /// Waits (up to two minutes) until a reply is being held.
    pub fn wait_holding(&self) {
        let hold = self.shared.hold.lock().unwrap();
        let wait = Duration::from_secs(120);
        let (hold, _) = self
            .shared
            .wake
            .wait_timeout_while(hold, wait, |h| !h.holding)
            .unwrap();
        assert!(hold.holding, "no call was held");
    }

    /// Lets a held reply go (to a caller that may be gone).
    pub fn release(&self) {
        self.shared.hold.lock().unwrap().released = true;
        self.shared.wake.notify_all();
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(stream);
    let (mut length, mut auth) = (0, String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("authorization:") {
            auth = line["authorization:".len()..].trim().to_owned();
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut stream = reader.into_inner();
    if auth != format!("Basic {}", STANDARD.encode("__cookie__:standin")) {
        let _ = stream.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"jsonrpc\"\r\n\
              Content-Length: 0\r\n\r\n",
        );
        return;
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let method = request["method"].as_str().unwrap_or_default().to_owned();
    let answer = shared
        .chain
        .lock()
        .unwrap()
        .call(&method, &request["params"]);
    let id = &request["id"];
    let (status, reply) = match answer {
        Ok(result) => ("200 OK", json!({"result": result, "error": null, "id": id})),
        Err((code, message)) => {
            let error =
                json!({"result": null, "error": {"code": code, "message": message}, "id": id});
            match code {
                -32601 => ("404 Not Found", error),
                _ => ("500 Internal Server Error", error),
            }
        }
    };
    let mut hold = shared.hold.lock().unwrap();
    // The asked-for call is carried out, then its reply waits for release.
    if hold.at.as_ref().is_some_and(|(m, _)| *m == method) {
        hold.seen += 1;
        if hold.at.as_ref().is_some_and(|(_, nth)| *nth == hold.seen) {
            hold.holding = true;
            shared.wake.notify_all();
            let _released = shared.wake.wait_while(hold, |h| !h.released);
        }
    }
    let text = format!("{reply}\n");
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
        text.len()
    );
}
