#!/bin/bash
# offsets-refuse.t: an offset file that does not fit the executable, or does
# not parse, is refused before anything is attached, with a message naming
# the problem. The control is the file redprof generates for Debian 12's
# redis-server fixture (whichever revision the archive serves); each variant
# changes it in one way, derived from the file and from the binary's own
# symbols, program headers and gdb's disassembly, never from addresses of
# one build. Each variant goes through both ways a file reaches redprof:
# `redprof offsets show FILE BINARY` and `redprof -p PID --offsets FILE`
# against a running server of that build, where redprof must exit 3 at once
# with no output and (seen through strace) without a single bpf() or
# perf_event_open() call.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-cli readelf nm jq gdb strace valgrind

require_fixtures deb12u10
DEB=${BIN[deb12u10]}

# Debian's redis-server is a link to redis-check-rdb, which serves under that name.
REDIS_SERVER="$(dirname "$DEB")/redis-server"
start_redis deb
PID=$deb_PID

# --- the control file and the facts the variants are made of -------------
SHIPPED=$TMPDIR_T/control.offsets
timeout 60 "$REDPROF" offsets generate "$DEB" -o "$SHIPPED" 2>"$TMPDIR_T/gen.err" ||
	bail "offsets generate failed for $DEB: $(cat "$TMPDIR_T/gen.err")"
field() { awk -v k="$1" -v n="$2" '$1 == k { print $n; exit }' "$SHIPPED"; }
value_field() { awk -v v="$1" -v n="$2" '$1 == "value" && $2 == v { print $n; exit }' "$SHIPPED"; }
lineno() { grep -n "$1" "$SHIPPED" | head -n 1 | cut -d: -f1; }
BUILD_ID=$(field build-id 2)
FUNC=$(field function 2)
FN=$(field function 3)
FSIZE=$(field function 4)
SITE_LINE=$(grep '^site slowpath ' "$SHIPPED")
read -r _ _ SITE SITE_OFF SITE_CLS _ <<<"$SITE_LINE"
SITE_INSN=$(echo "$SITE_LINE" | cut -d'"' -f2)
SITE_N=${SITE#"$FUNC"+}
DEL_LINE=$(grep -m1 '^delete ' "$SHIPPED")
read -r _ DEL DEL_OFF _ <<<"$DEL_LINE"
PART=$(awk '$1 == "part" && $2 == "-" { print $3; exit }' "$SHIPPED")
OH_EXPR=$(value_field overhead 4) OH_FROM=$(value_field overhead 6)
TF_EXPR=$(value_field mem_tofree 4) TF_FROM=$(value_field mem_tofree 6)
MR_EXPR=$(value_field mem_reported 4) MR_FROM=$(value_field mem_reported 6)
MM=$(field global 3)
[ -n "$SITE" ] && [ -n "$DEL" ] && [ -n "$OH_EXPR" ] && [ -n "$TF_FROM" ] && [ "$(field global 2)" = maxmemory ] ||
	bail "the generated file lacks a slowpath site, a delete call, overhead, mem_tofree or maxmemory"

# Addresses from the binary's own symbols and program headers, lengths from gdb.
hex() { printf '0x%x' $(($1)); }
sym() { hex "0x$(nm -D "$DEB" | awk -v s="$1" '$3 == s { print $1; exit }')"; }
NOTCOUNTED=$(sym freeMemoryGetNotCountedMemory)
SERVER_SIZE=$(($(nm -D -S "$DEB" | awk '$4 == "server" { print "0x" $2; exit }')))
file_offset() { # ADDR: its offset in DEB's file, from the LOAD segment holding it
	local type off va fsz
	readelf -lW "$DEB" | while read -r type off va _ fsz _; do
		[ "$type" = LOAD ] && [ $(($1)) -ge $((va)) ] && [ $(($1)) -lt $((va + fsz)) ] &&
			printf '0x%x\n' $(($1 - va + off)) && break
	done
}
insn_len() { # ADDR: the length of gdb's instruction there
	gdb -batch -nx -ex "x/2i $1" "$DEB" 2>/dev/null | sed -nE 's/^ *(=> )?(0x[0-9a-f]+).*/\2/p' |
		{ read -r a; read -r b; echo $((b - a)); }
}
loc() { [ "${1%%+*}" = "$FUNC" ] && echo $((FN + ${1#*+})) || echo $(($1)); } # a file location as an address
is "$(sym "$FUNC")" "$(hex "$FN")" "the file's $FUNC is at the binary's symbol address ($(hex "$FN"))"
is "$(file_offset "$(loc "$SITE")")" "$SITE_OFF" "the file offset of $SITE is the one the program headers give"
[ "$(insn_len "$(loc "$SITE")")" -ge 2 ]
ok $? "the site's instruction ($SITE_INSN) is longer than one byte, so $FUNC+$((SITE_N + 1)) is inside it"

# variant NAME SED-ARGS...: the control file changed by sed (never a no-op); sets F.
variant() {
	local name=$1
	shift
	F="$TMPDIR_T/$name.offsets"
	sed "$@" "$SHIPPED" >"$F"
	cmp -s "$F" "$SHIPPED" && bail "variant $name leaves the control file unchanged"
}
# run_show FILE / run_pid FILE: set RC, OUT, ERR (and SECS, SYSCALLS for -p).
run_show() {
	OUT=$(timeout 30 "$REDPROF" offsets show "$1" "$DEB" 2>"$TMPDIR_T/err")
	RC=$?
	ERR=$(cat "$TMPDIR_T/err")
}
run_pid() {
	local t0 t1 tracer=(strace -f -qq -e trace=bpf,perf_event_open -o "$TMPDIR_T/strace")
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
		diag "  ${SECS}s, $SYSCALLS bpf()/perf_event_open() calls"
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

# --- control: the generated file fits -----------------------------------
run_show "$SHIPPED"
is "$RC" 0 "control: offsets show accepts the generated file"
echo "$OUT" | grep -qF "=> $SITE "
ok $? "control: offsets show marks the site $SITE in the disassembly"
run_pid "$SHIPPED"
is "$RC" 0 "control: -p --offsets with the generated file runs its 3 s and exits 0"
has "offsets: $SHIPPED (disasm strategy)" "control: -p says which file it uses"
echo "$OUT" | jq -e -s --arg s "$SITE" '.[-1] | .type == "total" and (.probe_hits.by_site | has($s))' >/dev/null 2>&1
ok $? "control: the JSON counts hits at the file's site $SITE"
[ "$SYSCALLS" -gt 0 ]
ok $? "control: strace sees its bpf()/perf_event_open() calls ($SYSCALLS), so their absence below means something"

# --- does not fit the executable ---------------------------------------
OTHER_ID=$(echo "$BUILD_ID" | sed 's/^./f/; t; s/^f/0/')
[ "$OTHER_ID" != "$BUILD_ID" ] || OTHER_ID=0${BUILD_ID#?}
unfit build-id "the file is for build-id $OTHER_ID, the executable's is $BUILD_ID" \
	"a build-id that is not the executable's" -e "s/^build-id $BUILD_ID/build-id $OTHER_ID/"

# One byte into the site's instruction: once with the site's file offset,
# once with its own (only the boundary check can tell), once as an address.
MIDLOC=$FUNC+$((SITE_N + 1))
MID=$(hex "$FN + SITE_N + 1")
MID_OFF=$(file_offset "$MID")
unfit off-boundary "site $MIDLOC ($MID) is not on an instruction boundary of $FUNC" \
	"a site inside the instruction at $SITE (file offset of $SITE)" \
	-e "s/^site slowpath $SITE $SITE_OFF /site slowpath $MIDLOC $SITE_OFF /"
unfit off-boundary-offset "site $MIDLOC ($MID) is not on an instruction boundary of $FUNC" \
	"a site inside the instruction at $SITE (file offset $MID_OFF, right for $MIDLOC)" \
	-e "s/^site slowpath $SITE $SITE_OFF /site slowpath $MIDLOC $MID_OFF /"
unfit off-boundary-abs "site $MIDLOC ($MID) is not on an instruction boundary of $FUNC" \
	"a site inside the instruction at $SITE, given as an address" \
	-e "s/^site slowpath $SITE $SITE_OFF /site slowpath $MID $MID_OFF /"
DEL_N=${DEL#"$FUNC"+}
unfit delete-off-boundary "delete site $FUNC+$((DEL_N + 1)) ($(hex "$FN + DEL_N + 1")) is not on an instruction boundary of $FUNC" \
	"a delete site inside the call at $DEL" \
	-e "s/^delete $DEL $DEL_OFF /delete $FUNC+$((DEL_N + 1)) $(file_offset "$(hex "$FN + DEL_N + 1")") /"
# An unnamed part (a .cold part the stripped binary has no symbol for): one byte into its first instruction.
if [ -n "$PART" ] && [ "$(insn_len "$PART")" -ge 2 ]; then
	unfit cold-off-boundary "site $(hex "$PART + 1") is not on an instruction boundary of the part reached by a jump there" \
		"a site inside the first instruction of the unnamed part at $PART" \
		-e "s/^site slowpath $SITE $SITE_OFF [a-z-]* disasm \"[^\"]*\"/site slowpath $(hex "$PART + 1") $(file_offset "$(hex "$PART + 1")") emulated disasm \"jmp 0x0\"/"
else
	diag "this build has no unnamed part with a first instruction longer than a byte: no site inside one to refuse"
fi

# --- outside the function ----------------------------------------------
NC_OFF=$(file_offset "$NOTCOUNTED")
unfit outside "site $(hex "$NOTCOUNTED") is outside $FUNC and its parts" \
	"a site at another function (freeMemoryGetNotCountedMemory)" \
	-e "s/^site slowpath $SITE $SITE_OFF [a-z-]* disasm \"[^\"]*\"/site slowpath $(hex "$NOTCOUNTED") $NC_OFF single-stepped disasm \"pushq %r12\"/"
unfit outside-part "site freeMemoryGetNotCountedMemory+0 ($(hex "$NOTCOUNTED")) is outside $FUNC and its parts" \
	"a site in another function the file declares a part of $FUNC" \
	-e "/^part /d" -e "/^inlined /a\\part freeMemoryGetNotCountedMemory $(hex "$NOTCOUNTED") 64" \
	-e "s/^site slowpath $SITE $SITE_OFF /site slowpath freeMemoryGetNotCountedMemory+0 $NC_OFF /"
END=$(hex "$FN + FSIZE")
unfit outside-end "site $END is outside $FUNC and its parts" \
	"a site just past the function's end (+$FSIZE)" \
	-e "s/^site slowpath $SITE $SITE_OFF /site slowpath $FUNC+$FSIZE $(file_offset "$END") /"
unfit function-moved "$FUNC is at $(hex "$FN") ($FSIZE bytes) in the executable, not $(hex "$FN + 1") ($FSIZE bytes)" \
	"a function address that is not the executable's" \
	-e "s/^function $FUNC $(hex "$FN") $FSIZE/function $FUNC $(hex "$FN + 1") $FSIZE/"

# --- registers that do not hold the value ------------------------------
# mem_tofree's last term, claimed from its first term's producer, which the
# verifier's reaching definitions contradict.
TF_REG=${TF_EXPR##*[-+]}
TF_P1=${TF_FROM%%,*} TF_P2=${TF_FROM##*,}
[ "$TF_P1" != "$TF_P2" ] || bail "mem_tofree's two terms share a producer ($TF_FROM): pick another pair"
unfit wrong-producer "mem_tofree at $SITE: $TF_REG is set by $TF_P2, not by the instruction the file names" \
	"$TF_REG claimed from $TF_P1, which is not the definition reaching the site" \
	-e "s/^value mem_tofree slowpath $TF_EXPR from $TF_FROM /value mem_tofree slowpath $TF_EXPR from $TF_P1,$TF_P1 /"
OH_N=${OH_FROM#"$FUNC"+}
unfit mem-producer "overhead at $SITE: the producer $FUNC+$((OH_N + 1)) is no instruction of $FUNC" \
	"a stack slot claimed from one byte into the instruction at $OH_FROM" \
	-e "s/^value overhead slowpath $OH_EXPR from $OH_FROM /value overhead slowpath [rsp+0x20] from $FUNC+$((OH_N + 1)) /"
if [ "$OH_EXPR" = rax ] && [ "$(insn_len "$(loc "$OH_FROM")")" = 5 ]; then
	unfit call-clobbered "overhead at $SITE: r11 holds no result of the call at $OH_FROM" \
		"r11 claimed from the call at $OH_FROM (a call leaves r11 undefined)" \
		-e "s/^value overhead slowpath rax from /value overhead slowpath r11 from /"
else
	diag "overhead is not rax from a call in this build: no caller-saved register to claim from it"
fi
unfit slot-not-stored "overhead at $SITE: $TF_P2 does not write [rsp+0x20]" \
	"a stack slot claimed from $TF_P2, which stores nothing there" \
	-e "s/^value overhead slowpath $OH_EXPR from $OH_FROM /value overhead slowpath [rsp+0x20] from $TF_P2 /"
unfit not-a-slot "overhead at $SITE: [rbx+0x20] is not a stack slot (rsp or rbp)" \
	"memory through a pointer register ([rbx+0x20]) as a value" \
	-e "s/^value overhead slowpath $OH_EXPR from $OH_FROM /value overhead slowpath [rbx+0x20] from $TF_P2 /"

# --- the site is not what the file says --------------------------------
WRONG_INSN=$(echo "$SITE_INSN" | sed -E 's/([0-9a-f])$/\1f/')
unfit wrong-insn "site $SITE: the instruction there is \"$SITE_INSN\", not \"$WRONG_INSN\"" \
	"wrong instruction text" -e "s/\"$SITE_INSN\"/\"$WRONG_INSN\"/"
unfit wrong-class "site $SITE: \"$SITE_INSN\" is emulated, not single-stepped" \
	"wrong instruction class" -e "s/ $SITE_OFF emulated / $SITE_OFF single-stepped /"
BAD_OFF=$(hex "$SITE_OFF - 1")
unfit wrong-file-offset "site $SITE: file offset $BAD_OFF is wrong (the binary has $SITE_OFF)" \
	"wrong file offset" -e "s/$SITE $SITE_OFF /$SITE $BAD_OFF /"
unfit global-outside "maxmemory: server+$SERVER_SIZE is outside server ($SERVER_SIZE bytes)" \
	"a global past the end of server" -e "s/^global maxmemory $MM /global maxmemory server+$SERVER_SIZE /"
unfit global-code "maxmemory: $(hex "$FN") is not in a writable segment" \
	"a global in the code" -e "s/^global maxmemory $MM /global maxmemory $(hex "$FN") /"
# Two slow-path sites: the exits' proof covers the ways out from one, and a
# second would start an evicting call's clock again.
if grep -q '^exit ' "$SHIPPED"; then
	unfit two-slowpath "exits need exactly one slowpath site to time evicting calls from (the file has 2)" \
		"a second slowpath site beside the exits" -e "/^site slowpath /{p;s/^site slowpath /site slowpath2 /}"
else
	diag "the generated file has no exits: no second slowpath site to refuse beside them"
fi

# --- values and counters that pass the checks on the code but are wrong --
# mem_used read as mem_reported: its registers and producers are proven, the runs show the value is not mem_used.
MR_EXPR=$(value_field mem_reported 4) MR_FROM=$(value_field mem_reported 6)
unfit wrong-value "mem_used at $SITE: $MR_EXPR is not mem_used in every run of $FUNC that evicts" \
	"mem_used read where mem_reported is" -e "s/^value mem_used slowpath [^ ]* from [^ ]* /value mem_used slowpath $MR_EXPR from $MR_FROM /"
# stat_evictedkeys moved onto another server field: only redprof's own analysis of the binary can tell.
EK=$(awk '$1 == "global" && $2 == "stat_evictedkeys" { print $3 }' "$SHIPPED")
NC=$(awk '$1 == "global" && $2 == "stat_numcommands" { print $3 }' "$SHIPPED")
variant moved-counter -e "s/^global stat_evictedkeys $EK /global stat_evictedkeys $NC /"
run_show "$F"
is "$RC" 3 "a counter moved to another field: offsets show exits 3"
has "redprof: $F reads a counter elsewhere than redprof finds it in $DEB: stat_evictedkeys: the file reads $NC" \
	"a counter moved to another field: offsets show names both readings"
has "redprof's own analysis of this executable finds $EK" "... redprof's own too"
run_pid "$F"
is "$RC" 3 "a counter moved to another field: -p --offsets exits 3"
has "--force-offsets uses the file anyway" "... and says how to use the file anyway"
attached_nothing "a counter moved to another field"
OUT=$(timeout 30 "$REDPROF" -p "$PID" --json -i 0.5 -d 2 --offsets "$F" --force-offsets 2>"$TMPDIR_T/err")
is "$?" 0 "--force-offsets uses it"
ERR=$(cat "$TMPDIR_T/err")
has "FORCED (--force-offsets): stat_evictedkeys: the file reads $NC" "... says so on standard error"
[ -n "$OUT" ] && echo "$OUT" | jq -e -s --arg nc "$NC" 'all(.offsets_forced | startswith("stat_evictedkeys: the file reads \($nc)"))' >/dev/null
ok $? "... and on every JSON line ($(echo "$OUT" | wc -l) lines)"

# --- malformed files: FILE:LINE ----------------------------------------
L_FUNC=$(lineno '^function ') L_SITE=$(lineno '^site ') L_BID=$(lineno '^build-id ')
L_OH=$(lineno '^value overhead ') L_MR=$(lineno '^value mem_reported ') L_FMT=$(lineno '^redprof-offsets ')
malformed unknown-key $((L_FUNC + 1)) "unknown key 'frobnicate'" "an unknown key" -e "${L_FUNC}a\\frobnicate yes"
malformed bad-number "$L_FUNC" "malformed size '${FSIZE}x1'" "a malformed decimal number" \
	-e "s/^function $FUNC $(hex "$FN") $FSIZE/function $FUNC $(hex "$FN") ${FSIZE}x1/"
malformed bad-hex "$L_SITE" "malformed file offset '${SITE_OFF}g': give a 0x-prefixed hexadecimal number" \
	"a malformed hexadecimal number" -e "s/ $SITE_OFF $SITE_CLS / ${SITE_OFF}g $SITE_CLS /"
malformed bad-offset "$L_SITE" "malformed offset in '$FUNC+${SITE_N}x': give NAME+DECIMAL" \
	"a malformed site offset" -e "s/^site slowpath $SITE /site slowpath $FUNC+${SITE_N}x /"
malformed dup-build-id $((L_BID + 1)) "duplicate build-id" "a second build-id" -e "${L_BID}a\\build-id $BUILD_ID"
malformed dup-value $((L_OH + 1)) "duplicate value for overhead" "a second value for overhead" \
	-e "${L_OH}p"
malformed dup-site $((L_SITE + 1)) "duplicate site 'slowpath'" "a second site of the same name" -e "${L_SITE}p"
malformed unterminated "$L_SITE" "unterminated quoted instruction" "an unterminated quote" \
	-e "s/\"$SITE_INSN\" slowpath/\"$SITE_INSN slowpath/"
malformed undefined-site "$L_OH" "overhead refers to site 'fastpath', which the file does not define" \
	"a value at a site the file does not define" -e 's/^value overhead slowpath /value overhead fastpath /'
malformed too-many-terms "$L_MR" "expression '$MR_EXPR+rcx+rdx-rsi-rdi' has more than 3 terms" \
	"an expression of more than 3 terms" \
	-e "s/^value mem_reported slowpath $MR_EXPR from $MR_FROM /value mem_reported slowpath $MR_EXPR+rcx+rdx-rsi-rdi from $MR_FROM,$TF_P2,$TF_P2,$TF_P2,$TF_P2 /"
malformed unknown-register "$L_OH" "unknown register 'rzx'" "an unknown register" \
	-e "s/^value overhead slowpath $OH_EXPR /value overhead slowpath rzx /"
malformed unknown-variable "$L_OH" "unknown variable 'overheads': give mem_reported, overhead, mem_used or mem_tofree" \
	"an unknown variable" -e 's/^value overhead /value overheads /'
malformed format-3 "$L_FMT" "format 3 is not supported: this redprof reads formats 1 to 2" "a future format version" \
	-e 's/^redprof-offsets [0-9]*$/redprof-offsets 3/'
# A required record that is missing is reported at the end of the file.
variant missing-build-id -e '/^build-id/d'
for way in show pid; do
	run_$way "$F"
	is "$RC" 3 "a file without build-id: $way exits 3"
	[[ "$ERR" == "redprof: $F: missing build-id"* ]]
	ok $? "a file without build-id: $way says FILE: missing build-id" || diag "  got: $ERR"
done
attached_nothing "a file without build-id"

# --- producers, stack slots, slow-path claims, strict numbers -----------
# An unclosed bracket once made the parser read past the end of the string:
# run it under valgrind too, so a read past the end fails whatever is there.
malformed unbalanced-bracket "$L_OH" "malformed expression '$OH_EXPR+[rsp': unbalanced brackets" \
	"an expression with an unclosed bracket ($OH_EXPR+[rsp)" \
	-e "s/^value overhead slowpath $OH_EXPR /value overhead slowpath $OH_EXPR+[rsp /"
valgrind -q --error-exitcode=99 "$REDPROF" offsets show "$F" "$DEB" >/dev/null 2>&1
is "$?" 3 "an unclosed bracket under valgrind: refused (exit 3), no invalid read (99)"
malformed octal-offset "$L_SITE" "malformed offset in '$FUNC+0$(printf '%o' "$SITE_N")': give NAME+DECIMAL" \
	"a site offset with a leading zero (+0$(printf '%o' "$SITE_N"), octal for $SITE_N)" \
	-e "s/^site slowpath $SITE /site slowpath $FUNC+0$(printf '%o' "$SITE_N") /"
# A site every call passes: the function's first instruction. Its text and
# class, in redprof's spelling, come from the refusal of a file that
# misnames them (the verifier checks those before the slow-path claim).
variant entry-text -e "s/^site slowpath $SITE $SITE_OFF [a-z-]* disasm \"[^\"]*\"/site slowpath $FUNC+0 $(file_offset "$FN") emulated disasm \"?\"/" -e '/^value /d'
run_show "$F"
ENTRY_INSN=$(echo "$ERR" | sed -n 's/.*the instruction there is "\(.*\)", not "?".*/\1/p')
variant entry-class -e "s/^site slowpath $SITE $SITE_OFF [a-z-]* disasm \"[^\"]*\"/site slowpath $FUNC+0 $(file_offset "$FN") emulated disasm \"$ENTRY_INSN\"/" -e '/^value /d'
run_show "$F"
ENTRY_CLS=emulated
case $ERR in *"is single-stepped, not emulated"*) ENTRY_CLS=single-stepped ;; esac
unfit not-slowpath "site $FUNC is marked slowpath, but it does not run only when mem_used > maxmemory" \
	"a site marked slowpath that every call passes (the first instruction, $ENTRY_INSN)" \
	-e "s/^site slowpath $SITE $SITE_OFF [a-z-]* disasm \"[^\"]*\"/site slowpath $FUNC+0 $(file_offset "$FN") $ENTRY_CLS disasm \"$ENTRY_INSN\"/" \
	-e '/^value /d'

# --- a shipped file that does not fit: refused, and one made instead --------
# The same off-boundary site, found by build-id in an offsets directory.
variant off-boundary -e "s/^site slowpath $SITE $SITE_OFF /site slowpath $MIDLOC $SITE_OFF /"
mkdir -p "$TMPDIR_T/shipped"
cp "$F" "$TMPDIR_T/shipped/broken.offsets"
OUT=$(timeout 30 "$REDPROF" -p "$PID" --json -i 0.5 -d 2 --offsets-dir "$TMPDIR_T/shipped" 2>"$TMPDIR_T/err")
RC=$?
ERR=$(cat "$TMPDIR_T/err")
is "$RC" 0 "a shipped file that does not fit: -p still runs and exits 0"
has "redprof: the shipped $TMPDIR_T/shipped/broken.offsets has this build-id but does not fit (site $MIDLOC ($MID) is not on an instruction boundary" \
	"... says the shipped file does not fit, and why"
has "redprof: offsets: generated on the fly (disasm strategy)" "... and uses one generated on the fly instead"
echo "$OUT" | jq -e -s --arg s "$SITE" --arg m "$MIDLOC" '.[-1] | .type == "total" and
	(.probe_hits.by_site | has($s)) and (.probe_hits.by_site | has($m) | not)' >/dev/null 2>&1
ok $? "... whose probe sits at $SITE, never at the shipped file's $MIDLOC"

redis-cli -p "$deb_PORT" ping >/dev/null 2>&1
ok $? "the server still answers after every refusal"
echo "1..$TAP_N"
done_testing
