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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::BrowserError;

type Sender = async_tungstenite::WebSocketSender<async_tungstenite::tokio::ConnectStream>;

/// A CDP event from an iframe session: method and params.
pub(super) type RawEvent = (String, Value);

struct Shared {
    sink: tokio::sync::Mutex<Sender>,
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, oneshot::Sender<Value>>>,
    /// Attached iframe sessions, in attach order.
    sessions: Mutex<Vec<String>>,
    events: mpsc::UnboundedSender<RawEvent>,
    script: String,
    timeout: Duration,
}

/// The raw connection for one tab.
pub(super) struct FrameTap {
    shared: Arc<Shared>,
    reader: JoinHandle<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a panic mid-update; the data stays usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    async fn send(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, BrowserError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = Value::String(session.to_owned());
        }
        let frame = Message::text(message.to_string());
        let sent = tokio::time::timeout(self.timeout, async {
            self.sink.lock().await.send(frame).await
        })
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            lock(&self.pending).remove(&id);
            return Err(BrowserError::Frames(format!("cannot send {method}")));
        }
        let reply = tokio::time::timeout(self.timeout, rx)
            .await
            .map_err(|_| BrowserError::Timeout(self.timeout, method.to_owned()))?
            .map_err(|_| BrowserError::Frames("connection closed".into()))?;
        if let Some(error) = reply.get("error") {
            return Err(BrowserError::Frames(format!("{method}: {error}")));
        }
        Ok(reply.get("result").cloned().unwrap_or(Value::Null))
    }

    /// Prepares a freshly attached iframe target, then lets it run.
    async fn prepare(self: Arc<Self>, session: String) {
        let s = Some(session.as_str());
        let steps: [(&str, Value); 6] = [
            ("Page.enable", json!({})),
            (
                "Page.addScriptToEvaluateOnNewDocument",
                json!({"source": self.script}),
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
            if let Err(e) = self.send(s, method, params).await {
                tracing::debug!("iframe {session}: {e}");
            }
        }
        lock(&self.sessions).push(session.clone());
        if let Err(e) = self
            .send(s, "Runtime.runIfWaitingForDebugger", json!({}))
            .await
        {
            tracing::debug!("iframe {session}: {e}");
        }
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
        let (socket, _) =
            tokio::time::timeout(timeout, async_tungstenite::tokio::connect_async(ws_url))
                .await
                .map_err(|_| BrowserError::Timeout(timeout, "devtools connection".into()))?
                .map_err(|e| BrowserError::Frames(format!("connect: {e}")))?;
        let (sink, mut stream) = socket.split();
        let (events, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            sink: tokio::sync::Mutex::new(sink),
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            sessions: Mutex::new(Vec::new()),
            events,
            script: script.to_owned(),
            timeout,
        });
        let reader_shared = shared.clone();
        let reader = tokio::spawn(async move {
            let shared = reader_shared;
            let mut top: Option<String> = None;
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(message) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                if let Some(id) = message.get("id").and_then(Value::as_u64) {
                    if let Some(tx) = lock(&shared.pending).remove(&id) {
                        let _ = tx.send(message);
                    }
                    continue;
                }
                let method = message["method"].as_str().unwrap_or_default().to_owned();
                let session = message["sessionId"].as_str().map(str::to_owned);
                let params = message.get("params").cloned().unwrap_or(Value::Null);
                if method == "Target.attachedToTarget" {
                    let child = params["sessionId"].as_str().unwrap_or_default().to_owned();
                    if params["targetInfo"]["type"] == "iframe" {
                        tokio::spawn(shared.clone().prepare(child));
                    } else if top.is_none() && session.is_none() {
                        top = Some(child);
                    } else {
                        // Workers and the like: let them run untouched.
                        let s = shared.clone();
                        tokio::spawn(async move {
                            let _ = s
                                .send(Some(&child), "Runtime.runIfWaitingForDebugger", json!({}))
                                .await;
                        });
                    }
                    continue;
                }
                // Events of the tab itself reach the recorder through chromiumoxide.
                if session.is_some() && session != top {
                    let _ = shared.events.send((method, params));
                }
            }
        });
        let tap = Self { shared, reader };
        let attached = tap
            .shared
            .send(
                None,
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or_else(|| BrowserError::Frames("attachToTarget gave no session".into()))?
            .to_owned();
        tap.shared
            .send(
                Some(&session),
                "Target.setAutoAttach",
                json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
            )
            .await?;
        Ok((tap, receiver))
    }

    /// Number of out-of-process iframes attached so far.
    pub(super) fn count(&self) -> usize {
        lock(&self.shared.sessions).len()
    }

    /// Evaluates `expression` in the main world of every tapped iframe; iframes
    /// that fail (gone, navigating) are left out.
    pub(super) async fn evaluate_all(&self, expression: &str) -> Vec<Value> {
        let sessions = lock(&self.shared.sessions).clone();
        let mut out = Vec::new();
        for session in sessions {
            let params =
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true});
            match self
                .shared
                .send(Some(&session), "Runtime.evaluate", params)
                .await
            {
                Ok(result) if result.get("exceptionDetails").is_none() => {
                    out.push(result["result"]["value"].clone());
                }
                Ok(_) => {}
                Err(_) => lock(&self.shared.sessions).retain(|s| *s != session),
            }
        }
        out
    }
}

impl Drop for FrameTap {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
