#!/bin/sh
# Every test, in the order that fails fastest: build, unit, integration, then the
# sanitizer build and the time-boxed fuzzers. See docs/testing.md.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
fuzz_seconds=${SYSG_FUZZ_SECONDS:-60}

step() { printf '\n== %s\n' "$*"; }

step "build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

step "unit and integration tests"
(cd build && ctest --output-on-failure -j "$jobs")

step "sanitizer build (ASan + UBSan): unit tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSYSG_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ctest -L unit --output-on-failure -j "$jobs")

step "fuzzers (${fuzz_seconds}s each)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSYSG_FUZZ=ON -DSYSG_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$jobs"
for f in build-fuzz/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=$(mktemp -d)
	cp tests/fuzz/corpus/"${name#fuzz_}"/* "$corpus"/ 2>/dev/null || true
	echo "-- $name"
	"$f" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=0 "$corpus" >"build-fuzz/$name.log" 2>&1 ||
		{ tail -50 "build-fuzz/$name.log"; exit 1; }
	rm -rf "$corpus"
done
step "all tests passed"
