#!/bin/bash
# valgrind.t: `redprof offsets generate` and `offsets show`, which read
# executables redprof did not build, under valgrind's memcheck: no invalid
# read or write, no use of uninitialised memory, no definite leak, on
# Debian's redis-server, on our own small programs, and on a truncated copy.
# (A build with --enable-asan is checked by its sanitizers instead.)
. "$top_srcdir/t/lib.sh"

require_cmd valgrind
grep -q __asan_init "$REDPROF" && skip_all "this redprof is built with AddressSanitizer, which valgrind cannot run"

# memcheck WANT DESCRIPTION ARGS...: redprof ARGS exits WANT under memcheck (99: its errors).
memcheck() {
	local want=$1 d=$2
	shift 2
	timeout 300 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite "$REDPROF" "$@" >"$TMPDIR_T/out" 2>"$TMPDIR_T/err"
	is "$?" "$want" "$d: exit $want, memcheck clean" || grep -E '^==[0-9]+==' "$TMPDIR_T/err" | head -20 | sed 's/^/#   /'
}

plan 7
SERVER=$(readlink -f /usr/bin/redis-server)
[ -f "$SERVER" ] || bail "no /usr/bin/redis-server: run scripts/setup --tests"
memcheck 0 "offsets generate $SERVER" offsets generate "$SERVER" -o "$TMPDIR_T/server.offsets"
memcheck 0 "offsets generate --strategy disasm $SERVER" offsets generate --strategy disasm "$SERVER"
memcheck 0 "offsets show of that file, with the disassembly" offsets show "$TMPDIR_T/server.offsets" "$SERVER"
memcheck 3 "offsets generate of fixture-noevict (Redis symbols, no eviction function)" \
	offsets generate "$top_builddir/t/fixture-noevict"
memcheck 3 "offsets generate of fixture-pie (not Redis)" offsets generate "$top_builddir/t/fixture-pie"
head -c $(($(stat -c %s "$SERVER") / 2)) "$SERVER" >"$TMPDIR_T/cut"
memcheck 3 "offsets generate of a truncated copy" offsets generate "$TMPDIR_T/cut"
printf 'redprof-offsets 1\r\nbuild-id ab\r\nserver redis -\r\nfunction performEvictions 0x1 1\r\ninlined no\r\n' \
	>"$TMPDIR_T/crlf.offsets"
memcheck 0 "offsets show of a small CRLF file" offsets show "$TMPDIR_T/crlf.offsets"
done_testing
