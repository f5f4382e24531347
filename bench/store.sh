#!/usr/bin/env bash
# How close does authd's write path come to what its store can do? In one run, side by
# side: the store's ceiling (authd-bench --scenario store-ceiling: no daemon, bare sled
# 0.34.7 with one group-commit flusher, each write what a successful TOTP login writes),
# then authd's verify-totp and add-user, each with 64 clients and with 1 client, and the
# ratios authd / ceiling.
# Each authd measurement gets a fresh daemon on a fresh state directory, with cheap argon2
# parameters (argon2_m_kib = 8, argon2_t = 1) so logins measure the write path. verify-totp
# is spread over enough accounts for the whole run: add-user's rate x SECONDS / 2 (each
# account takes two logins at once; the report's `waited` says if that was too few).
# Run from the project root; needs python3.
# Usage: bench/store.sh [SECONDS]           each measurement (default 10)
#        AUTHD=path/to/authd bench/store.sh   measure another daemon build
set -euo pipefail
S=${1:-10}
cargo build --release -q --bins
AUTHD=${AUTHD:-target/release/authd}
BENCH=target/release/authd-bench
T=$(mktemp -d /tmp/store-bench.XXXXXX)
SOCK=$T/authd.sock
DPID=
cleanup() { [ -z "$DPID" ] || kill "$DPID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT

start_daemon() {
  rm -rf "$T/state" "$SOCK"
  printf 'socket = "%s"\nstate_dir = "%s/state"\n[password]\nargon2_m_kib = 8\nargon2_t = 1\n' \
    "$SOCK" "$T" > "$T/authd.toml"
  "$AUTHD" --config "$T/authd.toml" 2>>"$T/authd.log" & DPID=$!
  for _ in $(seq 200); do
    target/release/authctl --socket "$SOCK" status >/dev/null 2>&1 && return
    sleep 0.05
  done
  echo "authd did not start; its log:" >&2; cat "$T/authd.log" >&2; exit 1
}
stop_daemon() { kill "$DPID"; wait "$DPID" || true; DPID=; }

# run NAME ARGS...: one measurement, its JSON report kept as $T/NAME.json
run() {
  local name=$1; shift
  "$BENCH" --json --duration "${S}s" "$@" > "$T/$name.json"
}
rate() { python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["requests_per_sec"]))' "$T/$1.json"; }

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
for c in 64 1; do
  run "ceiling-$c" --scenario store-ceiling --clients "$c" --dir "$T/ceiling-$c"
  rm -rf "$T/ceiling-$c"
  start_daemon
  run "add-user-$c" --socket "$SOCK" --scenario add-user --clients "$c"
  stop_daemon
  accounts=$(( $(rate "add-user-$c") * S / 2 + 64 ))
  start_daemon
  run "verify-totp-$c" --socket "$SOCK" --scenario verify-totp --clients "$c" --accounts "$accounts"
  stop_daemon
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$T" <<'EOF'
import json, sys
t = sys.argv[1]
def r(name):
    return json.load(open(f"{t}/{name}.json"))
print(f"{'scenario':<14}{'clients':>8}{'requests/s':>12}{'p50 µs':>9}{'p99 µs':>9}{'errors':>8}{'/ ceiling':>11}  note")
for c in (64, 1):
    ceiling = r(f"ceiling-{c}")
    for name in ("ceiling", "add-user", "verify-totp"):
        x = r(f"{name}-{c}")
        ratio = x["requests_per_sec"] / ceiling["requests_per_sec"]
        note = ""
        if name == "ceiling":
            note = f"{x['requests'] / max(x['flushes'], 1):.1f} writes per flush"
        elif x.get("waited_for_codes_secs"):
            note = f"waited {x['waited_for_codes_secs']:.1f} client-s for codes: too few accounts"
        if x.get("daemon_peak_rss_kib"):
            note += f"{'; ' if note else ''}peak RSS {x['daemon_peak_rss_kib'] // 1024} MiB"
        print(f"{name:<14}{c:>8}{x['requests_per_sec']:>12,.0f}{x['p50_us']:>9,}{x['p99_us']:>9,}"
              f"{x['errors']:>8}{ratio:>10.0%}  {note}")
EOF
