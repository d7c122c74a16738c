#!/bin/bash
# fail-output.t: the failure catalogue, output. Standard output on a full
# file system, /dev/full, a pipe whose reader exits or stops reading: the
# capture stops with exit 1 and a message, a file keeps whole records only,
# and the total of everything captured goes to standard error. The same
# for the offset commands' output.
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fail-lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq bpftool

FULL=$TMPDIR_T/full
mkdir -p "$FULL"
mount -t tmpfs -o size=64k tmpfs "$FULL" || bail "cannot mount a 64 KiB tmpfs at $FULL"
trap 'umount "$FULL" 2>/dev/null; cleanup' EXIT

evicting main
PORT=$main_PORT
PID=$main_PID

# total_on_stderr CASE [JQ-CONDITION]: ERR ends with the total as a JSON
# line (meeting the condition), and redprof left nothing behind. 3 assertions.
total_on_stderr() {
	echo "$ERR" | grep '^{' | tail -n 1 | jq -e ".type == \"total\" and (${2:-true})" >/dev/null
	ok $? "$1: the total is on standard error${2:+ ($2)}"
	nothing_attached "$PID" "$1"
	still_serves "$PORT" "$1"
}

# --- a full file system -------------------------------------------------
for fmt in json text; do
	d="a full file system ($fmt)"
	rm -f "$FULL/out"
	load "$PORT" 200000
	timeout -k 5 30 "$REDPROF" -p "$PID" --$fmt -i 0.1 -d 20 >"$FULL/out" 2>"$TMPDIR_T/err" </dev/null
	RC=$?
	ERR=$(cat "$TMPDIR_T/err")
	load_stop
	exits 1 "$d"
	says "cannot write standard output \(No space left on device\)" "the total follows here" "$d"
	if [ $fmt = json ]; then
		lines=$(wc -l <"$FULL/out")
		parsed=$(jq -c .type "$FULL/out" 2>/dev/null | grep -c interval)
		[ "$lines" -gt 5 ] && [ "$parsed" = "$lines" ] && [ "$(tail -c 1 "$FULL/out" | od -An -c | tr -d ' ')" = '\n' ]
		ok $? "$d: the file holds $lines whole JSON lines, every one parses" || diag "  $parsed of $lines parse"
		total=$(echo "$ERR" | grep '^{' | tail -n 1)
		echo "$total" | jq -e --argjson calls "$(jq -s 'map(.calls) | add' "$FULL/out")" \
			'.type == "total" and .calls >= $calls and .keys_evicted > 0' >/dev/null
		ok $? "$d: the total on standard error counts at least every interval written" ||
			diag "  $(echo "$total" | cut -c1-200)"
	else
		[ "$(tail -c 1 "$FULL/out" | od -An -c | tr -d ' ')" = '\n' ] && grep -q '^Tracing ' "$FULL/out"
		ok $? "$d: the file ends with a whole block"
		echo "$ERR" | grep -qE '^commands: [0-9]+/s .* keys evicted: [0-9]+/s' && echo "$ERR" | grep -q '^== total over'
		ok $? "$d: the total block is on standard error"
	fi
	nothing_attached "$PID" "$d"
	still_serves "$PORT" "$d"
done

# --- appended (>>) to a file of earlier captures on a full file system ----
d="appended to earlier captures on a full file system"
rm -f "$FULL/out" "$FULL/filler"
# A line of 4090 bytes: the first record redprof appends needs a new page, which the full tmpfs refuses.
earlier=$(printf '{"type":"earlier capture","pad":"%s"}' "$(head -c 4056 /dev/zero | tr '\0' x)")
echo "$earlier" >"$FULL/out"
dd if=/dev/zero of="$FULL/filler" bs=4k 2>/dev/null
load "$PORT" 200000
timeout -k 5 30 "$REDPROF" -p "$PID" --json -i 0.1 -d 20 >>"$FULL/out" 2>"$TMPDIR_T/err" </dev/null
RC=$?
ERR=$(cat "$TMPDIR_T/err")
load_stop
rm -f "$FULL/filler"
exits 1 "$d"
[ "$(head -n 1 "$FULL/out")" = "$earlier" ] && jq -e . "$FULL/out" >/dev/null 2>&1 &&
	[ "$(tail -c 1 "$FULL/out" | od -An -c | tr -d ' ')" = '\n' ]
ok $? "$d: the earlier captures are kept, and only whole lines follow" || diag "  $(head -c 200 "$FULL/out")"
total_on_stderr "$d"

# --- /dev/full, and offsets' own output ----------------------------------
timeout -k 5 30 "$REDPROF" -p "$PID" --json -d 2 >/dev/full 2>"$TMPDIR_T/err" </dev/null
RC=$?
ERR=$(cat "$TMPDIR_T/err")
exits 1 "/dev/full"
says "cannot write standard output \(No space left on device\)" "the total follows here" "/dev/full"
total_on_stderr "/dev/full"

# A closed standard output: no file redprof opens may take its place.
timeout -k 5 30 "$REDPROF" -p "$PID" --json -d 1 >&- 2>"$TMPDIR_T/err" </dev/null
RC=$?
ERR=$(cat "$TMPDIR_T/err")
exits 1 "a closed standard output"
says "standard output is closed" "give redprof a file or a pipe to write to" "a closed standard output"
nothing_attached "$PID" "a closed standard output"
still_serves "$PORT" "a closed standard output"

timeout -k 5 30 "$REDPROF" offsets generate -p "$PID" >/dev/full 2>"$TMPDIR_T/err"
RC=$?
ERR=$(cat "$TMPDIR_T/err")
exits 1 "offsets generate to /dev/full"
says "cannot write the offset file to standard output \(No space left on device\)" "give -o FILE" \
	"offsets generate to /dev/full"
timeout -k 5 30 "$REDPROF" offsets show -p "$PID" >/dev/full 2>"$TMPDIR_T/err"
RC=$?
ERR=$(cat "$TMPDIR_T/err")
exits 1 "offsets show to /dev/full"
says "cannot write standard output \(No space left on device\)" "redprof" "offsets show to /dev/full"
timeout -k 5 30 "$REDPROF" offsets generate -p "$PID" -o "$FULL/big/x.offsets" 2>"$TMPDIR_T/err"
RC=$?
ERR=$(cat "$TMPDIR_T/err")
exits 1 "offsets generate -o into a missing directory"
says "cannot write $FULL/big/x.offsets" "No such file or directory" "offsets generate -o into a missing directory"

# --- a pipe whose reader exits ------------------------------------------
d="a closed pipe"
timeout -k 5 30 "$REDPROF" -p "$PID" --json -i 0.2 -d 20 2>"$TMPDIR_T/err" </dev/null | head -c 1 >/dev/null
RC=${PIPESTATUS[0]}
ERR=$(cat "$TMPDIR_T/err")
exits 1 "$d"
says "standard output was closed \(its reader exited\)" "the total follows here" "$d"
total_on_stderr "$d"

# --- a pipe whose reader stops reading, then SIGTERM ---------------------
# The pipe fills; a stop signal must still end redprof at once.
d="a pipe nobody reads, then SIGTERM"
mkfifo "$TMPDIR_T/fifo"
exec 7<>"$TMPDIR_T/fifo"
load "$PORT" 100000000
"$REDPROF" -p "$PID" --json -i 0.1 >"$TMPDIR_T/fifo" 2>"$TMPDIR_T/err" </dev/null &
rp_pid=$!
CLEANUP_PIDS="$CLEANUP_PIDS $rp_pid"
sleep 8	# 64 KiB of JSON lines, 3 KiB each 0.1 s: the pipe is full after about 2 s
kill -TERM $rp_pid
t0=$(date +%s%N)
wait_exit $rp_pid 5
t1=$(date +%s%N)
kill "$LOAD_PID" 2>/dev/null
exec 7<&-
RC=$EXIT_STATUS
ERR=$(cat "$TMPDIR_T/err")
exits 1 "$d"
[ $(((t1 - t0) / 1000000)) -lt 1000 ]
ok $? "$d: redprof stops within a second ($(((t1 - t0) / 1000000)) ms)"
says "stopped while standard output was not being read" "the total follows here" "$d"
# The capture ran 8 s, most of it blocked: the total covers it all.
total_on_stderr "$d" '.interval_s >= 7'

echo "1..$TAP_N"
done_testing
