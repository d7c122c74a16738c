#!/usr/bin/env bash
# t/fixtures.sh - fetch and build the matrix of Redis binaries that redprof's
# tests use as fixtures.
#
# Usage:
#   t/fixtures.sh [--force] [NAME...]   build NAMEs (default: all); print "NAME PATH"
#   t/fixtures.sh --path NAME           print PATH of NAME if built, else exit 1
#   t/fixtures.sh --list                list fixture names with a description
#   t/fixtures.sh --help
#
# PATH is the fixture's server binary (valkey-server for Valkey, else
# redis-server).  For the Debian binary-package
# fixtures (deb12u10, deb12u7, trixie-8.0.2, trixie-valkey-8.1.1) that is the
# extracted usr/bin/redis-check-rdb (valkey-check-rdb): Debian's redis-server
# is a symlink to it (a "redis-server" symlink is put beside it too, so it can
# be run as a server).
# Source builds also keep their -cli and -benchmark next to the server.
#
# Policy (licence): fixtures come ONLY from Debian's archive (binary packages via
# `apt-get download`, source packages via `apt-get source --download-only`).
# Nothing is fetched from anywhere else; builds run with the network unshared
# where possible, and no binary is ever written into the repository.
#
# Everything lives outside the repo, in ${REDPROF_FIXTURES:-/var/cache/redprof-fixtures}:
#   apt/        private apt config + lists + archive cache (the system's apt
#               config and lists are never touched)
#   downloads/  .deb / .dsc / orig tarballs, kept so rebuilds need no network
#   fixtures/NAME/   a COMPLETE fixture: binaries, BUILD-INFO, build.log.
#               Created in fixtures/.tmp.* and renamed into place only when
#               complete, so an interrupted run never leaves a half fixture.
#   build/NAME/ fixed build directory (so DWARF DW_AT_comp_dir is stable);
#               removed after a successful build (REDPROF_KEEP_BUILD=1 keeps it)
#   logs/NAME.log    log of the last build attempt
#   failed/NAME      reason an optional fixture could not be built (not retried
#               on later runs unless --force)
#
# Source builds: the upstream orig tarball (Debian patches are NOT applied),
# built with Redis' own Makefile in a fresh tree per variant, `make -j2 V=1`
# (V=1 only makes the log show full compiler command lines), in `env -i`
# (the caller's CFLAGS/CC/MAKEFLAGS cannot leak in), under `unshare -n`
# (no network) and `timeout`.  SOURCE_DATE_EPOCH makes the build-id
# reproducible for a given cache path.  Each build must produce a build-id and
# .debug_info, and its server must answer PING on a unix socket.
# A cold run of everything takes about 6 minutes on 2 cores; a warm run
# about half a second.
#
# Version drift: deb.debian.org only serves the current version of each suite,
# so once e.g. 5:7.0.15-1~deb12u10 is superseded in bookworm-security, a COLD
# cache can no longer fetch it and that fixture fails with a clear message
# (warm caches keep their .deb).  Source packages and trixie-8.0.2 fall back
# to the newest Debian revision of the same upstream version.
#
# Apt / signatures: a private sources.list with
#   [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] for every suite.
# Bookworm's debian-archive-keyring (2023.3+deb12u2) already contains the
# trixie (13) archive keys, so trixie's InRelease is verified too; nothing is
# [trusted=yes].  apt verifies each downloaded .deb/.dsc/tarball against the
# hashes of the signed indexes; orig tarballs are re-checked against their .dsc
# on every reuse.  (Escape hatch if a future keyring lacks a suite's key:
# REDPROF_APT_TRUSTED=1 uses [trusted=yes] instead - unverified, not default.)
#
# Environment knobs: REDPROF_FIXTURES (cache root), REDPROF_JOBS (default 2),
# REDPROF_DEBIAN_MIRROR, REDPROF_DEBIAN_SECURITY_MIRROR, REDPROF_KEEP_BUILD=1,
# REDPROF_BUILD_TIMEOUT (seconds per build, default 1200), REDPROF_VERBOSE=1
# (also copy build output to stderr).

set -euo pipefail
shopt -s nullglob

CACHE=${REDPROF_FIXTURES:-/var/cache/redprof-fixtures}
JOBS=${REDPROF_JOBS:-2}
MIRROR=${REDPROF_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${REDPROF_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
BUILD_TIMEOUT=${REDPROF_BUILD_TIMEOUT:-1200}
ARCH=$(dpkg --print-architecture)

# name | kind | description.  Order = build order (a stripped copy after its build).
FIXTURES=(
  "deb12u10|deb|Debian 12 redis-tools 5:7.0.15-1~deb12u10 (bookworm-security), usr/bin/redis-check-rdb"
  "deb12u7|deb|Debian 12 redis-tools 5:7.0.15-1~deb12u7 (bookworm), usr/bin/redis-check-rdb"
  "trixie-8.0.2|deb|Debian 13 redis-tools 5:8.0.2-* (trixie), usr/bin/redis-check-rdb; analysis only (needs newer glibc)"
  "trixie-valkey-8.1.1|deb|Debian 13 valkey-tools 8.1.1+dfsg1-* (trixie), usr/bin/valkey-check-rdb; analysis only (needs newer glibc)"
  "src-7.0.15-O2g|src|redis_7.0.15.orig.tar.gz (Debian 12 source), make defaults: -O2 -g -ggdb, bundled jemalloc"
  "src-7.0.15-O2g-stripped|strip|strip -o copy of src-7.0.15-O2g/redis-server (same build-id)"
  "src-7.0.15-O3lto|src|redis_7.0.15.orig.tar.gz, make OPTIMIZATION=\"-O3 -flto\""
  "src-7.0.15-clang|src|redis_7.0.15.orig.tar.gz, make CC=clang (clang-14), -O2 -g -ggdb"
  "src-6.0.16|src|redis_6.0.16.orig.tar.gz (Debian 11 source), make defaults: -O2 -g -ggdb"
  "src-8.0.2|src|redis_8.0.2.orig.tar.gz (Debian 13 source), make defaults (-O3 -flto=auto -fno-omit-frame-pointer -g -ggdb), core server only, no modules; optional"
  "src-8.0.2-stripped|strip|strip -o copy of src-8.0.2/redis-server (same build-id); optional"
  "src-valkey-8.1.1|src|valkey_8.1.1+dfsg1.orig.tar.xz (Debian 13 source), make defaults (-O3 -flto=auto -fno-omit-frame-pointer -g -ggdb), getMaxmemoryState not inlined; optional"
  "src-valkey-8.1.1-stripped|strip|strip -o copy of src-valkey-8.1.1/valkey-server (same build-id); optional"
)
# may be unavailable without failing a default (all) run
OPTIONAL_FIXTURES=" src-8.0.2 src-8.0.2-stripped src-valkey-8.1.1 src-valkey-8.1.1-stripped "

LOGFILE=
log()  {
  local m; m=$(printf '[fixtures %s] %s' "$(date +%H:%M:%S)" "$*")
  printf '%s\n' "$m" >&2
  if [[ -n $LOGFILE ]]; then printf '%s\n' "$m" >>"$LOGFILE"; fi
}
# run a command, its output to stderr and to the current build log
logged() { if [[ -n $LOGFILE ]]; then "$@" 2>&1 | tee -a "$LOGFILE" >&2; else "$@" >&2; fi; }
die()  { log "ERROR: $*"; exit 1; }

all_names() { local f; for f in "${FIXTURES[@]}"; do printf '%s\n' "${f%%|*}"; done; }
fx_field() { # NAME FIELDNO -> field of the FIXTURES row
  local f; for f in "${FIXTURES[@]}"; do
    if [[ ${f%%|*} == "$1" ]]; then IFS='|' read -r -a _r <<<"$f"; printf '%s\n' "${_r[$2]}"; return 0; fi
  done; return 1
}
is_fixture() { fx_field "$1" 0 >/dev/null; }

# Per-fixture parameters.  Sets: BIN (file name of the fixture binary inside
# the fixture dir), and for deb: PKGVER_PREF PKGVER_GLOB; for src: SRCPKG (the
# Debian source package) PROG (prefix of the programs it builds) SRCVER_PREF
# SRCVER_GLOB UPSTREAM MAKE_ARGS CC_NAME.
fx_params() {
  PKGVER_PREF='' PKGVER_GLOB='' SRCVER_PREF='' SRCVER_GLOB='' UPSTREAM='' CC_NAME=cc DEP=''
  SRCPKG=redis PROG=redis
  MAKE_ARGS=()
  case $1 in
    deb12u10)      BIN=redis-check-rdb PKGVER_PREF='5:7.0.15-1~deb12u10' PKGVER_GLOB='5:7.0.15-1~deb12u10' ;;
    deb12u7)       BIN=redis-check-rdb PKGVER_PREF='5:7.0.15-1~deb12u7'  PKGVER_GLOB='5:7.0.15-1~deb12u7' ;;
    trixie-8.0.2)  BIN=redis-check-rdb PKGVER_PREF='5:8.0.2-3+deb13u2'   PKGVER_GLOB='5:8.0.2-*' ;;
    trixie-valkey-8.1.1)
      BIN=valkey-check-rdb PROG=valkey PKGVER_PREF='8.1.1+dfsg1-3+deb13u2' PKGVER_GLOB='8.1.1+dfsg1-*' ;;
    src-7.0.15-O2g)
      BIN=redis-server SRCVER_PREF='5:7.0.15-1~deb12u10' SRCVER_GLOB='5:7.0.15-*' UPSTREAM=7.0.15 ;;
    src-7.0.15-O3lto)
      # OPTIMIZATION given on make's command line reaches the sub-makes too
      # (MAKEFLAGS), so hiredis is also built -O3 -flto; lua and jemalloc use
      # their own flags.  src/Makefile does not put $(OPT) on the link line,
      # gcc's linker plugin still runs LTO (at -O3, from the objects).
      BIN=redis-server SRCVER_PREF='5:7.0.15-1~deb12u10' SRCVER_GLOB='5:7.0.15-*' UPSTREAM=7.0.15
      MAKE_ARGS=('OPTIMIZATION=-O3 -flto') ;;
    src-7.0.15-clang)
      # Plain CC=clang builds everything (redis, hiredis, lua, and the bundled
      # jemalloc 5.2.1, whose configure picks CC up from make's environment)
      # with clang-14 and keeps the Makefile's -O2 -g -ggdb: no workaround needed.
      BIN=redis-server SRCVER_PREF='5:7.0.15-1~deb12u10' SRCVER_GLOB='5:7.0.15-*' UPSTREAM=7.0.15
      MAKE_ARGS=('CC=clang') CC_NAME=clang ;;
    src-6.0.16)
      BIN=redis-server SRCVER_PREF='5:6.0.16-1+deb11u2' SRCVER_GLOB='5:6.0.16-*' UPSTREAM=6.0.16 ;;
    src-8.0.2)
      # Redis 8's top Makefile only descends into modules/ (which would git
      # clone / download Rust) when BUILD_WITH_MODULES=yes; the default builds
      # just src/ (with the in-tree vector-sets compiled in).  The build also
      # runs without network (unshare -n), so no fetch could happen anyway.
      BIN=redis-server SRCVER_PREF='5:8.0.2-3+deb13u2' SRCVER_GLOB='5:8.0.2-*' UPSTREAM=8.0.2 ;;
    src-7.0.15-O2g-stripped) BIN=redis-server DEP=src-7.0.15-O2g ;;
    src-8.0.2-stripped) BIN=redis-server DEP=src-8.0.2 ;;
    src-valkey-8.1.1)
      # Debian's +dfsg1 tarball only drops two macOS files of hiredis; the
      # bundled jemalloc and lua are there, so upstream's make builds it.
      BIN=valkey-server SRCPKG=valkey PROG=valkey SRCVER_PREF='8.1.1+dfsg1-3+deb13u2' SRCVER_GLOB='8.1.1+dfsg1-*'
      UPSTREAM=8.1.1 ;;
    src-valkey-8.1.1-stripped) BIN=valkey-server PROG=valkey DEP=src-valkey-8.1.1 ;;
    *) return 1 ;;
  esac
}

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

fixture_dir()  { printf '%s/fixtures/%s\n' "$CACHE" "$1"; }
fixture_path() { fx_params "$1"; printf '%s/%s\n' "$(fixture_dir "$1")" "$BIN"; }
is_built()     { fx_params "$1"; [[ -f $(fixture_dir "$1")/BUILD-INFO && -f $(fixture_dir "$1")/$BIN ]]; }

build_id() { readelf -n "$1" 2>/dev/null | awk '/Build ID:/ && !s {print $3; s=1}'; }
has_debug_info() { local s; s=$(readelf -S "$1"); [[ $s == *' .debug_info '* ]]; }
sha256()   { sha256sum "$1" | awk '{print $1}'; }
info_get() { awk -v k="$2: " 'index($0, k) == 1 && !s {print substr($0, length(k) + 1); s=1}' "$1"; }

# Verify a complete fixture: binary present, build-id and sha256 match BUILD-INFO.
verify_fixture() {
  local name=$1 dir bin info
  fx_params "$name"; dir=$(fixture_dir "$name"); bin=$dir/$BIN; info=$dir/BUILD-INFO
  [[ -f $bin && -f $info ]] || { log "$name: incomplete fixture in $dir"; return 1; }
  [[ $(sha256 "$bin") == "$(info_get "$info" sha256)" ]] || { log "$name: sha256 mismatch for $bin"; return 1; }
  [[ $(build_id "$bin") == "$(info_get "$info" build-id)" ]] || { log "$name: build-id mismatch for $bin"; return 1; }
  if [[ -n $DEP ]]; then   # derived fixture: must match the current build of its source
    [[ -f $(fixture_dir "$DEP")/$BIN && $(info_get "$info" source-build-id) == "$(build_id "$(fixture_dir "$DEP")/$BIN")" ]] ||
      { log "$name: stale (its $DEP was rebuilt)"; return 1; }
  fi
  if [[ $BIN == "$PROG-server" && $name == src-* ]]; then
    local f; for f in "$PROG-cli" "$PROG-benchmark"; do
      [[ $name == *-stripped || -x $dir/$f ]] || { log "$name: missing $f"; return 1; }
    done
  fi
}

# ---------------------------------------------------------------- host tools
ensure_packages() { # install only what is missing
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [[ $(id -u) == 0 ]] || die "missing packages ${missing[*]} (run as root or install them)"
  log "installing missing packages: ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    log "apt-get install failed; running apt-get update and retrying"
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
}

# ---------------------------------------------------------------- private apt
APTDIR=$CACHE/apt
APT_OPTS=(
  -o "Dir::Etc::SourceList=$APTDIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
  -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
  -o APT::Default-Release= -o Acquire::Languages=none
)
RUN_ID="$$-$(date +%s%N)"   # lists are refreshed at most once per run

write_sources_list() {
  local opt="signed-by=$KEYRING"
  [[ ${REDPROF_APT_TRUSTED:-0} == 1 ]] && opt="trusted=yes"
  mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
  local new
  new=$(cat <<EOF
# generated by redprof t/fixtures.sh - private to the fixture cache
deb [arch=$ARCH $opt] $MIRROR bookworm main
deb [arch=$ARCH $opt] $SECMIRROR bookworm-security main
deb [arch=$ARCH $opt] $MIRROR trixie main
deb-src [$opt] $MIRROR bookworm main
deb-src [$opt] $SECMIRROR bookworm-security main
deb-src [$opt] $MIRROR bullseye main
deb-src [$opt] $MIRROR trixie main
EOF
)
  if [[ ! -f $APTDIR/sources.list ]] || [[ $(cat "$APTDIR/sources.list") != "$new" ]]; then
    printf '%s\n' "$new" >"$APTDIR/sources.list.tmp"
    mv -f "$APTDIR/sources.list.tmp" "$APTDIR/sources.list"
    rm -f "$APTDIR/lists/"*_Packages* "$APTDIR/lists/"*_Sources* "$APTDIR/lists/"*Release* "$APTDIR/updated"
  fi
}

apt_update() {
  write_sources_list
  [[ $(cat "$APTDIR/updated" 2>/dev/null) != "$RUN_ID" ]] || return 0
  log "apt-get update (private lists in $APTDIR)"
  logged apt-get "${APT_OPTS[@]}" -q update || { log "private apt-get update failed"; return 1; }
  printf '%s\n' "$RUN_ID" >"$APTDIR/updated"
}

apt_lists_present() {
  local p=( "$APTDIR/lists/"*_Sources* ) q=( "$APTDIR/lists/"*_Packages* ); ((${#p[@]} >= 4 && ${#q[@]} >= 3))
}

# pick_version binary|source PKG PREFERRED GLOB -> prints chosen version
pick_version() {
  local kind=$1 pkg=$2 pref=$3 glob=$4 vers v try
  for try in 1 2; do
    write_sources_list
    if ((try == 2)) || ! apt_lists_present; then apt_update || return 1; fi
    if [[ $kind == binary ]]; then
      vers=$(apt-cache "${APT_OPTS[@]}" madison "$pkg" 2>/dev/null | awk -F' [|] ' '$3 ~ /Packages$/ {gsub(/ /,"",$2); print $2}')
    else
      vers=$(apt-cache "${APT_OPTS[@]}" showsrc "$pkg" 2>/dev/null | awk '/^Package: /{p=$2} /^Version: /{if (p=="'"$pkg"'") print $2}')
    fi
    if grep -qxF -- "$pref" <<<"$vers"; then printf '%s\n' "$pref"; return 0; fi
    v=''   # newest version matching the glob, by dpkg's ordering
    while read -r x; do
      # shellcheck disable=SC2053  # $glob is a pattern on purpose
      if [[ -n $x && $x == $glob ]] && { [[ -z $v ]] || dpkg --compare-versions "$x" gt "$v"; }; then v=$x; fi
    done <<<"$vers"
    if [[ -n $v ]]; then
      log "$pkg: preferred version $pref not in the archive, using $v"
      printf '%s\n' "$v"; return 0
    fi
  done
  log "$pkg: no version matching '$glob' in the archive (have: $(tr '\n' ' ' <<<"$vers"))"
  return 1
}

# apt-get runs as root but drops to _apt for downloads; give it a writable dir.
apt_tmpdir() {
  local d; d=$(mktemp -d "$CACHE/downloads/.tmp.XXXXXX")
  if [[ $(id -u) == 0 ]] && getent passwd _apt >/dev/null; then chown _apt "$d"; fi
  printf '%s\n' "$d"
}

# fetch_deb PKG VERSION -> prints path of the cached .deb
fetch_deb() {
  local pkg=$1 ver=$2 dir d f
  dir=$CACHE/downloads/deb; mkdir -p "$dir"
  local want="${pkg}_${ver#*:}_${ARCH}.deb"
  if [[ -f $dir/$want ]] && dpkg-deb -I "$dir/$want" >/dev/null 2>&1; then printf '%s\n' "$dir/$want"; return 0; fi
  d=$(apt_tmpdir)
  log "downloading $pkg=$ver"
  if ! (cd "$d" && logged apt-get "${APT_OPTS[@]}" -q download "$pkg=$ver"); then
    apt_update || true
    (cd "$d" && logged apt-get "${APT_OPTS[@]}" -q download "$pkg=$ver") || { rm -rf "$d"; return 1; }
  fi
  f=("$d"/*.deb); ((${#f[@]} == 1)) || { rm -rf "$d"; log "unexpected download result"; return 1; }
  mv -f "${f[0]}" "$dir/$want"; rm -rf "$d"
  printf '%s\n' "$dir/$want"
}

# fetch_source PKG VERSION -> prints path of the .dsc (orig tarball beside it)
fetch_source() {
  local pkg=$1 ver=$2 dir d f dsc
  dir=$CACHE/downloads/src; mkdir -p "$dir"
  dsc=$dir/${pkg}_${ver#*:}.dsc
  if [[ -f $dsc ]] && check_dsc "$dsc" 2>/dev/null; then printf '%s\n' "$dsc"; return 0; fi
  d=$(apt_tmpdir)
  log "downloading source $pkg=$ver"
  if ! (cd "$d" && logged apt-get "${APT_OPTS[@]}" -q source --download-only "$pkg=$ver"); then
    apt_update || true
    (cd "$d" && logged apt-get "${APT_OPTS[@]}" -q source --download-only "$pkg=$ver") || { rm -rf "$d"; return 1; }
  fi
  for f in "$d"/*; do mv -f "$f" "$dir/"; done   # check_dsc below gates the use of the files
  rm -rf "$d"
  check_dsc "$dsc" || return 1
  printf '%s\n' "$dsc"
}

# check_dsc DSC: every file in Checksums-Sha256 is present with the right hash
check_dsc() {
  local dsc=$1 dir sum name ok=0
  dir=$(dirname "$dsc")
  while read -r sum _ name; do
    [[ -f $dir/$name && $(sha256 "$dir/$name") == "$sum" ]] || { log "checksum mismatch/missing: $dir/$name"; ok=1; }
  done < <(awk '/^Checksums-Sha256:/{f=1; next} /^[^ ]/{f=0} f && NF==3 {print}' "$dsc")
  return $ok
}

orig_tarball() { # DSC -> path of the *.orig.tar.* named in it
  local dsc=$1 n
  n=$(awk '/^Checksums-Sha256:/{f=1; next} /^[^ ]/{f=0} f && $3 ~ /\.orig\.tar\./ {print $3; exit}' "$dsc")
  [[ -n $n ]] || return 1
  printf '%s/%s\n' "$(dirname "$dsc")" "$n"
}

# ---------------------------------------------------------------- builders
STAGE=
new_stage() { # NAME -> staging dir on the same filesystem as fixtures/
  mkdir -p "$CACHE/fixtures"
  STAGE=$(mktemp -d "$CACHE/fixtures/.tmp.$1.XXXXXX")
  chmod 755 "$STAGE"
}

install_stage() { # NAME: atomically move the staging dir into place
  local name=$1 dst old=
  dst=$(fixture_dir "$name")
  if [[ -e $dst ]]; then old=$CACHE/fixtures/.old.$name.$$; mv -T "$dst" "$old"; fi
  mv -T "$STAGE" "$dst"
  STAGE=
  [[ -z $old ]] || rm -rf "$old"
  rm -f "$CACHE/failed/$name"
}

host_info() {
  # shellcheck disable=SC1091
  printf 'host: %s, %s\n' "$(. /etc/os-release; echo "$PRETTY_NAME")" "$(uname -srm)"
}

write_common_info() { # NAME BIN
  printf 'build-id: %s\n' "$(build_id "$2")"
  printf 'sha256: %s\n' "$(sha256 "$2")"
  printf 'date: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  host_info
}

build_deb() {
  local name=$1 ver deb x bin vout pkg rdb
  fx_params "$name"
  pkg=$PROG-tools rdb=$PROG-check-rdb
  ver=$(pick_version binary "$pkg" "$PKGVER_PREF" "$PKGVER_GLOB") || return 1
  deb=$(fetch_deb "$pkg" "$ver") || return 1
  log "$name: extracting usr/bin/$rdb from $deb"
  new_stage "$name"
  x=$STAGE/.x; dpkg-deb -x "$deb" "$x"
  [[ -f $x/usr/bin/$rdb && ! -L $x/usr/bin/$rdb ]] || { log "$name: no usr/bin/$rdb in $deb"; return 1; }
  mv "$x/usr/bin/$rdb" "$STAGE/$rdb"
  rm -rf "$x"
  ln -s "$rdb" "$STAGE/$PROG-server"
  bin=$STAGE/$rdb
  vout=$(cd "$STAGE" && "./$PROG-server" --version 2>&1 | head -n1) || vout="does not run here: $vout"
  {
    printf 'name: %s\n' "$name"
    printf 'kind: Debian binary package (apt-get download + dpkg-deb -x)\n'
    printf 'package: %s %s\n' "$pkg" "$ver"
    printf 'origin: %s\n' "$(apt-cache "${APT_OPTS[@]}" madison "$pkg" | awk -F' [|] ' -v v="$ver" '{gsub(/ /,"",$2)} $2==v && $3 ~ /Packages$/ {print $3; exit}')"
    printf 'deb: %s sha256=%s\n' "$(basename "$deb")" "$(sha256 "$deb")"
    printf 'file: usr/bin/%s (%s-server is a symlink to it in Debian)\n' "$rdb" "$PROG"
    printf 'version-output: %s\n' "$vout"
    write_common_info "$name" "$bin"
  } >"$STAGE/BUILD-INFO"
  if [[ $name == deb12u10 && -f /usr/bin/redis-check-rdb ]]; then
    printf 'same-as-installed-/usr/bin/redis-check-rdb: %s\n' \
      "$([[ $(build_id /usr/bin/redis-check-rdb) == "$(build_id "$bin")" ]] && echo yes || echo no)" >>"$STAGE/BUILD-INFO"
  fi
  cp "$LOGFILE" "$STAGE/build.log"
  install_stage "$name"
}

build_strip() {
  local name=$1 src bin
  fx_params "$name"
  src=$(fixture_dir "$DEP")/$BIN
  [[ -f $src ]] || { log "$name: needs $DEP"; return 1; }
  new_stage "$name"
  strip -o "$STAGE/$BIN" "$src"
  bin=$STAGE/$BIN
  [[ $(build_id "$bin") == "$(build_id "$src")" && -n $(build_id "$bin") ]] || { log "$name: build-id changed by strip"; return 1; }
  if has_debug_info "$bin"; then log "$name: still has .debug_info"; return 1; fi
  {
    printf 'name: %s\n' "$name"
    printf 'kind: stripped copy of %s\n' "$DEP"
    printf 'command: strip -o %s %s\n' "$BIN" "$src"
    printf 'strip: %s\n' "$(strip --version | head -n1)"
    printf 'source-build-id: %s\n' "$(build_id "$src")"
    write_common_info "$name" "$bin"
  } >"$STAGE/BUILD-INFO"
  readelf -n "$bin" >>"$LOGFILE"
  cp "$LOGFILE" "$STAGE/build.log"
  install_stage "$name"
}

# Start the freshly built server on a unix socket only, PING it, shut it down.
smoke_test() { # DIR PROG
  local dir=$1 prog=$2 t pid i ok=1
  t=$(mktemp -d /tmp/redprof-smoke.XXXXXX)
  "$dir/$prog-server" --port 0 --unixsocket "$t/s.sock" --daemonize no --save '' \
      --appendonly no --dir "$t" --logfile "$t/server.log" >>"$LOGFILE" 2>&1 </dev/null &
  pid=$! SMOKE_PID=$!
  for ((i = 0; i < 100; i++)); do
    if [[ -S $t/s.sock ]] && [[ $("$dir/$prog-cli" -s "$t/s.sock" ping 2>/dev/null) == PONG ]]; then ok=0; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  "$dir/$prog-cli" -s "$t/s.sock" shutdown nosave >/dev/null 2>&1 || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  SMOKE_PID=
  cat "$t/server.log" >>"$LOGFILE" 2>/dev/null || true
  rm -rf "$t"
  return $ok
}

build_src() {
  local name=$1 ver dsc tarball bdir top t0 cmd ccver rc net=() bin sde
  fx_params "$name"
  ver=$(pick_version source "$SRCPKG" "$SRCVER_PREF" "$SRCVER_GLOB") || { REASON="no Debian source package $SRCPKG $SRCVER_GLOB"; return 1; }
  dsc=$(fetch_source "$SRCPKG" "$ver") || { REASON="cannot download source $SRCPKG=$ver"; return 1; }
  tarball=$(orig_tarball "$dsc") || { REASON="no orig tarball in $dsc"; return 1; }
  bdir=$CACHE/build/$name
  rm -rf "$bdir"; mkdir -p "$bdir"
  log "$name: unpacking $(basename "$tarball") into $bdir"
  tar -xf "$tarball" -C "$bdir"
  top=$bdir/$PROG-$UPSTREAM
  [[ -f $top/Makefile && -f $top/src/Makefile ]] || { REASON="unexpected tarball layout"; return 1; }
  # Build with a clean environment (the caller's CFLAGS/CC/MAKEFLAGS etc. must
  # not leak into the Redis Makefile) and, if possible, without network.
  if unshare -n true 2>/dev/null; then net=(unshare -n); fi
  # Reproducible builds: Redis' mkreleasehdr.sh puts `uname -n`-`date +%s` into
  # REDIS_BUILD_ID (hence into the GNU build-id) unless SOURCE_DATE_EPOCH is
  # set; use the upstream release time (mtime of src/version.h in the tarball).
  # With the same cache path (the DWARF holds the build dir) and toolchain,
  # a rebuild gives the same build-id.  This is an environment variable for
  # the release header only, not a compiler flag.
  sde=$(stat -c %Y "$top/src/version.h")
  cmd=(make -j"$JOBS" V=1 "${MAKE_ARGS[@]}")
  ccver=$("$CC_NAME" --version | head -n1)
  log "$name: ${cmd[*]} (in $top, $ccver; log: $LOGFILE)"
  {
    printf '### redprof fixture %s: %s\n' "$name" "$(date -u +%FT%TZ)"
    printf '### source: %s %s (%s)\n### cwd: %s\n### command: %s\n' "$SRCPKG" "$ver" "$(basename "$tarball")" "$top" "$(printf '%q ' "${cmd[@]}")"
  } >>"$LOGFILE"
  t0=$SECONDS
  # `timeout` makes itself a process-group leader (so the whole make tree can
  # be killed); run it in the background and wait, so a TERM to this subshell
  # is handled at once (on_child_signal forwards it to timeout).
  set +e
  (
    cd "$top"
    exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$bdir" LC_ALL=C TERM=dumb SOURCE_DATE_EPOCH="$sde" \
      "${net[@]}" timeout "$BUILD_TIMEOUT" "${cmd[@]}"
  ) >>"$LOGFILE" 2>&1 </dev/null &
  BUILD_PID=$!
  if [[ ${REDPROF_VERBOSE:-0} == 1 ]]; then tail -n +1 -f --pid="$BUILD_PID" "$LOGFILE" >&2 & fi
  wait "$BUILD_PID"
  rc=$?
  BUILD_PID=
  set -e
  if ((rc != 0)); then
    REASON="make failed (exit $rc$( ((rc == 124)) && echo ", timed out after ${BUILD_TIMEOUT}s")), see $LOGFILE"
    log "$name: $REASON; last lines:"; tail -n 25 "$LOGFILE" >&2
    return 1
  fi
  log "$name: built in $((SECONDS - t0))s"
  new_stage "$name"
  for bin in "$PROG-server" "$PROG-cli" "$PROG-benchmark"; do
    [[ -f $top/src/$bin ]] || { REASON="make produced no src/$bin"; return 1; }
    cp -p "$top/src/$bin" "$STAGE/$bin"
  done
  bin=$STAGE/$BIN
  [[ -n $(build_id "$bin") ]] || { REASON="$BIN has no GNU build-id"; return 1; }
  has_debug_info "$bin" || { REASON="$BIN has no .debug_info"; return 1; }
  local vout; vout=$("$bin" --version 2>&1 | head -n1) || { REASON="$BIN --version failed: $vout"; return 1; }
  smoke_test "$STAGE" "$PROG" || { REASON="$BIN did not answer PING on a unix socket (see $LOGFILE)"; return 1; }
  log "$name: $vout; PING ok"
  {
    printf 'name: %s\n' "$name"
    printf 'kind: source build of the upstream tarball from the Debian source package (Debian patches NOT applied)\n'
    printf 'source-package: %s %s\n' "$SRCPKG" "$ver"
    printf 'orig-tarball: %s sha256=%s\n' "$(basename "$tarball")" "$(sha256 "$tarball")"
    printf 'build-dir: %s (DW_AT_comp_dir; %s)\n' "$top" \
      "$([[ ${REDPROF_KEEP_BUILD:-0} == 1 ]] && echo kept || echo 'removed after build: untar the orig tarball there for source listings')"
    printf 'make-command: cd %s && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C SOURCE_DATE_EPOCH=%s %s%s\n' "$top" "$sde" "$( ((${#net[@]})) && echo 'unshare -n ')" "$(printf '%q ' "${cmd[@]}")"
    printf 'compiler: %s\n' "$ccver"
    printf 'compile-command-server.c: %s\n' "$(grep -m1 -e ' -c server\.c' "$LOGFILE" | sed 's/ -I[^ ]*//g' || true)"
    printf 'link-command-%s: %s\n' "$BIN" "$(grep -m1 -e " -o $BIN " "$LOGFILE" | sed 's/ [^ ]*\.o\>//g' || true)"
    printf 'version-output: %s\n' "$vout"
    printf 'smoke-test: %s --port 0 --unixsocket ... answered PING\n' "$BIN"
    printf 'build-seconds: %s\n' "$((SECONDS - t0))"
    write_common_info "$name" "$bin"
  } >"$STAGE/BUILD-INFO"
  cp "$LOGFILE" "$STAGE/build.log"
  install_stage "$name"
  [[ ${REDPROF_KEEP_BUILD:-0} == 1 ]] || rm -rf "$bdir"
}

# Build one fixture.  Runs in a subshell with errexit active (so it must not
# be called in an if/||/&& context): any failing command ends it, the EXIT
# trap removes the staging dir and records the reason in failed/NAME.
REASON=
FX_NAME=
BUILD_PID=
SMOKE_PID=
# shellcheck disable=SC2317  # trap handlers
build_one_exit() {
  local rc=$?
  [[ -z $STAGE ]] || rm -rf "$STAGE"
  if ((rc == 143)); then
    rm -f "$CACHE/failed/$FX_NAME"        # interrupted: not a verdict on the fixture
  elif ((rc)); then
    printf '%s\n' "$REASON" >"$CACHE/failed/$FX_NAME"
  fi
  return "$rc"
}
# shellcheck disable=SC2317
on_child_signal() {
  trap '' TERM INT HUP
  [[ -z $SMOKE_PID ]] || kill -9 "$SMOKE_PID" 2>/dev/null || true
  if [[ -n $BUILD_PID ]]; then kill -TERM "$BUILD_PID" 2>/dev/null || true; wait "$BUILD_PID" 2>/dev/null || true; fi
  log "$FX_NAME: interrupted"
  exit 143
}
build_one() {
  FX_NAME=$1
  mkdir -p "$CACHE/logs" "$CACHE/failed"
  LOGFILE=$CACHE/logs/$FX_NAME.log
  : >"$LOGFILE"
  trap build_one_exit EXIT
  trap on_child_signal TERM INT HUP
  REASON="failed, see $LOGFILE"
  case $(fx_field "$FX_NAME" 1) in
    deb)   build_deb "$FX_NAME" ;;
    strip) build_strip "$FX_NAME" ;;
    src)   build_src "$FX_NAME" ;;
  esac
}

# ---------------------------------------------------------------- main
FORCE=0
case ${1:-} in
  -h|--help) usage; exit 0 ;;
  --list)
    for f in "${FIXTURES[@]}"; do IFS='|' read -r n _ d <<<"$f"; printf '%-24s %s\n' "$n" "$d"; done
    exit 0 ;;
  --path)
    [[ $# == 2 ]] || { usage >&2; exit 2; }
    is_fixture "$2" || { log "unknown fixture: $2"; exit 2; }
    if is_built "$2"; then fixture_path "$2"; exit 0; fi
    exit 1 ;;
  --force) FORCE=1; shift ;;
  -*) usage >&2; exit 2 ;;
esac

EXPLICIT=1
if (($# == 0)); then EXPLICIT=0; mapfile -t NAMES < <(all_names); else NAMES=("$@"); fi
for n in "${NAMES[@]}"; do is_fixture "$n" || { log "unknown fixture: $n (see --list)"; exit 2; }; done
REQUESTED=("${NAMES[@]}")   # what gets reported; NAMES also gets dependencies
# dependencies: the stripped fixture needs its unstripped build
want=" ${NAMES[*]} "
for n in "${NAMES[@]}"; do
  fx_params "$n"
  if [[ -n $DEP && $want != *" $DEP "* ]]; then NAMES=("$DEP" "${NAMES[@]}"); want=" ${NAMES[*]} "; fi
done
# keep the canonical order
mapfile -t NAMES < <(for n in $(all_names); do [[ $want == *" $n "* ]] && printf '%s\n' "$n"; done)

CHILD=
# shellcheck disable=SC2317
on_main_signal() {
  trap '' INT TERM HUP
  if [[ -n $CHILD ]]; then kill -TERM "$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
  log "interrupted"
  exit "$1"
}
trap 'on_main_signal 130' INT; trap 'on_main_signal 143' TERM; trap 'on_main_signal 129' HUP

T0=$SECONDS
FAILED_NOW=" "   # fixtures whose build failed in this run (with --force an older copy may remain)
need_build=()
for n in "${NAMES[@]}"; do
  if ((FORCE)) || ! is_built "$n"; then need_build+=("$n")
  elif ! verify_fixture "$n"; then log "$n: cached fixture fails verification, rebuilding"; need_build+=("$n")
  else fx_params "$n"; if [[ -n $DEP && " ${need_build[*]} " == *" $DEP "* ]]; then need_build+=("$n"); fi
  fi
done

if ((${#need_build[@]})); then
  mkdir -p "$CACHE" "$CACHE/downloads"
  exec 9>"$CACHE/.lock"
  flock -n 9 || { log "waiting for the lock on $CACHE"; flock 9; }
  # leftovers of runs that died (we hold the lock, so nobody else is using them)
  rm -rf "$CACHE"/fixtures/.tmp.* "$CACHE"/fixtures/.old.* "$CACHE"/downloads/.tmp.*
  ensure_packages make gcc g++ libc6-dev binutils debian-archive-keyring
  [[ " ${need_build[*]} " == *" src-7.0.15-clang "* ]] && ensure_packages clang
  for n in "${need_build[@]}"; do
    if ((!FORCE)) && is_built "$n" && verify_fixture "$n"; then continue; fi  # built by a concurrent run
    if ((!FORCE)) && [[ -f $CACHE/failed/$n && $OPTIONAL_FIXTURES == *" $n "* ]]; then
      continue   # known-unavailable optional fixture: reported below, retried only with --force
    fi
    fx_params "$n"
    if [[ -n $DEP ]] && ! is_built "$DEP"; then
      printf 'dependency %s is not available\n' "$DEP" >"$CACHE/failed/$n"; log "$n: skipped, $DEP not built"; continue
    fi
    log "$n: building ($(fx_field "$n" 2))"
    t=$SECONDS
    # build in a background subshell + wait, so that INT/TERM reach on_main_signal
    # at once (it forwards TERM to the subshell, which stops make and cleans up)
    set +e; ( set -e; build_one "$n" ) & CHILD=$!; wait "$CHILD"; rc=$?; CHILD=; set -e
    if ((rc == 0)); then log "$n: done in $((SECONDS - t))s"
    else log "$n: FAILED after $((SECONDS - t))s: $(cat "$CACHE/failed/$n" 2>/dev/null)"; FAILED_NOW+=" $n "; fi
    ((rc != 130 && rc != 143)) || exit "$rc"
  done
fi

status=0
for n in "${REQUESTED[@]}"; do
  if [[ $FAILED_NOW != *" $n "* ]] && is_built "$n" && verify_fixture "$n"; then
    printf '%s %s\n' "$n" "$(fixture_path "$n")"
  else
    reason=$(cat "$CACHE/failed/$n" 2>/dev/null || echo 'not built')
    if ((EXPLICIT == 0)) && [[ $OPTIONAL_FIXTURES == *" $n "* ]]; then
      log "$n: unavailable (optional): $reason"
    else
      log "$n: UNAVAILABLE: $reason"; status=1
    fi
  fi
done
log "finished in $((SECONDS - T0))s"
exit $status
