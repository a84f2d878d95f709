#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# The whole tree must build warning-free (-Werror) with clang as well as
# gcc: build the library, programs, examples and unit tests with clang in
# a tree of its own, and run the unit tests it built.
# Usage: test-clang.sh [-r results-file]
set -u
B=${B:-build}
res=""
[ "${1:-}" = "-r" ] && res=$2
out=$B/clang
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! command -v clang >/dev/null; then
	echo "skip  clang::build (no clang)"
	[ -n "$res" ] && echo "0 0 1" > "$res"
	exit 0
fi
if make -s B="$out" CC=clang all "$out/test/unit" > "$log" 2>&1 &&
	"$out/test/unit" > "$log.run" 2>&1; then
	echo "ok    clang::build_and_unit_tests"
	[ -n "$res" ] && echo "1 0 0" > "$res"
	rm -f "$log.run"
	exit 0
fi
echo "FAIL  clang::build_and_unit_tests"
tail -30 "$log" "$log.run" 2>/dev/null | sed 's/^/    /'
rm -f "$log.run"
[ -n "$res" ] && echo "0 1 0" > "$res"
exit 1
