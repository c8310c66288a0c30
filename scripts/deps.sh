#!/bin/sh
# deps.sh [build|test|bench]: installs what kanca needs on Debian 12 with apt-get (as root).
# Nothing is installed when every package is already present.
set -eu
what=${1:-build}
pkgs="build-essential autoconf automake pkg-config libfcgi-dev libssl-dev libjson-c-dev libpq-dev libcurl4-openssl-dev
      libsqlite3-dev sqlite3 lighttpd libfcgi-bin openssl python3 ca-certificates"
case "$what" in
test) pkgs="$pkgs postgresql postgresql-client pgbouncer spawn-fcgi multiwatch systemd apache2 libapache2-mod-fcgid util-linux procps
      libclang-rt-14-dev clang clang-format" ;;
bench) pkgs="$pkgs postgresql postgresql-client postgresql-contrib wrk util-linux spawn-fcgi multiwatch apache2
      libapache2-mod-fcgid nodejs php8.2-fpm php8.2-pgsql"
	# the node peer's npm ci (bench/peers.sh); npm may come from elsewhere than Debian's package
	command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm" ;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# services that the packages would start are not needed: kanca's tests start their own
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends $missing >/dev/null
rm -f /usr/sbin/policy-rc.d
