#!/usr/bin/env bash
# authd on its PostgreSQL store, against what the same server does without authd, in one
# run (docs/PERFORMANCE.md, PostgreSQL backend):
#   1. the engine's ceilings, pgbench with CLIENTS connections and prepared statements,
#      each in a database of its own, measured first and again last, as the machine's
#      load moves:
#      - `simple-update`: pgbench's built-in script of that name (`-b simple-update`,
#        scale 1: 100,000 accounts): BEGIN, UPDATE of a random account, SELECT of it,
#        INSERT into a history table, END — the ceiling the target is stated against
#        (verify-totp >= 50 % of its tps); like a login, it changes one row and adds one
#        history row in a transaction;
#      - `update`: a stricter one of our own, one statement per transaction, the UPDATE of
#        one row by random key (what a TOTP login's replay-step write is:
#        `UPDATE accounts SET record = $2 WHERE name = $1`) on a table of 100,000 rows of
#        300 bytes;
#   2. for 1, 2 and 3 daemons sharing one fresh database (separate sockets and state
#      directories, one copied secret key): authd-bench add-user, then verify-totp, each
#      with CLIENTS clients spread round-robin over the daemons. Cheap argon2 parameters
#      (argon2_m_kib = 8, argon2_t = 1), so logins measure the store path; verify-totp
#      gets the update ceiling's tps x SECONDS / 4 accounts, enough to reach 50 % of it (each
#      account takes two logins at once; enrolled through the first daemon; the table
#      says when clients waited for fresh codes);
#   3. one table: config | ops/s | p50 | p99 | errors | % of each ceiling's tps (the mean
#      of its two runs) | CPU time per operation of the server (the postmaster, its
#      children and the ones it reaped, from /proc: the server must run on this machine)
#      and of the daemons, over the timed part of each measurement;
#   4. unless ACCOUNTS is 0: ACCOUNTS accounts written straight into a fresh database
#      (`authd-bench --populate --database`: COPY, one shared password hash), then a
#      daemon with the default config on it: exec until `authctl status` answers (twice),
#      and `show` of random accounts for SECONDS with 64 clients and with 1.
# Every measurement runs for SECONDS (a duration, not a count). The server: $PG (default
# postgresql://root@127.0.0.1:5432, trust authentication; tests/postgres.sh sets one up);
# the databases are made and dropped here (authd_bench_PID_*).
# Run from the project root; needs python3, psql and pgbench (Debian: postgresql-client,
# postgresql-15).
# Usage: bench/postgres.sh [SECONDS] [ACCOUNTS]   (defaults 10, 1000000)
#        CLIENTS=64 POOL=16 PG=postgresql://... AUTHD=path/to/authd BIN=dir bench/postgres.sh ...
set -euo pipefail
S=${1:-10}
N=${2:-1000000}
C=${CLIENTS:-64}
POOL=${POOL:-16}
PG=${PG:-postgresql://root@127.0.0.1:5432}
export PGOPTIONS="-c client_min_messages=warning"
# BIN: a directory holding authd, authctl and authd-bench already built (no cargo run)
[ -n "${BIN:-}" ] || cargo build --release -q --bins
BIN=${BIN:-target/release}
AUTHD=${AUTHD:-$BIN/authd}
BENCH=$BIN/authd-bench
CTL=$BIN/authctl
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -1)
[ -x "$PGBENCH" ] || { echo "pgbench not found (Debian: apt-get install postgresql-15)" >&2; exit 1; }
T=$(mktemp -d /tmp/pg-bench.XXXXXX)
DB=authd_bench_$$
PIDS=()
DBS=()
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$PG/${2:-postgres}" -c "$1" >/dev/null; }
stop_daemons() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_daemons
  for d in "${DBS[@]}"; do sql "DROP DATABASE IF EXISTS $d WITH (FORCE)" || true; done
  rm -rf "$T"
}
trap cleanup EXIT
newdb() { DBS+=("$1"); sql "CREATE DATABASE $1"; }
head -c 32 /dev/urandom > "$T/secret.key"
chmod 600 "$T/secret.key"

# daemon K DATABASE [ARGON2]: write daemon K's config (its own socket and state directory,
# the shared key), start it, wait until it answers; READY_MS: how long that took.
daemon() {
  local k=$1 db=$2 cheap=${3:-cheap} t0 t1
  mkdir -p -m 700 "$T/d$k"
  cp -p "$T/secret.key" "$T/d$k/secret.key"
  {
    printf 'socket = "%s/d%s.sock"\nstate_dir = "%s/d%s"\n' "$T" "$k" "$T" "$k"
    [ "$cheap" = cheap ] && printf '[password]\nargon2_m_kib = 8\nargon2_t = 1\n'
    printf '[store]\nbackend = "postgres"\nurl = "%s/%s"\npool_size = %s\n' "$PG" "$db" "$POOL"
  } > "$T/d$k.toml"
  t0=$(date +%s%N)
  "$AUTHD" --config "$T/d$k.toml" 2>>"$T/d$k.log" & PIDS+=($!)
  until "$CTL" --socket "$T/d$k.sock" status >/dev/null 2>&1; do
    kill -0 "${PIDS[-1]}" 2>/dev/null || { echo "authd $k exited; its log:" >&2; cat "$T/d$k.log" >&2; exit 1; }
  done
  t1=$(date +%s%N)
  READY_MS=$(( (t1 - t0) / 1000000 ))
}
sockets() { local s="" k; for k in $(seq "$1"); do s="$s${s:+,}$T/d$k.sock"; done; echo "$s"; }
pgbench_tps() { sed -n 's/^tps = \([0-9]*\).*/\1/p' "$T/$1.out"; }
# The server's postmaster, whose children are its backends (empty: not on this machine).
POSTMASTER=$(pgrep -o -x postgres || true)
# CPU time in clock ticks of the postmaster, its live children and those it reaped.
server_ticks() {
  [ -n "$POSTMASTER" ] || { echo 0; return; }
  local p total=0
  # shellcheck disable=SC2046
  for p in "$POSTMASTER" $(cat "/proc/$POSTMASTER/task/$POSTMASTER/children"); do
    total=$(( total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}

# pgbench NAME DB ARGS...: a ceiling, its tps and per-transaction latencies kept under
# $T/NAME.*
pgbench_run() {
  local name=$1 db=$2 s0
  shift 2
  s0=$(server_ticks)
  "$PGBENCH" -n -M prepared -c "$C" -j 2 -T "$S" "$@" \
    -l --log-prefix="$T/$name.log" "$PG/$db" > "$T/$name.out" 2>&1 \
    || { cat "$T/$name.out" >&2; exit 1; }
  echo $(( $(server_ticks) - s0 )) > "$T/$name.ticks"
}
CPU_PID=${POSTMASTER:+--cpu-pid $POSTMASTER}
PGDB=${DB}_pgbench
newdb "$PGDB"
sql "CREATE TABLE bench_accounts (id integer PRIMARY KEY, record bytea NOT NULL);
     INSERT INTO bench_accounts SELECT g, decode(repeat('5a', 300), 'hex')
       FROM generate_series(1, 100000) g" "$PGDB"
sql "VACUUM ANALYZE bench_accounts" "$PGDB"
printf '\\set id random(1, 100000)\nUPDATE bench_accounts SET record = record WHERE id = :id;\n' \
  > "$T/update.sql"
SIMPLEDB=${DB}_simple
newdb "$SIMPLEDB"
"$PGBENCH" -i -q -s 1 "$PG/$SIMPLEDB" > "$T/simple-init.out" 2>&1 \
  || { cat "$T/simple-init.out" >&2; exit 1; }
ceilings() {
  pgbench_run "simple-update-$1" "$SIMPLEDB" -b simple-update
  pgbench_run "update-$1" "$PGDB" -f "$T/update.sql"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "server: $(psql -X -A -t -d "$PG/postgres" -c 'SHOW server_version') at $PG," \
  "synchronous_commit $(psql -X -A -t -d "$PG/postgres" -c 'SHOW synchronous_commit')"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); ${S} s per measurement, $C clients, pool_size $POOL"

ceilings first
for n in 1 2 3; do
  newdb "${DB}_$n"
  for k in $(seq "$n"); do daemon "$k" "${DB}_$n"; done
  # shellcheck disable=SC2086
  "$BENCH" --json --socket "$(sockets "$n")" --scenario add-user --clients "$C" \
    --duration "${S}s" $CPU_PID > "$T/add-user-$n.json"
  accounts=$(( $(pgbench_tps update-first) * S / 4 + C ))
  # shellcheck disable=SC2086
  "$BENCH" --json --socket "$(sockets "$n")" --scenario verify-totp --clients "$C" \
    --accounts "$accounts" --duration "${S}s" $CPU_PID > "$T/verify-totp-$n.json"
  stop_daemons
  sql "DROP DATABASE ${DB}_$n WITH (FORCE)"
done
ceilings last
echo "load average at the end of the comparison: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$T" "$(getconf CLK_TCK)" <<'EOF'
import glob, json, re, sys
t = sys.argv[1]
def pgbench(name):
    out = open(f"{t}/{name}.out").read()
    tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
    done = int(re.search(r"number of transactions actually processed: ([0-9]+)", out).group(1))
    lat = sorted(int(line.split()[2]) for f in glob.glob(f"{t}/{name}.log.*") for line in open(f))
    pct = lambda p: lat[min(len(lat) - 1, round(p / 100 * (len(lat) - 1)))] if lat else 0
    ticks = int(open(f"{t}/{name}.ticks").read())
    server = ticks * 1e6 / int(sys.argv[2]) / done if ticks and done else None
    return {"requests_per_sec": tps, "p50_us": pct(50), "p99_us": pct(99), "errors": 0,
            "watched_cpu_us": server}
names = {"simple-update": "pgbench simple-update", "update": "pgbench update"}
rows, ceiling = [], {}
for kind in names:
    runs = [pgbench(f"{kind}-{when}") for when in ("first", "last")]
    ceiling[kind] = sum(r["requests_per_sec"] for r in runs) / 2
    rows += [(f"{names[kind]} ({when})", r) for when, r in zip(("first", "last"), runs)]
for scenario in ("verify-totp", "add-user"):
    for n in (1, 2, 3):
        r = json.load(open(f"{t}/{scenario}-{n}.json"))
        rows.append((f"{scenario}, {n} daemon{'s' if n > 1 else ''}", r))
cpu = lambda us: f"{us:,.0f} µs" if us else "-"
pct = lambda r, kind: f"{100 * r['requests_per_sec'] / ceiling[kind]:.0f} %"
print(f"\n| config | ops/s | p50 | p99 | errors | % of simple-update | % of update "
      f"| server CPU/op | authd CPU/op |\n|---|---|---|---|---|---|---|---|---|")
for name, r in rows:
    print(f"| {name} | {r['requests_per_sec']:,.0f} | {r['p50_us'] / 1000:.2f} ms | {r['p99_us'] / 1000:.2f} ms "
          f"| {r['errors']} | {pct(r, 'simple-update')} | {pct(r, 'update')} "
          f"| {cpu(r.get('watched_cpu_us'))} | {cpu(r.get('daemon_cpu_us'))} |")
for n in (1, 2, 3):
    w = json.load(open(f"{t}/verify-totp-{n}.json")).get("waited_for_codes_secs")
    if w:
        print(f"verify-totp, {n} daemons: clients waited {w:.1f} client-s for fresh codes (too few accounts)")
EOF

[ "$N" -gt 0 ] || exit 0
echo
newdb "${DB}_big"
t0=$(date +%s%N)
"$BENCH" --populate --database "$PG/${DB}_big" --accounts "$N"
t1=$(date +%s%N)
size=$(psql -X -A -t -d "$PG/${DB}_big" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
echo "$N accounts written in $(( (t1 - t0) / 1000000 )) ms (COPY, one shared hash); database $size"
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
POOL=16  # the default
daemon 1 "${DB}_big" default
echo "first start: ready after $READY_MS ms, RSS $(( $(kib "${PIDS[0]}" VmRSS) / 1024 )) MiB"
stop_daemons
daemon 1 "${DB}_big" default
echo "second start: ready after $READY_MS ms, RSS $(( $(kib "${PIDS[0]}" VmRSS) / 1024 )) MiB"
show() {
  "$BENCH" --socket "$T/d1.sock" --json --scenario show --no-setup --accounts "$N" \
    --clients "$1" --duration "${S}s" > "$T/show.json"
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print("show, %d clients, %d s: %.0f requests/s, p50 %d us, p99 %d us, %d errors; daemon peak RSS %d MiB" % (r["clients"], r["seconds"], r["requests_per_sec"], r["p50_us"], r["p99_us"], r["errors"], r["daemon_peak_rss_kib"] // 1024))' "$T/show.json"
}
show 64
show 1
stop_daemons
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
