#!/usr/bin/env bash
# Installs the Debian 12 packages authnode needs to build and test, if any
# are missing. Uses sudo when not root. Extra packages may be named as
# arguments (the benchmarks add redis-server, for example).
set -euo pipefail

packages=(build-essential cmake pkg-config libcaf-dev libsodium-dev
          libsqlite3-dev nlohmann-json3-dev catch2 libcli11-dev libcrypt-dev
          libssl-dev openssl libcurl4-openssl-dev liboath-dev
          libfido2-dev libcbor-dev libpq-dev
          "$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
