#!/bin/sh
# Install the Debian 12 packages onair needs to build, test and run.
# Only missing packages are installed, so a second run costs a second.
# Usage: scripts/install-deps.sh [build|test|run|all]   (default: all)
set -eu

build_pkgs="meson ninja-build pkg-config ccache gcc clang libclang-rt-14-dev python3
libjansson-dev libnats-dev libcurl4-openssl-dev libsodium-dev libmicrohttpd-dev libxml2-dev
libsqlite3-dev libpq-dev
libavformat-dev libavcodec-dev libswresample-dev libavutil-dev libebur128-dev"
test_pkgs="libcmocka-dev nats-server valgrind liquidsoap icecast2 ffmpeg curl python3-jsonschema python3-prometheus-client
postgresql sqlite3 wrk libical-dev chromium systemd"
run_pkgs="nats-server liquidsoap icecast2 ffmpeg sqlite3"

case "${1:-all}" in
build) pkgs="$build_pkgs" ;;
test) pkgs="$build_pkgs $test_pkgs" ;;
run) pkgs="$build_pkgs $run_pkgs" ;;
all) pkgs="$build_pkgs $test_pkgs $run_pkgs" ;;
*) echo "usage: $0 [build|test|run|all]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
# Node.js runs the OpenAPI check (tests/api); any node >= 18 will do, so an
# existing installation (not from Debian) is kept.
case "${1:-all}" in
test|all)
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
	;;
esac
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "onair: these packages are missing and I am not root:$missing" >&2
		exit 1
	fi
else
	SUDO=
fi
echo "onair: installing$missing" >&2
$SUDO apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing >/dev/null
