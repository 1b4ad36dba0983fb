//! What a page load did, as recorded over CDP and by the injected script.

use serde::Serialize;

/// Where a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// A CDP event (Chromium).
    Cdp,
    /// A WebDriver BiDi event (Firefox).
    Bidi,
    /// The script injected into every document.
    Js,
}

/// One network request (`Network.requestWillBeSent`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// Requested URL.
    pub url: String,
    /// CDP resource type (`Document`, `Script`, `Fetch`, `WebSocket`, …).
    pub resource_type: Option<String>,
    /// CDP initiator type (`parser`, `script`, `other`, …).
    pub initiator: String,
    /// URL of the script or document that caused it, when CDP knows.
    pub initiator_url: Option<String>,
    /// URL of the document the request belongs to.
    pub document_url: String,
    /// Why the browser refused it before it left (`csp`, `mixed-content`, …),
    /// from `Network.loadingFailed`. Chromium announces CSP-blocked subresources
    /// with `requestWillBeSent` too, so a listed request was not necessarily sent.
    pub blocked_reason: Option<String>,
    /// The failure text (`net::ERR_BLOCKED_BY_CSP`, …) if loading failed.
    pub error: Option<String>,
    /// CDP request id (joins `Network.loadingFailed`).
    #[serde(skip)]
    pub(crate) request_id: String,
}

/// An attempt to open a WebSocket or EventSource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SocketAttempt {
    /// The URL passed to the constructor.
    pub url: String,
    /// Script URL of the caller, when known.
    pub source: Option<String>,
    /// 1-based line of the caller, when known.
    pub line: Option<i64>,
    /// URL of the frame that made the attempt (JS records only).
    pub frame_url: Option<String>,
    /// Source of this record.
    pub via: Via,
}

/// A Content-Security-Policy violation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CspViolation {
    /// The directive that refused it (`default-src`, `connect-src`, …).
    pub directive: String,
    /// The refused URL (or `inline`, `eval`, …).
    pub blocked_uri: String,
    /// Script or document where it happened.
    pub source: Option<String>,
    /// 1-based line, when known.
    pub line: Option<i64>,
    /// Frame URL (JS records only).
    pub frame_url: Option<String>,
    /// Source of this record.
    pub via: Via,
}

/// A console error or an uncaught exception.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScriptError {
    /// The message text.
    pub message: String,
    /// Script URL, when known.
    pub source: Option<String>,
    /// 1-based line, when known.
    pub line: Option<i64>,
}

/// The states one RTCPeerConnection went through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeerConnectionRecord {
    /// Frame that created it.
    pub frame_url: String,
    /// Index of the connection within its frame.
    pub pc: i64,
    /// `connectionState` values in order, starting with `new`.
    pub states: Vec<String>,
    /// `iceConnectionState` values in order.
    pub ice_states: Vec<String>,
    /// The ICE server URLs it was configured with.
    pub ice_servers: Vec<String>,
    /// Remote candidates it was given (remote descriptions, `addIceCandidate`), as
    /// `(protocol, address, port)`.
    pub remote_candidates: Vec<(String, String, u16)>,
    /// The ports of its own (local) candidates.
    pub local_ports: Vec<u16>,
}

/// The states one RTCDataChannel went through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DataChannelRecord {
    /// Frame that owns it.
    pub frame_url: String,
    /// Index of its peer connection within the frame (-1 if unknown).
    pub pc: i64,
    /// Its label.
    pub label: String,
    /// `readyState` values in order (`connecting`, `open`, `closed`, `error`).
    pub states: Vec<String>,
}

impl DataChannelRecord {
    /// Whether it ever reached `open`.
    pub fn opened(&self) -> bool {
        self.states.iter().any(|s| s == "open")
    }
}

/// Everything recorded for one page, top frame and sub-frames together.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PageReport {
    /// The URL the page was opened at.
    pub url: String,
    /// URLs of the frames that ran the injected script (top first).
    pub frames: Vec<String>,
    /// Every network request.
    pub requests: Vec<RequestRecord>,
    /// WebSocket constructions (JS) and creations (CDP `Network.webSocketCreated`).
    pub websockets: Vec<SocketAttempt>,
    /// EventSource constructions.
    pub event_sources: Vec<SocketAttempt>,
    /// CSP violations from `Audits.issueAdded` and from `securitypolicyviolation`.
    pub csp_violations: Vec<CspViolation>,
    /// `console.error` calls.
    pub console_errors: Vec<ScriptError>,
    /// Uncaught exceptions (`Runtime.exceptionThrown`).
    pub exceptions: Vec<ScriptError>,
    /// RTCPeerConnections and their states.
    pub peer_connections: Vec<PeerConnectionRecord>,
    /// RTCDataChannels and their states.
    pub data_channels: Vec<DataChannelRecord>,
    /// `window.open` calls, by URL.
    pub window_opens: Vec<String>,
}

impl PageReport {
    /// Whether any data channel in any frame reached `open`.
    pub fn data_channel_opened(&self) -> bool {
        self.data_channels.iter().any(DataChannelRecord::opened)
    }

    /// Requests whose URL does not start with `origin` (and are not
    /// `data:`/`blob:`), including ones the browser then blocked.
    pub fn foreign_requests(&self, origin: &str) -> Vec<&RequestRecord> {
        self.requests
            .iter()
            .filter(|r| {
                !r.url.starts_with(origin)
                    && !r.url.starts_with("data:")
                    && !r.url.starts_with("blob:")
                    && r.url != "about:blank"
            })
            .collect()
    }

    /// Foreign requests that the browser did not block before sending.
    pub fn foreign_requests_sent(&self, origin: &str) -> Vec<&RequestRecord> {
        self.foreign_requests(origin)
            .into_iter()
            .filter(|r| r.blocked_reason.is_none())
            .collect()
    }
}
