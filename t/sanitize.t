#!/bin/bash
# sanitize.t: this tree built once more, in $top_builddir/sanitize, with
# clang, AddressSanitizer and UBSan (configure --enable-fuzzing, which
# implies --enable-asan: every report ends the program), then its unit,
# analysis and command-line tests and the fuzzers (t/fuzz.t) run there.
# Each of those tests is one line here, and a sanitizer report anywhere,
# even in a run a test expected to fail, fails this test.
#
# It takes minutes: it runs under CI=true, or with REDPROF_SANITIZE=1.
. "$top_srcdir/t/lib.sh"

[ "${CI:-}" = true ] || [ "${REDPROF_SANITIZE:-}" = 1 ] ||
	skip_all "a second build with sanitizers runs under CI=true or REDPROF_SANITIZE=1"
require_cmd clang

# The analyser's model tests join when this tree has them.
TESTS_HERE="t/unit-hist t/unit-json t/unit-elf t/unit-offsets t/unit-emu t/cli.t t/fail-offsets.t t/fail-output.t
	t/fail-target.t t/fail-signals.t t/fuzz.t"
for t in t/model.t t/model-refuse.t t/offsets-cmd.t; do
	[ -e "$top_srcdir/$t" ] && TESTS_HERE="$TESTS_HERE $t"
done
set -- $TESTS_HERE
plan $(($# + 2))

dir=$top_builddir/sanitize
mkdir -p "$dir"
# The make running this test passes its own variables (TEST_LOGS...) down
# through MAKEFLAGS: the build below is another tree, with its own.
unset MAKEFLAGS MFLAGS MAKELEVEL
# The test fixtures are gcc's whatever CC is (TEST_GCC), as in the main build.
(cd "$dir" && { [ -f Makefile ] || CC=clang "$top_srcdir/configure" --enable-fuzzing --enable-werror; } &&
	nice -n 10 make -j2 check TESTS=) >"$dir/build.log" 2>&1
ok $? "the tree builds with clang, ASan, UBSan and libFuzzer in $dir" ||
	{ tail -20 "$dir/build.log" | sed 's/^/#   /'; bail "no sanitizer build"; }

rm -f "$dir"/sanitizer.*
export ASAN_OPTIONS="log_path=$dir/sanitizer:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$dir/sanitizer:print_stacktrace=1"
nice -n 10 make -C "$dir" -j2 check TESTS="$*" >"$dir/check.log" 2>&1
for t in "$@"; do
	base=$dir/${t%.t}	# automake drops the .t of shell tests
	result=$(sed -n 's/^:global-test-result: //p' "$base.trs" 2>/dev/null)
	counts=$(grep -c '^:test-result: PASS' "$base.trs" 2>/dev/null)
	[ "$result" = PASS ]
	ok $? "under ASan and UBSan: $t (${result:-not run}, ${counts:-0} passed)" ||
		grep -E '^(not ok|Bail out)' "$base.log" 2>/dev/null | head -5 | sed 's/^/#   /'
done
reports=$(ls "$dir"/sanitizer.* 2>/dev/null)
[ -z "$reports" ]
ok $? "no sanitizer report from any run" || for r in $reports; do head -30 "$r" | sed 's/^/#   /'; done
done_testing
