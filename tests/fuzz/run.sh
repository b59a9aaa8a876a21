#!/bin/sh
# Runs each libFuzzer target of a -Dfuzz=true build for SECONDS, from the seeds and past crashes
# in tests/fuzz/ and what earlier runs found (BUILD/fuzz-corpus/TARGET, kept between runs), and
# prints executions and coverage per target. A crash leaves its input in
# BUILD/fuzz-artifacts/TARGET/ and makes the run fail (README "Fuzzing").
#   usage: tests/fuzz/run.sh BUILD SECONDS [TARGET...]
set -u
build=$1
secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-"vswitch router netlink ctl config mgr_api ws"}
rc=0
summary=""
for t in $targets; do
	bin=$build/tests/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is missing (CC=clang meson setup $build -Dfuzz=true)" >&2
		exit 2
	fi
	work=$build/fuzz-corpus/$t
	art=$build/fuzz-artifacts/$t
	log=$build/fuzz-logs/$t.log
	mkdir -p "$work" "$art" "$(dirname "$log")"
	echo "fuzz: $t for ${secs}s (log $log)"
	# New inputs go into the first directory (the work corpus), never into the repo's seeds.
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$bin" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=4096 \
		-timeout=25 -artifact_prefix="$art/" "$work" "$here/corpus/$t" "$here/crashes/$t" \
		>"$log" 2>&1
	st=$?
	# EAL's runtime directories of targets that died before their atexit (a crash).
	for d in /var/run/dpdk/tess_fuzz_*_*; do
		[ -d "$d" ] && ! kill -0 "${d##*_}" 2>/dev/null && rm -rf "$d"
	done
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	if [ "$st" -ne 0 ]; then
		rc=1
		echo "fuzz: $t FAILED (exit $st); its input is in $art/, the report in $log:" >&2
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 8 >&2
	fi
	summary="$summary$(printf '%-8s %12s execs  cov %6s  ft %7s  %s' "$t" "${execs:-?}" \
		"${cov:-?}" "${ft:-?}" "$([ "$st" -eq 0 ] && echo ok || echo FAILED)")
"
done
printf '\nfuzz: %ss per target\n%s' "$secs" "$summary"
exit $rc
