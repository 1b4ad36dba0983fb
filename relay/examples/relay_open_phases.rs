//! Where "relay open" time goes (a benchmark, not a test): wraps `RTCPeerConnection` in the
//! e2e page to timestamp each step of `connect()` — constructor, implicit offer, static
//! answer, ICE, DTLS, SCTP, the relay's Welcome — and prints the median of each, in ms from
//! the page's script start, over N page loads (the first two are dropped as warm-up).
//!
//! ```text
//! cargo run --release -p lumamesh-relay --example relay_open_phases -- [LOADS]
//! ```
use std::time::Duration;

#[path = "common/e2e_page.rs"]
mod e2e_page;

const WRAP: &str = r#"<script>
window.__m = {};
const mark = (k) => { if (!(k in window.__m)) window.__m[k] = performance.now(); };
const P = RTCPeerConnection;
window.RTCPeerConnection = function (...a) {
  mark('pc');
  const pc = new P(...a);
  mark('pc-made');
  pc.addEventListener('iceconnectionstatechange', () => mark('ice-' + pc.iceConnectionState));
  pc.addEventListener('connectionstatechange', () => mark('conn-' + pc.connectionState));
  pc.addEventListener('icegatheringstatechange', () => mark('gather-' + pc.iceGatheringState));
  const cdc = pc.createDataChannel.bind(pc);
  pc.createDataChannel = (...x) => { const dc = cdc(...x); mark('dc-made'); dc.addEventListener('open', () => mark('dc-open')); dc.addEventListener('message', () => mark('dc-msg')); return dc; };
  const co = pc.createOffer.bind(pc);
  pc.createOffer = async (...x) => { mark('offer-start'); const r = await co(...x); mark('offer-done'); return r; };
  const sl = pc.setLocalDescription.bind(pc);
  pc.setLocalDescription = async (...x) => { mark('local-start'); const r = await sl(...x); mark('local-done'); return r; };
  const sr = pc.setRemoteDescription.bind(pc);
  pc.setRemoteDescription = async (...x) => { mark('remote-start'); const r = await sr(...x); mark('remote-done'); return r; };
  return pc;
};
window.RTCPeerConnection.generateCertificate = (...a) => P.generateCertificate(...a);
</script>
"#;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let e2e_page::Setup {
        relay: _relay,
        server: _server,
        browser,
        url,
    } = e2e_page::start(WRAP).await;
    let loads: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30);
    let mut marks: Vec<serde_json::Map<String, serde_json::Value>> = Vec::new();
    for _ in 0..loads {
        let p = browser.open(&url).await.unwrap();
        p.wait_for("window.lm && lm.relayOpenMs > 0", Duration::from_secs(30))
            .await
            .unwrap();
        let v = p
            .eval(
                "JSON.stringify(Object.assign(Object.fromEntries(Object.entries(__m)\
                 .map(([k, t]) => [k, t - lm.t0])), { 'connect()': lm.relayOpenMs }))",
            )
            .await
            .unwrap();
        marks.push(serde_json::from_str(v.as_str().unwrap()).unwrap());
    }
    let steps = [
        ("pc", "new RTCPeerConnection() called"),
        ("pc-made", "constructor returned"),
        ("local-done", "implicit offer set (setLocalDescription())"),
        ("remote-done", "static answer set"),
        ("ice-checking", "ICE checking"),
        ("ice-connected", "ICE connected"),
        ("conn-connected", "DTLS connected"),
        ("dc-open", "DataChannel open"),
        ("dc-msg", "relay's Welcome received"),
        ("connect()", "connect() resolved"),
    ];
    println!("| step | median ms from script start |");
    println!("|---|---:|");
    for (key, label) in steps {
        let mut v: Vec<f64> = marks
            .iter()
            .skip(2)
            .filter_map(|m| m.get(key).and_then(|x| x.as_f64()))
            .collect();
        v.sort_by(|a, b| a.total_cmp(b));
        if !v.is_empty() {
            println!("| {label} | {:.1} |", v[v.len() / 2]);
        }
    }
}
