#!/usr/bin/env bash
# Issue 17 item 5, the relay figures: starts a release lumamesh-relay on loopback with the
# per-source limits lifted, then runs lumamesh-load three ways against it (each run well
# under two minutes), printing one JSON report per run into $OUT:
#   burst      3,000 sessions offered at 1,500/s, held to the end (connect p99; relay CPU
#              per new session)
#   sustained  RATE new sessions/s for SECS seconds, each closing 1 s after its Welcome
#              (achieved rate, connect p99, failures, generator CPU share)
#   signals    10,000 sessions in 1,000 rooms at 0.2 signals/s (forward p99, lost_to_present)
# Clients come from 8 loopback /24s (--prefixes 8), so the relay's per-/24 limits and a
# sharded relay's dispatch see 8 prefixes.
#
# Usage: relay/examples/bench_issue17.sh [burst|sustained|signals|all]
# Env: BIN (dir with lumamesh-relay and lumamesh-load; default the release target dir),
#      THREADS (passed to the relay if set), RATE (2000), SECS (20), OUT (/tmp/bench17),
#      PORT (35017; the relay's /statsz is on PORT+1, and its `io` counters, the datagrams the
#      relay itself dropped, are printed after each run).
set -euo pipefail
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
OUT=${OUT:-/tmp/bench17}
PORT=${PORT:-35017}
RATE=${RATE:-2000}
SECS=${SECS:-20}
what=${1:-all}
mkdir -p "$OUT"
tag=${THREADS:+threads$THREADS}
tag=${tag:-default}

start_relay() {
  env MAX_SESSIONS=12000 NEW_SESSIONS_PER_IP=5000 NEW_SESSION_BURST_PER_IP=5000 \
    NEW_SESSIONS_PER_PREFIX=5000 NEW_SESSION_BURST_PER_PREFIX=5000 MAX_SESSIONS_PER_IP=12000 \
    MAX_SESSIONS_PER_PREFIX=12000 MAX_HANDSHAKING_PER_IP=1024 MAX_HANDSHAKING_PER_PREFIX=1024 \
    ${THREADS:+THREADS=$THREADS} CERT_FILE="$OUT/server.crt" KEY_FILE="$OUT/server.key" NODE_KEY="$OUT/node.key" UDP_PORT=$PORT UDP_BIND=127.0.0.1 RUST_LOG=warn \
    HEALTH_LISTEN=127.0.0.1:$((PORT + 1)) \
    "$BIN/lumamesh-relay" > "$OUT/relay.out" 2>&1 &
  relay=$!
  for _ in $(seq 100); do
    grep -q '^relay.txt: ' "$OUT/relay.out" 2>/dev/null && break
    sleep 0.1
  done
  grep '^relay.txt: ' "$OUT/relay.out" | cut -c12- > "$OUT/relay.txt"
}

stop_relay() {
  kill -TERM "$relay" 2>/dev/null || true
  wait "$relay" 2>/dev/null || true
}

# The kernel's UDP receive-buffer drops (all sockets): a burst that overflows the relay's
# socket shows here, and DTLS/SCTP then wait for their retransmission timers.
rcvbuf_errors() {
  awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 }
    else print $c }' /proc/net/snmp
}

load() {
  local name=$1
  shift
  echo "== $name ($tag): load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  local drops_before
  drops_before=$(rcvbuf_errors)
  start_relay
  "$BIN/lumamesh-load" --relays "$OUT/relay.txt" --relay-pid "$relay" --prefixes 8 \
    --json "$@" > "$OUT/$name-$tag.json" || true
  echo "relay io: $(curl -s "http://127.0.0.1:$((PORT + 1))/statsz" | jq -c .io)" >&2
  stop_relay
  echo "udp RcvbufErrors during the run: $(($(rcvbuf_errors) - drops_before))" >&2
  jq -c '{connected, failed, connect, achieved_rate, cpu, lost_to_present, to_absent,
    to_unidentified, error_frames, forward: .signal_latency}' "$OUT/$name-$tag.json"
}

case $what in burst|all)
  load burst --sessions 3000 --connect-rate 1500 --signals-per-sec 0 --hold-secs 0 \
    --rooms 300 --connect-timeout-secs 30 ;;
esac
case $what in sustained|all)
  load sustained --sessions $((RATE * SECS)) --connect-rate "$RATE" --session-hold-secs 1 \
    --rooms 1000 --connect-timeout-secs 10 ;;
esac
case $what in signals|all)
  load signals --sessions 10000 --connect-rate 400 --rooms 1000 --signals-per-sec 0.2 \
    --hold-secs 20 --connect-timeout-secs 30 ;;
esac
