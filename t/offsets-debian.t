#!/bin/bash
# offsets-debian.t: the shipped offset files of Debian's binaries. For
# Debian 12's 7.0.15-1~deb12u10 and ~deb12u7 and Debian 13's redis 8.0.2 and
# valkey 8.1.1, `redprof offsets generate` must write the shipped file byte
# for byte.
# Then the deb12u10 file is checked against gdb's own disassembly of
# performEvictions, independently of redprof: the instructions around the
# site are the ones quoted in CONTEXT.md, the site is a je (emulated), each
# register's producer is the instruction the file names and nothing writes
# the register between it and the site, and the globals are the server
# fields the code reads and increments. Debian 13's file gets the same
# checks on its own, differently shaped, code, where the counters are
# incremented in the callee that deletes the key, and so does Debian 13's
# valkey.
. "$top_srcdir/t/lib.sh"

require_cmd gdb readelf

FIXTURES="deb12u10 deb12u7 trixie-8.0.2 trixie-valkey-8.1.1"
# shellcheck disable=SC2086
require_fixtures $FIXTURES

plan 97

# --- generated = shipped -----------------------------------------------
declare -A SHIPPED=(
	[deb12u10]="$top_srcdir/offsets/debian12-redis-7.0.15-1-deb12u10.offsets"
	[deb12u7]="$top_srcdir/offsets/debian12-redis-7.0.15-1-deb12u7.offsets"
	[trixie-8.0.2]="$top_srcdir/offsets/debian13-redis-8.0.2-3-deb13u2.offsets"
	[trixie-valkey-8.1.1]="$top_srcdir/offsets/debian13-valkey-8.1.1-dfsg1-3-deb13u2.offsets"
)
for name in $FIXTURES; do
	gen="$TMPDIR_T/$name.offsets"
	timeout 60 "$REDPROF" offsets generate "${BIN[$name]}" >"$gen" 2>"$TMPDIR_T/$name.err"
	is "$?" 0 "$name: offsets generate succeeds"
	grep -q ": disasm strategy$" "$TMPDIR_T/$name.err"
	ok $? "$name: it says it used the disasm strategy (Debian's binaries have no DWARF)"
	if cmp -s "$gen" "${SHIPPED[$name]}"; then
		ok 0 "$name: the generated file equals the shipped $(basename "${SHIPPED[$name]}") byte for byte"
	else
		ok 1 "$name: the generated file equals the shipped one byte for byte"
		diff "${SHIPPED[$name]}" "$gen" | head -20 | sed 's/^/# /'
	fi
	is "$(awk '$1 == "build-id" { print $2 }' "${SHIPPED[$name]}")" \
		"$(readelf -n "${BIN[$name]}" | awk '/Build ID:/ { print $3; exit }')" \
		"$name: the shipped file's build-id is the binary's (readelf)"
	timeout 60 "$REDPROF" offsets show "${SHIPPED[$name]}" "${BIN[$name]}" >/dev/null 2>"$TMPDIR_T/$name.err"
	is "$?" 0 "$name: offsets show FILE BINARY accepts the shipped file"
done

# --- the deb12u10 file against gdb's disassembly -------------------------
B=${BIN[deb12u10]}
F=${SHIPPED[deb12u10]}

# disasm FUNCTION BINARY: gdb's listing, one "+OFF: insn operands" a line,
# with RIP-relative operands as SYMBOL+OFF(%rip) and branch targets as <+OFF>.
disasm() {
	gdb -batch -nx -ex "disassemble $1" "$2" 2>/dev/null | sed -nE '
		s/^ +0x[0-9a-f]+ <\+([0-9]+)>:\t/+\1: /
		T
		s/-?0x[0-9a-f]+\(%rip\)(.*) +# 0x[0-9a-f]+ <([^>]+)>$/\2(%rip)\1/
		s/-?0x[0-9a-f]+\(%rip\)(.*) +# (0x[0-9a-f]+)$/\2(%rip)\1/
		s/ (0x[0-9a-f]+) <'"$1"'(\+[0-9]+)?>/ <\2> \1/
		s/call +0x[0-9a-f]+ <([^>]+)>/call \1/
		s/ +/ /g
		s/ +$//
		p'
}
disasm performEvictions "$B" >"$TMPDIR_T/pe.s"
[ "$(wc -l <"$TMPDIR_T/pe.s")" -gt 400 ]
ok $? "gdb disassembles deb12u10's performEvictions ($(wc -l <"$TMPDIR_T/pe.s") instructions)"
at() { sed -n "s/^+$1: //p" "$TMPDIR_T/pe.s"; }

# CONTEXT.md's listing: the entry evaluation of getMaxmemoryState, inlined.
cat >"$TMPDIR_T/context.s" <<'EOF'
+81: call zmalloc_used_memory
+86: mov %rax,%rbx
+89: mov server+3600(%rip),%rax
+96: cmp %rbx,%rax
+99: jae <+106> 0x11da8a
+101: test %rax,%rax
+104: jne <+177> 0x11dad1
+177: call freeMemoryGetNotCountedMemory
+182: cmp %rbx,%rax
+185: jae <+106> 0x11da8a
+187: mov %rbx,%r13
+190: mov server+3600(%rip),%r12
+197: sub %rax,%r13
+200: cmp %r13,%rbx
+203: cmova %r13,%rbx
+207: cmp %rbx,%r12
+210: jae <+106> 0x11da8a
+212: cmpl $0x700,server+3616(%rip)
+222: je <+1777> 0x11e111
EOF
while IFS= read -r line; do
	off=${line%%:*}
	is "$(at "${off#+}" | sed "s/^/$off: /")" "$line" "gdb: $line"
done <"$TMPDIR_T/context.s"
# From the second call to the site the code runs straight: the listing has
# no other instruction there, and nothing else jumps into it.
is "$(awk -F: '{ o = substr($1, 2) + 0 } o >= 177 && o <= 222' "$TMPDIR_T/pe.s" | wc -l)" 12 \
	"gdb: +177..+222 is exactly those 12 instructions"
grep -E '<\+(18[2-9]|19[0-9]|2[01][0-9]|222)>' "$TMPDIR_T/pe.s" >"$TMPDIR_T/into"
is "$(wc -l <"$TMPDIR_T/into")" 0 "gdb: no jump in performEvictions lands in +182..+222"

# The site.
read -r _ sname sloc soff scls _ sinsn <<<"$(grep '^site ' "$F")"
is "$sloc $scls" "performEvictions+222 emulated" "the file's site is performEvictions+222, emulated"
is "$(gdb -batch -nx -ex 'x/2xb performEvictions+222' "$B" | awk '{ print $(NF-1), $NF }')" "0x0f 0x84" \
	"gdb: the bytes at +222 are 0f 84, a jcc rel32 (the kernel emulates it)"
is "$sinsn" "\"je 0x11e111\" slowpath" "the file's instruction is gdb's je <+1777> 0x11e111, on the slow path"
FN=$(gdb -batch -nx -ex 'print/x (long)&performEvictions' "$B" | awk '{ print $NF }')
load_offset() { # ADDR: its offset in the file, from the LOAD segment holding it
	local type off va fsz
	readelf -lW "$B" | while read -r type off va _ fsz _; do
		[ "$type" = LOAD ] && [ $(($1)) -ge $((va)) ] && [ $(($1)) -lt $((va + fsz)) ] &&
			printf '0x%x\n' $(($1 - va + off)) && break
	done
}
is "$soff" "$(load_offset $((FN + 222)))" "the file offset of the site is the binary's (readelf LOAD segments)"

# The values: each term's producer is what the file says, and nothing between it and the site writes it.
# written INSN: the register an instruction of the listing writes (none for compares and branches).
written() {
	case "$1" in
	cmp* | test* | j*) ;;
	call*) echo "%rax" ;;
	*) echo "${1##*,}" ;;
	esac
}
# untouched REG LO HI [LO HI]...: the instructions at offsets LO <= o < HI
# (the path from the producer to the site) that write REG; none, it is hoped.
untouched() {
	local reg=$1
	shift
	while [ $# -ge 2 ]; do
		awk -F': ' -v lo="$1" -v hi="$2" '{ o = substr($1, 2) + 0 } o >= lo && o < hi { print $2 }' \
			"$TMPDIR_T/pe.s"
		shift 2
	done | while IFS= read -r insn; do
		[ "$(written "$insn")" = "$reg" ] && echo "$insn"
	done
}
check_value() { # VAR EXPR PRODUCERS: the file's value line, then each term
	local var=$1 expr=$2 prods=$3 line
	line=$(grep "^value $var " "$F")
	is "$(echo "$line" | awk '{ print $3, $4, $6 }')" "$sname $expr $prods" "the file reads $var as $expr at the site"
}
check_value mem_reported rax+rbx performEvictions+177,performEvictions+203
check_value overhead rax performEvictions+177
check_value mem_used rbx performEvictions+203
check_value mem_tofree rbx-r12 performEvictions+203,performEvictions+190
is "$(at 177)" "call freeMemoryGetNotCountedMemory" "rax: +177 is the call returning overhead in rax"
is "$(untouched %rax 182 222)" "" "rax: nothing writes it between +177 and +222"
is "$(at 203)" "cmova %r13,%rbx" "rbx: +203 is cmova %r13,%rbx, mem_used = mem_reported - overhead"
is "$(untouched %rbx 207 222)" "" "rbx: nothing writes it between +203 and +222"
is "$(at 190)" "mov server+3600(%rip),%r12" "r12: +190 loads server+3600 (maxmemory)"
is "$(untouched %r12 197 222)" "" "r12: nothing writes it between +190 and +222"

# The globals: where the code reads and increments them.
grep -q '^global maxmemory server+3600 ' "$F" && [ "$(at 89)" = "mov server+3600(%rip),%rax" ]
ok $? "maxmemory is server+3600: the field getMaxmemoryState compares with (+89, +190)"
grep -q '^global stat_evictedkeys server+1264 ' "$F" && [ "$(at 788)" = 'addq $0x1,server+1264(%rip)' ]
ok $? "stat_evictedkeys is server+1264: gdb has addq \$0x1,server+1264(%rip) at +788, after the deletes"
disasm call "$B" | grep -A1 'subq $0x1,server+776(%rip)' | grep -q 'addq $0x1,server+1216(%rip)'
grep -q '^global stat_numcommands server+1216 ' "$F"
ok $? "stat_numcommands is server+1216: call() increments it after server.fixed_time_expire--"
um=$(awk '$1 == "global" && $2 == "used_memory" { print $3 }' "$F")
is "$(disasm zmalloc_used_memory "$B" | head -n 1)" "+0: mov $um(%rip),%rax" \
	"used_memory is $um: the word zmalloc_used_memory() returns"
is "$(at 753)" "call dbAsyncDelete" "gdb: +753 calls dbAsyncDelete"
is "$(at 1522)" "call dbSyncDelete" "gdb: +1522 calls dbSyncDelete"
grep -q '^delete performEvictions+753 .* "callq 0x94bd0"$' "$F" &&
	[ "$(gdb -batch -nx -ex 'print/x (long)&dbAsyncDelete' "$B" | awk '{ print $NF }')" = 0x94bd0 ]
ok $? "the file's delete at +753 calls dbAsyncDelete (0x94bd0)"
grep -q '^delete performEvictions+1522 .* "callq 0x94bc0"$' "$F" &&
	[ "$(gdb -batch -nx -ex 'print/x (long)&dbSyncDelete' "$B" | awk '{ print $NF }')" = 0x94bc0 ]
ok $? "the file's delete at +1522 calls dbSyncDelete (0x94bc0)"
grep -q '^part - 0x60b66 0' "$F" && [ "$(at 671)" = "ja 0x60b66" ]
ok $? "the unnamed part 0x60b66 is where the ja at +671 jumps (no symbol in the stripped binary)"

# --- Debian 13's 8.0.2: the same checks on other code ---------------------
T=${BIN[trixie-8.0.2]}
TF=${SHIPPED[trixie-8.0.2]}
disasm performEvictions "$T" >"$TMPDIR_T/pe.s"
grep -q '^site slowpath performEvictions+390 .* emulated disasm "je 0x19b485" slowpath$' "$TF" &&
	[ "$(at 390)" = "je <+2629> 0x19b485" ]
ok $? "trixie: the site +390 is gdb's je <+2629> 0x19b485"
is "$(at 361)" "call freeMemoryGetNotCountedMemory" "trixie: +361 calls freeMemoryGetNotCountedMemory (overhead in rax)"
is "$(at 371)" "sub %rax,%r12" "trixie: +371 is sub %rax,%r12 (mem_used)"
is "$(at 256)" "mov 0x1d80(%r14),%r13" "trixie: +256 loads maxmemory from 0x1d80(%r14)"
is "$(at 96)" "lea server(%rip),%r14" "trixie: r14 is &server (+96), so 0x1d80(%r14) is server+7552"
grep -q '^value mem_tofree slowpath r12-r13 from performEvictions+371,performEvictions+256 disasm$' "$TF" &&
	grep -q '^value overhead slowpath rax from performEvictions+361 disasm$' "$TF" &&
	grep -q '^global maxmemory server+7552 disasm$' "$TF"
ok $? "trixie: the file reads overhead = rax (+361), mem_tofree = r12 - r13, maxmemory at server+7552"
# The path from +256 to the site: +263..+271 (jb +361 taken), then +361..+390.
grep -E '<\+(36[1-9]|3[7-8][0-9]|390)>' "$TMPDIR_T/pe.s" >"$TMPDIR_T/into"
is "$(cat "$TMPDIR_T/into")" "+271: jb <+361> 0x19aba9" "trixie: only the jb at +271 jumps into +361..+390"
is "$(untouched %rax 366 390)" "" "trixie: nothing writes rax between +361 and +390"
is "$(untouched %r12 374 390)" "" "trixie: nothing writes r12 between +371 and +390"
is "$(untouched %r13 263 272 361 390)" "" "trixie: nothing writes r13 on the path from +256 to +390"

# The counters: Redis 8 increments stat_evictedkeys in deleteKeyAndPropagate
# (static, unnamed here), which also counts expired keys by notify_type.
xi() { # ADDR N: gdb's N instructions at ADDR, "insn operands" a line, ';'-joined
	gdb -batch -nx -ex "x/$2i $1" "$T" 2>/dev/null |
		sed -E 's/^ *0x[0-9a-f]+:\t//; s/ +# 0x[0-9a-f]+ <([^>]+)>$/ <\1>/; s/ +/ /g' | paste -sd';'
}
is "$(disasm deleteEvictedKeyAndPropagate "$T" | paste -sd';')" \
	'+0: endbr64;+4: mov %rdx,%rcx;+7: mov $0x200,%edx;+12: jmp 0xcc950' \
	"trixie: deleteEvictedKeyAndPropagate only sets notify_type = 0x200 (NOTIFY_EVICTED) and jumps to 0xcc950"
grep -q '^delete performEvictions+1952 0x19b1e0 emulated disasm "callq 0xcc950"$' "$TF" &&
	[ "$(at 1937)" = 'mov $0x200,%edx' ] && [ "$(at 1952)" = 'call 0xcc950' ]
ok $? "trixie: the file's delete at +1952 is gdb's call 0xcc950, with edx = 0x200 set at +1937"
is "$(xi 0xcc972 2)" 'mov %edx,-0x54(%rbp);lea 0x23f4c4(%rip),%r12 <server>' \
	"trixie: 0xcc950 keeps notify_type at -0x54(%rbp) and r12 = &server"
is "$(xi 0xccb6f 3)" 'cmpl $0x100,-0x54(%rbp);je 0xccbb0;addq $0x1,0x9e0(%r12)' \
	"trixie: when notify_type is not 0x100 (NOTIFY_EXPIRED) it increments server+0x9e0"
grep -q '^global stat_evictedkeys server+2528 disasm$' "$TF"
ok $? "trixie: so the file's stat_evictedkeys is server+2528 (0x9e0)"
for fn in call updateStatsOnUnblock; do
	disasm "$fn" "$T" >"$TMPDIR_T/$fn.s"
	grep -q 'lea server(%rip),%r14$' "$TMPDIR_T/$fn.s" && grep -q 'addq $0x1,0x9a8(%r14)$' "$TMPDIR_T/$fn.s"
	ok $? "trixie: $fn() increments 0x9a8(%r14) with r14 = &server"
done
grep -q '^global stat_numcommands server+2472 disasm$' "$TF"
ok $? "trixie: so the file's stat_numcommands is server+2472 (0x9a8), the field both increment"

# --- Debian 13's valkey 8.1.1: the same checks on its code -----------------
V=${BIN[trixie-valkey-8.1.1]}
VF=${SHIPPED[trixie-valkey-8.1.1]}
disasm performEvictions "$V" >"$TMPDIR_T/pe.s"
is "$(at 98)" "lea server(%rip),%rbx" "valkey: rbx is &server (+98)"
grep -q '^site slowpath performEvictions+330 .* emulated disasm "je 0x198fee" slowpath$' "$VF" &&
	[ "$(at 330)" = "je <+1406> 0x198fee" ]
ok $? "valkey: the site +330 is gdb's je <+1406> 0x198fee"
is "$(at 285)" "call freeMemoryGetNotCountedMemory" "valkey: +285 calls freeMemoryGetNotCountedMemory (overhead in rax)"
is "$(at 305)" "sub %rax,%r13" "valkey: +305 is sub %rax,%r13 (mem_used = mem_reported - overhead)"
is "$(at 298)" "mov 0x1438(%rbx),%r12" "valkey: +298 loads maxmemory from 0x1438(%rbx), server+5176"
grep -q '^value mem_tofree slowpath r13-r12 from performEvictions+305,performEvictions+298 disasm$' "$VF" &&
	grep -q '^value overhead slowpath rax from performEvictions+285 disasm$' "$VF" &&
	grep -q '^global maxmemory server+5176 disasm$' "$VF"
ok $? "valkey: the file reads overhead = rax (+285), mem_tofree = r13 - r12, maxmemory at server+5176"
grep -E '<\+(28[6-9]|29[0-9]|3[0-2][0-9]|330)>' "$TMPDIR_T/pe.s" >"$TMPDIR_T/into"
is "$(cat "$TMPDIR_T/into")" "" "valkey: no jump lands between +285 and the site"
is "$(untouched %rax 290 330)" "" "valkey: nothing writes rax between +285 and +330"
is "$(untouched %r13 308 330)" "" "valkey: nothing writes r13 between +305 and +330"
is "$(untouched %r12 305 330)" "" "valkey: nothing writes r12 between +298 and +330"
is "$(at 1021)" "call dbGenericDeleteWithDictIndex" "valkey: +1021 calls dbGenericDeleteWithDictIndex"
grep -q '^delete performEvictions+1021 0x198e6d emulated disasm "callq 0xc7ab0"$' "$VF"
ok $? "valkey: the file's delete call is that one"
is "$(at 1051)" 'addq $0x1,0x7f8(%rbx)' "valkey: +1051, after it, increments 0x7f8(%rbx)"
grep -q '^global stat_evictedkeys server+2040 disasm$' "$VF"
ok $? "valkey: so the file's stat_evictedkeys is server+2040 (0x7f8)"

done_testing
