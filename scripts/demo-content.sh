#!/usr/bin/env bash
# Make the demo station's audio: a few short generated "music box" pieces
# (no recordings, so nothing to license) and a fallback loop. Files are
# only made when missing. Usage: scripts/demo-content.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"

# piece NAME BASE_HZ STEP_SEMITONES NOTES_PER_SECOND SECONDS
piece() {
	local out="$dir/$1.mp3" base=$2 step=$3 rate=$4 len=$5
	[ -s "$out" ] && return 0
	local e="0.2*sin(2*PI*t*$base*pow(2\\,floor(mod(t*$rate\\,8))*$step/12))*exp(-5*mod(t\\,1/$rate))"
	e="$e+0.07*sin(2*PI*t*$base/2)"
	ffmpeg -loglevel error -y -f lavfi -i "aevalsrc=$e|$e:s=44100:d=$len" \
		-metadata title="$1" -metadata artist="onair demo" -b:a 128k "$out.tmp.mp3"
	mv "$out.tmp.mp3" "$out"
}

piece "Morning Bells" 220 2 4 45
piece "Harbour Lights" 262 3 3 50
piece "Slow River" 196 5 2 60
piece "Night Train" 247 4 5 40
piece "Station Loop" 330 7 2 30
