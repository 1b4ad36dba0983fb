//! One-call page check: serve a page under ord's headers, load it top-level and inside an
//! explorer's sandboxed iframe (in two browsers at once), watch its whole visit from
//! outside the page, act on it as a visitor, and say in plain words what it did that would
//! leak out of ord's sandbox or break on chain.
//!
//! A visit: load, wait for a connection to open (at most [`CheckOptions::timeout`]),
//! watch for [`CheckOptions::watch`], type into every field and press Enter, click every
//! button, watch again for as long. Everything is judged, whenever it happened. What the
//! watcher sees is described in [`crate::watch`].

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use crate::browser::{BrowserError, Engine, LaunchOptions};
use crate::server::{ContentServer, Inscription, ServerConfig, ServerError, Store};
use crate::watch::packets::{self, PacketError, PacketWatch};
use crate::watch::{firefox, Observation, TargetKind, Watcher, Where};
use crate::InscriptionId;

/// The id the checked page is served under (`/content/<PAGE_ID>`).
pub const PAGE_ID: &str = "1111111111111111111111111111111111111111111111111111111111111111i0";

/// Default for [`CheckOptions::watch`]: long enough for a leak timed a few seconds after
/// the connection opens (the negative fixtures wait 1 s and 3 s), short enough that a
/// folder of pages checks in reasonable time; it is spent twice (before and after the
/// gestures).
pub const DEFAULT_WATCH: Duration = Duration::from_secs(5);

/// A UDP destination the page may use: a relay of its signed list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Relay {
    /// The relay's IP address (or host name), as its entry gives it.
    pub host: String,
    /// Its UDP port.
    pub port: u16,
}

/// Check settings.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// How long to wait, per context, for a connection to open.
    pub timeout: Duration,
    /// How long to keep watching after the connection opened, and again after the
    /// gestures.
    pub watch: Duration,
    /// Whether to act as a visitor (type, press Enter, click) after the first watch.
    pub exercise: bool,
    /// Whether a page that never opens a DataChannel fails the check.
    pub require_data_channel: bool,
    /// The only UDP destinations allowed (besides the check's own other browser).
    pub relays: Vec<Relay>,
    /// Content server settings (CSP origin, fake chain).
    pub server: ServerConfig,
    /// Browser settings; `launch.engine` picks the engine (Chromium, watched wholly from
    /// outside, or Firefox, see [`crate::watch::firefox`]).
    pub launch: LaunchOptions,
    /// Whether to capture every packet sent in this network namespace while the page is
    /// checked ([`crate::watch::packets`]) and judge each one that reaches neither the
    /// content server, a relay nor the check's own browsers. Only for a check in a private
    /// namespace of its own ([`crate::netns`]): elsewhere the capture would see the whole
    /// machine's traffic. Used with Firefox, which has no NetLog.
    pub wire: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            watch: DEFAULT_WATCH,
            exercise: true,
            require_data_channel: true,
            relays: Vec::new(),
            server: ServerConfig::default(),
            launch: LaunchOptions::engine(default_engine()),
            wire: false,
        }
    }
}

/// The engine a default [`CheckOptions`] uses: `$LUMAMESH_CHECK_BROWSER` (`chromium` or
/// `firefox`) if set, else Chromium. Lets a test suite written for one engine run in
/// the other unchanged.
fn default_engine() -> Engine {
    std::env::var("LUMAMESH_CHECK_BROWSER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
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
    /// The packet capture could not start, or is not whole.
    #[error("packet capture")]
    Wire(#[from] PacketError),
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
    /// The API or mechanism (`WebSocket`, `fetch/XHR`, `beacon`, `ICE server`, `UDP`, …).
    pub api: String,
    /// The URL or `host:port` involved, if any.
    pub url: Option<String>,
    /// Script URL where it happened, if known.
    pub source: Option<String>,
    /// 1-based line, if known.
    pub line: Option<i64>,
    /// Milliseconds after the page was opened, if known.
    pub at_ms: Option<u64>,
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
    /// Whether a DataChannel (or at least a connection) opened.
    pub data_channel_opened: bool,
    /// What went wrong, in plain words.
    pub problems: Vec<Problem>,
    /// Everything recorded.
    pub observation: Observation,
}

/// The overall outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// True when no context has problems.
    pub ok: bool,
    /// One entry per load context.
    pub contexts: Vec<ContextVerdict>,
}

/// Serves `page` (HTML) plus `extra` inscriptions and checks the page.
pub async fn check(
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
    check_stored(store, id, options).await
}

/// Serves the whole `store` and checks `/content/<id>` and `/explorer/<id>` at once, each
/// in its own browser.
///
/// With [`CheckOptions::wire`], one packet capture spans both visits: it starts before
/// either browser is launched and stops once both have exited, so whatever either sent
/// at any moment is on it. A packet does not say which browser sent it, so each leak it
/// shows is judged in both load contexts.
pub async fn check_stored(
    store: Store,
    id: InscriptionId,
    options: &CheckOptions,
) -> Result<Verdict, CheckError> {
    let server = ContentServer::start(store, options.server.clone()).await?;
    let top_url = server.content_url(&id);
    let iframe_url = server.explorer_url(&id);
    let (top_path, iframe_path) = (format!("/content/{id}"), format!("/preview/{id}"));
    let capture = match options.wire {
        true => Some(PacketWatch::start()?),
        false => None,
    };
    let (top, iframe) = tokio::join!(
        visit(&top_url, &top_path, options),
        visit(&iframe_url, &iframe_path, options),
    );
    let attempts = capture.map(PacketWatch::stop).transpose()?;
    let (top, iframe) = (top?, iframe?);
    let wire = match attempts {
        Some(attempts) => {
            let mut endpoints: Vec<SocketAddr> = options
                .relays
                .iter()
                .filter_map(|r| Some(SocketAddr::new(r.host.parse().ok()?, r.port)))
                .collect();
            endpoints.extend(server_address(server.origin()));
            endpoints.extend(top.2.iter().chain(&iframe.2));
            let mut wire = packets::judge(&attempts, &endpoints);
            if options.launch.engine == Engine::Firefox {
                wire.retain(|r| !firefox::own_lookup(r));
            }
            wire
        }
        None => Vec::new(),
    };
    let visits = [
        (LoadContext::TopLevel, top_url, top_path, (top.0, top.1)),
        (
            LoadContext::SandboxedIframe,
            iframe_url,
            iframe_path,
            (iframe.0, iframe.1),
        ),
    ]
    .map(|(context, url, path, (opened, mut observation))| {
        observation.wire = wire.clone();
        (context, url, path, (opened, observation))
    });
    // Both browsers of this check are the only peers a page may reach directly.
    let local_ports: Vec<u16> = visits
        .iter()
        .flat_map(|(_, _, _, (_, o))| o.network.udp_local_ports.iter().copied())
        .collect();
    let allowed = Allowed {
        relays: &options.relays,
        local_ports: &local_ports,
    };
    let mut contexts = Vec::new();
    for (context, url, path, (opened, observation)) in visits {
        let data_channel_opened =
            opened || observation.peer_connections.iter().any(|pc| pc.connected());
        let mut problems = problems(&observation, server.origin(), &path, &allowed);
        if options.require_data_channel && !data_channel_opened {
            problems.push(Problem {
                api: "RTCDataChannel".into(),
                url: None,
                source: None,
                line: None,
                at_ms: None,
                message: format!(
                    "no DataChannel opened within {:?} ({})",
                    options.timeout,
                    channel_summary(&observation)
                ),
            });
        }
        contexts.push(ContextVerdict {
            context,
            url,
            data_channel_opened,
            problems,
            observation,
        });
    }
    Ok(Verdict {
        ok: contexts.iter().all(|c| c.problems.is_empty()),
        contexts,
    })
}

/// `http://127.0.0.1:8080` as an address.
fn server_address(origin: &str) -> Option<SocketAddr> {
    origin.split_once("://")?.1.parse().ok()
}

/// One whole visit in a fresh browser: load, wait for a connection, watch, act, watch.
/// Returns whether a connection opened, what was seen, and where the harness reached the
/// browser (its own connection, not the page's).
async fn visit(
    url: &str,
    frame_path: &str,
    options: &CheckOptions,
) -> Result<(bool, Observation, Option<SocketAddr>), CheckError> {
    if options.launch.engine == Engine::Firefox {
        let visit = firefox::visit(
            &options.launch,
            url,
            options.timeout,
            options.watch,
            options.exercise,
        )
        .await?;
        return Ok((visit.opened, visit.observation, visit.control));
    }
    let watcher = Watcher::launch(&options.launch).await?;
    let tab = watcher.open(url).await?;
    let opened = watcher.wait_for_connection(options.timeout).await?;
    tokio::time::sleep(options.watch).await;
    watcher.scan_links().await;
    let mut gestures = Vec::new();
    if options.exercise {
        gestures = watcher.exercise(&tab, frame_path).await;
        tokio::time::sleep(options.watch).await;
        watcher.scan_links().await;
    }
    let mut observation = watcher.finish().await?;
    observation.gestures = gestures;
    Ok((opened, observation, None))
}

fn channel_summary(observation: &Observation) -> String {
    if observation.peer_connections.is_empty() {
        return "no RTCPeerConnection was created".into();
    }
    observation
        .peer_connections
        .iter()
        .map(|pc| {
            if pc.states.is_empty() {
                "an RTCPeerConnection never changed state".to_owned()
            } else {
                format!("an RTCPeerConnection went {}", pc.states.join(" → "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the page may reach over UDP.
pub struct Allowed<'a> {
    /// Its relays.
    pub relays: &'a [Relay],
    /// UDP ports the check's own browsers bound: on an address of this machine, these are
    /// the page's own connections and the direct one between the two visits.
    pub local_ports: &'a [u16],
}

impl Allowed<'_> {
    fn relay(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.relays.iter().any(|r| {
            r.port == port
                && (r.host.eq_ignore_ascii_case(host)
                    || matches!(
                        (r.host.parse::<IpAddr>(), host.parse::<IpAddr>()),
                        (Ok(a), Ok(b)) if a == b
                    ))
        })
    }

    /// One of the check's own browsers: an address of this machine and a port they bound.
    fn peer(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let Ok(ip) = host.parse::<IpAddr>() else {
            return false;
        };
        // Binding succeeds only on an address of this machine (the browsers run here).
        let local = ip.is_loopback() || std::net::UdpSocket::bind((ip, 0)).is_ok();
        local && self.local_ports.contains(&port)
    }

    fn destination(&self, address: &str) -> bool {
        let Ok(addr) = address.parse::<SocketAddr>() else {
            return false;
        };
        let mdns = matches!(addr.ip().to_string().as_str(), "224.0.0.251" | "ff02::fb")
            && addr.port() == 5353;
        let ip = addr.ip().to_string();
        mdns || self.relay(&ip, addr.port()) || self.peer(&ip, addr.port())
    }
}

fn at(source: &Option<String>, line: Option<i64>) -> String {
    match (source, line) {
        (Some(source), Some(line)) if !source.is_empty() => format!(" at {source}:{line}"),
        (Some(source), None) if !source.is_empty() => format!(" from {source}"),
        (_, Some(line)) if line > 0 => format!(" at line {line}"),
        _ => String::new(),
    }
}

fn when(at_ms: u64) -> String {
    format!(" {:.1} s after load", at_ms as f64 / 1000.0)
}

/// " in a dedicated worker (blob:…)", or nothing for the page's own frame.
fn place(target: &Where, page_path: &str) -> String {
    if target.popup {
        return format!(" in a window it opened ({})", target.url);
    }
    if target.url.contains(page_path)
        && matches!(target.kind, TargetKind::Page | TargetKind::Iframe)
    {
        return String::new();
    }
    format!(" in a {} ({})", target.kind.describe(), target.url)
}

fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..scheme.len() + 3 + end])
}

/// Whether `url` leaves the inscription server (`data:`, `blob:`, `about:` stay).
fn foreign(url: &str, origin: &str) -> bool {
    let scheme = url
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "ws" | "wss" | "ftp") {
        return false;
    }
    let same = origin_of(url).is_some_and(|o| {
        let o = o
            .replacen("ws://", "http://", 1)
            .replacen("wss://", "https://", 1);
        o.eq_ignore_ascii_case(origin)
    });
    !same
}

fn request_api(resource_type: Option<&str>, method: &str, target: &Where) -> &'static str {
    match resource_type.unwrap_or_default() {
        _ if target.popup => "popup",
        "Document" if method == "POST" => "form post",
        "Document" => "navigation",
        "Ping" => "beacon",
        "EventSource" => "EventSource",
        "Fetch" | "XHR" => "fetch/XHR",
        "Script" => "script",
        "Prefetch" => "prefetch",
        "Stylesheet" => "style",
        "Image" => "image",
        "Font" => "font",
        "Media" => "media",
        "WebSocket" => "WebSocket",
        _ => "request",
    }
}

/// Turns an observation into problems, one per distinct event.
pub fn problems(
    observation: &Observation,
    origin: &str,
    page_path: &str,
    allowed: &Allowed<'_>,
) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::new();
    fn push(out: &mut Vec<Problem>, p: Problem) {
        let seen = out
            .iter()
            .any(|q| q.api == p.api && q.url == p.url && p.url.is_some());
        if !seen {
            out.push(p);
        }
    }
    for r in &observation.requests {
        let api = request_api(r.resource_type.as_deref(), &r.method, &r.target);
        if foreign(&r.url, origin) {
            let outcome = match (&r.blocked_reason, &r.error, r.status) {
                (Some(reason), _, _) => format!("; refused ({reason})"),
                (None, _, Some(status)) => format!("; it was answered ({status})"),
                (None, Some(error), None) => format!("; it failed ({error})"),
                _ => String::new(),
            };
            let verb = match api {
                "navigation" => "navigates to",
                "form post" => "posts a form to",
                "popup" => "loads",
                "beacon" => "sends a beacon to",
                _ => "requests",
            };
            push(
                &mut out,
                Problem {
                    api: api.into(),
                    url: Some(r.url.clone()),
                    source: r.source.clone(),
                    line: r.line,
                    at_ms: Some(r.at_ms),
                    message: format!(
                        "{verb} {} ({}){}{}{}, outside the inscription server{outcome}",
                        r.url,
                        r.resource_type.as_deref().unwrap_or("unknown type"),
                        place(&r.target, page_path),
                        at(&r.source, r.line),
                        when(r.at_ms),
                    ),
                },
            );
        } else if r.status.is_some_and(|s| s >= 400) && !r.url.ends_with("/favicon.ico") {
            let status = r.status.unwrap_or_default();
            let path = origin_of(&r.url).map_or(r.url.as_str(), |o| &r.url[o.len()..]);
            let hint = match path.strip_prefix("/content/") {
                Some(id) if status == 404 => format!(
                    "; the check does not have inscription {id}: give it with --reveal FILE or a folder, or, if it is the Lumamesh runtime, with --lib {id}"
                ),
                _ => String::new(),
            };
            push(
                &mut out,
                Problem {
                    api: "missing".into(),
                    url: Some(r.url.clone()),
                    source: r.source.clone(),
                    line: r.line,
                    at_ms: Some(r.at_ms),
                    message: format!(
                        "requests {path}{}{}, answered {status} as ord would{hint}",
                        place(&r.target, page_path),
                        at(&r.source, r.line)
                    ),
                },
            );
        }
    }
    for s in &observation.sockets {
        push(
            &mut out,
            Problem {
                api: s.api.clone(),
                url: Some(s.url.clone()),
                source: s.source.clone(),
                line: s.line,
                at_ms: Some(s.at_ms),
                message: format!(
                    "opens a {} to {}{}{}{}; ord's CSP refuses it (use RTCPeerConnection to a relay)",
                    s.api,
                    s.url,
                    place(&s.target, page_path),
                    at(&s.source, s.line),
                    when(s.at_ms)
                ),
            },
        );
    }
    for url in &observation.window_opens {
        push(
            &mut out,
            Problem {
                api: "popup".into(),
                url: Some(url.clone()),
                source: None,
                line: None,
                at_ms: None,
                message: format!("opens a window (window.open) to {url}"),
            },
        );
    }
    for v in &observation.csp {
        if out
            .iter()
            .any(|p| p.url.as_deref() == Some(v.blocked.as_str()))
        {
            continue;
        }
        let websocket = v.blocked.starts_with("ws:") || v.blocked.starts_with("wss:");
        let api = match v.directive.as_str() {
            d if d.starts_with("connect-src") && websocket => "WebSocket",
            d if d.starts_with("connect-src") => "fetch/XHR",
            d if d.starts_with("script-src") || d.starts_with("worker-src") => "script",
            d if d.starts_with("style-src") => "style",
            d if d.starts_with("img-src") => "image",
            d if d.starts_with("frame-src") || d.starts_with("child-src") => "frame",
            d if d.starts_with("font-src") => "font",
            d if d.starts_with("media-src") => "media",
            _ => "resource",
        };
        let verb = if api == "WebSocket" {
            "opens a WebSocket to"
        } else {
            "loads"
        };
        push(
            &mut out,
            Problem {
                api: api.into(),
                url: Some(v.blocked.clone()),
                source: v.source.clone(),
                line: v.line,
                at_ms: Some(v.at_ms),
                message: format!(
                    "{verb} {}{}{}{}; ord's CSP refuses it ({})",
                    v.blocked,
                    place(&v.target, page_path),
                    at(&v.source, v.line),
                    when(v.at_ms),
                    v.directive
                ),
            },
        );
    }
    for pc in &observation.peer_connections {
        for server in &pc.ice_servers {
            let (host, port) = ice_server_host(server);
            push(
                &mut out,
                Problem {
                    api: "ICE server".into(),
                    url: Some(server.clone()),
                    source: Some(pc.url.clone()),
                    line: None,
                    at_ms: None,
                    message: format!(
                        "configures the ICE server {server} (host {host}, port {port}), which is not a listed relay; relays are reached from their signed entry, never through STUN or TURN"
                    ),
                },
            );
        }
        for c in &pc.remote_candidates {
            let peer = c.address.ends_with(".local") || allowed.peer(&c.address, c.port);
            if peer || allowed.relay(&c.address, c.port) {
                continue;
            }
            let target = format!("{}:{}", c.address, c.port);
            push(
                &mut out,
                Problem {
                    api: "WebRTC".into(),
                    url: Some(target.clone()),
                    source: Some(pc.url.clone()),
                    line: None,
                    at_ms: None,
                    message: format!(
                        "connects over WebRTC to {target} ({}, from its {}), which is not a listed relay",
                        c.protocol, c.from
                    ),
                },
            );
        }
    }
    for d in &observation.network.udp {
        if allowed.destination(&d.address) {
            continue;
        }
        let already = out.iter().any(|p| {
            p.api == "WebRTC"
                && p.url
                    .as_deref()
                    .is_some_and(|u| same_endpoint(u, &d.address))
        });
        if already {
            continue;
        }
        push(
            &mut out,
            Problem {
                api: "UDP".into(),
                url: Some(d.address.clone()),
                source: None,
                line: None,
                at_ms: None,
                message: format!(
                    "sends {} UDP datagram(s) to {}, which is not a listed relay",
                    d.datagrams, d.address
                ),
            },
        );
    }
    for w in &observation.wire {
        let (url, at_ms) = (Some(w.target.clone()), Some(w.at_ms));
        let message = format!(
            "{}; one capture watches both load contexts, and a packet does not say which sent it",
            w.message()
        );
        push(
            &mut out,
            Problem {
                api: "wire".into(),
                url,
                source: None,
                line: None,
                at_ms,
                message,
            },
        );
    }
    for link in &observation.links {
        let rel = link.rel.to_ascii_lowercase();
        let fetches = rel.split_whitespace().any(|r| {
            matches!(
                r,
                "preconnect"
                    | "dns-prefetch"
                    | "prefetch"
                    | "preload"
                    | "modulepreload"
                    | "prerender"
                    | "stylesheet"
                    | "icon"
                    | "manifest"
            )
        });
        let absolute = link.href.starts_with("//") || link.href.contains("://");
        let url = if link.href.starts_with("//") {
            format!("https:{}", link.href)
        } else {
            link.href.clone()
        };
        if fetches && absolute && foreign(&url, origin) {
            push(
                &mut out,
                Problem {
                    api: format!("link rel={}", link.rel),
                    url: Some(link.href.clone()),
                    source: None,
                    line: None,
                    at_ms: None,
                    message: format!(
                        "has <link rel={} href={}>, which makes the browser reach outside the inscription server",
                        link.rel, link.href
                    ),
                },
            );
        }
    }
    for url in &observation.network.preconnects {
        if foreign(url, origin) {
            push(
                &mut out,
                Problem {
                    api: "preconnect".into(),
                    url: Some(url.clone()),
                    source: None,
                    line: None,
                    at_ms: None,
                    message: format!("makes the browser connect ahead to {url}"),
                },
            );
        }
    }
    for log in &observation.logs {
        // The browser's own words for a refusal already reported above add nothing.
        let covered = out
            .iter()
            .any(|p| p.url.as_deref().is_some_and(|u| log.text.contains(u)));
        if covered || log.kind == "network" {
            continue;
        }
        let (api, verb) = match log.kind.as_str() {
            "exception" => ("exception", "throws"),
            "console.error" => ("console.error", "logs an error:"),
            _ => ("browser", "is refused by the browser:"),
        };
        out.push(Problem {
            api: api.into(),
            url: None,
            source: log.source.clone(),
            line: log.line,
            at_ms: Some(log.at_ms),
            message: format!(
                "{verb} {}{}{}{}",
                log.text,
                place(&log.target, page_path),
                at(&log.source, log.line),
                when(log.at_ms)
            ),
        });
    }
    out
}

/// Host and port of `stun:host[:port]` / `turn:host[:port]?transport=…`.
fn ice_server_host(url: &str) -> (String, String) {
    let rest = url.split_once(':').map_or(url, |(_, r)| r);
    let rest = rest.trim_start_matches("//");
    let rest = rest.split(['?', '/']).next().unwrap_or_default();
    let default = if url.starts_with("turns:") || url.starts_with("stuns:") {
        "5349"
    } else {
        "3478"
    };
    if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').unwrap_or((v6, ""));
        let port = after.strip_prefix(':').unwrap_or(default);
        return (host.to_owned(), port.to_owned());
    }
    match rest.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.to_owned()),
        None => (rest.to_owned(), default.to_owned()),
    }
}

fn same_endpoint(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace(['[', ']'], "");
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::{foreign, ice_server_host, problems, Allowed, Relay};
    use crate::watch::netlog::UdpDestination;
    use crate::watch::{Observation, PeerConnection, RequestRecord, TargetKind, Where};

    const ORIGIN: &str = "http://127.0.0.1:1";

    fn page() -> Where {
        Where {
            kind: TargetKind::Page,
            url: format!("{ORIGIN}/content/x"),
            popup: false,
        }
    }

    #[test]
    fn foreign_means_another_origin() {
        assert!(foreign("https://127.0.0.2:9/x", ORIGIN));
        assert!(foreign("http://127.0.0.1:2/x", ORIGIN));
        assert!(foreign("wss://127.0.0.2:9/", ORIGIN));
        assert!(!foreign("http://127.0.0.1:1/r/blockheight", ORIGIN));
        assert!(!foreign("ws://127.0.0.1:1/x", ORIGIN));
        assert!(!foreign("data:text/plain,hi", ORIGIN));
        assert!(!foreign("blob:http://127.0.0.1:1/uuid", ORIGIN));
    }

    #[test]
    fn ice_server_hosts_and_ports() {
        assert_eq!(
            ice_server_host("stun:tracker.example"),
            ("tracker.example".into(), "3478".into())
        );
        assert_eq!(
            ice_server_host("turn:127.0.0.2:9?transport=tcp"),
            ("127.0.0.2".into(), "9".into())
        );
        assert_eq!(ice_server_host("turns:[::1]:5"), ("::1".into(), "5".into()));
    }

    #[test]
    fn relays_and_the_other_browser_are_the_only_udp_destinations() {
        let mut observation = Observation::default();
        for address in ["127.0.0.1:3478", "127.0.0.3:9999", "127.0.0.1:40000"] {
            observation.network.udp.push(UdpDestination {
                address: address.into(),
                datagrams: 3,
            });
        }
        observation.peer_connections.push(PeerConnection {
            url: format!("{ORIGIN}/content/x"),
            ice_servers: vec!["stun:tracker.example:3479".into()],
            ..PeerConnection::default()
        });
        observation.requests.push(RequestRecord {
            url: "https://127.0.0.2:9/leak".into(),
            method: "GET".into(),
            resource_type: Some("Ping".into()),
            source: None,
            line: None,
            target: Where {
                kind: TargetKind::Worker,
                url: "blob:x".into(),
                popup: false,
            },
            at_ms: 3200,
            status: None,
            blocked_reason: Some("csp".into()),
            error: None,
        });
        let _ = page();
        let relays = [Relay {
            host: "127.0.0.1".into(),
            port: 3478,
        }];
        let allowed = Allowed {
            relays: &relays,
            local_ports: &[40000],
        };
        let problems = problems(&observation, ORIGIN, "/content/x", &allowed);
        let apis: Vec<&str> = problems.iter().map(|p| p.api.as_str()).collect();
        assert_eq!(apis, ["beacon", "ICE server", "UDP"], "{problems:#?}");
        assert_eq!(
            problems[0].message,
            "sends a beacon to https://127.0.0.2:9/leak (Ping) in a dedicated worker (blob:x) 3.2 s after load, outside the inscription server; refused (csp)"
        );
        assert!(problems[1]
            .message
            .contains("host tracker.example, port 3479"));
        assert_eq!(problems[2].url.as_deref(), Some("127.0.0.3:9999"));
    }
}
