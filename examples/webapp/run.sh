#!/usr/bin/env bash
# Installs what the web app needs (Debian 12 packages, through
# scripts/setup.sh) and serves it with uvicorn on 127.0.0.1:8000.
#
# The node it calls is at AUTHNODE_HOST:AUTHNODE_PORT (127.0.0.1:7411, where
# scripts/node.sh starts one) and must trust this host:
#   ./scripts/node.sh --trusted-sources=127.0.0.1/32
# WEBAPP_HOST and WEBAPP_PORT say where to serve; extra arguments go to
# uvicorn (behind a TLS proxy, for example: --forwarded-allow-ips=10.0.0.2).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$root/scripts/setup.sh" python3-fastapi uvicorn python3-jinja2 python3-multipart \
  python3-qrcode
cd "$here"
export PYTHONPATH="$root/clients/python${PYTHONPATH:+:$PYTHONPATH}"
exec /usr/bin/python3 -m uvicorn main:app --host "${WEBAPP_HOST:-127.0.0.1}" \
  --port "${WEBAPP_PORT:-8000}" "$@"
