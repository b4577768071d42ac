#!/usr/bin/env bash
# Checks deploy/systemd/authnode.service (or the UNIT given, such as the
# cluster template authnode@.service) with `systemd-analyze verify`, the
# way CI runs it (ctest runs this script as the test "systemd_unit_verify").
#
#   scripts/check_systemd_unit.sh [BINARY] [UNIT]
#
# verify refuses a unit whose ExecStart binary does not exist, and the unit
# names the installed path (/usr/local/bin/authnode); so it checks a copy
# whose ExecStart points at BINARY (default: build/authnode). verify only
# warns about an unknown or misspelt key and still exits 0, so any output
# at all is taken as a failure too. Run with --self-test, it also proves that
# it fails on broken copies of the unit.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

self_test=0
if [ "${1:-}" = "--self-test" ]; then
  self_test=1
  shift
fi
binary="$(realpath "${1:-$root/build/authnode}")"
unit="${2:-$root/deploy/systemd/authnode.service}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# verify_copy FILE: 0 if systemd-analyze accepts it without a word.
verify_copy() {
  local out rc=0
  out="$(systemd-analyze verify --man=no "$1" 2>&1)" || rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
    printf '%s\n' "$out" >&2
    return 1
  fi
}

# A unit file's name is its unit name: keep it, and check a template
# (name@.service) as one instance of it.
name="$(basename "$unit")"
name="${name/@./@check.}"
mkdir -p "$tmp/ok"
sed "s|/usr/local/bin/authnode|$binary|" "$unit" > "$tmp/ok/$name"
grep -q "^ExecStart=$binary " "$tmp/ok/$name" \
  || { echo "check_systemd_unit: no ExecStart=/usr/local/bin/authnode in $unit" >&2; exit 1; }
verify_copy "$tmp/ok/$name"
echo "check_systemd_unit: $unit verified"

[ "$self_test" -eq 1 ] || exit 0
# Each broken copy must be refused, or this check proves nothing.
broken() { # NAME SED-EXPRESSION
  mkdir -p "$tmp/$1"
  sed -e "$2" "$tmp/ok/$name" > "$tmp/$1/$name"
  if verify_copy "$tmp/$1/$name" 2>/dev/null; then
    echo "check_systemd_unit: a unit with $1 was accepted" >&2
    exit 1
  fi
}
broken "a misspelt key" 's/^NoNewPrivileges=/NoNewPrivilege=/'
broken "a bad value" 's/^ProtectSystem=strict/ProtectSystem=sometimes/'
broken "a missing binary" "s|^ExecStart=$binary|ExecStart=$tmp/nonexistent|"
echo "check_systemd_unit: broken units are refused"
