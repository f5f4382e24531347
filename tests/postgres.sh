#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 with trust authentication for
# `root` and a database `test`, as the PostgreSQL store's tests expect
# (tests/support/postgres.rs). Where one answers already, nothing is done. Otherwise, as
# root on Debian: install the postgresql package if it is missing, create a cluster
# (pg_createcluster) that listens on 127.0.0.1:5432 with trust authentication for local
# connections, start it (pg_ctlcluster), and create the role and the database.
set -euo pipefail

answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if command -v pg_isready >/dev/null && answers \
   && psql -X -q -h 127.0.0.1 -U root -d test -c 'SELECT 1' >/dev/null 2>&1; then
  echo "== PostgreSQL answers on 127.0.0.1:5432"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "== no PostgreSQL on 127.0.0.1:5432 with trust for root and a database test;" \
       "run tests/postgres.sh as root to set one up" >&2
  exit 1
fi
if ! command -v pg_createcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "== installing postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
cluster=authdtest
if ! answers; then
  if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version $cluster"; then
    echo "== creating PostgreSQL $version cluster $cluster on 127.0.0.1:5432"
    pg_createcluster "$version" "$cluster" -p 5432 -- --auth-local=trust --auth-host=trust >/dev/null
    conf=/etc/postgresql/$version/$cluster/postgresql.conf
    echo "listen_addresses = '127.0.0.1'" >> "$conf"
  fi
  pg_ctlcluster "$version" "$cluster" start
fi
for _ in $(seq 1 60); do answers && break; sleep 0.5; done
answers || { echo "== PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }
# The server's superuser is postgres; the tests connect as root.
psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'root') THEN CREATE ROLE root SUPERUSER LOGIN; END IF; END\$\$"
if ! psql -X -q -h 127.0.0.1 -U root -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
  psql -X -q -h 127.0.0.1 -U root -d postgres -c 'CREATE DATABASE test'
fi
psql -X -q -h 127.0.0.1 -U root -d test -c 'SELECT 1' >/dev/null
echo "== PostgreSQL ready on 127.0.0.1:5432"
