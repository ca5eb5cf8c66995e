#!/usr/bin/env bash
# Start a whole onair station on this machine, in the foreground, until
# Ctrl-C: a local NATS server with JetStream, then the roles of the
# create block (messages, worker, api) and one playout instance.
# State lives in .run/ (kept between runs). Usage: scripts/run-station.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
state=${ONAIR_RUN_DIR:-$(pwd)/.run}
nats_port=${ONAIR_RUN_NATS_PORT:-4222}
mkdir -p "$state/nats" "$state/playout" "$state/media"

pids=()
stop_all() {
	trap - INT TERM EXIT
	echo
	echo "onair: stopping..."
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	echo "onair: stopped"
}
trap stop_all INT TERM EXIT

if (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null; then
	echo "onair: port $nats_port is taken (another NATS or station running?)." >&2
	echo "       Set ONAIR_RUN_NATS_PORT to use another port." >&2
	exit 1
fi
nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$state/nats" >"$state/nats.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break
	sleep 0.05
done

export ONAIR_NATS_URL=nats://127.0.0.1:$nats_port
export ONAIR_DATABASE_URL=sqlite://$state/onair.db
export ONAIR_STORAGE_PATH=$state/media
export ONAIR_PLAYOUT_STATE_DIR=$state/playout
export ONAIR_PLAYOUT_INSTANCE=${ONAIR_PLAYOUT_INSTANCE:-local}

"$build/src/onair/onair" messages &
pids+=($!)
"$build/src/onair/onair" worker &
pids+=($!)
"$build/src/onair/onair" api &
pids+=($!)
"$build/src/playout/onair-playout" run &
pids+=($!)

cat <<MSG

onair is running (state in $state).
  NATS:     nats://127.0.0.1:$nats_port   (log: $state/nats.log)
  Not yet available: web app, web API, Icecast and HLS streams (see README, "Status").
Press Ctrl-C to stop.

MSG
# Stop everything when any part dies.
wait -n || true
echo "onair: a process exited; stopping the station" >&2
