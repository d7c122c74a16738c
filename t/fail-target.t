#!/bin/bash
# fail-target.t: the failure catalogue, targets. Every PID a person might
# give redprof at 3 a.m. (none, not Redis, a zombie, a kernel thread, a
# thread of Redis, a server whose file was deleted or replaced, one it may
# not trace, one that stops or exits under it, one a second redprof also
# watches): each gets its exit status and a message naming the problem and
# the fix; afterwards no probe of redprof's is left and the target answers.
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fail-lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq bpftool setpriv

evicting main
PORT=$main_PORT
PID=$main_PID

# --- processes that are not a Redis server -----------------------------
nopid=4194303
while kill -0 $nopid 2>/dev/null; do nopid=$((nopid - 1)); done
refused "no such PID" 3 "no process with PID $nopid" "pgrep -a redis-server" "$nopid" "$PORT" -p $nopid --text -d 1

sleep 300 &
SLEEP_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $SLEEP_PID"
refused "not Redis (sleep)" 3 "PID $SLEEP_PID is not a Redis or Valkey server" "Give the PID of redis-server" \
	"$SLEEP_PID" "$PORT" -p $SLEEP_PID --text -d 1

# A parent that never reaps: its child stays a zombie.
(sleep 0.1 & exec sleep 300) &
REAPER=$!
CLEANUP_PIDS="$CLEANUP_PIDS $REAPER"
sleep 0.5
ZOMBIE=$(pgrep -P $REAPER)
[ "$(ps -o stat= -p "$ZOMBIE" | cut -c1)" = Z ] || bail "no zombie to test with"
refused "a zombie" 3 "PID $ZOMBIE has exited \(a zombie" "give the PID of a running redis-server" \
	"$ZOMBIE" "$PORT" -p "$ZOMBIE" --text -d 1

kthread=""
for s in /proc/[0-9]*/stat; do
	line=$(cat "$s" 2>/dev/null) || continue
	set -- ${line##*) }
	if (($7 & 0x200000)); then kthread=${s//[^0-9]/}; break; fi
done
if [ -n "$kthread" ]; then
	refused "a kernel thread" 3 "PID $kthread is a kernel thread" "give the PID of redis-server" \
		"$kthread" "$PORT" -p "$kthread" --text -d 1
else
	for _ in 1 2 3 4; do TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP no kernel thread is visible in this PID namespace"; done
fi

"$top_builddir/t/fixture-noevict" >"$TMPDIR_T/noevict.out" &
NOEVICT=$!
CLEANUP_PIDS="$CLEANUP_PIDS $NOEVICT"
wait_lines "$TMPDIR_T/noevict.out" 1 5
refused "Redis symbols, no eviction function" 3 "without an eviction function" "supports Redis 6.0 and later" \
	"$NOEVICT" "$PORT" -p "$NOEVICT" --text -d 1

# --- a thread of Redis, as top -H shows them ---------------------------
TID=$(ls "/proc/$PID/task" | grep -vx "$PID" | head -1)
[ -n "$TID" ] || bail "redis-server $PID has no second thread"
around_capture "$PORT"
rp -p "$TID" --json -i 0.5 -d 2
load_stop
exits 0 "a thread ID"
says "$TID is not a process but a thread .* of PID $PID" "using PID $PID" "a thread ID"
echo "$OUT" | tail -n 1 | jq -e --argjson pid "$PID" '.type == "total" and .pid == $pid and .keys_evicted > 0' >/dev/null
ok $? "a thread ID: its process is profiled, evictions seen: $(echo "$OUT" | tail -n 1 | jq -c '{pid, keys_evicted}')"
nothing_attached "$PID" "a thread ID"
still_serves "$PORT" "a thread ID"
rp offsets show -p "$TID"
exits 0 "offsets show -p a thread ID"
says "$TID is not a process but a thread .* of PID $PID" "using PID $PID" "offsets show -p a thread ID"

# --- a server whose executable was deleted, or replaced by rename -------
for how in deleted replaced; do
	mkdir -p "$TMPDIR_T/$how"
	cp "$(readlink -f /usr/bin/redis-server)" "$TMPDIR_T/$how/redis-server"
	REDIS_SERVER="$TMPDIR_T/$how/redis-server" evicting "$how"
	eval "port=\$${how}_PORT tpid=\$${how}_PID"
	build_id=$(readelf -n "$TMPDIR_T/$how/redis-server" | awk '/Build ID:/ { print $3 }')
	if [ $how = deleted ]; then
		rm "$TMPDIR_T/$how/redis-server"
	else
		cp /bin/true "$TMPDIR_T/$how/new" && mv -f "$TMPDIR_T/$how/new" "$TMPDIR_T/$how/redis-server"
	fi
	around_capture "$port"
	rp -p "$tpid" --json -i 0.5 -d 2
	load_stop
	exits 0 "an executable $how after start"
	echo "$OUT" | tail -n 1 | jq -e --arg id "$build_id" '.type == "total" and .build_id == $id and .keys_evicted > 0' \
		>/dev/null
	ok $? "an executable $how after start: the running build ($build_id) is profiled" ||
		diag "$(echo "$OUT" | tail -n 1 | jq -c '{build_id, keys_evicted}') $ERR"
	nothing_attached "$tpid" "an executable $how after start"
	still_serves "$port" "an executable $how after start"
done

# --- not allowed --------------------------------------------------------
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
as_nobody() { "${NOBODY[@]}" "$@"; }
chmod 755 "$TMPDIR_T"
RP_AS=("${NOBODY[@]}")
refused "an unprivileged user, root's Redis" 4 "reading the target's executable: permission denied" \
	"Run as root, or grant CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH" "$PID" "$PORT" \
	-p "$PID" --text -d 1
RP_AS=()
nobody_port=$(free_port)
mkdir -p "$TMPDIR_T/nobody" && chown 65534 "$TMPDIR_T/nobody"
as_nobody redis-server --port "$nobody_port" --bind 127.0.0.1 --save '' --dir "$TMPDIR_T/nobody" >/dev/null 2>&1 &
CLEANUP_PIDS="$CLEANUP_PIDS $!"
answers "$nobody_port" 5 || bail "the unprivileged user's redis-server did not start"
nobody_pid=$(info "$nobody_port" process_id)
CLEANUP_PIDS="$CLEANUP_PIDS $nobody_pid"
RP_AS=("${NOBODY[@]}")
refused "an unprivileged user, its own Redis" 4 "loading BPF programs: permission denied" \
	"Run as root, or grant CAP_BPF" "$nobody_pid" "$nobody_port" -p "$nobody_pid" --text -d 1
RP_AS=(setpriv --bounding-set -sys_ptrace)
refused "root without CAP_SYS_PTRACE, another user's Redis" 4 \
	"reading the target's executable: permission denied: redprof runs as root but without CAP_SYS_PTRACE" \
	"Run it where root keeps them" "$nobody_pid" "$nobody_port" -p "$nobody_pid" --text -d 1
RP_AS=()
# PID 1 may hold capabilities root here lacks (a sandbox's init): then the
# kernel refuses although redprof has all it asks for.
if ! readlink /proc/1/exe >/dev/null 2>&1; then
	refused "PID 1, which root may not trace here" 4 "permission denied although redprof has every capability" \
		"Check that PID 1 is the Redis server" 1 "$PORT" -p 1 --text -d 1
else
	for _ in 1 2 3 4; do TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP root may trace PID 1 on this machine"; done
fi

# --- a target that stops, or exits, under redprof -----------------------
kill -STOP "$PID"
rp -p "$PID" --json -i 0.5 -d 2
kill -CONT "$PID"
exits 0 "a SIGSTOPped target"
echo "$OUT" | jq -e -s 'length >= 4 and all(.calls == 0 and .commands == 0)' >/dev/null
ok $? "a SIGSTOPped target: intervals with no calls and no commands, not an error"
nothing_attached "$PID" "a SIGSTOPped target"
still_serves "$PORT" "a SIGSTOPped target, continued"

# Two at once on one server: each attaches its own probes and sees it all.
around_capture "$PORT"
"$REDPROF" -p "$PID" --json -i 0.5 -d 3 >"$TMPDIR_T/a.jsonl" 2>"$TMPDIR_T/a.err" &
A=$!
rp -p "$PID" --json -i 0.5 -d 3
wait "$A"
A_RC=$?
load_stop
is "$A_RC $RC" "0 0" "two instances: both exit 0"
a_keys=$(tail -n 1 "$TMPDIR_T/a.jsonl" | jq .keys_evicted)
b_keys=$(echo "$OUT" | tail -n 1 | jq .keys_evicted)
[ "${a_keys:-0}" -gt 1000 ] && [ "${b_keys:-0}" -gt 1000 ]
ok $? "two instances: both see the evictions ($a_keys, $b_keys keys)"
nothing_attached "$PID" "two instances"
still_serves "$PORT" "two instances"

# The target exits mid-capture: values read from its memory are marked
# unavailable in the interval it exited in, never reported as 0.
for fmt in json text; do
	evicting "exit_$fmt"
	eval "port=\$exit_${fmt}_PORT tpid=\$exit_${fmt}_PID"
	load "$port" 100000000
	start_redprof "$TMPDIR_T/exit.$fmt" "$TMPDIR_T/exit.$fmt.err" -p "$tpid" --$fmt -i 0.5
	sleep 1.8
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
	wait_exit "$RP_PID" 10
	kill "$LOAD_PID" 2>/dev/null
	RC=$EXIT_STATUS
	ERR=$(cat "$TMPDIR_T/exit.$fmt.err")
	exits 0 "the target exits ($fmt)"
	says "PID $tpid exited" "stopping" "the target exits ($fmt)"
	if [ $fmt = json ]; then
		# The interval the exit came in (left out only when it lasted under
		# 1 ms) and the total: no value read from the dead server's memory.
		jq -e -s 'def gone: .commands == null and .maxmemory == null and .used_memory == null
				and ([.unavailable.commands, .unavailable.maxmemory, .unavailable.used_memory]
				     | all(test("target had exited")));
			(.[-1].type == "total") and (.[-1] | gone)
			and ([.[] | select(.commands == null)] | all(gone))
			and ([.[] | select(.commands != null and .calls > 100)] | all(.commands > 0))' \
			"$TMPDIR_T/exit.json" >/dev/null
		ok $? "the target exits (json): commands, maxmemory, used memory unavailable after the exit, with the reason" ||
			jq -c '{type, commands, calls, unavailable}' "$TMPDIR_T/exit.json" | tail -3 | sed 's/^/#   /'
	else
		grep -q '^commands: unavailable ' "$TMPDIR_T/exit.text" &&
			grep -q '^commands unavailable: the target had exited' "$TMPDIR_T/exit.text" &&
			! grep -q '^commands: 0/s .* calls: [1-9]' "$TMPDIR_T/exit.text"
		ok $? "the target exits (text): 'commands: unavailable' and why, never 'commands: 0/s' beside calls" ||
			grep -E '^(commands|==)' "$TMPDIR_T/exit.text" | tail -4 | sed 's/^/#   /'
	fi
	nothing_attached "$tpid" "the target exits ($fmt)"
done

echo "1..$TAP_N"
done_testing
