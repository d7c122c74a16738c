#!/bin/bash
# model-refuse.t: an offset file that does not fit its build is refused by
# `redprof offsets show FILE BUILD` (exit 3) with the reason, without root:
# wrong build-id, a site off an instruction boundary, a wrong file offset,
# a register that does not hold the value, a producer that did not set it,
# a stack slot its producer does not write, and slowpath sites that run on
# calls that do not evict or run once per key. Each variant is made from
# the file redprof generates for a model build (t/model/) and every
# expected message is derived from that file and the binary, never from
# addresses written here. The unmodified files are the controls.
. "$top_srcdir/t/lib.sh"

MODELS="$top_builddir/t/model"
[ -r "$MODELS/builds" ] || bail "$MODELS/builds is missing: run make check, which builds the models first"

# Stripped builds: the disasm strategy, symbols from .dynsym only. redis7
# keeps its values in registers, valkey8 in performEvictions' stack slots.
REGS=$MODELS/evict-model-gcc-O2-redis7-stripped
SLOTS=$MODELS/evict-model-gcc-O2-valkey8-stripped

# base BINARY: generates its file into BASE and sets BIN, FN_ADDR, SITE
# (the slowpath site's location) and SITE_OFF (its file offset).
base() {
	BIN=$1
	BASE="$TMPDIR_T/$(basename "$1").offsets"
	timeout 60 "$REDPROF" offsets generate "$BIN" -o "$BASE" 2>"$TMPDIR_T/gen.err" ||
		bail "cannot generate the file of $BIN: $(cat "$TMPDIR_T/gen.err")"
	FN_ADDR=$(awk '$1 == "function" { print $3 }' "$BASE")
	SITE=$(awk '$1 == "site" && $NF == "slowpath" { print $3; exit }' "$BASE")
	SITE_OFF=$(awk '$1 == "site" && $NF == "slowpath" { print $4; exit }' "$BASE")
	[ -n "$SITE" ] || bail "the file of $BIN has no slowpath site"
	show "$BASE"
	is "$RC" 0 "control: offsets show accepts the file of $(basename "$BIN")" || diag "  $ERR"
}

# show FILE: offsets show FILE BIN; sets RC and ERR.
show() {
	timeout 60 "$REDPROF" offsets show "$1" "$BIN" >/dev/null 2>"$TMPDIR_T/err"
	RC=$?
	ERR=$(cat "$TMPDIR_T/err")
}

# variant NAME SED-ARGS...: BASE changed by sed (never a no-op); sets F.
variant() {
	local name=$1
	shift
	F="$TMPDIR_T/$name.offsets"
	sed "$@" "$BASE" >"$F"
	cmp -s "$F" "$BASE" && bail "variant $name leaves the file unchanged"
}

# refused NAME WHY DESCRIPTION SED-ARGS...: offsets show exits 3 saying
# "FILE does not fit BIN: WHY". With NAME ~REGEX, WHY is an extended regular
# expression (its literal parts through ere).
refused() {
	local name=$1 why=$2 d=$3 line
	shift 3
	variant "${name#\~}" "$@"
	show "$F"
	is "$RC" 3 "$d: offsets show exits 3"
	line="redprof: $F does not fit $BIN: "
	if [ "${name:0:1}" = "~" ]; then
		grep -qE "^$(ere "$line")($why)\$" <<<"$ERR"
	else
		grep -qxF "$line$why" <<<"$ERR"
	fi
	ok $? "$d: the reason is given" || { diag "  want: $why"; diag "  got:  $ERR"; }
}

hex() { printf '0x%x' $(($1)); }
# at LOC: the link-time address of NAME+N in the file's function.
at() { hex "$FN_ADDR + ${1#*+}"; }
# ere TEXT, bre TEXT: TEXT as a literal in an extended (grep -E) or basic (sed) regular expression.
ere() { sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$1"; }
bre() { sed 's/[][\.*^$/]/\\&/g' <<<"$1"; }

# --- registers ------------------------------------------------------------
base "$REGS"
BUILD_ID=$(awk '$1 == "build-id" { print $2 }' "$BASE")
OTHER_ID=$(tr '0-9a-f' '1-9a-f0' <<<"$BUILD_ID")
refused build-id "the file is for build-id $OTHER_ID, the executable's is $BUILD_ID" \
	"another build's build-id" -e "s/^build-id .*/build-id $OTHER_ID/"

SITE_N=${SITE#*+}
NEXT="performEvictions+$((SITE_N + 1))"
refused off-boundary "site $NEXT ($(at "$NEXT")) is not on an instruction boundary of performEvictions" \
	"the slowpath site one byte into its instruction" -e "s/^site slowpath $SITE /site slowpath $NEXT /"
DEL=$(awk '$1 == "delete" { print $2; exit }' "$BASE")
DEL_NEXT="performEvictions+$((${DEL#*+} + 1))"
refused delete-off-boundary "delete site $DEL_NEXT ($(at "$DEL_NEXT")) is not on an instruction boundary of performEvictions" \
	"a delete call site one byte into the call" -e "s/^delete $DEL /delete $DEL_NEXT /"
WRONG_OFF=$(hex "$SITE_OFF + 1")
refused file-offset "site $SITE: file offset $WRONG_OFF is wrong (the binary has $SITE_OFF)" \
	"a wrong file offset" -e "s/^site slowpath $SITE $SITE_OFF /site slowpath $SITE $WRONG_OFF /"

# A value read from one register: another register, then another producer.
read -r VAR REG PROD < <(awk '$1 == "value" && $4 ~ /^[a-z0-9]+$/ { print $2, $4, $6; exit }' "$BASE")
[ -n "$VAR" ] || bail "the file of $BIN has no value in a single register"
OTHER=r11
[ "$REG" = r11 ] && OTHER=r10
# Which of three reasons depends on what the code does with r11 on the way.
refused ~register "$(ere "$VAR at $SITE: $OTHER ")(is set by [^ ]+, not by the instruction the file names|$(ere "may not hold the value set at $PROD: ").*|$(ere "holds no result of the call at $PROD"))" \
	"$VAR claimed in $OTHER instead of $REG" -e "s/^value $VAR slowpath $REG from /value $VAR slowpath $OTHER from /"
refused producer "$VAR at $SITE: $REG is set by $PROD, not by the instruction the file names" \
	"$VAR claimed from the function's first instruction instead of $PROD" \
	-e "s/^value $VAR slowpath $REG from $PROD /value $VAR slowpath $REG from performEvictions /"

# --- slowpath sites that are not -------------------------------------------
# A slowpath site in the eviction loop: the first delete call, which runs only
# when evicting, but once per key.
read -r _ _ DEL_OFF DEL_CLASS DEL_STRATEGY DEL_INSN < <(awk '$1 == "delete" { print; exit }' "$BASE")
refused in-loop "site $DEL is marked slowpath, but it is in a loop: it can run more than once per call" \
	"a slowpath site at a delete call in the eviction loop" \
	-e "s/^site slowpath $SITE .*/site slowpath $DEL $DEL_OFF $DEL_CLASS $DEL_STRATEGY $DEL_INSN slowpath/" -e '/^value /d'

# A slowpath site at the function's first instruction, which every call
# runs. Its file offset, instruction and class come from the refusals of a
# site that gets them wrong, one at a time, as the verifier checks them.
entry_site() { # OFFSET INSN CLASS: the slowpath site line at performEvictions+0
	variant entry -e "s/^site slowpath $SITE .*/site slowpath performEvictions+0 $1 $3 disasm \"$2\" slowpath/" -e '/^value /d'
	show "$F"
}
entry_site 0x0 "?" emulated
ENTRY_OFF=$(sed -n 's/.*: file offset 0x0 is wrong (the binary has \(0x[0-9a-f]*\))$/\1/p' <<<"$ERR")
[ -n "$ENTRY_OFF" ]
ok $? "a site at the entry with file offset 0x0: refused, naming the right one ($ENTRY_OFF)" || diag "  $ERR"
entry_site "$ENTRY_OFF" "?" emulated
ENTRY_INSN=$(sed -n 's/.*: the instruction there is "\(.*\)", not "?"$/\1/p' <<<"$ERR")
[ -n "$ENTRY_INSN" ]
ok $? "... with a wrong instruction: refused, naming the right one ($ENTRY_INSN)" || diag "  $ERR"
entry_site "$ENTRY_OFF" "$ENTRY_INSN" single-stepped
case "$ERR" in
*"\"$ENTRY_INSN\" is emulated, not single-stepped") ENTRY_CLASS=emulated ;;
*) ENTRY_CLASS=single-stepped ;;
esac
entry_site "$ENTRY_OFF" "$ENTRY_INSN" "$ENTRY_CLASS"
is "$RC" 3 "a slowpath site at the entry ($ENTRY_INSN, $ENTRY_CLASS): offsets show exits 3"
grep -qxF "redprof: $F does not fit $BIN: site performEvictions is marked slowpath, but it does not run only when mem_used > maxmemory" <<<"$ERR"
ok $? "... because every call runs it" || diag "  $ERR"

# --- stack slots ------------------------------------------------------------
base "$SLOTS"
read -r VAR SLOT PROD < <(awk '$1 == "value" && $4 ~ /^\[r[sb]p\+0x[0-9a-f]+\]$/ { print $2, $4, $6; exit }' "$BASE")
[ -n "$VAR" ] || bail "the file of $BIN has no value in a single stack slot"
DISP=${SLOT#*+}
BESIDE="${SLOT%+*}+$(hex "${DISP%]} + 0x100")]"
refused slot "$VAR at $SITE: $PROD does not write $BESIDE" \
	"$VAR claimed in $BESIDE, a slot $PROD does not write" \
	-e "s/^value $VAR slowpath $(bre "$SLOT") from /value $VAR slowpath $BESIDE from /"
refused slot-pointer "$VAR at $SITE: [rbx+$DISP is not a stack slot (rsp or rbp)" \
	"$VAR read through rbx, no stack slot" \
	-e "s/^value $VAR slowpath $(bre "$SLOT") from /value $VAR slowpath [rbx+$DISP from /"

echo "1..$TAP_N"
done_testing
