#!/bin/bash
# offsets-cmd.t: `redprof offsets generate` and `redprof offsets show` as
# people use them, on model builds (t/model/) and a running model of the
# same user, without root: a file on standard output or -o, from a binary or
# -p PID (the same file); show with and without the binary, and -p PID with
# the file redprof would choose (shipped or generated); every bad command
# line and unusable binary with its exit code and message. And `redprof -p`
# on a model without the privileges BPF needs: exit 4 with what to grant.
. "$top_srcdir/t/lib.sh"

MODELS="$top_builddir/t/model"
[ -r "$MODELS/builds" ] || bail "$MODELS/builds is missing: run make check, which builds the models first"
MODEL=$MODELS/evict-model-gcc-O2-redis7
STRIPPED=$MODELS/evict-model-gcc-O2-redis7-stripped

# run ARGS...: redprof with a time limit; sets RC, OUT, ERR.
run() {
	OUT=$(timeout 60 "$REDPROF" "$@" 2>"$TMPDIR_T/err")
	RC=$?
	ERR=$(cat "$TMPDIR_T/err")
}

# says RC TEXT DESCRIPTION: the last run exited RC and its stderr has TEXT.
says() {
	is "$RC" "$1" "$3: exit $1"
	case "$ERR" in
	*"$2"*) ok 0 "$3: says '$2'" ;;
	*) ok 1 "$3: says '$2'"; diag "  got: $ERR" ;;
	esac
}

# start_model NAME [RUNAS...]: a model waiting for commands on a fifo, after one
# command that evicts; sets NAME_PID.
start_model() {
	local name=$1 fifo="$TMPDIR_T/$1.in" out="$TMPDIR_T/$1.out"
	shift
	mkfifo "$fifo"
	"$@" "$MODEL" <"$fifo" >"$out" 2>&1 &
	eval "${name}_PID=$!"
	exec {fd}>"$fifo"
	echo "5000000,150000,4840000" >&"$fd"
	wait_lines "$out" 1 10 || bail "the model $name did not answer: $(cat "$out")"
	eval "CLEANUP_PIDS=\"\$CLEANUP_PIDS \$${name}_PID\""
}

# --- generate --------------------------------------------------------------
run offsets generate "$MODEL"
says 0 "redprof: redis 0.1.0, build-id " "generate to standard output"
echo "$OUT" >"$TMPDIR_T/stdout.offsets"
run offsets show "$TMPDIR_T/stdout.offsets" "$MODEL"
is "$RC" 0 "what generate prints is a file show accepts" || diag "  $ERR"
run offsets generate "$MODEL" -o "$TMPDIR_T/file.offsets"
is "$RC" 0 "generate -o FILE"
cmp -s "$TMPDIR_T/file.offsets" "$TMPDIR_T/stdout.offsets"
ok $? "... writes what it prints"

start_model own
run offsets generate -p "$own_PID" -o "$TMPDIR_T/pid.offsets"
is "$RC" 0 "generate -p PID of a running model" || diag "  $ERR"
cmp -s "$TMPDIR_T/pid.offsets" "$TMPDIR_T/file.offsets"
ok $? "... gives the file of its executable"

# --- show ------------------------------------------------------------------
SITE=$(awk '$1 == "site" { print $3; exit }' "$TMPDIR_T/file.offsets")
run offsets show "$TMPDIR_T/file.offsets" "$MODEL"
is "$RC" 0 "show FILE BINARY"
grep -F "=> $SITE " <<<"$OUT" | grep -q 'emulated$' && grep -q "runs only when mem_used > maxmemory" <<<"$OUT"
ok $? "... marks the site $SITE in the disassembly, as a slow-path site" || diag "  $OUT"
grep -qE '^ +mem_tofree += [^ ]+ +\(disasm\)$' <<<"$OUT" && grep -q '^delete calls' <<<"$OUT" &&
	grep -qE '^  stat_evictedkeys +server\+[0-9]+ \(0x[0-9a-f]+, disasm\)$' <<<"$OUT"
ok $? "... with its values, delete calls and globals" || diag "  $OUT"
run offsets show "$TMPDIR_T/file.offsets"
is "$RC" 0 "show FILE without the binary"
grep -q 'give the executable to see the disassembly' <<<"$OUT"
ok $? "... says the binary shows the disassembly"

mkdir "$TMPDIR_T/shipped"
run offsets show -p "$own_PID" --offsets-dir "$NO_OFFSETS"
is "$RC" 0 "show -p PID with no shipped file"
grep -q '^  source: generated on the fly$' <<<"$OUT"
ok $? "... shows the file generated on the fly" || diag "  $OUT"
cp "$TMPDIR_T/file.offsets" "$TMPDIR_T/shipped/model.offsets"
run offsets show -p "$own_PID" --offsets-dir "$TMPDIR_T/shipped"
is "$RC" 0 "show -p PID with a shipped file for its build-id"
grep -q "^  source: $TMPDIR_T/shipped/model.offsets\$" <<<"$OUT"
ok $? "... shows the shipped file" || diag "  $OUT"
sed 's/^site slowpath \([^ ]*\) 0x/site slowpath \1 0x1/' "$TMPDIR_T/file.offsets" >"$TMPDIR_T/shipped/model.offsets"
run offsets show -p "$own_PID" --offsets-dir "$TMPDIR_T/shipped"
is "$RC" 0 "show -p PID with a shipped file that does not fit"
grep -q "note: the shipped $TMPDIR_T/shipped/model.offsets has this build-id but does not fit" <<<"$ERR" &&
	grep -q '^  source: generated on the fly$' <<<"$OUT"
ok $? "... says why and shows the one generated instead" || diag "  $ERR"

# --- refusals --------------------------------------------------------------
printf 'not an executable\n' >"$TMPDIR_T/text"
run offsets generate "$TMPDIR_T/text"
says 3 "is not an x86-64 ELF executable" "generate on a text file"
run offsets generate "$top_builddir/t/fixture-pie"
says 3 "is not a Redis or Valkey server (no processCommand and server symbols)" "generate on another program"
run offsets generate "$top_builddir/t/fixture-noevict"
says 3 "has no eviction function (performEvictions or freeMemoryIfNeeded)" "generate on Redis without eviction"
run offsets generate "$TMPDIR_T/missing"
says 3 "cannot read $TMPDIR_T/missing: No such file or directory" "generate on a missing file"
run offsets generate "$MODEL" -o "$TMPDIR_T/missing/x.offsets"
says 1 "cannot write $TMPDIR_T/missing/x.offsets" "generate -o into a missing directory"
run offsets generate "$STRIPPED" --strategy dwarf
says 3 "cannot generate offsets for $STRIPPED: no DWARF for build-id" "--strategy dwarf on a stripped build"
run offsets show "$TMPDIR_T/missing.offsets"
says 3 "$TMPDIR_T/missing.offsets: No such file or directory" "show on a missing file"
nopid=4194303
while kill -0 $nopid 2>/dev/null; do nopid=$((nopid - 1)); done
run offsets show -p $nopid
says 3 "no process with PID $nopid" "show -p on a PID with no process"

run offsets
says 2 "give a command: generate or show" "no command"
run offsets frob "$MODEL"
says 2 "unknown command 'frob': give generate or show" "an unknown command"
run offsets generate
says 2 "give BINARY or -p PID (one of them)" "generate without a target"
run offsets show "$TMPDIR_T/file.offsets" -p "$own_PID"
says 2 "give FILE or -p PID (one of them)" "show with both a file and -p"
run offsets show "$TMPDIR_T/file.offsets" -o x
says 2 "-o is for generate" "show -o"
run offsets show "$TMPDIR_T/file.offsets" --strategy dwarf
says 2 "--strategy is for generate" "show --strategy"
run offsets generate "$MODEL" --strategy magic
says 2 "invalid strategy 'magic': give dwarf or disasm" "an unknown strategy"
run offsets generate -p 0
says 2 "invalid PID '0'" "PID 0"
run offsets generate "$MODEL" extra
says 2 "unexpected argument 'extra'" "a stray argument"

# --- redprof -p without the privileges BPF needs -----------------------------
# As root, the model and redprof run as nobody, and redprof also meets root's model.
as=()
if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null || bail "setpriv is missing (Debian package util-linux)"
	as=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
	chmod 755 "$TMPDIR_T"
fi
start_model theirs "${as[@]}"
OUT=$(timeout 60 "${as[@]}" "$REDPROF" -p "$theirs_PID" --text -d 1 2>"$TMPDIR_T/err")
RC=$?
ERR=$(cat "$TMPDIR_T/err")
says 4 "loading BPF programs: permission denied. Run as root, or grant CAP_BPF" "redprof -p on one's own model without CAP_BPF"
if [ "$(id -u)" -eq 0 ]; then
	OUT=$(timeout 60 "${as[@]}" "$REDPROF" -p "$own_PID" --text -d 1 2>"$TMPDIR_T/err")
	RC=$?
	ERR=$(cat "$TMPDIR_T/err")
	says 4 "reading the target's executable: permission denied" "redprof -p on another user's model"
else
	for _ in 1 2; do TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP another user's model needs root to start it"; done
fi

echo "1..$TAP_N"
done_testing
