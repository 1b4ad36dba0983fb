//! ord's `/output` answers, as ord 0.27 serializes `api::Output`, read and applied; one
//! request over a loopback socket; remote servers refused unless allowed.

use bitcoin::Amount;

use super::{apply, parse_output, OrdError, OrdServer};
use crate::policy::{may_pay_fees, set_aside, AsideReason};
use crate::testing::unchecked;
use crate::wallet::Checked;

const URL: &str = "http://127.0.0.1:8080";

/// ord 0.27's JSON for `utxo`, field for field (`api::Output`, keys in its order).
fn answer(utxo: &crate::wallet::Utxo, inscriptions: &str, runes: &str, indexed: bool) -> String {
    format!(
        r#"{{"address":null,"confirmations":6,"indexed":{indexed},"inscriptions":{inscriptions},"outpoint":"{}","runes":{runes},"sat_ranges":null,"script_pubkey":"{}","spent":false,"transaction":"{}","value":{}}}"#,
        utxo.outpoint,
        utxo.script_pubkey.to_hex_string(),
        utxo.outpoint.txid,
        utxo.value.to_sat()
    )
}

fn checked(utxo: crate::wallet::Utxo, json: &str) -> Result<crate::wallet::Utxo, OrdError> {
    let info = parse_output(URL, utxo.outpoint, 200, json.as_bytes())?;
    apply(URL, utxo, info)
}

#[test]
fn ord_says_which_small_outputs_are_free_and_which_are_inscribed() {
    let id = format!("{}i0", "ab".repeat(32));
    let small = unchecked(1, 10_000);
    assert!(!may_pay_fees(&small), "unchecked and small: kept from fees");
    let free = checked(small.clone(), &answer(&small, "[]", "{}", true)).unwrap();
    assert_eq!(free.checked, Checked::Ord);
    assert!(may_pay_fees(&free));
    let inscribed = checked(
        small.clone(),
        &answer(&small, &format!(r#"["{id}"]"#), "{}", true),
    )
    .unwrap();
    assert_eq!(inscribed.inscriptions, std::slice::from_ref(&id));
    assert!(!may_pay_fees(&inscribed));
    assert_eq!(
        set_aside(&[inscribed])[0].reason,
        AsideReason::Inscribed(vec![id])
    );
    // Runes, even on a large output, never pay fees.
    let large = unchecked(2, 500_000);
    let runic = checked(
        large.clone(),
        &answer(
            &large,
            "[]",
            r#"{"UNCOMMON•GOODS":{"amount":340282366920938463463374607431768211455,"divisibility":0,"symbol":"⧉"}}"#,
            true,
        ),
    )
    .unwrap();
    assert_eq!(runic.runes, ["UNCOMMON•GOODS"]);
    assert!(!may_pay_fees(&runic));
}

#[test]
fn an_output_ord_has_not_indexed_or_without_an_inscription_index_stays_unchecked() {
    let small = unchecked(1, 10_000);
    for (inscriptions, indexed) in [("[]", false), ("null", true)] {
        let utxo = checked(
            small.clone(),
            &answer(&small, inscriptions, "null", indexed),
        )
        .unwrap();
        assert_eq!(utxo.checked, Checked::No, "{inscriptions} {indexed}");
        assert!(!may_pay_fees(&utxo));
    }
}

#[test]
fn ord_never_removes_what_the_file_listed() {
    let id = format!("{}i0", "cd".repeat(32));
    let mut listed = unchecked(3, 10_000);
    listed.inscriptions.push(id.clone());
    listed.checked = Checked::File;
    let utxo = checked(listed.clone(), &answer(&listed, "[]", "null", true)).unwrap();
    assert_eq!(utxo.inscriptions, [id]);
    assert!(!may_pay_fees(&utxo));
}

#[test]
fn contradictions_and_refusals_are_errors_naming_the_output() {
    let utxo = unchecked(4, 30_000);
    let wrong_value = answer(&utxo, "[]", "null", true).replace("30000", "30001");
    let err = checked(utxo.clone(), &wrong_value).unwrap_err();
    assert!(matches!(err, OrdError::Mismatch { .. }), "{err}");
    assert!(
        err.to_string().contains(&utxo.outpoint.to_string()),
        "{err}"
    );
    let spent = answer(&utxo, "[]", "null", true).replace(r#""spent":false"#, r#""spent":true"#);
    assert!(matches!(
        checked(utxo.clone(), &spent),
        Err(OrdError::Spent { .. })
    ));
    for (status, body) in [
        (404, "output 0000:0 not found".as_bytes()),
        (406, b"JSON API disabled"),
        (500, b"Internal Server Error"),
        (200, b"<html>"),
    ] {
        let err = parse_output(URL, utxo.outpoint, status, body).unwrap_err();
        match (status, &err) {
            (404, OrdError::NotFound { .. })
            | (406, OrdError::JsonDisabled { .. })
            | (500, OrdError::Status { .. })
            | (200, OrdError::Json { .. }) => {}
            _ => panic!("{status}: {err}"),
        }
    }
}

#[test]
fn asks_get_output_with_the_json_accept_header_over_loopback() {
    let utxo = unchecked(5, 10_000);
    let (url, server) = fixtures::rpc::serve_once("200 OK", answer(&utxo, "[]", "{}", true), false);
    let ord = OrdServer {
        url: &url,
        allow_remote: false,
    };
    let checked = ord.check(vec![utxo.clone()]).unwrap();
    assert_eq!(checked[0].checked, Checked::Ord);
    assert_eq!(checked[0].value, Amount::from_sat(10_000));
    let head = server.join().unwrap().head;
    assert!(
        head.starts_with(&format!(
            "GET /wallet/lm/output/{} HTTP/1.1\r\n",
            utxo.outpoint
        )),
        "{head}"
    );
    assert!(head.contains("\r\nAccept: application/json\r\n"), "{head}");
}

#[test]
fn a_remote_or_malformed_url_is_refused_before_anything_is_sent() {
    for (url, allow_remote) in [
        ("http://192.0.2.1:80", false),
        ("https://127.0.0.1:80", true),
        ("http://127.0.0.1", true),
        ("ftp://127.0.0.1:80", true),
    ] {
        let ord = OrdServer { url, allow_remote };
        let err = ord.check(vec![unchecked(6, 1_000)]).unwrap_err();
        assert!(matches!(err, OrdError::Url { .. }), "{url}: {err}");
    }
}
