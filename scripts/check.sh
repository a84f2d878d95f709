#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# Run every test suite `make check` knows and end with one line,
# "N passed, N failed" (", N skipped" when any); exit 1 on any failure.
# Each suite writes "passed failed skipped" to build/check/<suite>.res.
set -u
B=${B:-build}
R=$B/check
rm -rf "$R"
mkdir -p "$R"

suite() {
	name=$1
	shift
	echo "== $name"
	"$@" -r "$R/$name.res" || true
	[ -s "$R/$name.res" ] || echo "0 1 0" > "$R/$name.res"
}

suite unit "$B/test/unit"
ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	suite unit-asan "$B/test/unit-asan"
suite headers sh scripts/test-headers.sh
suite clang sh scripts/test-clang.sh
suite install sh scripts/test-install.sh
for f in ${FUZZERS:-}; do
	suite "fuzz-$f" sh scripts/run-fuzz.sh "$B/fuzz/$f" "test/fuzz/$f.corpus" "${FUZZ_TIME:-20}"
done

passed=0 failed=0 skipped=0
for r in "$R"/*.res; do
	read -r p f s < "$r"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
echo
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
