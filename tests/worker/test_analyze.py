#!/usr/bin/env python3
"""`onair analyze` on fixtures generated here with ffmpeg (nothing big is
checked in), printing TAP.

Accuracy, per format (WAV, FLAC, MP3, Ogg Vorbis, Opus, AAC in M4A, MP2):
  - integrated loudness within 0.1 LU of ffmpeg's ebur128 filter;
  - true peak within 0.2 dB of ebur128=peak=true;
  - decoded samples equal to what `ffmpeg -f s16le` decodes (within one
    codec frame, in case FFmpeg trims differently);
  - loudness range within 0.3 LU of ffmpeg's (which prints one decimal);
  - cue in / cue out within 20 ms of where the PCM of the WAV source
    crosses the threshold (FFmpeg removes the encoder delay of MP3 with a
    LAME tag, Opus and AAC in MP4; MP2 keeps its ~11 ms, inside the 20 ms).
Hostile input (empty, text, truncated, absurd headers, corrupt middle)
must give a clear verdict without crashing. Tags come out as valid UTF-8
whatever the file's encoding. Usage: test_analyze.py ONAIR
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import wave

ONAIR = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="onair-analyze-")
RATE = 44100
THRESHOLD = 10 ** (-60 / 20)
results = {"n": 0, "failed": 0}
figures = []


def check(cond, name, diag=""):
    results["n"] += 1
    if cond:
        print("ok %d - %s" % (results["n"], name))
    else:
        results["failed"] += 1
        print("not ok %d - %s" % (results["n"], name))
        for line in str(diag).splitlines():
            print("# " + line)
    sys.stdout.flush()


def path(name):
    return os.path.join(TMP, name)


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def analyze(*files, opts=()):
    """(list of JSON objects, exit code, stderr)."""
    p = subprocess.run([ONAIR, "analyze", *opts, *files], capture_output=True, timeout=300)
    objs = []
    for line in p.stdout.decode("utf-8").splitlines():
        objs.append(json.loads(line))
    return objs, p.returncode, p.stderr.decode("utf-8", "replace")


def analyze_one(f, opts=()):
    objs, rc, err = analyze(f, opts=opts)
    assert len(objs) == 1, (f, objs, err)
    return objs[0]


def ffmpeg_r128(f):
    """(integrated LUFS, true peak dBTP) from ffmpeg's ebur128 filter."""
    p = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", f, "-af",
         "ebur128=peak=true:metadata=1,ametadata=print:file=-", "-f", "null", "-"],
        capture_output=True, check=True)
    integrated = peak = None
    for line in p.stdout.decode().splitlines():
        if line.startswith("lavfi.r128.I="):
            integrated = float(line.split("=")[1])
        elif line.startswith("lavfi.r128.true_peak="):
            peak = float(line.split("=")[1])
    return integrated, (20 * math.log10(peak) if peak else -math.inf)


def ffmpeg_lra(f):
    p = subprocess.run(
        ["ffmpeg", "-nostdin", "-nostats", "-i", f, "-af", "ebur128", "-f", "null", "-"],
        capture_output=True, check=True)
    lra = None
    for line in p.stderr.decode().splitlines():
        if line.strip().startswith("LRA:") and "LU" in line:
            lra = float(line.split()[1])
    return lra


def ffmpeg_samples(f):
    """Sample frames ffmpeg decodes (at the stream's own rate)."""
    p = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", f, "-map", "0:a:0",
                        "-ac", "1", "-f", "s16le", "-"], capture_output=True, check=True)
    return len(p.stdout) // 2


def wav_boundaries(f):
    """First and last instant (s) a sample of the WAV is above THRESHOLD."""
    with wave.open(f) as w:
        ch, rate, n = w.getnchannels(), w.getframerate(), w.getnframes()
        data = w.readframes(n)
    samples = struct.unpack("<%dh" % (n * ch), data)
    lim = THRESHOLD * 32768
    loud = [i for i in range(n) if any(abs(samples[i * ch + c]) > lim for c in range(ch))]
    return loud[0] / rate, (loud[-1] + 1) / rate


# Frame sizes, for "within one frame" of the decoded sample count.
FRAME = {"wav": 4096, "flac": 4608, "mp3": 1152, "ogg": 2048, "opus": 960, "m4a": 1024,
         "mp2": 1152}
ENCODE = {
    "wav": ["-c:a", "pcm_s16le"],
    "flac": ["-c:a", "flac"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "192k"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "6"],
    "opus": ["-c:a", "libopus", "-b:a", "128k"],
    "m4a": ["-c:a", "aac", "-b:a", "192k"],
    "mp2": ["-c:a", "mp2", "-b:a", "256k"],
}
UTF8_TITLE = "Ünïcödé ★ 日本語"
UTF8_ARTIST = "Björk & Sigur Rós"


def make_fixtures():
    # 1 s silence, 5 s of 1 kHz at -12 dBFS, 2 s silence.
    tone = "if(between(t,1,6),0.25*sin(2*PI*1000*(t-1)),0)"
    ffmpeg("-f", "lavfi", "-i", "aevalsrc=exprs='%s|%s':s=%d:d=8" % (tone, tone, RATE),
           "-c:a", "pcm_s16le", path("tone-src.wav"))
    # 30 s of music-like material: pink noise and a chord under a slow
    # swell, near full scale so that inter-sample peaks occur.
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.35:d=30:r=%d:s=7" % RATE,
           "-f", "lavfi", "-i", "aevalsrc=0.3*sin(2*PI*220*t)+0.2*sin(2*PI*3520*t+1)|"
           "0.3*sin(2*PI*330*t)+0.2*sin(2*PI*5280*t):s=%d:d=30" % RATE,
           "-filter_complex",
           "[0]aformat=channel_layouts=stereo[n];[n][1]amix=inputs=2:normalize=0,"
           "volume='0.35+0.65*abs(sin(t/4))':eval=frame,alimiter=limit=0.95:level=0",
           "-c:a", "pcm_s16le", path("music-src.wav"))
    for fmt, enc in ENCODE.items():
        for src in ("tone", "music"):
            ffmpeg("-i", path(src + "-src.wav"), *enc, "-metadata", "title=" + UTF8_TITLE,
                   "-metadata", "artist=" + UTF8_ARTIST, path("%s.%s" % (src, fmt)))
    # fs/4 at 45 degrees: samples at -9.0 dBFS, the wave at -6.0 dBTP
    # (faded in and out: a step would overshoot by itself).
    ffmpeg("-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*11025*t+PI/4):s=%d:d=3" % RATE,
           "-af", "afade=t=in:d=0.5,afade=t=out:st=2.5:d=0.5", "-c:a", "pcm_s16le",
           path("isp.wav"))
    ffmpeg("-i", path("isp.wav"), "-c:a", "flac", path("isp.flac"))


def test_accuracy():
    start, end = wav_boundaries(path("tone-src.wav"))
    for fmt in ENCODE:
        for src in ("tone", "music"):
            f = path("%s.%s" % (src, fmt))
            a = analyze_one(f)
            name = "%s.%s" % (src, fmt)
            check(a["ok"] and not a["warnings"], name + " is ok", a)
            if not a["ok"]:
                continue
            ref_i, ref_tp = ffmpeg_r128(f)
            d_i = a["loudness_lufs"] - ref_i
            d_tp = a["true_peak_dbtp"] - ref_tp
            check(abs(d_i) <= 0.1, "%s: loudness %.2f LUFS, ffmpeg %.2f" %
                  (name, a["loudness_lufs"], ref_i))
            check(abs(d_tp) <= 0.2, "%s: true peak %.2f dBTP, ffmpeg %.2f" %
                  (name, a["true_peak_dbtp"], ref_tp))
            samples = ffmpeg_samples(f)
            check(abs(a["samples"] - samples) <= FRAME[fmt],
                  "%s: %d samples, ffmpeg %d" % (name, a["samples"], samples))
            check(abs(a["duration_s"] - a["samples"] / a["sample_rate_hz"]) < 1e-5,
                  "%s: duration is samples / rate" % name)
            fig = {"file": name, "d_lu": d_i, "d_db": d_tp, "d_samples": a["samples"] - samples}
            if src == "tone":
                d_in = a["cue_in_s"] - start
                d_out = a["cue_out_s"] - end
                check(abs(d_in) <= 0.020, "%s: cue in %.4f s, PCM %.4f s" %
                      (name, a["cue_in_s"], start))
                check(abs(d_out) <= 0.020, "%s: cue out %.4f s, PCM %.4f s" %
                      (name, a["cue_out_s"], end))
                fig.update(d_in_ms=1000 * d_in, d_out_ms=1000 * d_out)
                check(a["tags"].get("title") == UTF8_TITLE and
                      a["tags"].get("artist") == UTF8_ARTIST or fmt in ("mp2", "wav"),
                      "%s: UTF-8 tags" % name, a["tags"])
            else:
                ref_lra = ffmpeg_lra(f)
                fig["d_lra"] = a["loudness_range_lu"] - ref_lra
                check(abs(a["loudness_range_lu"] - ref_lra) <= 0.3,
                      "%s: loudness range %.2f LU, ffmpeg %.1f" %
                      (name, a["loudness_range_lu"], ref_lra))
            figures.append(fig)
    for f in ("isp.wav", "isp.flac"):
        a = analyze_one(path(f))
        ref_i, ref_tp = ffmpeg_r128(path(f))
        check(abs(a["true_peak_dbtp"] - ref_tp) <= 0.2 and
              a["true_peak_dbtp"] - a["sample_peak_dbfs"] > 2.8,
              "%s: inter-sample peak %.2f dBTP (samples %.2f dBFS), ffmpeg %.2f" %
              (f, a["true_peak_dbtp"], a["sample_peak_dbfs"], ref_tp))
        figures.append({"file": f, "d_db": a["true_peak_dbtp"] - ref_tp})


def test_waveform_and_exit_codes():
    a = analyze_one(path("tone.wav"), opts=["--waveform=80"])
    wf = a.get("waveform") or {}
    mins, maxs = wf.get("min", []), wf.get("max", [])
    check(wf.get("buckets") == 80 and len(mins) == 80 and len(maxs) == 80,
          "--waveform=80 gives 80 buckets")
    # Bucket i covers [0.1 i, 0.1 (i + 1)) s: silence, tone, silence.
    check(len(maxs) == 80 and maxs[5] == 0 and mins[5] == 0 and maxs[70] == 0 and
          abs(maxs[30] - 0.25) < 0.01 and abs(mins[30] + 0.25) < 0.01,
          "waveform follows the signal", wf)
    check("waveform" not in analyze_one(path("tone.wav")), "no waveform unless asked")

    open(path("empty.mp3"), "wb").close()
    objs, rc, err = analyze(path("tone.wav"), path("empty.mp3"), path("tone.flac"))
    check(rc == 1 and len(objs) == 3 and objs[0]["ok"] and not objs[1]["ok"] and objs[2]["ok"],
          "a failed file gives exit code 1 and the others are still analysed", (rc, err))
    check("empty.mp3: empty file" in err, "the reason is on stderr", err)
    objs, rc, err = analyze(path("tone.wav"), path("tone.mp3"))
    check(rc == 0 and len(objs) == 2, "all ok: exit code 0")
    p = subprocess.run([ONAIR, "analyze"], capture_output=True)
    check(p.returncode == 2, "no file: usage error, exit code 2")
    p = subprocess.run([ONAIR, "analyze", "--silence-threshold=loud", "x"], capture_output=True)
    check(p.returncode == 2, "bad option value: exit code 2")


def id3v23_frame(fid, encoding, text):
    body = bytes([encoding]) + text
    return fid + struct.pack(">I", len(body)) + b"\0\0" + body


def syncsafe(n):
    return bytes([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f])


def test_tags_encodings():
    ffmpeg("-i", path("tone-src.wav"), "-c:a", "libmp3lame", "-b:a", "128k",
           "-map_metadata", "-1", "-write_id3v1", "0", "-id3v2_version", "0",
           path("bare.mp3"))
    audio = open(path("bare.mp3"), "rb").read()
    # ID3v2.3: a Latin-1 frame (encoding 0), and a frame that claims UTF-8
    # (encoding 3) but holds Windows-1252 bytes, as some taggers write.
    frames = (id3v23_frame(b"TIT2", 0, b"Caf\xe9 M\xfcller") +
              id3v23_frame(b"TPE1", 3, b"Beyonc\xe9 \x80 \x93Live\x94") +
              id3v23_frame(b"TALB", 1, "Ünïcödé".encode("utf-16")))
    tag = b"ID3\x03\x00\x00" + syncsafe(len(frames)) + frames
    open(path("latin1-v23.mp3"), "wb").write(tag + audio)
    a = analyze_one(path("latin1-v23.mp3"))
    t = a["tags"]
    check(t.get("title") == "Café Müller", "ID3v2.3 Latin-1 title", t)
    check(t.get("artist") == "Beyoncé € “Live”", "ID3v2.3 invalid UTF-8 read as Windows-1252", t)
    check(t.get("album") == "Ünïcödé", "ID3v2.3 UTF-16 album", t)
    # ID3v1: fixed fields of Latin-1.
    v1 = (b"TAG" + b"Gr\xfc\xdfe aus K\xf6ln".ljust(30, b"\0") + b"S\xe9bastien".ljust(30, b"\0") +
          b"\xc9t\xe9".ljust(30, b"\0") + b"1999" + b"".ljust(28, b"\0") + b"\0\x07" + b"\x0d")
    open(path("latin1-v1.mp3"), "wb").write(audio + v1)
    t = analyze_one(path("latin1-v1.mp3"))["tags"]
    check(t.get("title") == "Grüße aus Köln" and t.get("artist") == "Sébastien" and
          t.get("album") == "Été" and t.get("year") == 1999 and t.get("track_number") == 7,
          "ID3v1 Latin-1 tags", t)
    # A Vorbis comment (FLAC) with raw Latin-1 bytes: not valid UTF-8.
    subprocess.run([b"ffmpeg", b"-nostdin", b"-v", b"error", b"-y", b"-i",
                    path("tone-src.wav").encode(), b"-metadata", b"title=Ni\xf1o \x80",
                    b"-metadata", b"track=3/12", b"-metadata", b"TBPM=128",
                    path("latin1.flac").encode()], check=True)
    t = analyze_one(path("latin1.flac"))["tags"]
    check(t.get("title") == "Niño €" and t.get("track_number") == 3 and
          t.get("track_total") == 12, "Vorbis comment with Latin-1 bytes", t)


def test_artwork():
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", path("cover.png"))
    size = os.path.getsize(path("cover.png"))
    ffmpeg("-i", path("tone-src.wav"), "-i", path("cover.png"), "-map", "0", "-map", "1",
           "-c:a", "libmp3lame", "-c:v", "copy", "-id3v2_version", "3",
           "-metadata:s:v", "comment=Cover (front)", path("cover.mp3"))
    ffmpeg("-i", path("tone-src.wav"), "-i", path("cover.png"), "-map", "0", "-map", "1",
           "-c:a", "flac", "-c:v", "copy", "-disposition:v", "attached_pic", path("cover.flac"))
    for f in ("cover.mp3", "cover.flac"):
        a = analyze_one(path(f))
        check(a["ok"] and a["artwork"] == {"mime": "image/png", "bytes": size},
              "%s: artwork reported as mime and size" % f, a["artwork"])


def corrupt(src, dst, offset, count, seed=1):
    data = bytearray(open(src, "rb").read())
    x = seed
    for i in range(offset, min(offset + count, len(data))):
        x = (x * 1103515245 + 12345) & 0x7fffffff
        data[i] = x >> 16 & 0xff
    open(dst, "wb").write(data)


def wav_header(rate, channels, data, claimed=None):
    ba = channels * 2
    size = len(data) if claimed is None else claimed
    return (b"RIFF" + struct.pack("<I", (36 + size) & 0xffffffff) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, channels, rate, (rate * ba) & 0xffffffff, ba, 16) +
            b"data" + struct.pack("<I", size) + data)


def test_hostile():
    tone = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                    for i in range(8000))
    open(path("text.mp3"), "w").write("This is not audio, only text named like an MP3.\n" * 20)
    open(path("random.ogg"), "wb").write(bytes((i * 7919 + 13) % 251 for i in range(50000)))
    mp3 = open(path("tone.mp3"), "rb").read()
    open(path("trunc.mp3"), "wb").write(mp3[:len(mp3) // 2])
    flac = open(path("music.flac"), "rb").read()
    open(path("trunc.flac"), "wb").write(flac[:len(flac) // 3])
    m4a = open(path("tone.m4a"), "rb").read()
    open(path("trunc.m4a"), "wb").write(m4a[:len(m4a) // 2])
    open(path("rate1.wav"), "wb").write(wav_header(1, 1, tone))
    open(path("rate10M.wav"), "wb").write(wav_header(10000000, 1, tone))
    open(path("ch200.wav"), "wb").write(wav_header(44100, 200, tone * 10))
    open(path("claims10h.wav"), "wb").write(wav_header(8000, 1, tone, 8000 * 2 * 36000))
    # An MP3 whose Xing header claims 10 hours of frames.
    data = bytearray(mp3)
    i = data.find(b"Xing")
    i = i if i >= 0 else data.find(b"Info")
    data[i + 8:i + 12] = struct.pack(">I", 36000 * RATE // 1152)
    open(path("xing10h.mp3"), "wb").write(data)
    corrupt(path("tone.mp3"), path("corrupt-middle.mp3"), len(mp3) // 2, 1000)
    corrupt(path("tone.mp3"), path("corrupt-much.mp3"), len(mp3) // 4, len(mp3) // 2, seed=5)

    cases = [
        # file, ok, substring of the reason (or of a warning when ok)
        ("empty.mp3", False, "empty file"),
        ("text.mp3", False, "not a supported audio file"),
        ("random.ogg", False, "not a supported audio file"),
        ("trunc.mp3", False, "truncated"),
        ("trunc.flac", False, "truncated"),
        ("trunc.m4a", False, "not a supported audio file"),
        ("rate1.wav", False, "absurd sample rate 1 Hz"),
        ("rate10M.wav", False, "absurd sample rate 10000000 Hz"),
        ("ch200.wav", False, "absurd channel count 200"),
        ("xing10h.mp3", False, "truncated"),
        ("corrupt-middle.mp3", True, "decoder error"),
        ("corrupt-much.mp3", False, "decoder error"),
        ("no-such-file.mp3", False, "No such file"),
    ]
    for f, want_ok, text in cases:
        objs, rc, err = analyze(path(f))
        a = objs[0] if len(objs) == 1 else {}
        where = a.get("reason") or "" if not want_ok else " ".join(a.get("warnings", []))
        check(len(objs) == 1 and rc == (0 if want_ok else 1) and a["ok"] == want_ok and
              text in where, "%s: ok=%s, %s" % (f, want_ok, text), (rc, a, err[-500:]))
    # A WAV header claiming 10 hours over 1 s of data: the 1 s plays, with
    # a warning (streaming writers leave such sizes).
    a = analyze_one(path("claims10h.wav"))
    check(a["ok"] and a["samples"] == 8000 and a["declared_duration_s"] == 36000 and
          "truncated?" in " ".join(a["warnings"]), "claims10h.wav: 1 s decoded, with a warning", a)
    # Limits.
    a = analyze_one(path("music.flac"), opts=["--max-duration=10"])
    check(not a["ok"] and "longer than the limit" in a["reason"], "max duration", a["reason"])
    a = analyze_one(path("music.flac"), opts=["--time-limit=0.001"])
    check(not a["ok"] and "took longer than" in a["reason"], "time limit", a["reason"])


def main():
    if not shutil.which("ffmpeg"):
        print("1..0 # SKIP ffmpeg not installed")
        return 0
    try:
        make_fixtures()
        test_accuracy()
        test_waveform_and_exit_codes()
        test_tags_encodings()
        test_artwork()
        test_hostile()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    for f in figures:
        print("# " + " ".join("%s=%s" % (k, ("%.3f" % v) if isinstance(v, float) else v)
                              for k, v in f.items()))
    print("1..%d" % results["n"])
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
