#!/bin/bash
# cli.t: the command line and every bad input of redprof -p: each gets its
# exit code and one message naming the problem and the fix, never a crash
# or a hang.
. "$top_srcdir/t/lib.sh"

plan 42

# run ARGS...: runs redprof with a time limit; sets RC, OUT, ERR.
run() {
	OUT=$(timeout 20 "$REDPROF" "$@" 2>"$TMPDIR_T/err")
	RC=$?
	ERR=$(cat "$TMPDIR_T/err")
}

# refused RC PATTERN DESCRIPTION ARGS...: exit code and message.
refused() {
	local want=$1 pat=$2 d=$3
	shift 3
	run "$@"
	is "$RC" "$want" "$d: exit $want"
	echo "$ERR" | grep -qE "$pat"
	ok $? "$d: says '$pat'"
	[ "$(echo "$ERR" | grep -c .)" -le 3 ]
	ok $? "$d: a short message, no dump" || diag "$ERR"
}

run --help
is "$RC" 0 "--help exits 0"
echo "$OUT" | grep -q 'EXAMPLES' && echo "$OUT" | grep -q -- '--json'
ok $? "--help lists options and examples"
run --version
echo "$OUT" | grep -qE '^redprof [0-9]+\.[0-9]+'
ok $? "--version prints the version"

refused 2 'no target: give -p PID' "no PID"
refused 2 "invalid PID 'abc'" "a PID that is not a number" -p abc
refused 2 "interval 0 is too short|invalid interval '0'" "interval 0" -p 1 -i 0
refused 2 "invalid interval '-1'" "a negative interval" -p 1 -i -1
refused 2 "invalid duration 'soon'" "a garbage duration" -p 1 -d soon
refused 2 "name different units" "-u and -m together" -p 1 -u -m
refused 2 "invalid unit 'h'" "an unknown unit" -p 1 --units h

# A PID nobody has: the highest PIDs are free on a fresh machine.
nopid=4194303
while kill -0 $nopid 2>/dev/null; do nopid=$((nopid - 1)); done
refused 3 "no process with PID $nopid" "a PID with no process" -p $nopid

sleep 300 &
SLEEP_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $SLEEP_PID"
refused 3 "is not a Redis or Valkey server" "a PID that is not Redis" -p $SLEEP_PID

"$top_builddir/t/fixture-noevict" >"$TMPDIR_T/noevict.out" &
NOEVICT_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $NOEVICT_PID"
wait_lines "$TMPDIR_T/noevict.out" 1 5
refused 3 "without an eviction function" "a Redis-like binary without performEvictions" -p $NOEVICT_PID

# Privileges: a user without CAP_BPF, against its own server and root's.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && command -v redis-server >/dev/null; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
	start_redis root_owned
	# refused() runs "$REDPROF": point it at a wrapper that drops to nobody.
	REAL_REDPROF=$REDPROF
	REDPROF="$TMPDIR_T/as-nobody"
	printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all %s "$@"\n' \
		"$REAL_REDPROF" >"$REDPROF"
	chmod 755 "$REDPROF"
	chmod 755 "$TMPDIR_T"
	refused 4 "permission denied.*CAP_SYS_PTRACE" "an unprivileged user against root's Redis" \
		-p "$root_owned_PID" --text -d 1
	nobody_port=$(free_port)
	mkdir -p "$TMPDIR_T/nobody" && chown 65534 "$TMPDIR_T/nobody"
	as_nobody redis-server --port "$nobody_port" --bind 127.0.0.1 --save '' --dir "$TMPDIR_T/nobody" \
		>/dev/null 2>&1 &
	CLEANUP_PIDS="$CLEANUP_PIDS $!"
	answers "$nobody_port" 5 || bail "the unprivileged user's redis-server did not start"
	nobody_pid=$(info "$nobody_port" process_id)
	CLEANUP_PIDS="$CLEANUP_PIDS $nobody_pid"	# $! above is the wrapping subshell, not the server
	refused 4 "loading BPF programs: permission denied.*CAP_BPF" \
		"an unprivileged user against its own Redis (BPF refused)" -p "$nobody_pid" --text -d 1
	REDPROF=$REAL_REDPROF
elif [ "${CI:-}" = true ]; then
	bail "the privilege checks need root, setpriv and redis-server, which CI has"
else
	for i in $(seq 6); do TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP privilege checks need root, setpriv and redis-server"; done
fi

refused 2 "unexpected argument" "a stray argument" -p 1 extra
done_testing
