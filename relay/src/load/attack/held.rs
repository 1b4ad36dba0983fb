//! (c) Full sessions opened and held: a fixed number of slots spread over the source
//! addresses, each connecting as a browser does (ICE, DTLS, SCTP, `Hello`), then holding the
//! session with a `Ping` now and then; a slot whose connect fails or whose session ends
//! starts over at once, so the relay sees new sessions at the highest rate the slots reach.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use str0m::config::DtlsCert;
use tokio::sync::watch;

use super::HeldReport;
use crate::client::ClientError;
use crate::load::{open, LoadTarget};
use crate::protocol::ClientMessage;

/// A held session pings this often (the relay drops sessions idle for 30 s).
const PING_EVERY: Duration = Duration::from_secs(10);

/// Pause after a failed connect, so a refusing relay is not dialled in a tight loop.
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// Failures kept verbatim in the report.
const FAILURES_KEPT: usize = 10;

/// What every slot shares.
pub(super) struct Slots {
    pub(super) target: LoadTarget,
    pub(super) cert: Option<DtlsCert>,
    pub(super) connect_timeout: Duration,
    pub(super) report: Mutex<HeldReport>,
}

impl Slots {
    fn count(&self, f: impl FnOnce(&mut HeldReport)) {
        // A slot that panicked mid-update leaves counters, nothing that breaks a report.
        f(&mut self.report.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// One slot from `from`: connects, holds, starts over, until `stop` turns true.
    pub(super) async fn run(self: Arc<Self>, from: IpAddr, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let attempt = open(
                &self.target,
                Some(from),
                self.cert.clone(),
                self.connect_timeout,
            );
            let (mut client, _) = tokio::select! {
                opened = attempt => match opened {
                    Ok(opened) => opened,
                    Err(e) => {
                        self.count(|r| {
                            r.attempts += 1;
                            r.failed += 1;
                            if r.failures.len() < FAILURES_KEPT {
                                r.failures.push(format!("from {from}: {e}"));
                            }
                        });
                        tokio::time::sleep(RETRY_AFTER).await;
                        continue;
                    }
                },
                _ = stop.changed() => return,
            };
            self.count(|r| {
                r.attempts += 1;
                r.opened += 1;
                r.held += 1;
                r.held_peak = r.held_peak.max(r.held);
            });
            let mut nonce = 0;
            let ended = loop {
                tokio::select! {
                    frame = client.recv(PING_EVERY) => match frame {
                        Ok(_) => {}
                        Err(ClientError::Timeout(_)) => {
                            nonce += 1;
                            if client.send(&ClientMessage::Ping { nonce }).await.is_err() {
                                break true;
                            }
                        }
                        Err(_) => break true,
                    },
                    _ = stop.changed() => break false,
                }
            };
            if ended {
                self.count(|r| {
                    r.held -= 1;
                    r.dropped += 1;
                });
            } else {
                // Leave politely so the relay frees the slot now, not at its idle timeout.
                let _ = client.close().await;
                return;
            }
        }
    }
}
