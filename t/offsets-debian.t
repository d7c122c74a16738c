#!/bin/bash
# offsets-debian.t: offset files for Debian's own builds, judged by what
# must hold on every build rather than by the addresses of one. For each
# Debian binary fixture (whatever revision the archive serves today):
#   - `redprof offsets generate` succeeds with the disasm strategy (Debian's
#     binaries have no DWARF), and redprof verifies the result;
#   - when offsets/ ships a file for that build-id, the generated file is
#     that file byte for byte, and redprof accepts it; when it ships none,
#     a diagnostic says so (scripts/update-offsets makes one);
#   - t/offsets_check.py checks the generated file against gdb's own
#     disassembly, independently of redprof: sites on instruction
#     boundaries at the right file offsets with gdb's instruction and
#     class, each register's producer the unique reaching definition,
#     overhead = freeMemoryGetNotCountedMemory(), mem_used = mem_reported -
#     overhead, mem_tofree = mem_used - maxmemory with maxmemory the field
#     the file names, and the counters the fields the code increments.
. "$top_srcdir/t/lib.sh"

require_cmd gdb readelf

FIXTURES="deb12u10 deb12u7 bpo12-valkey trixie-8.0.2 trixie-valkey-8.1.1"
# shellcheck disable=SC2086
want_fixtures $FIXTURES

build_id() { readelf -n "$1" | awk '/Build ID:/ { print $3; exit }'; }
shipped_for() { grep -lx "build-id $1" "$top_srcdir"/offsets/*.offsets 2>/dev/null | head -n 1; }

for name in $FIXTURES; do
	[ -n "${BIN[$name]:-}" ] || continue
	bin=${BIN[$name]}
	gen=$TMPDIR_T/$name.offsets
	version=$("$top_srcdir/t/fixtures.sh" --info "$name" | sed -n 's/^version: //p')
	timeout 60 "$REDPROF" offsets generate "$bin" -o "$gen" 2>"$TMPDIR_T/$name.err"
	is "$?" 0 "$name ($version): offsets generate succeeds" || sed 's/^/#   /' "$TMPDIR_T/$name.err"
	grep -q ": disasm strategy$" "$TMPDIR_T/$name.err"
	ok $? "$name: it says it used the disasm strategy (Debian's binaries have no DWARF)"
	timeout 60 "$REDPROF" offsets show "$gen" "$bin" >/dev/null 2>"$TMPDIR_T/$name.err"
	is "$?" 0 "$name: offsets show FILE BINARY accepts the generated file" || sed 's/^/#   /' "$TMPDIR_T/$name.err"
	is "$(awk '$1 == "value"' "$gen" | wc -l)" 4 "$name: the file has all four values"

	shipped=$(shipped_for "$(build_id "$bin")")
	if [ -n "$shipped" ]; then
		if cmp -s "$gen" "$shipped"; then
			ok 0 "$name: the generated file is the shipped $(basename "$shipped") byte for byte"
		else
			ok 1 "$name: the generated file is the shipped $(basename "$shipped") byte for byte"
			diff "$shipped" "$gen" | head -20 | sed 's/^/# /'
		fi
		timeout 60 "$REDPROF" offsets show "$shipped" "$bin" >/dev/null 2>"$TMPDIR_T/$name.err"
		is "$?" 0 "$name: offsets show accepts the shipped file for the binary"
	else
		diag "$name ($version, build-id $(build_id "$bin")): no shipped offset file covers this build;" \
			"scripts/update-offsets writes one"
	fi

	OFFSETS_FILE=$gen gdb -batch -nx -x "$top_srcdir/t/offsets_check.py" "$bin" >"$TMPDIR_T/$name.check" 2>&1
	[ "$(grep -c '^ok ' "$TMPDIR_T/$name.check")" -gt 20 ]
	ok $? "$name: gdb's checks ran ($(grep -c '^ok ' "$TMPDIR_T/$name.check") relations)" ||
		sed 's/^/# /' "$TMPDIR_T/$name.check" | tail -20
	while IFS= read -r line; do
		case $line in
		"ok "*) ok 0 "$name: gdb: ${line#ok }" ;;
		"not ok "*) ok 1 "$name: gdb: ${line#not ok }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$TMPDIR_T/$name.check"
done
[ -z "$FIXTURES_ABSENT" ] || diag "not tested: the archive no longer has$FIXTURES_ABSENT"

echo "1..$TAP_N"
done_testing
