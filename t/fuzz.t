#!/bin/bash
# fuzz.t: each libFuzzer harness in fuzz/ (built by configure
# --enable-fuzzing, with ASan and UBSan) runs for a bounded time from its
# seeds; a crash, a sanitizer report, a leak or an input that runs longer
# than 20 s fails the test, and the input that did it is kept in
# fuzz/crash-* of the build directory to reproduce it:
#     fuzz/binary-analysis fuzz/crash-...
#
# REDPROF_FUZZ_SECONDS sets the time per harness: 60 under CI=true, 5
# otherwise. Seeds: fuzz/corpus/offsets and the shipped offset files for
# the parser; for the analysis, the small programs make check builds for
# the tests, and patches aimed at Debian's redis-server (fuzz/binary-analysis.c
# says how they are read).
. "$top_srcdir/t/lib.sh"

SECS=${REDPROF_FUZZ_SECONDS:-$([ "${CI:-}" = true ] && echo 60 || echo 5)}
FUZZ=$top_builddir/fuzz
[ -x "$FUZZ/offsets-parse" ] && [ -x "$FUZZ/binary-analysis" ] ||
	bail "the harnesses are not built: configure with CC=clang --enable-fuzzing"

plan 4

# fuzz NAME SEEDS: runs fuzz/NAME for SECS seconds over a copy of SEEDS.
fuzz() {
	local name=$1 seeds=$2 work="$TMPDIR_T/corpus-$1" log="$TMPDIR_T/$1.log" rc crash
	mkdir -p "$work"
	"$FUZZ/$name" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$TMPDIR_T/$name-" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	ok $rc "$name: ${SECS}s, ${runs:-no} runs, no crash, sanitizer report, leak or hang" || {
		grep -E 'ERROR|runtime error|SUMMARY|Test unit written|fatal|redprof:' "$log" | head -20 | sed 's/^/#   /'
		for crash in "$TMPDIR_T/$name-"*; do
			[ -e "$crash" ] || continue
			cp "$crash" "$FUZZ/" && diag "  reproduce: $FUZZ/$name $FUZZ/$(basename "$crash")"
		done
	}
	[ "${runs:-0}" -gt 10 ]
	ok $? "$name: the harness ran inputs (${runs:-0}), not only started"
}

mkdir -p "$TMPDIR_T/seeds-offsets"
cp "$top_srcdir"/fuzz/corpus/offsets/*.offsets "$top_srcdir"/offsets/*.offsets "$TMPDIR_T/seeds-offsets/"
fuzz offsets-parse "$TMPDIR_T/seeds-offsets"

# Whole small executables, and patches (region, offset, length, bytes) to
# the real server: one per region the harness aims at, each writing one byte.
S=$TMPDIR_T/seeds-binary
mkdir -p "$S"
for f in "$top_builddir"/t/fixture-* "$top_builddir"/t/model/evict-model-*; do
	[ -f "$f" ] && [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && cp "$f" "$S/"
done
for r in $(seq 0 9); do
	printf "\\$(printf %03o $r)\\001\\000\\000\\000\\001\\220" >"$S/patch-$r"
done
REDPROF_FUZZ_BASE=$(readlink -f /usr/bin/redis-server 2>/dev/null)
[ -f "$REDPROF_FUZZ_BASE" ] && export REDPROF_FUZZ_BASE || unset REDPROF_FUZZ_BASE
fuzz binary-analysis "$S"

done_testing
