#!/bin/bash
# offsets-refuse.t: an offset file that does not fit the executable, or does
# not parse, is refused before anything is attached, with a message naming
# the problem. Each crafted variant of Debian 12's shipped deb12u10 file goes
# through both ways a file reaches redprof: `redprof offsets show FILE
# BINARY` against the deb12u10 fixture, and `redprof -p PID --offsets FILE`
# against a running server of that build, where redprof must exit 3 at once
# with no output and (seen through strace, when installed) without a single
# bpf() or perf_event_open() call. The unmodified file is the control.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-cli readelf nm jq

# The deb12u10 fixture: the binary `show` checks against and the server run.
require_fixtures deb12u10
DEB=${BIN[deb12u10]}
SHIPPED="$top_srcdir/offsets/debian12-redis-7.0.15-1-deb12u10.offsets"
BUILD_ID=a50d6825e71f1473372299161f75fe50e80452de
[ "$(readelf -n "$DEB" | awk '/Build ID:/ { print $3; exit }')" = "$BUILD_ID" ] ||
	bail "$DEB is not Debian's 7.0.15-1~deb12u10 build"
command -v strace >/dev/null 2>&1 && HAVE_STRACE=1 || HAVE_STRACE=0


# Debian's redis-server is a link to redis-check-rdb, which serves under that name.
REDIS_SERVER="$(dirname "$DEB")/redis-server"
start_redis deb
PID=$deb_PID

# Addresses from the binary's own symbol and program headers, not from redprof.
sym() { nm -D "$DEB" | awk -v s="$1" '$3 == s { print "0x" $1; exit }'; }
FN=$(sym performEvictions)
NOTCOUNTED=$(sym freeMemoryGetNotCountedMemory)
file_offset() { # ADDR: its offset in DEB's file, from the LOAD segment holding it
	local type off va fsz
	readelf -lW "$DEB" | while read -r type off va _ fsz _; do
		[ "$type" = LOAD ] && [ $(($1)) -ge $((va)) ] && [ $(($1)) -lt $((va + fsz)) ] &&
			printf '0x%x\n' $(($1 - va + off)) && break
	done
}
hex() { printf '0x%x' $(($1)); }
is "$FN" 0x000000000011da20 "performEvictions is at 0x11da20, as the shipped file says"

# variant NAME SED-ARGS...: the shipped file changed by sed (never a no-op); sets F.
variant() {
	local name=$1
	shift
	F="$TMPDIR_T/$name.offsets"
	sed "$@" "$SHIPPED" >"$F"
	cmp -s "$F" "$SHIPPED" && bail "variant $name leaves the shipped file unchanged"
}

# run_show FILE / run_pid FILE: set RC, OUT, ERR (and SECS, SYSCALLS for -p).
run_show() {
	OUT=$(timeout 30 "$REDPROF" offsets show "$1" "$DEB" 2>"$TMPDIR_T/err")
	RC=$?
	ERR=$(cat "$TMPDIR_T/err")
}
run_pid() {
	local t0 t1 tracer=()
	[ "$HAVE_STRACE" = 1 ] && tracer=(strace -f -qq -e trace=bpf,perf_event_open -o "$TMPDIR_T/strace")
	: >"$TMPDIR_T/strace"
	t0=$(date +%s%N)
	OUT=$(timeout 30 "${tracer[@]}" "$REDPROF" -p "$PID" --json -i 0.5 -d 3 --offsets "$1" 2>"$TMPDIR_T/err")
	RC=$?
	t1=$(date +%s%N)
	ERR=$(cat "$TMPDIR_T/err")
	SECS=$(((t1 - t0) / 1000000000))
	SYSCALLS=$(grep -cE '(bpf|perf_event_open)\(' "$TMPDIR_T/strace")
}

# has TEXT DESCRIPTION: ERR contains TEXT (a fixed string).
has() {
	case "$ERR" in
	*"$1"*) ok 0 "$2" ;;
	*) ok 1 "$2"; diag "  want: $1"; echo "got: $ERR" | sed 's/^/#   /' ;;
	esac
}

# attached_nothing DESCRIPTION: after run_pid, redprof left before attaching.
attached_nothing() {
	if [ -z "$OUT" ] && [ "$SECS" -lt 2 ] && [ "$SYSCALLS" -eq 0 ]; then
		ok 0 "$1: attached nothing (no output, exit after ${SECS}s, no bpf()/perf_event_open())"
	else
		ok 1 "$1: attached nothing"
		diag "  stdout: $(echo "$OUT" | head -c 200)"
		diag "  ${SECS}s, $SYSCALLS bpf()/perf_event_open() calls (strace: $HAVE_STRACE)"
	fi
}

# unfit NAME WHY DESCRIPTION SED-ARGS...: a file that parses but does not fit
# the executable; WHY is the verifier's reason, the same through both ways.
unfit() {
	local name=$1 why=$2 d=$3
	shift 3
	variant "$name" "$@"
	run_show "$F"
	is "$RC" 3 "$d: offsets show exits 3"
	has "redprof: $F does not fit $DEB: $why" "$d: offsets show says: $why"
	run_pid "$F"
	is "$RC" 3 "$d: -p --offsets exits 3"
	has "redprof: $F does not fit PID $PID: $why" "$d: -p --offsets says it"
	attached_nothing "$d"
}

# malformed NAME LINE MESSAGE DESCRIPTION SED-ARGS...: a file that does not
# parse: FILE:LINE: MESSAGE through both ways.
malformed() {
	local name=$1 line=$2 msg=$3 d=$4
	shift 4
	variant "$name" "$@"
	run_show "$F"
	is "$RC" 3 "$d: offsets show exits 3"
	has "redprof: $F:$line: $msg" "$d: offsets show says $name.offsets:$line: $msg"
	run_pid "$F"
	is "$RC" 3 "$d: -p --offsets exits 3"
	has "redprof: $F:$line: $msg" "$d: -p --offsets says it"
	attached_nothing "$d"
}

# --- control: the shipped file fits ------------------------------------
run_show "$SHIPPED"
is "$RC" 0 "control: offsets show accepts the shipped file"
echo "$OUT" | grep -q '=> performEvictions+222 .*je 0x11e111 .*emulated'
ok $? "control: offsets show marks the site performEvictions+222 in the disassembly"
run_pid "$SHIPPED"
is "$RC" 0 "control: -p --offsets with the shipped file runs its 3 s and exits 0"
has "offsets: $SHIPPED (disasm strategy)" "control: -p says which file it uses"
echo "$OUT" | jq -e -s '.[-1] | .type == "total" and (.probe_hits.by_site | has("performEvictions+222"))' \
	>/dev/null 2>&1
ok $? "control: the JSON counts hits at the file's site performEvictions+222"
if [ "$HAVE_STRACE" = 1 ]; then
	[ "$SYSCALLS" -gt 0 ]
	ok $? "control: strace sees its bpf()/perf_event_open() calls ($SYSCALLS), so their absence below means something"
else
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N # SKIP strace is not installed: the refusals are checked by output and time only"
fi

# --- does not fit the executable ---------------------------------------
unfit build-id \
	"the file is for build-id b50d6825e71f1473372299161f75fe50e80452de, the executable's is $BUILD_ID" \
	"a build-id that is not the executable's" \
	-e 's/^build-id a50d/build-id b50d/'

# performEvictions+222 is the 6-byte je; +223 is inside it. Once with the
# site's old file offset, once with +223's own (only the boundary check can
# tell), once as an absolute address.
SITE=$(hex "$FN + 222")
is "$(file_offset "$SITE")" 0x11dafe "the binary puts performEvictions+222 at file offset 0x11dafe"
MID=$(hex "$FN + 223")
MID_OFF=$(file_offset "$MID")
unfit off-boundary "site performEvictions+223 ($MID) is not on an instruction boundary of performEvictions" \
	"a site inside the je at +222 (file offset of +222)" \
	-e "s/^site slowpath performEvictions+222 0x11dafe /site slowpath performEvictions+223 0x11dafe /"
unfit off-boundary-offset "site performEvictions+223 ($MID) is not on an instruction boundary of performEvictions" \
	"a site inside the je at +222 (file offset $MID_OFF, right for +223)" \
	-e "s/^site slowpath performEvictions+222 0x11dafe /site slowpath performEvictions+223 $MID_OFF /"
unfit off-boundary-abs "site performEvictions+223 ($MID) is not on an instruction boundary of performEvictions" \
	"a site inside the je at +222, given as an address" \
	-e "s/^site slowpath performEvictions+222 0x11dafe /site slowpath $MID $MID_OFF /"
unfit delete-off-boundary "delete site performEvictions+754 (0x11dd12) is not on an instruction boundary of performEvictions" \
	"a delete site inside the call at +753" \
	-e 's/^delete performEvictions+753 0x11dd11 /delete performEvictions+754 0x11dd12 /'
# The unnamed .cold part at 0x60b66 starts with a 2-byte xor: 0x60b67 is inside it.
unfit cold-off-boundary "site 0x60b67 is not on an instruction boundary of the part reached by a jump there" \
	"a site inside an instruction of the unnamed part reached by the jump at +671" \
	-e 's/^site slowpath performEvictions+222 0x11dafe emulated disasm "je 0x11e111"/site slowpath 0x60b67 0x60b67 emulated disasm "jmp 0x11dcdb"/'

# --- outside the function ----------------------------------------------
NC_OFF=$(file_offset "$NOTCOUNTED")
unfit outside "site $(hex "$NOTCOUNTED") is outside performEvictions and its parts" \
	"a site at another function (freeMemoryGetNotCountedMemory)" \
	-e "s/^site slowpath performEvictions+222 0x11dafe emulated disasm \"je 0x11e111\"/site slowpath $(hex "$NOTCOUNTED") $NC_OFF single-stepped disasm \"pushq %r12\"/"
unfit outside-part "site freeMemoryGetNotCountedMemory+0 ($(hex "$NOTCOUNTED")) is outside performEvictions and its parts" \
	"a site in another function the file declares a part of performEvictions" \
	-e "s/^part - 0x60b66 0.*/part freeMemoryGetNotCountedMemory $(hex "$NOTCOUNTED") 64/" \
	-e "s/^site slowpath performEvictions+222 0x11dafe /site slowpath freeMemoryGetNotCountedMemory+0 $NC_OFF /"
END=$(hex "$FN + 2146")
unfit outside-end "site $END is outside performEvictions and its parts" \
	"a site just past the function's end (+2146)" \
	-e "s/^site slowpath performEvictions+222 0x11dafe /site slowpath performEvictions+2146 $(file_offset "$END") /"
unfit function-moved "performEvictions is at 0x11da20 (2146 bytes) in the executable, not 0x11da21 (2146 bytes)" \
	"a function address that is not the executable's" \
	-e 's/^function performEvictions 0x11da20 2146/function performEvictions 0x11da21 2146/'

# --- registers that do not hold the value ------------------------------
# rax at +222 is freeMemoryGetNotCountedMemory's result (+177), not
# zmalloc_used_memory's (+81): that call's rax is overwritten on the way.
unfit clobbered "overhead at performEvictions+222: rax is set by performEvictions+177, not by the instruction the file names" \
	"rax claimed from the zmalloc_used_memory call at +81" \
	-e 's/^value overhead slowpath rax from performEvictions+177 /value overhead slowpath rax from performEvictions+81 /'
unfit not-reaching-def "mem_used at performEvictions+222: rbx is set by performEvictions+203, not by the instruction the file names" \
	"rbx claimed from +86 (mov %rax,%rbx), which the cmova at +203 overwrites" \
	-e 's/^value mem_used slowpath rbx from performEvictions+203 /value mem_used slowpath rbx from performEvictions+86 /'
unfit wrong-producer "mem_tofree at performEvictions+222: r12 is set by performEvictions+190, not by the instruction the file names" \
	"r12 claimed from +203, an instruction that does not write r12" \
	-e 's/^value mem_tofree slowpath rbx-r12 from performEvictions+203,performEvictions+190 /value mem_tofree slowpath rbx-r12 from performEvictions+203,performEvictions+203 /'
unfit mem-producer "overhead at performEvictions+222: the producer performEvictions+178 is no instruction of performEvictions" \
	"a stack slot claimed from +178, inside the call at +177" \
	-e 's/^value overhead slowpath rax from performEvictions+177 /value overhead slowpath [rsp+0x20] from performEvictions+178 /'

# --- the site is not what the file says --------------------------------
unfit wrong-insn 'site performEvictions+222: the instruction there is "je 0x11e111", not "je 0x11e112"' \
	"wrong instruction text" -e 's/"je 0x11e111"/"je 0x11e112"/'
unfit wrong-class 'site performEvictions+222: "je 0x11e111" is emulated, not single-stepped' \
	"wrong instruction class" -e 's/ 0x11dafe emulated / 0x11dafe single-stepped /'
unfit wrong-file-offset "site performEvictions+222: file offset 0x11dafd is wrong (the binary has 0x11dafe)" \
	"wrong file offset" -e 's/performEvictions+222 0x11dafe /performEvictions+222 0x11dafd /'
unfit global-outside "maxmemory: server+4368 is outside server (4368 bytes)" \
	"a global past the end of server" -e 's/^global maxmemory server+3600 /global maxmemory server+4368 /'
unfit global-code "used_memory: 0x11da20 is not in a writable segment" \
	"a global in the code" -e 's/^global used_memory 0x25c798 /global used_memory 0x11da20 /'

# --- malformed files: FILE:LINE ----------------------------------------
malformed unknown-key 11 "unknown key 'frobnicate'" "an unknown key" -e '10a\frobnicate yes'
malformed bad-number 9 "malformed size '21x46'" "a malformed decimal number" \
	-e 's/^function performEvictions 0x11da20 2146/function performEvictions 0x11da20 21x46/'
malformed bad-hex 16 "malformed file offset '0x11dagf': give a 0x-prefixed hexadecimal number" \
	"a malformed hexadecimal number" -e 's/ 0x11dafe emulated / 0x11dagf emulated /'
malformed bad-offset 16 "malformed offset in 'performEvictions+22x': give NAME+DECIMAL" \
	"a malformed site offset" -e 's/^site slowpath performEvictions+222 /site slowpath performEvictions+22x /'
malformed dup-build-id 7 "duplicate build-id" "a second build-id" \
	-e "6a\\build-id $BUILD_ID"
malformed dup-value 24 "duplicate value for overhead" "a second value for overhead" \
	-e '23a\value overhead slowpath rax from performEvictions+177 disasm'
malformed dup-site 17 "duplicate site 'slowpath'" "a second site of the same name" \
	-e '16a\site slowpath performEvictions+222 0x11dafe emulated disasm "je 0x11e111" slowpath'
malformed unterminated 16 "unterminated quoted instruction" "an unterminated quote" \
	-e 's/"je 0x11e111" slowpath/"je 0x11e111 slowpath/'
malformed undefined-site 21 "overhead refers to site 'fastpath', which the file does not define" \
	"a value at a site the file does not define" -e 's/^value overhead slowpath /value overhead fastpath /'
malformed too-many-terms 20 "expression 'rax+rbx+r12-r12' has more than 3 terms" "an expression of 4 terms" \
	-e 's/^value mem_reported slowpath rax+rbx from performEvictions+177,performEvictions+203 /value mem_reported slowpath rax+rbx+r12-r12 from performEvictions+177,performEvictions+203,performEvictions+190,performEvictions+190 /'
malformed unknown-register 21 "unknown register 'rzx'" "an unknown register" \
	-e 's/^value overhead slowpath rax /value overhead slowpath rzx /'
malformed unknown-variable 21 "unknown variable 'overheads': give mem_reported, overhead, mem_used or mem_tofree" \
	"an unknown variable" -e 's/^value overhead /value overheads /'
malformed format-2 4 "format 2 is not supported: this redprof reads format 1" "a future format version" \
	-e 's/^redprof-offsets 1$/redprof-offsets 2/'
# A required record that is missing is reported at the end of the file.
variant missing-build-id -e '/^build-id/d'
for way in show pid; do
	run_$way "$F"
	is "$RC" 3 "a file without build-id: $way exits 3"
	echo "$ERR" | grep -qxF "redprof: $F: missing build-id"
	ok $? "a file without build-id: $way says FILE: missing build-id" || diag "  got: $ERR"
done
attached_nothing "a file without build-id"

# --- producers, stack slots, slow-path claims, strict numbers -----------
# An unclosed bracket once made the parser read past the end of the string:
# run it under valgrind too, so a read past the end fails whatever is there.
malformed unbalanced-bracket 21 "malformed expression 'rax+[rsp': unbalanced brackets" \
	"an expression with an unclosed bracket (rax+[rsp)" \
	-e 's/^value overhead slowpath rax /value overhead slowpath rax+[rsp /'
if command -v valgrind >/dev/null 2>&1; then
	valgrind -q --error-exitcode=99 "$REDPROF" offsets show "$F" "$DEB" >/dev/null 2>&1
	is "$?" 3 "an unclosed bracket under valgrind: refused (exit 3), no invalid read (99)"
else
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N # SKIP valgrind is not installed"
fi
unfit call-clobbered "overhead at performEvictions+222: r11 holds no result of the call at performEvictions+177" \
	"r11 claimed from the call at +177 (a call leaves r11 undefined)" \
	-e 's/^value overhead slowpath rax from /value overhead slowpath r11 from /'
unfit slot-not-stored "overhead at performEvictions+222: performEvictions+190 does not write [rsp+0x20]" \
	"a stack slot claimed from +190 (mov to r12, stores nothing)" \
	-e 's/^value overhead slowpath rax from performEvictions+177 /value overhead slowpath [rsp+0x20] from performEvictions+190 /'
unfit not-a-slot "overhead at performEvictions+222: [rbx+0x20] is not a stack slot (rsp or rbp)" \
	"memory through a pointer register ([rbx+0x20]) as a value" \
	-e 's/^value overhead slowpath rax from performEvictions+177 /value overhead slowpath [rbx+0x20] from performEvictions+203 /'
malformed octal-offset 16 "malformed offset in 'performEvictions+0336': give NAME+DECIMAL" \
	"a site offset with a leading zero (+0336, octal for 222)" \
	-e 's/^site slowpath performEvictions+222 /site slowpath performEvictions+0336 /'
unfit not-slowpath "site performEvictions+99 is marked slowpath, but it does not run only when mem_used > maxmemory" \
	"a site marked slowpath that every call passes (+99, jae after zmalloc_used_memory)" \
	-e 's/^site slowpath performEvictions+222 0x11dafe emulated disasm "je 0x11e111" slowpath/site slowpath performEvictions+99 0x11da83 emulated disasm "jae 0x11da8a" slowpath/' \
	-e '/^value /d' -e '$a\value mem_reported slowpath rbx from performEvictions+86 disasm'

# --- a shipped file that does not fit: refused, and one made instead --------
# The same off-boundary site, found by build-id in an offsets directory.
variant off-boundary -e "s/^site slowpath performEvictions+222 0x11dafe /site slowpath performEvictions+223 0x11dafe /"
mkdir -p "$TMPDIR_T/shipped"
cp "$F" "$TMPDIR_T/shipped/broken.offsets"
OUT=$(timeout 30 "$REDPROF" -p "$PID" --json -i 0.5 -d 2 --offsets-dir "$TMPDIR_T/shipped" 2>"$TMPDIR_T/err")
RC=$?
ERR=$(cat "$TMPDIR_T/err")
is "$RC" 0 "a shipped file that does not fit: -p still runs and exits 0"
has "redprof: the shipped $TMPDIR_T/shipped/broken.offsets has this build-id but does not fit (site performEvictions+223 ($MID) is not on an instruction boundary" \
	"... says the shipped file does not fit, and why"
has "redprof: offsets: generated on the fly (disasm strategy)" "... and uses one generated on the fly instead"
echo "$OUT" | jq -e -s '.[-1] | .type == "total" and (.probe_hits.by_site | has("performEvictions+222")) and
	(.probe_hits.by_site | has("performEvictions+223") | not)' >/dev/null 2>&1
ok $? "... whose probe sits at +222, never at the shipped file's +223"

redis-cli -p "$deb_PORT" ping >/dev/null 2>&1
ok $? "the server still answers after every refusal"
echo "1..$TAP_N"
done_testing
