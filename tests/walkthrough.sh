#!/usr/bin/env bash
# Follows the README's "Operate it" tour with the built binaries: start a
# node, add a user and log in with authctl, import 100,000 passlib users and
# log in as one (whose hash is then argon2id), unlock a throttled address,
# back up while logins run and start a node on the copy, scrape /metrics.
# Each command is checked to still be written in the README, so the tour
# and this test cannot drift apart. Differences from the README, and why:
# ephemeral ports (read back from the log) instead of 7411/7412/7413, the
# cheapest hash cost and a short failure delay, passwords piped in (there
# is no terminal to ask on), and --progress to draw the bar without one.
#
#   tests/walkthrough.sh AUTHNODE AUTHCTL SOURCE_DIR
set -euo pipefail
authnode=$1
authctl_bin=$2
root=$3
readme="$root/README.md"
fast=(--hash-ops=1 --hash-mem=8192 --failure-delay=300ms --hashers=2)

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

fail() {
  echo "walkthrough: FAILED: $*" >&2
  for log in node*.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -20 "$log" >&2; }
  done
  exit 1
}
# The README must still show this command.
documented() {
  grep -qF -- "$1" "$readme" || fail "README.md no longer says: $1"
}
expect() { # expect TEXT FILE
  grep -qF -- "$1" "$2" || { cat "$2" >&2; fail "expected '$1' in $2"; }
}
# Waits (at most 20 s) for "$2 on HOST:PORT" in log $1 and prints PORT.
port_from_log() {
  for _ in $(seq 200); do
    port=$(sed -n "s/.*$2 on [^ ]*:\([0-9]*\).*/\1/p" "$1" | head -1)
    [ -n "$port" ] && { echo "$port"; return; }
    sleep 0.1
  done
  fail "no '$2' line in $1"
}
start_node() { # start_node LOG ARGS... ; sets $port $admin_port
  local log=$1
  shift
  "$authnode" --port=0 --admin-port=0 "${fast[@]}" "$@" 2>"$log" &
  pids+=($!)
  port=$(port_from_log "$log" "listening")
  admin_port=$(port_from_log "$log" "admin channel")
}

echo "== start the node with metrics"
documented "./scripts/node.sh --metrics-port=7413"
start_node node.log --db="$work/authnode.db" --metrics-port=0
metrics_port=$(sed -n 's|.*metrics at http://[^ ]*:\([0-9]*\)/metrics.*|\1|p' node.log)
[ -n "$metrics_port" ] || fail "no metrics line"
export AUTHNODE_PORT=$port AUTHNODE_ADMIN_PORT=$admin_port

documented 'export PATH="$PWD/build:$PATH"'
PATH="$(dirname "$authctl_bin"):$PATH"
export PATH

echo "== a one-shot request from a script (half-close)"
documented "printf '{\"id\":1,\"op\":\"ping\"}\\n' | nc -N 127.0.0.1 7411"
if command -v nc >/dev/null && nc -h 2>&1 | grep -q -- ' -N '; then
  printf '{"id":1,"op":"ping"}\n' | timeout 10 nc -N 127.0.0.1 "$port" >out \
    || fail "nc -N"
else # no OpenBSD nc here: the same half-close from python
  python3 - "$port" >out <<'PY' || fail "half-close one-shot"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b'{"id":1,"op":"ping"}\n')
s.shutdown(socket.SHUT_WR)
while (data := s.recv(4096)):
    sys.stdout.write(data.decode())
PY
fi
expect '{"id":1,"ok":true}' out

echo "== add a user and log in as that user"
documented 'authctl user add ann@example.org --name "Ann"'
echo "ann's password" | authctl user add ann@example.org --name "Ann" >out 2>&1 \
  || fail "user add"
expect "ann@example.org" out
documented "authctl login ann@example.org"
echo "ann's password" | authctl login ann@example.org >out 2>&1 || fail "login"
expect "logged in as Ann <ann@example.org>" out

echo "== import 100,000 users with passlib hashes, log in as one"
documented "/usr/bin/python3 scripts/make_passlib_users.py 100000 users.csv"
/usr/bin/python3 "$root/scripts/make_passlib_users.py" 100000 users.csv
documented "authctl import users.csv"
start=$SECONDS
authctl import users.csv --progress >out 2>progress || { cat out progress; fail "import"; }
echo "   imported in $((SECONDS - start)) s: $(cat out)"
expect "imported 100000, updated 0, skipped 0 (already there), rejected 0" out
expect "100000/100000  100%" progress
documented "authctl login user5@example.org                 # pw-1-bcrypt"
authctl user show user5@example.org >out || fail "user show"
expect "hash_scheme:" out
grep -q "hash_scheme: *bcrypt" out || { cat out; fail "user5 is not bcrypt before the login"; }
echo pw-1-bcrypt | authctl login user5@example.org >out 2>&1 || fail "imported login"
expect "logged in as User 5 <user5@example.org>" out
documented "authctl user show user5@example.org             # hash_scheme: argon2id"
authctl user show user5@example.org >out
grep -q "hash_scheme: *argon2id" out || { cat out; fail "not re-hashed"; }

echo "== unlock a throttled address"
documented 'for i in 1 2 3; do echo "wrong $i" | authctl login ann@example.org; done'
for i in 1 2 3; do
  if echo "wrong $i" | authctl login ann@example.org >/dev/null 2>&1; then
    fail "a wrong password logged in"
  fi
done
documented "authctl throttle show --source 127.0.0.1"
authctl throttle show --source 127.0.0.1 >out
grep -q "^failures: *3$" out || { cat out; fail "three failures expected"; }
documented "authctl throttle reset --source 127.0.0.1"
authctl throttle reset --source 127.0.0.1 >out
expect "failures forgotten" out
authctl throttle show --source 127.0.0.1 >out
grep -q "^failures: *0$" out || { cat out; fail "not reset"; }

echo "== back up while logins run, start a node on the copy"
documented 'for i in $(seq 10); do echo pw-1-bcrypt | authctl login user5@example.org; done &'
(for i in $(seq 10); do echo pw-1-bcrypt | authctl login user5@example.org; done) \
  >logins.out 2>&1 &
logins=$!
documented "authctl backup backup.db"
authctl backup backup.db >out || fail "backup"
expect "backup written to $work/backup.db" out
wait "$logins" || fail "a login during the backup failed: $(cat logins.out)"
[ "$(grep -c "logged in as User 5" logins.out)" -eq 10 ] || fail "logins during the backup"
documented "build/authnode --db=backup.db --port=7421 --admin-port=7422 &"
start_node node2.log --db=backup.db
documented "authctl --admin-port=7422 --key-file=backup.db.admin-key user show user5@example.org"
authctl --admin-port="$admin_port" --key-file=backup.db.admin-key \
  user show user5@example.org >out || fail "user show on the copy"
grep -q "hash_scheme: *argon2id" out || { cat out; fail "the copy lost the re-hash"; }
echo "ann's password" | authctl --port="$port" login ann@example.org >out 2>&1 \
  || fail "login on the copy"
authctl --admin-port="$admin_port" --key-file=backup.db.admin-key \
  --json user list --prefix user --limit 1000 --all >out
[ "$(grep -o '"email"' out | wc -l)" -eq 100000 ] || fail "the copy has not every user"

echo "== scrape /metrics"
documented "curl -s http://127.0.0.1:7413/metrics | grep '^authnode_login_outcomes_total'"
curl -s "http://127.0.0.1:$metrics_port/metrics" >metrics
grep -q '^authnode_login_outcomes_total{outcome="ok"} [1-9]' metrics \
  || { grep login_outcomes metrics; fail "no successful logins counted"; }
grep -q '^authnode_login_outcomes_total{outcome="invalid_credentials"} [1-9]' metrics \
  || fail "no failed logins counted"
echo "walkthrough: every step of the README's tour works"
