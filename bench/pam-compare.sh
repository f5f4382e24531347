#!/usr/bin/env bash
# Side-by-side: a full PAM authentication of a TOTP code, measured with pamtester, for
# pam_authd (through a real authd), pam_google_authenticator and pam_oath, all
# configured with the same secrets. Run as root from the project root; needs pamtester,
# oathtool, libpam-google-authenticator, libpam-oath (apt-get install them first).
# Usage: bench/pam-compare.sh [USERS]   (default 40 authentications per module)
# With PAM_AUTHD_BEFORE=/path/to/libpam_authd.so (an older build), that module runs too,
# interleaved with the others against the same daemon, as pamcmp-before.
set -euo pipefail
N=${1:-40}
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
# The older module logs in with the code of the step after next (a fresh step, as the
# replay check requires): a window of two steps lets that code in.
if [ -n "${PAM_AUTHD_BEFORE:-}" ]; then printf '[totp]\nskew = 2\n' >> "$T/authd.toml"; fi
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
  # DISALLOW_REUSE: replay protection, as pam_authd and pam_oath have.
  printf '%s\n" TOTP_AUTH\n" DISALLOW_REUSE\n" WINDOW_SIZE 3\n' "$secret" > "$T/ga/$u"
  chmod 600 "$T/ga/$u"
  echo "$u $secret" >> "$T/secrets"
done
echo "auth required $PWD/target/release/libpam_authd.so socket=$SOCK" > /etc/pam.d/pamcmp-authd
echo "auth required pam_google_authenticator.so secret=$T/ga/\${USER} user=root" > /etc/pam.d/pamcmp-google
echo "auth required pam_oath.so usersfile=$T/users.oath window=3" > /etc/pam.d/pamcmp-oath
# The floor: pamtester itself, loading PAM and a module that says yes.
echo "auth required pam_permit.so" > /etc/pam.d/pamcmp-permit
# One authentication per user and module, the modules interleaved user by user so that
# machine noise hits all three alike; each user's code is fresh for every module.
declare -A times fails
modules="pamcmp-authd pamcmp-google pamcmp-oath pamcmp-permit"
if [ -n "${PAM_AUTHD_BEFORE:-}" ]; then
  echo "auth required $PAM_AUTHD_BEFORE socket=$SOCK" > /etc/pam.d/pamcmp-before
  modules="$modules pamcmp-before"
fi
while read -r u secret; do
  code=$(oathtool --totp -b "$secret" --now="@$(( $(date +%s) + 30 ))")
  later=$(oathtool --totp -b "$secret" --now="@$(( $(date +%s) + 60 ))")
  for svc in $modules; do
    if [ "$svc" = pamcmp-authd ]; then input=$(printf '%s\n%s' "$PW" "$code")
    elif [ "$svc" = pamcmp-before ]; then input=$(printf '%s\n%s' "$PW" "$later")
    else input=$code; fi
    s=$(date +%s%N)
    pamtester "$svc" "$u" authenticate <<<"$input" >/dev/null 2>&1 || fails[$svc]=$(( ${fails[$svc]:-0} + 1 ))
    e=$(date +%s%N)
    times[$svc]+="$(( (e - s) / 1000 )) "
  done
done < "$T/secrets"
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "module median_us failures (of $N)"
for svc in $modules; do
  echo "$svc $(echo "${times[$svc]}" | median) ${fails[$svc]:-0}"
done
a=$(echo "${times[pamcmp-authd]}" | median); o=$(echo "${times[pamcmp-oath]}" | median)
p=$(echo "${times[pamcmp-permit]}" | median)
echo "pam_authd/pam_oath median ratio: $(awk -v a="$a" -v o="$o" 'BEGIN {printf "%.2f", a / o}')" \
  "(above the pam_permit floor: pam_authd $(( a - p )) us, pam_oath $(( o - p )) us)"
