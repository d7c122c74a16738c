#!/bin/bash
# e2e-payers.t: who eviction rounds ran for, on real servers with real
# uprobes. A Redis at maxmemory 20mb is driven by two clients of ours,
# each one connection with its own name (redis-cli reading a pipe): one
# sending only SET, the other only GET, at once. redprof must show both:
#   - each pair is a named client (its CLIENT ID) and the command it sent,
#     and never has more rounds than that client sent commands of the kind;
#   - rounds add up to the evicting calls, and their time to the total
#     eviction time;
#   - Debian's redis-server, which has no debug information, too: the
#     disasm strategy reads the offsets from its code, and they are the
#     debug information's on a build of the same source with it;
#   - a build where neither says says why it cannot tell;
#   - the offset file's members are checked like its other entries.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-server redis-cli jq gdb /usr/bin/python3

BUILDS="src-7.0.15-O2g src-8.0.2 src-valkey-8.1.1"
# shellcheck disable=SC2086
want_fixtures $BUILDS src-8.0.2-stripped src-7.0.15-O2g-stripped

N=20000
VALUE=$(printf '%01000d' 0)

# client NAME PORT COMMANDS-FILE: one connection named NAME sends the file; prints its CLIENT ID.
client() {
	{ printf 'CLIENT SETNAME %s\nCLIENT ID\n' "$1"; cat "$3"; } | redis-cli -p "$2" | sed -n 2p
}

check_build() { # NAME BINARY
	local name=$1 bin=$2 dir=$TMPDIR_T/$1 r port pid t sid gid rows i ep
	mkdir -p "$dir"
	r="p$$_${name//[^a-zA-Z0-9]/_}"
	REDIS_SERVER="$bin" start_redis "$r" --maxmemory 20mb --maxmemory-policy allkeys-lru
	eval "port=\$${r}_PORT pid=\$${r}_PID"
	fill_below_maxmemory "$port" redis-benchmark
	for i in $(seq $N); do echo "SET payer:$i $VALUE"; done >"$dir/sets"
	for i in $(seq $N); do echo "GET payer:$i"; done >"$dir/gets"

	start_redprof "$dir/out.jsonl" "$dir/err" -p "$pid" --json -i 0.5 --offsets-dir "$NO_OFFSETS"
	wait_lines "$dir/out.jsonl" 1
	ok $? "$name: redprof attached" || sed 's/^/#   /' "$dir/err"
	# Each pipeline is one connection; the server takes turns between them, so a GET
	# that comes right after a SET finds memory above the limit and pays a round.
	client setter "$port" "$dir/sets" >"$dir/setter.id" &
	gid=$(client getter "$port" "$dir/gets")
	wait $!
	sid=$(cat "$dir/setter.id")
	sleep 0.6
	kill -INT "$RP_PID"
	wait_exit "$RP_PID"
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
	t=$(tail -n 1 "$dir/out.jsonl")
	rows=$(jq -c '.payers.top[]' <<<"$t")

	[ "$(jq -r .type <<<"$t")" = total ] && [ "$(jq .evicting_calls <<<"$t")" -gt 100 ]
	ok $? "$name: totals, with $(jq .evicting_calls <<<"$t") evicting calls" || sed 's/^/#   /' "$dir/err"
	jq -se --argjson id "$sid" 'any(.client_id == $id and .client_name == "setter" and .command == "set" and
		.rounds > 0)' <<<"$rows" >/dev/null
	ok $? "$name: the SET client (setter, id $sid) paid for rounds: $(jq -c 'select(.client_name == "setter")' <<<"$rows")"
	jq -se --argjson id "$gid" 'any(.client_id == $id and .client_name == "getter" and .command == "get")' \
		<<<"$rows" >/dev/null
	ok $? "$name: the GET client (getter, id $gid) paid too: $(jq -c 'select(.client_name == "getter")' <<<"$rows" | paste -sd' ')"
	jq -se --argjson n "$N" 'all(.rounds <= $n)' <<<"$rows" >/dev/null
	ok $? "$name: no pair has more rounds than its client sent commands of the kind ($N)"
	# A named client pays only for what it sent: its SETs or GETs, or its own CLIENT commands; the
	# unnamed ones are this test's redis-cli calls (INFO, CONFIG SET, COMMAND DOCS) and the timer.
	jq -se 'all(if .client_name == "setter" then .command == "set" or (.command | startswith("client|"))
		elif .client_name == "getter" then .command == "get" or (.command | startswith("client|"))
		else .client_name == null end)' <<<"$rows" >/dev/null
	ok $? "$name: every named pair is its client and a command it sent: $(jq -c '[.client_name, .command]' <<<"$rows" | paste -sd' ')"
	# Exact but for a round in flight when an interval ended (counted where it started, paid where it ended).
	jq -e '.payers as $p | (([$p.top[].rounds] | add) + $p.rest.rounds + $p.outside_table.rounds + $p.unreadable -
		.evicting_calls | fabs) <= 2' <<<"$t" >/dev/null
	ok $? "$name: rounds add up to the evicting calls: $(jq -c '{evicting_calls, rest: .payers.rest.rounds, outside: .payers.outside_table.rounds, unreadable: .payers.unreadable}' <<<"$t")"
	jq -e '.payers as $p | (([$p.top[].evict_time_s] | add) + $p.rest.evict_time_s + $p.outside_table.evict_time_s) as $s |
		(.histograms.evict_latency_active | .sum * (if .unit == "ns" then 1e-9 elif .unit == "us" then 1e-6 else 1e-3 end)) as $all |
		($s - $all | fabs) <= 0.001 * $all + 1e-6' <<<"$t" >/dev/null
	ok $? "$name: their time adds up to the total eviction time: $(jq -c '{rounds_s: ([.payers.top[].evict_time_s] | add), active: .histograms.evict_latency_active | {sum, unit}}' <<<"$t")"
	ep=$(jq -c 'select(.type == "episode")' "$dir/out.jsonl" | head -n 1)
	[ -n "$ep" ] && jq -e '.payers as $p | (([$p.top[].rounds] | add) + $p.rest.rounds + $p.outside_table.rounds + $p.unreadable -
		.evicting_calls | fabs) <= 2 + 0.001 * .evicting_calls and any($p.top[]; .client_name == "setter")' \
		<<<"$ep" >/dev/null
	ok $? "$name: the storm episode says who paid too, its rounds its evicting calls: $(jq -c '{evicting_calls, top: [.payers.top[] | [.client_name, .command, .rounds]]}' <<<"$ep")"
}

# The members in the offset file are checked like every other entry: against redprof's own
# analysis of the executable, and for their form.
members() { # NAME BINARY
	local name=$1 bin=$2 f=$TMPDIR_T/$1.offsets cmd bad out rc want got cc e args
	"$REDPROF" offsets generate "$bin" -o "$f" 2>/dev/null
	cmd=$(awk '$1 == "member" && $2 == "client.cmd" { print $3 }' "$f")
	[ -n "$cmd" ] && grep -q '^global current_client server+[0-9]* dwarf$' "$f"
	ok $? "$name: the offset file has current_client and the members, from DWARF ($(grep -c '^member ' "$f") members)"
	# gdb, reading the same debug information its own way, as the oracle.
	args=()
	for e in 'client *)0)->id' 'client *)0)->cmd' 'client *)0)->name' 'redisObject *)0)->ptr' \
		'serverObject *)0)->ptr' 'redisCommand *)0)->fullname' 'serverCommand *)0)->fullname' \
		'redisCommand *)0)->name'; do
		args+=(-ex "print (long)&((struct $e")
	done
	# A struct the build does not have is an error gdb prints and goes past.
	want=$(gdb -batch -nx "${args[@]}" "$bin" 2>/dev/null | sed -n 's/^\$[0-9]* = //p' | head -5 | paste -sd' ')
	got=$(awk '$1 == "member" { printf "%s ", $3 }' "$f" | sed 's/ $//')
	is "$got" "$want" "$name: the members are where gdb finds client.id, .cmd, .name, the object's ptr, the command's name"
	cc=$(gdb -batch -nx -ex 'print (long)&server.current_client - (long)&server' "$bin" 2>/dev/null |
		sed -n 's/^\$[0-9]* = //p')
	is "$(awk '$1 == "global" && $2 == "current_client" { print $3 }' "$f")" "server+$cc" \
		"$name: current_client is where gdb finds server.current_client"
	bad=$((cmd + 8))
	sed "s/^member client.cmd $cmd /member client.cmd $bad /" "$f" >"$f.moved"
	out=$("$REDPROF" offsets show "$f.moved" "$bin" 2>&1 >/dev/null)
	rc=$?
	[ "$rc" = 3 ] && [[ $out = *"client.cmd: the file reads offset $bad, redprof's own analysis of this executable finds $cmd"* ]]
	ok $? "$name: a member moved by 8 bytes is refused, naming both readings" || diag "$rc: $out"
	sed "s/^member client.cmd $cmd /member client.cmd $((cmd + 4)) /" "$f" >"$f.odd"
	out=$("$REDPROF" offsets show "$f.odd" "$bin" 2>&1 >/dev/null)
	[[ $out = *"member client.cmd at $((cmd + 4)): not an aligned 8-byte field of a struct"* ]]
	ok $? "$name: a member off an 8-byte boundary does not parse" || diag "$out"
}

for name in $BUILDS; do
	[ -n "${BIN[$name]:-}" ] && members "$name" "${BIN[$name]}"
	[ -n "${BIN[$name]:-}" ] && check_build "$name" "${BIN[$name]}"
done

# Without debug information: the disasm strategy on the stripped copy gives what DWARF gives on the build.
if [ -n "${BIN[src-7.0.15-O2g]:-}" ] && [ -n "${BIN[src-7.0.15-O2g-stripped]:-}" ]; then
	"$REDPROF" offsets generate "${BIN[src-7.0.15-O2g]}" --strategy dwarf -o "$TMPDIR_T/dwarf.offsets" 2>/dev/null
	"$REDPROF" offsets generate "${BIN[src-7.0.15-O2g-stripped]}" -o "$TMPDIR_T/disasm.offsets" 2>/dev/null
	want=$(grep -E '^(global current_client|member) ' "$TMPDIR_T/dwarf.offsets" | awk '{ print $1, $2, $3 }')
	got=$(grep -E '^(global current_client|member) .* disasm$' "$TMPDIR_T/disasm.offsets" | awk '{ print $1, $2, $3 }')
	[ -n "$want" ] && [ "$got" = "$want" ]
	ok $? "src-7.0.15-O2g-stripped: the disasm strategy finds current_client and the members where DWARF has them ($(echo $got))"
fi
check_build deb12 /usr/bin/redis-server

# Clients that come and go (6000 connections of one SET each, in 3 s): each interval's pairs are
# drained as it ends, so the table never fills and every round is someone's.
start_redis churn --maxmemory 20mb --maxmemory-policy allkeys-lru
fill_below_maxmemory "$churn_PORT" redis-benchmark
start_redprof "$TMPDIR_T/churn.jsonl" "$TMPDIR_T/churn.err" -p "$churn_PID" --json -i 0.5 --offsets-dir "$NO_OFFSETS"
wait_lines "$TMPDIR_T/churn.jsonl" 1
/usr/bin/python3 "$top_srcdir/t/churn_clients.py" "$churn_PORT" 6000
sleep 0.6
kill -INT "$RP_PID"
wait_exit "$RP_PID"
redis-cli -p "$churn_PORT" shutdown nosave >/dev/null 2>&1
t=$(tail -n 1 "$TMPDIR_T/churn.jsonl")
jq -e '.payers as $p | .evicting_calls > 4000 and $p.outside_table.rounds == 0 and
	(([$p.top[].rounds] | add) + $p.rest.rounds + $p.unreadable - .evicting_calls | fabs) <= 2' <<<"$t" >/dev/null
ok $? "6000 clients that come and go: none left outside the table ($(jq .payers.table_size <<<"$t") pairs): $(jq -c '{evicting_calls, outside: .payers.outside_table.rounds, rest: .payers.rest.rounds}' <<<"$t")"

# Without debug information the offsets cannot be proven: redprof says so, and shows no table.
if [ -n "${BIN[src-8.0.2-stripped]:-}" ]; then
	REDIS_SERVER="${BIN[src-8.0.2-stripped]}" start_redis st --maxmemory 20mb --maxmemory-policy allkeys-lru
	start_redprof "$TMPDIR_T/st.jsonl" "$TMPDIR_T/st.err" -p "$st_PID" --json -i 0.5 --offsets-dir "$NO_OFFSETS"
	wait_lines "$TMPDIR_T/st.jsonl" 1
	kill -INT "$RP_PID"
	wait_exit "$RP_PID"
	t=$(tail -n 1 "$TMPDIR_T/st.jsonl")
	jq -e '(has("payers") | not) and (.unavailable.payers | test("current_client"))' <<<"$t" >/dev/null
	ok $? "src-8.0.2-stripped: no table, and why: $(jq -c .unavailable.payers <<<"$t")"
	redis-cli -p "$st_PORT" shutdown nosave >/dev/null 2>&1
fi
[ -z "$FIXTURES_ABSENT" ] || diag "not tested: the archive no longer has$FIXTURES_ABSENT"

echo "1..$TAP_N"
done_testing
