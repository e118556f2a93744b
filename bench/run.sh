#!/bin/sh
# Build a release sysg and run every benchmark scenario (bench/*.py), side by side with peers.
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
export SYSG_BIN="$PWD/build/sysg"
for b in bench/*.py; do
	case "$b" in */lib.py) continue ;; esac
	echo "## $(basename "$b")"
	python3 "$b" "$@"
	echo
done
