#!/usr/bin/env bash
# Makes a development CA and node certificates for TLS between authnode
# nodes (docs/deployment.md "Certificates"), with the openssl command.
#
#   scripts/make_dev_certs.sh DIR NAME...
#
# DIR/ca.pem and DIR/ca.key: the CA (made once; kept if they exist).
# DIR/NAME.pem and DIR/NAME.key for each NAME: a node certificate signed by
# the CA, for both TLS client and server use (every node is both), with NAME
# and 127.0.0.1 as subject alternative names. Keys are mode 0600.
#
# With AUTHNODE_KEY_PASSPHRASE_FILE set, node keys are encrypted (AES-256)
# with the first line of that file (for --tls-passphrase-file).
#
# For development and tests only: a production CA's key does not belong on
# a node, and certificates should come from the operator's own PKI.
# DAYS (default 30) sets how long the certificates are valid.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 DIR NAME..." >&2
  exit 2
fi
dir="$1"
shift
days="${DAYS:-30}"
mkdir -p "$dir"
umask 077

if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days "$days" \
    -subj "/CN=authnode development CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

for name in "$@"; do
  key_options=(-nodes)
  if [ -n "${AUTHNODE_KEY_PASSPHRASE_FILE:-}" ]; then
    key_options=(-passout "file:$AUTHNODE_KEY_PASSPHRASE_FILE")
  fi
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    "${key_options[@]}" -keyout "$dir/$name.key" -out "$dir/$name.csr" \
    -subj "/CN=$name" 2>/dev/null
  extensions="$dir/$name.ext"
  printf '%s\n' \
    "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" \
    "subjectAltName=DNS:$name,IP:127.0.0.1" > "$extensions"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" \
    -CAkey "$dir/ca.key" -CAcreateserial -out "$dir/$name.pem" \
    -days "$days" -extfile "$extensions" 2>/dev/null
  rm -f "$dir/$name.csr" "$extensions"
  echo "$dir/$name.pem $dir/$name.key"
done
chmod 0644 "$dir"/*.pem
