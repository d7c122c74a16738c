#!/bin/bash
# offsets-strategies.t: the two ways of finding getMaxmemoryState's
# variables must agree. On every fixture each strategy that applies (disasm
# always, dwarf when the binary has DWARF) writes a file that `offsets show
# FILE BINARY` accepts, with the four variables at an emulated slow-path
# site; dwarf is refused, with the reason, where there is no DWARF. Where
# both apply they choose the same site, the same globals and expressions
# that are equal: as text (up to the order of terms) or, where the text
# differs, at run time: the server runs under gdb, which evaluates both
# files' expressions at each hit of the site, hit by hit. The pair the
# issue names is the dwarf strategy on src-7.0.15-O2g against the disasm
# strategy on its stripped copy (same build-id); src-8.0.2 and its stripped
# copy, where one reads [rbp-0x48] and the other [rsp+0x68], are checked the
# same way. Valkey 8.1 and its stripped copy must agree as text.
. "$top_srcdir/t/lib.sh"

require_cmd gdb readelf jq
if ! gdb -batch -nx -ex 'python print(1)' >/dev/null 2>&1; then
	[ "${CI:-}" = true ] && bail "this gdb has no Python, which the oracle script needs"
	skip_all "this gdb has no Python, which the oracle script needs"
fi

ALL="deb12u10 deb12u7 trixie-8.0.2 trixie-valkey-8.1.1 src-7.0.15-O2g src-7.0.15-O2g-stripped src-7.0.15-O3lto
src-7.0.15-clang src-6.0.16 src-8.0.2 src-8.0.2-stripped src-valkey-8.1.1 src-valkey-8.1.1-stripped"
# shellcheck disable=SC2086
require_fixtures $ALL


build_id() { readelf -n "$1" | awk '/Build ID:/ { print $3; exit }'; }
has_dwarf() { readelf -S "$1" | grep -q ' \.debug_info '; }

# slow_values FILE: the variables the file reads at an emulated slow-path site.
slow_values() {
	awk '$1 == "site" && $5 == "emulated" && $NF == "slowpath" { ok[$2] = 1 }
		$1 == "value" && ok[$3] { print $2 }' "$1" | sort | tr '\n' ' '
}
FOUR="mem_reported mem_tofree mem_used overhead "

# --- every fixture, each strategy that applies --------------------------
for name in $ALL; do
	b=${BIN[$name]}
	for s in disasm dwarf; do
		f="$TMPDIR_T/$name.$s.offsets"
		timeout 60 "$REDPROF" offsets generate "$b" --strategy "$s" -o "$f" 2>"$f.err"
		rc=$?
		if [ "$s" = dwarf ] && ! has_dwarf "$b"; then
			is "$rc" 3 "$name: --strategy dwarf is refused (no DWARF), exit 3"
			grep -q "no DWARF for build-id $(build_id "$b")" "$f.err"
			ok $? "$name: ... saying there is no DWARF for its build-id" || diag "$(cat "$f.err")"
			continue
		fi
		is "$rc" 0 "$name: offsets generate --strategy $s" || diag "$(cat "$f.err")"
		timeout 60 "$REDPROF" offsets show "$f" "$b" >/dev/null 2>"$f.show"
		is "$?" 0 "$name: offsets show accepts the $s file" || diag "$(cat "$f.show")"
		if [ "$name.$s" = src-7.0.15-clang.dwarf ]; then
			# clang's location lists for overhead, mem_used and mem_tofree end
			# before the slow path: only mem_reported is there for dwarf.
			is "$(slow_values "$f")" "mem_reported " \
				"$name: dwarf has mem_reported at an emulated slow-path site (DWARF has no other)"
			continue
		fi
		is "$(slow_values "$f")" "$FOUR" "$name: $s has all four variables at an emulated slow-path site"
	done
done

# clang: the notes say why each variable is missing; automatic mode takes
# the rest from the code.
f="$TMPDIR_T/src-7.0.15-clang.dwarf.offsets"
missing=0
for v in overhead mem_used mem_tofree; do
	grep -q "^redprof: note: $v: not found on the slow path: no DWARF location for $v " "$f.err" || missing=1
done
TAP_N=$((TAP_N + 1))
echo "$([ $missing = 0 ] || echo "not ")ok $TAP_N - src-7.0.15-clang: each dwarf note names the variable it is about"
[ $missing = 0 ] || grep note "$f.err" | sed 's/^/# /'
timeout 60 "$REDPROF" offsets generate "${BIN[src-7.0.15-clang]}" -o "$TMPDIR_T/clang.auto.offsets" 2>/dev/null
is "$(slow_values "$TMPDIR_T/clang.auto.offsets")" "$FOUR" \
	"src-7.0.15-clang: automatic mode has all four (dwarf, then disasm where DWARF has nothing)"

# --- build-ids ------------------------------------------------------------
is "$(build_id "${BIN[src-7.0.15-O2g-stripped]}")" "$(build_id "${BIN[src-7.0.15-O2g]}")" \
	"the stripped copy has the DWARF build's build-id"
ids=$(for n in src-7.0.15-O2g src-7.0.15-O3lto src-7.0.15-clang src-6.0.16 src-8.0.2; do build_id "${BIN[$n]}"; done)
is "$(echo "$ids" | grep -c '^[0-9a-f]\{40\}$')" 5 "the O2g, O3lto, clang, 6.0.16 and 8.0.2 builds each have a build-id"
is "$(echo "$ids" | sort -u | wc -l)" 5 "... and no two are the same"

# --- dwarf against disasm, as text -----------------------------------------
# Pairs: the dwarf file of a DWARF build, the disasm file of the same build-id.
declare -A PAIR=(
	[src-7.0.15-O2g]=src-7.0.15-O2g-stripped [src-7.0.15-O3lto]=src-7.0.15-O3lto
	[src-7.0.15-clang]=src-7.0.15-clang [src-6.0.16]=src-6.0.16 [src-8.0.2]=src-8.0.2-stripped
	[src-valkey-8.1.1]=src-valkey-8.1.1-stripped
)
# site FILE: the site line without its strategy. globals FILE: name and location of each global.
site() { awk '$1 == "site" { $6 = ""; print }' "$1"; }
# value FILE VAR: the expression, its terms sorted (r12+rax = rax+r12).
value() {
	awk -v v="$2" '$1 == "value" && $2 == v {
		e = $4; t = ""; depth = 0
		if (e !~ /^-/) e = "+" e
		for (i = 1; i <= length(e); i++) {
			c = substr(e, i, 1)
			if (c == "[") depth++
			if (c == "]") depth--
			if (!depth && (c == "+" || c == "-") && t != "") { print t; t = "" }
			t = t c
		}
		print t }' "$1" | sort | tr -d '\n'
}
globals() { awk '$1 == "global" { print $2, $3 }' "$1"; }
for n in src-7.0.15-O2g src-7.0.15-O3lto src-7.0.15-clang src-6.0.16 src-8.0.2 src-valkey-8.1.1; do
	d="$TMPDIR_T/$n.dwarf.offsets"
	a="$TMPDIR_T/${PAIR[$n]}.disasm.offsets"
	is "$(site "$d")" "$(site "$a")" "$n: dwarf and disasm choose the same site"
	common=$(join <(globals "$d" | sort) <(globals "$a" | sort) -a 1 -a 2 | awk 'NF == 3 && $2 != $3')
	is "$common" "" "$n: the globals both found are at the same places"
done
for n in src-7.0.15-O3lto src-6.0.16 src-valkey-8.1.1; do
	same=""
	for v in mem_reported overhead mem_used mem_tofree; do
		[ "$(value "$TMPDIR_T/$n.dwarf.offsets" $v)" = "$(value "$TMPDIR_T/$n.disasm.offsets" $v)" ] && same="$same$v "
	done
	is "$same" "mem_reported overhead mem_used mem_tofree " "$n: dwarf and disasm give the same four expressions"
done
is "$(value "$TMPDIR_T/src-7.0.15-clang.dwarf.offsets" mem_reported)" \
	"$(value "$TMPDIR_T/src-7.0.15-clang.disasm.offsets" mem_reported)" \
	"src-7.0.15-clang: dwarf and disasm give the same expression for mem_reported"
diff <(grep -v '^part ' "$TMPDIR_T/src-7.0.15-O2g.disasm.offsets") \
	<(grep -v '^part ' "$TMPDIR_T/src-7.0.15-O2g-stripped.disasm.offsets") >/dev/null
ok $? "disasm writes the same file for src-7.0.15-O2g and its stripped copy (but for naming the .cold part)"

# --- dwarf against disasm, at run time --------------------------------------
cat >"$TMPDIR_T/agree.py" <<'EOF'
# Breakpoints at the offset files' sites; at each hit, every file's
# expressions evaluated by gdb from registers and memory: one JSON line.
import gdb, json, os
from offsets_gdb import start

out = open(os.environ["HITS"], "w")

class Site(gdb.Breakpoint):
    def stop(self):
        rec = {"site": self.location.lstrip("*"), "files": {}}
        for name, var, expr in sites[rec["site"]]:
            rec["files"].setdefault(name, {})[var] = int(gdb.parse_and_eval(expr))
        out.write(json.dumps(rec) + "\n")
        out.flush()
        return False

sites, _ = start(os.environ["OFFSET_FILES"].split())
for loc in sites:
    Site("*" + loc)
gdb.execute("continue")
EOF

# agree_at_run_time FIXTURE DWARF-FILE DISASM-FILE: 4 tests.
agree_at_run_time() {
	local name=$1 b=${BIN[$1]} dir hits n
	dir="$TMPDIR_T/run-$name"
	hits="$dir/hits.jsonl"
	gdb_redis RUN "$TMPDIR_T/agree.py" "$b" "$dir" HITS="$hits" OFFSET_FILES="$2 $3"
	traced_by_gdb "$RUN_PID"
	ok $? "$name: redis-server runs under gdb with breakpoints at both files' sites"
	evict_under_gdb RUN "$(dirname "$b")/redis-benchmark" 1000
	is "$EXIT_STATUS" 0 "$name: gdb exits with the server ($EVICTED keys evicted)"
	n=$(grep -c . "$hits")
	[ "$n" -ge 200 ]
	ok $? "$name: enough hits of the site: $n (at least 200)"
	jq -c --arg d "$(basename "$2" .offsets)" --arg a "$(basename "$3" .offsets)" \
		'select((.files[$d] | length) != 4 or .files[$d] != .files[$a])' "$hits" >"$dir/bad"
	if [ -s "$dir/bad" ]; then
		ok 1 "$name: the dwarf and disasm expressions are equal at every hit"
		diag "  $(wc -l <"$dir/bad") of $n differ; the first: $(head -n 1 "$dir/bad")"
	else
		ok 0 "$name: the dwarf and disasm expressions of all four variables are equal at every hit"
	fi
}
agree_at_run_time src-7.0.15-O2g "$TMPDIR_T/src-7.0.15-O2g.dwarf.offsets" \
	"$TMPDIR_T/src-7.0.15-O2g-stripped.disasm.offsets"
agree_at_run_time src-8.0.2 "$TMPDIR_T/src-8.0.2.dwarf.offsets" "$TMPDIR_T/src-8.0.2-stripped.disasm.offsets"

# --- the light plan's exits, on every build --------------------------------
# Each file generated above, and clang's LTO builds of Redis 8 and Valkey 8.1,
# has exits, and gdb's own reading of the code proves them: every way out of
# the slow path crosses exactly one, with no loop after it.
CLANG="src-8.0.2-clang src-8.0.2-clang-stripped src-valkey-8.1.1-clang src-valkey-8.1.1-clang-stripped"
# shellcheck disable=SC2086
want_fixtures $CLANG
for name in $CLANG; do
	[ -n "${BIN[$name]:-}" ] || continue
	timeout 60 "$REDPROF" offsets generate "${BIN[$name]}" -o "$TMPDIR_T/$name.auto.offsets" 2>/dev/null
done
for f in "$TMPDIR_T"/*.disasm.offsets "$TMPDIR_T"/*.dwarf.offsets "$TMPDIR_T"/*.auto.offsets; do
	name=$(basename "$f" .offsets)
	b=${BIN[${name%.*}]:-}
	[ -s "$f" ] && [ -n "$b" ] || continue
	n=$(grep -c '^exit ' "$f")
	[ "$n" -ge 1 ]
	ok $? "$name: $n exits" || diag "$(grep -h 'exits:' "$f.err" 2>/dev/null)"
	OFFSETS_FILE=$f OFFSETS_CHECKS=exits timeout 300 gdb -batch -nx -x "$top_srcdir/t/offsets_check.py" "$b" \
		>"$f.exits" 2>&1
	grep -q '^not ok\|^ok' "$f.exits" && ! grep -q '^not ok' "$f.exits"
	ok $? "$name: gdb proves them ($(grep -c '^ok' "$f.exits") checks)" || grep '^not ok\|^#' "$f.exits" | head -5 |
		sed 's/^/#   /'
done
[ -z "$FIXTURES_ABSENT" ] || diag "not tested: the archive no longer has$FIXTURES_ABSENT"

echo "1..$TAP_N"
done_testing
