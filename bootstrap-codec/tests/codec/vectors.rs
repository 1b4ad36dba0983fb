//! The shared test vectors in `fixtures/relay/`: recomputed here and compared byte for byte.
//! `UPDATE_FIXTURES=1 cargo test -p bootstrap-codec` rewrites them after a deliberate change.

use std::num::NonZeroU16;

use bootstrap_codec::{
    static_answer, AnswerOptions, DecodeError, Fingerprint, IcePwd, IceUfrag, NodeSecret,
    RelayEntry, RelayTxt, UnsignedEntry, SIGNATURE_DOMAIN,
};
use serde_json::{json, Value};

/// The node-key seed of every vector (RFC 8032 TEST 1 secret key).
const SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

fn seed() -> [u8; 32] {
    let mut seed = [0; 32];
    hex::decode_to_slice(SEED_HEX, &mut seed).unwrap();
    seed
}

/// The fingerprint of the vectors: SHA-256 of the ASCII text "lumamesh test certificate".
fn fingerprint() -> Fingerprint {
    Fingerprint::of_certificate(b"lumamesh test certificate")
}

fn entry(address: &str, port: u16, ufrag: Option<&str>, pwd: Option<&str>) -> RelayEntry {
    let secret = NodeSecret::from_seed(&seed());
    let fp = fingerprint();
    UnsignedEntry {
        address: address.parse().unwrap(),
        port: NonZeroU16::new(port).unwrap(),
        fingerprint: fp,
        ufrag: ufrag.map_or_else(IceUfrag::default_relay, |u| IceUfrag::new(u).unwrap()),
        pwd: pwd.map_or_else(
            || IcePwd::derived(&secret.public(), &fp),
            |p| IcePwd::new(p).unwrap(),
        ),
    }
    .sign(&secret)
}

fn valid_vectors() -> Vec<(&'static str, RelayEntry)> {
    vec![
        (
            "ipv4-default-credentials",
            entry("127.0.0.1", 3478, None, None),
        ),
        ("ipv6", entry("2001:db8::7", 3478, None, None)),
        ("host-name", entry("relay.example.org", 443, None, None)),
        (
            "ipv4-explicit-credentials",
            entry(
                "192.0.2.10",
                50000,
                Some("Op3r/ufrag"),
                Some("0123456789abcdefABCDEF+/xyz"),
            ),
        ),
    ]
}

/// Re-signs a hand-modified body so that only the named field is wrong.
fn resign(body: &[u8]) -> Vec<u8> {
    let secret = NodeSecret::from_seed(&seed());
    let mut message = SIGNATURE_DOMAIN.to_vec();
    message.extend_from_slice(body);
    let mut out = body.to_vec();
    out.extend_from_slice(&secret.sign(&message));
    out
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn invalid_vectors() -> Vec<(&'static str, Vec<u8>, DecodeError)> {
    let good = entry("127.0.0.1", 3478, None, None).to_bytes();
    let body = &good[..good.len() - 64];
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = body.to_vec();
        f(&mut b);
        resign(&b)
    };
    let invalid = |field, reason: &str| DecodeError::Invalid {
        field,
        reason: reason.to_owned(),
    };
    use bootstrap_codec::Field;
    let mut tampered = good.clone();
    tampered[7] ^= 0x01; // port 3478 -> 3479
    let mut trailing = good.clone();
    trailing.push(0);
    // Explicit credentials go after the fingerprint (byte 40), before nk.
    let creds = |flag: u8, cred: &'static [u8]| {
        move |b: &mut Vec<u8>| {
            b[1] |= flag;
            let mut insert = vec![(cred.len() - 1) as u8];
            insert.extend_from_slice(cred);
            b.splice(40..40, insert);
        }
    };
    vec![
        ("tampered-port", tampered, DecodeError::BadSignature),
        (
            "unknown-version",
            with(&|b| b[0] = 2),
            DecodeError::UnknownVersion(2),
        ),
        (
            "truncated",
            good[..good.len() - 1].to_vec(),
            DecodeError::Truncated(Field::Signature),
        ),
        ("trailing-bytes", trailing, DecodeError::TrailingBytes(1)),
        (
            "port-zero",
            with(&|b| b[6..8].copy_from_slice(&[0, 0])),
            invalid(Field::Port, "port 0 is not allowed"),
        ),
        (
            "unspecified-address",
            with(&|b| b[2..6].copy_from_slice(&[0, 0, 0, 0])),
            invalid(
                Field::Address,
                "0.0.0.0 is the unspecified address; give the address browsers reach the relay at",
            ),
        ),
        (
            "multicast-address",
            with(&|b| b[2..6].copy_from_slice(&[224, 0, 0, 1])),
            invalid(Field::Address, "224.0.0.1 is a multicast address"),
        ),
        (
            "broadcast-address",
            with(&|b| b[2..6].copy_from_slice(&[255, 255, 255, 255])),
            invalid(Field::Address, "255.255.255.255 is the broadcast address"),
        ),
        (
            "reserved-flags",
            with(&|b| b[1] |= 0x10),
            invalid(Field::Flags, "reserved bits set in 0x10"),
        ),
        (
            "ufrag-charset",
            with(&creds(0x04, b"bad-ufrag")),
            invalid(
                Field::Ufrag,
                "character '-' is not an ICE character (only A-Z a-z 0-9 + /)",
            ),
        ),
        (
            "ufrag-too-short",
            with(&creds(0x04, b"abc")),
            invalid(Field::Ufrag, "length 3 is outside 4–256 characters"),
        ),
        (
            "pwd-too-short",
            with(&creds(0x08, b"abcdefghijklmnopqrstu")),
            invalid(Field::Pwd, "length 21 is outside 22–256 characters"),
        ),
    ]
}

fn build() -> Value {
    let valid: Vec<Value> = valid_vectors()
        .into_iter()
        .map(|(name, e)| {
            let lite = static_answer(&e, &AnswerOptions::default()).unwrap();
            let full = static_answer(
                &e,
                &AnswerOptions {
                    ice_lite: false,
                    ..AnswerOptions::default()
                },
            )
            .unwrap();
            json!({
                "name": name,
                "address": e.address(),
                "port": e.port(),
                "fingerprint": e.fingerprint(),
                "ufrag": e.ufrag(),
                "pwd": e.pwd(),
                "nk": e.node_key(),
                "hex": hex::encode(e.to_bytes()),
                "line": e.to_line(),
                "sdp_mid0": lite,
                "sdp_mid0_no_ice_lite": full,
            })
        })
        .collect();
    let invalid: Vec<Value> = invalid_vectors()
        .into_iter()
        .map(|(name, bytes, err)| {
            json!({ "name": name, "hex": hex::encode(&bytes), "line": b64(&bytes), "error": err.to_string() })
        })
        .collect();
    json!({
        "description": "Lumamesh relay entry v1 test vectors; see docs/relay-txt.md. Node key seed is RFC 8032 TEST 1; fingerprint is SHA-256(\"lumamesh test certificate\"). Generated by bootstrap-codec/tests/codec/vectors.rs.",
        "node_key_seed": SEED_HEX,
        "valid": valid,
        "invalid": invalid,
    })
}

fn relay_txt() -> String {
    let mut text =
        String::from("# Lumamesh relay list: one signed entry per line (docs/relay-txt.md)\n\n");
    for (name, e) in valid_vectors() {
        text.push_str(&format!("{}  # {name}\n", e.to_line()));
    }
    text
}

fn tampered_txt() -> String {
    let good = entry("127.0.0.1", 3478, None, None);
    let mut bytes = good.to_bytes();
    bytes[7] ^= 0x01;
    format!(
        "# line 2 is genuine, line 3 had its port changed by hand\n{}\n{}\n",
        entry("127.0.0.2", 3478, None, None).to_line(),
        b64(&bytes)
    )
}

fn check_or_update(relative: &str, expected: &str) {
    let path = fixtures::path(relative);
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, expected).unwrap();
        return;
    }
    let actual = fixtures::read(relative);
    assert_eq!(
        actual,
        expected,
        "{} is stale: rerun with UPDATE_FIXTURES=1 after a deliberate format change",
        path.display()
    );
}

#[test]
fn fixtures_match_the_codec() {
    let vectors = fixtures::canonical_json(&build());
    check_or_update("relay/vectors.json", &vectors);
    check_or_update("relay/relay.txt", &relay_txt());
    check_or_update("relay/tampered.txt", &tampered_txt());
    let ipv4 = &valid_vectors()[0].1;
    check_or_update(
        "relay/answer-ipv4.sdp",
        &static_answer(ipv4, &AnswerOptions::default()).unwrap(),
    );
}

#[test]
fn vectors_decode_both_ways() {
    let vectors: Value = serde_json::from_str(&fixtures::read("relay/vectors.json")).unwrap();
    for v in vectors["valid"].as_array().unwrap() {
        let line = v["line"].as_str().unwrap();
        let e = RelayEntry::from_line(line).unwrap();
        assert_eq!(hex::encode(e.to_bytes()), v["hex"], "{}", v["name"]);
        assert_eq!(e.to_line(), line);
        assert_eq!(e.port(), v["port"].as_u64().unwrap() as u16);
        assert_eq!(e.fingerprint().to_string(), v["fingerprint"]);
    }
    for v in vectors["invalid"].as_array().unwrap() {
        let err = RelayEntry::from_line(v["line"].as_str().unwrap()).unwrap_err();
        assert_eq!(err.to_string(), v["error"], "{}", v["name"]);
    }
}

#[test]
fn ipv4_entry_meets_the_size_aim() {
    assert!(valid_vectors()[0].1.to_bytes().len() <= 140);
}

#[test]
fn tampered_fixture_names_line_three() {
    let txt = RelayTxt::parse(&fixtures::read("relay/tampered.txt"));
    assert_eq!(txt.entries.len(), 1);
    assert_eq!(txt.entries[0].line, 2);
    assert_eq!(txt.errors.len(), 1);
    assert_eq!(txt.errors[0].line, 3);
    assert_eq!(txt.errors[0].error, DecodeError::BadSignature);
}
