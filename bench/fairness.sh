#!/usr/bin/env bash
# Can one local user slow down everyone's logins? Root's password check (authd-bench
# verify-password, one client, as PAM would make it) measured on a quiet daemon, then
# while `nobody` floods it with password checks of its own (absent) account on 200
# connections, then while nobody holds 1,500 idle connections. The daemon runs with the
# default config (argon2id 19 MiB, t=2; one hash worker per CPU).
# Run as root from the project root; needs setpriv and python3.
# Usage: bench/fairness.sh [SECONDS]        each measurement (default 10)
#        AUTHD=path/to/authd bench/fairness.sh   measure another daemon build (e.g. older)
set -euo pipefail
S=${1:-10}
cargo build --release -q --bins
AUTHD=${AUTHD:-target/release/authd}
T=$(mktemp -d /tmp/fairness.XXXXXX)
chmod 755 "$T"
SOCK=$T/authd.sock
DPID= FPID=
cleanup() { kill $FPID $DPID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
# nobody may not be allowed into the build tree: it runs its own copy.
cp target/release/authd-bench "$T/"
printf 'socket = "%s"\nstate_dir = "%s/state"\n' "$SOCK" "$T" > "$T/authd.toml"
"$AUTHD" --config "$T/authd.toml" 2>"$T/authd.log" & DPID=$!
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
root() {
  local out
  if out=$("$T/authd-bench" --socket "$SOCK" --scenario verify-password --clients 1 \
      --duration "${S}s" --json 2>&1); then
    python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print("median %.1f ms, p90 %.1f ms, max %.1f ms; %d verifies, %d errors" % (r["p50_us"] / 1e3, r["p90_us"] / 1e3, r["max_us"] / 1e3, r["requests"], r["errors"]))' "$out"
  else
    echo "FAILED: $out"
  fi
}
sockets() { find /proc/"$1"/fd -lname 'socket:*' 2>/dev/null | wc -l; }
# New connections, as each PAM login makes one: how many of 20 `authctl status` succeed.
statuses() {
  local ok=0
  for _ in $(seq 20); do
    target/release/authctl --socket "$SOCK" status >/dev/null 2>&1 && ok=$((ok + 1))
  done
  echo "$ok of 20"
}
# The flood runs until root's measurements (setup included) are over, then is killed.
flood() {
  # setpriv execs authd-bench: $FPID is the flooding process itself.
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/authd-bench" --socket "$SOCK" \
    --scenario "$1" --clients "$2" --duration 3600s >/dev/null & FPID=$!
  # Until nobody holds all it can get: its socket count unchanged for 2 s (at most 60 s).
  local held=-1 now
  for _ in $(seq 30); do
    sleep 2; now=$(sockets $FPID); [ "$now" = "$held" ] && break; held=$now
  done
  echo "$1 by nobody ($2 connections; it holds $held):"
  echo "    root's verify: $(root)"
  echo "    root's authctl status on new connections: $(statuses) succeeded"
  kill $FPID; wait $FPID 2>/dev/null || true; FPID=
}
echo "daemon: $AUTHD ($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "quiet: root's verify: $(root)"
flood flood-verify 200
flood flood-idle 1500
echo "quiet again: root's verify: $(root)"
