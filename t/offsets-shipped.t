#!/bin/bash
# offsets-shipped.t: the shipped offset files as a set. Each one parses and
# is shown by redprof, is named after what it says it is
# (debianN-FLAVOR-VERSION.offsets), keys a build-id no other file keys, and
# is installed (listed in offsets/files.am). Then scripts/update-offsets
# --check reports, in diagnostics, every build of redis and valkey in
# Debian 12 and 13 (with security, updates and backports) that no shipped
# file covers yet, or whose file the generator no longer writes byte for
# byte: Debian's archive moves, so this is news for maintainers, not a
# failure of redprof.
. "$top_srcdir/t/lib.sh"

require_cmd readelf dpkg-deb

for f in "$top_srcdir"/offsets/*.offsets; do
	name=$(basename "$f")
	timeout 30 "$REDPROF" offsets show "$f" >"$TMPDIR_T/show" 2>"$TMPDIR_T/err"
	is "$?" 0 "$name: redprof parses and shows it" || sed 's/^/#   /' "$TMPDIR_T/err"
	read -r _ flavor version <<<"$(grep '^server ' "$f")"
	case $name in
	debian1[0-9]-"$flavor-$version"-*.offsets) ok 0 "$name: named after its server line ($flavor $version)" ;;
	*) ok 1 "$name: named after its server line ($flavor $version)" ;;
	esac
	grep -qx "	offsets/$name \\\\\|	offsets/$name" "$top_srcdir/offsets/files.am"
	ok $? "$name: offsets/files.am installs it"
done
dups=$(grep -h '^build-id ' "$top_srcdir"/offsets/*.offsets | sort | uniq -d)
is "$dups" "" "no two shipped files key the same build-id"
is "$(grep -c '^	offsets/' "$top_srcdir/offsets/files.am")" "$(ls "$top_srcdir"/offsets/*.offsets | wc -l)" \
	"offsets/files.am lists exactly the files in offsets/"

"$top_srcdir/scripts/update-offsets" --check --redprof "$REDPROF" >"$TMPDIR_T/update" 2>&1
rc=$?
# Without Debian's archive (no network, or a user who cannot write the cache) there is nothing to go
# through: outside CI that is said and skipped; under CI=true it fails below.
if ! grep -q '^\(OK\|NEW\|STALE\|FAIL\) ' "$TMPDIR_T/update" && [ "${CI:-}" != true ]; then
	why=$(grep -v '^$' "$TMPDIR_T/update" | tail -n 1)
	skip "scripts/update-offsets --check went through the archive's builds" "no archive here: $why"
	skip "redprof generates and verifies a file for every build the archive has" "no archive here"
	echo "1..$TAP_N"
	done_testing
	exit
fi
grep -q '^\(OK\|NEW\|STALE\|FAIL\) ' "$TMPDIR_T/update"
ok $? "scripts/update-offsets --check went through the archive's builds ($(grep -c '^OK ' "$TMPDIR_T/update") covered)" ||
	sed 's/^/#   /' "$TMPDIR_T/update" | tail -10
grep -v '^OK ' "$TMPDIR_T/update" | sed 's/^/# archive: /'
[ "$rc" = 0 ] || diag "the archive has builds the shipped files do not cover as they should (above): run scripts/update-offsets"
! grep -q '^FAIL ' "$TMPDIR_T/update"
ok $? "redprof generates and verifies a file for every build the archive has"

echo "1..$TAP_N"
done_testing
