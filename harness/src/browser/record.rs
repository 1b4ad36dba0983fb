//! Collects CDP events for one Chromium tab and merges them with each frame's injected
//! record (the merge serves Firefox too).
//!
//! Event streams are drained on demand rather than by background tasks: after a
//! CDP command returns, every event Chromium sent before its response is already
//! queued (chromiumoxide's handler dispatches in wire order), so a report taken
//! after an evaluation round trip misses nothing that happened before it.

use std::collections::BTreeMap;

use chromiumoxide::cdp::browser_protocol::audits::EventIssueAdded;
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventRequestWillBeSent, EventWebSocketCreated,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
    EventExecutionContextCreated, EventExecutionContextDestroyed, ExecutionContextId, RemoteObject,
};
use chromiumoxide::cdp::IntoEventKind;
use chromiumoxide::listeners::EventStream;
use chromiumoxide::Page as CdpPage;
use futures_util::{FutureExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::frames::RawEvent;
use super::report::{
    CspViolation, DataChannelRecord, PageReport, PeerConnectionRecord, RequestRecord, ScriptError,
    SocketAttempt, Via,
};
use super::BrowserError;

/// Evaluated in each frame by [`super::Page::report`], in either engine.
pub(super) const READ_RECORD: &str = "JSON.stringify({url: String(location.href), events: (globalThis.__lumamesh ? globalThis.__lumamesh.events : null)})";

/// One frame's `__lumamesh` record.
#[derive(Deserialize)]
struct FrameRecord {
    url: String,
    events: Vec<serde_json::Value>,
}

struct Streams {
    requests: EventStream<EventRequestWillBeSent>,
    failures: EventStream<EventLoadingFailed>,
    sockets: EventStream<EventWebSocketCreated>,
    issues: EventStream<EventIssueAdded>,
    console: EventStream<EventConsoleApiCalled>,
    exceptions: EventStream<EventExceptionThrown>,
    created: EventStream<EventExecutionContextCreated>,
    destroyed: EventStream<EventExecutionContextDestroyed>,
}

pub(super) struct Recorder {
    streams: Streams,
    /// Events of out-of-process iframes (see `frames.rs`).
    raw: mpsc::UnboundedReceiver<RawEvent>,
    report: PageReport,
    /// Default (main-world) execution contexts by unique id: top frame and iframes.
    contexts: BTreeMap<String, ExecutionContextId>,
    /// `Network.loadingFailed` by request id: (blocked reason, error text).
    failures: BTreeMap<String, (Option<String>, String)>,
}

fn drain<T: IntoEventKind + Unpin>(stream: &mut EventStream<T>, mut f: impl FnMut(&T)) {
    while let Some(Some(event)) = stream.next().now_or_never() {
        f(&event);
    }
}

fn describe(arg: &RemoteObject) -> String {
    match (&arg.value, &arg.description) {
        (Some(serde_json::Value::String(s)), _) => s.clone(),
        (Some(v), _) => v.to_string(),
        (None, Some(d)) => d.clone(),
        (None, None) => arg.r#type.as_ref().to_owned(),
    }
}

impl Recorder {
    /// Subscribes to the tab's events; call before enabling domains and navigating.
    pub(super) async fn attach(
        page: &CdpPage,
        url: &str,
        raw: mpsc::UnboundedReceiver<RawEvent>,
    ) -> Result<Self, BrowserError> {
        let streams = Streams {
            requests: page.event_listener().await?,
            failures: page.event_listener().await?,
            sockets: page.event_listener().await?,
            issues: page.event_listener().await?,
            console: page.event_listener().await?,
            exceptions: page.event_listener().await?,
            created: page.event_listener().await?,
            destroyed: page.event_listener().await?,
        };
        Ok(Self {
            streams,
            raw,
            report: PageReport {
                url: url.to_owned(),
                ..PageReport::default()
            },
            contexts: BTreeMap::new(),
            failures: BTreeMap::new(),
        })
    }

    /// Moves every queued CDP event into the records.
    fn drain(&mut self) {
        let Self {
            streams,
            raw,
            report,
            contexts,
            failures,
        } = self;
        drain(&mut streams.requests, |ev| on_request(report, ev));
        drain(&mut streams.failures, |ev| on_failure(failures, ev));
        drain(&mut streams.sockets, |ev| on_socket(report, ev));
        drain(&mut streams.issues, |ev| on_issue(report, ev));
        drain(&mut streams.console, |ev| on_console(report, ev));
        drain(&mut streams.exceptions, |ev| on_exception(report, ev));
        // Out-of-process iframes, from the second connection.
        while let Ok((method, params)) = raw.try_recv() {
            fn typed<T: serde::de::DeserializeOwned>(params: serde_json::Value) -> Option<T> {
                serde_json::from_value(params).ok()
            }
            match method.as_str() {
                "Network.requestWillBeSent" => typed(params).map(|ev| on_request(report, &ev)),
                "Network.loadingFailed" => typed(params).map(|ev| on_failure(failures, &ev)),
                "Network.webSocketCreated" => typed(params).map(|ev| on_socket(report, &ev)),
                "Audits.issueAdded" => typed(params).map(|ev| on_issue(report, &ev)),
                "Runtime.consoleAPICalled" => typed(params).map(|ev| on_console(report, &ev)),
                "Runtime.exceptionThrown" => typed(params).map(|ev| on_exception(report, &ev)),
                _ => None,
            };
        }
        // Unique ids are never reused, so the order between these two streams
        // does not matter; a context gone without an event fails to evaluate
        // and is forgotten then.
        drain(&mut streams.created, |ev| {
            let is_default = ev
                .context
                .aux_data
                .as_ref()
                .and_then(|a| a.get("isDefault"))
                .and_then(|d| d.as_bool())
                .unwrap_or(false);
            if is_default {
                contexts.insert(ev.context.unique_id.clone(), ev.context.id);
            }
        });
        drain(&mut streams.destroyed, |ev| {
            contexts.remove(&ev.execution_context_unique_id);
        });
    }

    /// Main-world contexts known now.
    pub(super) fn contexts(&mut self) -> Vec<ExecutionContextId> {
        self.drain();
        self.contexts.values().cloned().collect()
    }

    pub(super) fn forget_context(&mut self, context: &ExecutionContextId) {
        self.contexts.retain(|_, c| c != context);
    }

    /// The CDP records joined with the frames' `READ_RECORD` results.
    pub(super) fn report(&mut self, frames: Vec<(String, serde_json::Value)>) -> PageReport {
        self.drain();
        let mut report = self.report.clone();
        for request in &mut report.requests {
            if let Some((blocked, error)) = self.failures.get(&request.request_id) {
                request.blocked_reason = blocked.clone();
                request.error = Some(error.clone());
            }
        }
        merge_frames(&mut report, frames);
        report
    }
}

/// Adds each frame's `READ_RECORD` result (either engine) to `report`.
pub(super) fn merge_frames(report: &mut PageReport, frames: Vec<(String, serde_json::Value)>) {
    for (_, value) in frames {
        let Some(text) = value.as_str() else { continue };
        let Ok(record) = serde_json::from_str::<FrameRecord>(text) else {
            continue;
        };
        merge_frame(report, record);
    }
    attribute_violations(report);
}

fn on_request(report: &mut PageReport, ev: &EventRequestWillBeSent) {
    report.requests.push(RequestRecord {
        url: ev.request.url.clone(),
        resource_type: ev.r#type.as_ref().map(|t| t.as_ref().to_owned()),
        initiator: ev.initiator.r#type.as_ref().to_owned(),
        initiator_url: ev.initiator.url.clone().or_else(|| {
            ev.initiator
                .stack
                .as_ref()
                .and_then(|s| s.call_frames.first())
                .map(|f| f.url.clone())
        }),
        document_url: ev.document_url.clone(),
        blocked_reason: None,
        error: None,
        request_id: ev.request_id.inner().clone(),
    })
}

fn on_failure(failures: &mut BTreeMap<String, (Option<String>, String)>, ev: &EventLoadingFailed) {
    let failure = (
        ev.blocked_reason.as_ref().map(|r| r.as_ref().to_owned()),
        ev.error_text.clone(),
    );
    failures.insert(ev.request_id.inner().clone(), failure);
}

fn on_socket(report: &mut PageReport, ev: &EventWebSocketCreated) {
    let frame = ev
        .initiator
        .as_ref()
        .and_then(|i| i.stack.as_ref())
        .and_then(|s| s.call_frames.first());
    report.websockets.push(SocketAttempt {
        url: ev.url.clone(),
        source: frame.map(|f| f.url.clone()),
        line: frame.map(|f| f.line_number + 1),
        frame_url: None,
        via: Via::Cdp,
    });
}

fn on_issue(report: &mut PageReport, ev: &EventIssueAdded) {
    let Some(csp) = &ev.issue.details.content_security_policy_issue_details else {
        return;
    };
    let location = csp.source_code_location.as_ref();
    report.csp_violations.push(CspViolation {
        directive: csp.violated_directive.clone(),
        blocked_uri: csp.blocked_url.clone().unwrap_or_else(|| {
            csp.content_security_policy_violation_type
                .as_ref()
                .to_owned()
        }),
        source: location.map(|l| l.url.clone()),
        line: location.map(|l| l.line_number + 1),
        frame_url: None,
        via: Via::Cdp,
    });
}

fn on_console(report: &mut PageReport, ev: &EventConsoleApiCalled) {
    if ev.r#type != ConsoleApiCalledType::Error {
        return;
    }
    let frame = ev.stack_trace.as_ref().and_then(|s| s.call_frames.first());
    report.console_errors.push(ScriptError {
        message: ev.args.iter().map(describe).collect::<Vec<_>>().join(" "),
        source: frame.map(|f| f.url.clone()),
        line: frame.map(|f| f.line_number + 1),
    });
}

fn on_exception(report: &mut PageReport, ev: &EventExceptionThrown) {
    let d = &ev.exception_details;
    report.exceptions.push(ScriptError {
        message: d
            .exception
            .as_ref()
            .and_then(|e| e.description.clone())
            .unwrap_or_else(|| d.text.clone()),
        source: d.url.clone(),
        line: Some(d.line_number + 1),
    });
}

fn merge_frame(report: &mut PageReport, record: FrameRecord) {
    let frame_url = record.url;
    report.frames.push(frame_url.clone());
    let str_of = |e: &serde_json::Value, k: &str| e[k].as_str().map(str::to_owned);
    let int_of = |e: &serde_json::Value, k: &str| e[k].as_i64();
    let mut pcs: BTreeMap<i64, PeerConnectionRecord> = BTreeMap::new();
    let mut dcs: BTreeMap<i64, DataChannelRecord> = BTreeMap::new();
    for e in &record.events {
        match e["kind"].as_str().unwrap_or_default() {
            "csp" => report.csp_violations.push(CspViolation {
                directive: str_of(e, "directive").unwrap_or_default(),
                blocked_uri: str_of(e, "blockedURI").unwrap_or_default(),
                source: str_of(e, "source"),
                line: int_of(e, "line"),
                frame_url: Some(frame_url.clone()),
                via: Via::Js,
            }),
            kind @ ("WebSocket" | "EventSource") => {
                let attempt = SocketAttempt {
                    url: str_of(e, "url").unwrap_or_default(),
                    source: str_of(e, "source"),
                    line: int_of(e, "line"),
                    frame_url: Some(frame_url.clone()),
                    via: Via::Js,
                };
                if kind == "WebSocket" {
                    report.websockets.push(attempt);
                } else {
                    report.event_sources.push(attempt);
                }
            }
            "peerconnection" | "ice" | "candidate" | "local" => {
                let pc = int_of(e, "pc").unwrap_or(-1);
                let record = pcs.entry(pc).or_insert_with(|| PeerConnectionRecord {
                    frame_url: frame_url.clone(),
                    pc,
                    states: Vec::new(),
                    ice_states: Vec::new(),
                    ice_servers: Vec::new(),
                    remote_candidates: Vec::new(),
                    local_ports: Vec::new(),
                });
                let port = e["port"].as_u64().and_then(|p| u16::try_from(p).ok());
                if e["kind"] == "local" {
                    record.local_ports.extend(port);
                    continue;
                }
                if e["kind"] == "candidate" {
                    let candidate = (str_of(e, "protocol"), str_of(e, "address"), port);
                    if let (Some(protocol), Some(address), Some(port)) = candidate {
                        record.remote_candidates.push((protocol, address, port));
                    }
                    continue;
                }
                if let Some(servers) = e["iceServers"].as_array() {
                    record
                        .ice_servers
                        .extend(servers.iter().filter_map(|s| s.as_str().map(str::to_owned)));
                }
                let state = str_of(e, "state").unwrap_or_default();
                let states = if e["kind"] == "ice" {
                    &mut record.ice_states
                } else {
                    &mut record.states
                };
                if states.last() != Some(&state) {
                    states.push(state);
                }
            }
            "open" => report
                .window_opens
                .push(str_of(e, "url").unwrap_or_default()),
            "datachannel" => {
                let dc = int_of(e, "dc").unwrap_or(-1);
                let record = dcs.entry(dc).or_insert_with(|| DataChannelRecord {
                    frame_url: frame_url.clone(),
                    pc: int_of(e, "pc").unwrap_or(-1),
                    label: str_of(e, "label").unwrap_or_default(),
                    states: Vec::new(),
                });
                let state = str_of(e, "state").unwrap_or_default();
                if record.states.last() != Some(&state) {
                    record.states.push(state);
                }
            }
            _ => {}
        }
    }
    report.peer_connections.extend(pcs.into_values());
    report.data_channels.extend(dcs.into_values());
}

/// A violation raised inside a wrapped constructor points into the injected
/// script, which has no URL: credit it to the page line that called the wrapper.
fn attribute_violations(report: &mut PageReport) {
    let attempts: Vec<SocketAttempt> = report
        .websockets
        .iter()
        .chain(&report.event_sources)
        .filter(|a| a.via == Via::Js)
        .cloned()
        .collect();
    for violation in &mut report.csp_violations {
        if violation.source.as_deref().is_some_and(|s| !s.is_empty()) {
            continue;
        }
        let caller = attempts.iter().find(|a| {
            a.url == violation.blocked_uri
                && (violation.frame_url.is_none() || violation.frame_url == a.frame_url)
        });
        violation.source = caller.and_then(|a| a.source.clone());
        violation.line = caller.and_then(|a| a.line);
    }
}
