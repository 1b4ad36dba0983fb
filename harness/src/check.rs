//! One-call page check: serve a page under ord's headers, load it top-level and
//! inside an explorer's sandboxed iframe, wait for a DataChannel, and say in plain
//! words what the page did that would break on chain.

use std::time::Duration;

use serde::Serialize;

use crate::browser::{Browser, BrowserError, LaunchOptions, PageReport, Via};
use crate::server::{ContentServer, Inscription, ServerConfig, ServerError, Store};
use crate::InscriptionId;

/// The id the checked page is served under (`/content/<PAGE_ID>`).
pub const PAGE_ID: &str = "1111111111111111111111111111111111111111111111111111111111111111i0";

/// Check settings.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// How long to wait, per context, for a DataChannel to open.
    pub timeout: Duration,
    /// Whether a page that never opens a DataChannel fails the check.
    pub require_data_channel: bool,
    /// Content server settings (CSP origin, fake chain).
    pub server: ServerConfig,
    /// Browser settings.
    pub launch: LaunchOptions,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            require_data_channel: true,
            server: ServerConfig::default(),
            launch: LaunchOptions::default(),
        }
    }
}

/// Why the check could not run (as opposed to the page failing it).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The content server did not start.
    #[error("content server")]
    Server(#[from] ServerError),
    /// The browser failed.
    #[error("browser")]
    Browser(#[from] BrowserError),
}

/// How the page was loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadContext {
    /// `/content/<id>` as the top document.
    TopLevel,
    /// `/preview/<id>` inside `<iframe sandbox=allow-scripts>` (opaque origin).
    SandboxedIframe,
}

/// One thing the page did that fails on chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The API or mechanism (`WebSocket`, `EventSource`, `fetch/XHR`, `script`, `request`, …).
    pub api: String,
    /// The URL involved, if any.
    pub url: Option<String>,
    /// Script URL where it happened, if known.
    pub source: Option<String>,
    /// 1-based line, if known.
    pub line: Option<i64>,
    /// A sentence for people.
    pub message: String,
}

/// The outcome in one load context.
#[derive(Clone, Debug, Serialize)]
pub struct ContextVerdict {
    /// How the page was loaded.
    pub context: LoadContext,
    /// The URL the browser opened.
    pub url: String,
    /// Whether a DataChannel reached `open`.
    pub data_channel_opened: bool,
    /// What went wrong, in plain words.
    pub problems: Vec<Problem>,
    /// Everything recorded.
    pub report: PageReport,
}

/// The overall outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// True when no context has problems.
    pub ok: bool,
    /// One entry per load context.
    pub contexts: Vec<ContextVerdict>,
}

/// Serves `page` (HTML) plus `extra` inscriptions, launches a browser and checks
/// the page top-level and in a sandboxed iframe.
pub async fn check(
    page: &[u8],
    extra: Vec<(InscriptionId, Inscription)>,
    options: &CheckOptions,
) -> Result<Verdict, CheckError> {
    let browser = Browser::launch(options.launch.clone()).await?;
    let verdict = check_with_browser(&browser, page, extra, options).await;
    let _ = browser.close().await;
    verdict
}

/// Like [`check`] with an already running browser.
pub async fn check_with_browser(
    browser: &Browser,
    page: &[u8],
    extra: Vec<(InscriptionId, Inscription)>,
    options: &CheckOptions,
) -> Result<Verdict, CheckError> {
    // PAGE_ID is a valid id literal.
    let id: InscriptionId = PAGE_ID.parse().expect("PAGE_ID parses");
    let mut store = Store::new();
    store.insert(
        id,
        Inscription::new("text/html;charset=utf-8", page.to_vec()),
    );
    for (extra_id, inscription) in extra {
        store.insert(extra_id, inscription);
    }
    check_stored(browser, store, id, options).await
}

/// Like [`check_with_browser`] for a page already in `store` (a reveal's, say): serves the
/// whole store and checks `/content/<id>` and `/explorer/<id>`.
pub async fn check_stored(
    browser: &Browser,
    store: Store,
    id: InscriptionId,
    options: &CheckOptions,
) -> Result<Verdict, CheckError> {
    let server = ContentServer::start(store, options.server.clone()).await?;
    let mut contexts = Vec::new();
    for (context, url) in [
        (LoadContext::TopLevel, server.content_url(&id)),
        (LoadContext::SandboxedIframe, server.explorer_url(&id)),
    ] {
        let tab = browser.open(&url).await?;
        let opened = tab.wait_for_data_channel_open(options.timeout).await;
        let report = tab.report().await?;
        let _ = tab.close().await;
        let data_channel_opened = opened.is_ok() && report.data_channel_opened();
        let mut problems = problems(&report, server.origin());
        if options.require_data_channel && !data_channel_opened {
            problems.push(Problem {
                api: "RTCDataChannel".into(),
                url: None,
                source: None,
                line: None,
                message: format!(
                    "no DataChannel opened within {:?} ({})",
                    options.timeout,
                    channel_summary(&report)
                ),
            });
        }
        contexts.push(ContextVerdict {
            context,
            url,
            data_channel_opened,
            problems,
            report,
        });
    }
    Ok(Verdict {
        ok: contexts.iter().all(|c| c.problems.is_empty()),
        contexts,
    })
}

fn channel_summary(report: &PageReport) -> String {
    if report.peer_connections.is_empty() {
        return "no RTCPeerConnection was created".into();
    }
    report
        .peer_connections
        .iter()
        .map(|pc| format!("RTCPeerConnection {} went {}", pc.pc, pc.states.join(" → ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn at(source: &Option<String>, line: Option<i64>) -> String {
    match (source, line) {
        (Some(source), Some(line)) if !source.is_empty() => format!(" at {source}:{line}"),
        (_, Some(line)) if line > 0 => format!(" at line {line}"),
        _ => String::new(),
    }
}

/// Turns a report into problems, one per distinct event.
pub fn problems(report: &PageReport, origin: &str) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::new();
    fn push(out: &mut Vec<Problem>, p: Problem) {
        let seen = out
            .iter()
            .any(|q| q.api == p.api && q.url == p.url && (q.line == p.line || p.line.is_none()));
        if !seen {
            out.push(p);
        }
    }
    for attempt in report.websockets.iter().filter(|a| a.via == Via::Js) {
        push(
            &mut out,
            Problem {
                api: "WebSocket".into(),
                url: Some(attempt.url.clone()),
                source: attempt.source.clone(),
                line: attempt.line,
                message: format!(
                    "opens a WebSocket to {}{}; ord's CSP refuses it (use RTCPeerConnection)",
                    attempt.url,
                    at(&attempt.source, attempt.line)
                ),
            },
        );
    }
    for attempt in &report.event_sources {
        push(
            &mut out,
            Problem {
                api: "EventSource".into(),
                url: Some(attempt.url.clone()),
                source: attempt.source.clone(),
                line: attempt.line,
                message: format!(
                    "opens an EventSource to {}{}; ord's CSP refuses it",
                    attempt.url,
                    at(&attempt.source, attempt.line)
                ),
            },
        );
    }
    // JS records carry lines; CDP ones fill in what JS could not see.
    let mut violations: Vec<_> = report.csp_violations.iter().collect();
    violations.sort_by_key(|v| v.via != Via::Js);
    for v in violations {
        let api = match v.directive.as_str() {
            d if d.starts_with("connect-src") => "fetch/XHR/WebSocket",
            d if d.starts_with("script-src") => "script",
            d if d.starts_with("style-src") => "style",
            d if d.starts_with("img-src") => "image",
            d if d.starts_with("frame-src") || d.starts_with("child-src") => "frame",
            d if d.starts_with("font-src") => "font",
            d if d.starts_with("media-src") => "media",
            _ => "resource",
        };
        let url = Some(v.blocked_uri.clone());
        if out
            .iter()
            .any(|q| q.url == url && q.api == "WebSocket" && api.contains("WebSocket"))
        {
            continue;
        }
        push(
            &mut out,
            Problem {
                api: api.into(),
                url,
                source: v.source.clone(),
                line: v.line,
                message: format!(
                    "loads {} ({api}){}; ord's CSP refuses it ({})",
                    v.blocked_uri,
                    at(&v.source, v.line),
                    v.directive
                ),
            },
        );
    }
    for request in report.foreign_requests(origin) {
        if request.blocked_reason.is_some()
            && out.iter().any(|p| p.url.as_ref() == Some(&request.url))
        {
            continue;
        }
        push(
            &mut out,
            Problem {
                api: "request".into(),
                url: Some(request.url.clone()),
                source: request.initiator_url.clone(),
                line: None,
                message: format!(
                    "requests {} ({}), outside the inscription server{}",
                    request.url,
                    request.resource_type.as_deref().unwrap_or("unknown type"),
                    match &request.blocked_reason {
                        Some(reason) => format!("; blocked ({reason})"),
                        None => String::new(),
                    }
                ),
            },
        );
    }
    for e in &report.exceptions {
        push(
            &mut out,
            Problem {
                api: "exception".into(),
                url: None,
                source: e.source.clone(),
                line: e.line,
                message: format!("throws {}{}", e.message, at(&e.source, e.line)),
            },
        );
    }
    for e in &report.console_errors {
        push(
            &mut out,
            Problem {
                api: "console.error".into(),
                url: None,
                source: e.source.clone(),
                line: e.line,
                message: format!("logs an error: {}{}", e.message, at(&e.source, e.line)),
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::problems;
    use crate::browser::{CspViolation, PageReport, RequestRecord, SocketAttempt, Via};

    const ORIGIN: &str = "http://127.0.0.1:1";

    fn violation(uri: &str, directive: &str, via: Via) -> CspViolation {
        CspViolation {
            directive: directive.into(),
            blocked_uri: uri.into(),
            source: Some(format!("{ORIGIN}/content/x")),
            line: Some(3),
            frame_url: None,
            via,
        }
    }

    #[test]
    fn one_problem_per_event_in_plain_words() {
        let report = PageReport {
            websockets: vec![SocketAttempt {
                url: "ws://127.0.0.2:9/".into(),
                source: Some(format!("{ORIGIN}/content/x")),
                line: Some(3),
                frame_url: None,
                via: Via::Js,
            }],
            // Two policies → two violations each, seen by CDP and by JS.
            csp_violations: vec![
                violation("ws://127.0.0.2:9/", "connect-src", Via::Cdp),
                violation("ws://127.0.0.2:9/", "connect-src", Via::Js),
                violation("ws://127.0.0.2:9/", "connect-src", Via::Js),
                violation("http://127.0.0.2:9/x.js", "script-src-elem", Via::Js),
                violation("http://127.0.0.2:9/x.js", "script-src-elem", Via::Cdp),
            ],
            requests: vec![
                RequestRecord {
                    url: "http://127.0.0.2:9/x.js".into(),
                    resource_type: Some("Script".into()),
                    initiator: "parser".into(),
                    initiator_url: None,
                    document_url: format!("{ORIGIN}/content/x"),
                    blocked_reason: Some("csp".into()),
                    error: None,
                    request_id: "1".into(),
                },
                RequestRecord {
                    url: format!("{ORIGIN}/r/blockheight"),
                    resource_type: Some("Fetch".into()),
                    initiator: "script".into(),
                    initiator_url: None,
                    document_url: format!("{ORIGIN}/content/x"),
                    blocked_reason: None,
                    error: None,
                    request_id: "2".into(),
                },
            ],
            ..PageReport::default()
        };
        let problems = problems(&report, ORIGIN);
        let apis: Vec<&str> = problems.iter().map(|p| p.api.as_str()).collect();
        assert_eq!(apis, ["WebSocket", "script"], "{problems:#?}");
        assert_eq!(
            problems[1].message,
            "loads http://127.0.0.2:9/x.js (script) at http://127.0.0.1:1/content/x:3; ord's CSP refuses it (script-src-elem)"
        );
    }
}
