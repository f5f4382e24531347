#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 with trust authentication for
# `root` and has a database `test`, as the PostgreSQL store's tests expect
# (tests/support/postgres.rs), and that the server binaries (initdb, pg_ctl) are there
# for the tests that run a cluster of their own (tests/support/pg_cluster.rs). As root
# on Debian: install the postgresql package if it is missing (dropping the "main"
# cluster that this install made, whose authentication the tests cannot use). Where a
# server answers already, nothing else is done. Otherwise create a
# cluster `authdtest` (pg_createcluster) on 127.0.0.1:5432 with trust authentication,
# start it (pg_ctlcluster), and create the role root and the database test. A server
# that someone else runs on 5432 is never changed: the script says what is missing.
set -euo pipefail

CLUSTER=authdtest
answers() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
usable() { psql -X -q -h 127.0.0.1 -p 5432 -U root -d test -c 'SELECT 1' >/dev/null 2>&1; }

root_on_debian() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
if root_on_debian && { ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    || ! command -v pg_createcluster >/dev/null; }; then
  echo "== installing postgresql"
  had_main=$(ls -d /etc/postgresql/*/main 2>/dev/null || true)
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
  # The package's own cluster (peer and password authentication) would take port 5432.
  for v in $(ls /usr/lib/postgresql); do
    if [ -d "/etc/postgresql/$v/main" ] && ! echo "$had_main" | grep -q "/$v/main"; then
      pg_dropcluster --stop "$v" main
    fi
  done
fi
if command -v psql >/dev/null && usable; then
  echo "== PostgreSQL answers on 127.0.0.1:5432"
  exit 0
fi
if ! root_on_debian; then
  echo "== the tests need PostgreSQL on 127.0.0.1:5432 with trust authentication for root" \
       "and a database test; run tests/postgres.sh as root on Debian to set one up" >&2
  exit 1
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
ours() { pg_lsclusters -h | awk -v v="$version" -v c="$CLUSTER" '$1 == v && $2 == c' | grep -q .; }
if ! answers; then
  if ! ours; then
    echo "== creating PostgreSQL $version cluster $CLUSTER on 127.0.0.1:5432"
    pg_createcluster "$version" "$CLUSTER" -p 5432 -- --auth-local=trust --auth-host=trust >/dev/null
    echo "listen_addresses = '127.0.0.1'" >> "/etc/postgresql/$version/$CLUSTER/postgresql.conf"
  fi
  pg_ctlcluster "$version" "$CLUSTER" start
  for _ in $(seq 1 60); do answers && break; sleep 0.5; done
elif ! ours; then
  echo "== a PostgreSQL server on 127.0.0.1:5432 does not let root in to a database test" \
       "with trust authentication; give it a role root, a database test and a" \
       "'host all root 127.0.0.1/32 trust' line in pg_hba.conf, or stop it" >&2
  exit 1
fi
answers || { echo "== PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }
sql() { psql -X -q -h 127.0.0.1 -p 5432 -U postgres "$@"; }
sql -d postgres -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'root') THEN CREATE ROLE root SUPERUSER LOGIN; END IF; END\$\$"
if ! sql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
  sql -d postgres -c 'CREATE DATABASE test OWNER root'
fi
usable || { echo "== root cannot use the database test on 127.0.0.1:5432" >&2; exit 1; }
echo "== PostgreSQL ready on 127.0.0.1:5432"
