#!/usr/bin/env bash
# How fast does authd start on a big store, how big is it when ready, and what does `show`
# cost there? On a copy of STATE_DIR (made with `authd-bench --populate`; the copy is
# taken afresh for each run, as starting changes a store), with the default config:
#   1. start: time from exec until `authctl status` answers, and the RSS then;
#   2. stop (SIGTERM), start again on the same copy: the same figures;
#   3. `authd-bench --scenario show --no-setup --clients 64` for SECONDS on that daemon:
#      p50, p99, requests/s, and the daemon's peak RSS (VmHWM) after it; then the same
#      with one client (a lone request's latency: with 64 clients on 2 CPUs the p50 is
#      mostly the wait behind the other 63).
# Run from the project root; the page cache is warm (the copy was just written).
# Usage: bench/start.sh STATE_DIR ACCOUNTS [SECONDS]    e.g. /work/bench-1m 1000000 10
#        AUTHD=path/to/authd bench/start.sh ...           measure another daemon build
set -euo pipefail
SRC=${1:?usage: bench/start.sh STATE_DIR ACCOUNTS [SECONDS]}
N=${2:?usage: bench/start.sh STATE_DIR ACCOUNTS [SECONDS]}
S=${3:-10}
cargo build --release -q --bins
AUTHD=${AUTHD:-target/release/authd}
CTL=target/release/authctl
T=$(mktemp -d /tmp/start-bench.XXXXXX)
SOCK=$T/authd.sock
DPID=
cleanup() { [ -z "$DPID" ] || kill "$DPID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
cp -a "$SRC" "$T/state"
sync  # the copy written back first, so the start does not compete with it
printf 'socket = "%s"\nstate_dir = "%s/state"\n' "$SOCK" "$T" > "$T/authd.toml"
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# start LABEL: exec the daemon, poll `authctl status` until it answers.
start() {
  local t0 t1
  t0=$(date +%s%N)
  "$AUTHD" --config "$T/authd.toml" 2>>"$T/authd.log" & DPID=$!
  until "$CTL" --socket "$SOCK" status >/dev/null 2>&1; do
    kill -0 "$DPID" 2>/dev/null || { echo "authd exited; its log:"; cat "$T/authd.log"; exit 1; }
  done
  t1=$(date +%s%N)
  echo "$1: ready after $(( (t1 - t0) / 1000000 )) ms, RSS $(( $(kib "$DPID" VmRSS) / 1024 )) MiB"
}
stop() {
  local t0 t1
  t0=$(date +%s%N)
  kill "$DPID"; wait "$DPID" || true; DPID=
  t1=$(date +%s%N)
  echo "   stopped (SIGTERM) in $(( (t1 - t0) / 1000000 )) ms"
}

echo "store: $SRC ($(du -sk "$T/state" | cut -f1) KiB), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
start "first start "
stop
start "second start"
show() {
  target/release/authd-bench --socket "$SOCK" --json --scenario show --no-setup \
    --accounts "$N" --clients "$1" --duration "${S}s" > "$T/show.json"
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print("show, %d clients, %d s: %.0f requests/s, p50 %d us, p99 %d us, %d errors; daemon peak RSS %d MiB" % (r["clients"], r["seconds"], r["requests_per_sec"], r["p50_us"], r["p99_us"], r["errors"], r["daemon_peak_rss_kib"] // 1024))' "$T/show.json"
}
show 64
show 1
stop
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
