#!/usr/bin/env bash
# How much can one local user make authd write to its log? `nobody` sends requests about
# an account named with 60,000 escape characters (authd-bench flood-refused, 4
# connections) for S seconds; the daemon's log is measured before and after, giving log
# bytes per refused request and per second. Default config otherwise.
# Run as root from the project root; needs setpriv.
# Usage: bench/log-flood.sh [SECONDS]            (default 10)
#        AUTHD=path/to/authd bench/log-flood.sh  measure another daemon build (e.g. older)
set -euo pipefail
S=${1:-10}
cargo build --release -q --bins
AUTHD=${AUTHD:-target/release/authd}
T=$(mktemp -d /tmp/log-flood.XXXXXX)
chmod 755 "$T"
SOCK=$T/authd.sock
DPID=
cleanup() { kill $DPID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
cp target/release/authd-bench "$T/"
printf 'socket = "%s"\nstate_dir = "%s/state"\n' "$SOCK" "$T" > "$T/authd.toml"
"$AUTHD" --config "$T/authd.toml" 2>"$T/authd.log" & DPID=$!
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
target/release/authctl --socket "$SOCK" add-user alice >/dev/null
before=$(stat -c %s "$T/authd.log")
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
  "$T/authd-bench" --socket "$SOCK" --scenario flood-refused --clients 4 \
  --duration "${S}s" --json)
# One logged request after the flood: everything before it is in the file.
target/release/authctl --socket "$SOCK" unlock alice >/dev/null
after=$(stat -c %s "$T/authd.log")
python3 - "$out" "$before" "$after" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); grown = int(sys.argv[3]) - int(sys.argv[2])
n, s = max(r["requests"], 1), r["seconds"]
print(f"{r['requests']} refused requests in {s:.1f} s ({r['requests']/s:,.0f}/s); "
      f"log grew {grown:,} bytes: {grown/n:,.1f} bytes per request, {grown/s:,.0f} bytes/s")
PY
