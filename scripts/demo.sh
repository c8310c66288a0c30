#!/bin/sh
# demo.sh: runs kanca on a fresh Debian 12 machine (as root): installs what is missing, builds,
# creates a SQLite store in ./demo, adds a demo supplier with a generated secret, starts lighttpd
# with kanca on 127.0.0.1:${PORT:-8080} in the foreground and prints a signed curl request.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
port=${PORT:-8080}
sh scripts/deps.sh build

if [ ! -f _build/demo/Makefile ]; then
	autoreconf -fi >/dev/null 2>&1
	mkdir -p _build/demo
	(cd _build/demo && "$top/configure" -q)
fi
(cd _build/demo && make -j"$(nproc)" >/dev/null)   # incremental: picks up a pulled change
bin=$top/_build/demo
demo=$top/demo
mkdir -p "$demo/www"
cat > "$demo/kanca.conf" <<CONF
# kanca demo configuration (every key: doc/configuration.md)
store = sqlite:$demo/kanca.db
max_body_bytes = 1M
log_level = info
CONF
export KANCA_CONFIG="$demo/kanca.conf"
"$bin/kancactl" migrate
if ! "$bin/kancactl" source list | grep -q " demo-supplier "; then
	secret=$(openssl rand -hex 32)
	printf '%s\n' "$secret" | "$bin/kancactl" source add supplier demo-supplier --secret-stdin
	printf '%s\n' "$secret" > "$demo/secret.txt"
	chmod 600 "$demo/secret.txt"
fi
secret=$(cat "$demo/secret.txt")

# lighttpd's server config around the shipped lighttpd/kanca.conf (paths filled in)
sed -e "s|/usr/local/bin/kanca|$bin/kanca|" -e "s|/run/lighttpd/kanca.sock|$demo/kanca.sock|" \
    -e "s|/etc/kanca/kanca.conf|$demo/kanca.conf|" lighttpd/kanca.conf > "$demo/kanca-fastcgi.conf"
cat > "$demo/lighttpd.conf" <<CONF
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$demo/www"
server.errorlog = "/dev/stderr"
include "$demo/kanca-fastcgi.conf"
CONF

id="demo-$(date +%s)"
body='{"eventId":"'$id'","event":"offer.created","timestamp":"2026-01-01T00:00:00Z","data":{"vendorOfferId":"TOUR-123","title":"İstanbul Boğaz Turu","price":150.00,"currency":"TRY","category":"tours","startAt":"2026-10-05T09:00:00Z","endAt":"2026-10-05T17:00:00Z","availableSeats":20}}'
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
cat <<MSG

kanca is starting on http://127.0.0.1:$port (store: $demo/kanca.db). Paste this in another terminal:

curl -i -X POST http://127.0.0.1:$port/api/suppliers/demo-supplier/webhook \\
  -H 'Content-Type: application/json' \\
  -H 'X-Signature: $sig' \\
  --data-binary '$body'

Then: KANCA_CONFIG=$demo/kanca.conf $bin/kancactl events
Stop with Ctrl-C.

MSG
exec lighttpd -D -f "$demo/lighttpd.conf"
