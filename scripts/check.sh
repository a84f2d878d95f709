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

# The cluster simulation example (examples/simulate/): the sample trace
# and a small seeded run under both algorithms place everything with no
# inconsistency between scheduler and host, a seed gives the same figures
# twice (latency aside), and bad input fails clearly: a malformed trace
# line by file:line, a missing file, a bad flag.
simulate_suite() { # -r results-file
	sim_res=$2 sim=$B/examples/simulate sim_tmp=$(mktemp -d) sim_p=0 sim_f=0
	sim_check() { # name command...: passes when the command does
		sim_name=$1
		shift
		if "$@" > "$sim_tmp/log" 2>&1; then
			sim_p=$((sim_p + 1))
			echo "ok    simulate::$sim_name"
		else
			sim_f=$((sim_f + 1))
			echo "FAIL  simulate::$sim_name"
			tail -20 "$sim_tmp/log" | sed 's/^/    /'
		fi
	}
	sim_has() { # file line-pattern...: each (ERE) matches a line
		sim_file=$1
		shift
		for sim_pat; do
			grep -Eq "$sim_pat" "$sim_file" ||
				{ echo "no line matches: $sim_pat"; cat "$sim_file"; return 1; }
		done
	}
	sim_run() { # out-file flags...: exits 0
		sim_out=$1
		shift
		"$sim" "$@" > "$sim_out" 2>&1 || { cat "$sim_out"; return 1; }
	}
	sim_fails() { # status pattern flags...: exits with status, says pattern
		sim_want=$1 sim_pat=$2
		shift 2
		"$sim" "$@" > "$sim_tmp/err" 2>&1
		sim_got=$?
		cat "$sim_tmp/err"
		[ "$sim_got" -eq "$sim_want" ] && grep -q -- "$sim_pat" "$sim_tmp/err"
	}
	sim_same() { # flags...: two runs print the same but for wall time
		sim_run "$sim_tmp/a" -csv "$sim_tmp/a.csv" "$@" &&
			sim_run "$sim_tmp/b" -csv "$sim_tmp/b.csv" "$@" &&
			grep -v -e latency -e 'time in scheduler' "$sim_tmp/a" > "$sim_tmp/a2" &&
			grep -v -e latency -e 'time in scheduler' "$sim_tmp/b" > "$sim_tmp/b2" &&
			cmp "$sim_tmp/a2" "$sim_tmp/b2" && cmp "$sim_tmp/a.csv" "$sim_tmp/b.csv"
	}
	seeded="-seed 7 -nodes 50 -jobs 200 -rate 0.5 -racks 5 -spread-share 0.3"
	sim_check sample_trace sim_run "$sim_tmp/trace" -trace examples/traces/sample.csv \
		-nodes 4 -racks 2
	sim_check sample_trace_summary sim_has "$sim_tmp/trace" '^summary +binpack$' \
		'^  placements made +38$' '^  allocations never placed +0$' \
		'^  jobs finished +7$' '^  plan nodes rejected +0$' '^  host anomalies +0$'
	# shellcheck disable=SC2086 # $seeded is a list of flags
	sim_check seeded_both sim_run "$sim_tmp/both" $seeded -algorithm both
	sim_check seeded_both_summary sim_has "$sim_tmp/both" '^summary +binpack +spread$' \
		'^  placements made +[1-9][0-9]* +[1-9][0-9]*$' '^  jobs finished +200 +200$' \
		'^  plan nodes rejected +0 +0$' '^  host anomalies +0 +0$' '^  latency p99 \(us\) '
	# shellcheck disable=SC2086
	sim_check same_seed_same_figures sim_same $seeded -algorithm both
	printf 'time_s,job_id,type,group,count,cpu_mhz,memory_mb,duration_s\n0,a,batch,g,1,100,100,10\n5,b,batch,g,zero,100,100,10\n' \
		> "$sim_tmp/bad.csv"
	sim_check malformed_trace_names_line sim_fails 1 "bad.csv:3: count" -trace "$sim_tmp/bad.csv"
	sim_check missing_trace sim_fails 1 "no-such.csv: No such file" -trace "$sim_tmp/no-such.csv"
	sim_check bad_flag sim_fails 2 "nodes: expected a whole number" -nodes x
	sim_check help sim_fails 0 "^usage: simulate" -h
	echo "$sim_p $sim_f 0" > "$sim_res"
	rm -rf "$sim_tmp"
	[ "$sim_f" -eq 0 ]
}
suite simulate simulate_suite
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
