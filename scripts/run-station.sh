#!/usr/bin/env bash
# Start a whole onair station on this machine, in the foreground, until
# Ctrl-C: NATS with JetStream, Icecast, the create block's roles (messages,
# worker, api) and one playout instance driving Liquidsoap, on air with
# generated demo content. State lives in .run/ (kept between runs).
# Usage: scripts/run-station.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
build=${1:-build}
state=${ONAIR_RUN_DIR:-$top/.run}
nats_port=${ONAIR_RUN_NATS_PORT:-4222}
icecast_port=${ONAIR_RUN_ICECAST_PORT:-8000}
harbor_port=${ONAIR_RUN_HARBOR_PORT:-8001}
hls_port=${ONAIR_RUN_HLS_PORT:-8002}
onair=$top/$build/src/onair/onair
playout=$top/$build/src/playout/onair-playout
mkdir -p "$state"/{nats,playout,media-src,demo,icecast/log}
chmod 755 "$state"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$nats_port" "$icecast_port" "$harbor_port" "$hls_port"; do
	if port_busy "$p"; then
		echo "onair: port $p is taken (another station running?). Ports are set with" >&2
		echo "       ONAIR_RUN_NATS_PORT, _ICECAST_PORT, _HARBOR_PORT, _HLS_PORT." >&2
		exit 1
	fi
done

# Secrets: made once, kept in .run/secrets (mode 600).
if [ ! -s "$state/secrets" ]; then
	umask 077
	{
		echo "icecast_source=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
		echo "icecast_admin=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
		echo "dj_password=$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
	} >"$state/secrets"
	umask 022
fi
# shellcheck disable=SC1091
. "$state/secrets"

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

wait_port() {
	for _ in $(seq 200); do
		port_busy "$1" && return 0
		sleep 0.05
	done
	echo "onair: $2 did not start (see its log in $state)" >&2
	exit 1
}

# 1. The message queue.
nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$state/nats" >"$state/nats.log" 2>&1 &
pids+=($!)
wait_port "$nats_port" "nats-server"

# 2. Icecast (it refuses to run as root: it runs as the icecast2 user then).
cat >"$state/icecast/icecast.xml" <<XML
<icecast>
  <location>onair demo</location>
  <limits><clients>100</clients><sources>10</sources><burst-on-connect>1</burst-on-connect></limits>
  <authentication><source-password>$icecast_source</source-password>
    <admin-user>admin</admin-user><admin-password>$icecast_admin</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>$icecast_port</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>$state/icecast/log</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
</icecast>
XML
if [ "$(id -u)" -eq 0 ]; then
	chown -R icecast2 "$state/icecast/log"
	setpriv --reuid=icecast2 --regid=icecast --init-groups icecast2 -c "$state/icecast/icecast.xml" \
		>"$state/icecast.log" 2>&1 &
else
	icecast2 -c "$state/icecast/icecast.xml" >"$state/icecast.log" 2>&1 &
fi
pids+=($!)
wait_port "$icecast_port" "Icecast"

# 3. Demo content and a day of schedule. (The schedule compiler of the
#    create block is not there yet: this snapshot stands in for it.)
echo "onair: preparing demo content..."
scripts/demo-content.sh "$state/demo"
dj_hash=$(printf '%s\n' "$dj_password" | "$playout" hash-password)
items=()
pieces=("Morning Bells" "Harbour Lights" "Slow River" "Night Train")
for ((i = 0; i < 1700; i++)); do
	items+=("$state/demo/${pieces[i % 4]}.mp3,title=${pieces[i % 4]},artist=onair demo,fade_in=0.5,fade_out=1.5,crossfade=1")
done
python3 tests/tools/make_snapshot.py --start "now+0" --revision "$(date +%s)" \
	--station "onair demo" --media-dir "$state/media-src" --window-hours 24 \
	--fallback "$state/demo/Station Loop.mp3" --live-user "dj:$dj_hash" --live-fade 2 \
	"${items[@]}" >"$state/demo-snapshot.json"

export ONAIR_NATS_URL=nats://127.0.0.1:$nats_port
export ONAIR_DATABASE_URL=sqlite://$state/onair.db
export ONAIR_STORAGE_PATH=$state/media
export ONAIR_PLAYOUT_STATE_DIR=$state/playout
export ONAIR_PLAYOUT_INSTANCE=${ONAIR_PLAYOUT_INSTANCE:-local}
export ONAIR_PLAYOUT_MEDIA_URL="file://$state/media-src/{hash}"
export ONAIR_ICECAST_PORT=$icecast_port
export ONAIR_ICECAST_PASSWORD=$icecast_source
export ONAIR_HARBOR_PORT=$harbor_port
export ONAIR_HLS_PORT=$hls_port
# The demo schedule is the generated snapshot published below: the demo
# pieces are not in the library yet (playout fetches library media from
# the web API, which does not serve it yet), so onair messages must not
# replace it with the compiled, empty schedule of the demo database.
export ONAIR_MESSAGES_PUBLISH=false

"$onair" publish-snapshot "$state/demo-snapshot.json" >/dev/null

# 4. The create block's roles, then playout.
"$onair" messages 2>>"$state/onair.log" &
pids+=($!)
"$onair" worker 2>>"$state/onair.log" &
pids+=($!)
"$onair" api 2>>"$state/onair.log" &
pids+=($!)
"$playout" run 2>>"$state/playout.log" &
pids+=($!)

echo "onair: starting playout and Liquidsoap..."
for _ in $(seq 300); do
	curl -sf "http://127.0.0.1:$icecast_port/status-json.xsl" 2>/dev/null | grep -q live.mp3 && break
	sleep 0.1
done

cat <<MSG

onair is on air (state and logs in $state).

  Listen (Icecast):  http://127.0.0.1:$icecast_port/live.mp3
  Listen (HLS):      http://127.0.0.1:$hls_port/hls/live.m3u8
  What plays now:    ONAIR_PLAYOUT_STATE_DIR=$state/playout $playout status
  Live DJ input:     icecast://dj:$dj_password@127.0.0.1:$harbor_port/show
                     (e.g. ffmpeg -re -i song.mp3 -c:a libmp3lame -f mp3
                      -content_type audio/mpeg icecast://dj:$dj_password@127.0.0.1:$harbor_port/show)
  Icecast admin:     http://127.0.0.1:$icecast_port/admin/  (admin / $icecast_admin)

  Not yet available: the web app and web API (see README, "Status").
Press Ctrl-C to stop.

MSG
# Stop everything when any part dies.
wait -n || true
echo "onair: a process exited; stopping the station (see the logs in $state)" >&2
