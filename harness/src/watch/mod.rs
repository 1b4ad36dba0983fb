//! Watching a page from outside it: one headless Chromium observed only through the
//! browser's own protocol and its network log.
//!
//! Nothing is injected into any document: no global, no wrapped constructor, no patched
//! prototype. Instead:
//! - one DevTools connection auto-attaches to every target the browser creates (tabs,
//!   popups, out-of-process iframes, dedicated, shared and service workers) with
//!   `waitForDebuggerOnStart`, enables Network, Runtime, Log, Audits and Page there, and
//!   only then lets the target run, so the first request of a worker is seen too
//!   ([`record`]);
//! - a `chrome://webrtc-internals` tab, opened before the page, receives Chromium's own
//!   record of every RTCPeerConnection (configuration with its ICE servers, remote
//!   descriptions, added candidates, states, data-channel stats) ([`webrtc`]);
//! - Chromium's NetLog (`--log-net-log`) lists every UDP datagram WebRTC sent and where
//!   to, read when the browser exits ([`netlog`]);
//! - gestures are real input events (`Input.dispatch*`), aimed with the DOM domain
//!   ([`gesture`]).
//!
//! The browser runs with `navigator.webdriver` off and a user agent without `Headless`,
//! so the usual ways of telling a check from a visitor do not work.

pub mod firefox;
mod gesture;
pub mod netlog;
pub mod packets;
mod record;
pub mod webrtc;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::browser::{executable, BrowserError, LaunchOptions, CHROMIUM_FLAGS};
use crate::cdp::{listening_url, lock, Cdp, Event};
pub use record::{
    LinkRecord, LogRecord, Observation, RequestRecord, SocketRecord, TargetKind, TargetRecord,
    Where,
};
use record::{Recorder, Session};
pub use webrtc::{Candidate, PeerConnection};

/// The URL Chromium keeps its WebRTC records at.
const WEBRTC_INTERNALS: &str = "chrome://webrtc-internals";

/// One watched Chromium process.
pub struct Watcher {
    cdp: Cdp,
    child: Child,
    profile: tempfile::TempDir,
    netlog: PathBuf,
    recorder: Arc<Mutex<Recorder>>,
    consumer: JoinHandle<()>,
    /// The `chrome://webrtc-internals` tab's session.
    internals: String,
    timeout: Duration,
}

impl Watcher {
    /// Starts Chromium with a fresh profile and its NetLog, and opens the WebRTC record.
    pub async fn launch(options: &LaunchOptions) -> Result<Self, BrowserError> {
        let executable = executable(options.executable.as_deref())?;
        let profile = tempfile::Builder::new()
            .prefix("lumamesh-check-")
            .tempdir()
            .map_err(BrowserError::Profile)?;
        let netlog = profile.path().join("netlog.json");
        let user_agent = visitor_user_agent(&executable).await;
        let mut command = Command::new(&executable);
        command
            .args(CHROMIUM_FLAGS)
            .args(&options.extra_args)
            .arg("--remote-debugging-port=0")
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--log-net-log={}", netlog.display()))
            .arg("--net-log-capture-mode=Default")
            // `navigator.webdriver` stays false, as for a visitor.
            .arg("--disable-blink-features=AutomationControlled")
            // No name the page looks up reaches a real resolver.
            .arg("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE *.local")
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(agent) = &user_agent {
            command.arg(format!("--user-agent={agent}"));
        }
        let mut child = command.spawn().map_err(|e| {
            BrowserError::Script(format!("cannot start {}: {e}", executable.display()))
        })?;
        let ws_url = listening_url(&mut child, "chromium's DevTools address", options.timeout)
            .await
            .map_err(|e| BrowserError::Frames(e.to_string()))?;
        let (cdp, events) = Cdp::connect(&ws_url, options.timeout)
            .await
            .map_err(|e| BrowserError::Frames(e.to_string()))?;
        let recorder = Arc::new(Mutex::new(Recorder::new()));
        let consumer = tokio::spawn(consume(cdp.clone(), recorder.clone(), events));
        let mut watcher = Self {
            cdp,
            child,
            profile,
            netlog,
            recorder,
            consumer,
            internals: String::new(),
            timeout: options.timeout,
        };
        watcher
            .browser("Target.setDiscoverTargets", json!({"discover": true}))
            .await?;
        watcher
            .browser(
                "Target.setAutoAttach",
                json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
            )
            .await?;
        let internals = watcher.new_tab(false).await?;
        watcher
            .send(
                &internals,
                "Page.navigate",
                json!({"url": WEBRTC_INTERNALS}),
            )
            .await?;
        watcher.internals = internals;
        watcher.wait_for_internals().await?;
        Ok(watcher)
    }

    async fn browser(&self, method: &str, params: Value) -> Result<Value, BrowserError> {
        self.cdp
            .send(None, method, params)
            .await
            .map_err(|e| BrowserError::Frames(e.to_string()))
    }

    pub(crate) async fn send(
        &self,
        session: &str,
        method: &str,
        params: Value,
    ) -> Result<Value, BrowserError> {
        self.cdp
            .send(Some(session), method, params)
            .await
            .map_err(|e| BrowserError::Frames(e.to_string()))
    }

    /// A new blank tab, attached and set up (paused until then); returns its session.
    async fn new_tab(&self, watched: bool) -> Result<String, BrowserError> {
        let created = self
            .browser("Target.createTarget", json!({"url": "about:blank"}))
            .await?;
        let target = created["targetId"]
            .as_str()
            .ok_or_else(|| BrowserError::Script("createTarget gave no target id".into()))?
            .to_owned();
        let deadline = Instant::now() + self.timeout;
        loop {
            let session = {
                let mut recorder = lock(&self.recorder);
                let session = recorder.ready_session_of(&target);
                if let Some(session) = &session {
                    recorder.set_watched(session, watched);
                }
                session
            };
            if let Some(session) = session {
                return Ok(session);
            }
            if Instant::now() >= deadline {
                return Err(BrowserError::Timeout(self.timeout, "a new tab".into()));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn wait_for_internals(&self) -> Result<(), BrowserError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let ready = self
                .send(
                    &self.internals,
                    "Runtime.evaluate",
                    json!({"expression": "typeof peerConnectionDataStore === 'object'", "returnByValue": true}),
                )
                .await
                .map(|r| r["result"]["value"] == Value::Bool(true))
                .unwrap_or(false);
            if ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(BrowserError::Timeout(self.timeout, WEBRTC_INTERNALS.into()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Opens `url` in a new watched tab and waits for its `load` event (or the timeout:
    /// a page that never finishes loading is still watched).
    pub async fn open(&self, url: &str) -> Result<Tab, BrowserError> {
        let session = self.new_tab(false).await?;
        // A first document of the same origin puts the tab in the renderer process the
        // page will use, with every domain already enabled there: the page's own first
        // requests are then never raced by a process swap.
        if let Some((scheme, rest)) = url.split_once("://") {
            let host = rest.split('/').next().unwrap_or_default();
            let warm = format!("{scheme}://{host}/r/blockheight");
            self.navigate(&session, &warm).await?;
        }
        lock(&self.recorder).set_watched(&session, true);
        lock(&self.recorder).mark_start();
        self.navigate(&session, url).await?;
        Ok(Tab { session })
    }

    /// Navigates and waits for the new document's `load` (or the timeout).
    async fn navigate(&self, session: &str, url: &str) -> Result<(), BrowserError> {
        lock(&self.recorder).unload(session);
        self.send(session, "Page.navigate", json!({"url": url}))
            .await?;
        let deadline = Instant::now() + self.timeout;
        while !lock(&self.recorder).loaded(session) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Chromium's WebRTC records so far (every RTCPeerConnection of every tab).
    pub async fn peer_connections(&self) -> Result<Vec<PeerConnection>, BrowserError> {
        let value = self
            .send(
                &self.internals,
                "Runtime.evaluate",
                json!({"expression": "JSON.stringify(peerConnectionDataStore)", "returnByValue": true}),
            )
            .await?;
        let text = value["result"]["value"].as_str().unwrap_or("{}");
        Ok(webrtc::parse_store(text))
    }

    /// Waits until some RTCPeerConnection is connected (its data channel opens with it),
    /// or `timeout` passes. Returns whether one did.
    pub async fn wait_for_connection(&self, timeout: Duration) -> Result<bool, BrowserError> {
        let deadline = Instant::now() + timeout;
        loop {
            if self
                .peer_connections()
                .await?
                .iter()
                .any(PeerConnection::connected)
            {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Acts as a person would in every frame of `tab` whose URL contains `frame_path`:
    /// types into each text field and presses Enter, clicks each button. Returns what
    /// was done, in words.
    pub async fn exercise(&self, tab: &Tab, frame_path: &str) -> Vec<String> {
        gesture::exercise(self, tab, frame_path).await
    }

    /// Every `<link>` in the documents of the watched frames now (read with the DOM
    /// domain), added to the record.
    pub async fn scan_links(&self) {
        let frames: Vec<Session> = self
            .sessions()
            .into_iter()
            .filter(|s| s.watched && matches!(s.kind, TargetKind::Page | TargetKind::Iframe))
            .collect();
        for frame in frames {
            let links = gesture::links(self, &frame.id).await;
            let mut recorder = lock(&self.recorder);
            for (rel, href) in links {
                recorder.link(LinkRecord {
                    rel,
                    href,
                    document: frame.url.clone(),
                });
            }
        }
    }

    /// Everything recorded so far (without the NetLog, which is read at [`Self::finish`]).
    pub fn snapshot(&self) -> Observation {
        lock(&self.recorder).observation()
    }

    pub(crate) fn sessions(&self) -> Vec<Session> {
        lock(&self.recorder).sessions()
    }

    /// Closes the browser, waits for it to exit and returns the whole record, NetLog
    /// included.
    pub async fn finish(mut self) -> Result<Observation, BrowserError> {
        let mut observation = self.snapshot();
        observation.peer_connections = self.peer_connections().await.unwrap_or_default();
        let _ = self.browser("Browser.close", json!({})).await;
        if tokio::time::timeout(self.timeout, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        self.consumer.abort();
        observation.network = netlog::read(&self.netlog).unwrap_or_default();
        drop(self.profile);
        Ok(observation)
    }
}

/// One watched tab.
pub struct Tab {
    pub(crate) session: String,
}

/// Handles events in wire order: records them, and sets up each new target before it runs.
async fn consume(
    cdp: Cdp,
    recorder: Arc<Mutex<Recorder>>,
    mut events: mpsc::UnboundedReceiver<Event>,
) {
    while let Some(event) = events.recv().await {
        if event.method == "Target.attachedToTarget" {
            let session = event.params["sessionId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let kind = event.params["targetInfo"]["type"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            lock(&recorder).attached(&event);
            tokio::spawn(prepare(cdp.clone(), recorder.clone(), session, kind));
            continue;
        }
        if event.method == "Page.javascriptDialogOpening" {
            // A dialog would stall the page; a visitor dismisses it.
            if let Some(session) = event.session.clone() {
                let cdp = cdp.clone();
                tokio::spawn(async move {
                    let _ = cdp
                        .send(
                            Some(&session),
                            "Page.handleJavaScriptDialog",
                            json!({"accept": false}),
                        )
                        .await;
                });
            }
        }
        lock(&recorder).event(&event);
    }
}

/// Enables every domain that reports what a target does, then lets it run.
async fn prepare(cdp: Cdp, recorder: Arc<Mutex<Recorder>>, session: String, kind: String) {
    let s = Some(session.as_str());
    let frame = kind == "page" || kind == "iframe";
    let mut steps: Vec<(&str, Value)> = Vec::new();
    if frame {
        steps.push(("Page.enable", json!({})));
        steps.push(("Audits.enable", json!({})));
    }
    steps.push(("Network.enable", json!({})));
    steps.push(("Runtime.enable", json!({})));
    steps.push(("Log.enable", json!({})));
    steps.push((
        "Target.setAutoAttach",
        json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
    ));
    steps.push(("Runtime.runIfWaitingForDebugger", json!({})));
    // A frame answers each command before it runs, and must have handled them all before
    // it navigates; a paused worker answers only once it runs, so its commands are posted
    // in order without waiting.
    let mut replies = Vec::new();
    for (method, params) in steps {
        if method == "Runtime.runIfWaitingForDebugger" {
            lock(&recorder).ready(&session);
        }
        match cdp.post(s, method, params).await {
            Ok(reply) if frame => {
                if let Err(e) = reply.await {
                    tracing::debug!("{kind} {session}: {method}: {e}");
                }
            }
            Ok(reply) => replies.push((method, reply)),
            Err(e) => tracing::debug!("{kind} {session}: {method}: {e}"),
        }
    }
    for (method, reply) in replies {
        if let Err(e) = reply.await {
            tracing::debug!("{kind} {session}: {method}: {e}");
        }
    }
}

/// The user agent of a desktop Chromium of the same major version (headless Chromium
/// says `HeadlessChrome`, which a page can test for).
async fn visitor_user_agent(executable: &std::path::Path) -> Option<String> {
    let output = Command::new(executable)
        .arg("--version")
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let major = text
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?
        .split('.')
        .next()?
        .to_owned();
    Some(format!(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{major}.0.0.0 Safari/537.36"
    ))
}
