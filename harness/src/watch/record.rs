//! Turns the DevTools events of every watched target into an [`Observation`].

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::cdp::Event;

use super::netlog::NetworkLog;
use super::webrtc::PeerConnection;

/// What kind of target something happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// A tab or a popup window.
    Page,
    /// An out-of-process iframe.
    Iframe,
    /// A dedicated worker.
    Worker,
    /// A shared worker.
    SharedWorker,
    /// A service worker.
    ServiceWorker,
    /// Anything else Chromium reports (worklets, …).
    Other,
}

impl TargetKind {
    fn parse(kind: &str) -> Self {
        match kind {
            "page" => Self::Page,
            "iframe" => Self::Iframe,
            "worker" => Self::Worker,
            "shared_worker" => Self::SharedWorker,
            "service_worker" => Self::ServiceWorker,
            _ => Self::Other,
        }
    }

    /// How messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Iframe => "iframe",
            Self::Worker => "dedicated worker",
            Self::SharedWorker => "shared worker",
            Self::ServiceWorker => "service worker",
            Self::Other => "browser target",
        }
    }
}

/// Where an event happened: the target and its URL then.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Where {
    /// The target's kind.
    pub kind: TargetKind,
    /// The target's URL when the event happened.
    pub url: String,
    /// Whether the target is a window the page opened (`window.open`, a form target …).
    pub popup: bool,
}

/// One request any watched target made (`Network.requestWillBeSent`).
#[derive(Clone, Debug, Serialize)]
pub struct RequestRecord {
    /// Requested URL.
    pub url: String,
    /// HTTP method.
    pub method: String,
    /// Chromium's resource type (`Document`, `Script`, `Fetch`, `Ping`, `Prefetch`, …).
    pub resource_type: Option<String>,
    /// Script or document URL that caused it, when known.
    pub source: Option<String>,
    /// 1-based line of the cause, when known.
    pub line: Option<i64>,
    /// Where it was made.
    pub target: Where,
    /// Milliseconds since the page was opened.
    pub at_ms: u64,
    /// HTTP status of the response, if one came.
    pub status: Option<i64>,
    /// Why Chromium refused it before it left (`csp`, …), if it did.
    pub blocked_reason: Option<String>,
    /// The failure text, if loading failed.
    pub error: Option<String>,
}

/// A WebSocket or WebTransport the page created.
#[derive(Clone, Debug, Serialize)]
pub struct SocketRecord {
    /// `WebSocket` or `WebTransport`.
    pub api: String,
    /// Its URL.
    pub url: String,
    /// Script URL of the caller, when known.
    pub source: Option<String>,
    /// 1-based line of the caller, when known.
    pub line: Option<i64>,
    /// Where it was made.
    pub target: Where,
    /// Milliseconds since the page was opened.
    pub at_ms: u64,
}

/// A Content-Security-Policy refusal (`Audits.issueAdded`).
#[derive(Clone, Debug, Serialize)]
pub struct CspRecord {
    /// The directive that refused it.
    pub directive: String,
    /// The refused URL (or `inline`, `eval`, …).
    pub blocked: String,
    /// Script URL, when known.
    pub source: Option<String>,
    /// 1-based line, when known.
    pub line: Option<i64>,
    /// Where it happened.
    pub target: Where,
    /// Milliseconds since the page was opened.
    pub at_ms: u64,
}

/// An error the page or the browser reported about the page.
#[derive(Clone, Debug, Serialize)]
pub struct LogRecord {
    /// `exception`, `console.error`, or the browser's own message source (`security`,
    /// `network`, `javascript`, `other`, …).
    pub kind: String,
    /// The message.
    pub text: String,
    /// Script or resource URL, when known.
    pub source: Option<String>,
    /// 1-based line, when known.
    pub line: Option<i64>,
    /// Where it happened.
    pub target: Where,
    /// Milliseconds since the page was opened.
    pub at_ms: u64,
}

/// A `<link>` found in a watched document (`rel`, `href`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkRecord {
    /// Its `rel`.
    pub rel: String,
    /// Its `href`, as written.
    pub href: String,
    /// The document it was in.
    pub document: String,
}

/// A target that ran while the page was watched.
#[derive(Clone, Debug, Serialize)]
pub struct TargetRecord {
    /// Its kind.
    pub kind: TargetKind,
    /// Its last URL.
    pub url: String,
    /// Whether the page opened it as a new window.
    pub popup: bool,
}

/// Everything seen while a page was watched.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Observation {
    /// Every target that ran for the page (the page itself, iframes, workers, popups).
    pub targets: Vec<TargetRecord>,
    /// Every request, in order.
    pub requests: Vec<RequestRecord>,
    /// WebSockets and WebTransports.
    pub sockets: Vec<SocketRecord>,
    /// CSP refusals.
    pub csp: Vec<CspRecord>,
    /// Exceptions, console errors and the browser's error messages.
    pub logs: Vec<LogRecord>,
    /// `window.open` calls (`Page.windowOpen`), by URL, including blocked ones.
    pub window_opens: Vec<String>,
    /// `<link>` elements seen in the page's documents at the end of each watch.
    pub links: Vec<LinkRecord>,
    /// Chromium's record of every RTCPeerConnection.
    pub peer_connections: Vec<PeerConnection>,
    /// What the NetLog shows of WebRTC's datagrams and the page's connections.
    pub network: NetworkLog,
    /// What the check did as a visitor (typed, pressed, clicked).
    pub gestures: Vec<String>,
    /// Packets seen leaving for neither the server nor a relay (a visit in the check's
    /// own network namespace, [`super::packets`]).
    pub wire: Vec<super::packets::WireRecord>,
}

/// One attached target.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) target_id: String,
    pub(crate) kind: TargetKind,
    pub(crate) url: String,
    /// The session it was attached under (`None`: the browser).
    pub(crate) parent: Option<String>,
    pub(crate) popup: bool,
    pub(crate) watched: bool,
    ready: bool,
    loaded: bool,
}

pub(crate) struct Recorder {
    start: Instant,
    sessions: BTreeMap<String, Session>,
    observation: Observation,
    /// Requests by (session, request id): index into `observation.requests`.
    requests: BTreeMap<(String, String), usize>,
}

fn str_of(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The first call frame of a CDP stack trace: URL and 1-based line.
fn top_frame(stack: &Value) -> (Option<String>, Option<i64>) {
    let frame = &stack["callFrames"][0];
    (
        str_of(&frame["url"]),
        frame["lineNumber"].as_i64().map(|l| l + 1),
    )
}

impl Recorder {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            sessions: BTreeMap::new(),
            observation: Observation::default(),
            requests: BTreeMap::new(),
        }
    }

    /// Times count from here (the page's navigation).
    pub(crate) fn mark_start(&mut self) {
        self.start = Instant::now();
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub(crate) fn attached(&mut self, event: &Event) {
        let info = &event.params["targetInfo"];
        let id = event.params["sessionId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let target_id = info["targetId"].as_str().unwrap_or_default().to_owned();
        let kind = TargetKind::parse(info["type"].as_str().unwrap_or_default());
        let opener = info["openerId"].as_str().unwrap_or_default();
        let parent_watched = event
            .session
            .as_ref()
            .and_then(|s| self.sessions.get(s))
            .is_some_and(|s| s.watched);
        let opener_watched = !opener.is_empty()
            && self
                .sessions
                .values()
                .any(|s| s.target_id == opener && s.watched);
        let watched = parent_watched
            || opener_watched
            || matches!(kind, TargetKind::ServiceWorker | TargetKind::SharedWorker);
        self.sessions.insert(
            id.clone(),
            Session {
                id,
                target_id,
                kind,
                url: info["url"].as_str().unwrap_or_default().to_owned(),
                parent: event.session.clone(),
                popup: opener_watched,
                watched,
                ready: false,
                loaded: false,
            },
        );
    }

    pub(crate) fn ready(&mut self, session: &str) {
        if let Some(s) = self.sessions.get_mut(session) {
            s.ready = true;
        }
    }

    pub(crate) fn ready_session_of(&self, target: &str) -> Option<String> {
        self.sessions
            .values()
            .find(|s| s.target_id == target && s.ready)
            .map(|s| s.id.clone())
    }

    pub(crate) fn set_watched(&mut self, session: &str, watched: bool) {
        if let Some(s) = self.sessions.get_mut(session) {
            s.watched = watched;
        }
    }

    pub(crate) fn unload(&mut self, session: &str) {
        if let Some(s) = self.sessions.get_mut(session) {
            s.loaded = false;
        }
    }

    pub(crate) fn loaded(&self, session: &str) -> bool {
        self.sessions.get(session).is_some_and(|s| s.loaded)
    }

    pub(crate) fn sessions(&self) -> Vec<Session> {
        self.sessions.values().cloned().collect()
    }

    pub(crate) fn observation(&self) -> Observation {
        let mut observation = self.observation.clone();
        observation.targets = self
            .sessions
            .values()
            .filter(|s| s.watched)
            .map(|s| TargetRecord {
                kind: s.kind,
                url: s.url.clone(),
                popup: s.popup,
            })
            .collect();
        observation
    }

    pub(crate) fn link(&mut self, link: LinkRecord) {
        if !self.observation.links.contains(&link) {
            self.observation.links.push(link);
        }
    }

    fn place(&self, session: &Session) -> Where {
        Where {
            kind: session.kind,
            url: session.url.clone(),
            popup: session.popup,
        }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        if event.method == "Target.targetInfoChanged" {
            let info = &event.params["targetInfo"];
            let target = info["targetId"].as_str().unwrap_or_default();
            for s in self.sessions.values_mut() {
                if s.target_id == target {
                    s.url = info["url"].as_str().unwrap_or_default().to_owned();
                }
            }
            return;
        }
        let Some(session) = event.session.as_ref().and_then(|s| self.sessions.get(s)) else {
            return;
        };
        if event.method == "Page.loadEventFired" {
            let id = session.id.clone();
            if let Some(s) = self.sessions.get_mut(&id) {
                s.loaded = true;
            }
            return;
        }
        if event.method == "Page.frameNavigated" && event.params["frame"]["parentId"].is_null() {
            let id = session.id.clone();
            let url = event.params["frame"]["url"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if let Some(s) = self.sessions.get_mut(&id) {
                s.url = url;
            }
            return;
        }
        if !session.watched {
            return;
        }
        let session = session.clone();
        let place = self.place(&session);
        let at_ms = self.now();
        let p = &event.params;
        match event.method.as_str() {
            "Network.requestWillBeSent" => {
                let initiator = &p["initiator"];
                let (mut source, mut line) = top_frame(&initiator["stack"]);
                if source.is_none() {
                    source = str_of(&initiator["url"]);
                    line = initiator["lineNumber"].as_i64().map(|l| l + 1);
                }
                let record = RequestRecord {
                    url: p["request"]["url"].as_str().unwrap_or_default().to_owned(),
                    method: p["request"]["method"].as_str().unwrap_or("GET").to_owned(),
                    resource_type: str_of(&p["type"]),
                    source,
                    line,
                    target: place,
                    at_ms,
                    status: None,
                    blocked_reason: None,
                    error: None,
                };
                let key = (
                    session.id.clone(),
                    p["requestId"].as_str().unwrap_or_default().to_owned(),
                );
                self.requests.insert(key, self.observation.requests.len());
                self.observation.requests.push(record);
            }
            "Network.responseReceived" => {
                if let Some(record) = self.request_mut(&session.id, p) {
                    record.status = p["response"]["status"].as_i64();
                }
            }
            "Network.loadingFailed" => {
                if let Some(record) = self.request_mut(&session.id, p) {
                    record.blocked_reason = str_of(&p["blockedReason"]);
                    record.error = str_of(&p["errorText"]);
                }
            }
            "Network.webSocketCreated" | "Network.webTransportCreated" => {
                let (source, line) = top_frame(&p["initiator"]["stack"]);
                let api = if event.method.ends_with("webSocketCreated") {
                    "WebSocket"
                } else {
                    "WebTransport"
                };
                self.observation.sockets.push(SocketRecord {
                    api: api.into(),
                    url: p["url"].as_str().unwrap_or_default().to_owned(),
                    source,
                    line,
                    target: place,
                    at_ms,
                });
            }
            "Audits.issueAdded" => {
                let csp = &p["issue"]["details"]["contentSecurityPolicyIssueDetails"];
                if csp.is_null() {
                    return;
                }
                let location = &csp["sourceCodeLocation"];
                self.observation.csp.push(CspRecord {
                    directive: csp["violatedDirective"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    blocked: str_of(&csp["blockedURL"])
                        .or_else(|| str_of(&csp["contentSecurityPolicyViolationType"]))
                        .unwrap_or_default(),
                    source: str_of(&location["url"]),
                    line: location["lineNumber"].as_i64().map(|l| l + 1),
                    target: place,
                    at_ms,
                });
            }
            "Runtime.exceptionThrown" => {
                let d = &p["exceptionDetails"];
                let text = str_of(&d["exception"]["description"])
                    .or_else(|| str_of(&d["text"]))
                    .unwrap_or_default();
                self.observation.logs.push(LogRecord {
                    kind: "exception".into(),
                    text,
                    source: str_of(&d["url"]),
                    line: d["lineNumber"].as_i64().map(|l| l + 1),
                    target: place,
                    at_ms,
                });
            }
            "Runtime.consoleAPICalled" => {
                if p["type"] != "error" && p["type"] != "assert" {
                    return;
                }
                let text = p["args"]
                    .as_array()
                    .map(|args| args.iter().map(describe).collect::<Vec<_>>().join(" "))
                    .unwrap_or_default();
                let (source, line) = top_frame(&p["stackTrace"]);
                self.observation.logs.push(LogRecord {
                    kind: "console.error".into(),
                    text,
                    source,
                    line,
                    target: place,
                    at_ms,
                });
            }
            "Log.entryAdded" => {
                let entry = &p["entry"];
                if entry["level"] != "error" {
                    return;
                }
                self.observation.logs.push(LogRecord {
                    kind: entry["source"].as_str().unwrap_or("other").to_owned(),
                    text: entry["text"].as_str().unwrap_or_default().to_owned(),
                    source: str_of(&entry["url"]),
                    line: entry["lineNumber"].as_i64().map(|l| l + 1),
                    target: place,
                    at_ms,
                });
            }
            "Page.windowOpen" => {
                self.observation
                    .window_opens
                    .push(p["url"].as_str().unwrap_or_default().to_owned());
            }
            _ => {}
        }
    }

    fn request_mut(&mut self, session: &str, p: &Value) -> Option<&mut RequestRecord> {
        let key = (
            session.to_owned(),
            p["requestId"].as_str().unwrap_or_default().to_owned(),
        );
        let index = *self.requests.get(&key)?;
        self.observation.requests.get_mut(index)
    }
}

/// A console argument in words.
fn describe(arg: &Value) -> String {
    match (&arg["value"], &arg["description"]) {
        (Value::String(s), _) => s.clone(),
        (Value::Null, Value::String(d)) => d.clone(),
        (Value::Null, _) => arg["type"].as_str().unwrap_or_default().to_owned(),
        (v, _) => v.to_string(),
    }
}
