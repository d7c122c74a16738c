#!/bin/bash
# soak.t: bench/soak, short. redprof stays attached to a Redis evicting
# under a bounded load for 60 s under CI=true (20 s otherwise,
# REDPROF_SOAK_SECONDS sets it); each of the soak's goals is one line here:
# resident memory flat and under 30 MB, no interval missing or doubled,
# interval sums equal to the total, the total equal to INFO's counters.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq

SECS=${REDPROF_SOAK_SECONDS:-$([ "${CI:-}" = true ] && echo 60 || echo 20)}
"$top_srcdir/bench/soak" -s "$SECS" --redprof "$REDPROF" >"$TMPDIR_T/report" 2>"$TMPDIR_T/err"
rc=$?
sed -n '/^redprof soak/,/^goals:/p' "$TMPDIR_T/report" | sed 's/^/# /'
goals=0
while read -r verdict goal; do
	goals=$((goals + 1))
	[ "$verdict" = ok ]
	ok $? "$goal"
done < <(sed -n 's/^  \(ok\|MISSED\)  */\1 /p' "$TMPDIR_T/report")
[ "$goals" -ge 10 ] && [ "$rc" -eq 0 ]
ok $? "bench/soak -s $SECS ran and met its $goals goals (exit $rc)" || sed 's/^/#   /' "$TMPDIR_T/err" | tail -5
echo "1..$TAP_N"
done_testing
