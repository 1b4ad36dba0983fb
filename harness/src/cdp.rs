//! A raw Chrome DevTools Protocol connection with flattened sessions, which also carries
//! WebDriver BiDi (same framing: `{id, method, params}` out, replies by `id`, events by
//! `method`; BiDi errors come as `{"type": "error", "error", "message"}`).
//!
//! One WebSocket to the browser endpoint carries commands for every attached target
//! (`sessionId` on each message; BiDi has none). Replies are matched to their command by
//! id; every event goes, in wire order, to one channel the owner drains.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

type Sink = async_tungstenite::WebSocketSender<async_tungstenite::tokio::ConnectStream>;

/// Why a CDP command failed.
#[derive(Debug, thiserror::Error)]
pub enum CdpError {
    /// The WebSocket could not be opened or closed under us.
    #[error("devtools connection: {0}")]
    Connection(String),
    /// No reply in time.
    #[error("devtools command {0} timed out after {1:?}")]
    Timeout(String, Duration),
    /// The browser answered with an error.
    #[error("devtools command {0} failed: {1}")]
    Command(String, String),
}

/// A CDP event: the session it came from (`None` for the browser), method and params.
#[derive(Clone, Debug)]
pub struct Event {
    /// The flattened session id, `None` for browser-level events.
    pub session: Option<String>,
    /// `Domain.event`.
    pub method: String,
    /// The event's parameters.
    pub params: Value,
}

struct Shared {
    sink: tokio::sync::Mutex<Sink>,
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, oneshot::Sender<Value>>>,
    timeout: Duration,
}

/// A cloneable handle to one DevTools connection.
#[derive(Clone)]
pub struct Cdp {
    shared: Arc<Shared>,
    /// Stops the reader when the last handle goes.
    _reader: Arc<ReaderGuard>,
}

struct ReaderGuard(JoinHandle<()>);

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a panic mid-update; the data stays usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Cdp {
    /// Connects to `ws_url` (the browser's `DevTools listening on …` address). Every command
    /// waits at most `timeout` for its reply.
    pub async fn connect(
        ws_url: &str,
        timeout: Duration,
    ) -> Result<(Self, mpsc::UnboundedReceiver<Event>), CdpError> {
        let (socket, _) =
            tokio::time::timeout(timeout, async_tungstenite::tokio::connect_async(ws_url))
                .await
                .map_err(|_| CdpError::Timeout("connect".into(), timeout))?
                .map_err(|e| CdpError::Connection(e.to_string()))?;
        let (sink, mut stream) = socket.split();
        let (events, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            sink: tokio::sync::Mutex::new(sink),
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            timeout,
        });
        let reader_shared = shared.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(message) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                if let Some(id) = message.get("id").and_then(Value::as_u64) {
                    if let Some(tx) = lock(&reader_shared.pending).remove(&id) {
                        let _ = tx.send(message);
                    }
                    continue;
                }
                let event = Event {
                    session: message["sessionId"].as_str().map(str::to_owned),
                    method: message["method"].as_str().unwrap_or_default().to_owned(),
                    params: message.get("params").cloned().unwrap_or(Value::Null),
                };
                if events.send(event).is_err() {
                    break;
                }
            }
            // The connection is gone: fail every waiting command at once.
            lock(&reader_shared.pending).clear();
        });
        Ok((
            Self {
                shared,
                _reader: Arc::new(ReaderGuard(reader)),
            },
            receiver,
        ))
    }

    /// Sends `method` to `session` (`None`: the browser) and returns its `result`.
    pub async fn send(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, CdpError> {
        let reply = self.post(session, method, params).await?;
        reply.await
    }

    /// Writes `method` to the connection now and returns a future of its reply: commands
    /// posted one after another reach the target in that order, even when it answers none
    /// of them until it runs (a worker paused on start handles its domains only then).
    pub async fn post(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<impl std::future::Future<Output = Result<Value, CdpError>>, CdpError> {
        let shared = self.shared.clone();
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&shared.pending).insert(id, tx);
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = Value::String(session.to_owned());
        }
        let frame = Message::text(message.to_string());
        let sent = tokio::time::timeout(shared.timeout, async {
            shared.sink.lock().await.send(frame).await
        })
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            lock(&shared.pending).remove(&id);
            return Err(CdpError::Connection(format!("cannot send {method}")));
        }
        let method = method.to_owned();
        Ok(async move {
            let reply = tokio::time::timeout(shared.timeout, rx)
                .await
                .map_err(|_| {
                    lock(&shared.pending).remove(&id);
                    CdpError::Timeout(method.clone(), shared.timeout)
                })?
                .map_err(|_| CdpError::Connection("closed".into()))?;
            if reply["type"] == "error" {
                let (code, text) = (reply["error"].as_str(), reply["message"].as_str());
                let text = format!("{}: {}", code.unwrap_or("error"), text.unwrap_or_default());
                return Err(CdpError::Command(method, text));
            }
            if let Some(error) = reply.get("error") {
                let text = error["message"].as_str().unwrap_or_default();
                return Err(CdpError::Command(method, text.to_owned()));
            }
            Ok(reply.get("result").cloned().unwrap_or(Value::Null))
        })
    }
}

/// Reads the first `ws://…` address a browser prints on stderr (Chromium's `DevTools
/// listening on ws://…`, Firefox's `WebDriver BiDi listening on ws://…`), then keeps
/// draining stderr so the browser never blocks on it. `what` names the wait in errors.
pub(crate) async fn listening_url(
    child: &mut Child,
    what: &str,
    timeout: Duration,
) -> Result<String, CdpError> {
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| CdpError::Connection(format!("{what}: stderr not captured")))?;
    let mut lines = BufReader::new(stderr).lines();
    let found = tokio::time::timeout(timeout, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(at) = line.find("ws://") {
                return Some(line[at..].trim().to_owned());
            }
        }
        None
    })
    .await
    .map_err(|_| CdpError::Timeout(what.to_owned(), timeout))?;
    let url =
        found.ok_or_else(|| CdpError::Connection(format!("{what}: the browser exited first")))?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(url)
}
