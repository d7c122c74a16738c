#!/usr/bin/env bash
# t/fixtures.sh: fetch and build the Redis builds redprof's tests use, as
# t/fixtures.list describes them (one record per fixture: what it is, where
# it comes from, which versions do, how it is built).
#
# Usage:
#   t/fixtures.sh [--force] [NAME...]  build NAMEs (default: all); print "NAME PATH"
#   t/fixtures.sh --path NAME          PATH of NAME when built, else exit 1
#   t/fixtures.sh --info NAME          its BUILD-INFO (what was fetched and how it was built)
#   t/fixtures.sh --list               names and descriptions
#
# PATH is the server binary; for Debian's packages, the extracted
# redis-check-rdb (valkey-check-rdb) with a redis-server (valkey-server)
# link beside it, as Debian installs it. Source builds keep their -cli and
# -benchmark beside the server.
#
# Exit status: 0 all built; 1 some could not be; 3 only because the archive
# no longer has any build a record accepts (the reason, for each, starts
# with "absent:"), which no rerun can fix.
#
# Fixtures come only from Debian's archive, through a private apt
# configuration (scripts/debian-archive.sh), and are cached outside the
# repository in ${REDPROF_FIXTURES:-/var/cache/redprof-fixtures}:
#   archive/          apt's private sources, lists and cache
#   downloads/        .debs and upstream tarballs, kept so rebuilds need no network
#   fixtures/NAME/    a complete fixture with its BUILD-INFO; built in a
#                     staging directory and renamed into place
#   build/NAME/       the build tree (a fixed path, so DWARF's comp_dir is stable)
#   logs/NAME.log, failed/NAME (why the last attempt failed)
# A cached fixture is used while its binary still has the build-id and
# hash its BUILD-INFO records and the record that made it is unchanged.
#
# Source builds run Redis's own Makefile on the upstream tarball in a clean
# environment (`env -i`: the caller's CC and CFLAGS cannot leak in),
# without network (`unshare -n`), under `timeout`, with SOURCE_DATE_EPOCH
# so that the build-id is reproducible; each must have a build-id and
# .debug_info and answer PING. A cold run takes about 6 minutes on 2 cores.
#
# Knobs: REDPROF_FIXTURES, REDPROF_JOBS (2), REDPROF_BUILD_TIMEOUT (1200 s),
# REDPROF_KEEP_BUILD=1, DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR.
set -euo pipefail
shopt -s nullglob

HERE=$(cd "$(dirname "$0")" && pwd)
LIST=$HERE/fixtures.list
CACHE=${REDPROF_FIXTURES:-/var/cache/redprof-fixtures}
JOBS=${REDPROF_JOBS:-2}
BUILD_TIMEOUT=${REDPROF_BUILD_TIMEOUT:-1200}
ARCHIVE_DIR=$CACHE/archive
# shellcheck source=../scripts/debian-archive.sh
. "$HERE/../scripts/debian-archive.sh"

log() { printf '[fixtures %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- records
declare -A REC      # REC[NAME.Field]
declare -a NAMES    # in file order: a strip record follows what it copies
read_records() {
	local line name="" field value

	while IFS= read -r line || [ -n "$line" ]; do
		[[ $line == \#* ]] && continue
		if [[ -z $line ]]; then
			name=""
			continue
		fi
		field=${line%%:*}
		value=${line#*:}
		value=${value# }
		if [ "$field" = Name ]; then
			name=$value
			NAMES+=("$name")
		fi
		[ -n "$name" ] || { log "$LIST: '$line' is outside a record"; exit 2; }
		REC[$name.$field]=$value
	done <"$LIST"
}
rec() { printf '%s\n' "${REC[$1.$2]:-}"; }
is_fixture() { [ -n "${REC[$1.Name]:-}" ]; }
# The record's text: a fixture built from another text is stale.
rec_hash() {
	local f

	for f in Kind Package File Pin Accept Source Tarball SHA256 Make From; do
		printf '%s=%s\n' "$f" "$(rec "$1" $f)"
	done | sha256sum | cut -c1-16
}

# The server binary a fixture provides, and the program prefix (redis, valkey).
prog_of() {
	case "$(rec "$1" Kind)" in
	deb) basename "$(rec "$1" File)" | sed 's/-check-rdb$//' ;;
	src) rec "$1" Source ;;
	strip) prog_of "$(rec "$1" From)" ;;
	esac
}
bin_of() {
	case "$(rec "$1" Kind)" in
	deb) basename "$(rec "$1" File)" ;;
	*) echo "$(prog_of "$1")-server" ;;
	esac
}

fixture_dir() { printf '%s/fixtures/%s\n' "$CACHE" "$1"; }
fixture_path() { printf '%s/%s\n' "$(fixture_dir "$1")" "$(bin_of "$1")"; }

build_id() { readelf -n "$1" 2>/dev/null | awk '/Build ID:/ { print $3; exit }'; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }
info_get() { sed -n "s/^$2: //p" "$1" | head -n 1; }

# A cached fixture is usable: complete, unmodified, made by the current record.
is_built() {
	local d bin info

	d=$(fixture_dir "$1")
	bin=$(fixture_path "$1")
	info=$d/BUILD-INFO
	[ -f "$info" ] && [ -f "$bin" ] || return 1
	[ "$(info_get "$info" record)" = "$(rec_hash "$1")" ] || return 1
	[ "$(info_get "$info" sha256)" = "$(sha256 "$bin")" ] || return 1
	[ "$(info_get "$info" build-id)" = "$(build_id "$bin")" ] || return 1
	if [ "$(rec "$1" Kind)" = strip ]; then
		[ "$(info_get "$info" build-id)" = "$(build_id "$(fixture_path "$(rec "$1" From)")")" ] || return 1
	fi
}

# ---------------------------------------------------------------- building
STAGE=
new_stage() {
	mkdir -p "$CACHE/fixtures"
	STAGE=$(mktemp -d "$CACHE/fixtures/.tmp.$1.XXXXXX")
	chmod 755 "$STAGE"
}
install_stage() {
	local dst old=""

	dst=$(fixture_dir "$1")
	if [ -e "$dst" ]; then
		old=$CACHE/fixtures/.old.$1.$$
		mv -T "$dst" "$old"
	fi
	mv -T "$STAGE" "$dst"
	STAGE=
	[ -z "$old" ] || rm -rf "$old"
}

common_info() { # NAME BINARY
	printf 'name: %s\nrecord: %s\n' "$1" "$(rec_hash "$1")"
	printf 'build-id: %s\nsha256: %s\n' "$(build_id "$2")" "$(sha256 "$2")"
	printf 'date: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	# shellcheck disable=SC1091
	printf 'host: %s, %s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")" "$(uname -srm)"
}

# REASON: why a build failed, for failed/NAME ("absent: ..." when the
# archive has nothing the record accepts).
REASON=

build_deb() {
	local name=$1 pkg pin accept file vers ver deb x note="" vout

	pkg=$(rec "$name" Package) pin=$(rec "$name" Pin) accept=$(rec "$name" Accept)
	file=$(rec "$name" File)
	archive_update || { REASON="cannot read Debian's archive indexes"; return 1; }
	vers=$(archive_versions "$pkg" | awk '{ print $1 }')
	if grep -qxF -- "$pin" <<<"$vers"; then
		ver=$pin
	else
		ver=$(archive_newest "$accept" <<<"$vers") ||
			{ REASON="absent: the archive has no $pkg $pin nor any $accept"; return 1; }
		note="the pinned $pin is not in the archive: this is $ver, the newest $accept it has"
		log "$name: $note"
	fi
	mkdir -p "$CACHE/downloads"
	deb=$CACHE/downloads/${pkg}_${ver#*:}_$ARCHIVE_ARCH.deb
	if ! dpkg-deb -I "$deb" >/dev/null 2>&1; then
		log "$name: downloading $pkg $ver"
		deb=$(archive_download "$pkg" "$ver" "$CACHE/downloads") ||
			{ REASON="cannot download $pkg $ver"; return 1; }
	fi
	new_stage "$name"
	x=$STAGE/.x
	dpkg-deb -x "$deb" "$x"
	[ -f "$x/$file" ] && [ ! -L "$x/$file" ] || { REASON="$deb has no $file"; return 1; }
	mv "$x/$file" "$STAGE/"
	rm -rf "$x"
	ln -s "$(basename "$file")" "$STAGE/$(prog_of "$name")-server"
	vout=$(cd "$STAGE" && "./$(prog_of "$name")-server" --version 2>&1 | head -n 1) || vout="does not run here: ${vout//$STAGE\//}"
	{
		printf 'kind: Debian binary package %s %s, %s\n' "$pkg" "$ver" "$file"
		printf 'version: %s\n' "$ver"
		printf 'deb: %s sha256=%s\n' "$(basename "$deb")" "$(sha256 "$deb")"
		[ -z "$note" ] || printf 'note: %s\n' "$note"
		printf 'version-output: %s\n' "$vout"
		common_info "$name" "$STAGE/$(basename "$file")"
	} >"$STAGE/BUILD-INFO"
	install_stage "$name"
}

# fetch_tarball NAME: the upstream tarball the record names, else the newest
# one it accepts; sets TARBALL and NOTE.
fetch_tarball() {
	local name=$1 src want sum accept files uri file hash best="" up

	src=$(rec "$name" Source) want=$(rec "$name" Tarball) sum=$(rec "$name" SHA256)
	accept=$(rec "$name" Accept)
	NOTE=
	TARBALL=$CACHE/downloads/$want
	mkdir -p "$CACHE/downloads"
	if [ -f "$TARBALL" ] && [ "$(sha256 "$TARBALL")" = "$sum" ]; then
		return 0
	fi
	archive_update || { REASON="cannot read Debian's archive indexes"; return 1; }
	files=$(archive_source_files "$src" | grep -E "_[^_]+\.orig\.tar\.[a-z0-9]+ " || true)
	if read -r uri file hash < <(awk -v f="$want" '$2 == f' <<<"$files"); then
		[ "$hash" = "$sum" ] ||
			{ REASON="the archive's $want has SHA256 $hash, not the $sum t/fixtures.list records"; return 1; }
		log "$name: downloading $want"
		archive_fetch "$uri" "$TARBALL" "$sum" || { REASON="cannot download $uri"; return 1; }
		return 0
	fi
	# The upstream version is gone: the newest one the record accepts.
	for up in $(awk '{ f = $2; sub(/^[^_]+_/, "", f); sub(/\.orig\.tar\..*$/, "", f); print f }' <<<"$files"); do
		# shellcheck disable=SC2053 # a pattern on purpose
		[[ $up == $accept ]] || continue
		if [ -z "$best" ] || dpkg --compare-versions "$up" gt "$best"; then best=$up; fi
	done
	[ -n "$best" ] || { REASON="absent: the archive has no $want nor any $src upstream $accept"; return 1; }
	read -r uri file hash < <(awk -v p="${src}_${best}.orig.tar." 'index($2, p) == 1' <<<"$files")
	NOTE="$want is not in the archive: this is $file, the newest $accept it has"
	log "$name: $NOTE"
	TARBALL=$CACHE/downloads/$file
	if [ ! -f "$TARBALL" ] || [ "$(sha256 "$TARBALL")" != "$hash" ]; then
		archive_fetch "$uri" "$TARBALL" "$hash" || { REASON="cannot download $uri"; return 1; }
	fi
}

# Starts the new server on a unix socket only, PINGs it, shuts it down.
smoke_test() { # DIR PROG
	local t pid ok=1

	t=$(mktemp -d /tmp/redprof-smoke.XXXXXX)
	"$1/$2-server" --port 0 --unixsocket "$t/s.sock" --daemonize no --save '' --appendonly no \
		--dir "$t" --logfile "$t/server.log" </dev/null >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		if [ -S "$t/s.sock" ] && [ "$("$1/$2-cli" -s "$t/s.sock" ping 2>/dev/null)" = PONG ]; then
			ok=0
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	"$1/$2-cli" -s "$t/s.sock" shutdown nosave >/dev/null 2>&1 || true
	sleep 0.2
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -rf "$t"
	return $ok
}

build_src() {
	local name=$1 prog bdir top sde rc net=() cmd cc t0 vout

	prog=$(prog_of "$name")
	fetch_tarball "$name" || return 1
	bdir=$CACHE/build/$name
	rm -rf "$bdir"
	mkdir -p "$bdir"
	tar -xf "$TARBALL" -C "$bdir"
	top=$(find "$bdir" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	[ -f "$top/src/Makefile" ] || { REASON="$(basename "$TARBALL") has no src/Makefile"; return 1; }
	unshare -n true 2>/dev/null && net=(unshare -n)
	# Redis puts `uname -n` and the date into its build id unless this is set:
	# the release's own time keeps the GNU build-id reproducible.
	sde=$(stat -c %Y "$top/src/version.h")
	# Make: holds shell words ("OPTIMIZATION=-O3 -flto" quoted is one argument).
	eval "cmd=(make -j\"\$JOBS\" V=1 $(rec "$name" Make))"
	cc=$(for a in "${cmd[@]}"; do [[ $a != CC=* ]] || echo "${a#CC=}"; done)
	log "$name: ${cmd[*]} in $top (log: $LOGFILE)"
	t0=$SECONDS
	set +e
	(cd "$top" && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$bdir" LC_ALL=C TERM=dumb \
		SOURCE_DATE_EPOCH="$sde" "${net[@]}" timeout "$BUILD_TIMEOUT" "${cmd[@]}") >>"$LOGFILE" 2>&1 </dev/null &
	BUILD_PID=$!
	wait "$BUILD_PID"
	rc=$?
	BUILD_PID=
	set -e
	if [ $rc -ne 0 ]; then
		REASON="make failed (exit $rc$([ $rc = 124 ] && echo ", timed out after ${BUILD_TIMEOUT}s")), see $LOGFILE"
		tail -n 20 "$LOGFILE" >&2
		return 1
	fi
	new_stage "$name"
	for b in "$prog-server" "$prog-cli" "$prog-benchmark"; do
		cp -p "$top/src/$b" "$STAGE/" || { REASON="make produced no src/$b"; return 1; }
	done
	[ -n "$(build_id "$STAGE/$prog-server")" ] || { REASON="$prog-server has no GNU build-id"; return 1; }
	readelf -S "$STAGE/$prog-server" | grep -q ' \.debug_info ' || { REASON="$prog-server has no .debug_info"; return 1; }
	vout=$("$STAGE/$prog-server" --version 2>&1 | head -n 1)
	smoke_test "$STAGE" "$prog" || { REASON="$prog-server did not answer PING (see $LOGFILE)"; return 1; }
	{
		printf 'kind: upstream tarball of Debian source %s built with its Makefile\n' "$(rec "$name" Source)"
		printf 'version: %s\n' "$(basename "$TARBALL" | sed -E 's/^[^_]+_(.*)\.orig\.tar\..*$/\1/')"
		printf 'tarball: %s sha256=%s\n' "$(basename "$TARBALL")" "$(sha256 "$TARBALL")"
		[ -z "$NOTE" ] || printf 'note: %s\n' "$NOTE"
		printf 'make: cd %s && env -i PATH=... LC_ALL=C SOURCE_DATE_EPOCH=%s %s%s\n' "$top" "$sde" \
			"${net[*]:+${net[*]} }" "$(printf '%q ' "${cmd[@]}")"
		printf 'compiler: %s\n' "$("${cc:-cc}" --version | head -n 1)"
		printf 'compile-server.c: %s\n' "$(grep -m1 -e ' -c server\.c' "$LOGFILE" | sed 's/ -I[^ ]*//g')"
		printf 'version-output: %s\n' "$vout"
		printf 'build-seconds: %s\n' "$((SECONDS - t0))"
		common_info "$name" "$STAGE/$prog-server"
	} >"$STAGE/BUILD-INFO"
	install_stage "$name"
	[ "${REDPROF_KEEP_BUILD:-0}" = 1 ] || rm -rf "$bdir"
}

build_strip() {
	local name=$1 from bin

	from=$(fixture_path "$(rec "$name" From)")
	bin=$(bin_of "$name")
	new_stage "$name"
	strip -o "$STAGE/$bin" "$from"
	[ "$(build_id "$STAGE/$bin")" = "$(build_id "$from")" ] || { REASON="strip changed the build-id"; return 1; }
	! readelf -S "$STAGE/$bin" | grep -q ' \.debug_info ' || { REASON="still has .debug_info"; return 1; }
	{
		printf 'kind: strip -o copy of %s\n' "$(rec "$name" From)"
		printf 'strip: %s\n' "$(strip --version | head -n 1)"
		common_info "$name" "$STAGE/$bin"
	} >"$STAGE/BUILD-INFO"
	install_stage "$name"
}

# One fixture, in a subshell: any failing command ends it; the traps remove
# the staging directory, stop make, and record why in failed/NAME.
BUILD_PID=
LOGFILE=
FX=
build_one_exit() {
	local rc=$?

	[ -z "$STAGE" ] || rm -rf "$STAGE"
	[ $rc = 0 ] || [ $rc = 143 ] || echo "$REASON" >"$CACHE/failed/$FX"
	exit $rc
}
build_one() {
	FX=$1
	mkdir -p "$CACHE/logs" "$CACHE/failed"
	LOGFILE=$CACHE/logs/$FX.log
	: >"$LOGFILE"
	REASON="failed, see $LOGFILE"
	rm -f "$CACHE/failed/$FX"
	trap build_one_exit EXIT
	trap '[ -z "$BUILD_PID" ] || kill -TERM "$BUILD_PID" 2>/dev/null; exit 143' TERM INT HUP
	"build_$(rec "$FX" Kind)" "$FX"
}

# ---------------------------------------------------------------- main
read_records
case ${1:-} in
-h | --help)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
--list)
	for n in "${NAMES[@]}"; do printf '%-28s %s\n' "$n" "$(rec "$n" About)"; done
	exit 0
	;;
--path | --info)
	[ $# = 2 ] && is_fixture "$2" || { echo "usage: $0 $1 NAME (see --list)" >&2; exit 2; }
	is_built "$2" || exit 1
	if [ "$1" = --path ]; then fixture_path "$2"; else cat "$(fixture_dir "$2")/BUILD-INFO"; fi
	exit 0
	;;
esac
FORCE=0
[ "${1:-}" = --force ] && FORCE=1 && shift
[ $# -gt 0 ] || set -- "${NAMES[@]}"
for n in "$@"; do is_fixture "$n" || { log "unknown fixture $n (see --list)"; exit 2; }; done

# What to build: the names asked for and what they copy, in file order.
declare -A WANT=()
for n in "$@"; do
	WANT[$n]=1
	[ "$(rec "$n" Kind)" != strip ] || WANT[$(rec "$n" From)]=1
done
todo=()
for n in "${NAMES[@]}"; do
	[ -n "${WANT[$n]:-}" ] || continue
	if [ $FORCE = 1 ] || ! is_built "$n"; then todo+=("$n"); fi
done

if [ ${#todo[@]} -gt 0 ]; then
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock -n 9 || { log "waiting for another run building into $CACHE"; flock 9; }
	rm -rf "$CACHE"/fixtures/.tmp.* "$CACHE"/fixtures/.old.*
	CHILD=
	trap '[ -z "$CHILD" ] || { kill -TERM "$CHILD"; wait "$CHILD"; }; log interrupted; exit 130' INT TERM HUP
	for n in "${todo[@]}"; do
		[ $FORCE = 0 ] && is_built "$n" && continue # built meanwhile by the run we waited for
		if [ "$(rec "$n" Kind)" = strip ] && ! is_built "$(rec "$n" From)"; then
			mkdir -p "$CACHE/failed"
			echo "its source fixture $(rec "$n" From) is not available" >"$CACHE/failed/$n"
			continue
		fi
		log "$n: building ($(rec "$n" About))"
		t=$SECONDS
		set +e
		(build_one "$n") &
		CHILD=$!
		wait $CHILD
		rc=$?
		CHILD=
		set -e
		[ $rc != 130 ] && [ $rc != 143 ] || exit $rc
		if [ $rc = 0 ]; then log "$n: done in $((SECONDS - t))s"; else log "$n: FAILED: $(cat "$CACHE/failed/$n")"; fi
	done
fi

status=0 absent=0
for n in "$@"; do
	if is_built "$n"; then
		printf '%s %s\n' "$n" "$(fixture_path "$n")"
	else
		why=$(cat "$CACHE/failed/$n" 2>/dev/null || echo "not built")
		log "$n: UNAVAILABLE: $why"
		case $why in absent:*) absent=1 ;; *) status=1 ;; esac
	fi
done
[ $status = 0 ] && [ $absent = 1 ] && status=3
exit $status
