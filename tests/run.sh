#!/usr/bin/env bash
# `make test`: bring the peers the tests talk to, then build and run every test of the
# workspace (the PAM module included), and say how many tests were skipped.
#
# As root on Debian it installs the packages below; otherwise it names them. A test whose
# peer is missing FAILS, unless AUTHD_TEST_ALLOW_SKIP=1 (then it is skipped visibly and
# counted here; see tests/support/peers.rs).
set -uo pipefail
cd "$(dirname "$0")/.."

# setpriv (util-linux) runs clients as other uids; procps: kill/ps; python3 + aiosmtpd: a
# real SMTP server; systemd: systemd-socket-activate/-analyze; oathtool computes TOTP
# codes; google-authenticator (libpam-google-authenticator) writes the files that
# import-google-authenticator reads; zbarimg (zbar-tools) reads QR codes; libpam0g-dev +
# pamtester: the PAM module through the real PAM stack; groff renders the man pages;
# make: the install test;
# chromium + chromium-driver: authd-web's browser tests (headless, over WebDriver);
# python3-prometheus-client: parses `authctl metrics` as Prometheus does;
# libssl-dev (webauthn-rs), libudev-dev + libclang-dev + pkg-config
# (webauthn-authenticator-rs's USB support): to build authd-key, the security-key helper.
# postgresql-client (psql): the PostgreSQL store's tests make and drop their databases.
# postgresql (the server; initdb and pg_ctl for the tests that run a cluster of their own,
# tests/support/pg_cluster.rs) is installed by tests/postgres.sh below, which also drops
# the cluster the package's install makes (it would take port 5432).
PACKAGES="util-linux procps python3 python3-aiosmtpd systemd oathtool zbar-tools \
libpam-google-authenticator \
libpam0g-dev pamtester make groff chromium chromium-driver python3-prometheus-client \
libssl-dev libudev-dev libclang-dev pkg-config openssl whois postgresql-client"

missing=$(for p in $PACKAGES; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
  | grep -q 'install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing test peers: $missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || exit 1
  else
    echo "== missing Debian packages the tests use: $missing"
    echo "   (run 'make test' as root to install them, or apt-get install them)"
  fi
fi

# The PostgreSQL store's tests need a server on 127.0.0.1:5432 (started here if none
# answers; a test without one fails).
tests/postgres.sh || exit 1

skips=$(mktemp)
trap 'rm -f "$skips"' EXIT
export AUTHD_TEST_SKIP_LOG="$skips"

# authd-key's test-only `softtoken` feature: the key helper that authctl and pam_authd
# run answers with a software CTAP2 token (tests/integration/keys.rs); release builds
# never have it.
FEATURES="authd-key/softtoken"
# Built first so a compile error shows here; the tests would build what they load
# themselves (tests/support/daemon.rs, `built`).
echo "== cargo build --workspace --features $FEATURES"
cargo build --workspace --features "$FEATURES" || exit 1
echo "== cargo test --workspace --features $FEATURES"
cargo test --workspace --features "$FEATURES"
status=$?

# The integration suite once more with every daemon on a PostgreSQL database of its own
# (tests/support/daemon.rs, AUTHD_TEST_STORE); the tests about sled's own files say
# "sled only" on standard error and return.
echo "== cargo test --test integration on PostgreSQL (AUTHD_TEST_STORE=postgres)"
AUTHD_TEST_STORE=postgres cargo test --workspace --features "$FEATURES" --test integration \
  || status=1

skipped=$(wc -l < "$skips")
echo "== skipped tests: $skipped"
cat "$skips"
exit "$status"
