//! A second, raw CDP connection that instruments out-of-process iframes.
//!
//! Chromium runs `<iframe sandbox>` documents in their own process
//! (IsolateSandboxedIframes) and exposes each as a separate `iframe` target.
//! chromiumoxide auto-attaches those targets on the tab's session and resumes
//! them at once, but offers no way to send commands to them. This connection
//! attaches to the tab too, auto-attaches its iframes with
//! `waitForDebuggerOnStart`, and before resuming each one enables Page, Network,
//! Audits and Runtime and adds the injected script (`Page.enable` must come
//! before `Page.addScriptToEvaluateOnNewDocument`, or the script misses the
//! first document). Chromium holds the iframe until every waiting client has
//! resumed it. Events from those iframe sessions are forwarded as raw
//! `(method, params)` pairs to the tab's recorder.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::BrowserError;
use crate::cdp::{lock, Cdp};

/// A CDP event from an iframe session: method and params.
pub(super) type RawEvent = (String, Value);

/// The raw connection for one tab.
pub(super) struct FrameTap {
    cdp: Cdp,
    /// Attached iframe sessions, in attach order.
    sessions: Arc<Mutex<Vec<String>>>,
    consumer: JoinHandle<()>,
}

fn frames_error(e: crate::cdp::CdpError) -> BrowserError {
    BrowserError::Frames(e.to_string())
}

/// Prepares a freshly attached iframe target, then lets it run.
async fn prepare(cdp: Cdp, sessions: Arc<Mutex<Vec<String>>>, script: Arc<str>, session: String) {
    let s = Some(session.as_str());
    let steps: [(&str, Value); 6] = [
        ("Page.enable", json!({})),
        (
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": &*script}),
        ),
        ("Network.enable", json!({})),
        ("Audits.enable", json!({})),
        ("Runtime.enable", json!({})),
        (
            "Target.setAutoAttach",
            json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
        ),
    ];
    for (method, params) in steps {
        if let Err(e) = cdp.send(s, method, params).await {
            tracing::debug!("iframe {session}: {e}");
        }
    }
    lock(&sessions).push(session.clone());
    if let Err(e) = cdp
        .send(s, "Runtime.runIfWaitingForDebugger", json!({}))
        .await
    {
        tracing::debug!("iframe {session}: {e}");
    }
}

impl FrameTap {
    /// Connects to the browser endpoint and starts tapping `target_id`'s iframes.
    pub(super) async fn attach(
        ws_url: &str,
        target_id: &str,
        script: &str,
        timeout: Duration,
    ) -> Result<(Self, mpsc::UnboundedReceiver<RawEvent>), BrowserError> {
        let (cdp, mut incoming) = Cdp::connect(ws_url, timeout).await.map_err(frames_error)?;
        let (events, receiver) = mpsc::unbounded_channel();
        let sessions = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<str> = Arc::from(script);
        let consumer = {
            let (cdp, sessions) = (cdp.clone(), sessions.clone());
            tokio::spawn(async move {
                let mut top: Option<String> = None;
                while let Some(event) = incoming.recv().await {
                    let params = event.params;
                    if event.method == "Target.attachedToTarget" {
                        let child = params["sessionId"].as_str().unwrap_or_default().to_owned();
                        if params["targetInfo"]["type"] == "iframe" {
                            tokio::spawn(prepare(
                                cdp.clone(),
                                sessions.clone(),
                                script.clone(),
                                child,
                            ));
                        } else if top.is_none() && event.session.is_none() {
                            top = Some(child);
                        } else {
                            // Workers and the like: let them run untouched.
                            let cdp = cdp.clone();
                            tokio::spawn(async move {
                                let _ = cdp
                                    .send(
                                        Some(&child),
                                        "Runtime.runIfWaitingForDebugger",
                                        json!({}),
                                    )
                                    .await;
                            });
                        }
                        continue;
                    }
                    // Events of the tab itself reach the recorder through chromiumoxide.
                    if event.session.is_some() && event.session != top {
                        let _ = events.send((event.method, params));
                    }
                }
            })
        };
        let tap = Self {
            cdp,
            sessions,
            consumer,
        };
        let attached = tap
            .cdp
            .send(
                None,
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await
            .map_err(frames_error)?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or_else(|| BrowserError::Frames("attachToTarget gave no session".into()))?
            .to_owned();
        tap.cdp
            .send(
                Some(&session),
                "Target.setAutoAttach",
                json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
            )
            .await
            .map_err(frames_error)?;
        Ok((tap, receiver))
    }

    /// Number of out-of-process iframes attached so far.
    pub(super) fn count(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// Evaluates `expression` in the main world of every tapped iframe; iframes
    /// that fail (gone, navigating) are left out.
    pub(super) async fn evaluate_all(&self, expression: &str) -> Vec<Value> {
        let sessions = lock(&self.sessions).clone();
        let mut out = Vec::new();
        for session in sessions {
            let params =
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true});
            match self
                .cdp
                .send(Some(&session), "Runtime.evaluate", params)
                .await
            {
                Ok(result) if result.get("exceptionDetails").is_none() => {
                    out.push(result["result"]["value"].clone());
                }
                Ok(_) => {}
                Err(_) => lock(&self.sessions).retain(|s| *s != session),
            }
        }
        out
    }
}

impl Drop for FrameTap {
    fn drop(&mut self) {
        self.consumer.abort();
    }
}
