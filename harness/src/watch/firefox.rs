//! A check's visit in Firefox ESR: the harness's Firefox engine ([`crate::browser`], over
//! WebDriver BiDi) with its recorder, turned into the same [`Observation`] the Chromium
//! watcher gives, so one set of rules judges both engines.
//!
//! Unlike the Chromium watcher this visit is not wholly outside the page: Firefox's BiDi
//! has no WebRTC record (`about:webrtc` cannot be opened over BiDi) and no NetLog, so
//! `inject.js` runs in every document as a preload script, and gestures are script
//! events (`click()`, a submitted form), not trusted input. docs/check.md says what this
//! covers and what it does not.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::netlog::NetworkLog;
use super::packets::WireRecord;
use super::record::{
    CspRecord, LinkRecord, LogRecord, Observation, RequestRecord, SocketRecord, TargetKind, Where,
};
use super::webrtc::{Candidate, PeerConnection};
use crate::browser::{Browser, BrowserError, Engine, LaunchOptions, PageReport};

/// Collects `<link>` elements and acts on the page as a visitor, in one frame.
const LINKS: &str =
    "[...document.querySelectorAll('link[href]')].map((l) => [l.rel, l.getAttribute('href')])";
const EXERCISE: &str = "(() => { const done = []; \
     for (const f of document.querySelectorAll('input, textarea')) { f.focus(); f.value = 'hello'; \
       f.dispatchEvent(new Event('input', { bubbles: true })); \
       for (const t of ['keydown', 'keypress', 'keyup']) f.dispatchEvent(new KeyboardEvent(t, { key: 'Enter', bubbles: true })); \
       if (f.form) f.form.requestSubmit ? f.form.requestSubmit() : f.form.submit(); done.push('typed into ' + (f.name || f.id || f.tagName.toLowerCase())); } \
     for (const b of document.querySelectorAll('button, input[type=button], input[type=submit]')) { b.click(); done.push('clicked ' + (b.id || b.textContent.trim() || 'a button')); } \
     return done; })()";

/// Names Firefox ESR looks up itself, whatever its prefs, and which a packet capture of
/// a check must not blame on the page: `incoming.telemetry.mozilla.org`, about 60 s after
/// start, with every telemetry pref of `crate::bidi::FIREFOX_PREFS` set (measured on
/// 153.8; no pref found stops it). Only the DNS query is passed over: a fixed name carries
/// nothing of the page's, and in the check's namespace the lookup is never answered, so
/// no connection follows.
pub const OWN_LOOKUPS: &[&str] = &["incoming.telemetry.mozilla.org"];

/// Whether `record` is one of Firefox's own lookups ([`OWN_LOOKUPS`]).
pub fn own_lookup(record: &WireRecord) -> bool {
    record.what.starts_with("a DNS query") && OWN_LOOKUPS.contains(&record.target.as_str())
}

/// One visit in Firefox, as [`visit`] saw it.
pub struct Visit {
    /// Whether a data channel opened.
    pub opened: bool,
    /// What was seen.
    pub observation: Observation,
    /// Where the harness reached the browser's BiDi server (its own connection, which a
    /// packet capture of the visit sees, not the page's).
    pub control: Option<SocketAddr>,
}

/// One whole visit in a fresh Firefox: load, wait for a data channel (at most `timeout`),
/// watch, act (if `exercise`), watch.
pub async fn visit(
    launch: &LaunchOptions,
    url: &str,
    timeout: Duration,
    watch: Duration,
    exercise: bool,
) -> Result<Visit, BrowserError> {
    let options = LaunchOptions {
        engine: Engine::Firefox,
        ..launch.clone()
    };
    let browser = Browser::launch(options).await?;
    let control = browser.control_address();
    let start = Instant::now();
    let page = browser.open(url).await?;
    let opened = match page.wait_for_data_channel_open(timeout).await {
        Ok(()) => true,
        Err(BrowserError::Timeout(..)) => false,
        Err(e) => return Err(e),
    };
    tokio::time::sleep(watch).await;
    let mut links = page.eval_all_frames(LINKS).await.unwrap_or_default();
    let mut gestures = Vec::new();
    if exercise {
        for (_, done) in page.eval_all_frames(EXERCISE).await.unwrap_or_default() {
            let done = done.as_array().cloned().unwrap_or_default();
            gestures.extend(done.iter().filter_map(|d| d.as_str().map(str::to_owned)));
        }
        tokio::time::sleep(watch).await;
        links.extend(page.eval_all_frames(LINKS).await.unwrap_or_default());
    }
    // A page that navigated away took its record along; what BiDi saw remains.
    let report = page.report().await?;
    let _ = browser.close().await;
    let mut observation = observe(&report, start.elapsed().as_millis() as u64);
    for (document, found) in links {
        for pair in found.as_array().into_iter().flatten() {
            let (rel, href) = (pair[0].as_str(), pair[1].as_str());
            if let (Some(rel), Some(href)) = (rel, href) {
                let link = LinkRecord {
                    rel: rel.to_owned(),
                    href: href.to_owned(),
                    document: document.clone(),
                };
                if !observation.links.contains(&link) {
                    observation.links.push(link);
                }
            }
        }
    }
    observation.gestures = gestures;
    Ok(Visit {
        opened,
        observation,
        control,
    })
}

/// The report as the watcher's record. Times are not known per event: each carries the
/// visit's length (`at_ms`).
fn observe(report: &PageReport, at_ms: u64) -> Observation {
    let top = report.url.as_str();
    let target = |url: Option<&str>| Where {
        kind: match url {
            Some(u) if u != top => TargetKind::Iframe,
            _ => TargetKind::Page,
        },
        url: url.unwrap_or(top).to_owned(),
        popup: false,
    };
    let mut o = Observation::default();
    for r in &report.requests {
        o.requests.push(RequestRecord {
            url: r.url.clone(),
            method: "GET".into(),
            resource_type: r.resource_type.clone(),
            source: r.initiator_url.clone(),
            line: None,
            target: target(Some(&r.document_url)),
            at_ms,
            status: None,
            blocked_reason: r.blocked_reason.clone(),
            error: r.error.clone(),
        });
    }
    for (api, attempts) in [
        ("WebSocket", &report.websockets),
        ("EventSource", &report.event_sources),
    ] {
        for a in attempts {
            if api == "WebSocket" {
                o.sockets.push(SocketRecord {
                    api: api.into(),
                    url: a.url.clone(),
                    source: a.source.clone(),
                    line: a.line,
                    target: target(a.frame_url.as_deref()),
                    at_ms,
                });
            } else {
                o.requests.push(RequestRecord {
                    url: a.url.clone(),
                    method: "GET".into(),
                    resource_type: Some("EventSource".into()),
                    source: a.source.clone(),
                    line: a.line,
                    target: target(a.frame_url.as_deref()),
                    at_ms,
                    status: None,
                    blocked_reason: None,
                    error: None,
                });
            }
        }
    }
    for v in &report.csp_violations {
        o.csp.push(CspRecord {
            directive: v.directive.clone(),
            blocked: v.blocked_uri.clone(),
            source: v.source.clone(),
            line: v.line,
            target: target(v.frame_url.as_deref()),
            at_ms,
        });
    }
    for (kind, errors) in [
        ("console.error", &report.console_errors),
        ("exception", &report.exceptions),
    ] {
        for e in errors {
            o.logs.push(LogRecord {
                kind: kind.into(),
                text: e.message.clone(),
                source: e.source.clone(),
                line: e.line,
                target: target(None),
                at_ms,
            });
        }
    }
    o.window_opens = report.window_opens.clone();
    let mut local_ports = Vec::new();
    for pc in &report.peer_connections {
        local_ports.extend(&pc.local_ports);
        o.peer_connections.push(PeerConnection {
            url: pc.frame_url.clone(),
            ice_servers: pc.ice_servers.clone(),
            remote_candidates: pc
                .remote_candidates
                .iter()
                .map(|(protocol, address, port)| Candidate {
                    address: address.clone(),
                    port: *port,
                    protocol: protocol.to_lowercase(),
                    from: "remote description or addIceCandidate".into(),
                })
                .collect(),
            states: pc.states.clone(),
            ice_errors: Vec::new(),
            data_channel_open: report
                .data_channels
                .iter()
                .any(|d| d.pc == pc.pc && d.frame_url == pc.frame_url && d.opened()),
        });
    }
    o.network = NetworkLog {
        udp_local_ports: local_ports,
        ..NetworkLog::default()
    };
    o
}
