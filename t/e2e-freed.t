#!/bin/bash
# e2e-freed.t: what each eviction round freed, against Redis's own INFO, on
# real servers with real uprobes. One build of each way the server keeps
# used memory: one word (Debian 12's installed Redis 7.0), per-thread counters with a
# size_t count (Redis 8.0) and with an int count plus a word for threads
# past the array (Valkey 8.1).
#
# For each, while SETs of new 512-byte values evict:
#   - every evicting call is a measured round (freed or grew), with no
#     unreadable value, and its overshoot less its shortfall is exactly
#     what it freed less its mem_tofree, summed;
#   - the bytes the rounds freed, per key evicted, are what a key costs
#     (INFO used_memory over DBSIZE while filling), within 10%;
#   - INFO's used_memory moved by what the new keys took less what the
#     rounds freed, within 10% of the latter;
#   - with lazyfree-lazy-eviction no, no round leaves objects to lazyfree;
#     with yes and hashes too big to free inline, rounds do, and say so.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq

BUILDS="src-8.0.2 src-valkey-8.1.1"
# shellcheck disable=SC2086
want_fixtures $BUILDS

dbsize() { redis-cli -p "$1" dbsize | tr -d '\r'; }

check_build() { # NAME BINARY
	local name=$1 bin=$2 dir=$TMPDIR_T/$1 r port pid u0 k0 u1 k1 per_key e1 t e2 u2 k2 net added fields
	mkdir -p "$dir"
	r="f$$_${name//[^a-zA-Z0-9]/_}"
	REDIS_SERVER="$bin" start_redis "$r" --maxmemory 20mb --maxmemory-policy allkeys-random \
		--lazyfree-lazy-eviction no
	eval "port=\$${r}_PORT pid=\$${r}_PID"

	# What a key costs: used memory over keys while filling, before any eviction.
	u0=$(info "$port" used_memory) k0=$(dbsize "$port")
	fill_below_maxmemory "$port" redis-benchmark
	u1=$(info "$port" used_memory) k1=$(dbsize "$port")
	per_key=$(((u1 - u0) / (k1 - k0)))
	[ "$(info "$port" evicted_keys)" = 0 ] && [ "$k1" -gt 10000 ]
	ok $? "$name: filled to $u1 bytes with $k1 keys of $per_key bytes each, none evicted"

	start_redprof "$dir/out.jsonl" "$dir/err" -p "$pid" --json -i 0.5 --offsets-dir "$NO_OFFSETS"
	wait_lines "$dir/out.jsonl" 1
	ok $? "$name: redprof attached" || sed 's/^/#   /' "$dir/err"
	e1=$(info "$port" evicted_keys) u1=$(info "$port" used_memory) k1=$(dbsize "$port")
	redis-benchmark -p "$port" -t set -n 30000 -r 100000000 -d 512 -c 10 -q >/dev/null 2>&1
	sleep 0.6
	e2=$(info "$port" evicted_keys) u2=$(info "$port" used_memory) k2=$(dbsize "$port")
	kill -INT "$RP_PID"
	wait_exit "$RP_PID"
	t=$(tail -n 1 "$dir/out.jsonl")

	[ "$(jq -r .type <<<"$t")" = total ] && [ "$(jq .evicting_calls <<<"$t")" -gt 1000 ]
	ok $? "$name: totals, with $(jq .evicting_calls <<<"$t") evicting calls" || sed 's/^/#   /' "$dir/err"
	jq -e '.histograms.freed.count + .rounds_memory_grew == .evicting_calls and
		.diagnostics.unreadable_values == 0' <<<"$t" >/dev/null
	ok $? "$name: every evicting call is a measured round: $(jq -c '{evicting_calls, freed: .histograms.freed.count, rounds_memory_grew, unreadable: .diagnostics.unreadable_values, why: .unavailable.freed}' <<<"$t")"
	jq -e '.histograms as $h | $h.mem_tofree.count == .evicting_calls and
		$h.overshoot.count + $h.shortfall.count == .evicting_calls and
		$h.overshoot.sum - $h.shortfall.sum == $h.freed.sum - .memory_grew_bytes - $h.mem_tofree.sum' \
		<<<"$t" >/dev/null
	ok $? "$name: overshoot less shortfall is freed less mem_tofree, summed: $(jq -c '.histograms | map_values(.sum?) | {freed, overshoot, shortfall, mem_tofree}' <<<"$t")"
	net=$(jq '.histograms.freed.sum - .memory_grew_bytes' <<<"$t")
	is "$(jq .keys_evicted <<<"$t")" $((e2 - e1)) "$name: keys evicted are INFO's"
	near $((net / (e2 - e1))) "$per_key" 10
	ok $? "$name: bytes freed per key evicted, $((net / (e2 - e1))), are what a key costs, $per_key"
	added=$((k2 - k1 + e2 - e1))
	awk -v d=$((u2 - u1 - added * per_key + net)) -v n="$net" 'BEGIN { if (d < 0) d = -d; exit !(d * 10 <= n) }'
	ok $? "$name: INFO's used_memory moved $((u2 - u1)): $added new keys' $((added * per_key)) less the $net freed"
	is "$(jq '.histograms.lazyfree_pending | [.count, .max]' -c <<<"$t")" "[$(jq .evicting_calls <<<"$t"),0]" \
		"$name: lazyfree-lazy-eviction no: no round left objects to lazyfree"

	# Hashes kept as hash tables, of more fields than Redis frees inline, freed lazily.
	redis-cli -p "$port" config set lazyfree-lazy-eviction yes >/dev/null
	redis-cli -p "$port" config set hash-max-ziplist-entries 0 >/dev/null
	fields=$(for i in $(seq 100); do printf 'f%d v ' "$i"; done)
	start_redprof "$dir/lazy.jsonl" "$dir/lazy.err" -p "$pid" --json -i 0.5 --offsets-dir "$NO_OFFSETS"
	wait_lines "$dir/lazy.jsonl" 1
	# shellcheck disable=SC2086
	redis-benchmark -p "$port" -n 6000 -r 100000000 -c 4 -q HSET 'h:__rand_int__' $fields >/dev/null 2>&1
	sleep 0.6
	kill -INT "$RP_PID"
	wait_exit "$RP_PID"
	t=$(tail -n 1 "$dir/lazy.jsonl")
	jq -e '.evicting_calls > 0 and .histograms.lazyfree_pending.max > 0' <<<"$t" >/dev/null &&
		[ "$(info "$port" lazyfreed_objects)" -gt 0 ]
	ok $? "$name: lazyfree-lazy-eviction yes: rounds leave objects to lazyfree, up to $(jq .histograms.lazyfree_pending.max <<<"$t") (INFO lazyfreed_objects $(info "$port" lazyfreed_objects))"
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
}

check_build deb12 /usr/bin/redis-server
for name in $BUILDS; do
	[ -n "${BIN[$name]:-}" ] && check_build "$name" "${BIN[$name]}"
done
[ -z "$FIXTURES_ABSENT" ] || diag "not tested: the archive no longer has$FIXTURES_ABSENT"

echo "1..$TAP_N"
done_testing
