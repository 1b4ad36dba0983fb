//! Reading reveal transactions: what a careless user or an adversary hands `inspect` and
//! the content server (not a transaction, hex cut short, trailing bytes, witnesses without
//! an envelope, envelopes cut short, tapscripts that do not decode), and the happy path.

use bitcoin::consensus::encode::{serialize, serialize_hex};
use bitcoin::opcodes::all::{OP_ENDIF, OP_IF, OP_PUSHDATA2};
use bitcoin::opcodes::OP_FALSE;
use bitcoin::{Transaction, Witness};
use inscription::{parse_transaction, Curse, Inscription, InscriptionId, Reveal, RevealError};

use super::support::{
    envelope, key_path_witness, leaf_witness, reveal_witness, script, transaction, Item,
};

fn hello() -> Inscription {
    Inscription::new("text/plain;charset=utf-8", b"Hello, world!".to_vec())
}

/// A reveal of `hello()` in its first input.
fn reveal_tx() -> Transaction {
    transaction(vec![reveal_witness(hello().envelope_script().as_bytes())])
}

#[test]
fn hex_and_raw_read_alike() {
    let tx = reveal_tx();
    let hex = serialize_hex(&tx);
    for text in [
        hex.clone(),
        format!("\n  {hex}\r\n"),
        hex.to_uppercase(),
        format!("\t{hex} "),
    ] {
        assert_eq!(parse_transaction(text.as_bytes()).unwrap(), tx, "{text:?}");
    }
    assert_eq!(parse_transaction(&serialize(&tx)).unwrap(), tx);
}

#[test]
fn a_reveal_gives_ids_and_curses_in_order() {
    let mut leaf = hello().envelope_script();
    Inscription::new("text/css", b"p{}".to_vec()).append_envelope(&mut leaf);
    let tx = transaction(vec![
        reveal_witness(leaf.as_bytes()),
        reveal_witness(hello().envelope_script().as_bytes()),
    ]);
    let (parsed, reveal) = Reveal::parse(serialize_hex(&tx).as_bytes()).unwrap();
    assert_eq!(parsed, tx);
    let txid = tx.compute_txid();
    assert_eq!(reveal.txid(), txid);
    assert_eq!(
        reveal.ids(),
        (0..3)
            .map(|n| InscriptionId::new(txid, n))
            .collect::<Vec<_>>()
    );
    let curses: Vec<_> = reveal.inscriptions().map(|(_, e)| e.curse()).collect();
    assert_eq!(
        curses,
        [
            None,
            Some(Curse::NotAtOffsetZero),
            Some(Curse::NotInFirstInput)
        ]
    );
    assert_eq!(
        reveal.envelopes()[1].inscription.content_type(),
        Some("text/css")
    );
}

#[test]
fn nothing_is_not_a_transaction() {
    for empty in [&b""[..], b" ", b"\n\r\n\t"] {
        assert!(
            matches!(parse_transaction(empty), Err(RevealError::Empty)),
            "{empty:?}"
        );
    }
}

#[test]
fn bad_hex_is_refused() {
    let hex = serialize_hex(&reveal_tx());
    // An odd number of digits: the last byte is cut in half.
    let odd = &hex[..hex.len() - 1];
    assert!(matches!(
        parse_transaction(odd.as_bytes()),
        Err(RevealError::Hex { digits, .. }) if digits == hex.len() - 1
    ));
    // Cut short at a byte boundary, or only a version.
    for short in [
        &hex[..hex.len() - 2],
        &hex[..hex.len() / 4 * 2],
        "02000000",
        "0200",
        "00",
    ] {
        assert!(
            matches!(
                parse_transaction(short.as_bytes()),
                Err(RevealError::HexNotTransaction(_))
            ),
            "{short}"
        );
    }
    // A byte too many.
    let long = format!("{hex}00");
    assert!(matches!(
        parse_transaction(long.as_bytes()),
        Err(RevealError::TrailingBytes { extra: 1 })
    ));
    // Two transactions glued together.
    let twice = format!("{hex}{hex}");
    assert!(matches!(
        parse_transaction(twice.as_bytes()),
        Err(RevealError::TrailingBytes { extra }) if extra == hex.len() / 2
    ));
}

#[test]
fn text_that_is_not_hex_is_read_as_raw_bytes_and_refused() {
    let hex = serialize_hex(&reveal_tx());
    for text in [
        format!("0x{hex}"),
        format!("{} {}", &hex[..10], &hex[10..]),
        "zz".to_owned(),
        "hello, world".to_owned(),
        format!("{hex}g"),
    ] {
        assert!(
            matches!(
                parse_transaction(text.as_bytes()),
                Err(RevealError::NotTransaction(_))
            ),
            "{text:.20}"
        );
    }
}

#[test]
fn bad_raw_bytes_are_refused() {
    let raw = serialize(&reveal_tx());
    assert!(matches!(
        parse_transaction(&raw[..raw.len() - 1]),
        Err(RevealError::NotTransaction(_))
    ));
    let mut long = raw.clone();
    long.extend_from_slice(b"\0\0\0");
    assert!(matches!(
        parse_transaction(&long),
        Err(RevealError::TrailingBytes { extra: 3 })
    ));
    // A claim of 2^32 inputs must not allocate them.
    let mut huge = vec![2, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff];
    huge.extend_from_slice(&[0; 64]);
    assert!(matches!(
        parse_transaction(&huge),
        Err(RevealError::NotTransaction(_))
    ));
    // Random-looking junk, 1 MB of it.
    let junk: Vec<u8> = (0..1_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(parse_transaction(&junk).is_err());
}

#[test]
fn a_transaction_without_witness_reveals_nothing() {
    let mut tx = reveal_tx();
    tx.input[0].witness = Witness::new();
    let err = Reveal::from_transaction(&tx).unwrap_err();
    assert!(matches!(err, RevealError::NoWitness(txid) if txid == tx.compute_txid()));
    assert!(err.to_string().contains("no witness"), "{err}");
    // Read back from hex it is the same error: a legacy transaction.
    let hex = serialize_hex(&tx);
    assert!(matches!(
        Reveal::parse(hex.as_bytes()),
        Err(RevealError::NoWitness(_))
    ));
}

#[test]
fn witnesses_without_an_envelope_reveal_nothing() {
    let tx = transaction(vec![key_path_witness()]);
    assert!(matches!(
        Reveal::from_transaction(&tx),
        Err(RevealError::NoEnvelopes(_))
    ));
    // A tapscript that is not ours: the protocol id is wrong, or there is no OP_IF.
    for leaf in [
        envelope(&[b"orc", &[1], b"text/plain", &[], b"x"]),
        envelope(&[b"ORD", &[], b"x"]),
        script(&[Item::Op(OP_FALSE), Item::Push(b"ord"), Item::Op(OP_ENDIF)]),
        script(&[Item::Op(OP_IF), Item::Push(b"ord"), Item::Op(OP_ENDIF)]),
    ] {
        let tx = transaction(vec![leaf_witness(&leaf)]);
        assert!(
            matches!(
                Reveal::from_transaction(&tx),
                Err(RevealError::NoEnvelopes(_))
            ),
            "{leaf:?}"
        );
    }
}

#[test]
fn an_envelope_cut_short_reveals_nothing() {
    let full = hello().envelope_script().into_bytes();
    // Without OP_ENDIF, or cut inside the body push.
    for cut in [full.len() - 1, full.len() - 5] {
        let leaf = bitcoin::ScriptBuf::from_bytes(full[..cut].to_vec());
        let tx = transaction(vec![leaf_witness(&leaf)]);
        let err = Reveal::from_transaction(&tx).unwrap_err();
        assert!(
            matches!(
                err,
                RevealError::NoEnvelopes(_) | RevealError::UndecodableTapscript { .. }
            ),
            "{cut}: {err:?}"
        );
    }
}

#[test]
fn a_tapscript_that_does_not_decode_is_named() {
    // OP_FALSE OP_IF "ord", then a push of 0x0100 bytes with only two behind it.
    let mut leaf = envelope(&[b"ord"]).into_bytes();
    leaf.pop();
    leaf.extend_from_slice(&[OP_PUSHDATA2.to_u8(), 0x00, 0x01, 0xaa, 0xbb]);
    let tx = transaction(vec![
        key_path_witness(),
        leaf_witness(&bitcoin::ScriptBuf::from_bytes(leaf)),
    ]);
    let err = Reveal::from_transaction(&tx).unwrap_err();
    assert!(
        matches!(err, RevealError::UndecodableTapscript { input: 1, .. }),
        "{err:?}"
    );
    let source = std::error::Error::source(&err).expect("the script error is the source");
    assert!(
        source.to_string().contains("tapscript does not decode"),
        "{source}"
    );
    // Beside a good input, an undecodable one is ignored, as ord does.
    let mut tx = tx;
    tx.input.push(reveal_tx().input.remove(0));
    assert_eq!(Reveal::from_transaction(&tx).unwrap().ids().len(), 1);
}

#[test]
fn messages_are_lowercase_and_name_the_transaction() {
    let tx = transaction(vec![key_path_witness()]);
    let txid = tx.compute_txid().to_string();
    let errors = [
        parse_transaction(b"").unwrap_err(),
        parse_transaction(b"0").unwrap_err(),
        parse_transaction(b"0200").unwrap_err(),
        parse_transaction(b"zz").unwrap_err(),
        parse_transaction(format!("{}00", serialize_hex(&tx)).as_bytes()).unwrap_err(),
        Reveal::from_transaction(&tx).unwrap_err(),
    ];
    for err in &errors {
        let text = err.to_string();
        assert!(!text.chars().next().unwrap().is_uppercase(), "{text}");
        assert!(!text.ends_with('.'), "{text}");
    }
    assert!(errors[5].to_string().contains(&txid));
}
