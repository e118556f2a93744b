#!/bin/sh
# Install the Debian packages sysg needs to build and test, skipping those already present.
# Usage: scripts/deps.sh [build|test|bench]   (test and bench include build)
set -eu

build="cmake make gcc pkg-config libev-dev libyaml-dev libcap-ng-dev libseccomp-dev
       libsystemd-dev libjson-c-dev libnftables-dev libmnl-dev"
test="libcmocka-dev clang libclang-rt-14-dev valgrind python3 curl iproute2 nftables
      systemd util-linux procps tzdata"
bench="s6 runit supervisor bubblewrap firejail hyperfine"

case "${1:-build}" in
build) want="$build" ;;
test) want="$build $test" ;;
bench) want="$build $test $bench" ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "sysg: installing:$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
