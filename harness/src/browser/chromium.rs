//! Headless Debian Chromium over CDP (chromiumoxide), recording what a page does.
//!
//! Every document (top frame and sub-frames of the tab, including the
//! out-of-process frames Chromium makes of sandboxed iframes) gets `inject.js`
//! before its own scripts; it wraps `WebSocket`, `EventSource` and
//! `RTCPeerConnection` and listens for `securitypolicyviolation`. CDP events add
//! network requests, CSP issues, console errors and exceptions.
//! [`Page::report`] merges both. Chromium keeps its default process model:
//! out-of-process iframes are reached through a second DevTools connection
//! (`frames.rs`), because chromiumoxide resumes them before anything can be
//! injected and cannot address their sessions.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chromiumoxide::browser::{Browser as CdpBrowser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::audits;
use chromiumoxide::cdp::browser_protocol::network;
use chromiumoxide::cdp::browser_protocol::page::AddScriptToEvaluateOnNewDocumentParams;
use chromiumoxide::cdp::js_protocol::runtime::{EvaluateParams, ExecutionContextId};
use chromiumoxide::Page as CdpPage;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use super::frames::FrameTap;
use super::record::{Recorder, READ_RECORD};
use super::{BrowserError, Install, LaunchOptions, PageReport, INJECT_JS};

/// The Chromium flags the harness always passes (besides `--user-data-dir`).
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-loopback-in-peer-connection",
    "--force-fieldtrials=WebRTC-NoSdpMangleUfrag/Enabled/",
    "--mute-audio",
    "--hide-scrollbars",
];

const INSTALL: Install = Install {
    engine: "chromium",
    env: "CHROMIUM",
    default: "/usr/bin/chromium",
    names: &["chromium"],
    package: "chromium",
};

/// Finds the Chromium binary: `$CHROMIUM`, `/usr/bin/chromium`, then `chromium` on `PATH`.
pub fn find_chromium() -> Result<PathBuf, BrowserError> {
    INSTALL.find()
}

/// `path` if given (it must be a file), else [`find_chromium`].
pub(crate) fn executable(path: Option<&Path>) -> Result<PathBuf, BrowserError> {
    INSTALL.executable(path)
}

/// A running headless Chromium with a fresh profile; killed when dropped.
pub(super) struct Browser {
    inner: CdpBrowser,
    handler: JoinHandle<()>,
    timeout: Duration,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium with [`CHROMIUM_FLAGS`] and a fresh `--user-data-dir`.
    pub(super) async fn launch(options: LaunchOptions) -> Result<Self, BrowserError> {
        let executable = executable(options.executable.as_deref())?;
        let profile = tempfile::Builder::new()
            .prefix("lumamesh-chromium-")
            .tempdir()
            .map_err(BrowserError::Profile)?;
        // chromiumoxide prefixes every argument with `--` and splits `key=value` itself.
        let args: Vec<(String, String)> = CHROMIUM_FLAGS
            .iter()
            .map(|flag| flag.to_string())
            .chain(options.extra_args)
            .map(|flag| {
                let flag = flag.trim_start_matches('-');
                match flag.split_once('=') {
                    Some((key, value)) => (key.to_owned(), value.to_owned()),
                    None => (flag.to_owned(), String::new()),
                }
            })
            .collect();
        let config = BrowserConfig::builder()
            .chrome_executable(executable)
            .disable_default_args()
            .with_head() // `--headless` comes from CHROMIUM_FLAGS
            .user_data_dir(profile.path())
            .launch_timeout(options.timeout)
            .request_timeout(options.timeout)
            .viewport(None)
            .port(0)
            .args(
                args.iter()
                    .filter(|(_, value)| value.is_empty())
                    .map(|(key, _)| key.as_str()),
            )
            .args(
                args.iter()
                    .filter(|(_, value)| !value.is_empty())
                    .map(|(key, value)| (key.as_str(), value.as_str())),
            )
            .build()
            .map_err(BrowserError::Script)?;
        let (inner, mut handler) = CdpBrowser::launch(config)
            .await
            .map_err(BrowserError::Launch)?;
        let handler = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if let Err(e) = event {
                    tracing::debug!("cdp handler: {e}");
                }
            }
        });
        Ok(Self {
            inner,
            handler,
            timeout: options.timeout,
            _profile: profile,
        })
    }

    /// Opens a new tab, installs the recorders, navigates to `url` and waits for `load`.
    pub(super) async fn open(&self, url: &str) -> Result<Page, BrowserError> {
        let page = self.inner.new_page("about:blank").await?;
        let (frames, raw) = FrameTap::attach(
            self.inner.websocket_address(),
            page.target_id().inner(),
            INJECT_JS,
            self.timeout,
        )
        .await?;
        let recorder = Recorder::attach(&page, url, raw).await?;
        page.execute(network::EnableParams::default()).await?;
        page.execute(audits::EnableParams::default()).await?;
        page.execute(AddScriptToEvaluateOnNewDocumentParams::new(INJECT_JS))
            .await?;
        page.enable_runtime().await?;
        let page = Page {
            inner: page,
            recorder: Mutex::new(recorder),
            frames,
            timeout: self.timeout,
        };
        tokio::time::timeout(self.timeout, page.inner.goto(url))
            .await
            .map_err(|_| BrowserError::Timeout(self.timeout, format!("loading {url}")))??;
        Ok(page)
    }

    /// Closes the browser and waits for the process to exit.
    pub(super) async fn close(mut self) -> Result<(), BrowserError> {
        let _ = tokio::time::timeout(self.timeout, self.inner.close()).await;
        let _ = tokio::time::timeout(self.timeout, self.inner.wait()).await;
        self.handler.abort();
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.handler.abort();
    }
}

/// One open Chromium tab.
pub(super) struct Page {
    inner: CdpPage,
    recorder: Mutex<Recorder>,
    frames: FrameTap,
    timeout: Duration,
}

impl Page {
    /// Evaluates `js` in the top frame and returns its JSON value (promises are awaited).
    pub(super) async fn eval(&self, js: &str) -> Result<serde_json::Value, BrowserError> {
        self.eval_in(None, js).await
    }

    async fn eval_in(
        &self,
        context: Option<ExecutionContextId>,
        js: &str,
    ) -> Result<serde_json::Value, BrowserError> {
        let mut params = EvaluateParams::builder()
            .expression(js)
            .return_by_value(true)
            .await_promise(true);
        if let Some(context) = context {
            params = params.context_id(context);
        }
        let params = params.build().map_err(BrowserError::Script)?;
        let result = tokio::time::timeout(self.timeout, self.inner.execute(params))
            .await
            .map_err(|_| BrowserError::Timeout(self.timeout, format!("evaluate `{js}`")))??;
        if let Some(details) = &result.result.exception_details {
            let text = details
                .exception
                .as_ref()
                .and_then(|e| e.description.clone())
                .unwrap_or_else(|| details.text.clone());
            return Err(BrowserError::Script(text));
        }
        Ok(result
            .result
            .result
            .value
            .clone()
            .unwrap_or(serde_json::Value::Null))
    }

    /// Evaluates `js` in every frame's main world; frames that throw (or vanish
    /// meanwhile) are left out. Returns `(frame URL, value)` pairs, top frame first.
    pub(super) async fn eval_all_frames(
        &self,
        js: &str,
    ) -> Result<Vec<(String, serde_json::Value)>, BrowserError> {
        let wrapped = format!(
            "(async () => ({{url: String(location.href), top: window === window.top, value: await ({js})}}))()"
        );
        let contexts = self.recorder().contexts();
        let mut top = None;
        let mut frames = Vec::new();
        for context in contexts {
            let Ok(value) = self.eval_in(Some(context), &wrapped).await else {
                // Gone since (navigation, frame removed): forget it.
                self.recorder().forget_context(&context);
                continue;
            };
            let entry = (
                value["url"].as_str().unwrap_or_default().to_owned(),
                value["value"].clone(),
            );
            if value["top"] == serde_json::Value::Bool(true) {
                top.get_or_insert(entry);
            } else {
                frames.push(entry);
            }
        }
        let top = match top {
            Some(top) => top,
            None => {
                let value = self.eval(&wrapped).await?;
                (
                    value["url"].as_str().unwrap_or_default().to_owned(),
                    value["value"].clone(),
                )
            }
        };
        frames.insert(0, top);
        for value in self.frames.evaluate_all(&wrapped).await {
            frames.push((
                value["url"].as_str().unwrap_or_default().to_owned(),
                value["value"].clone(),
            ));
        }
        Ok(frames)
    }

    /// Everything recorded so far, CDP events and every frame's injected record.
    pub(super) async fn report(&self) -> Result<PageReport, BrowserError> {
        // The evaluation round trip also guarantees that every CDP event sent
        // before it is already queued in the recorder's streams.
        let frames = self.eval_all_frames(READ_RECORD).await?;
        Ok(self.recorder().report(frames))
    }

    fn recorder(&self) -> std::sync::MutexGuard<'_, Recorder> {
        // A poisoned lock only means a panic mid-update; the records stay usable.
        self.recorder.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many out-of-process iframes (Chromium isolates sandboxed ones) the
    /// second DevTools connection has instrumented.
    pub(super) fn isolated_frames(&self) -> usize {
        self.frames.count()
    }

    /// Closes the tab.
    pub(super) async fn close(self) -> Result<(), BrowserError> {
        tokio::time::timeout(self.timeout, self.inner.clone().close())
            .await
            .map_err(|_| BrowserError::Timeout(self.timeout, "closing the tab".into()))??;
        Ok(())
    }
}
