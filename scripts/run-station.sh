#!/usr/bin/env bash
# Start a whole onair station on this machine, in the foreground, until
# Ctrl-C: NATS with JetStream, Icecast, the create block's roles (messages,
# worker, api) and one playout instance driving Liquidsoap, on air with
# demo content in its library and schedule. onair-supervise runs them:
# any process that dies is restarted (playout restarts Liquidsoap itself),
# and Ctrl-C stops them all. State lives in .run/ (kept between runs), the
# processes' output in .run/logs/NAME.log.
# Usage: scripts/run-station.sh [BUILD_DIR]  (default build; relative to the
# source tree or absolute)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
state=${ONAIR_RUN_DIR:-$top/.run}
nats_port=${ONAIR_RUN_NATS_PORT:-4222}
icecast_port=${ONAIR_RUN_ICECAST_PORT:-8000}
harbor_port=${ONAIR_RUN_HARBOR_PORT:-8001}
hls_port=${ONAIR_RUN_HLS_PORT:-8002}
api_port=${ONAIR_RUN_API_PORT:-8080}
onair=$build/src/onair/onair
playout=$build/src/playout/onair-playout
supervise=$build/src/supervise/onair-supervise
mkdir -p "$state"/{nats,playout,demo,logs,icecast/log}
chmod 755 "$state"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$nats_port" "$icecast_port" "$harbor_port" "$hls_port" "$api_port"; do
	if port_busy "$p"; then
		echo "onair: port $p is taken (another station running?). Ports are set with" >&2
		echo "       ONAIR_RUN_NATS_PORT, _ICECAST_PORT, _HARBOR_PORT, _HLS_PORT, _API_PORT." >&2
		exit 1
	fi
done

# Secrets: made once, kept in .run/secrets (mode 600).
secret() { head -c "$1" /dev/urandom | base64 | tr -d '/+='; }
umask 077
touch "$state/secrets"
grep -q '^icecast_source=' "$state/secrets" || echo "icecast_source=$(secret 12)" >>"$state/secrets"
grep -q '^icecast_admin=' "$state/secrets" || echo "icecast_admin=$(secret 12)" >>"$state/secrets"
grep -q '^dj_password=' "$state/secrets" || echo "dj_password=$(secret 9)" >>"$state/secrets"
grep -q '^admin_password=' "$state/secrets" || echo "admin_password=$(secret 9)" >>"$state/secrets"
grep -q '^playout_token=' "$state/secrets" || echo "playout_token=onair_$(secret 32)" >>"$state/secrets"
umask 022
# shellcheck disable=SC1091
. "$state/secrets"

# The processes, in the order they start; onair-supervise reads this.
procfile=$state/procfile
echo "# written by scripts/run-station.sh" >"$procfile"
proc() { # proc NAME [ready=tcp:PORT] -- COMMAND...: one line, each word quoted
	local line=$1
	shift
	for w in "$@"; do
		case $w in
		-- | ready=*) line+=" $w" ;;
		*) line+=" '${w//\'/}'" ;;
		esac
	done
	echo "$line" >>"$procfile"
}

# 1. The message queue.
proc nats "ready=tcp:$nats_port" -- nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$state/nats"

# 2. Icecast (it refuses to run as root: it runs as the icecast2 user then).
cat >"$state/icecast/icecast.xml" <<XML
<icecast>
  <location>onair demo</location>
  <limits><clients>100</clients><sources>10</sources><burst-on-connect>1</burst-on-connect></limits>
  <!-- CORS, so that web pages (the player page) may analyse the stream. -->
  <http-headers><header name="Access-Control-Allow-Origin" value="*" /></http-headers>
  <authentication><source-password>$icecast_source</source-password>
    <admin-user>admin</admin-user><admin-password>$icecast_admin</admin-password></authentication>
  <!-- Listeners stay through a Liquidsoap restart: moved to the safety
       feed playout sends, and back when the stream returns. -->
  <mount><mount-name>/live.mp3</mount-name><fallback-mount>/live.mp3.safety</fallback-mount>
    <fallback-override>1</fallback-override></mount>
  <mount><mount-name>/live.mp3.safety</mount-name><hidden>1</hidden></mount>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>$icecast_port</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>$state/icecast/log</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
</icecast>
XML
if [ "$(id -u)" -eq 0 ]; then
	chown -R icecast2 "$state/icecast/log"
	if ! setpriv --reuid=icecast2 --regid=icecast --init-groups test -r "$state/icecast/icecast.xml"; then
		echo "onair: the icecast2 user cannot read $state/icecast/icecast.xml (is a parent" >&2
		echo "       directory private?); set ONAIR_RUN_DIR to a directory it can reach." >&2
		exit 1
	fi
	proc icecast "ready=tcp:$icecast_port" -- setpriv --reuid=icecast2 --regid=icecast \
		--init-groups --pdeathsig TERM icecast2 -c "$state/icecast/icecast.xml"
else
	proc icecast "ready=tcp:$icecast_port" -- icecast2 -c "$state/icecast/icecast.xml"
fi

# 3. The demo station in the database: the demo pieces imported into the
#    library (analysed like any upload), a show that runs all day with an
#    autoplaylist of them, the station loop as fallback, a DJ account.
#    onair messages compiles and publishes the schedule from it.
echo "onair: preparing demo content..."
scripts/demo-content.sh "$state/demo"
export ONAIR_NATS_URL=nats://127.0.0.1:$nats_port
export ONAIR_DATABASE_URL=sqlite://$state/onair.db
export ONAIR_STORAGE_PATH=$state/media
"$onair" migrate >/dev/null
"$onair" import "$state/demo" >"$state/import.log" 2>&1 ||
	{ echo "onair: importing the demo content failed (see $state/import.log)" >&2; exit 1; }
if ! "$onair" user list 2>/dev/null | grep -q '^admin '; then
	printf '%s\n' "$admin_password" | "$onair" user add admin --role admin \
		--display-name "Station admin" >/dev/null
fi
if ! "$onair" user list 2>/dev/null | grep -q '^dj '; then
	printf '%s\n' "$dj_password" | "$onair" user add dj --role program_manager \
		--display-name "Demo DJ" >/dev/null
fi
sqlite3 "$state/onair.db" <<'SQL'
BEGIN;
UPDATE station_settings SET name = 'onair demo', default_fade_in_us = 500000,
 default_fade_out_us = 1500000, default_crossfade_us = 1000000 WHERE id = 1;
INSERT INTO playlists (name, description, created_at, updated_at)
 SELECT 'Demo rotation', 'The four demo pieces', 0, 0
 WHERE NOT EXISTS (SELECT 1 FROM playlists WHERE name = 'Demo rotation');
INSERT INTO playlists (name, description, created_at, updated_at)
 SELECT 'Station fallback', 'What plays when nothing is scheduled', 0, 0
 WHERE NOT EXISTS (SELECT 1 FROM playlists WHERE name = 'Station fallback');
INSERT INTO playlist_items (playlist_id, position, file_id)
 SELECT p.id, f.id, f.id FROM playlists p, files f
 WHERE p.name = 'Demo rotation' AND f.title <> 'Station Loop' AND f.import_status = 'ready'
 AND NOT EXISTS (SELECT 1 FROM playlist_items i WHERE i.playlist_id = p.id AND i.file_id = f.id);
INSERT INTO playlist_items (playlist_id, position, file_id)
 SELECT p.id, 0, f.id FROM playlists p, files f
 WHERE p.name = 'Station fallback' AND f.title = 'Station Loop' AND f.import_status = 'ready'
 AND NOT EXISTS (SELECT 1 FROM playlist_items i WHERE i.playlist_id = p.id);
UPDATE station_settings SET fallback_playlist_id =
 (SELECT id FROM playlists WHERE name = 'Station fallback') WHERE id = 1;
INSERT INTO shows (name, description, live_input, autoplaylist_id, autoplaylist_repeat,
 created_at, updated_at)
 SELECT 'onair demo', 'The demo rotation, all day', 'any', p.id, TRUE, 0, 0
 FROM playlists p WHERE p.name = 'Demo rotation'
 AND NOT EXISTS (SELECT 1 FROM shows WHERE name = 'onair demo');
INSERT INTO show_recurrences (show_id, frequency, weekdays, start_date, start_time,
 duration_us, timezone, created_at, updated_at)
 SELECT s.id, 'weekly', 127, '2026-01-01', '00:00', 86400000000, 'UTC', 0, 0
 FROM shows s WHERE s.name = 'onair demo'
 AND NOT EXISTS (SELECT 1 FROM show_recurrences r WHERE r.show_id = s.id);
COMMIT;
SQL

export ONAIR_PLAYOUT_STATE_DIR=$state/playout
export ONAIR_PLAYOUT_INSTANCE=${ONAIR_PLAYOUT_INSTANCE:-local}
# Playout downloads media from the web API with its service credential.
export ONAIR_API_LISTEN=127.0.0.1:$api_port
export ONAIR_API_PLAYOUT_TOKEN=$playout_token
export ONAIR_PLAYOUT_MEDIA_TOKEN=$playout_token
export ONAIR_PLAYOUT_MEDIA_URL="http://127.0.0.1:$api_port/api/v1/files/{id}/content"
export ONAIR_ICECAST_PORT=$icecast_port
export ONAIR_ICECAST_PASSWORD=$icecast_source
export ONAIR_HARBOR_PORT=$harbor_port
export ONAIR_HLS_PORT=$hls_port
export ONAIR_MESSAGES_ICECAST_STATUS=http://127.0.0.1:$icecast_port/status-json.xsl
# The streams as listeners reach them, for the player page (/player).
export ONAIR_PUBLIC_STREAM_URL=http://127.0.0.1:$icecast_port/live.mp3
export ONAIR_PUBLIC_HLS_URL=http://127.0.0.1:$hls_port/hls/live.m3u8

# 4. The create block's roles, then playout.
proc messages -- "$onair" messages
proc worker -- "$onair" worker
proc api "ready=tcp:$api_port" -- "$onair" api
proc playout -- "$playout" run

# Ctrl-C reaches the supervisor (which stops everything) and this script,
# which only waits for it.
"$supervise" --log-dir "$state/logs" "$procfile" &
supervisor=$!
trap ':' INT
trap 'kill -TERM $supervisor 2>/dev/null' TERM HUP

echo "onair: starting the station..."
on_air=no
for _ in $(seq 600); do
	if curl -sf "http://127.0.0.1:$icecast_port/status-json.xsl" 2>/dev/null | grep -q live.mp3; then
		on_air=yes
		break
	fi
	kill -0 "$supervisor" 2>/dev/null || break
	sleep 0.1
done
if [ $on_air = yes ]; then
	echo
	echo "onair is on air (state and logs in $state)."
else
	echo
	echo "onair: the stream is not up after 60 s; the supervisor keeps trying. See"
	echo "       $state/logs/ (icecast.log, playout.log) for why."
fi

cat <<MSG

  Listen (Icecast):  http://127.0.0.1:$icecast_port/live.mp3
  Listen (HLS):      http://127.0.0.1:$hls_port/hls/live.m3u8
  Player page:       http://127.0.0.1:$api_port/player  (embeddable; ?theme=dark, ?autoplay=1)
  Logs:              $state/logs/ (one file a process; supervise lines above)
  What plays now:    ONAIR_PLAYOUT_STATE_DIR=$state/playout $playout status
  Live DJ input:     icecast://dj:$dj_password@127.0.0.1:$harbor_port/show
                     (e.g. ffmpeg -re -i song.mp3 -c:a libmp3lame -f mp3
                      -content_type audio/mpeg icecast://dj:$dj_password@127.0.0.1:$harbor_port/show)
  Icecast admin:     http://127.0.0.1:$icecast_port/admin/  (admin / $icecast_admin)
  The schedule:      ONAIR_DATABASE_URL=$ONAIR_DATABASE_URL $onair schedule --hours 24 >/dev/null
                     (the demo show runs all day from its autoplaylist;
                      the database is $state/onair.db)

  Web API:           http://127.0.0.1:$api_port/api/v1  (docs: /api/v1/openapi.json;
                     scripts: make an API token under Account in the web app)

  (Ctrl-C stops the station.)

  Web app:           http://127.0.0.1:$api_port/
  Log in as:         admin / $admin_password

MSG
# Until the supervisor has stopped everything (Ctrl-C).
status=0
while kill -0 "$supervisor" 2>/dev/null; do
	status=0
	wait "$supervisor" || status=$?
done
echo "onair: stopped"
exit "$status"
