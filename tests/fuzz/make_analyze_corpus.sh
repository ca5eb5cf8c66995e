#!/bin/sh
# Rebuild the seed corpus of fuzz_analyze: tiny media files (each under
# 20 KB) in the formats the analysis accepts, made with ffmpeg from a
# short tone with silence around it, some with tags and a cover picture.
# The output is deterministic for a given ffmpeg (-bitexact, fixed seeds).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/tests/fuzz/corpus/analyze
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"

ff() { ffmpeg -nostdin -v error -y "$@"; }

# 0.4 s at 8 kHz: 0.1 s silence, 0.2 s of 440 Hz at -12 dBFS, 0.1 s silence.
tone="if(between(t,0.1,0.3),0.25*sin(2*PI*440*t),0)"
ff -f lavfi -i "aevalsrc=exprs='$tone':s=8000:d=0.4" -c:a pcm_s16le "$tmp/mono8k.wav"
ff -f lavfi -i "aevalsrc=exprs='$tone|$tone':s=22050:d=0.3" -c:a pcm_s16le "$tmp/st22k.wav"
ff -f lavfi -i "color=c=blue:s=8x8" -frames:v 1 "$tmp/cover.png"

meta="-metadata title=Tëst -metadata artist=Ünïcode -metadata track=2/9 -metadata date=2001"
# shellcheck disable=SC2086
{
	ff -i "$tmp/mono8k.wav" -c:a pcm_s16le -bitexact "$out/pcm16.wav"
	ff -i "$tmp/mono8k.wav" -c:a pcm_u8 -bitexact "$out/pcm8.wav"
	ff -i "$tmp/mono8k.wav" -c:a pcm_f32le -bitexact "$out/float.wav"
	ff -i "$tmp/mono8k.wav" -c:a pcm_s24le -bitexact "$out/pcm24.w64"
	ff -i "$tmp/mono8k.wav" -c:a pcm_s16be -bitexact "$out/pcm16.aiff"
	ff -i "$tmp/mono8k.wav" -c:a pcm_s16be -bitexact -f au "$out/pcm16.au"
	ff -i "$tmp/mono8k.wav" $meta -c:a flac -bitexact "$out/tone.flac"
	ff -i "$tmp/mono8k.wav" -i "$tmp/cover.png" -map 0 -map 1 -c:a flac -c:v copy \
		-disposition:v attached_pic -bitexact "$out/cover.flac"
	ff -i "$tmp/mono8k.wav" $meta -c:a libmp3lame -b:a 24k -bitexact "$out/tone.mp3"
	ff -i "$tmp/mono8k.wav" -i "$tmp/cover.png" -map 0 -map 1 -c:a libmp3lame -b:a 24k \
		-c:v copy -id3v2_version 3 -bitexact "$out/cover.mp3"
	ff -i "$tmp/st22k.wav" -c:a mp2 -b:a 64k -bitexact "$out/tone.mp2"
	ff -i "$tmp/st22k.wav" $meta -c:a libvorbis -q:a 0 -bitexact "$out/tone.ogg"
	ff -i "$tmp/mono8k.wav" $meta -c:a libopus -b:a 16k -bitexact "$out/tone.opus"
	ff -i "$tmp/mono8k.wav" $meta -c:a aac -b:a 24k -bitexact "$out/tone.m4a"
	ff -i "$tmp/mono8k.wav" -c:a aac -b:a 24k -bitexact -f adts "$out/tone.aac"
	ff -i "$tmp/st22k.wav" -c:a ac3 -b:a 64k -bitexact "$out/tone.ac3"
	ff -i "$tmp/mono8k.wav" -c:a libopus -b:a 16k -bitexact "$out/tone.mka"
	ff -i "$tmp/mono8k.wav" -c:a wavpack -bitexact "$out/tone.wv"
	ff -i "$tmp/mono8k.wav" -c:a alac -bitexact -f ipod "$out/alac.m4a"
	ff -i "$tmp/mono8k.wav" -c:a wmav2 -b:a 32k -bitexact "$out/tone.wma"
	ff -i "$tmp/mono8k.wav" -c:a pcm_s16le -bitexact -f caf "$out/pcm16.caf"
}
for f in "$out"/*; do
	n=$(wc -c <"$f")
	if [ "$n" -ge 20480 ]; then
		echo "$f: $n bytes, over 20 KB" >&2
		exit 1
	fi
done
echo "$(ls "$out" | wc -l) seeds in $out"
