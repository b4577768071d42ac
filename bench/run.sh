#!/usr/bin/env bash
# Runs every benchmark of docs/benchmarks.md on this machine, against nodes
# and a redis-server it starts on loopback, and prints the figures.
#
#   bench/run.sh [throughput|login|pending|half-close|timing|attack|
#                 second-factor|passkey|session-memory|import|breached|
#                 breached-register|postgres]...
#   (default: the first three)
#   BENCH_BIN=DIR bench/run.sh ...: runs the binaries already built in DIR
#   (DIR/authnode, DIR/bench/bench_*) instead of building build/, e.g. to
#   measure an older commit's build in the same sitting as the new one.
#
# Bounded: each benchmark runs for seconds, and everything it started is
# stopped when it ends.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" redis-server python3-pyotp
if [ -z "${BENCH_BIN:-}" ]; then
  "$root/scripts/build.sh" authnode bench_throughput bench_login_rate \
    bench_pending bench_timing bench_recovery_timing bench_attack
fi
bin="${BENCH_BIN:-$root/build}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a node with the given options; sets $port, $node_pid, $node_log
# and $node_db.
start_node() {
  local log="$work/node-$RANDOM.log"
  node_log="$log"
  node_db="$work/auth-$RANDOM.db"
  "$bin/authnode" --port=0 --db="$node_db" "$@" 2>"$log" &
  node_pid=$!
  pids+=("$node_pid")
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$log")
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  echo "node did not start:"; cat "$log"; exit 1
}

stop_node() { kill "$node_pid"; wait "$node_pid" 2>/dev/null || true; }

# recovery_start for an existing, an unknown and a disabled email (issue
# 13), with mail delivered to an SMTP sink on loopback; once with the
# default --recovery-reply-time and once without a floor, to show what it
# hides. Throttling off and a budget that does not run out, so that every
# request for the existing account queues a code and its mail.
recovery_timing() {
  /usr/bin/python3 "$root/tests/support/smtp_sink.py" --dir "$work/mail" \
    >"$work/sink.out" &
  pids+=("$!")
  local smtp=""
  for _ in $(seq 100); do
    smtp=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$work/sink.out")
    [ -n "$smtp" ] && break
    sleep 0.1
  done
  for floor in 250ms 0s; do
    start_node --throttle=off --recovery-mails=1000 --admin-port=0 \
      --smtp-url="smtp://127.0.0.1:$smtp" --mail-from=bench@example.org \
      --app-url=https://bench.example.org --recovery-reply-time="$floor"
    local admin
    admin=$(sed -n 's/.*admin channel on [^ ]*:\([0-9]*\).*/\1/p' "$node_log")
    echo "== recovery_start timing, --recovery-reply-time=$floor"
    "$bin/bench/bench_recovery_timing" --port="$port" --admin-port="$admin" \
      --admin-key="$(cat "$node_db.admin-key")" --samples=60
    stop_node
  done
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo none)"
which=("$@")
[ ${#which[@]} -eq 0 ] && which=(throughput login pending)

for b in "${which[@]}"; do
  case "$b" in
    throughput)
      redis_port=$(( 20000 + RANDOM % 20000 ))
      redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize no >/dev/null &
      pids+=("$!")
      # A storage node and a gateway in front of it, for whoami through a
      # gateway (issue 18), next to the one node.
      storage_log="$work/storage.log"
      "$bin/authnode" --role=storage --node-port=0 --db="$work/storage.db" \
        2>"$storage_log" &
      pids+=("$!")
      for _ in $(seq 100); do
        storage_port=$(sed -n 's/.*node port on [^ ]*:\([0-9]*\).*/\1/p' \
          "$storage_log")
        [ -n "$storage_port" ] && break
        sleep 0.1
      done
      gateway_log="$work/gateway.log"
      "$bin/authnode" --role=gateway --port=0 --admin-port=0 \
        --db="$work/gateway.db" \
        --storage="127.0.0.1:$storage_port" --hash-ops=1 --hash-mem=8192 \
        2>"$gateway_log" &
      pids+=("$!")
      for _ in $(seq 100); do
        grep -q "linked to storage node" "$gateway_log" && break
        sleep 0.1
      done
      gateway_port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' \
        "$gateway_log")
      start_node --hash-ops=1 --hash-mem=8192
      sleep 0.5
      echo "== throughput: 50 connections, authnode vs redis-server"
      "$bin/bench/bench_throughput" --node-port="$port" --redis-port="$redis_port" \
        --gateway-port="$gateway_port" --seconds=3 --rounds=3
      stop_node
      ;;
    login)
      # Default argon2id cost, one hasher per core. Throttling off: this
      # measures hash cost, and all logins come from one address to one
      # account, which the guard would allow two verifications at a time.
      start_node --throttle=off
      echo "== login rate at the default cost"
      "$bin/bench/bench_login_rate" --port="$port" --seconds=10
      stop_node
      ;;
    pending)
      # Throttling off: this measures what the fixed failure delay costs;
      # with it on, almost all of these guesses would be refused at once, and
      # with a short hash queue the wave would be answered busy in part.
      start_node --failure-delay=60s --hash-ops=1 --hash-mem=8192 --throttle=off \
        --max-hash-queue=20000
      echo "== 10,000 failed logins pending"
      "$bin/bench/bench_pending" --port="$port" --pid="$node_pid"
      stop_node
      ;;
    half-close)
      # Issue 19: 1,000 connections, one held failure each, every one
      # half-closed after its request, against the same without half-close.
      # A short delay, so the run also waits for every reply and close.
      for hc in 0 1; do
        start_node --failure-delay=20s --hash-ops=1 --hash-mem=8192 \
          --throttle=off --max-hash-queue=20000
        echo "== 1,000 failed logins pending on 1,000 connections, half-close=$hc"
        "$bin/bench/bench_pending" --port="$port" --pid="$node_pid" \
          --count=1000 --connections=1000 --half-close="$hc"
        stop_node
      done
      ;;
    timing)
      # Unknown email vs wrong password (issue 4). Throttling off and no
      # failure delay, so that a reply's time is the work done for it; the
      # default hash cost (no --hash-ops/--hash-mem), the one whose timing an
      # attacker would see. One hasher: logins are sent one at a time anyway,
      # and it leaves the other core to the node's I/O and the client.
      # 100 pairs per shape: with 30, on this shared machine, even the
      # control row (the same path on both sides) strayed by up to 24%.
      start_node --throttle=off --failure-delay=0s --hashers=1
      echo "== login timing: unknown email vs wrong password"
      "$bin/bench/bench_timing" --port="$port" --samples=100 --seconds=420
      stop_node
      recovery_timing
      ;;
    attack)
      # Throttling under attack (issue 3). Default hash cost (this is about
      # CPU), throttling on with the default failure-delay and max-penalty;
      # only --register-rate is raised, for the set-up's 2,000 accounts from
      # one address. The audit lines (one per reply, thousands a second) are
      # still written, to /dev/null rather than to the node's log.
      # SECONDS_PER_SCENARIO=10 for a short run.
      start_node --register-rate=1000000 --audit=/dev/null
      echo "== throttling under attack: four scenarios"
      "$bin/bench/bench_attack" --port="$port" --pid="$node_pid" \
        --seconds="${SECONDS_PER_SCENARIO:-60}"
      stop_node
      ;;
    second-factor)
      # Code guesses against one account by someone who knows its password
      # (issue 14): 1,000 in flight from one address and from 200, while
      # the owner logs in with a device token. The script starts its own
      # node (default delays and hash cost) and counts from its audit log.
      # SECONDS_PER_SCENARIO=30 for a short run.
      echo "== second-factor guessing: two scenarios"
      /usr/bin/python3 "$root/bench/second_factor_attack.py" "$bin/authnode" \
        --seconds="${SECONDS_PER_SCENARIO:-120}"
      ;;
    session-memory)
      # RSS per session in the connections' session cache (issue 18): 50,000
      # logins, then a whoami of each. The script starts its own node.
      echo "== memory per cached session"
      /usr/bin/python3 "$root/bench/session_memory.py" "$bin/authnode" \
        --sessions=50000
      ;;
    passkey)
      # Passkey sign-ins next to password logins, and password logins
      # while forged assertions flood the hashers (issue 15). The script
      # starts its own node (default hash cost, --throttle=off).
      echo "== passkey sign-ins and a forged-assertion flood"
      /usr/bin/python3 "$root/bench/passkey_login.py" "$bin/authnode" \
        --seconds="${SECONDS_PER_SCENARIO:-10}"
      ;;
    import)
      # user_import of 100,000 users made by scripts/make_passlib_users.py
      # (four formats), in batches of 500 with 4 in flight, into a fresh
      # database; nothing is hashed or verified, so this is parsing,
      # checking and SQLite (one transaction, one fsync per batch).
      /usr/bin/python3 "$root/scripts/make_passlib_users.py" 100000 \
        "$work/users.csv"
      start_node --admin-port=0
      admin_port=$(sed -n 's/.*admin channel on [^ ]*:\([0-9]*\).*/\1/p' \
        "$node_log")
      echo "== import of 100,000 users through the admin port"
      /usr/bin/python3 "$root/bench/import_users.py" --port="$admin_port" \
        --key-file="$node_db.admin-key" --batch=500 --window=4 \
        "$work/users.csv"
      stop_node
      ;;
    breached)
      # The breached-password index (issue 16): a corpus of BREACHED_LINES
      # (10 million) SHA-1s in HIBP's text format, ordered by hash, made by
      # bench_breached in $work (under /tmp, removed at the end), the index
      # built by authctl (timed with its own summary), then lookups warm
      # and cold. Needs authctl and bench_breached built (BENCH_BIN works).
      [ -n "${BENCH_BIN:-}" ] || "$root/scripts/build.sh" authctl bench_breached
      lines="${BREACHED_LINES:-10000000}"
      echo "== breached index: $lines lines"
      /usr/bin/time -f "generate: %e s" \
        "$bin/bench/bench_breached" generate "$lines" "$work/corpus.txt"
      echo "corpus: $(stat -c %s "$work/corpus.txt") bytes"
      /usr/bin/time -f "build: %e s wall, %M KiB max RSS" \
        "$bin/authctl" breached build --no-progress "$work/corpus.txt" \
        "$work/breached.idx"
      # The same lines shuffled, with --sort and 32 MiB for sorting: four
      # runs spilled and merged, as 256 MiB (the default) would spill 45
      # for the full corpus. The index must come out byte for byte equal.
      shuf "$work/corpus.txt" >"$work/shuffled.txt"
      rm -f "$work/corpus.txt"
      /usr/bin/time -f "build --sort: %e s wall, %M KiB max RSS" \
        "$bin/authctl" breached build --no-progress --sort --sort-memory=32 \
        "$work/shuffled.txt" "$work/sorted.idx"
      rm -f "$work/shuffled.txt"
      cmp "$work/breached.idx" "$work/sorted.idx" && echo "--sort: same index"
      rm -f "$work/sorted.idx"
      "$bin/bench/bench_breached" lookup "$lines" "$work/breached.idx"
      ;;
    breached-register)
      # Registration rate with the breached-password check on and off, at
      # the default hash cost (issue 16): one node without an index, one
      # with an index of BREACHED_LINES (10 million) entries, the same
      # options otherwise; throttling off so that the register budget does
      # not cap the rate. Measured in turns by bench/breached_register.py.
      [ -n "${BENCH_BIN:-}" ] || "$root/scripts/build.sh" authctl bench_breached
      lines="${BREACHED_LINES:-10000000}"
      "$bin/bench/bench_breached" generate "$lines" "$work/corpus.txt"
      "$bin/authctl" breached build --no-progress "$work/corpus.txt" \
        "$work/breached.idx" >/dev/null
      rm -f "$work/corpus.txt"
      start_node --throttle=off --admin-port=0
      off_port=$port
      start_node --throttle=off --admin-port=0 \
        --breached-passwords="$work/breached.idx"
      on_port=$port
      echo "== registration rate, breached check on / off ($lines entries)"
      /usr/bin/python3 "$root/bench/breached_register.py" --off="$off_port" \
        --on="$on_port" --seconds="${SECONDS_PER_TURN:-8}" --rounds=3
      ;;
    postgres)
      # Issue 17: PostgreSQL vs SQLite (registrations/s, logins/s against
      # the raw verify rate, whoami/s), two nodes on one database vs one,
      # and the time a failover takes. bench/postgres.py starts its own
      # PostgreSQL servers (primary, synchronous standby) on loopback.
      "$root/scripts/setup.sh" postgresql
      redis_port=$(( 20000 + RANDOM % 20000 ))
      redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize no >/dev/null &
      pids+=("$!")
      sleep 0.5
      /usr/bin/python3 "$root/bench/postgres.py" "$bin" --redis-port="$redis_port"
      ;;
    *) echo "unknown benchmark: $b"; exit 2 ;;
  esac
done
