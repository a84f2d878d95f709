#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# Run one libFuzzer target for a bounded time over its seed corpus. New
# inputs go to a scratch directory, never into the source tree; a crash
# leaves its input under build/fuzz/.
# Usage: run-fuzz.sh binary seed-dir seconds [-r results-file]
set -u
bin=$1 seeds=$2 secs=$3
res=""
[ "${4:-}" = "-r" ] && res=$5
name=$(basename "$bin")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$(dirname "$bin")/$name-" -print_final_stats=0 \
	"$work" "$seeds" > "$work.log" 2>&1; then
	echo "ok    fuzz::$name ($(grep -c '' "$work.log") log lines, ${secs}s)"
	[ -n "$res" ] && echo "1 0 0" > "$res"
	rm -f "$work.log"
	exit 0
fi
echo "FAIL  fuzz::$name"
tail -40 "$work.log" | sed 's/^/    /'
rm -f "$work.log"
[ -n "$res" ] && echo "0 1 0" > "$res"
exit 1
