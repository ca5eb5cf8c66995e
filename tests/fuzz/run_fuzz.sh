#!/bin/sh
# Run one libFuzzer target on a copy of its seed corpus for $FUZZ_SECONDS
# (default 30), at low CPU priority so that it uses what the tests running
# beside it leave idle. A finding is written next to the target
# (crash-*, leak-*, timeout-*) and fails the test.
# Usage: run_fuzz.sh TARGET CORPUS_DIR [DICT]
set -eu
exe=$1 corpus=$2 dict=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work/"
set -- -max_total_time="${FUZZ_SECONDS:-30}" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$(dirname "$exe")/"
[ -n "$dict" ] && set -- "$@" -dict="$dict"
if nice -n 15 "$exe" "$@" "$work" >"$work.log" 2>&1; then
	echo "$(basename "$exe"): $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work.log" |
		grep -o '[0-9]*$') runs, no finding"
	rm -f "$work.log"
else
	tail -60 "$work.log"
	rm -f "$work.log"
	exit 1
fi
