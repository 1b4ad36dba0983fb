//! A tiny HTTP/1.1 responder for health checks and metrics: `GET /healthz`, `/statsz`,
//! `/metrics` (Prometheus text). One request per connection; anything else gets 404/405.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::debug;

use crate::core::Stats;
use crate::driver::IoStats;
use crate::mesh::swarm::MeshReport;

/// Largest request head read.
const MAX_REQUEST: usize = 8 * 1024;

/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// What the driver publishes for the health server.
#[derive(Debug, Default, Clone, Copy)]
pub struct Snapshot {
    /// The relay core's counters and gauges.
    pub relay: Stats,
    /// The federation's, if the relay is federated.
    pub mesh: Option<MeshReport>,
    /// What the driver counted on the socket (datagrams the relay itself dropped).
    pub io: IoStats,
}

/// What the health server reports.
#[derive(Clone)]
pub struct HealthState {
    /// The relay's node key, hex.
    pub node_id: String,
    /// Latest stats from the driver.
    pub stats: watch::Receiver<Snapshot>,
    /// When the relay started.
    pub started: Instant,
}

/// Serves health requests on `listener` forever.
pub async fn serve(listener: TcpListener, state: HealthState) {
    let state = Arc::new(state);
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let state = state.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle(stream, &state).await {
                        debug!(%peer, error = %e, "health request failed");
                    }
                });
            }
            Err(e) => {
                debug!(error = %e, "health accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn handle(mut stream: TcpStream, state: &HealthState) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let read = tokio::time::timeout(READ_TIMEOUT, async {
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    if !matches!(read, Ok(Ok(()))) {
        return Ok(());
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, content_type, body) = respond(method, path, state);
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    if method != "HEAD" {
        stream.write_all(body.as_bytes()).await?;
    }
    stream.shutdown().await
}

fn respond(method: &str, path: &str, state: &HealthState) -> (&'static str, &'static str, String) {
    const JSON: &str = "application/json";
    if method != "GET" && method != "HEAD" {
        return (
            "405 Method Not Allowed",
            "text/plain",
            "method not allowed\n".into(),
        );
    }
    let Snapshot {
        relay: stats,
        mesh,
        io,
    } = *state.stats.borrow();
    match path {
        "/healthz" => {
            let body = json!({ "nodeId": state.node_id, "ok": true, "ts": unix_millis() });
            ("200 OK", JSON, body.to_string())
        }
        "/statsz" => {
            let mut body = json!({
                "nodeId": state.node_id,
                "ts": unix_millis(),
                "uptimeSecs": state.started.elapsed().as_secs(),
                "stats": stats,
                "io": io,
            });
            if let Some(mesh) = mesh {
                body["mesh"] = json!(mesh);
            }
            ("200 OK", JSON, body.to_string())
        }
        "/metrics" => {
            let mut text = prometheus(&stats, state.started.elapsed());
            io_prometheus(&io, &mut text);
            // A relay that is not federated shows zeros, so the series always exist.
            mesh_prometheus(&mesh.unwrap_or_default(), &mut text);
            ("200 OK", "text/plain; version=0.0.4", text)
        }
        _ => ("404 Not Found", "text/plain", "not found\n".into()),
    }
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Current values, not running totals.
const GAUGES: [&str; 4] = ["sessions", "sessions_handshaking", "sessions_open", "rooms"];

/// Renders stats as Prometheus text: gauges as-is, counters with `_total`, rejects labelled.
pub fn prometheus(stats: &Stats, uptime: Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# TYPE lumamesh_relay_uptime_seconds gauge");
    let _ = writeln!(out, "lumamesh_relay_uptime_seconds {}", uptime.as_secs());
    let Ok(Value::Object(fields)) = serde_json::to_value(stats) else {
        return out;
    };
    for (name, value) in &fields {
        match value {
            Value::Number(n) if GAUGES.contains(&name.as_str()) => {
                let _ = writeln!(out, "# TYPE lumamesh_relay_{name} gauge");
                let _ = writeln!(out, "lumamesh_relay_{name} {n}");
            }
            Value::Number(n) => {
                let _ = writeln!(out, "# TYPE lumamesh_relay_{name}_total counter");
                let _ = writeln!(out, "lumamesh_relay_{name}_total {n}");
            }
            Value::Object(reasons) => {
                let _ = writeln!(out, "# TYPE lumamesh_relay_{name}_total counter");
                for (reason, n) in reasons {
                    let _ = writeln!(
                        out,
                        "lumamesh_relay_{name}_total{{reason=\"{reason}\"}} {n}"
                    );
                }
            }
            _ => {}
        }
    }
    out
}

/// Appends the driver's `lumamesh_relay_*_total` counters ([`IoStats`]).
pub fn io_prometheus(io: &IoStats, out: &mut String) {
    if let Ok(Value::Object(fields)) = serde_json::to_value(io) {
        for (name, n) in &fields {
            let _ = writeln!(out, "# TYPE lumamesh_relay_{name}_total counter");
            let _ = writeln!(out, "lumamesh_relay_{name}_total {n}");
        }
    }
}

/// Appends the federation's `lumamesh_mesh_*` lines: gauges as-is, in/out counters with a
/// `direction` label, refusals with a `reason` label.
pub fn mesh_prometheus(report: &MeshReport, out: &mut String) {
    let node = &report.node;
    for (name, value) in [
        ("peers", node.mesh_peers),
        ("known_relays", node.known_relays),
        ("connections", report.connections),
    ] {
        let _ = writeln!(out, "# TYPE lumamesh_mesh_{name} gauge");
        let _ = writeln!(out, "lumamesh_mesh_{name} {value}");
    }
    for (name, incoming, outgoing) in [
        ("gossip_bytes", node.gossip_bytes_in, node.gossip_bytes_out),
        (
            "gossip_messages",
            node.gossip_messages_in,
            node.gossip_messages_out,
        ),
        ("signals", node.signals_in, node.signals_out),
    ] {
        let _ = writeln!(out, "# TYPE lumamesh_mesh_{name}_total counter");
        let _ = writeln!(
            out,
            "lumamesh_mesh_{name}_total{{direction=\"in\"}} {incoming}"
        );
        let _ = writeln!(
            out,
            "lumamesh_mesh_{name}_total{{direction=\"out\"}} {outgoing}"
        );
    }
    if let Ok(Value::Object(reasons)) = serde_json::to_value(node.refused) {
        let _ = writeln!(out, "# TYPE lumamesh_mesh_refused_total counter");
        for (reason, n) in &reasons {
            let _ = writeln!(
                out,
                "lumamesh_mesh_refused_total{{reason=\"{reason}\"}} {n}"
            );
        }
    }
    if let Ok(Value::Object(fields)) = serde_json::to_value(report.swarm) {
        for (name, n) in &fields {
            let _ = writeln!(out, "# TYPE lumamesh_mesh_{name}_total counter");
            let _ = writeln!(out, "lumamesh_mesh_{name}_total {n}");
        }
    }
}

/// Binds the health listener (so the caller can report its address before serving).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{io_prometheus, mesh_prometheus, prometheus};
    use crate::core::Stats;
    use crate::driver::IoStats;
    use crate::mesh::swarm::MeshReport;

    #[test]
    fn metrics_text() {
        let mut stats = Stats {
            sessions: 3,
            handshakes: 5,
            ..Stats::default()
        };
        stats.rejects.unauthenticated = 7;
        let text = prometheus(&stats, Duration::from_secs(9));
        assert!(text.contains("lumamesh_relay_sessions 3\n"));
        assert!(text.contains("lumamesh_relay_handshakes_total 5\n"));
        assert!(text.contains("lumamesh_relay_rejects_total{reason=\"unauthenticated\"} 7\n"));
        assert!(text.contains("lumamesh_relay_uptime_seconds 9\n"));
    }

    #[test]
    fn every_core_counter_is_a_metric() {
        // Each field of the stats, rejects included, shows up in /metrics; /statsz is the
        // same struct serialized, so it has them all too.
        let text = prometheus(&Stats::default(), Duration::ZERO);
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(Stats::default()) else {
            panic!("stats serialize to an object");
        };
        for (name, value) in &fields {
            let wanted = match value {
                serde_json::Value::Object(reasons) => reasons
                    .keys()
                    .map(|r| format!("lumamesh_relay_{name}_total{{reason=\"{r}\"}} 0\n"))
                    .collect(),
                _ if super::GAUGES.contains(&name.as_str()) => {
                    vec![format!("lumamesh_relay_{name} 0\n")]
                }
                _ => vec![format!("lumamesh_relay_{name}_total 0\n")],
            };
            for line in wanted {
                assert!(text.contains(&line), "{line} missing from\n{text}");
            }
        }
        for name in ["signals_limited", "joins_limited", "room_churn_limited"] {
            assert!(fields.contains_key(name), "{name} not in the stats");
        }
    }

    #[test]
    fn io_metrics_text() {
        let io = IoStats {
            queue_dropped: 3,
            send_errors: 1,
            ..IoStats::default()
        };
        let mut text = prometheus(&Stats::default(), Duration::ZERO);
        io_prometheus(&io, &mut text);
        has_lines_each_name_typed_once(
            &text,
            &[
                "lumamesh_relay_queue_dropped_total 3\n",
                "lumamesh_relay_send_errors_total 1\n",
                "lumamesh_relay_recv_errors_total 0\n",
            ],
        );
    }

    /// `text` holds every one of `lines`, and one `# TYPE` line per series name.
    fn has_lines_each_name_typed_once(text: &str, lines: &[&str]) {
        for line in lines {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        let types = text.lines().filter(|l| l.starts_with("# TYPE")).count();
        let names: std::collections::HashSet<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split(['{', ' ']).next().unwrap())
            .collect();
        assert_eq!(types, names.len(), "one TYPE line per name: {text}");
    }

    #[test]
    fn mesh_metrics_text() {
        let mut report = MeshReport::default();
        report.node.mesh_peers = 2;
        report.node.known_relays = 3;
        report.node.gossip_bytes_in = 100;
        report.node.signals_out = 4;
        report.node.refused.forged = 5;
        report.swarm.publish_unheard = 6;
        report.connections = 2;
        let mut text = String::new();
        mesh_prometheus(&report, &mut text);
        has_lines_each_name_typed_once(
            &text,
            &[
                "lumamesh_mesh_peers 2\n",
                "lumamesh_mesh_known_relays 3\n",
                "lumamesh_mesh_connections 2\n",
                "lumamesh_mesh_gossip_bytes_total{direction=\"in\"} 100\n",
                "lumamesh_mesh_gossip_bytes_total{direction=\"out\"} 0\n",
                "lumamesh_mesh_gossip_messages_total{direction=\"in\"} 0\n",
                "lumamesh_mesh_signals_total{direction=\"out\"} 4\n",
                "lumamesh_mesh_refused_total{reason=\"forged\"} 5\n",
                "lumamesh_mesh_refused_total{reason=\"rate_limited\"} 0\n",
                "lumamesh_mesh_publish_unheard_total 6\n",
            ],
        );
    }
}
