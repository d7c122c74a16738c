#!/bin/bash
# fail-signals.t: the failure catalogue, signals and time. redprof killed
# with SIGKILL, or interrupted at random moments while it attaches, leaves
# no probe behind and the target serving; SIGINT, SIGTERM and SIGHUP end a
# capture with its total; intervals and durations the clock cannot hold
# are refused, and a long interval waits without spinning.
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fail-lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq bpftool

evicting main
PORT=$main_PORT
PID=$main_PID

# stop_with SIG CASE FILE: SIG to the redprof of start_redprof ends it with
# exit 0 and its total last in FILE. 2 assertions.
stop_with() {
	kill -"$1" "$RP_PID"
	wait_exit "$RP_PID" 5
	RC=$EXIT_STATUS
	exits 0 "$2"
	tail -n 1 "$3" | jq -e '.type == "total"' >/dev/null
	ok $? "$2: the total of the whole capture is printed"
}

# --- SIGKILL mid-capture: the kernel removes the probes ----------------
load "$PORT" 60000
start_redprof "$TMPDIR_T/kill.jsonl" "$TMPDIR_T/kill.err" -p "$PID" --json -i 0.2
wait_lines "$TMPDIR_T/kill.jsonl" 2 10
attached=$(bpftool perf show | grep -cF "filename /proc/$PID/exe ")
[ "$attached" -gt 0 ]
ok $? "SIGKILL: redprof was attached ($attached perf-event uprobes) before the kill"
kill -KILL "$RP_PID"
wait_exit "$RP_PID" 5
RC=$EXIT_STATUS
exits 137 "SIGKILL"
wait "$LOAD_PID"
is "$?" 0 "SIGKILL: the load running through it completed"
nothing_attached "$PID" "SIGKILL"
still_serves "$PORT" "SIGKILL"

# --- SIGINT / SIGTERM at random moments while attaching ------------------
# redprof holds the stop signals from its start (SigBlk in /proc/PID/status)
# and stops cleanly, with a total, as soon as the probes are attached.
# (A background job of a script ignores SIGINT until then: bash's rule.)
held() { # PID: SIGINT (bit 2) and SIGTERM (bit 15) are blocked
	local blk
	blk=$(awk '$1 == "SigBlk:" { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$blk" ] && (((0x$blk & 0x4002) == 0x4002))
}
bad=""
for i in $(seq 12); do
	sig=INT
	[ $((i % 2)) = 0 ] && sig=TERM
	"$REDPROF" -p "$PID" --json -i 0.5 >"$TMPDIR_T/att.$i" 2>"$TMPDIR_T/att.$i.err" </dev/null &
	rp_pid=$!
	for _ in $(seq 200); do held $rp_pid && break; sleep 0.005; done
	sleep "0.$(printf '%03d' $((RANDOM % 400)))"
	kill -$sig $rp_pid
	wait_exit $rp_pid 10
	if [ "$EXIT_STATUS" != 0 ]; then
		bad="$bad $i:$sig:$EXIT_STATUS"
	elif ! tail -n 1 "$TMPDIR_T/att.$i" | jq -e '.type == "total"' >/dev/null 2>&1; then
		bad="$bad $i:$sig:no-total"
	fi
done
[ -z "$bad" ]
ok $? "SIGINT/SIGTERM while attaching: 12 rounds, each a clean stop (exit 0) with a total" || diag "  rounds:$bad"
nothing_attached "$PID" "SIGINT/SIGTERM while attaching"
still_serves "$PORT" "SIGINT/SIGTERM while attaching"

# --- each stop signal mid-capture gives the total ----------------------
for sig in INT TERM HUP; do
	start_redprof "$TMPDIR_T/$sig.jsonl" "$TMPDIR_T/$sig.err" -p "$PID" --json -i 0.3
	wait_lines "$TMPDIR_T/$sig.jsonl" 2 10
	stop_with $sig "SIG$sig mid-capture" "$TMPDIR_T/$sig.jsonl"
	nothing_attached "$PID" "SIG$sig mid-capture"
done
still_serves "$PORT" "stop signals mid-capture"

# Under nohup (SIGHUP ignored) a hangup does not end the capture.
env --ignore-signal=HUP "$REDPROF" -p "$PID" --json -i 0.3 >"$TMPDIR_T/nohup.jsonl" 2>"$TMPDIR_T/nohup.err" </dev/null &
RP_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $RP_PID"
wait_lines "$TMPDIR_T/nohup.jsonl" 2 10
kill -HUP "$RP_PID"
sleep 1
kill -0 "$RP_PID" 2>/dev/null
ok $? "SIGHUP under nohup: the capture goes on"
stop_with TERM "SIGHUP under nohup, then SIGTERM" "$TMPDIR_T/nohup.jsonl"
nothing_attached "$PID" "SIGHUP under nohup"

# --- intervals and durations the nanosecond clock cannot hold -------------
refused "interval 1e11 s" 2 "interval 1e11 is too long" "give 0.1 to 9223372036 seconds" "$PID" "$PORT" \
	-p "$PID" -i 1e11 -d 2
refused "duration 1e20 s" 2 "duration 1e20 is too long" "give at most 9223372036 seconds" "$PID" "$PORT" \
	-p "$PID" -d 1e20
refused "interval 1e-20 s" 2 "interval 1e-20 is too short" "give at least 0.1 seconds" "$PID" "$PORT" \
	-p "$PID" -i 1e-20
refused "interval inf" 2 "interval inf is too long" "give 0.1 to 9223372036 seconds" "$PID" "$PORT" -p "$PID" -i inf
refused "duration nan" 2 "invalid duration 'nan'" "greater than 0 and at most 9223372036" "$PID" "$PORT" \
	-p "$PID" -d nan

# The longest interval accepted waits in poll(), and a signal ends it.
start_redprof "$TMPDIR_T/long.jsonl" "$TMPDIR_T/long.err" -p "$PID" --json -i 9223372036
wait_lines "$TMPDIR_T/long.err" 1 10
ticks() { awk '{ print $14 + $15 }' "/proc/$RP_PID/stat"; }
cpu0=$(ticks)
sleep 2
cpu=$(($(ticks) - cpu0))
[ "$cpu" -lt 20 ]
ok $? "the longest interval: redprof waits without spinning (${cpu} ticks of CPU in 2 s; a spin takes 200)"
stop_with TERM "the longest interval, then SIGTERM" "$TMPDIR_T/long.jsonl"
nothing_attached "$PID" "the longest interval"
still_serves "$PORT" "the longest interval"

echo "1..$TAP_N"
done_testing
