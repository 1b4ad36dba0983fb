//! Headless Firefox and its WebDriver BiDi session.
//!
//! Firefox ships the protocol: started with `--remote-debugging-port=0` it prints
//! `WebDriver BiDi listening on ws://…` on stderr, and a WebSocket to that address's
//! `/session` path takes `session.new`. The framing is CDP's (see [`crate::cdp`]), so
//! the same connection type carries it. The profile is fresh per launch; its `user.js`
//! holds [`FIREFOX_PREFS`].

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::browser::{BrowserError, LaunchOptions};
use crate::cdp::{listening_url, Cdp, Event};

/// The prefs written to every profile's `user.js`, as `(name, JS value)`.
///
/// The first two are what WebRTC to a relay on loopback needs (see
/// docs/check.md): Firefox gathers loopback candidates only with
/// `media.peerconnection.ice.loopback`, and only on every interface once a capture
/// permission is granted. The rest keep a headless run quiet and offline: no first-run
/// pages, no updates, no telemetry, no remote settings, BiDi only.
pub const FIREFOX_PREFS: &[(&str, &str)] = &[
    ("media.peerconnection.ice.loopback", "true"),
    ("permissions.default.camera", "1"),
    ("permissions.default.microphone", "1"),
    ("media.navigator.streams.fake", "true"),
    ("remote.active-protocols", "1"),
    ("browser.shell.checkDefaultBrowser", "false"),
    ("browser.startup.homepage_override.mstone", "\"ignore\""),
    ("browser.startup.page", "0"),
    ("browser.aboutwelcome.enabled", "false"),
    ("startup.homepage_welcome_url", "\"about:blank\""),
    ("app.update.disabledForTesting", "true"),
    ("app.update.auto", "false"),
    ("app.normandy.enabled", "false"),
    ("extensions.update.enabled", "false"),
    ("datareporting.policy.dataSubmissionEnabled", "false"),
    ("datareporting.healthreport.uploadEnabled", "false"),
    ("toolkit.telemetry.enabled", "false"),
    ("toolkit.telemetry.reportingpolicy.firstRun", "false"),
    ("messaging-system.rsexperimentloader.enabled", "false"),
    ("services.settings.server", "\"data:,#remote-settings-off\""),
    ("network.captive-portal-service.enabled", "false"),
    ("network.connectivity-service.enabled", "false"),
    ("browser.safebrowsing.malware.enabled", "false"),
    ("browser.safebrowsing.phishing.enabled", "false"),
    ("browser.safebrowsing.downloads.enabled", "false"),
    ("browser.newtabpage.enabled", "false"),
    // Firefox fetches `/favicon.ico` for every page itself; ord's CSP refuses it, and
    // the page did not ask.
    ("browser.chrome.site_icons", "false"),
    // Firefox's own traffic, which a check's packet capture would judge the page's: the
    // media plug-in (OpenH264, Widevine) manager, …
    ("media.gmp-manager.updateEnabled", "false"),
    ("media.gmp-manager.url", "\"data:,\""),
    // … telemetry, which a fresh profile still sends about 40 s after start (the Glean
    // pings: a negative port drops every ping unsent; the legacy ones go nowhere) …
    ("telemetry.fog.test.localhost_port", "-1"),
    ("toolkit.telemetry.server", "\"data:,\""),
    ("datareporting.usage.uploadEnabled", "false"),
    ("toolkit.telemetry.newProfilePing.enabled", "false"),
    ("toolkit.telemetry.firstShutdownPing.enabled", "false"),
    ("toolkit.telemetry.shutdownPingSender.enabled", "false"),
    ("toolkit.telemetry.unified", "false"),
    ("toolkit.telemetry.archive.enabled", "false"),
    ("toolkit.telemetry.updatePing.enabled", "false"),
    ("toolkit.telemetry.bhrPing.enabled", "false"),
    ("toolkit.telemetry.dap_enabled", "false"),
    ("browser.newtabpage.activity-stream.telemetry", "false"),
    (
        "browser.newtabpage.activity-stream.feeds.telemetry",
        "false",
    ),
    ("app.shield.optoutstudies.enabled", "false"),
    // … and names resolved by the system resolver, as plain DNS packets a capture reads,
    // never over DNS-over-HTTPS (`5`: off by choice).
    ("network.trr.mode", "5"),
];

/// One headless Firefox process with a BiDi session; killed when dropped.
pub struct Firefox {
    bidi: Cdp,
    address: Option<SocketAddr>,
    child: tokio::sync::Mutex<Child>,
    _profile: tempfile::TempDir,
    timeout: Duration,
}

/// The `user.js` text for [`FIREFOX_PREFS`].
fn user_js() -> String {
    FIREFOX_PREFS
        .iter()
        .map(|(name, value)| format!("user_pref(\"{name}\", {value});\n"))
        .collect()
}

impl Firefox {
    /// Starts Firefox headless with a fresh profile and opens a BiDi session. Events of
    /// every later `session.subscribe` arrive, in wire order, on the returned channel.
    pub async fn launch(
        options: &LaunchOptions,
    ) -> Result<(Self, mpsc::UnboundedReceiver<Event>), BrowserError> {
        let executable =
            crate::browser::Engine::Firefox.executable(options.executable.as_deref())?;
        let profile = tempfile::Builder::new()
            .prefix("lumamesh-firefox-")
            .tempdir()
            .map_err(BrowserError::Profile)?;
        std::fs::write(profile.path().join("user.js"), user_js()).map_err(BrowserError::Profile)?;
        let mut child = spawn(&executable, profile.path(), &options.extra_args)?;
        let url = listening_url(
            &mut child,
            "firefox's WebDriver BiDi address",
            options.timeout,
        )
        .await?;
        let (bidi, events) = Cdp::connect(&format!("{url}/session"), options.timeout).await?;
        let address = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .and_then(|host| host.parse().ok());
        let firefox = Self {
            bidi,
            address,
            child: tokio::sync::Mutex::new(child),
            _profile: profile,
            timeout: options.timeout,
        };
        firefox
            .send("session.new", json!({"capabilities": {}}))
            .await?;
        Ok((firefox, events))
    }

    /// Sends one BiDi command and returns its `result`.
    pub async fn send(&self, method: &str, params: Value) -> Result<Value, BrowserError> {
        Ok(self.bidi.send(None, method, params).await?)
    }

    /// The address its BiDi server listens on (the harness's own connection to it, not
    /// the page's).
    pub fn address(&self) -> Option<SocketAddr> {
        self.address
    }

    /// Bound on each command.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Ends the session, closes the browser and waits for the process to exit.
    pub async fn close(&self) -> Result<(), BrowserError> {
        let _ = self.send("browser.close", json!({})).await;
        let mut child = self.child.lock().await;
        if tokio::time::timeout(self.timeout, child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
        Ok(())
    }
}

fn spawn(executable: &Path, profile: &Path, extra: &[String]) -> Result<Child, BrowserError> {
    Command::new(executable)
        .args(["--headless", "--no-remote", "--remote-debugging-port=0"])
        .arg("--profile")
        .arg(profile)
        .args(extra)
        .arg("about:blank")
        .env("MOZ_CRASHREPORTER_DISABLE", "1")
        // Release builds ignore `services.settings.server` without it: remote settings
        // would still be fetched from Mozilla.
        .env("MOZ_REMOTE_SETTINGS_DEVTOOLS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| BrowserError::Script(format!("cannot start {}: {e}", executable.display())))
}
