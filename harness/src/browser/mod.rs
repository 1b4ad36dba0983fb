//! Headless browsers recording what a page does: Debian Chromium over CDP
//! (`chromium.rs`) or Debian Firefox ESR over WebDriver BiDi (`firefox.rs`), behind one
//! [`Browser`] and one [`Page`].
//!
//! Every document (top frame and sub-frames, including the out-of-process frames
//! Chromium makes of sandboxed iframes) gets `inject.js` before its own scripts; it
//! wraps `WebSocket`, `EventSource` and `RTCPeerConnection` and listens for
//! `securitypolicyviolation`. The engine's protocol adds network requests, console
//! errors and exceptions (and in Chromium, CSP issues). [`Page::report`] merges both.

mod chromium;
mod firefox;
mod frames;
mod record;
mod report;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chromiumoxide::error::CdpError;
use serde::Serialize;

pub(crate) use chromium::executable;
pub use chromium::{find_chromium, CHROMIUM_FLAGS};
pub use firefox::find_firefox;
pub use report::{
    CspViolation, DataChannelRecord, PageReport, PeerConnectionRecord, RequestRecord, ScriptError,
    SocketAttempt, Via,
};

/// The script injected into every new document.
pub const INJECT_JS: &str = include_str!("inject.js");

/// A browser engine the harness drives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Debian `chromium`, over the Chrome DevTools Protocol.
    #[default]
    Chromium,
    /// Debian `firefox-esr`, over WebDriver BiDi.
    Firefox,
}

impl Engine {
    /// Both engines, Chromium first.
    pub const ALL: [Engine; 2] = [Engine::Chromium, Engine::Firefox];

    /// `chromium` or `firefox`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
        }
    }

    /// The engine's binary: `path` if given (it must be a file), else where it is found
    /// (`$CHROMIUM` / `$FIREFOX`, Debian's path, `PATH`). A [`BrowserError::NotFound`]
    /// says how to install it.
    pub fn executable(self, path: Option<&Path>) -> Result<PathBuf, BrowserError> {
        match self {
            Engine::Chromium => chromium::executable(path),
            Engine::Firefox => firefox::executable(path),
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "chromium" => Ok(Engine::Chromium),
            "firefox" => Ok(Engine::Firefox),
            other => Err(format!("unknown browser {other:?} (chromium or firefox)")),
        }
    }
}

/// Launch settings.
#[derive(Clone, Debug)]
pub struct LaunchOptions {
    /// Which engine to start (default Chromium).
    pub engine: Engine,
    /// The browser binary; default: see [`Engine::executable`].
    pub executable: Option<PathBuf>,
    /// Arguments added after the harness's own ([`CHROMIUM_FLAGS`] for Chromium).
    pub extra_args: Vec<String>,
    /// Bound on starting the browser and on each protocol command.
    pub timeout: Duration,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        Self {
            engine: Engine::Chromium,
            executable: None,
            extra_args: Vec::new(),
            timeout: Duration::from_secs(60),
        }
    }
}

impl LaunchOptions {
    /// The defaults for `engine`.
    pub fn engine(engine: Engine) -> Self {
        Self {
            engine,
            ..Self::default()
        }
    }
}

/// Why a browser operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// No browser binary; the message says how to install it.
    #[error("{0}")]
    NotFound(String),
    /// The temporary profile directory could not be made.
    #[error("cannot create a browser profile directory")]
    Profile(#[source] std::io::Error),
    /// Chromium did not start or its DevTools endpoint did not answer.
    #[error("chromium did not start")]
    Launch(#[source] CdpError),
    /// A CDP command failed.
    #[error("devtools protocol error")]
    Cdp(#[from] CdpError),
    /// Firefox did not start, or a WebDriver BiDi command failed.
    #[error("firefox (webdriver bidi)")]
    Bidi(#[from] crate::cdp::CdpError),
    /// A wait ran out of time.
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, String),
    /// The second DevTools connection (out-of-process iframes) failed.
    #[error("devtools connection for iframes: {0}")]
    Frames(String),
    /// Evaluated script threw or returned something unusable.
    #[error("script failed: {0}")]
    Script(String),
}

/// Where one engine's binary is looked for, and how to install it.
struct Install {
    engine: &'static str,
    /// The variable naming the binary.
    env: &'static str,
    /// Debian's path.
    default: &'static str,
    /// Names tried on `PATH`, in order.
    names: &'static [&'static str],
    /// The Debian package.
    package: &'static str,
}

impl Install {
    fn not_found(&self, detail: &str) -> BrowserError {
        BrowserError::NotFound(format!(
            "{} not found ({detail}); install it with `apt-get update && apt-get install -y {}`, or set {} to its path",
            self.engine, self.package, self.env
        ))
    }

    /// `$ENV`, the Debian path, then each name on `PATH`.
    fn find(&self) -> Result<PathBuf, BrowserError> {
        if let Some(path) = std::env::var_os(self.env) {
            let path = PathBuf::from(path);
            return if path.is_file() {
                Ok(path)
            } else {
                let detail = format!("{}={} is not a file", self.env, path.display());
                Err(self.not_found(&detail))
            };
        }
        let default = Path::new(self.default);
        if default.is_file() {
            return Ok(default.to_path_buf());
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        for name in self.names {
            for dir in std::env::split_paths(&path) {
                let candidate = dir.join(name);
                if candidate.is_file() {
                    return Ok(candidate);
                }
            }
        }
        let detail = format!("not at ${}, {} or on PATH", self.env, self.default);
        Err(self.not_found(&detail))
    }

    /// `path` if given (it must be a file), else [`Self::find`].
    fn executable(&self, path: Option<&Path>) -> Result<PathBuf, BrowserError> {
        match path {
            Some(path) if path.is_file() => Ok(path.to_path_buf()),
            Some(path) => Err(self.not_found(&format!("{} is not a file", path.display()))),
            None => self.find(),
        }
    }
}

/// A running headless browser with a fresh profile; killed when dropped.
pub struct Browser {
    inner: Engines<chromium::Browser, firefox::Browser>,
}

/// One open tab.
pub struct Page {
    inner: Engines<chromium::Page, firefox::Page>,
}

enum Engines<C, F> {
    Chromium(C),
    Firefox(F),
}

impl Browser {
    /// Starts `options.engine` headless with a fresh profile.
    pub async fn launch(options: LaunchOptions) -> Result<Self, BrowserError> {
        let inner = match options.engine {
            Engine::Chromium => Engines::Chromium(chromium::Browser::launch(options).await?),
            Engine::Firefox => Engines::Firefox(firefox::Browser::launch(options).await?),
        };
        Ok(Self { inner })
    }

    /// The engine running.
    pub fn engine(&self) -> Engine {
        match self.inner {
            Engines::Chromium(_) => Engine::Chromium,
            Engines::Firefox(_) => Engine::Firefox,
        }
    }

    /// Opens a new tab, installs the recorders, navigates to `url` and waits for `load`.
    pub async fn open(&self, url: &str) -> Result<Page, BrowserError> {
        let inner = match &self.inner {
            Engines::Chromium(b) => Engines::Chromium(b.open(url).await?),
            Engines::Firefox(b) => Engines::Firefox(b.open(url).await?),
        };
        Ok(Page { inner })
    }

    /// Where the harness's own control connection reaches the browser (Firefox's BiDi
    /// server); `None` for Chromium (its DevTools connection is a pipe or not recorded).
    pub fn control_address(&self) -> Option<std::net::SocketAddr> {
        match &self.inner {
            Engines::Chromium(_) => None,
            Engines::Firefox(b) => b.control_address(),
        }
    }

    /// Closes the browser and waits for the process to exit.
    pub async fn close(self) -> Result<(), BrowserError> {
        match self.inner {
            Engines::Chromium(b) => b.close().await,
            Engines::Firefox(b) => b.close().await,
        }
    }
}

impl Page {
    /// Evaluates `js` (an expression or statements) in the top frame and returns its JSON
    /// value (promises are awaited).
    pub async fn eval(&self, js: &str) -> Result<serde_json::Value, BrowserError> {
        match &self.inner {
            Engines::Chromium(p) => p.eval(js).await,
            Engines::Firefox(p) => p.eval(js).await,
        }
    }

    /// Evaluates `js` in every frame's main world; frames that throw (or vanish
    /// meanwhile) are left out. Returns `(frame URL, value)` pairs, top frame first.
    pub async fn eval_all_frames(
        &self,
        js: &str,
    ) -> Result<Vec<(String, serde_json::Value)>, BrowserError> {
        match &self.inner {
            Engines::Chromium(p) => p.eval_all_frames(js).await,
            Engines::Firefox(p) => p.eval_all_frames(js).await,
        }
    }

    /// Polls `predicate` (a JS expression) every 50 ms in every frame until one
    /// frame returns a truthy value, or `timeout` passes.
    pub async fn wait_for(&self, predicate: &str, timeout: Duration) -> Result<(), BrowserError> {
        let check = format!("!!({predicate})");
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let values = self.eval_all_frames(&check).await?;
            if values.iter().any(|(_, v)| v.as_bool() == Some(true)) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(BrowserError::Timeout(timeout, predicate.to_owned()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until a data channel in any frame is open.
    pub async fn wait_for_data_channel_open(&self, timeout: Duration) -> Result<(), BrowserError> {
        self.wait_for(
            "globalThis.__lumamesh && globalThis.__lumamesh.events.some(e => e.kind === 'datachannel' && e.state === 'open')",
            timeout,
        )
        .await
    }

    /// Everything recorded so far: the protocol's events and every frame's injected record.
    pub async fn report(&self) -> Result<PageReport, BrowserError> {
        match &self.inner {
            Engines::Chromium(p) => p.report().await,
            Engines::Firefox(p) => p.report().await,
        }
    }

    /// How many out-of-process iframes (Chromium isolates sandboxed ones) the
    /// second DevTools connection has instrumented; always 0 in Firefox, whose
    /// protocol reaches every frame through one connection.
    pub fn isolated_frames(&self) -> usize {
        match &self.inner {
            Engines::Chromium(p) => p.isolated_frames(),
            Engines::Firefox(_) => 0,
        }
    }

    /// Closes the tab.
    pub async fn close(self) -> Result<(), BrowserError> {
        match self.inner {
            Engines::Chromium(p) => p.close().await,
            Engines::Firefox(p) => p.close().await,
        }
    }
}
