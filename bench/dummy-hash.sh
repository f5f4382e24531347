#!/usr/bin/env bash
# Does an unknown name cost what a real account costs? One client's verify latency, as a
# login makes it, for three kinds of request interleaved one by one (authd-bench
# --scenario verify-names): an unknown name (the dummy hash, nothing written), an existing
# account with a wrong password (its hash, the failure count written and flushed) and with
# the right one (its hash, the success written and flushed). Release daemon, default
# argon2 parameters (19 MiB, t=2); its lockout is set out of reach so that the wrong
# passwords never lock.
# Run from the project root. Usage: bench/dummy-hash.sh [SECONDS] [RUNS] (default 10, 3)
set -euo pipefail
S=${1:-10}
R=${2:-3}
cargo build --release -q --bins
T=$(mktemp -d /tmp/dummy-hash.XXXXXX)
SOCK=$T/authd.sock
DPID=
cleanup() { kill $DPID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
printf 'socket = "%s"\nstate_dir = "%s/state"\n[lockout]\nmax_failures = 4000000000\n' \
  "$SOCK" "$T" > "$T/authd.toml"
target/release/authd --config "$T/authd.toml" 2>"$T/authd.log" & DPID=$!
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$R"); do
  out=$(target/release/authd-bench --socket "$SOCK" --scenario verify-names --clients 1 \
    --duration "${S}s" --json)
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print("run %s: %d requests, %d unexpected answers" % (sys.argv[2], r["requests"], r["errors"]))
for k in r["by_kind"]:
    print("    %-15s median %6.2f ms  p90 %6.2f ms  (%d)" % (k["kind"], k["p50_us"] / 1e3, k["p90_us"] / 1e3, k["requests"]))
' "$out" "$run"
done
