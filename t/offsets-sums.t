#!/bin/bash
# offsets-sums.t: the sums redprof reads in BPF at each round's end (used
# memory, lazyfree's pending objects), found by running the server's own
# getters over made-up memory (`offsets show` prints them).
#   - every fixture build, Debian's included, has a used-memory formula,
#     and a stripped copy gives its unstripped build's formulas exactly;
#   - on every build that runs here, with I/O threads and a background
#     free so that several threads have counted memory, gdb stops the
#     server where its own zmalloc_used_memory() call returns and
#     evaluates the formula over its memory then: the two must be equal
#     (skipped, saying so, where link-time optimisation inlined every call;
#     e2e-freed.t checks the sums against INFO on live servers).
. "$top_srcdir/t/lib.sh"

require_cmd redis-server redis-cli redis-benchmark gdb nm
require_gdb_python

STATIC="bpo12-valkey deb12u10 deb12u7 trixie-8.0.2 trixie-valkey-8.1.1 src-6.0.16"
LIVE="src-7.0.15-O2g src-7.0.15-O2g-stripped src-7.0.15-O3lto src-7.0.15-clang src-8.0.2 src-8.0.2-stripped
src-8.0.2-clang src-8.0.2-clang-stripped src-valkey-8.1.1 src-valkey-8.1.1-stripped src-valkey-8.1.1-clang
src-valkey-8.1.1-clang-stripped"
# shellcheck disable=SC2086
want_fixtures $STATIC $LIVE

# sums BINARY: the lines `offsets show` prints for the sums.
sums() {
	local f=$TMPDIR_T/sums.offsets
	"$REDPROF" offsets generate "$1" -o "$f" 2>/dev/null && "$REDPROF" offsets show "$f" "$1" 2>/dev/null |
		sed -n '/^sums read at each round/,$p' | tail -n +2
}

declare -A LINES
for name in $STATIC $LIVE; do
	[ -n "${BIN[$name]:-}" ] || continue
	LINES[$name]=$(sums "${BIN[$name]}")
	grep -q '^  used memory  .*(zmalloc_used_memory)$' <<<"${LINES[$name]}" &&
		! grep -q 'not available' <<<"$(grep '^  used memory' <<<"${LINES[$name]}")"
	ok $? "$name: a used-memory formula: $(grep '^  used memory' <<<"${LINES[$name]}" | sed 's/^ *//')"
done
for name in $LIVE; do
	[[ $name = *-stripped ]] && [ -n "${LINES[$name]:-}" ] && [ -n "${LINES[${name%-stripped}]:-}" ] || continue
	is "${LINES[$name]}" "${LINES[${name%-stripped}]}" "$name: the formulas of its unstripped build"
done

# link BINARY: zmalloc_used_memory's link-time address, from the dynamic symbols or the full table.
link() {
	{ nm -D --defined-only "$1"; nm --defined-only "$1"; } 2>/dev/null |
		awk '$3 == "zmalloc_used_memory" { print $1; exit }'
}

live() { # NAME BINARY
	local name=$1 bin=$2 r port pid out f got n
	r="s$$_${name//[^a-zA-Z0-9]/_}"
	REDIS_SERVER="$bin" start_redis "$r" --io-threads 3 --lazyfree-lazy-user-del yes
	eval "port=\$${r}_PORT pid=\$${r}_PID"
	redis-benchmark -p "$port" -t set -n 10000 -r 100000 -d 256 -c 8 -q >/dev/null 2>&1
	# A big hash unlinked: the lazyfree thread frees it, counting memory of its own.
	redis-cli -p "$port" eval "for i = 1, 5000 do redis.call('hset', 'big', 'f' .. i, i) end" 0 >/dev/null
	redis-cli -p "$port" unlink big >/dev/null
	sleep 0.3
	out=$(SUM_LINE=$(grep '^  used memory' <<<"${LINES[$name]}") SUM_LINK=$(link "$bin") \
		timeout 60 gdb -batch -nx -p "$pid" -x "$top_srcdir/t/sums_gdb.py" 2>&1 |
		grep -E '^(formula |not called)')
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
	if [ "$out" = "not called" ]; then
		skip "$name: the used-memory formula against a call of zmalloc_used_memory" \
			"link-time optimisation inlined every call, so no call can be stopped at"
		return
	fi
	read -r _ f _ got _ n <<<"$out"
	[ -n "$f" ] && [ "$f" = "$got" ]
	ok $? "$name: the used-memory formula over the live server is what zmalloc_used_memory returned ($f, $got; count $n)" ||
		diag "$out"
}

LINES[deb12]=$(sums /usr/bin/redis-server)
live deb12 /usr/bin/redis-server
for name in $LIVE src-6.0.16; do
	[ -n "${BIN[$name]:-}" ] && live "$name" "${BIN[$name]}"
done
[ -z "$FIXTURES_ABSENT" ] || diag "not tested: the archive no longer has$FIXTURES_ABSENT"

echo "1..$TAP_N"
done_testing
