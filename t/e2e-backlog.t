#!/bin/bash
# e2e-backlog.t: the backlog feedback loop, on real servers with real
# uprobes. While a SET load keeps a Redis at maxmemory 20mb evicting, a few
# slow clients of ours (t/slow_clients.py) send most of a large command and
# stop: the server holds it in their buffers, which used_memory counts and
# eviction cannot free. Then they hang up and the buffers go. redprof reads
# the server's own client-memory accounting (stat_clients_type_memory, from
# the offset file, which has it from debug information):
#   - its gauge follows INFO's mem_clients_normal;
#   - the episode's verdict names the backlog feedback loop, with the
#     buffers' growth during the burst and their release after it;
#   - a quiet SET load alone does not;
#   - a build without debug information says why it cannot tell.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq /usr/bin/python3

BUILDS="src-7.0.15-O2g src-8.0.2 src-valkey-8.1.1"
# shellcheck disable=SC2086
want_fixtures $BUILDS

# episode FILE: the first storm episode in redprof's JSON lines.
episode() { jq -c 'select(.type == "episode")' "$1" | head -n 1; }

# plain_episode PORT PID OUT: redprof (lines in OUT.jsonl) over a bounded SET load
# into the server just under maxmemory; prints the episode it made.
plain_episode() {
	start_redprof "$3.jsonl" "$3.err" -p "$2" --json -i 0.5 --offsets-dir "$NO_OFFSETS"
	wait_lines "$3.jsonl" 1
	redis-benchmark -p "$1" -t set -n 60000 -r 100000000 -d 512 -c 4 -q >/dev/null 2>&1
	sleep 1.6
	kill -INT "$RP_PID"
	wait_exit "$RP_PID"
	episode "$3.jsonl"
}

check_build() { # NAME BINARY
	local name=$1 bin=$2 dir=$TMPDIR_T/$1 r port pid ep peak info_peak t bench slow
	mkdir -p "$dir"
	r="b$$_${name//[^a-zA-Z0-9]/_}"
	REDIS_SERVER="$bin" start_redis "$r" --maxmemory 20mb --maxmemory-policy allkeys-lru
	eval "port=\$${r}_PORT pid=\$${r}_PID"
	fill_below_maxmemory "$port" redis-benchmark

	# --- a plain SET load: eviction, no backlog -----------------------
	ep=$(plain_episode "$port" "$pid" "$dir/plain")
	[ -n "$ep" ] && jq -e '.verdict.backlog_feedback == false and (.verdict.text | test("backlog") | not)' \
		<<<"$ep" >/dev/null
	ok $? "$name: a plain SET load: an episode, and no backlog in its verdict: $(jq -c '.verdict' <<<"$ep")" ||
		sed 's/^/#   /' "$dir/plain.err"

	# --- the same with slow clients holding buffers during it ---------
	start_redprof "$dir/slow.jsonl" "$dir/slow.err" -p "$pid" --json -i 0.5 --offsets-dir "$NO_OFFSETS"
	wait_lines "$dir/slow.jsonl" 1
	redis-benchmark -p "$port" -t set -n 150000 -r 100000000 -d 512 -c 4 -q >/dev/null 2>&1 &
	bench=$!
	sleep 1
	/usr/bin/python3 "$top_srcdir/t/slow_clients.py" "$port" 2 1 2 >"$dir/slow.out" &
	slow=$!
	info_peak=0
	for _ in $(seq 15); do
		sleep 0.1
		t=$(info "$port" mem_clients_normal)
		[ "${t:-0}" -gt "$info_peak" ] && info_peak=$t
	done
	wait "$bench" "$slow"
	sleep 1.6
	kill -INT "$RP_PID"
	wait_exit "$RP_PID"
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
	grep -q '^sent ' "$dir/slow.out"
	ok $? "$name: the slow clients sent their part ($(cat "$dir/slow.out"))"
	peak=$(jq -s 'map(select(.type == "interval") | .clients_normal_memory // 0) | max' "$dir/slow.jsonl")
	[ "$info_peak" -gt 1000000 ] && awk -v a="$peak" -v b="$info_peak" 'BEGIN { exit !(a >= b / 2 && a <= 2 * b) }'
	ok $? "$name: redprof's clients_normal_memory peaked with INFO's mem_clients_normal ($peak against $info_peak)"
	ep=$(episode "$dir/slow.jsonl")
	[ -n "$ep" ] && jq -e '.verdict.backlog_feedback == true and
		(.verdict.text | test("a backlog feedback loop: normal clients. buffers grew from .* during the burst"))' \
		<<<"$ep" >/dev/null
	ok $? "$name: the verdict names the backlog: $(jq -r '.verdict.text' <<<"$ep")" || sed 's/^/#   /' "$dir/slow.err"
}

for name in $BUILDS; do
	[ -n "${BIN[$name]:-}" ] && check_build "$name" "${BIN[$name]}"
done

# Debian's build has no debug information: the finding is unavailable, and says why.
start_redis deb --maxmemory 20mb --maxmemory-policy allkeys-lru
fill_below_maxmemory "$deb_PORT" redis-benchmark
ep=$(plain_episode "$deb_PORT" "$deb_PID" "$TMPDIR_T/deb")
[ -n "$ep" ] && jq -e '.verdict.backlog_feedback == null and
	(.verdict.unavailable.backlog_feedback | test("client-memory accounting"))' <<<"$ep" >/dev/null
ok $? "Debian's redis-server: the backlog finding is unavailable, and why: $(jq -c '.verdict.unavailable' <<<"$ep")"
redis-cli -p "$deb_PORT" shutdown nosave >/dev/null 2>&1
[ -z "$FIXTURES_ABSENT" ] || diag "not tested: the archive no longer has$FIXTURES_ABSENT"

echo "1..$TAP_N"
done_testing
