#!/usr/bin/env bash
# Cross-relay signal forwarding benchmark (not a test): three federated release
# `lumamesh-relay` processes on loopback (MESH_LISTEN/MESH_PEERS/MESH_SALT, health on), then
# release `lumamesh-load` with a relay.txt of all three. Prints the load report (same-relay
# and cross-relay latency, delivered/sent, errors by code) and each relay's /statsz "mesh"
# counters before and after the run, with the gossip bytes the run added.
#
#   cargo build --release -p lumamesh-relay --bins
#   relay/examples/bench_federation.sh [SESSIONS] [ROOMS] [SIGNALS_PER_SEC] [HOLD_SECS]
#
# Defaults: 1000 sessions, 100 rooms, 1 signal/s per session, 20 s hold. Binaries come from
# $CARGO_TARGET_DIR/release (or target/release).
set -euo pipefail

SESSIONS=${1:-1000}
ROOMS=${2:-100}
RATE=${3:-1}
HOLD=${4:-20}
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Every client comes from 127.0.0.1 (one address, one /24): lift the per-source admission
# limits that protect a public relay from one host (issue 14).
LIFT_SOURCE_LIMITS="NEW_SESSIONS_PER_IP=1000 NEW_SESSION_BURST_PER_IP=1000 \
  NEW_SESSIONS_PER_PREFIX=1000 NEW_SESSION_BURST_PER_PREFIX=1000 MAX_SESSIONS_PER_IP=2000 \
  MAX_SESSIONS_PER_PREFIX=2000 MAX_HANDSHAKING_PER_IP=256 MAX_HANDSHAKING_PER_PREFIX=256"

# start_relay NAME [PEERS]: prints nothing; leaves $WORK/NAME/out with the start banner.
start_relay() {
  local dir=$WORK/$1
  mkdir -p "$dir"
  (
    cd "$dir"
    MESH_LISTEN=127.0.0.1:0 MESH_PEERS=${2:-} MESH_SALT=bench-federation \
      HEALTH_LISTEN=127.0.0.1:0 UDP_PORT=0 MAX_SESSIONS=2000 \
      RUST_LOG=warn exec env $LIFT_SOURCE_LIMITS "$BIN/lumamesh-relay" >out 2>err
  ) &
  PIDS+=($!)
  for _ in $(seq 100); do
    grep -q '^relay.txt: ' "$dir/out" 2>/dev/null && return
    sleep 0.1
  done
  echo "relay $1 did not start:" >&2
  cat "$dir/err" >&2
  exit 1
}
field() { sed -n "s/^$2: //p" "$WORK/$1/out"; }
statsz() { curl -fsS "http://$(field "$1" health)/statsz"; }

start_relay a
start_relay b "$(field a mesh)"
start_relay c "$(field b mesh)"
for r in a b c; do
  for _ in $(seq 300); do
    [ "$(statsz $r | jq '.mesh.mesh_peers == 2 and .mesh.known_relays == 2')" = true ] && break
    sleep 0.1
  done
  field $r relay.txt >>"$WORK/relay.txt"
done
for r in a b c; do statsz $r | jq -c .mesh >"$WORK/$r.before"; done

"$BIN/lumamesh-load" --relay-txt "$WORK/relay.txt" --sessions "$SESSIONS" --rooms "$ROOMS" \
  --signals-per-sec "$RATE" --hold-secs "$HOLD" --connect-rate 200 --json >"$WORK/load.json"

jq '{sessions, connected, failed, elapsed_secs, relays, signals_sent, signals_received,
     signal_latency, same_relay, cross_relay, error_frames, errors_by_code, failures,
     lost_to_present, to_absent, from_absent, signals_refused, drain_secs, errors}' \
  "$WORK/load.json"
for r in a b c; do
  statsz $r | jq -c .mesh >"$WORK/$r.after"
  jq -n --arg relay "$r" --slurpfile b "$WORK/$r.before" --slurpfile a "$WORK/$r.after" \
    '{relay: $relay, mesh_after: $a[0],
      run: ($a[0] as $x | $b[0] as $y | {
        gossip_bytes_in: ($x.gossip_bytes_in - $y.gossip_bytes_in),
        gossip_bytes_out: ($x.gossip_bytes_out - $y.gossip_bytes_out),
        gossip_messages_in: ($x.gossip_messages_in - $y.gossip_messages_in),
        gossip_messages_out: ($x.gossip_messages_out - $y.gossip_messages_out),
        signals_in: ($x.signals_in - $y.signals_in),
        signals_out: ($x.signals_out - $y.signals_out)})}' -c
done
