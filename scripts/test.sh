#!/usr/bin/env bash
# Install, build and run every test of onair:
#   1. build/       gcc, warnings as errors, all tests;
#   2. build-asan/  clang with AddressSanitizer + UBSan (+ LeakSanitizer), all tests;
#   3. build-fuzz/  clang libFuzzer targets, each run for FUZZ_SECONDS on its corpus.
# The last line is "N passed, N failed, N skipped"; the exit code is 0
# only when nothing failed.
# The end-to-end suite (real Liquidsoap, Icecast, NATS; minutes of audio)
# and the browser suite (headless Chromium on a real station) run once, in
# the sanitizer build, where they also check the programs' memory use
# during real operation; the other suites run in both builds.
# Environment: FUZZ_SECONDS (default 30), SKIP_ASAN=1, SKIP_FUZZ=1 for
# quicker local runs (with SKIP_ASAN=1 the e2e and web suites run in the gcc
# build).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
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
	meson test -C "$dir" --print-errorlogs --num-processes 2 "${suites[@]}"
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
	SUITES="unit integration" run_suite build gcc -Dwerror=true --buildtype=debugoptimized
else
	run_suite build gcc -Dwerror=true --buildtype=debugoptimized
fi

if [ "${SKIP_ASAN:-0}" != 1 ]; then
	note "build and test under ASan+UBSan (clang)"
	CC=clang run_suite build-asan asan -Dwerror=true --buildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
	note "fuzz targets, ${fuzz_seconds}s each"
	if CC=clang meson setup build-fuzz --wipe -Dfuzzing=true -Dtests=false -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false >build-fuzz.setup.log 2>&1 ||
	   CC=clang meson setup build-fuzz -Dfuzzing=true -Dtests=false -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false >build-fuzz.setup.log 2>&1; then
		if ninja -C build-fuzz; then
			for corpus in tests/fuzz/corpus/*/; do
				name=$(basename "$corpus")
				exe=build-fuzz/tests/fuzz/fuzz_$name
				if [ ! -x "$exe" ]; then
					fail_step "fuzz $name: no target built"
					continue
				fi
				work=$(mktemp -d)
				cp -r "$corpus". "$work/"
				dict=()
				[ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
				if "$exe" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
					-print_final_stats=1 "${dict[@]}" -artifact_prefix="$top/build-fuzz/" \
					"$work" >"build-fuzz/fuzz_$name.log" 2>&1; then
					passed=$((passed + 1))
					echo "fuzz $name: ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' build-fuzz/fuzz_$name.log | grep -o '[0-9]*$') runs)"
				else
					tail -40 "build-fuzz/fuzz_$name.log"
					fail_step "fuzz $name: finding (see build-fuzz/fuzz_$name.log)"
				fi
				rm -rf "$work"
			done
		else
			fail_step "fuzz: build"
		fi
	else
		cat build-fuzz.setup.log
		fail_step "fuzz: meson setup"
	fi
fi

if [ ${#failures[@]} -gt 0 ]; then
	note "failures"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
