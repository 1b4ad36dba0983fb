//! What the federation tests share: a version 2 `Hello`, and reading frames until the one a
//! test waits for.

use std::time::Instant;

use bootstrap_codec::RelayEntry;
use lumamesh_relay::client::UdpClient;
use lumamesh_relay::protocol::{ClientMessage, PeerAddr, RelayMessage, RelayTag, PROTOCOL_VERSION};

use super::{recv, WAIT};

/// Says `Hello` as a version 2 client of the relay of `entry`; gives the session's address.
pub(super) async fn hello2(client: &mut UdpClient, entry: &RelayEntry) -> PeerAddr {
    let hello = ClientMessage::Hello {
        version: PROTOCOL_VERSION,
    };
    client.send(&hello).await.expect("hello");
    let session = until(client, "Welcome", |m| match m {
        RelayMessage::Welcome(w) => {
            assert_eq!(w.version, PROTOCOL_VERSION);
            Some(w.peer)
        }
        _ => None,
    })
    .await;
    PeerAddr {
        relay: RelayTag::of(entry.node_key()),
        session,
    }
}

/// Reads frames until `pick` returns something (other room traffic may come first; what is
/// skipped is printed, shown if the test fails).
pub(super) async fn until<T>(
    client: &mut UdpClient,
    what: &str,
    mut pick: impl FnMut(RelayMessage<'_>) -> Option<T>,
) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "never got {what}");
        let frame = recv(client).await;
        let message = RelayMessage::decode(&frame).expect("decodes");
        let shown = format!("{message:?}");
        match pick(message) {
            Some(found) => return found,
            None => eprintln!(
                "while waiting for {what}: {}",
                &shown[..shown.len().min(160)]
            ),
        }
    }
}
