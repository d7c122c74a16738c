# scripts/debian-archive.sh: Debian's archive through a private apt
# configuration, for t/fixtures.sh and scripts/update-offsets (sourced).
#
# The system's apt sources and lists are never touched: the sources list,
# lists and cache live under $ARCHIVE_DIR. Every suite is signed; apt checks
# each download against the signed indexes (binary packages, source
# tarballs), so nothing taken from here is trusted on its word.
#
# Callers set ARCHIVE_DIR and may set DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR.

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
ARCHIVE_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
ARCHIVE_ARCH=$(dpkg --print-architecture)

# The suites redis and valkey are looked for in: Debian 11 (sources only,
# for Redis 6.0), 12 and 13 with their security, updates and backports.
ARCHIVE_SUITES="bookworm bookworm-updates bookworm-backports trixie trixie-updates trixie-backports"
ARCHIVE_SECURITY_SUITES="bookworm-security trixie-security"
ARCHIVE_SOURCE_ONLY_SUITES="bullseye"

archive_opts() {
	APT_OPTS=(
		-o "Dir::Etc::SourceList=$ARCHIVE_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$ARCHIVE_DIR/lists" -o "Dir::Cache=$ARCHIVE_DIR/cache"
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
		-o APT::Default-Release= -o Acquire::Languages=none -q
	)
}

# archive_init: the private sources list (rewritten, and the lists dropped,
# when it changes).
archive_init() {
	local s list opt="signed-by=$ARCHIVE_KEYRING"

	archive_opts
	mkdir -p "$ARCHIVE_DIR/lists/partial" "$ARCHIVE_DIR/cache/archives/partial"
	list="# private to redprof's scripts: never the system's apt configuration"
	for s in $ARCHIVE_SUITES; do
		list+=$'\n'"deb [arch=$ARCHIVE_ARCH $opt] $DEBIAN_MIRROR $s main"
		list+=$'\n'"deb-src [$opt] $DEBIAN_MIRROR $s main"
	done
	for s in $ARCHIVE_SECURITY_SUITES; do
		list+=$'\n'"deb [arch=$ARCHIVE_ARCH $opt] $DEBIAN_SECURITY_MIRROR $s main"
		list+=$'\n'"deb-src [$opt] $DEBIAN_SECURITY_MIRROR $s main"
	done
	for s in $ARCHIVE_SOURCE_ONLY_SUITES; do
		list+=$'\n'"deb-src [$opt] $DEBIAN_MIRROR $s main"
	done
	if [ "$(cat "$ARCHIVE_DIR/sources.list" 2>/dev/null)" != "$list" ]; then
		printf '%s\n' "$list" >"$ARCHIVE_DIR/sources.list.tmp"
		mv -f "$ARCHIVE_DIR/sources.list.tmp" "$ARCHIVE_DIR/sources.list"
		find "$ARCHIVE_DIR/lists" -maxdepth 1 -type f -delete
	fi
}

# archive_update: fetch the indexes, once per process. A suite the mirror
# no longer serves is reported and skipped; no index at all is an error.
ARCHIVE_UPDATED=
archive_update() {
	[ -n "$ARCHIVE_UPDATED" ] && return 0
	archive_init
	if ! apt-get "${APT_OPTS[@]}" update >"$ARCHIVE_DIR/update.log" 2>&1; then
		grep -E '^(E|W): ' "$ARCHIVE_DIR/update.log" | sed 's/^/archive: /' >&2
	fi
	if ! ls "$ARCHIVE_DIR/lists/"*_Packages* >/dev/null 2>&1; then
		echo "archive: no package index could be fetched from $DEBIAN_MIRROR (see $ARCHIVE_DIR/update.log)" >&2
		return 1
	fi
	ARCHIVE_UPDATED=1
}

# archive_versions PKG: "VERSION SUITE" per version of binary package PKG.
archive_versions() {
	apt-cache "${APT_OPTS[@]}" madison "$1" 2>/dev/null |
		awk -F' [|] ' '$3 ~ / Packages$/ { gsub(/ /, "", $2); split($3, w, " "); print $2, w[2] }'
}

# archive_newest PATTERN: the newest of the versions on stdin matching the
# shell PATTERN, by dpkg's ordering.
archive_newest() {
	local v best=""

	while read -r v; do
		# shellcheck disable=SC2053 # a pattern on purpose
		[[ -n $v && $v == $1 ]] || continue
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v
		fi
	done
	[ -n "$best" ] && printf '%s\n' "$best"
}

# archive_download PKG VERSION DIR: the .deb into DIR (checked by apt
# against the signed index); prints its path.
archive_download() {
	local d f

	d=$(mktemp -d "$3/.dl.XXXXXX")
	# apt drops root to _apt for downloads: let it write there.
	[ "$(id -u)" = 0 ] && getent passwd _apt >/dev/null && chown _apt "$d"
	if ! (cd "$d" && apt-get "${APT_OPTS[@]}" download "$1=$2") >"$d.log" 2>&1; then
		sed 's/^/archive: /' "$d.log" >&2
		rm -rf "$d" "$d.log"
		return 1
	fi
	f=$(find "$d" -name '*.deb' | head -n 1)
	mv -f "$f" "$3/${1}_${2#*:}_$ARCHIVE_ARCH.deb"
	rm -rf "$d" "$d.log"
	printf '%s\n' "$3/${1}_${2#*:}_$ARCHIVE_ARCH.deb"
}

# archive_source_files SRC: "URI NAME SHA256" of every file of every
# revision of source package SRC the indexes list (their hashes are the
# signed indexes').
archive_source_files() {
	local v

	apt-cache "${APT_OPTS[@]}" showsrc "$1" 2>/dev/null |
		awk -v p="$1" '/^Package: / { q = $2 } /^Version: / && q == p { print $2 }' | sort -u |
		while read -r v; do
			apt-get "${APT_OPTS[@]}" source --print-uris --download-only -qq "$1=$v" 2>/dev/null |
				awk '{ gsub(/'\''/, "", $1); sub(/^SHA256:/, "", $4); print $1, $2, $4 }'
		done | sort -u
}

# archive_fetch URI DEST SHA256: one file, checked against SHA256.
archive_fetch() {
	local tmp="$2.part"

	rm -f "$tmp"
	if ! /usr/lib/apt/apt-helper download-file "$1" "$tmp" "SHA256:$3" >"$tmp.log" 2>&1; then
		sed 's/^/archive: /' "$tmp.log" >&2
		rm -f "$tmp" "$tmp.log"
		return 1
	fi
	rm -f "$tmp.log"
	mv -f "$tmp" "$2"
}
