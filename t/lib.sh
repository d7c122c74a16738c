# lib.sh: shared helpers for redprof's shell tests (TAP, real Redis servers).
#
# Sourced by t/*.t under `make check`, which exports REDPROF (the built
# binary), top_srcdir and top_builddir. Every server and redprof started
# here is stopped by the EXIT trap, on every exit path.

set -u

TAP_N=0
TAP_FAILED=0
TMPDIR_T=$(mktemp -d "${TMPDIR:-/tmp}/redprof-test.XXXXXX")
# An offsets directory with no file: --offsets-dir "$NO_OFFSETS" makes redprof generate one.
NO_OFFSETS=$TMPDIR_T/no-offsets
mkdir "$NO_OFFSETS"
CLEANUP_PIDS=""

cleanup() {
	for p in $CLEANUP_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.2
	for p in $CLEANUP_PIDS; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$TMPDIR_T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

plan() { echo "1..$1"; }

ok() { # ok COND-STATUS DESCRIPTION: fails as the check did, for `|| diag`
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
		return 1
	fi
}

check() { # check DESCRIPTION COMMAND...: ok when COMMAND succeeds
	local d=$1
	shift
	"$@" >/dev/null 2>&1
	ok $? "$d"
}

is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "  got '$1', want '$2'"
		return 1
	fi
}

diag() { echo "# $*"; }

skip() { # skip DESCRIPTION REASON: a check that cannot run here, said so (never counted as a pass)
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

bail() { echo "Bail out! $*"; exit 1; }

done_testing() { [ "$TAP_FAILED" -eq 0 ]; }

# BPF tests need root and the uprobe PMU. Outside CI they skip with the
# reason; under CI=true a machine without them is a failure.
require_bpf() {
	local why=""
	[ "$(id -u)" -eq 0 ] || why="needs root for BPF uprobes"
	[ -r /sys/bus/event_source/devices/uprobe/type ] || why="kernel has no uprobe PMU"
	if [ -n "$why" ]; then
		[ "${CI:-}" = true ] && bail "BPF tests cannot run under CI=true: $why"
		skip_all "$why"
	fi
}

require_cmd() {
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			[ "${CI:-}" = true ] && bail "missing $c under CI=true"
			skip_all "missing $c (run scripts/test to install what the tests need)"
		fi
	done
}

# require_gdb_python: a gdb with Python, which the gdb oracle scripts need.
require_gdb_python() {
	require_cmd gdb
	if ! gdb -batch -nx -ex 'python print(1)' >/dev/null 2>&1; then
		[ "${CI:-}" = true ] && bail "this gdb has no Python, which the oracle scripts need"
		skip_all "this gdb has no Python, which the oracle scripts need"
	fi
}

# require_fixtures NAME...: the Redis builds NAME of t/fixtures.list
# (cached outside the repository, built when missing); sets BIN[NAME] to
# each one's server binary and says in a diagnostic when a fixture is not
# the pinned build (the archive moved on). When the archive has no build a
# record accepts any more, the test skips with that reason, which no rerun
# can fix; any other failure skips, or bails out under CI=true.
declare -A BIN
require_fixtures() {
	want_fixtures "$@"
	[ -z "$FIXTURES_ABSENT" ] || skip_all "the archive has no build of$FIXTURES_ABSENT any more ($(fixtures_why))"
}

# want_fixtures NAME...: as require_fixtures, but a fixture the archive no
# longer has is only left out of BIN (named in FIXTURES_ABSENT), for tests
# that go through a list and say which builds they could not test.
FIXTURES_ABSENT=""
want_fixtures() {
	local rc name path note why

	"$top_srcdir/t/fixtures.sh" "$@" >"$TMPDIR_T/fixtures.out" 2>"$TMPDIR_T/fixtures.log"
	rc=$?
	while read -r name path; do BIN[$name]=$path; done <"$TMPDIR_T/fixtures.out"
	for name in "$@"; do
		if [ -z "${BIN[$name]:-}" ]; then
			FIXTURES_ABSENT="$FIXTURES_ABSENT $name"
			continue
		fi
		note=$("$top_srcdir/t/fixtures.sh" --info "$name" | sed -n 's/^note: //p')
		[ -z "$note" ] || diag "fixture $name: $note"
	done
	[ "$rc" = 0 ] || [ "$rc" = 3 ] || {
		why="cannot build fixtures$FIXTURES_ABSENT: $(fixtures_why)"
		[ "${CI:-}" = true ] && bail "$why"
		skip_all "$why"
	}
	for name in $FIXTURES_ABSENT; do diag "fixture $name: $(fixtures_why "$name")"; done
}

# fixtures_why [NAME]: why NAME (every absent one by default) could not be had.
fixtures_why() {
	grep -F "${1:+] $1: }UNAVAILABLE: " "$TMPDIR_T/fixtures.log" | sed 's/.*UNAVAILABLE: //' | paste -sd';'
}

# gdb_redis NAME SCRIPT BINARY DIR [ENV=VALUE...]: redis-server BINARY in
# eviction (maxmemory 20mb, allkeys-lru, appendonly yes) under gdb running
# the Python SCRIPT with ENV (SCRIPT may import t/offsets_gdb.py), on a free
# loopback port; sets NAME_PORT, NAME_PID and NAME_GDB. Bails out when it
# does not answer.
gdb_redis() {
	local name=$1 script=$2 bin=$3 dir=$4 port gdb_pid
	shift 4
	port=$(free_port) || bail "no free port"
	mkdir -p "$dir"
	env PYTHONPATH="$top_srcdir/t" "$@" timeout 110 gdb -q -batch -nx -x "$script" --args "$bin" --port "$port" --bind 127.0.0.1 \
		--maxmemory 20mb --maxmemory-policy allkeys-lru --appendonly yes --save '' \
		--dir "$dir" --logfile "$dir/log" </dev/null >"$dir/gdb.log" 2>&1 &
	gdb_pid=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $gdb_pid"
	answers "$port" 30 "$gdb_pid" ||
		{ sed 's/^/# /' "$dir/gdb.log" | tail -20; bail "redis-server $name did not start under gdb"; }
	eval "${name}_PORT=$port ${name}_GDB=$gdb_pid ${name}_PID=$(info "$port" process_id)"
	CLEANUP_PIDS="$CLEANUP_PIDS $(info "$port" process_id)"
}

# evict_under_gdb NAME BENCHMARK SETS: drives server NAME of gdb_redis into
# eviction (filled to just under maxmemory, then SETS more SETs, each one
# evicting), shuts it down and waits for its gdb. Sets EVICTED and AOF
# (INFO's evicted_keys and aof_enabled before the shutdown) and EXIT_STATUS
# (gdb's).
evict_under_gdb() {
	local port gdb
	eval "port=\$${1}_PORT gdb=\$${1}_GDB"
	fill_below_maxmemory "$port" "$2"
	"$2" -p "$port" -t set -n "$3" -P 4 -c 4 -r 100000000 -d 512 -q >/dev/null 2>&1
	EVICTED=$(info "$port" evicted_keys)
	AOF=$(info "$port" aof_enabled)
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
	wait_exit "$gdb" 30
}

# traced_by_gdb PID: PID is under ptrace by gdb.
traced_by_gdb() {
	local tracer
	tracer=$(awk '$1 == "TracerPid:" { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$tracer" ] && [ "$tracer" != 0 ] && [ "$(cat "/proc/$tracer/comm" 2>/dev/null)" = gdb ]
}

# fill_below_maxmemory PORT BENCHMARK: SETs, pipelined, until used_memory is
# just under maxmemory (20mb), so that a bounded load after it evicts on
# every command while breakpoints stay few below it.
fill_below_maxmemory() {
	local port=$1 bench=$2 target=$((20 * 1024 * 1024 - 256 * 1024)) left
	for _ in $(seq 40); do
		left=$((target - $(info "$port" used_memory)))
		[ "$left" -lt 100000 ] && break
		"$bench" -p "$port" -t set -n $((left / 800 < 5000 ? left / 800 : 5000)) -P 32 -c 2 \
			-r 100000000 -d 512 -q >/dev/null 2>&1
	done
}

free_port() { "$top_srcdir/scripts/free-port"; }

# near A B PERCENT [SLACK]: A and B differ by at most PERCENT of B, or by SLACK (default 0).
near() {
	awk -v a="$1" -v b="$2" -v p="$3" -v s="${4:-0}" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= s || d * 100 <= p * b) }'
}

# start_redis NAME [redis-server options...]: a throwaway server on a free
# loopback port; sets NAME_PORT and NAME_PID. REDIS_SERVER picks the binary.
start_redis() {
	local name=$1 port dir pid try
	shift
	dir="$TMPDIR_T/$name"
	mkdir -p "$dir"
	# A test running in parallel can take the port between the check and
	# the bind: then try another one.
	for try in 1 2 3; do
		port=$(free_port) || bail "no free port"
		: >"$dir/log"
		"${REDIS_SERVER:-/usr/bin/redis-server}" --port "$port" --bind 127.0.0.1 --save '' \
			--appendonly no --dir "$dir" --logfile "$dir/log" "$@" &
		pid=$!
		CLEANUP_PIDS="$CLEANUP_PIDS $pid"
		answers "$port" 5 "$pid" && [ "$(info "$port" process_id)" = "$pid" ] && break
		[ $try -lt 3 ] && grep -q 'Address already in use' "$dir/log" && continue
		sed 's/^/# /' "$dir/log" 2>/dev/null | tail -5
		bail "redis-server $name did not start on port $port (see $dir/log)"
	done
	eval "${name}_PORT=$port ${name}_PID=$pid"
}

# answers PORT SECS [PID]: a Redis on PORT answers PING within SECS seconds
# (gives up early when process PID is gone).
answers() {
	for _ in $(seq $(($2 * 20))); do
		redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
		[ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# info PORT FIELD: one field of INFO.
info() {
	redis-cli -p "$1" info all | tr -d '\r' | sed -n "s/^$2://p"
}

# start_redprof OUT ERR ARGS...: redprof in the background; sets RP_PID.
start_redprof() {
	local out=$1 err=$2
	shift 2
	"$REDPROF" "$@" >"$out" 2>"$err" &
	RP_PID=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $RP_PID"
}

# wait_lines FILE N [SECS]: until FILE has N lines (redprof attached and reporting).
wait_lines() {
	local f=$1 n=$2 t=${3:-20}
	for _ in $(seq $((t * 20))); do
		[ "$(wc -l <"$f" 2>/dev/null || echo 0)" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_exit PID [SECS]: waits for a background job of this shell; sets
# EXIT_STATUS to its exit status, 124 on timeout (the job is then killed).
wait_exit() {
	local p=$1 t=${2:-20}
	for _ in $(seq $((t * 20))); do
		if ! kill -0 "$p" 2>/dev/null; then
			wait "$p"
			EXIT_STATUS=$?
			return 0
		fi
		sleep 0.05
	done
	kill -KILL "$p" 2>/dev/null
	EXIT_STATUS=124
}
