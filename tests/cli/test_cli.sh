#!/usr/bin/env bash
# Command-line behaviour of both programs: help, version, usage errors
# (exit 2), configuration from file and environment, the link-time
# separation of the play block from the database, and a clean stop on
# SIGTERM/SIGINT while connected to a real nats-server.
set -uo pipefail
onair=$1
playout=$2
fails=0
n=0
tmp=$(mktemp -d)
nats_pid=
cleanup() {
	[ -n "$nats_pid" ] && kill "$nats_pid" 2>/dev/null && wait "$nats_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

check() { # check NAME COMMAND...: the command must succeed
	n=$((n + 1))
	if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fails=$((fails + 1)); fi
}
exit_code() { # exit_code WANT COMMAND...
	local want=$1; shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	[ "$got" -eq "$want" ] || { echo "# '$*' exited $got, want $want"; cat "$tmp/err"; return 1; }
}
contains() { grep -q -- "$2" "$1" || { echo "# $1 lacks '$2':"; cat "$1"; return 1; }; }

for prog in "$onair" "$playout"; do
	name=$(basename "$prog")
	check "$name --version exits 0" exit_code 0 "$prog" --version
	check "$name --version prints the version" contains "$tmp/out" "^$name [0-9]\+\.[0-9]\+\.[0-9]\+$"
	check "$name -V" exit_code 0 "$prog" -V
	check "$name --help exits 0" exit_code 0 "$prog" --help
	check "$name --help shows usage" contains "$tmp/out" "Usage: $name"
	check "$name bad option exits 2" exit_code 2 "$prog" --no-such-option
	check "$name unknown command exits 2" exit_code 2 "$prog" no-such-command
	check "$name unknown command is named" contains "$tmp/err" "unknown command 'no-such-command'"
	check "$name missing config file exits 2" exit_code 2 "$prog" -c "$tmp/none.ini" config
	printf '[nats]\nurl = nats://127.0.0.1:1\nbogus = 1\n' >"$tmp/bad.ini"
	check "$name unknown setting exits 2" exit_code 2 "$prog" -c "$tmp/bad.ini" config
	check "$name unknown setting is named with its line" contains "$tmp/err" "bad.ini:3: unknown setting 'nats.bogus'"
	check "$name bad log level exits 2" exit_code 2 "$prog" -l loud config
	printf '[nats]\nurl = nats://127.0.0.1:1111\n' >"$tmp/good.ini"
	check "$name reads the config file" exit_code 0 "$prog" -c "$tmp/good.ini" config
	check "$name shows the file's value" contains "$tmp/out" "^url = nats://127.0.0.1:1111$"
	check "$name environment overrides file" exit_code 0 env ONAIR_NATS_URL=nats://127.0.0.1:2222 "$prog" -c "$tmp/good.ini" config
	check "$name shows the environment's value" contains "$tmp/out" "^url = nats://127.0.0.1:2222$"
done
check "onair without command exits 2" exit_code 2 "$onair"
check "onair api with extra argument exits 2" exit_code 2 "$onair" api extra

# onair schedule: a weekly show with an autoplaylist, compiled from a
# fresh SQLite database into a snapshot that onair publish-snapshot's own
# validation would accept (checked by decoding it again below).
db="sqlite://$tmp/station.db"
check "onair migrate" exit_code 0 env ONAIR_DATABASE_URL="$db" "$onair" migrate
sqlite3 "$tmp/station.db" "INSERT INTO files (content_hash, size, mime, storage_key,
 import_status, created_at, updated_at, title, artist, duration_us) VALUES
 ('sha256:' || printf('%064d', 1), 10, 'audio/mpeg', 'a', 'ready', 0, 0, 'Song A', 'Ann', 180000000);
 INSERT INTO playlists (name, created_at, updated_at) VALUES ('P', 0, 0);
 INSERT INTO playlist_items (playlist_id, position, file_id) VALUES (1, 0, 1);
 INSERT INTO shows (name, autoplaylist_id, autoplaylist_repeat, created_at, updated_at)
 VALUES ('Morning', 1, TRUE, 0, 0);
 INSERT INTO show_recurrences (show_id, frequency, weekdays, start_date, start_time,
 duration_us, timezone, created_at, updated_at) VALUES (1, 'weekly', 127, '2026-01-01',
 '08:00', 3600000000, 'Europe/Berlin', 0, 0);"
check "onair schedule exits 0" exit_code 0 env ONAIR_DATABASE_URL="$db" "$onair" schedule \
	--from 2027-01-04T00:00:00Z --hours 24 --revision 5
check "onair schedule fills the show from its autoplaylist" contains "$tmp/err" "1 autoplaylist"
check "onair schedule reports the hole before the show" contains "$tmp/err" \
	"gap 2027-01-04T00:00:00Z .. 2027-01-04T07:00:00Z: no show"
check "onair schedule prints a snapshot of 20 items from 07:00 UTC" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["type"] == "snapshot" and s["revision"] == 5, s
assert len(s["items"]) == 20 and s["items"][0]["start"] == "2027-01-04T07:00:00Z", s["items"][:1]
assert s["items"][-1]["end"] == "2027-01-04T08:00:00Z", s["items"][-1]
' "$tmp/out"
check "onair schedule --hours 0 exits 2" exit_code 2 env ONAIR_DATABASE_URL="$db" "$onair" schedule --hours 0
check "onair schedule on a missing database exits 1" exit_code 1 env \
	ONAIR_DATABASE_URL="sqlite://$tmp/no/such/dir.db" "$onair" schedule

# onair user: accounts with Argon2id passwords, no default account.
udb="sqlite://$tmp/users.db"
user() { env ONAIR_DATABASE_URL="$udb" "$onair" user "$@"; }
check "onair user add reads the password from stdin" exit_code 0 \
	bash -c "printf 'correct horse\n' | ONAIR_DATABASE_URL='$udb' '$onair' user add ann --role admin"
check "onair user add refuses a name taken (any case)" exit_code 1 \
	bash -c "printf 'correct horse\n' | ONAIR_DATABASE_URL='$udb' '$onair' user add ANN --role host"
check "the refusal says why" contains "$tmp/err" "a user named 'ANN' already exists"
check "onair user add refuses a short password" exit_code 2 \
	bash -c "printf 'short\n' | ONAIR_DATABASE_URL='$udb' '$onair' user add bob --role host"
check "onair user add refuses an unknown role" exit_code 2 \
	bash -c "printf 'correct horse\n' | ONAIR_DATABASE_URL='$udb' '$onair' user add bob --role king"
check "onair user add refuses a name with a slash" exit_code 2 \
	bash -c "printf 'correct horse\n' | ONAIR_DATABASE_URL='$udb' '$onair' user add 'a/b' --role host"
check "onair user add without a password exits 2" exit_code 2 user add bob --role host </dev/null
check "onair user add a host" exit_code 0 \
	bash -c "printf 'battery staple\n' | ONAIR_DATABASE_URL='$udb' '$onair' user add dj --role host"
check "onair user list" exit_code 0 user list
check "the list shows both" bash -c "grep -q '^ann .*admin' '$tmp/out' && grep -q '^dj .*host' '$tmp/out'"
check "the password is stored as an Argon2id hash" bash -c \
	"sqlite3 '$tmp/users.db' \"SELECT password_hash FROM users WHERE name = 'ann'\" | grep -q '^\\\$argon2id\\\$'"
check "onair user passwd" exit_code 0 \
	bash -c "printf 'another secret\n' | ONAIR_DATABASE_URL='$udb' '$onair' user passwd ann"
check "onair user passwd of nobody exits 1" exit_code 1 \
	bash -c "printf 'another secret\n' | ONAIR_DATABASE_URL='$udb' '$onair' user passwd nobody"
check "onair user disable" exit_code 0 user disable dj
check "a disabled account is listed as such" bash -c "'$onair' user list >/dev/null 2>&1; \
	ONAIR_DATABASE_URL='$udb' '$onair' user list | grep -q '^dj .*disabled'"
check "the audit log has each change" bash -c \
	"[ \"\$(sqlite3 '$tmp/users.db' 'SELECT COUNT(*) FROM audit_log')\" = 4 ]"
# The admin may broadcast on both live inputs: the compiled snapshot
# carries the account with its hash (the disabled host is left out).
check "onair schedule on the accounts' database" exit_code 0 env ONAIR_DATABASE_URL="$udb" \
	"$onair" schedule --hours 1 --quiet
check "the snapshot's live inputs carry the admin, not the disabled host" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
for k in ("main", "show"):
    names = [u["name"] for u in s["live"][k]["users"]]
    assert names == ["ann"], (k, names)
    assert s["live"][k]["users"][0]["password_hash"].startswith("$argon2id$")
' "$tmp/out"

# The play block never links a database library.
ldd "$playout" >"$tmp/ldd"
check "onair-playout links no SQLite" bash -c "! grep -qi sqlite '$tmp/ldd'"
check "onair-playout links no PostgreSQL" bash -c "! grep -qi libpq '$tmp/ldd'"

# Clean start and stop against a real nats-server on a free port.
# (a port reserved as tests/e2e/station.py does: a lock file held by fd 8
# for the rest of this script, so tests side by side never share one)
port_dir=${TMPDIR:-/tmp}/onair-test-ports
mkdir -p "$port_dir"
while :; do
	port=$((20000 + RANDOM % 12000))
	exec 8<>"$port_dir/$port"
	flock -n 8 && ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	exec 8<&-
done
nats-server -a 127.0.0.1 -p "$port" -js -sd "$tmp/js" >"$tmp/nats.log" 2>&1 &
nats_pid=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
export ONAIR_NATS_URL=nats://127.0.0.1:$port
stop_cleanly() { # stop_cleanly SIGNAL WANT_TEXT COMMAND...
	local sig=$1 want=$2; shift 2
	# Emptied here, not by the background redirection: that runs after the
	# fork, and until then the file still holds the previous run's lines.
	: >"$tmp/run.log"
	"$@" 2>>"$tmp/run.log" &
	local pid=$!
	for _ in $(seq 600); do # up to 60 s (a loaded sanitizer build)
		grep -q "$want" "$tmp/run.log" && break
		sleep 0.1
	done
	grep -q "$want" "$tmp/run.log" || {
		echo "# never saw '$want':"
		cat "$tmp/run.log"; kill -9 $pid; return 1; }
	kill -"$sig" $pid
	wait $pid
	local rc=$?
	[ $rc -eq 0 ] || { echo "# exit $rc after SIG$sig"; cat "$tmp/run.log"; return 1; }
	grep -q "INFO  \[.*\] stopped" "$tmp/run.log" || { echo "# no 'stopped' line"; cat "$tmp/run.log"; return 1; }
}
roles_env=(env ONAIR_DATABASE_URL="sqlite://$tmp/roles.db" ONAIR_STORAGE_PATH="$tmp/media"
	ONAIR_API_LISTEN=127.0.0.1:0)
for role in api worker messages; do
	check "onair $role runs and stops on SIGTERM" stop_cleanly TERM "\[$role\] running" \
		"${roles_env[@]}" "$onair" "$role"
	check "onair $role stops on SIGINT" stop_cleanly INT "\[$role\] running" \
		"${roles_env[@]}" "$onair" "$role"
done
check "onair-playout runs and stops on SIGTERM" stop_cleanly TERM "watching the schedule" "$playout" run
check "log lines carry level and component" contains "$tmp/run.log" "Z INFO  \[playout\] "

echo "1..$n"
[ "$fails" -eq 0 ]
