//! Bytes written by ord itself, copied from ord's repository (ordinals/ord at commit
//! 5241ef311e015cff4759a379085c8cc8913e621a) and from `shared/reference/ord.md`. Nothing
//! here is produced by this project's encoder: the vectors built from these are checked
//! against these bytes, so `UPDATE_FIXTURES=1` can never launder an encoder change.

/// `shared/reference/ord.md`: ord's envelope for `text/plain;charset=utf-8` "Hello, world!".
pub const HELLO_ENVELOPE: &str = "0063036f7264010118746578742f706c61696e3b636861727365743d7574662d38000d48656c6c6f2c20776f726c642168";

/// ord `docs/src/guides/api.md` (`GET /tx/<id>` example): mainnet reveal
/// 99811de396ff10152cdfc9588d9750d0151501f081df2e56071c42dc3532b743, an `image/png`
/// inscription whose body is pushed in a 520-byte and a shorter piece. The JSON there gives
/// the transaction field by field; [`png_transaction`] puts it back together and the test
/// checks the txid.
pub mod png {
    pub const TXID: &str = "99811de396ff10152cdfc9588d9750d0151501f081df2e56071c42dc3532b743";
    pub const PREVIOUS_OUTPUT: &str =
        "7d154f826f68e86370105641e3b5b1c6afc697613b8dfce48e4e40db01e8317a:1";
    pub const SEQUENCE: u32 = 0xffff_ffff;
    pub const SIGNATURE: &str = "e68e67c60dfc06f570dfa8fe880cc09f1041a9b10b285743dd72b8f2e672987f7176ced40d46d279385c148a0c39b9914b91d9d503b7388791f6758884f0c2f4";
    pub const CONTROL_BLOCK: &str =
        "c10c97fe0e7bb78d8dd7447bc098386c61248e1e9a7dfd263fd828c5373b945735";
    pub const OUTPUT_VALUE: u64 = 546;
    pub const OUTPUT_SCRIPT: &str =
        "51208a2ade400b30af7cae07e30a9afa8ac49f54fb3ff7d0f42bbf4a66578a34c280";
    /// The leaf script: `<key> OP_CHECKSIG` and the envelope.
    pub const LEAF: &[&str] = &[
        "200c97fe0e7bb78d8dd7447bc098386c61248e1e9a7dfd263fd828c5373b945735ac0063036f726401010969",
        "6d6167652f706e67004d080289504e470d0a1a0a0000000d49484452000000360000003608060000008c456a",
        "dd000000017352474200aece1ce900000306494441546881ed9abf4e1b4110c63f477903a4b4a6a04186c215",
        "32a54de1c214a432051406d14471830405a2b25cb8701344e75c43a4d0514041112843a8281c642972111ec0",
        "cfb029ec3976d7b7e7fd670cd1fe24747b6b666ebf9bbdd9b9b581402010083c93f1e5a8130d18b5776b73de",
        "fcdae26500a56a8df1e73fbe7f1d3acf6404ff2f29fe9d0f27c5fcba705cdbdcc1dae60ed8086028aad1aea0",
        "d1ae18f96612ba76ef8daea24131bf8edb874b004381fd6e0f8c3136bfb46aec4bb6fbfbfba7b6ad97881d1d",
        "6e6446471c1d6e089f2d2c2f627e69d56850c0b82853bc08234ad51a00e0e63c12fa49dcf1fe95961f5ed4d3",
        "e31d9e1eef70bc7f35f6cca6e155188f2c0e001aed4aaab84e34609d6820881af51b271b6f998932a32c88a2",
        "0800fd6e2f6e2709e4138b8b28600ac94397b4ece82a0a98e25424f8082e2c2fc66d1abc0cf59fd64f9cd6ba",
        "99450c508bf3c1d423362bbc444c2ea9542465ca69613d879bad0b461506210d5cf09dcd1562f17bdb07906d",
        "937cb8240f2b233e42095150facce60a8c4f202a7c88339e8aa56a8d513d68220a1866452a942962fcda4664",
        "7305e7c462953c14d348ebaede3e5ca68a22b2b9020060b73627bceee862953c6ece23a1a230b505c48a2429",
        "3a24cc164d44012b610917d57e0664db490bb52dffed3a1684bd3582b0b78695b0848ca5bdced0abfe246692",
        "ee6dd730575b138c23d6eff650ccaf27550d13a346b60afb18bea4b2ad15ad8a60be524f98562a9f6c643bd1",
        "3fefd35698ed3396d9db3e00301ca83458a6f88b074db60adf71db657bc069974ab53325fdcf589fce0be769",
        "fd049fbe7c7e5d7b1eb6627ce26b6b20b1df568c6bb4802944eca523a3c25a98bc81f35a0411b60b74da9e87",
        "92d3fa8970feebcf3700c0d9f5bdcd3052319ec726a23ad1403857a5eeadf20a0344812e3b5480a1b049a264",
        "2180d957b25be515e6539c16cdd6052b556bacd9ba10165efaeaa7130dd8e8cec7fd36d7e17db8f8d17ec668",
        "67898e141dfe8ed29472e1ecfa3e2347ce066d611f3fe49fdb29a5ce56790580dbaf02489cad7d2010080402",
        "6f9d7f6be4942aeb43f7890000000049454e44ae42608268",
    ];
}

/// ord `docs/src/inscriptions/recursion.md` (`GET /r/tx/<id>` example): the raw reveal
/// 60bcf821240064a9c55225c4f01711b0ebbcab39aa3fafeefe4299ab158536fa, a
/// `text/plain;charset=utf-8` inscription "primes\n".
pub mod primes {
    pub const TXID: &str = "60bcf821240064a9c55225c4f01711b0ebbcab39aa3fafeefe4299ab158536fa";
    pub const TRANSACTION: &str = concat!(
        "0100000000010183572872dcb32bee57003d53c2b8dbb5bc5819ff6478052599911f7778d1c7bd00000000",
        "00fdffffff011027000000000000225120e41e0cba05c6ac797cf543ff9a6c619a91a53813e59146d1e32e",
        "a89747b111a603407aa50d93d6fc01265fd52d3edc93af4e009ccc1a704ce1b5cb8ede1412a5df31eba587",
        "d080b3dc903ceb9002ed9d921aad323fd44d7b4dc2a1ad2ea12d4360424d20c7a3a38df198a4fcde7d5dac",
        "5819ed19ff4d25bb893c9511f8e1f51d59326effac0063036f7264010118746578742f706c61696e3b6368",
        "61727365743d7574662d3800077072696d65730a6821c1c7a3a38df198a4fcde7d5dac5819ed19ff4d25bb",
        "893c9511f8e1f51d59326eff00000000",
    );
}

/// ord `src/inscriptions/inscription.rs` test `pointer_encode`:
/// `Inscription { pointer: Some(vec![1, 2, 3]), .. }` is `envelope(&[b"ord", &[2], &[1, 2, 3]])`
/// (`OP_FALSE OP_IF` + those pushes + `OP_ENDIF`): no content type, no body.
pub const POINTER_ENCODE_ENVELOPE: &str = "0063036f726401020301020368";

/// ord `src/inscriptions/inscription.rs` test `pointer_encode` (first case) and envelope.rs
/// `round_trip_with_no_fields`: `Inscription::default()` is `envelope(&[b"ord"])`.
pub const NO_FIELDS_ENVELOPE: &str = "0063036f726468";

/// The leaf script of the png reveal, in one piece.
pub fn png_leaf() -> String {
    png::LEAF.concat()
}
