#!/usr/bin/env bash
# Sets up, builds and starts a node on 127.0.0.1:7411 with its SQLite
# database in ./authnode.db. Extra arguments go to the node (see --help).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" authnode
exec "$root/build/authnode" --db="${AUTHNODE_DB:-$PWD/authnode.db}" "$@"
