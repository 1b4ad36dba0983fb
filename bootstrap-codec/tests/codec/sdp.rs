//! The static answer, parsed by an independent SDP implementation (webrtc-sdp) with every
//! field checked.

use std::net::IpAddr;

use bootstrap_codec::{static_answer, AnswerError, AnswerOptions, RelayEntry, RelayTxt};
use webrtc_sdp::address::{Address, ExplicitlyTypedAddress};
use webrtc_sdp::attribute_type::{
    SdpAttribute, SdpAttributeCandidateTransport, SdpAttributeCandidateType,
    SdpAttributeFingerprintHashType, SdpAttributeSetup, SdpAttributeType,
};
use webrtc_sdp::media_type::{SdpMediaValue, SdpProtocolValue};

fn entries() -> Vec<RelayEntry> {
    let txt = RelayTxt::parse(&fixtures::read("relay/relay.txt"));
    assert!(txt.errors.is_empty());
    txt.entries.into_iter().map(|e| e.entry).collect()
}

fn check(entry: &RelayEntry, options: &AnswerOptions) {
    let sdp = static_answer(entry, options).unwrap();
    assert!(sdp.ends_with("\r\n"));
    assert!(!sdp.replace("\r\n", "").contains('\n'), "bare LF in {sdp}");
    let parsed = webrtc_sdp::parse_sdp(&sdp, true).unwrap_or_else(|e| panic!("{e}\n{sdp}"));
    assert_eq!(parsed.get_version(), 0);
    assert_eq!(
        parsed.get_attribute(SdpAttributeType::IceLite).is_some(),
        options.ice_lite
    );
    assert_eq!(parsed.media.len(), 1);
    let m = &parsed.media[0];
    assert!(matches!(m.get_type(), SdpMediaValue::Application));
    assert_eq!(m.get_port(), u32::from(entry.port()));
    assert!(matches!(m.get_proto(), SdpProtocolValue::UdpDtlsSctp));

    let conn = m.get_connection().as_ref().expect("c= line");
    match (entry.address().ip(), &conn.address) {
        (Some(ip), ExplicitlyTypedAddress::Ip(c)) => assert_eq!(*c, ip),
        (None, ExplicitlyTypedAddress::Ip(c)) => {
            assert_eq!(*c, "0.0.0.0".parse::<IpAddr>().unwrap())
        }
        (_, other) => panic!("unexpected c= {other:?}"),
    }
    let attr = |t| {
        m.get_attribute(t)
            .unwrap_or_else(|| panic!("missing attribute in {sdp}"))
    };
    assert!(matches!(attr(SdpAttributeType::Mid), SdpAttribute::Mid(mid) if *mid == options.mid));
    assert!(
        matches!(attr(SdpAttributeType::IceUfrag), SdpAttribute::IceUfrag(u) if u == entry.ufrag().as_str())
    );
    assert!(
        matches!(attr(SdpAttributeType::IcePwd), SdpAttribute::IcePwd(p) if p == entry.pwd().as_str())
    );
    match attr(SdpAttributeType::Fingerprint) {
        SdpAttribute::Fingerprint(fp) => {
            assert!(matches!(
                fp.hash_algorithm,
                SdpAttributeFingerprintHashType::Sha256
            ));
            assert_eq!(fp.fingerprint, entry.fingerprint().as_bytes().to_vec());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        attr(SdpAttributeType::Setup),
        SdpAttribute::Setup(SdpAttributeSetup::Passive)
    ));
    assert!(matches!(
        attr(SdpAttributeType::SctpPort),
        SdpAttribute::SctpPort(5000)
    ));
    assert!(matches!(
        attr(SdpAttributeType::MaxMessageSize),
        SdpAttribute::MaxMessageSize(16_384)
    ));
    let candidates = m.get_attributes_of_type(SdpAttributeType::Candidate);
    assert_eq!(candidates.len(), 1);
    let SdpAttribute::Candidate(c) = candidates[0] else {
        panic!("not a candidate")
    };
    assert_eq!(c.foundation, "1");
    assert_eq!(c.component, 1);
    assert!(matches!(c.transport, SdpAttributeCandidateTransport::Udp));
    assert_eq!(c.priority, 2_130_706_431);
    assert_eq!(c.port, u32::from(entry.port()));
    assert!(matches!(c.c_type, SdpAttributeCandidateType::Host));
    match (&c.address, entry.address().ip()) {
        (Address::Ip(ip), Some(expected)) => assert_eq!(*ip, expected),
        (Address::Fqdn(name), None) => assert_eq!(name, &entry.address().to_string()),
        (other, _) => panic!("candidate address {other:?}"),
    }
}

#[test]
fn every_fixture_entry_parses_with_webrtc_sdp() {
    for entry in entries() {
        check(&entry, &AnswerOptions::default());
        check(
            &entry,
            &AnswerOptions {
                mid: "data".into(),
                ice_lite: false,
            },
        );
    }
}

#[test]
fn golden_answer_is_byte_exact() {
    let entry = &entries()[0];
    assert_eq!(
        static_answer(entry, &AnswerOptions::default()).unwrap(),
        fixtures::read("relay/answer-ipv4.sdp")
    );
}

#[test]
fn mid_cannot_inject_lines() {
    let entry = &entries()[0];
    for mid in ["", "0\r\na=setup:active", "a b", &"x".repeat(33)] {
        assert_eq!(
            static_answer(
                entry,
                &AnswerOptions {
                    mid: mid.to_owned(),
                    ice_lite: true
                }
            ),
            Err(AnswerError::Mid(mid.to_owned()))
        );
    }
}
