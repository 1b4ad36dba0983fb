//! Headless Debian Firefox ESR over WebDriver BiDi, recording what a page does.
//!
//! `inject.js` is a preload script (`script.addPreloadScript`): Firefox runs it in
//! every new document of every tab and iframe before the document's own scripts. The
//! session subscribes once to `network.beforeRequestSent`, `network.fetchError` and
//! `log.entryAdded` for every context; the events of all tabs arrive on one connection
//! and are sorted to their tab by the context tree (`browsingContext.contextCreated`
//! names each context's parent). They are drained on demand, as in Chromium: after a
//! command's reply, every event Firefox sent before it is already queued.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::record::{merge_frames, READ_RECORD};
use super::{
    BrowserError, CspViolation, Install, LaunchOptions, PageReport, RequestRecord, ScriptError,
    Via, INJECT_JS,
};
use crate::bidi::Firefox;
use crate::cdp::{lock, Event};

const INSTALL: Install = Install {
    engine: "firefox",
    env: "FIREFOX",
    default: "/usr/bin/firefox-esr",
    names: &["firefox-esr", "firefox"],
    package: "firefox-esr",
};

/// Finds the Firefox binary: `$FIREFOX`, `/usr/bin/firefox-esr`, then `firefox-esr` or
/// `firefox` on `PATH`.
pub fn find_firefox() -> Result<PathBuf, BrowserError> {
    INSTALL.find()
}

/// `path` if given (it must be a file), else [`find_firefox`].
pub(super) fn executable(path: Option<&Path>) -> Result<PathBuf, BrowserError> {
    INSTALL.executable(path)
}

/// Events of the whole session, sorted by tab when drained.
struct Router {
    events: mpsc::UnboundedReceiver<Event>,
    /// Every context's parent (`None` for a tab).
    parents: HashMap<String, Option<String>>,
    /// The last URL each context was created or navigated at.
    urls: HashMap<String, String>,
    /// Network and log events by tab, in wire order, with their context.
    by_tab: HashMap<String, Vec<(String, Event)>>,
}

impl Router {
    fn tab_of(&self, context: &str) -> String {
        let mut at = context;
        // The tree is finite and acyclic (Firefox names parents that exist); the bound
        // only guards against a malformed stream.
        for _ in 0..64 {
            match self.parents.get(at) {
                Some(Some(parent)) => at = parent,
                _ => break,
            }
        }
        at.to_owned()
    }

    fn drain(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            let p = &event.params;
            match event.method.as_str() {
                "browsingContext.contextCreated" => {
                    let context = p["context"].as_str().unwrap_or_default().to_owned();
                    let parent = p["parent"].as_str().map(str::to_owned);
                    if let Some(url) = p["url"].as_str() {
                        self.urls.insert(context.clone(), url.to_owned());
                    }
                    self.parents.insert(context, parent);
                }
                "browsingContext.navigationStarted" => {
                    if let (Some(context), Some(url)) = (p["context"].as_str(), p["url"].as_str()) {
                        self.urls.insert(context.to_owned(), url.to_owned());
                    }
                }
                "log.entryAdded" | "network.beforeRequestSent" | "network.fetchError" => {
                    let context = p["context"]
                        .as_str()
                        .or_else(|| p["source"]["context"].as_str())
                        .unwrap_or_default()
                        .to_owned();
                    let tab = self.tab_of(&context);
                    self.by_tab.entry(tab).or_default().push((context, event));
                }
                _ => {}
            }
        }
    }
}

/// A running headless Firefox; killed when dropped.
pub(super) struct Browser {
    firefox: Arc<Firefox>,
    router: Arc<Mutex<Router>>,
}

impl Browser {
    /// Starts Firefox, subscribes to the events a report needs and installs `inject.js`.
    pub(super) async fn launch(options: LaunchOptions) -> Result<Self, BrowserError> {
        let (firefox, events) = Firefox::launch(&options).await?;
        firefox
            .send(
                "session.subscribe",
                json!({"events": [
                    "browsingContext.contextCreated",
                    "browsingContext.navigationStarted",
                    "network.beforeRequestSent",
                    "network.fetchError",
                    "log.entryAdded",
                ]}),
            )
            .await?;
        firefox
            .send(
                "script.addPreloadScript",
                json!({"functionDeclaration": format!("() => {{\n{INJECT_JS}\n}}")}),
            )
            .await?;
        let router = Router {
            events,
            parents: HashMap::new(),
            urls: HashMap::new(),
            by_tab: HashMap::new(),
        };
        Ok(Self {
            firefox: Arc::new(firefox),
            router: Arc::new(Mutex::new(router)),
        })
    }

    /// Opens a new tab and navigates it to `url`, waiting for `load`.
    pub(super) async fn open(&self, url: &str) -> Result<Page, BrowserError> {
        let created = self
            .firefox
            .send("browsingContext.create", json!({"type": "tab"}))
            .await?;
        let context = created["context"]
            .as_str()
            .ok_or_else(|| BrowserError::Script("browsingContext.create gave no context".into()))?
            .to_owned();
        let page = Page {
            firefox: self.firefox.clone(),
            router: self.router.clone(),
            context,
            url: url.to_owned(),
        };
        let timeout = self.firefox.timeout();
        let navigate = page.firefox.send(
            "browsingContext.navigate",
            json!({"context": page.context, "url": url, "wait": "complete"}),
        );
        tokio::time::timeout(timeout, navigate)
            .await
            .map_err(|_| BrowserError::Timeout(timeout, format!("loading {url}")))??;
        Ok(page)
    }

    /// Closes the browser and waits for the process to exit.
    pub(super) async fn close(self) -> Result<(), BrowserError> {
        self.firefox.close().await
    }

    /// Where its BiDi server listens.
    pub(super) fn control_address(&self) -> Option<std::net::SocketAddr> {
        self.firefox.address()
    }
}

/// One open Firefox tab.
pub(super) struct Page {
    firefox: Arc<Firefox>,
    router: Arc<Mutex<Router>>,
    context: String,
    url: String,
}

impl Page {
    pub(super) async fn eval(&self, js: &str) -> Result<Value, BrowserError> {
        self.eval_in(&self.context, js).await
    }

    async fn eval_in(&self, context: &str, js: &str) -> Result<Value, BrowserError> {
        let params = json!({
            "expression": js,
            "target": {"context": context},
            "awaitPromise": true,
            "resultOwnership": "none",
        });
        let result = self.firefox.send("script.evaluate", params).await?;
        if result["type"] == "exception" {
            let details = &result["exceptionDetails"];
            let text = details["text"].as_str().unwrap_or("exception");
            return Err(BrowserError::Script(text.to_owned()));
        }
        Ok(to_json(&result["result"]))
    }

    /// Every context of this tab, top first (depth first).
    async fn contexts(&self) -> Result<Vec<String>, BrowserError> {
        let tree = self
            .firefox
            .send("browsingContext.getTree", json!({"root": self.context}))
            .await?;
        let mut out = Vec::new();
        let mut stack: Vec<&Value> = tree["contexts"]
            .as_array()
            .map(|a| a.iter().rev().collect())
            .unwrap_or_default();
        while let Some(node) = stack.pop() {
            if let Some(id) = node["context"].as_str() {
                out.push(id.to_owned());
            }
            if let Some(children) = node["children"].as_array() {
                stack.extend(children.iter().rev());
            }
        }
        Ok(out)
    }

    pub(super) async fn eval_all_frames(
        &self,
        js: &str,
    ) -> Result<Vec<(String, Value)>, BrowserError> {
        let wrapped =
            format!("(async () => ({{url: String(location.href), value: await ({js})}}))()");
        let mut frames = Vec::new();
        for (i, context) in self.contexts().await?.iter().enumerate() {
            let value = match self.eval_in(context, &wrapped).await {
                Ok(value) => value,
                // The top frame's failure is the caller's; a sub-frame may be gone.
                Err(e) if i == 0 => return Err(e),
                Err(_) => continue,
            };
            frames.push((
                value["url"].as_str().unwrap_or_default().to_owned(),
                value["value"].clone(),
            ));
        }
        Ok(frames)
    }

    pub(super) async fn report(&self) -> Result<PageReport, BrowserError> {
        // A page that navigated to a document that does not answer (an error page, a
        // foreign origin) has no record left; the protocol's events still count.
        let frames = self.eval_all_frames(READ_RECORD).await.unwrap_or_default();
        let mut report = PageReport {
            url: self.url.clone(),
            ..PageReport::default()
        };
        {
            let mut router = lock(&self.router);
            router.drain();
            let events = router
                .by_tab
                .get(&self.context)
                .cloned()
                .unwrap_or_default();
            let mut failures: HashMap<String, String> = HashMap::new();
            for (context, event) in &events {
                let p = &event.params;
                match event.method.as_str() {
                    "network.beforeRequestSent" => {
                        let document = router.urls.get(context).cloned().unwrap_or_default();
                        report.requests.push(request(p, document));
                    }
                    "network.fetchError" => {
                        let id = p["request"]["request"].as_str().unwrap_or_default();
                        let text = p["errorText"].as_str().unwrap_or_default();
                        failures.insert(id.to_owned(), text.to_owned());
                    }
                    "log.entryAdded" => log_entry(&mut report, p),
                    _ => {}
                }
            }
            for record in &mut report.requests {
                record.error = failures.get(&record.request_id).cloned();
            }
        }
        merge_frames(&mut report, frames);
        Ok(report)
    }

    pub(super) async fn close(self) -> Result<(), BrowserError> {
        self.firefox
            .send("browsingContext.close", json!({"context": self.context}))
            .await?;
        Ok(())
    }
}

/// A request as CDP names its resource type, so reports read the same in both engines.
fn request(p: &Value, document_url: String) -> RequestRecord {
    let r = &p["request"];
    let kind = [&r["initiatorType"], &r["destination"]]
        .into_iter()
        .filter_map(Value::as_str)
        .find(|s| !s.is_empty())
        .map(|kind| match kind {
            "fetch" | "beacon" => "Fetch".to_owned(),
            "xmlhttprequest" => "XHR".to_owned(),
            "img" | "image" => "Image".to_owned(),
            "document" | "iframe" | "frame" => "Document".to_owned(),
            "websocket" => "WebSocket".to_owned(),
            "style" | "css" | "link" => "Stylesheet".to_owned(),
            other => {
                let mut chars = other.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_ascii_uppercase().to_string() + chars.as_str()
                })
            }
        });
    let initiator = &p["initiator"];
    let initiator_url = initiator["stackTrace"]["callFrames"][0]["url"]
        .as_str()
        .map(str::to_owned);
    RequestRecord {
        url: r["url"].as_str().unwrap_or_default().to_owned(),
        resource_type: kind,
        initiator: initiator["type"].as_str().unwrap_or("other").to_owned(),
        initiator_url,
        document_url,
        blocked_reason: None,
        error: None,
        request_id: r["request"].as_str().unwrap_or_default().to_owned(),
    }
}

/// `console.error` calls and uncaught exceptions from `log.entryAdded`.
fn log_entry(report: &mut PageReport, p: &Value) {
    let frame = &p["stackTrace"]["callFrames"][0];
    let error = ScriptError {
        message: p["text"].as_str().unwrap_or_default().to_owned(),
        source: frame["url"].as_str().map(str::to_owned),
        line: frame["lineNumber"].as_i64().map(|l| l + 1),
    };
    match (p["type"].as_str(), p["level"].as_str()) {
        (Some("console"), Some("error")) => report.console_errors.push(error),
        (Some("javascript"), _) if error.message.starts_with("Content-Security-Policy:") => {
            if let Some(violation) = csp_violation(&error) {
                report.csp_violations.push(violation);
            }
        }
        (Some("javascript"), Some("error")) => report.exceptions.push(error),
        _ => {}
    }
}

/// Firefox reports each CSP refusal as a console message: `Content-Security-Policy: The
/// page’s settings blocked the loading of a resource (connect-src) at ws://… because it
/// violates the following directive: …`. Reports (`report-only`) and other CSP notes
/// do not say `blocked … at`, and are left out.
fn csp_violation(error: &ScriptError) -> Option<CspViolation> {
    let text = &error.message;
    let blocked = text.find("blocked the loading of a resource")?;
    let rest = &text[blocked..];
    let directive = rest.split_once('(')?.1.split_once(')')?.0;
    let uri = rest.split_once(" at ")?.1;
    let uri = uri.split_once(" because").map_or(uri, |(u, _)| u);
    Some(CspViolation {
        directive: directive.to_owned(),
        blocked_uri: uri.trim().to_owned(),
        source: error.source.clone(),
        line: error.line,
        frame_url: None,
        via: Via::Bidi,
    })
}

/// A BiDi remote value as JSON (what CDP's `returnByValue` gives).
fn to_json(value: &Value) -> Value {
    let v = &value["value"];
    match value["type"].as_str().unwrap_or_default() {
        "string" | "boolean" => v.clone(),
        // NaN, ±Infinity and -0 come as strings; JSON has no NaN or Infinity.
        "number" => match v {
            Value::String(s) if s == "-0" => json!(0),
            Value::String(_) => Value::Null,
            other => other.clone(),
        },
        "bigint" => v.clone(),
        "array" | "set" => Value::Array(
            v.as_array()
                .map_or_else(Vec::new, |items| items.iter().map(to_json).collect()),
        ),
        "object" | "map" => {
            let mut out = serde_json::Map::new();
            for pair in v.as_array().into_iter().flatten() {
                let key = match &pair[0] {
                    Value::String(s) => s.clone(),
                    other => to_json(other).to_string(),
                };
                out.insert(key, to_json(&pair[1]));
            }
            Value::Object(out)
        }
        _ => Value::Null,
    }
}
