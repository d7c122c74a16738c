#!/bin/bash
# e2e-light.t: the light plan (redprof's default) against Redis's own
# counters and against the full plan, on real servers with real uprobes.
#
# For each build (Debian 12's redis, Redis 6.0 with freeMemoryIfNeeded and
# C_OK/C_ERR, Redis 8.0, Valkey 8.1):
#   - under a load that never evicts (maxmemory far above the data) the
#     light plan takes no probe hit at all, while it counts the commands;
#   - then one light and one full redprof watch the same server through
#     three phases that end calls each way: eviction that keeps up
#     (EVICT_OK), eviction cut short by the time limit (tenacity 0 and
#     maxmemory halved: EVICT_RUNNING; not in Redis 6.0), and noeviction
#     (EVICT_FAIL, C_ERR). The light plan's evicting calls and outcomes
#     must be the full plan's, once its calls that did not evict (which
#     return EVICT_OK) are set aside; its calls, commands and keys must be
#     INFO's; and an evicting call must cost it two probe hits or so.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq

BUILDS="src-6.0.16 src-8.0.2 src-valkey-8.1.1"
# shellcheck disable=SC2086
want_fixtures $BUILDS

hits() { jq '[.probe_hits.by_class[]] | add'; }

check_build() { # NAME BINARY
	local name=$1 bin=$2 dir=$TMPDIR_T/$1 r port pid light full lpid fpid before after ev0 ev1 lt ft legacy
	mkdir -p "$dir"
	r="l$$_${name//[^a-zA-Z0-9]/_}"
	REDIS_SERVER="$bin" start_redis "$r" --maxmemory 1gb --maxmemory-policy allkeys-lru
	eval "port=\$${r}_PORT pid=\$${r}_PID"
	legacy=$(redis-cli -p "$port" info server | tr -d '\r' | awk -F: '$1 == "redis_version" { print ($2 ~ /^6\.0\./) }')

	# --- never evicting: no probe hit ---
	before=$(info "$port" total_commands_processed)
	start_redprof "$dir/quiet.jsonl" "$dir/quiet.err" -p "$pid" --json -i 0.5 --offsets-dir "$NO_OFFSETS"
	wait_lines "$dir/quiet.jsonl" 1
	redis-benchmark -p "$port" -t set,get -n 20000 -r 10000 -d 64 -c 10 -q >/dev/null 2>&1
	sleep 0.6
	after=$(info "$port" total_commands_processed)
	kill -INT "$RP_PID"
	wait_exit "$RP_PID"
	lt=$(tail -n 1 "$dir/quiet.jsonl")
	grep -q "^redprof: light plan:" "$dir/quiet.err"
	ok $? "$name: the light plan is the default (offsets generated on the fly)" || sed 's/^/#   /' "$dir/quiet.err"
	[ "$(hits <<<"$lt")" = 0 ] && [ "$(jq .commands <<<"$lt")" -gt 20000 ]
	ok $? "$name: a load that never evicts costs no probe hit: $(jq -c '{commands, probe_hits}' <<<"$lt")"
	near "$(jq .calls <<<"$lt")" $((after - before)) 1 2
	ok $? "$name: calls are the commands INFO counted ($(jq .calls <<<"$lt") against $((after - before)))"

	# --- light and full side by side, through OK, RUNNING and FAIL ---
	redis-cli -p "$port" config set maxmemory 20mb >/dev/null
	start_redprof "$dir/light.jsonl" "$dir/light.err" -p "$pid" --json -i 0.5 --offsets-dir "$NO_OFFSETS"
	lpid=$RP_PID
	start_redprof "$dir/full.jsonl" "$dir/full.err" -p "$pid" --json -i 0.5 --full --offsets-dir "$NO_OFFSETS"
	fpid=$RP_PID
	wait_lines "$dir/light.jsonl" 1 && wait_lines "$dir/full.jsonl" 1
	ok $? "$name: a light and a full redprof attach to the same server"
	before=$(info "$port" total_commands_processed)
	ev0=$(info "$port" evicted_keys)
	redis-benchmark -p "$port" -t set -n 60000 -r 1000000 -d 512 -c 20 -q >/dev/null 2>&1
	if [ "$legacy" != 1 ]; then
		redis-cli -p "$port" config set maxmemory-eviction-tenacity 0 >/dev/null
		redis-cli -p "$port" config set maxmemory 10mb >/dev/null
		redis-benchmark -p "$port" -t set -n 3000 -r 1000000 -d 512 -c 5 -q >/dev/null 2>&1
		sleep 0.5	# the eviction timer finishes the job
	fi
	redis-cli -p "$port" config set maxmemory-policy noeviction >/dev/null
	redis-benchmark -p "$port" -t set -n 3000 -r 1000000 -d 512 -c 5 -q >/dev/null 2>&1
	sleep 0.6
	after=$(info "$port" total_commands_processed)
	ev1=$(info "$port" evicted_keys)
	kill -INT "$lpid" "$fpid"
	wait_exit "$lpid"
	wait_exit "$fpid"
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
	lt=$(tail -n 1 "$dir/light.jsonl")
	ft=$(tail -n 1 "$dir/full.jsonl")

	[ "$(jq -r .type <<<"$lt")" = total ] && [ "$(jq -r .type <<<"$ft")" = total ]
	ok $? "$name: both print their totals"
	[ "$(jq .evicting_calls <<<"$lt")" -gt 1000 ] && [ "$(jq .evicting_calls <<<"$lt")" = "$(jq .evicting_calls <<<"$ft")" ]
	ok $? "$name: evicting calls: light $(jq .evicting_calls <<<"$lt"), full $(jq .evicting_calls <<<"$ft")"
	# The full plan's outcomes less its calls that did not evict, which all return OK.
	want=$(jq -c '(.calls - .evicting_calls) as $noop | .returns | with_entries(select(.value > 0)) |
		if has("EVICT_OK") then .EVICT_OK -= $noop else .C_OK -= $noop end | with_entries(select(.value > 0))' <<<"$ft")
	got=$(jq -c '.returns | with_entries(select(.value > 0))' <<<"$lt")
	is "$got" "$want" "$name: outcomes of evicting calls, light against full"
	outcomes=$(jq '.returns | with_entries(select(.value > 0)) | length' <<<"$lt")
	[ "$outcomes" -ge $((legacy == 1 ? 2 : 3)) ]
	ok $? "$name: the phases ended calls every way the server returns ($got)"
	near "$(jq .calls <<<"$lt")" $((after - before)) 1 2
	ok $? "$name: light calls are INFO's commands ($(jq .calls <<<"$lt") against $((after - before)))"
	near "$(jq .calls <<<"$lt")" "$(jq .calls <<<"$ft")" 2 2
	ok $? "$name: ... and the full plan's probed calls ($(jq .calls <<<"$ft"); the eviction timer's calls are no commands)"
	near "$(jq .keys_evicted <<<"$lt")" $((ev1 - ev0)) 2 2
	ok $? "$name: keys evicted are INFO's ($(jq .keys_evicted <<<"$lt") against $((ev1 - ev0)))"
	jq -e '([.probe_hits.by_class[]] | add) as $h | .probe_hits.by_class.single_stepped == 0 and
		.probe_hits.by_class.return == 0 and $h <= 2.2 * .evicting_calls' <<<"$lt" >/dev/null
	ok $? "$name: about two emulated hits an evicting call: $(jq -c '{evicting_calls, by_class: .probe_hits.by_class}' <<<"$lt")"
	jq -e --argjson l "$(jq .probe_cost.cpu_seconds <<<"$lt")" '$l > 0 and .probe_cost.cpu_seconds > $l' <<<"$ft" >/dev/null
	ok $? "$name: its estimated cost is below the full plan's: $(jq -c .probe_cost.cpu_seconds <<<"$lt") s against $(jq -c .probe_cost.cpu_seconds <<<"$ft") s"
}

# A file without exits (format 1, as files made before them): the full plan, saying why.
fallback() {
	local dir=$TMPDIR_T/fallback f total
	mkdir -p "$dir"
	start_redis fb --maxmemory 20mb --maxmemory-policy allkeys-lru
	f=$dir/format1.offsets
	"$REDPROF" offsets generate -p "$fb_PID" -o "$dir/gen.offsets" 2>"$dir/gen.err"
	sed -e 's/^redprof-offsets 2$/redprof-offsets 1/' -e '/^exit /d' "$dir/gen.offsets" >"$f"
	start_redprof "$dir/out.jsonl" "$dir/err" -p "$fb_PID" --json -i 0.5 --offsets "$f" --export "$dir/snap.json"
	wait_lines "$dir/out.jsonl" 1
	redis-benchmark -p "$fb_PORT" -t set -n 20000 -r 1000000 -d 512 -c 10 -q >/dev/null 2>&1
	kill -INT "$RP_PID"
	wait_exit "$RP_PID"
	total=$(tail -n 1 "$dir/out.jsonl")
	grep -q "full plan: every performEvictions call is probed at its entry and return (2 hits per command), because the offset file has no exit sites" "$dir/err"
	ok $? "a format 1 file: the full plan, and redprof says why" || sed 's/^/#   /' "$dir/err" "$dir/gen.err"
	is "$(jq -r .probe_plan.mode "$dir/snap.json")" full "... the snapshot says so"
	jq -e '.calls >= 20000 and .probe_hits.by_site.performEvictions == .calls and .histograms.evict_latency_noop.count > 0' \
		<<<"$total" >/dev/null
	ok $? "... with every call probed at its entry and the latency of calls that did not evict: $(jq -c '{calls, entry: .probe_hits.by_site.performEvictions}' <<<"$total")"
	redis-cli -p "$fb_PORT" shutdown nosave >/dev/null 2>&1
}
fallback

# CONFIG RESETSTAT during a capture zeroes the counters the light plan reads:
# the commands of the interval it falls in, and of the total, are unknown
# (said why), never a count that wrapped; keys evicted go on being counted.
resetstat() {
	local dir=$TMPDIR_T/resetstat total ev0 ev1 ev2 lines
	mkdir -p "$dir"
	start_redis rs --maxmemory 20mb --maxmemory-policy allkeys-lru
	start_redprof "$dir/out.jsonl" "$dir/err" -p "$rs_PID" --json -i 0.5 --offsets-dir "$NO_OFFSETS"
	wait_lines "$dir/out.jsonl" 1
	ev0=$(info "$rs_PORT" evicted_keys)
	redis-benchmark -p "$rs_PORT" -t set -n 60000 -r 1000000 -d 512 -c 10 -q >/dev/null 2>&1
	ev1=$(info "$rs_PORT" evicted_keys)
	redis-cli -p "$rs_PORT" config resetstat >/dev/null
	sleep 1
	redis-benchmark -p "$rs_PORT" -t set -n 40000 -r 1000000 -d 512 -c 10 -q >/dev/null 2>&1
	ev2=$(info "$rs_PORT" evicted_keys)
	sleep 0.6
	kill -INT "$RP_PID"
	wait_exit "$RP_PID"
	redis-cli -p "$rs_PORT" shutdown nosave >/dev/null 2>&1
	total=$(tail -n 1 "$dir/out.jsonl")
	lines=$(jq -c 'select(.type == "interval")' "$dir/out.jsonl")
	jq -se 'all(.commands == null or .commands < 1000000) and all(.calls == null or .calls < 1000000)' \
		<<<"$lines" >/dev/null
	ok $? "CONFIG RESETSTAT: no interval's commands or calls wrapped"
	is "$(jq -s '[.[] | select(.commands == null and (.unavailable.commands // "" | test("RESETSTAT")))] | length' \
		<<<"$lines")" 1 "... the interval it fell in says its commands are unknown, and why"
	jq -e '.commands == null and .calls == null and (.unavailable.commands | test("went back"))' <<<"$total" >/dev/null
	ok $? "... so does the total: $(jq -c '{commands, unavailable: .unavailable.commands}' <<<"$total")"
	near "$(jq .keys_evicted <<<"$total")" $((ev1 - ev0 + ev2)) 2 2
	ok $? "... keys evicted go on: $(jq .keys_evicted <<<"$total") against INFO's $((ev1 - ev0)) before and $ev2 after"
	jq -e '.diagnostics.exits_without_slow_path <= 1' <<<"$total" >/dev/null
	ok $? "... no exit was passed without an evicting call in flight (but one at attach): $(jq -c .diagnostics <<<"$total")"
}
resetstat

check_build deb12 /usr/bin/redis-server
for name in $BUILDS; do
	[ -n "${BIN[$name]:-}" ] && check_build "$name" "${BIN[$name]}"
done
[ -z "$FIXTURES_ABSENT" ] || diag "not tested: the archive no longer has$FIXTURES_ABSENT"

echo "1..$TAP_N"
done_testing
