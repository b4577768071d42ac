#!/usr/bin/env bash
# Follows docs/deployment.md, "A cluster on one machine", with the built
# node: a storage node, a hasher node with metrics, two gateways hashing on
# the hasher node only; register through one gateway, log in through the
# other, see the hashes on the hasher node's /metrics and the request on the
# first gateway's debug log; stop the storage node (unavailable, ping still
# answered), start it again (the gateways relink, logins work). Each command
# is checked to still be written in the document, so the two cannot drift
# apart. Differences from the document: ephemeral ports read back from the
# logs instead of 7411/7414/7415/7416/7421, and the cheapest hash cost.
#
#   tests/deployment_walkthrough.sh AUTHNODE SOURCE_DIR
set -euo pipefail
authnode=$1
root=$2
doc="$root/docs/deployment.md"
fast=(--hash-ops=1 --hash-mem=8192 --failure-delay=300ms)

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
  echo "deployment walkthrough: FAILED: $*" >&2
  for log in *.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -20 "$log" >&2; }
  done
  exit 1
}
documented() {
  grep -qF -- "$1" "$doc" || fail "docs/deployment.md no longer says: $1"
}
# Waits (at most 20 s) for TEXT to appear N times in LOG.
wait_log() { # wait_log LOG TEXT [N]
  for _ in $(seq 200); do
    [ "$(grep -cF -- "$2" "$1" || true)" -ge "${3:-1}" ] && return
    sleep 0.1
  done
  fail "no '$2' (${3:-1} times) in $1"
}
port_from_log() { # port_from_log LOG WHAT
  wait_log "$1" "$2 on "
  sed -n "s/.*$2 on [^ ]*:\([0-9]*\).*/\1/p" "$1" | head -1
}
# One request line to PORT; prints the reply line (at most 5 s).
ask() { # ask PORT LINE
  /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile("r").readline().strip())
PY
}
expect_in() { # expect_in TEXT REPLY
  [[ "$2" == *"$1"* ]] || fail "expected '$1' in: $2"
}

# 1. The storage node.
documented "build/authnode --role=storage --db=cluster.db"
start_storage() { # start_storage NODE_PORT
  "$authnode" --role=storage --db=cluster.db --node-port="$1" \
    "${fast[@]}" 2>>storage.log &
  storage_pid=$!
  pids+=($storage_pid)
}
start_storage 0
storage_port=$(port_from_log storage.log "node port")

# 2. A hasher node with metrics.
documented "build/authnode --role=hasher --node-port=7415 --metrics-port=7416"
"$authnode" --role=hasher --node-port=0 --metrics-port=0 2>hasher.log &
pids+=($!)
hasher_port=$(port_from_log hasher.log "node port")
wait_log hasher.log "metrics at http://"
metrics_port=$(sed -n 's|.*metrics at http://[^:]*:\([0-9]*\)/metrics.*|\1|p' hasher.log)

# 3. Two gateways that hash on the hasher node only.
documented "build/authnode --role=gateway --storage=127.0.0.1:7414 \\"
documented "--hasher-nodes=127.0.0.1:7415 --hashers=0 --db=gateway1.db --log-level=debug"
documented "--hasher-nodes=127.0.0.1:7415 --hashers=0 --db=gateway2.db \\"
documented "--port=7421 --admin-port=7422"
for n in 1 2; do
  extra=()
  [ "$n" = 1 ] && extra=(--log-level=debug)
  "$authnode" --role=gateway --storage=127.0.0.1:"$storage_port" \
    --hasher-nodes=127.0.0.1:"$hasher_port" --hashers=0 --db=gateway$n.db \
    --port=0 --admin-port=0 "${fast[@]}" "${extra[@]}" 2>gateway$n.log &
  pids+=($!)
done
gw1=$(port_from_log gateway1.log "listening")
gw2=$(port_from_log gateway2.log "listening")
for n in 1 2; do
  wait_log gateway$n.log "linked to storage node"
  wait_log gateway$n.log "linked to hasher node"
done
wait_log storage.log "a gateway linked" 2
wait_log hasher.log "a gateway linked" 2

# 4. Register through the first gateway, log in through the second.
register='{"id":1,"op":"register","email":"ann@example.org","password":"correct horse","name":"Ann"}'
login='{"id":2,"op":"login","email":"ann@example.org","password":"correct horse"}'
documented "$register"
documented "$login"
expect_in '"ok":true' "$(ask "$gw1" "$register")"
expect_in '"token"' "$(ask "$gw2" "$login")"

# 5. The login in the second gateway's audit log, both hashes on the hasher
# node, the registration's trip in the first gateway's debug log.
wait_log gateway2.log '"op":"login","outcome":"ok"'
documented "curl -s 127.0.0.1:7416/metrics | grep authnode_hash_duration_seconds_count"
documented "authnode_hash_duration_seconds_count 2"
curl -s "127.0.0.1:$metrics_port/metrics" >metrics.txt
grep -qx "authnode_hash_duration_seconds_count 2" metrics.txt \
  || fail "the hasher node did not count 2 hashes: $(grep hash_duration_seconds_count metrics.txt)"
documented "op=register"
wait_log gateway1.log "op=register result=ok"

# 6. Without the storage node: ping yes, login unavailable; then back.
kill -INT "$storage_pid"
wait "$storage_pid" || fail "the storage node did not stop cleanly"
wait_log gateway1.log "lost storage node"
expect_in '"ok":true' "$(ask "$gw1" '{"id":3,"op":"ping"}')"
expect_in '"code":"unavailable"' "$(ask "$gw1" "$login")"
start_storage "$storage_port"
wait_log gateway1.log "linked to storage node" 2
wait_log gateway2.log "linked to storage node" 2
expect_in '"token"' "$(ask "$gw1" "$login")"
echo "deployment walkthrough: every step as documented"
