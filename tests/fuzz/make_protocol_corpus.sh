#!/bin/sh
# Rebuild the seed corpus of fuzz_protocol from the protocol samples: each
# seed is one selector byte (0 snapshot, 1 event, 2 command, 3 reply,
# 4 task) followed by a valid sample message.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/tests/fuzz/corpus/protocol
rm -rf "$out"
mkdir -p "$out"
for f in "$top"/tests/protocol/samples/valid/*.json; do
	name=$(basename "$f" .json)
	case $name in
	snapshot-*) sel='\000' ;;
	event-*) sel='\001' ;;
	command-*) sel='\002' ;;
	reply-*) sel='\003' ;;
	task-*) sel='\004' ;;
	*) echo "$f: unknown message type" >&2; exit 1 ;;
	esac
	{ printf "$sel"; cat "$f"; } >"$out/$name"
done
echo "$(ls "$out" | wc -l) seeds in $out"
