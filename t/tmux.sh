# tmux.sh: redprof's live view run as a person runs it, for the UI tests
# (t/tui.t, t/tui-storm.t): redprof on a terminal, here a pane of fixed size
# in a private tmux server, read back with capture-pane. Sourced after
# t/lib.sh.

# A private server: its own socket in the test's directory, no configuration.
tm() { tmux -S "$TMPDIR_T/tmux" -f /dev/null "$@"; }

# tmux_start: the server, stopped on exit; it outlives the panes it runs,
# so that dead panes stay to be read.
tmux_start() {
	trap 'tm kill-server >/dev/null 2>&1; cleanup' EXIT
	tm start-server \; set -g remain-on-exit on \; new-session -d -s keep "sleep 600" ||
		bail "cannot start a private tmux server"
}

# ui NAME W H ENV...: redprof in a session of its own, on a WxH pane, in
# $TMPDIR_T (where snapshots land); ENV are VAR=value words, then "--" and
# redprof's arguments. The pane's shell prints redprof's exit status when
# it ends (tmux 3.3 does not always reap a pane in time to report it) and
# outlives Ctrl-C; redprof gets the signal as it would at a prompt.
ui() {
	local name=$1 w=$2 h=$3 envs=()
	shift 3
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	tm new-session -d -s "$name" -x "$w" -y "$h" -c "$TMPDIR_T" \
		"trap : INT; env ${envs[*]} $REDPROF $*; echo \"redprof exit status \$?\""
}

# redprof_pid TARGET: redprof's PID, the child of the pane's shell.
redprof_pid() {
	pgrep -P "$(tm display -p -t "$1" '#{pane_pid}')"
}

# wait_screen TARGET ERE [SECS]: until the pane shows ERE; leaves it in $SCREEN.
# A capture can land while tmux is still taking in a frame (on a busy
# machine, the rows above one panel new and the rest from the frame before),
# so the screen counts only once a second capture 0.15 s later is the same.
wait_screen() {
	local n=${3:-15} again
	for _ in $(seq $((n * 10))); do
		SCREEN=$(tm capture-pane -p -t "$1" 2>/dev/null)
		if grep -Eq -- "$2" <<<"$SCREEN"; then
			sleep 0.15
			again=$(tm capture-pane -p -t "$1" 2>/dev/null)
			[ "$again" = "$SCREEN" ] && return 0
		fi
		sleep 0.1
	done
	return 1
}

# wait_gone TARGET ERE [SECS]: until the pane no longer shows ERE.
wait_gone() {
	local n=${3:-10}
	for _ in $(seq $((n * 10))); do
		SCREEN=$(tm capture-pane -p -t "$1" 2>/dev/null)
		grep -Eq -- "$2" <<<"$SCREEN" || return 0
		sleep 0.1
	done
	return 1
}

# finished TARGET: waits for redprof in TARGET to end, then says
# "status S, alt A, keypad K": its exit status, and whether the terminal is
# still on the alternate screen and in keypad mode.
finished() {
	local status
	wait_screen "$1" 'redprof exit status [0-9]+' 10 || { echo "still running"; return; }
	status=$(grep -oE 'redprof exit status [0-9]+' <<<"$SCREEN" | tr -dc 0-9)
	for _ in $(seq 50); do
		[ "$(tm display -p -t "$1" '#{pane_dead}')" = 1 ] && break
		sleep 0.1
	done
	tm display -p -t "$1" "status $status, alt #{alternate_on}, keypad #{keypad_cursor_flag}"
}

# colours: how many colour parameters the pane's SGR sequences carry.
colours() {
	tm capture-pane -e -p -t "$1" | grep -aoE $'\e\\[[0-9;]*m' | tr -d '\033[m' | tr ';' '\n' |
		grep -Ecx '3[0-8]|4[0-8]|9[0-7]|10[0-7]'
}
