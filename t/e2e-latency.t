#!/bin/bash
# e2e-latency.t: redprof's full plan (--full: every call probed at its
# entry and return) attached to Debian's real redis-server with real
# uprobes. With maxmemory 20mb and allkeys-lru under a SET load that evicts,
# redprof's calls and commands must equal Redis's own command count, its
# histograms must be consistent, and every JSON line must follow the
# schema. With maxmemory 0 it must say Redis does not evict, and it must
# exit 0 when the server goes away under it.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq

plan 21

# The schema of redprof(8), checked on every line.
SCHEMA='
	def hist: (.unit | type == "string") and (.buckets | type == "array")
		and ([.buckets[] | (.lo < .hi) and (.count > 0)] | all)
		and ([.buckets[].count] | add // 0) == .count
		and (.sum | type == "number")
		and (if .count > 0 then (.min <= .max) else (.min == null and .max == null) end);
	(.type == "interval" or .type == "total")
	and (.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"))
	and (.interval_s > 0) and (.pid == $pid) and (.build_id | test("^[0-9a-f]{40}$"))
	and (.redis_version == "7.0.15")
	and (.commands | type == "number") and (.calls | type == "number")
	and (.returns | has("EVICT_OK") and has("EVICT_RUNNING") and has("EVICT_FAIL"))
	and (.histograms | type == "object") and ([.histograms[] | hist] | all)
	and (.unavailable | type == "object")
	and ((.unavailable | keys) - (.histograms | keys) == (.unavailable | keys))'

# near A B TOLERANCE
near() { [ "$1" -ge $(($2 - $3)) ] && [ "$1" -le $(($2 + $3)) ]; }

# --- maxmemory 20mb, allkeys-lru, a SET load past maxmemory -------------
start_redis evict --maxmemory 20mb --maxmemory-policy allkeys-lru
before=$(info "$evict_PORT" total_commands_processed)
start_redprof "$TMPDIR_T/evict.jsonl" "$TMPDIR_T/evict.err" -p "$evict_PID" --full --json -i 0.5
wait_lines "$TMPDIR_T/evict.jsonl" 1
ok $? "redprof attaches and reports an interval"
redis-benchmark -p "$evict_PORT" -t set -n 150000 -r 1000000 -d 512 -c 20 -q >/dev/null 2>&1
sleep 0.6
after=$(info "$evict_PORT" total_commands_processed)
evicted=$(info "$evict_PORT" evicted_keys)
kill -INT "$RP_PID"
wait_exit "$RP_PID"
is "$EXIT_STATUS" 0 "redprof exits 0 on SIGINT"
[ "$evicted" -gt 1000 ]
ok $? "the load drove Redis into eviction ($evicted keys evicted)"

out="$TMPDIR_T/evict.jsonl"
delta=$((after - before))
total=$(tail -n 1 "$out")
calls=$(echo "$total" | jq .calls)
commands=$(echo "$total" | jq .commands)
is "$(echo "$total" | jq -r .type)" total "the last line is the total"
near "$calls" "$delta" 3
ok $? "total calls ($calls) equal INFO's commands processed ($delta)"
near "$commands" "$delta" 3
ok $? "total commands ($commands) equal INFO's commands processed ($delta)"
is "$(jq -s '[.[] | select(.type == "interval") | .calls] | add' "$out")" "$calls" \
	"the intervals' calls add up to the total: nothing lost between reads"
count=$(echo "$total" | jq .histograms.evict_latency.count)
near "$count" "$calls" 2
ok $? "the latency histogram counts every call ($count of $calls)"
echo "$total" | jq -e '.histograms.evict_latency | (.sum / .count) as $m | .min <= $m and $m <= .max' >/dev/null
ok $? "the mean latency lies between min and max"
echo "$total" | jq -e '[.histograms.evict_latency.buckets[] | select(.lo >= 8000 and .count > 0)] | length > 0' >/dev/null
ok $? "latency buckets at or above 8 us are populated while evicting"
echo "$total" | jq -e '.returns.EVICT_OK + .returns.EVICT_RUNNING + .returns.EVICT_FAIL <= .calls' >/dev/null
ok $? "returns by value add up to no more than the calls"
# Storm episodes have their own lines (e2e-storm.t checks them).
bad=$(jq -c --argjson pid "$evict_PID" "select(.type != \"episode\") | select(($SCHEMA) | not)" "$out" | wc -l)
is "$bad" 0 "every line follows the JSON schema ($(wc -l <"$out") lines)"
is "$(jq -r .type "$out" | grep -c total)" 1 "exactly one total line"

# --- units -------------------------------------------------------------
start_redprof "$TMPDIR_T/us.jsonl" "$TMPDIR_T/us.err" -p "$evict_PID" --full --json -u -i 0.3 -d 1
wait_exit "$RP_PID"
is "$EXIT_STATUS" 0 "a capture with --duration ends by itself with exit 0"
jq -e 'select(.type == "total") | .histograms.evict_latency.unit == "us"' "$TMPDIR_T/us.jsonl" >/dev/null
ok $? "-u buckets latency in microseconds"

# --- maxmemory 0: Redis does not evict ---------------------------------
start_redis nomax
before=$(info "$nomax_PORT" total_commands_processed)
start_redprof "$TMPDIR_T/nomax.jsonl" "$TMPDIR_T/nomax.err" -p "$nomax_PID" --full --json -i 0.5
wait_lines "$TMPDIR_T/nomax.jsonl" 1
redis-benchmark -p "$nomax_PORT" -t set -n 20000 -r 100000 -d 64 -c 10 -q >/dev/null 2>&1
sleep 0.6
after=$(info "$nomax_PORT" total_commands_processed)
kill -INT "$RP_PID"
wait_exit "$RP_PID"
is "$EXIT_STATUS" 0 "redprof exits 0 (maxmemory 0)"
total=$(tail -n 1 "$TMPDIR_T/nomax.jsonl")
near "$(echo "$total" | jq .commands)" $((after - before)) 3
ok $? "with maxmemory 0 total commands still equal INFO's ($((after - before)))"
is "$(echo "$total" | jq .calls)" 0 "no eviction calls with maxmemory 0"
echo "$total" | jq -e '.unavailable.evict_latency | test("does not evict")' >/dev/null
ok $? "the output says Redis does not evict: $(echo "$total" | jq -c .unavailable.evict_latency)"

# --- the server goes away under redprof --------------------------------
start_redprof "$TMPDIR_T/gone.jsonl" "$TMPDIR_T/gone.err" -p "$nomax_PID" --json -i 0.3
wait_lines "$TMPDIR_T/gone.jsonl" 1
redis-cli -p "$nomax_PORT" shutdown nosave >/dev/null 2>&1
wait_exit "$RP_PID" 10
is "$EXIT_STATUS" 0 "redprof exits 0 when the server shuts down under it"
grep -q "exited" "$TMPDIR_T/gone.err" && [ "$(tail -n 1 "$TMPDIR_T/gone.jsonl" | jq -r .type)" = total ]
ok $? "it says the target exited and prints the total"

done_testing
