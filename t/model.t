#!/bin/bash
# model.t: the analyser against the truth, in seconds, without root or
# network. t/model/ is a small model of Redis's eviction entry that `make
# check` builds with gcc -O2, gcc -O3 -flto and clang -O2, in three
# variants, each with DWARF, without, and stripped (t/model/build.sh).
# For every build and every strategy that applies (dwarf where there is
# DWARF, disasm always, and automatic), `redprof offsets generate` makes a
# file, and `offsets show` must accept it. Each file is then checked
# against the running model under gdb, as whatever user runs the suite:
#   - every value it gives equals, at every hit of its site, what the
#     driver passed for that call (the truth_* globals of driver.c);
#   - every site is hit once per call that evicts, never by one that does
#     not; the delete sites once per key evicted;
#   - every global reads, after each command, the counter the driver
#     computed, and is gdb's &server.MEMBER where the build has DWARF.
# A stripped build's files are checked on its DWARF twin (same build-id).
# The values each build must give are expected() below; what redprof does
# not find is reported in a diagnostic with redprof's reason.
. "$top_srcdir/t/lib.sh"

require_gdb_python
require_cmd jq
MODELS="$top_builddir/t/model"
[ -r "$MODELS/builds" ] || bail "$MODELS/builds is missing: run make check, which builds the models first"

ALL="mem_reported overhead mem_used mem_tofree"

# expected COMPILER VARIANT KIND STRATEGY: the values a file must give. The
# others are not found today (the notes say why); a file may give more.
expected() {
	case "$1/$2/$3/$4" in
	# DWARF's location lists end before the slow path, and the code keeps few values to it.
	clang-O2/redis7/dwarf/dwarf) echo "" ;;
	clang-O2/inlined/dwarf/dwarf) echo "overhead" ;;
	# mem_reported and the overhead are kept nowhere on the slow path before the loop.
	clang-O2/redis7/* | clang-O2/valkey8/dwarf/dwarf | gcc-O2/inlined/* | gcc-O3-lto/inlined/*)
		echo "mem_used mem_tofree" ;;
	*) echo "$ALL" ;;
	esac
}

# expected_globals COMPILER VARIANT KIND STRATEGY: likewise for the globals.
expected_globals() {
	local g="maxmemory stat_numcommands"
	# Only a one-word counter is a global; redprof runs the per-thread sum itself.
	[ "$2" = redis7 ] && g="$g used_memory"
	case "$1/$2/$3/$4" in
	# clang counts evicted and expired keys with one indexed increment the code alone does not resolve.
	clang-O2/valkey8/dwarf/dwarf | clang-O2/valkey8/dwarf/auto) g="$g stat_evictedkeys" ;;
	clang-O2/valkey8/*) ;;
	*) g="$g stat_evictedkeys" ;;
	esac
	echo "$g"
}

# The commands the model runs, USED,OVERHEAD,MAXMEMORY[,KEYS[,LAZY]] (keys of 4096 bytes).
# shellcheck disable=SC2054 # the commas are the driver's
SCENARIOS=(
	5000000,100000,0		# no maxmemory: performEvictions is not called
	5000000,100000,6000000		# under the limit as reported
	5000000,400000,4800000		# over as reported, under once the overhead is off
	5000000,5200000,4000000		# the overhead is more than all of it: mem_used 0
	5000000,150000,4840000		# evicts 10000 bytes: 3 keys
	5000000,100000,4800000,32,1	# lazy freeing: 25 keys, the lazy-free check after 16
	5000000,0,4990000		# no overhead at all
	5000000,100000,4000000,8	# cannot free enough: OOM after 8 keys
	5000000,100000,4000000,0,1	# no key at all (the cold path), lazy
	6000000000,1000,5999990000	# above 4 GiB
	5000000,150000,4849999		# one byte to free
)
EVICTING=7

# --- generate ----------------------------------------------------------
# generate BUILD STRATEGY: redprof offsets generate; sets RC, ERR and F (the file).
generate() {
	local opt=()
	[ "$2" = auto ] || opt=(--strategy "$2")
	F="$TMPDIR_T/$1.$2.offsets"
	timeout 60 "$REDPROF" offsets generate "$MODELS/$1" "${opt[@]}" -o "$F" 2>"$TMPDIR_T/gen.err"
	RC=$?
	ERR=$(cat "$TMPDIR_T/gen.err")
}

# notes: redprof's notes of the last generate, as diagnostics.
notes() {
	grep 'note:' "$TMPDIR_T/gen.err" | grep -v 'debug information:' | sed 's/^redprof: note: /  redprof: /' |
		while read -r l; do diag "$l"; done
}

# has_all FILE KEYWORD NAMES: the file has a KEYWORD (value, global) record for each name.
has_all() {
	local n
	for n in $3; do
		awk -v k="$2" -v n="$n" '$1 == k && $2 == n { f = 1 } END { exit !f }' "$1" || return 1
	done
}

# FILES[BINARY]: the files to check on the run of BINARY.
declare -A FILES
while read -r name compiler variant kind twin; do
	strategies="disasm auto"
	[ "$kind" = dwarf ] && strategies="dwarf disasm auto"
	if [ "$kind" != dwarf ]; then
		generate "$name" dwarf
		[ "$RC" = 3 ] && [[ "$ERR" == *"no DWARF for build-id"* ]]
		ok $? "$name: --strategy dwarf is refused: no DWARF" || diag "  exit $RC: $ERR"
	fi
	for s in $strategies; do
		generate "$name" "$s"
		is "$RC" 0 "$name: offsets generate ($s)" || { diag "  $ERR"; continue; }
		if [ "$s" = auto ] && [ "$kind" != dwarf ]; then
			# Without DWARF the automatic choice is the disasm strategy, file and all.
			cmp -s "$F" "$TMPDIR_T/$name.disasm.offsets"
			ok $? "$name: the automatic choice gives the disasm strategy's file" || diag "  $ERR"
			continue
		fi
		if [ "$s" = auto ]; then
			[[ "$ERR" == *"build-id "*": dwarf strategy"* ]]
			ok $? "$name: the automatic choice is the dwarf strategy" || diag "  $ERR"
		fi
		want=$(expected "$compiler" "$variant" "$kind" "$s")
		got=$(awk '$1 == "value" { printf " %s", $2 }' "$F")
		has_all "$F" value "$want"
		st=$?
		if [ "$want" = "$ALL" ]; then
			ok $st "$name ($s): all four values found"
		else
			ok $st "$name ($s): found at least: ${want:-no value}"
		fi
		[ "$got" = " $ALL" ] || { diag "  found:${got:- nothing}"; notes; }
		want=$(expected_globals "$compiler" "$variant" "$kind" "$s")
		has_all "$F" global "$want"
		ok $? "$name ($s): gives the globals $want" ||
			diag "  got: $(awk '$1 == "global" { printf "%s ", $2 }' "$F")"
		run=$name
		[ "$kind" = stripped ] && run=$twin
		for b in $name $run; do
			timeout 60 "$REDPROF" offsets show "$F" "$MODELS/$b" >/dev/null 2>"$TMPDIR_T/show.err"
			is "$?" 0 "$name ($s): offsets show accepts the file for $b" || diag "  $(cat "$TMPDIR_T/show.err")"
			[ "$b" = "$run" ] && break
		done
		FILES[$run]="${FILES[$run]:-} $F"
	done
done <"$MODELS/builds"

# --- run under gdb -------------------------------------------------------
# One line per check of a file against a run, "STATUS<TAB>DESCRIPTION<TAB>DETAIL",
# from the JSON lines model_oracle.py wrote (STATUS 0: the check holds).
cat >"$TMPDIR_T/check.jq" <<'EOF'
def records(k; n): [$file | split("\n")[] | [splits("[ \t]+")] | select(length > n and .[0] == k) | .[n]];
def line(holds; d; detail): "\(if holds then 0 else 1 end)\t\($f): \(d)\t\(detail | tojson)";
def per_call(calls): calls | group_by(.) | map({key: (.[0] | tostring), value: length}) | from_entries;
def early_sites: [$file | split("\n")[] | [splits("[ \t]+")] | select(length > 2 and .[0] == "site" and .[-1] == "early") | .[2]];
. as $h | map(select(.kind == "after")) as $after |
records("value"; 1) as $vals | early_sites as $early | (records("site"; 2) - $early) as $locs |
records("delete"; 1) as $dels | records("global"; 1) as $globs |
($vals[] as $v |
	[$h[] | select(.kind == "site" and ((.files[$f] // {}) | has($v)))] as $hits |
	([$hits[] | select(.files[$f][$v] != .truth[$v])] | .[0]) as $bad |
	line(($hits | length) >= $evicting and $bad == null; "\($v) is the driver's at every hit";
	     {hits: ($hits | length), first_wrong: $bad})),
($locs[] as $l |
	per_call([$h[] | select(.kind == "site" and .site == $l) | .truth.call]) as $c |
	[$after[] | {call: .truth.call, evicts: .truth.evicts, hits: ($c[.truth.call | tostring] // 0)} |
	 select(.hits != .evicts)] as $bad |
	line($bad == []; "\($l) is hit once per evicting call, never otherwise"; $bad)),
($early[] as $l |
	[$h[] | select(.kind == "early" and .site == $l)] as $hits |
	per_call([$hits[] | .truth.call]) as $c |
	([$hits[] | {call: .truth.call, over: .truth.mem_reported}] | map({key: (.call | tostring), value: .over}) |
	 from_entries) as $reported |
	[$after[] | {call: .truth.call, evicts: .truth.evicts, hits: ($c[.truth.call | tostring] // 0),
		over: (($reported[.truth.call | tostring] // 0) > .truth.maxmemory and .truth.maxmemory > 0)} |
	 select((.evicts == 1 and .hits != 1) or (.hits > 1) or (.hits == 1 and (.over | not)))] as $bad |
	line($bad == []; "\($l) (early) is hit once per evicting call, and only when mem_reported > maxmemory"; $bad)),
(if $dels == [] then line(false; "the file names the calls that delete keys"; null) else
	per_call([$h[] | select(.kind == "delete" and (.site as $s | $dels | index($s))) | .call]) as $c |
	[foreach $after[] as $a ({prev: 0}; {prev: $a.truth.stat_evictedkeys, call: $a.truth.call,
		keys: ($a.truth.stat_evictedkeys - .prev), hits: ($c[$a.truth.call | tostring] // 0)})] |
	map(select(.keys != .hits)) as $bad |
	line($bad == []; "its delete sites are hit once per key evicted"; $bad) end),
($globs[] as $g |
	([$after[] | select(.globals[$f][$g] != .truth[$g])] | .[0]) as $bad |
	line($bad == null; "global \($g) reads the driver's \($g) after every command"; $bad),
	($h[] | select(.kind == "layout") |
	 line(.files[$f][$g] == .dwarf[$g]; "global \($g) is gdb's address of it"; {file: .files[$f][$g], gdb: .dwarf[$g]})))
EOF

# check_file HITS FILE: the file's values, sites, deletes and globals against the truth.
check_file() {
	local st d detail
	while IFS=$'\t' read -r st d detail; do
		ok "$st" "$d" || diag "  $detail"
	done < <(jq -s -r -f "$TMPDIR_T/check.jq" --arg f "$(basename "$2" .offsets)" --rawfile file "$2" \
		--argjson evicting "$EVICTING" "$1")
}

# under_gdb BINARY: runs it under gdb with its files; gdb's log in BINARY.gdb, its exit status in BINARY.rc.
under_gdb() {
	local bin=$1 dwarf=0
	[[ "$bin" == *-g ]] && dwarf=1
	env PYTHONPATH="$top_srcdir/t" HITS="$TMPDIR_T/$bin.hits" OFFSET_FILES="${FILES[$bin]# }" DWARF=$dwarf \
		timeout 120 gdb -q -batch -nx -x "$top_srcdir/t/model_oracle.py" --args "$MODELS/$bin" "${SCENARIOS[@]}" \
		</dev/null >"$TMPDIR_T/$bin.gdb" 2>&1
	echo $? >"$TMPDIR_T/$bin.rc"
}

# The runs, as many at once as there are processors, then their checks in order.
RUNS=$(awk '$4 != "stripped" { print $1 }' "$MODELS/builds")
for bin in $RUNS; do
	[ -n "${FILES[$bin]:-}" ] || continue
	while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n; done
	under_gdb "$bin" &
done
wait
for bin in $RUNS; do
	[ -n "${FILES[$bin]:-}" ] || continue
	H="$TMPDIR_T/$bin.hits"
	grep -q 'exited normally' "$TMPDIR_T/$bin.gdb" && [ "$(grep -c '"kind": "after"' "$H")" = "${#SCENARIOS[@]}" ]
	ok $? "$bin: runs its ${#SCENARIOS[@]} commands under gdb to a normal exit" || {
		diag "  gdb exit $(cat "$TMPDIR_T/$bin.rc")"
		tail -5 "$TMPDIR_T/$bin.gdb" | while read -r l; do diag "  $l"; done
		continue
	}
	[ "$(jq -s '[.[] | select(.kind == "after" and .truth.evicts == 1)] | length' "$H")" = "$EVICTING" ]
	ok $? "$bin: $EVICTING of the commands evict"
	for f in ${FILES[$bin]}; do
		check_file "$H" "$f"
	done
done

echo "1..$TAP_N"
done_testing
