# fail-lib.sh: helpers for the failure catalogue (t/fail-*.t), sourced
# after t/lib.sh. Each case runs redprof once and then asserts the four
# things an SRE needs from a failure: its exit status, a message naming the
# problem and the fix, no probe of redprof's left in the kernel, and a
# target that still answers.

# rp ARGS...: redprof with a time limit, stdin from /dev/null, run through
# the command in the array RP_AS when set (e.g. setpriv); sets RC, OUT
# (standard output) and ERR (standard error).
RP_AS=()
rp() {
	OUT=$(timeout -k 5 30 "${RP_AS[@]}" "$REDPROF" "$@" </dev/null 2>"$TMPDIR_T/rp.err")
	RC=$?
	ERR=$(cat "$TMPDIR_T/rp.err")
}

# exits WANT CASE: RC is WANT.
exits() {
	is "$RC" "$1" "$2: exit status $1" || diag "  stderr: $(echo "$ERR" | head -5)"
}

# says PROBLEM FIX CASE: ERR matches both extended regular expressions.
says() {
	local problem=$1 fix=$2 d=$3
	echo "$ERR" | grep -qE -- "$problem" && echo "$ERR" | grep -qE -- "$fix"
	ok $? "$d: says '$problem' and '$fix'" || echo "$ERR" | head -5 | sed 's/^/#   got: /'
}

# ev_links: the perf_event links of programs named like redprof's (ev_*),
# as "LINK-ID PROG-ID" lines.
ev_links() {
	local link prog
	bpftool link show 2>/dev/null | awk '$2 == "perf_event" { print $1, $4 }' | tr -d : |
		while read -r link prog; do
			bpftool prog show id "$prog" 2>/dev/null | grep -q ' name ev_' && echo "$link $prog"
		done
}

# orphan_links: ev_* links whose program no process holds a perf event
# for: a probe that outlived its redprof. Other tests' redprof instances
# hold theirs (bpftool perf show lists them), so this is safe to run in
# parallel with them; a link seen twice, half a second apart, is reported.
orphan_links() {
	local held first
	orphans_once() {
		held=$(bpftool perf show 2>/dev/null | sed -n 's/.*prog_id \([0-9]*\) .*/\1/p')
		ev_links | while read -r link prog; do
			echo "$held" | grep -qx "$prog" || echo "$link"
		done
	}
	first=$(orphans_once)
	[ -z "$first" ] && return 0
	sleep 0.5
	for l in $(orphans_once); do
		echo "$first" | grep -qx "$l" && echo "$l"
	done
}

# nothing_attached TPID CASE: no uprobe on target TPID's executable is held
# by any process, and no redprof program's link outlived its process.
nothing_attached() {
	local tpid=$1 d=$2 held orphans
	held=$(bpftool perf show 2>/dev/null | grep -F "filename /proc/$tpid/exe ")
	orphans=$(orphan_links)
	[ -z "$held" ] && [ -z "$orphans" ]
	ok $? "$d: nothing attached (bpftool perf show, bpftool link show)" ||
		diag "  perf: $held; orphan links: $orphans"
}

# still_serves PORT CASE: the target answers PING.
still_serves() {
	[ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]
	ok $? "$2: the target still answers PING"
}

# refused CASE STATUS PROBLEM FIX TPID PORT ARGS...: redprof ARGS fails
# with STATUS and a message naming PROBLEM and FIX; afterwards nothing is
# attached to TPID and PORT answers. 4 assertions.
refused() {
	local d=$1 status=$2 problem=$3 fix=$4 tpid=$5 port=$6
	shift 6
	rp "$@"
	exits "$status" "$d"
	says "$problem" "$fix" "$d"
	nothing_attached "$tpid" "$d"
	still_serves "$port" "$d"
}

# evicting NAME: a server in eviction (maxmemory 20mb, allkeys-lru) filled
# past maxmemory; sets NAME_PORT and NAME_PID.
evicting() {
	local port
	start_redis "$1" --maxmemory 20mb --maxmemory-policy allkeys-lru
	eval "port=\$${1}_PORT"
	redis-benchmark -p "$port" -t set -n 50000 -r 1000000 -d 512 -c 4 -P 16 -q >/dev/null 2>&1
}

# load PORT N: N SETs of new keys in the background (each one evicts); sets LOAD_PID.
load() {
	redis-benchmark -p "$1" -t set -n "$2" -r 100000000 -d 512 -c 4 -q >/dev/null 2>&1 &
	LOAD_PID=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $LOAD_PID"
}

# around_capture PORT: a load that outlasts redprof's attach however long it
# takes (an offset file is made or cross-checked on the fly, slowly under the
# sanitizers); load_stop ends it once redprof is done.
around_capture() { load "$1" 1000000; }
load_stop() {
	kill "$LOAD_PID" 2>/dev/null
	wait "$LOAD_PID" 2>/dev/null
}
