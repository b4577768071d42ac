#!/usr/bin/env bash
# Sets up, builds and runs everything CI runs, stopping at the first failure:
#   1. the normal build (build/) and every test, unit and end-to-end (ctest),
#      and the end-to-end suite once more with every node on PostgreSQL
#      (ctest label postgresql_e2e, tests/CMakeLists.txt);
#   2. the sanitizer build (build-asan/: ASan + UBSan on every target) and
#      every test again, so the node the end-to-end tests start is sanitized
#      too;
#   3. the request decoder fuzzer for 60 s (scripts/fuzz.sh, build-fuzz/).
# clang-14 and libfuzzer-14-dev, which only step 3 needs, are installed here
# with the rest, so that one apt-get run installs everything; so are the
# tools some tests run: python3-prometheus-client (parses a /metrics scrape),
# fail2ban (fail2ban-regex on a real audit log), systemd (systemd-analyze
# verify on the unit file) and python3-passlib with its bcrypt and argon2
# backends (the password hashes of the user import tests, made by the
# library that made them in the systems users import from), curl (the
# README's walk-through, which CI follows, scrapes /metrics with it), and
# for the example web app (examples/webapp) what it runs on,
# python3-fastapi, uvicorn, python3-jinja2 (its pages), python3-multipart
# (its forms) and python3-qrcode (the QR code of its two-factor setup page,
# as inline SVG), and what its tests drive it with: python3-httpx (webapp_http,
# over real HTTP), python3-selenium, chromium and chromium-driver
# (webapp_browser, in a real headless browser), and python3-aiosmtpd, the
# SMTP server on loopback that receives the mails the tests make the node
# send (tests/support/smtp_sink.py), python3-pyotp, an implementation of
# TOTP that is not the node's, which the tests compute codes with, and
# python3-cryptography, the ES256 keys of the Python tests' software passkey
# authenticator (clients/python/tests, the web app's browser test), and
# postgresql, the server the tests start of their own in a temporary
# directory (tests/support/postgres_server, issue 17).
# Before building, it checks for Node.js 20 or later (the Node client's tests,
# clients/node; Debian 12's own nodejs is 18) and installs that package's one
# dev dependency, TypeScript, with `npm ci` (its type-declaration check).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ]; then
  echo "test.sh: Node.js 20 or later is needed for the Node client's tests" \
    "(found: $(node --version 2>/dev/null || echo 'no node')). Debian 12's" \
    "nodejs package is 18: install Node.js 20 from NodeSource or nodejs.org." >&2
  exit 1
fi
(cd "$root/clients/node" && npm ci --no-audit --no-fund --loglevel=error)
"$root/scripts/setup.sh" clang-14 libfuzzer-14-dev python3-prometheus-client \
  fail2ban systemd python3-passlib python3-bcrypt python3-argon2 curl \
  python3-fastapi uvicorn python3-jinja2 python3-multipart python3-httpx \
  python3-selenium chromium chromium-driver python3-aiosmtpd python3-pyotp \
  python3-qrcode python3-cryptography postgresql

start=$SECONDS
stage() {
  echo "== test.sh: $1 (at $((SECONDS - start)) s)" >&2
}

stage "normal build and tests"
"$root/scripts/build.sh"
(cd "$root/build" && ctest --output-on-failure -j"$(nproc)" --timeout 300)

stage "sanitizer build and tests"
# -g1: line tables are all a sanitizer report needs, and the build takes
# about a third less time than with -g. The node and authnode_core keep
# -O2; the test files themselves are built at -O0 (tests/CMakeLists.txt
# says why), which took the sanitizer build from about 35 to 23 minutes.
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DAUTHNODE_SANITIZE=ON -DAUTHNODE_BENCH=OFF >/dev/null
cmake --build "$root/build-asan" -j"$(nproc)"
(cd "$root/build-asan" && ctest --output-on-failure -j"$(nproc)" --timeout 600)

stage "fuzzing"
"$root/scripts/fuzz.sh" 60

stage "all passed"
