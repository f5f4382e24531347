#!/usr/bin/env bash
# Side-by-side: a full PAM authentication of a TOTP code, measured with pamtester, for
# pam_authd (through a real authd), pam_google_authenticator and pam_oath, all
# configured with the same secrets. Run as root from the project root; needs pamtester,
# oathtool, libpam-google-authenticator, libpam-oath (apt-get install them first).
# Usage: bench/pam-compare.sh [USERS]   (default 25 authentications per module)
set -euo pipefail
N=${1:-25}
cargo build --release -q --bins
cargo build --release -q -p pam_authd
T=$(mktemp -d /tmp/pam-compare.XXXXXX)
chmod 755 "$T"
SOCK=$T/authd.sock
cleanup() { kill "$DPID" 2>/dev/null || true; wait 2>/dev/null || true; rm -f /etc/pam.d/pamcmp-*; rm -rf "$T"; }
trap cleanup EXIT
# Cheap argon2 here: this compares the TOTP path; the password hash is measured by
# authd-bench. pam_authd still does everything else (socket, challenge, durable replay
# record, lockout bookkeeping, audit).
printf 'socket = "%s"\nstate_dir = "%s/state"\n[password]\nargon2_m_kib = 8\nargon2_t = 1\n' "$SOCK" "$T" > "$T/authd.toml"
target/release/authd --config "$T/authd.toml" 2>"$T/authd.log" & DPID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
ctl() { target/release/authctl --socket "$SOCK" "$@"; }
PW='Correct-Horse-Battery-9'
mkdir -p "$T/ga"; : > "$T/users.oath"; chmod 600 "$T/users.oath"
for i in $(seq -w 1 "$N"); do
  u=pamcmp$i
  ctl add-user "$u" >/dev/null
  printf '%s\n' "$PW" | ctl --password-stdin set-password "$u" >/dev/null
  secret=$(ctl --json enable-totp "$u" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  ctl confirm-totp "$u" "$(oathtool --totp -b "$secret")" >/dev/null
  hex=$(python3 -c 'import base64,sys; print(base64.b32decode(sys.argv[1]).hex())' "$secret")
  printf 'HOTP/T30/6\t%s\t-\t%s\n' "$u" "$hex" >> "$T/users.oath"
  printf '%s\n" TOTP_AUTH\n" WINDOW_SIZE 3\n' "$secret" > "$T/ga/$u"; chmod 400 "$T/ga/$u"
  echo "$u $secret" >> "$T/secrets"
done
echo "auth required $PWD/target/release/libpam_authd.so socket=$SOCK" > /etc/pam.d/pamcmp-authd
echo "auth required pam_google_authenticator.so secret=$T/ga/\${USER} user=root" > /etc/pam.d/pamcmp-google
echo "auth required pam_oath.so usersfile=$T/users.oath window=3" > /etc/pam.d/pamcmp-oath
measure() { # service, then "needs password" flag
  local svc=$1 pw=$2 times=() fails=0
  while read -r u secret; do
    code=$(oathtool --totp -b "$secret" --now="@$(( $(date +%s) + 30 ))")
    if [ "$pw" = yes ]; then input=$(printf '%s\n%s\n' "$PW" "$code"); else input=$code; fi
    s=$(date +%s%N)
    if printf '%s\n' "$input" | pamtester "$svc" "$u" authenticate >/dev/null 2>&1; then :; else fails=$((fails+1)); fi
    e=$(date +%s%N)
    times+=($(( (e - s) / 1000 )))
  done < "$T/secrets"
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$svc $median $fails"
}
echo "module median_us failures (of $N)"
measure pamcmp-authd yes
measure pamcmp-google no
measure pamcmp-oath no
