//! Property tests: encode→decode is the identity, any single-byte change is refused, and
//! no input makes a decoder panic.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU16;

use bootstrap_codec::{
    Fingerprint, HostName, IcePwd, IceUfrag, NodeSecret, RelayAddress, RelayEntry, RelayTxt,
    UnsignedEntry,
};
use proptest::prelude::*;

fn address() -> impl Strategy<Value = RelayAddress> {
    prop_oneof![
        any::<u32>().prop_filter_map("unicast v4", |n| RelayAddress::from_ip(
            Ipv4Addr::from(n).into()
        )
        .ok()),
        any::<u128>().prop_filter_map("unicast v6", |n| RelayAddress::from_ip(
            Ipv6Addr::from(n).into()
        )
        .ok()),
        "[a-z]([a-z0-9-]{0,20}[a-z0-9])?(\\.[a-z]([a-z0-9-]{0,20}[a-z0-9])?){0,4}"
            .prop_filter_map("host", |s| HostName::new(&s).ok().map(RelayAddress::Host)),
    ]
}

prop_compose! {
    fn entry()(
        seed in any::<[u8; 32]>(),
        address in address(),
        port in 1u16..,
        fp in any::<[u8; 32]>(),
        ufrag in proptest::option::of("[A-Za-z0-9+/]{4,256}"),
        pwd in proptest::option::of("[A-Za-z0-9+/]{22,256}"),
    ) -> RelayEntry {
        let secret = NodeSecret::from_seed(&seed);
        let fingerprint = Fingerprint::from_bytes(fp);
        UnsignedEntry {
            address,
            port: NonZeroU16::new(port).unwrap(),
            fingerprint,
            ufrag: ufrag.map_or_else(IceUfrag::default_relay, |u| IceUfrag::new(u).unwrap()),
            pwd: pwd.map_or_else(
                || IcePwd::derived(&secret.public(), &fingerprint),
                |p| IcePwd::new(p).unwrap(),
            ),
        }
        .sign(&secret)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn binary_round_trip(e in entry()) {
        let bytes = e.to_bytes();
        let back = RelayEntry::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &e);
        prop_assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn text_round_trip(e in entry()) {
        let line = e.to_line();
        prop_assert_eq!(RelayEntry::from_line(&line).unwrap(), e.clone());
        let txt = RelayTxt::parse(&format!("# c\n\n{line} # note\n"));
        prop_assert_eq!(txt.entries.len(), 1);
        prop_assert_eq!(txt.entries[0].line, 3);
    }

    #[test]
    fn any_single_byte_change_is_refused(e in entry(), index in any::<prop::sample::Index>(), xor in 1u8..) {
        let mut bytes = e.to_bytes();
        let i = index.index(bytes.len());
        bytes[i] ^= xor;
        prop_assert!(RelayEntry::decode(&bytes).is_err(), "byte {} ^ {:#x} accepted", i, xor);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = RelayEntry::decode(&bytes);
    }

    #[test]
    fn decode_never_panics_on_near_entries(e in entry(), cut in 0usize..600, junk in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut bytes = e.to_bytes();
        bytes.truncate(cut);
        bytes.extend_from_slice(&junk);
        let _ = RelayEntry::decode(&bytes);
    }

    #[test]
    fn relay_txt_never_panics(text in "\\PC{0,300}") {
        let _ = RelayTxt::parse(&text);
    }
}
