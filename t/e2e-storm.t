#!/bin/bash
# e2e-storm.t: storm episodes, their cycle and verdict, and the heat map,
# on Debian's redis-server driven by real loads of known times, with real
# uprobes:
#   - a bounded SET load into a server just under maxmemory makes one
#     episode that starts and ends within an interval of the load starting
#     and stopping; its keys and time are the sums of its intervals; its
#     keys are INFO's evicted_keys; it kept up; and the heat map's cells add
#     up to the capture's time in evicting calls (within 1%), those between
#     its start and end to its own;
#   - two loads with a FLUSHALL between them make two episodes whose cycle
#     (reclaim, growth, period) matches when memory fell and rose again;
#   - maxmemory-eviction-tenacity 0 and maxmemory cut under load: rounds
#     hit the time limit and the verdict says eviction fell behind;
#   - appendonly yes, appendfsync no and a large pipelined load: the AOF
#     buffer (overhead) is large and the verdict names it;
# and every snapshot follows the snapshot schema; --text prints each
# episode as a block; redprof report draws them and the heat map.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq /usr/bin/python3
if ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	[ "${CI:-}" = true ] && bail "python3-jsonschema is missing under CI=true"
	skip_all "missing python3-jsonschema (run scripts/test to install it)"
fi

plan 31

D=$TMPDIR_T
IV=0.5
SCHEMA=$top_srcdir/schema/redprof-snapshot.schema.json
# Seconds since the epoch of redprof's ISO times, to the millisecond.
JQ_T='def t: capture("^(?<s>[^.]+)(?<f>\\.[0-9]+)Z$") | (.s + "Z" | fromdate) + (.f | tonumber);'

now() { date +%s.%N; }

# within A B LIMIT: |A - B| <= LIMIT.
within() { awk -v a="$1" -v b="$2" -v l="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= l) }'; }

# schema_ok FILE: the snapshot FILE follows the schema (the error otherwise, as diagnostics).
schema_ok() {
	/usr/bin/python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' "$1" "$SCHEMA" 2>&1 | tail -3 | sed 's/^/# /'
	return "${PIPESTATUS[0]}"
}

# capture NAME ARGS...: redprof --json on server NAME into $D/NAME.jsonl, exporting $D/NAME.json.
capture() {
	local name=$1 pid
	shift
	eval "pid=\$${name}_PID"
	start_redprof "$D/$name.jsonl" "$D/$name.err" -p "$pid" --json -i $IV --export "$D/$name.json" "$@"
	wait_lines "$D/$name.jsonl" 1 || { sed 's/^/# /' "$D/$name.err"; bail "redprof did not attach to $name"; }
}

# stop: redprof ends (Ctrl-C) and writes its files.
stop() {
	kill -INT "$RP_PID"
	wait_exit "$RP_PID" 30
}

# load PORT N [ARGS...]: N SETs of 512 bytes from 20 clients.
load() {
	local port=$1 n=$2
	shift 2
	redis-benchmark -p "$port" -t set -n "$n" -r 10000000 -d 512 -c 20 -q "$@" >/dev/null 2>&1
}

episodes() { grep '"type":"episode"' "$D/$1.jsonl"; }

# --- one bounded load: bounds, sums, keys, the heat map -----------------
start_redis one --maxmemory 20mb --maxmemory-policy allkeys-lru
fill_below_maxmemory "$one_PORT" redis-benchmark
start_redprof "$D/one.txt" "$D/one-text.err" -p "$one_PID" --text -i $IV
text_pid=$RP_PID
capture one
sleep 1
ev0=$(info "$one_PORT" evicted_keys)
t0=$(now)
load "$one_PORT" 150000
t1=$(now)
sleep 2.5
ev1=$(info "$one_PORT" evicted_keys)
stop
kill -INT "$text_pid"
wait_exit "$text_pid" 30
is "$(episodes one | wc -l)" 1 "one load makes one episode ($(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s of load)"
ep=$(episodes one | head -n 1)
start=$(jq -r "$JQ_T .start | t" <<<"$ep")
end=$(jq -r "$JQ_T .end | t" <<<"$ep")
awk -v s="$start" -v a="$t0" -v i=$IV 'BEGIN { exit !(s >= a - 0.05 && s <= a + i) }'
ok $? "it starts within an interval of the load starting (start $start, load $t0)"
awk -v e="$end" -v b="$t1" -v i=$IV 'BEGIN { exit !(e <= b + 0.05 && e >= b - i) }'
ok $? "it ends within an interval of the load stopping (end $end, load $t1)"
# The intervals it says it is made of, from the --json lines.
ivs=$(jq -c --argjson ep "$ep" "$JQ_T"' select(.type == "interval") |
	select((.ts | t) >= ($ep.intervals.first | t) and (.ts | t) <= ($ep.intervals.last | t))' "$D/one.jsonl")
is "$(wc -l <<<"$ivs")" "$(jq .intervals.count <<<"$ep")" "its interval count is the intervals between its first and last"
is "$(jq .keys_evicted <<<"$ep")" "$(jq -s 'map(.keys_evicted) | add' <<<"$ivs")" \
	"its keys evicted are the sum of its intervals' ($(jq .keys_evicted <<<"$ep"))"
is "$(jq '.evict_time_s * 1e9 | round' <<<"$ep")" "$(jq -s 'map(.histograms.evict_latency_active.sum) | add' <<<"$ivs")" \
	"its time evicting is the sum of its intervals' latency sums ($(jq .evict_time_s <<<"$ep") s)"
is "$(jq .evicting_calls <<<"$ep")" "$(jq -s 'map(.evicting_calls) | add' <<<"$ivs")" "... and so are its evicting calls"
near_keys=$(jq --argjson info $((ev1 - ev0)) '(.keys_evicted - $info) | fabs <= 0.02 * $info' <<<"$ep")
is "$near_keys" true "its keys are INFO's evicted_keys within 2% ($(jq .keys_evicted <<<"$ep") against $((ev1 - ev0)))"
is "$(jq -r .verdict.pace <<<"$ep")" keeping_up "the verdict: eviction kept up ($(jq -r .verdict.text <<<"$ep"))"
jq -e '.verdict.backlog_feedback == null and (.verdict.unavailable.backlog_feedback | test("client-memory"))' <<<"$ep" >/dev/null
ok $? "the backlog finding is unavailable, with the reason, never guessed"
jq -e '.commands_per_s.during > 1000 and .commands_per_s.after == 0 and .evict_time_share > 0 and .evict_time_share <= 1' <<<"$ep" >/dev/null
ok $? "commands/s during and after, and its share of the main thread: $(jq -c '[.commands_per_s, .evict_time_share]' <<<"$ep")"

schema_ok "$D/one.json"
ok $? "the snapshot follows the schema, episodes and heat map included"
is "$(jq '.episodes | length' "$D/one.json")" 1 "the snapshot holds the episode"
is "$(jq -c '.episodes[0] | [.id, .start, .end, .keys_evicted, .evict_time_s]' "$D/one.json")" \
	"$(jq -c '[.id, .start, .end, .keys_evicted, .evict_time_s]' <<<"$ep")" "... the one the JSON line reported"
# The heat map against the capture's total and the episode.
heat=$(jq '([.heat_map.columns[].busy_ns[]] | add) + .heat_map.unplaced_s * 1e9' "$D/one.json")
total=$(jq '.total.histograms.evict_latency_active.sum' "$D/one.json")
jq -n --argjson h "$heat" --argjson t "$total" '($h - $t) | fabs <= 0.01 * $t' | grep -qx true
ok $? "the heat map's cells add up to the time in evicting calls within 1% ($heat against $total ns)"
is "$(jq '[.heat_map.columns[].calls[]] | add' "$D/one.json")" "$(jq .total.evicting_calls "$D/one.json")" \
	"its cells' calls are the evicting calls"
in_ep=$(jq --argjson s "$start" --argjson e "$end" '[.heat_map.columns[] | .second as $c |
	.busy_ns | to_entries[] | select($c + .key / 100 >= $s - 0.01 and $c + .key / 100 < $e + 0.01) | .value] | add' "$D/one.json")
jq -n --argjson h "$in_ep" --argjson t "$(jq '.evict_time_s * 1e9' <<<"$ep")" '($h - $t) | fabs <= 0.01 * $t' | grep -qx true
ok $? "the cells between its start and end add up to its time within 1% ($in_ep ns)"

# The same episode in text, and in the report.
block=$(sed -n '/^== storm episode 1 ended: /,/^backlog feedback:/p' "$D/one.txt")
grep -q '^verdict: eviction kept up' <<<"$block" && grep -Eq '^commands/s: before [0-9]+, during [0-9]+, after 0$' <<<"$block" &&
	grep -Eq '^cycle: growth ' <<<"$block" && grep -q '^backlog feedback: unavailable: ' <<<"$block"
ok $? "--text prints the episode as a block when it ends" || sed 's/^/#   /' "$D/one.txt" | tail -20
"$REDPROF" report "$D/one.json" -o "$D/one.html" 2>"$D/report.err"
grep -q '<tr data-episode="1">' "$D/one.html" && grep -q 'eviction kept up' "$D/one.html" &&
	[ "$(grep -c '<rect x="[0-9.]*" y="[0-9]*" width="[0-9.]*" height="3" fill="#' "$D/one.html")" -gt 10 ]
ok $? "redprof report shows the episode and draws the heat map's cells" || sed 's/^/# /' "$D/report.err"
"$REDPROF" report "$D/one.jsonl" -o "$D/lines.html" 2>"$D/report.err"
grep -q '<tr data-episode="1">' "$D/lines.html" && grep -q 'not in --json lines' "$D/lines.html"
ok $? "from --json lines it shows the episode and says where the heat map is" || sed 's/^/# /' "$D/report.err"

# --- two loads and a FLUSHALL: the cycle ---------------------------------
start_redis cyc --maxmemory 20mb --maxmemory-policy allkeys-lru
fill_below_maxmemory "$cyc_PORT" redis-benchmark
capture cyc
load "$cyc_PORT" 100000
sleep 1.5
t_flush=$(now)
redis-cli -p "$cyc_PORT" flushall >/dev/null
sleep 1.5
t_grow=$(now)
load "$cyc_PORT" 120000
sleep 2.5
stop
is "$(jq '.episodes | length' "$D/cyc.json")" 2 "two loads with a FLUSHALL between them: two episodes" || {
	diag "  flush at $t_flush, second load at $t_grow; intervals [end, commands, calls, evicting_calls, used_memory]:"
	jq -c 'select(.type == "interval") | [.ts, .commands, .calls, .evicting_calls, .used_memory]' "$D/cyc.jsonl" |
		sed 's/^/#   /'
}
e1=$(jq -c '.episodes[0]' "$D/cyc.json")
e2=$(jq -c '.episodes[1]' "$D/cyc.json")
end1=$(jq -r "$JQ_T .end | t" <<<"$e1")
start1=$(jq -r "$JQ_T .start | t" <<<"$e1")
start2=$(jq -r "$JQ_T .start | t" <<<"$e2")
within "$(jq .cycle.reclaim_s <<<"$e1")" "$(echo "$t_flush - $end1" | bc)" 0.6
ok $? "the reclaim runs from the first burst's end to the FLUSHALL ($(jq .cycle.reclaim_s <<<"$e1") s against $(printf '%.2f' "$(echo "$t_flush - $end1" | bc)") s)"
within "$(jq .cycle.growth_s <<<"$e2")" "$(echo "$start2 - $t_grow" | bc)" 0.6
ok $? "the growth runs from the second load's start to the burst ($(jq .cycle.growth_s <<<"$e2") s against $(printf '%.2f' "$(echo "$start2 - $t_grow" | bc)") s)"
within "$(jq .cycle.period_s <<<"$e2")" "$(echo "$start2 - $start1" | bc)" 0.002
ok $? "the period is from one burst's start to the next ($(jq .cycle.period_s <<<"$e2") s)"
jq -e --argjson a "$e1" '.cycle.low_before < 4194304 and $a.cycle.low_after < 4194304 and ($a.cycle.period_s == null)
	and .cycle.reclaim_s == 0' <<<"$e2" >/dev/null
ok $? "the low points are what FLUSHALL left, and after the second burst memory stayed: $(jq -c .cycle <<<"$e1") $(jq -c .cycle <<<"$e2")"

# --- tenacity 0 and maxmemory cut to a quarter: falling behind ------------
start_redis slow --maxmemory 20mb --maxmemory-policy allkeys-lru
fill_below_maxmemory "$slow_PORT" redis-benchmark
redis-cli -p "$slow_PORT" config set maxmemory-eviction-tenacity 0 >/dev/null
capture slow
load "$slow_PORT" 150000 &
lpid=$!
sleep 1.2
redis-cli -p "$slow_PORT" config set maxmemory 5mb >/dev/null
wait "$lpid"
sleep 2.5
stop
ep=$(episodes slow | tail -n 1)
jq -e '.returns.EVICT_RUNNING > 0' <<<"$ep" >/dev/null
ok $? "tenacity 0 and maxmemory cut to a quarter: rounds hit the time limit (EVICT_RUNNING $(jq .returns.EVICT_RUNNING <<<"$ep"))"
is "$(jq -r .verdict.pace <<<"$ep")" falling_behind "the verdict says eviction fell behind"
jq -e '.verdict.text | test("fell behind: .* hit the time limit")' <<<"$ep" >/dev/null
ok $? "... and why, in words: $(jq -r .verdict.text <<<"$ep")"

# --- the AOF buffer: pressure from outside the dataset -------------------
start_redis aof --maxmemory 20mb --maxmemory-policy allkeys-lru --appendonly yes --appendfsync no
fill_below_maxmemory "$aof_PORT" redis-benchmark
capture aof
redis-benchmark -p "$aof_PORT" -t set -n 200000 -r 10000000 -d 4096 -c 50 -P 64 -q >/dev/null 2>&1
sleep 2.5
stop
ep=$(episodes aof | tail -n 1)
is "$(jq .verdict.outside_pressure <<<"$ep")" true \
	"appendonly yes, appendfsync no, a large pipelined load: pressure from outside the dataset ($(jq -c .overhead <<<"$ep"))"
jq -e '.verdict.text | test("pressure from outside the dataset: AOF and replication buffers \\(overhead\\)")' <<<"$ep" >/dev/null
ok $? "the verdict names the overhead: $(jq -r .verdict.text <<<"$ep")"
schema_ok "$D/aof.json"
ok $? "that snapshot follows the schema too"

done_testing
