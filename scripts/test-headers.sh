#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# Every public header must compile on its own, as C11 with warnings as
# errors and as C++ (extern "C" guards), with only its own includes.
# Usage: test-headers.sh [-r results-file]
set -u
B=${B:-build}
CC=${CC:-cc}
res=""
[ "${1:-}" = "-r" ] && res=$2
cflags="-Iinclude -I$B/gen $(pkg-config --cflags libprotobuf-c)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
one() { # name command...
	name=$1
	shift
	if "$@" > "$tmp/out" 2>&1; then
		passed=$((passed + 1))
		echo "ok    headers::$name"
	else
		failed=$((failed + 1))
		echo "FAIL  headers::$name"
		sed 's/^/    /' "$tmp/out"
	fi
}
for h in include/nomad/*.h; do
	n=$(basename "$h" .h)
	printf '#include <nomad/%s.h>\nint main(void) { return 0; }\n' "$n" > "$tmp/$n.c"
	one "$n::c11" $CC -std=c11 -pedantic -Wall -Wextra -Werror -Wstrict-prototypes \
		$cflags -c "$tmp/$n.c" -o "$tmp/$n.o"
	if command -v g++ >/dev/null; then
		cp "$tmp/$n.c" "$tmp/$n.cc"
		one "$n::cxx" g++ -std=c++11 -Wall -Wextra -Werror $cflags -c "$tmp/$n.cc" -o "$tmp/$n.oo"
	fi
done
[ -n "$res" ] && echo "$passed $failed 0" > "$res"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
