//! Test harness for Lumamesh pages: an ord-faithful content server and a
//! headless Chromium driver that records what a page tried and reached.
//!
//! - [`server`]: serves inscriptions with ord's routes and headers (both CSP
//!   headers, immutable caching, brotli handling, recursive `/r/` routes) on
//!   `127.0.0.1:0`, plus an `/explorer/<id>` page embedding the inscription in
//!   `<iframe sandbox=allow-scripts>` as explorers do. It stores and serves the
//!   `inscription` crate's [`inscription::Inscription`] and takes ord's rules (media
//!   table, brotli, curses, reading reveals) from that crate.
//! - [`browser`]: launches Debian Chromium over CDP or Debian Firefox ESR over
//!   WebDriver BiDi ([`bidi`]) and reports requests,
//!   WebSocket/EventSource attempts, CSP violations, script errors and
//!   RTCPeerConnection/RTCDataChannel states, in the top frame and in iframes.
//! - [`watch`]: one headless Chromium watched wholly from outside the page (every
//!   target auto-attached over CDP, Chromium's WebRTC record, its NetLog, real input
//!   events); nothing is injected, so a page cannot tell it is being checked.
//! - [`check`]: serves a page, visits it both ways at once with [`watch`], acts on it as
//!   a visitor, and returns a verdict.
//! - [`cdp`]: the raw DevTools connection the browser drivers share (it carries BiDi too).
//! - [`http`]: the workspace's HTTP/1.1 client ([`http1`]) for async tests, to assert
//!   headers as sent on the wire.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use harness::server::{ContentServer, Inscription, ServerConfig, Store};
//! use harness::InscriptionId;
//!
//! let id: InscriptionId =
//!     "6fb976ab49dcec017f1e201e84395983204ae1a7c2abf7ced0a85d692e442799i0".parse()?;
//! let mut store = Store::new();
//! store.insert(id, Inscription::new("text/html;charset=utf-8", "<p>hi</p>"));
//! let server = ContentServer::start(store, ServerConfig::default()).await?;
//!
//! let browser = harness::browser::Browser::launch(Default::default()).await?;
//! let page = browser.open(&server.explorer_url(&id)).await?;
//! let report = page.report().await?;
//! assert!(report.csp_violations.is_empty());
//! page.close().await?;
//! browser.close().await?;
//! # Ok(()) }
//! ```
//!
//! Errors are typed per module ([`server::ServerError`], [`server::LoadError`],
//! [`server::InsertRevealError`], [`browser::BrowserError`], [`http::HttpError`]);
//! nothing here panics on bad input. Every wait is bounded by a timeout.

pub mod bidi;
pub mod browser;
pub mod cdp;
pub mod check;
pub mod http;
pub mod netns;
pub mod server;
pub mod watch;

/// Inscription ids, `<reveal txid>i<n>`: the `inscription` crate's type, re-exported so
/// callers need not depend on it.
pub use inscription::{InscriptionId, ParseIdError};
