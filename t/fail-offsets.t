#!/bin/bash
# fail-offsets.t: the failure catalogue, offset files and executables.
# Every malformed offset file given with --offsets (and a directory, a
# missing file, a file for another build or whose site misses an
# instruction) is refused before anything is attached, naming FILE:LINE or
# the check that failed, and how to make a good one; a file saved with CRLF
# line ends is read as it is. A truncated, corrupted or foreign executable
# given to `offsets generate` is named as such. The base file is generated
# from the running server, so any Debian revision of redis-server will do.
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fail-lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq bpftool readelf

evicting main
PORT=$main_PORT
PID=$main_PID
EXE=$(readlink -f /usr/bin/redis-server)
BASE=$TMPDIR_T/base.offsets
"$REDPROF" offsets generate -p "$PID" -o "$BASE" 2>/dev/null || bail "cannot generate the base offset file"
FIX="Nothing was attached; fix the file, or make one for this build with: redprof offsets generate -p $PID"

# variant NAME SED-SCRIPT: the base file changed by sed (never a no-op); sets F.
variant() {
	F="$TMPDIR_T/$1.offsets"
	sed "$2" "$BASE" >"$F"
	cmp -s "$F" "$BASE" && bail "variant $1 leaves the file unchanged"
}

# line_of KEY: the number of the base file's first line starting with KEY.
line_of() { grep -n "^$1 " "$BASE" | head -1 | cut -d: -f1; }

# bad_file CASE PROBLEM: redprof -p PID --offsets F refused with PROBLEM.
bad_file() {
	refused "$1" 3 "$2" "$FIX" "$PID" "$PORT" -p "$PID" --offsets "$F" --text -d 1
}

variant version 's/^redprof-offsets [0-9]*$/redprof-offsets 3/'
bad_file "a newer format" "$F:$(line_of redprof-offsets): format 3 is not supported"
variant noformat '/^redprof-offsets /d'
bad_file "no format line" "$F:$(($(line_of build-id) - 1)): not a redprof offset file"
F=$TMPDIR_T/empty.offsets
: >"$F"
bad_file "an empty file" "$F: empty file"
variant badid 's/^build-id \(.*\)$/build-id \1x/'
bad_file "a malformed build-id" "$F:$(line_of build-id): malformed build-id"
other=$(sed -n 's/^build-id \(.\).*/\1/p' "$BASE" | tr 0-9a-f 1-9a-f0)
variant otherid "s/^build-id ./build-id $other/"
bad_file "another build's file" "$F does not fit PID $PID: the file is for build-id $other"
site=$(line_of site)
variant dupsite "${site}p"
bad_file "a duplicate site" "$F:$((site + 1)): duplicate site"
variant unknown '$a probe performEvictions+1'
bad_file "an unknown key" "$F:$(($(wc -l <"$BASE") + 1)): unknown key 'probe'"
variant escape "s/^build-id /build-id $(printf '\033')[31m/"
bad_file "a control character" "$F:$(line_of build-id): control character 0x1b"
F=$TMPDIR_T/binary.offsets
{ cat "$BASE"; printf 'x\0y\n'; } >"$F"
bad_file "a binary file" "$F: not a text file"
F=$TMPDIR_T/shifted.offsets
awk '$1 == "site" && !done { split($3, a, "+"); $3 = a[1] "+" (a[2] + 1); done = 1 } { print }' "$BASE" >"$F"
bad_file "a site one byte off" "$F does not fit PID $PID: site .* is not on an instruction boundary|file offset .* is wrong"
variant register 's/^\(value mem_tofree [^ ]* \)[a-z0-9]*/\1rdi/'
bad_file "a value from a register the code does not set there" "$F does not fit PID $PID: mem_tofree at .*rdi"
F=$TMPDIR_T/missing.offsets
bad_file "a missing file" "$F: No such file or directory"
F=$TMPDIR_T
refused "a directory given to --offsets" 3 "$F is a directory: give an offset file" "--offsets-dir takes a directory" \
	"$PID" "$PORT" -p "$PID" --offsets "$F" --text -d 1

# CRLF line ends mean the same file.
variant crlf 's/$/\r/'
around_capture "$PORT"
rp -p "$PID" --offsets "$F" --json -i 0.5 -d 2
load_stop
exits 0 "a file with CRLF line ends"
says "offsets: $F" "strategy" "a file with CRLF line ends"
echo "$OUT" | tail -n 1 | jq -e '.type == "total" and .histograms.mem_tofree.count > 0' >/dev/null
ok $? "a file with CRLF line ends: its sites give mem_tofree"
nothing_attached "$PID" "a file with CRLF line ends"
still_serves "$PORT" "a file with CRLF line ends"

# --- --offsets-dir ---------------------------------------------------------
refused "a mistyped --offsets-dir" 2 "--offsets-dir $TMPDIR_T/ofsets: No such file or directory" \
	"give the directory that holds the offset files" "$PID" "$PORT" -p "$PID" --offsets-dir "$TMPDIR_T/ofsets" -d 1
refused "a file given to --offsets-dir" 2 "--offsets-dir $BASE is not a directory" "or the file itself with --offsets" \
	"$PID" "$PORT" -p "$PID" --offsets-dir "$BASE" -d 1
refused "--offsets and --offsets-dir together" 2 "--offsets and --offsets-dir exclude each other" "give one" \
	"$PID" "$PORT" -p "$PID" --offsets "$BASE" --offsets-dir "$TMPDIR_T" -d 1
mkdir -p "$TMPDIR_T/dir"
cp "$BASE" "$TMPDIR_T/dir/mine.offsets"
rp -p "$PID" --offsets-dir "$TMPDIR_T/dir" --json -d 1
exits 0 "--offsets-dir with this build's file"
says "offsets: $TMPDIR_T/dir/mine.offsets" "strategy" "--offsets-dir with this build's file"

# --- executables that offsets generate cannot read --------------------------
# gen CASE STATUS PROBLEM FIX FILE: offsets generate FILE fails so.
gen() {
	rp offsets generate "$5"
	exits "$2" "$1"
	says "$3" "$4" "$1"
}
size=$(stat -c %s "$EXE")
for keep in 30 5000 $((size / 2)) $((size - 1)); do
	head -c $keep "$EXE" >"$TMPDIR_T/cut"
	gen "an executable cut to $keep bytes" 3 "cut is truncated or corrupted" "Copy the executable again" "$TMPDIR_T/cut"
done
cp "$EXE" "$TMPDIR_T/corrupt"
fn=$((0x$(readelf -sW "$EXE" | awk '$8 == "performEvictions" { print $2; exit }')))
off=$(readelf -lW "$EXE" | while read -r type foff va _ fsz _; do
	[ "$type" = LOAD ] && ((fn >= va && fn < va + fsz)) && echo $((fn - va + foff)) && break
done)
[ -n "$off" ] || bail "performEvictions is in no LOAD segment of $EXE"
printf '\006\006\006\006\006\006\006\006' | dd of="$TMPDIR_T/corrupt" bs=1 seek=$((off + 40)) conv=notrunc 2>/dev/null
gen "corrupted code in performEvictions" 3 "performEvictions cannot be read as code: its bytes are not valid x86-64" \
	"use an intact copy" "$TMPDIR_T/corrupt"
rp offsets show "$BASE" "$TMPDIR_T/corrupt"
exits 3 "offsets show against corrupted code"
says "does not fit .*corrupt: performEvictions cannot be read as code" "use an intact copy" \
	"offsets show against corrupted code"
gen "a directory" 3 "cannot read $TMPDIR_T: Is a directory" "redprof" "$TMPDIR_T"
gen "an ELF that is not Redis" 3 "is not a Redis or Valkey server" "no processCommand and server symbols" /bin/true
gen "a text file" 3 "is not an x86-64 ELF executable" "redprof" /etc/hostname

# --- the command line says what it is ------------------------------------
rp offsets --no-such-option
exits 2 "an unknown option of offsets"
says "redprof offsets: unrecognized option" "Try .redprof offsets --help'" "an unknown option of offsets"
rp --help
echo "$OUT" | grep -q "Needs root, or the capabilities CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE"
ok $? "--help says redprof needs root or its capabilities"

echo "1..$TAP_N"
done_testing
