//! Reveal vsize we produce versus ord's, for the library, the relay list and a starter page.
//!
//! `cargo run --release -p inscribe-cli --example reveal_sizes [RELAY_TXT]`
//! (default: fixtures/relay/relay.txt). Prints a Markdown table for BENCHMARKS.md.

use bitcoin::key::{Keypair, Secp256k1};
use bitcoin::secp256k1::SecretKey;
use bitcoin::{Amount, ScriptBuf};
use bootstrap_codec::RelayTxt;
use inscribe::page::{starter_page, InscriptionId, Runtime};
use inscription::Inscription;
use onchain::estimate::reveal_vsize;
use onchain::reveal::{smaller_encoding, FeeRate, RevealPlan, RevealTx};

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("{}/../fixtures/relay/relay.txt", env!("CARGO_MANIFEST_DIR")));
    let relay_txt = std::fs::read_to_string(&path)?;
    let entries: Vec<_> = RelayTxt::parse(&relay_txt)
        .entries
        .into_iter()
        .map(|e| e.entry)
        .collect();
    let library = sandbox_runtime::bundle(&entries)?.js;
    let id: InscriptionId =
        "6fb976ab49dcec017f1e201e84395983204ae1a7c2abf7ced0a85d692e442799i0".parse()?;
    let page = starter_page("lumamesh", &Runtime::Inscription(id));
    let items = [
        (
            "library (lumamesh.js)",
            "text/javascript",
            library.into_bytes(),
        ),
        (
            "relay list (relay.txt)",
            "text/plain;charset=utf-8",
            relay_txt.into_bytes(),
        ),
        ("starter page", "text/html;charset=utf-8", page.into_bytes()),
    ];
    let secp = Secp256k1::new();
    let key = Keypair::from_secret_key(&secp, &SecretKey::from_slice(&[7; 32])?);
    let rate = FeeRate::from_sat_per_vb(10.0)?;
    let p2tr = ScriptBuf::from_hex(&format!("5120{}", "11".repeat(32)))?;
    let reveal = |inscription: Inscription| -> anyhow::Result<u64> {
        let plan = RevealPlan {
            inscriptions: vec![inscription],
            destinations: vec![p2tr.clone()],
            postage: Amount::from_sat(10_000),
            parents: vec![],
        };
        Ok(RevealTx::build(&secp, &plan, key, rate)?.vsize)
    };
    println!("| content | bytes | inscribed bytes | ord reveal vB | our reveal vB | saved | fee at 10 sat/vB (ours) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, content_type, body) in items {
        let ord = reveal_vsize(content_type, None, body.len());
        let plain = reveal(Inscription::new(content_type, body.clone()))?;
        assert_eq!(plain, ord, "{name}: uncompressed must equal ord's formula");
        let chosen = smaller_encoding(Inscription::new(content_type, body.clone()))?;
        let inscribed = chosen.body().len();
        let ours = reveal(chosen)?;
        assert!(ours <= ord, "{name}: never larger than ord");
        println!(
            "| {name} | {} | {} | {ord} | {ours} | {:.0}% | {} sat |",
            body.len(),
            inscribed,
            100.0 * (ord - ours) as f64 / ord as f64,
            rate.fee(ours).to_sat()
        );
    }
    Ok(())
}
