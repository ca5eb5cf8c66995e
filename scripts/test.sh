#!/usr/bin/env bash
# Install, build and run every test of onair:
#   1. build/       gcc, warnings as errors: the unit tests;
#   2. build-asan/  clang with AddressSanitizer + UBSan (+ LeakSanitizer) and
#                   the libFuzzer targets: every suite (unit, integration,
#                   e2e, web), with each fuzz target running FUZZ_SECONDS on
#                   its corpus beside them (suite 'fuzz', at low priority).
# The integration, end-to-end (real Liquidsoap, Icecast, NATS; minutes of
# audio) and browser (headless Chromium on a real station) suites run once,
# in the sanitizer build, where they also check the programs' memory use
# during real operation. Tests run side by side (TEST_JOBS at a time,
# default 4: most of them wait on servers and real-time audio), each on
# its own ports and directories. Compiler output is cached by ccache.
# The last lines are the slowest tests and "N passed, N failed, N
# skipped"; the exit code is 0 only when nothing failed.
# Environment: FUZZ_SECONDS (default 30), TEST_JOBS, SUITES (meson suites
# to run), SKIP_ASAN=1 (every suite in the gcc build instead), SKIP_FUZZ=1.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
fuzz_seconds=${FUZZ_SECONDS:-30}

passed=0 failed=0 skipped=0
failures=()

note() { printf '\n=== %s\n' "$*"; }
fail_step() { failed=$((failed + 1)); failures+=("$1"); }

# Count meson's results for one build directory from its testlog.json.
count_meson() {
	local dir=$1 label=$2 counts
	counts=$(python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
names = []
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        res = r.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif res == "SKIP":
            s += 1
        else:
            f += 1
            names.append(r.get("name", "?"))
except FileNotFoundError:
    f += 1
    names.append("no test log")
print(p, f, s, " ".join(names))
PY
)
	read -r p f s names <<<"$counts"
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	[ "$f" -gt 0 ] && failures+=("$label: $names")
	echo "$label: $p passed, $f failed, $s skipped"
}

run_suite() {
	local dir=$1 label=$2
	shift 2
	if ! meson setup "$dir" --wipe "$@" >"$dir.setup.log" 2>&1 &&
	   ! meson setup "$dir" "$@" >"$dir.setup.log" 2>&1; then
		cat "$dir.setup.log"
		fail_step "$label: meson setup"
		return
	fi
	if ! ninja -C "$dir"; then
		fail_step "$label: build"
		return
	fi
	local suites=()
	for s in ${SUITES:-}; do suites+=(--suite "$s"); done
	[ "${SKIP_FUZZ:-0}" = 1 ] && suites+=(--no-suite fuzz)
	meson test -C "$dir" --print-errorlogs --num-processes "${TEST_JOBS:-4}" "${suites[@]}"
	count_meson "$dir" "$label"
}

note "installing what is missing"
if ! scripts/install-deps.sh test; then
	echo "installing packages failed"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

note "installing the Node packages of the OpenAPI check and the browser tests"
for dir in tests/api tests/web; do
	if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
		echo "npm ci in $dir failed"
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
done

note "build and test (gcc, -Werror)"
if [ "${SKIP_ASAN:-0}" != 1 ]; then
	SUITES=${SUITES:-unit} run_suite build gcc -Dwerror=true --buildtype=debugoptimized
else
	run_suite build gcc -Dwerror=true --buildtype=debugoptimized
fi

if [ "${SKIP_ASAN:-0}" != 1 ]; then
	note "build and test under ASan+UBSan (clang), fuzz targets beside the tests"
	fuzz=true
	[ "${SKIP_FUZZ:-0}" = 1 ] && fuzz=false
	clang=clang  # meson puts ccache in front of the compiler only when CC is unset
	command -v ccache >/dev/null && clang="ccache clang"
	FUZZ_SECONDS=$fuzz_seconds CC=$clang run_suite build-asan asan -Dwerror=true \
		--buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=$fuzz
fi

note "slowest tests"
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
rows = []
for path in sys.argv[1:]:
    try:
        for line in open(path):
            r = json.loads(line)
            rows.append((r.get("duration", 0), r.get("name", "?"), path.split("/")[0]))
    except FileNotFoundError:
        pass
for d, name, build in sorted(rows, reverse=True)[:10]:
    print("%7.1f s  %s (%s)" % (d, name, build))
PY

note "what each failed test printed last (its checks and diagnosis)"
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        continue
    for line in lines:
        r = json.loads(line)
        if r.get("result") in ("OK", "SKIP", "EXPECTEDFAIL"):
            continue
        out = (r.get("stdout") or "").splitlines()
        # The failed checks with their details, then the end of the output.
        keep = [l for l in out if l.startswith("not ok") or l.startswith("#   ")][:40]
        print("--- %s (%s): %s" % (r.get("name", "?"), path.split("/")[0], r.get("result")))
        for l in keep + ["..."] + out[-60:]:
            print("  " + l[:2000])
PY

if [ ${#failures[@]} -gt 0 ]; then
	note "failures"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
