#!/bin/sh
# Run by `meson install` (`make install`): put the default settings in
# SYSCONFDIR/onair without overwriting what the operator has changed (the
# new default goes beside it as FILE.dist), readable by the onair group
# only. Installing into the live system (no DESTDIR), also make the onair
# user and tell systemd about the new units.
# Usage: install-config.sh CONFDIR FILE...
set -eu
confdir=$1
shift
dest=${DESTDIR:-}$confdir
root=${DESTDIR:-}

if [ -z "$root" ] && command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers "${MESON_INSTALL_PREFIX:-/usr/local}/lib/sysusers.d/onair.conf" || true
fi
mkdir -p "$dest"
chmod 0750 "$dest"
for f in "$@"; do
	name=$(basename "$f")
	if [ -e "$dest/$name" ] && ! cmp -s "$f" "$dest/$name"; then
		echo "onair: keeping $dest/$name; the new default is $dest/$name.dist"
		name=$name.dist
	fi
	install -m 0640 "$f" "$dest/$name"
done
if [ "$(id -u)" -eq 0 ] && getent group onair >/dev/null 2>&1; then
	chgrp onair "$dest" "$dest"/*
fi
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
