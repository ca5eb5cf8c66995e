#!/usr/bin/env python3
"""Benchmark: CPU cost of `onair analyze` against decoding alone and
against the multi-pass pipeline LibreTime runs per uploaded file.

On the same generated files, in one run (a 10-minute MP3 and FLAC made
with ffmpeg from pink noise and a chord under a slow swell, near full
scale), it measures the CPU time (user + sys of the child processes) of:

  (a) decode only:      ffmpeg -i F -f null -
  (b) LibreTime-style:  ffprobe (duration) + ffmpeg -af replaygain -f null -
                        + ffmpeg -af silencedetect -f null -
  (c) onair analyze F   (everything: loudness, true peak, cue points,
                        waveform, tags, SHA-256, verdict)

and prints the figures and the ratios c/a (target: under 2.0) and c/b.
Each command runs --runs times (default 3) and the smallest CPU time
counts, which filters out noise from other work on the machine. Never
fails on a timing.

Usage: bench/analyze_bench.py [--onair PATH] [--minutes N] [--runs N]
       (default onair: build/src/onair/onair)
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_of(cmds):
    """CPU seconds (user + sys) of running cmds one after the other."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for cmd in cmds:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best_of(runs, cmds):
    return min(cpu_of(cmds) for _ in range(runs))


def make_files(tmp, minutes):
    seconds = int(minutes * 60)
    src = os.path.join(tmp, "src.wav")
    subprocess.run([
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.35:r=44100:s=3:d=%d" % seconds,
        "-f", "lavfi", "-i", "aevalsrc=0.3*sin(2*PI*220*t)+0.2*sin(2*PI*3520*t+1)|"
        "0.3*sin(2*PI*330*t)+0.2*sin(2*PI*5280*t):s=44100:d=%d" % seconds,
        "-filter_complex",
        "[0]aformat=channel_layouts=stereo[n];[n][1]amix=inputs=2:normalize=0,"
        "volume='0.35+0.65*abs(sin(t/4))':eval=frame,alimiter=limit=0.95:level=0",
        "-c:a", "pcm_s16le", src], check=True)
    files = {}
    for ext, codec in (("mp3", ["-c:a", "libmp3lame", "-b:a", "192k"]),
                       ("flac", ["-c:a", "flac"])):
        f = os.path.join(tmp, "bench.%s" % ext)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, *codec, f],
                       check=True)
        files[ext] = f
    os.unlink(src)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--onair", default=os.path.join(HERE, "..", "build", "src", "onair", "onair"))
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not os.access(args.onair, os.X_OK):
        sys.exit("no onair at %s (build it, or give --onair)" % args.onair)
    for tool in ("ffmpeg", "ffprobe"):
        if not shutil.which(tool):
            sys.exit("%s is not installed" % tool)

    tmp = tempfile.mkdtemp(prefix="onair-bench-")
    try:
        print("generating %g-minute files ..." % args.minutes, flush=True)
        files = make_files(tmp, args.minutes)
        print("%-5s %8s %10s %9s %8s %8s   %s" %
              ("file", "MB", "(a) decode", "(b) multi", "(c) onair", "c/a", "c/b"))
        for ext, f in files.items():
            decode = [["ffmpeg", "-nostdin", "-v", "error", "-i", f, "-f", "null", "-"]]
            multi = [
                ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                 "default=nw=1", f],
                ["ffmpeg", "-nostdin", "-v", "info", "-i", f, "-af", "replaygain", "-f", "null",
                 "-"],
                ["ffmpeg", "-nostdin", "-v", "info", "-i", f, "-af",
                 "silencedetect=noise=-60dB:d=0.1", "-f", "null", "-"],
            ]
            onair = [[args.onair, "analyze", f]]
            a = best_of(args.runs, decode)
            b = best_of(args.runs, multi)
            c = best_of(args.runs, onair)
            print("%-5s %8.1f %9.2fs %8.2fs %8.2fs %8.2f %8.2f" %
                  (ext, os.path.getsize(f) / 1e6, a, b, c, c / a, c / b), flush=True)
        print("CPU time = user + sys, best of %d runs; c/a target: under 2.0" % args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
