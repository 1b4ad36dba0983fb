//! Verification codes in real Chromium (issue 14): real DTLS certificates, real SDP. In one
//! page of the e2e suite, connections handed to the room as peers run `room.code(peer)`: two
//! connected directly show the same code; two that a middleman in the page joins through
//! connections of its own (forwarding the code exchange untouched) show different codes. The
//! second half fails if the runtime did not read both fingerprints from Chromium's SDP.

use harness::browser::{Browser, LaunchOptions};

use super::e2e::{join, open, runtime, serve, ROOM, T};
use super::RelayProcess;

/// Sets `window.verified` to the codes of a direct pair and of a pair with a middleman.
const SCRIPT: &str = r#"
(async () => {
  const room = lm.rooms[ROOM];
  const pcs = () => new RTCPeerConnection();
  // A connection the room treats as a peer: the room runs the code exchange on it.
  const peer = (pc, id) => {
    const p = { pc, id, nick: id, on() { return this; } };
    room.emit('peer', p);
    return p;
  };
  const gathered = (pc) => new Promise((ok) => {
    const check = () => pc.iceGatheringState === 'complete' && ok();
    pc.addEventListener('icegatheringstatechange', check);
    check();
  });
  // Offer and answer with every candidate in them, handed over in the page.
  const connect = async (x, y) => {
    await x.setLocalDescription();
    await gathered(x);
    await y.setRemoteDescription(x.localDescription);
    await y.setLocalDescription();
    await gathered(y);
    await x.setRemoteDescription(y.localDescription);
  };
  const fingerprint = (d) => /a=fingerprint:(\S+ \S+)/.exec(d.sdp)[1];

  const [a, b] = [pcs(), pcs()];
  const [pa, pb] = [peer(a, 'direct-a'), peer(b, 'direct-b')];
  await connect(a, b);
  const direct = await Promise.all([room.code(pa), room.code(pb)]);

  // Alice's connection ends in the middleman's first, Bob's in its second; it forwards the
  // exchange on channel 2 between them as it is.
  const [alice, m1, m2, bob] = [pcs(), pcs(), pcs(), pcs()];
  const [pAlice, pBob] = [peer(alice, 'alice'), peer(bob, 'bob')];
  const channel = (pc) => Object.assign(pc.createDataChannel('v', { negotiated: true, id: 2 }), { binaryType: 'arraybuffer' });
  const [c1, c2] = [channel(m1), channel(m2)];
  const forward = (from, to) => {
    const held = [];
    from.onmessage = ({ data }) => (to.readyState === 'open' ? to.send(data) : held.push(data));
    to.addEventListener('open', () => held.splice(0).forEach((d) => to.send(d)));
  };
  forward(c1, c2);
  forward(c2, c1);
  await Promise.all([connect(alice, m1), connect(bob, m2)]);
  const middled = await Promise.all([room.code(pAlice), room.code(pBob)]);
  window.verified = {
    direct,
    middled,
    aliceSees: fingerprint(alice.remoteDescription),
    bobIs: fingerprint(bob.localDescription),
  };
})().catch((e) => (window.verified = { error: String(e) }));
true
"#;

#[test]
fn codes_match_directly_and_differ_through_a_middleman_in_chromium() {
    let relay = RelayProcess::start();
    runtime().block_on(async {
        let server = serve(std::slice::from_ref(&relay.entry)).await;
        let browser = Browser::launch(LaunchOptions::default())
            .await
            .expect("chromium");
        let page = open(&browser, &server).await;
        join(&page, "alice").await;
        page.eval(&SCRIPT.replace("ROOM", &format!("{ROOM:?}")))
            .await
            .expect("script starts");
        page.wait_for("window.verified", T)
            .await
            .expect("codes on every connection");
        let v = page.eval("window.verified").await.unwrap();
        assert!(v["error"].is_null(), "{v}");
        let direct = v["direct"].as_array().unwrap();
        let code = direct[0].as_str().unwrap();
        assert!(
            code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
            "{v}"
        );
        assert_eq!(direct[0], direct[1], "{v}");
        // The middleman's certificates are its own, so what Alice sees is not Bob.
        assert_ne!(v["aliceSees"], v["bobIs"], "{v}");
        // One in a million, the two codes agree by chance.
        assert_ne!(v["middled"][0], v["middled"][1], "{v}");
        browser.close().await.unwrap();
    });
}
