#!/bin/bash
# e2e-container.t: a Redis in a container, seen from the host. The server
# runs chrooted into its own root file system, in its own mount and PID
# namespaces, from a path that does not exist on the host; its debug file
# lives only inside that root. redprof must reach the executable through
# /proc/PID/exe and the debug file through /proc/PID/root, never through the
# host's paths, and still attach real uprobes by the host's PID.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd unshare chroot ldd readelf redis-cli redis-benchmark jq
require_fixtures src-7.0.15-O2g src-7.0.15-O2g-stripped deb12u10

INNER=/opt/ctr-redis/bin/redis-server	# the server's path inside its root

# rootfs DIR BINARY: a root file system holding BINARY at $INNER and the
# shared libraries it loads.
rootfs() {
	local dir=$1 bin=$2 lib
	mkdir -p "$dir$(dirname "$INNER")" "$dir/data"
	cp "$bin" "$dir$INNER"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		cp -L --parents "$lib" "$dir"
	done
}

# contained NAME ROOT [redis-server options...]: runs $INNER chrooted into
# ROOT in new mount and PID namespaces; sets NAME_PORT and NAME_PID (the
# host's PID: inside, the server is PID 1).
contained() {
	local name=$1 root=$2 port outer pid=""
	shift 2
	port=$(free_port) || bail "no free port"
	unshare --mount --pid --fork --kill-child chroot "$root" "$INNER" --port "$port" \
		--bind 127.0.0.1 --save '' --appendonly no --dir /data "$@" >"$root/log" 2>&1 &
	outer=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $outer"
	answers "$port" 5 "$outer" || { sed 's/^/# /' "$root/log" | tail -5; bail "the contained redis-server $name did not start"; }
	pid=$(cat "/proc/$outer/task/$outer/children")
	pid=${pid%% }
	CLEANUP_PIDS="$CLEANUP_PIDS $pid"
	eval "${name}_PORT=$port ${name}_PID=$pid"
}

build_id() { readelf -n "$1" | sed -n 's/.*Build ID: //p'; }

# --- A stripped build whose debug file is only inside the container -------
ROOT=$TMPDIR_T/ctr
rootfs "$ROOT" "${BIN[src-7.0.15-O2g-stripped]}"
BID=$(build_id "${BIN[src-7.0.15-O2g-stripped]}")
is "$(build_id "${BIN[src-7.0.15-O2g]}")" "$BID" "the stripped fixture and its unstripped build share a build-id"
DEBUG=/usr/lib/debug/.build-id/${BID:0:2}/${BID:2}.debug
mkdir -p "$ROOT$(dirname "$DEBUG")"
cp "${BIN[src-7.0.15-O2g]}" "$ROOT$DEBUG"
[ ! -e "$INNER" ] && [ ! -e "$DEBUG" ]
ok $? "neither $INNER nor the debug file exists on the host"

contained ctr "$ROOT" --maxmemory 20mb --maxmemory-policy allkeys-lru
is "$(readlink "/proc/$ctr_PID/exe")" "$ROOT$INNER" "the host sees the server's executable inside the container's root"
is "$(info "$ctr_PORT" process_id)" 1 "inside its PID namespace the server is PID 1, so redprof gets the host's PID"

"$REDPROF" offsets generate -p "$ctr_PID" >"$TMPDIR_T/ctr.offsets" 2>"$TMPDIR_T/ctr.gen.err"
ok $? "offsets generate -p works on the contained server" || sed 's/^/#   /' "$TMPDIR_T/ctr.gen.err"
grep -q "^build-id $BID\$" "$TMPDIR_T/ctr.offsets"
ok $? "the generated file is keyed by the contained binary's build-id"
grep -q "^value mem_tofree .* dwarf$" "$TMPDIR_T/ctr.offsets"
ok $? "mem_tofree was found with DWARF: the debug file was read through /proc/PID/root" ||
	grep "^value mem_tofree" "$TMPDIR_T/ctr.offsets" | sed 's/^/#   /'

redis-benchmark -p "$ctr_PORT" -t set -n 50000 -r 1000000 -d 512 -c 20 -q >/dev/null 2>&1
before=$(info "$ctr_PORT" evicted_keys)
start_redprof "$TMPDIR_T/ctr.jsonl" "$TMPDIR_T/ctr.err" -p "$ctr_PID" --json -i 0.5 --offsets-dir "$NO_OFFSETS"
wait_lines "$TMPDIR_T/ctr.jsonl" 1
redis-benchmark -p "$ctr_PORT" -t set -n 40000 -r 1000000 -d 512 -c 20 -q >/dev/null 2>&1
kill -INT "$RP_PID"
wait_exit "$RP_PID"
delta=$(($(info "$ctr_PORT" evicted_keys) - before))
total=$(tail -n 1 "$TMPDIR_T/ctr.jsonl")
is "$EXIT_STATUS" 0 "redprof -p attached to the contained server and exited 0" || sed 's/^/#   /' "$TMPDIR_T/ctr.err"
grep -q "^redprof: offsets: generated on the fly (dwarf strategy)$" "$TMPDIR_T/ctr.err"
ok $? "it generated the offsets on the fly with DWARF from inside the container"
echo "$total" | jq -e '.histograms.mem_tofree | .count > 1000 and .min > 0' >/dev/null
ok $? "mem_tofree measured in the container: $(echo "$total" | jq -c '.histograms.mem_tofree | {count,min,max}')"
keys=$(echo "$total" | jq '.keys_evicted // -1')
[ "$delta" -gt 1000 ] && [ $(((keys - delta) * 50)) -le "$delta" ] && [ $(((delta - keys) * 50)) -le "$delta" ]
ok $? "keys_evicted ($keys) matches the contained server's evicted_keys delta ($delta) within 2%"
redis-cli -p "$ctr_PORT" shutdown nosave >/dev/null 2>&1

# --- Debian's package in a container: its offset file by build-id ----------
# The file keyed by the contained binary's build-id in an offsets directory:
# the shipped one when offsets/ has it, else one generated here (the
# archive may serve a build newer than the shipped files).
DROOT=$TMPDIR_T/deb
rootfs "$DROOT" "${BIN[deb12u10]}"
DEB_ID=$(build_id "${BIN[deb12u10]}")
DIR=$top_srcdir/offsets
WANT=$(grep -lx "build-id $DEB_ID" "$DIR"/*.offsets 2>/dev/null | head -n 1)
if [ -z "$WANT" ]; then
	DIR=$TMPDIR_T/offsets
	WANT=$DIR/deb.offsets
	mkdir -p "$DIR"
	"$REDPROF" offsets generate "${BIN[deb12u10]}" -o "$WANT" 2>/dev/null
	diag "no shipped file for build-id $DEB_ID: looking one generated here up by build-id instead"
fi
contained deb "$DROOT" --maxmemory 20mb --maxmemory-policy allkeys-lru
start_redprof "$TMPDIR_T/deb.out" "$TMPDIR_T/deb.err" -p "$deb_PID" --text -d 1 --offsets-dir "$DIR"
wait_exit "$RP_PID"
is "$EXIT_STATUS" 0 "redprof -p runs against Debian's redis-server in a container" || sed 's/^/#   /' "$TMPDIR_T/deb.err"
grep -qxF "redprof: offsets: $WANT (disasm strategy)" "$TMPDIR_T/deb.err"
ok $? "it uses $(basename "$WANT"), matched by the contained binary's build-id" || sed 's/^/#   /' "$TMPDIR_T/deb.err"
redis-cli -p "$deb_PORT" shutdown nosave >/dev/null 2>&1

echo "1..$TAP_N"
done_testing
