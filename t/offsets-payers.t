#!/bin/bash
# offsets-payers.t: the offset-file entries for who paid (current_client,
# the struct members) and for the backlog verdict (clients_normal_memory),
# on every fixture build, with the gdb oracle where DWARF exists:
#   - a build with debug information has them all, where gdb, reading the
#     same information its own way, finds server.current_client,
#     server.stat_clients_type_memory[0], client.id, .cmd, .name, the
#     object's ptr and the command's (full) name;
#   - a stripped copy has, from its code alone (disasm), current_client and
#     the members where DWARF has them on its build, or none of them;
#   - Debian 12's redis-server (7.0.15, no debug information) has them
#     from its code, where DWARF has them on 7.0.15 built from source;
#   - a build without them is refused nothing else: the rest of its file
#     is the same.
. "$top_srcdir/t/lib.sh"

require_cmd gdb
require_gdb_python

DWARF="src-6.0.16 src-7.0.15-O2g src-7.0.15-O3lto src-7.0.15-clang src-8.0.2 src-8.0.2-clang src-valkey-8.1.1
src-valkey-8.1.1-clang"
STRIPPED="src-7.0.15-O2g-stripped src-8.0.2-stripped src-8.0.2-clang-stripped src-valkey-8.1.1-stripped
src-valkey-8.1.1-clang-stripped"
DEBIAN="deb12u10 deb12u7 bpo12-valkey trixie-8.0.2 trixie-valkey-8.1.1"
# shellcheck disable=SC2086
want_fixtures $DWARF $STRIPPED $DEBIAN

# entries FILE: the file's who-paid and client-memory lines, location only.
entries() { grep -E '^(global (current_client|clients_normal_memory)|member) ' "$1" | awk '{ print $1, $2, $3 }'; }

# oracle BINARY: the same, as gdb reads the debug information.
oracle() {
	local args=() e out
	for e in '&server.current_client' '&server.stat_clients_type_memory[0]'; do
		args+=(-ex "print (long)$e - (long)&server")
	done
	for e in 'client *)0)->id' 'client *)0)->cmd' 'client *)0)->name' 'redisObject *)0)->ptr' \
		'serverObject *)0)->ptr' 'redisCommand *)0)->fullname' 'serverCommand *)0)->fullname' \
		'redisCommand *)0)->name'; do
		args+=(-ex "print (long)&((struct $e")
	done
	# A struct the build does not have is an error gdb prints and goes past.
	out=$(gdb -batch -nx "${args[@]}" "$1" 2>/dev/null | sed -n 's/^\$[0-9]* = //p')
	set -- $out
	printf 'global current_client server+%s\nglobal clients_normal_memory server+%s\n' "$1" "$2"
	printf 'member client.id %s\nmember client.cmd %s\nmember client.name %s\nmember object.ptr %s\nmember command.name %s\n' \
		"$3" "$4" "$5" "$6" "$7"
}

declare -A HAVE
for name in $DWARF $STRIPPED $DEBIAN; do
	[ -n "${BIN[$name]:-}" ] || continue
	timeout 120 "$REDPROF" offsets generate "${BIN[$name]}" -o "$TMPDIR_T/$name.offsets" 2>"$TMPDIR_T/$name.err"
	is "$?" 0 "$name: offsets generate" || sed 's/^/#   /' "$TMPDIR_T/$name.err"
	HAVE[$name]=$(entries "$TMPDIR_T/$name.offsets")
done

for name in $DWARF; do
	[ -n "${BIN[$name]:-}" ] || continue
	is "${HAVE[$name]}" "$(oracle "${BIN[$name]}")" "$name: current_client, clients_normal_memory and the members are where gdb finds them"
done

for name in $STRIPPED; do
	[ -n "${BIN[$name]:-}" ] && [ -n "${BIN[${name%-stripped}]:-}" ] || continue
	want=$(grep -v clients_normal_memory <<<"${HAVE[${name%-stripped}]}")
	if [ -n "${HAVE[$name]}" ]; then
		is "${HAVE[$name]}" "$want" "$name: from its code, current_client and the members where DWARF has them"
	else
		is "${HAVE[$name]}" "" "$name: from its code, none of them (it cannot prove them), nothing guessed"
	fi
	# Everything else in the file is as before: what it lacks takes nothing away.
	diff <(grep -vE '^(global (current_client|clients_normal_memory)|member) |^# Struct members|^$' "$TMPDIR_T/$name.offsets") \
		<("$REDPROF" offsets generate "${BIN[$name]}" --strategy disasm 2>/dev/null |
			grep -vE '^(global (current_client|clients_normal_memory)|member) |^# Struct members|^$') >/dev/null
	ok $? "$name: the rest of the file is the disasm strategy's"
done

for name in deb12u10 deb12u7; do
	[ -n "${BIN[$name]:-}" ] && [ -n "${BIN[src-7.0.15-O2g]:-}" ] || continue
	is "${HAVE[$name]}" "$(grep -v clients_normal_memory <<<"${HAVE[src-7.0.15-O2g]}")" \
		"$name: from its code, current_client and the members of Redis 7.0.15 as DWARF has them on the source build"
done
for name in bpo12-valkey trixie-8.0.2 trixie-valkey-8.1.1; do
	[ -n "${BIN[$name]:-}" ] || continue
	is "${HAVE[$name]}" "" "$name: none from its code (Redis 8 and Valkey: not proven), nothing guessed"
done
[ -z "$FIXTURES_ABSENT" ] || diag "not tested: the archive no longer has$FIXTURES_ABSENT"

echo "1..$TAP_N"
done_testing
