#!/bin/bash
# tui.t: the live view, run as a person runs it: redprof on a terminal, here
# a pane of fixed size in a private tmux server, read back with capture-pane.
# Against Debian's redis-server driven into eviction it must show the header
# fields, latency histograms with bars, mem_tofree and the timelines; answer
# p, s, ?, c, u, tab, r and a resize to 80x24; and leave the terminal as it
# found it (alternate screen left, keypad mode off) with exit 0 on q, Ctrl-C,
# SIGTERM and the target's exit, and restored even when a fatal signal
# kills it. NO_COLOR with TERM=xterm and a C locale draws without colours.
# Against a Redis with maxmemory 0 every eviction panel says why it is empty.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd tmux redis-server redis-cli redis-benchmark jq

plan 53

. "$top_srcdir/t/tmux.sh"
tmux_start

# A histogram row: "lo -> hi : count |***   |".
ROW='[0-9]+[KMG]? -> [0-9]+[KMG]? +: [0-9]+ +\|\*+ *\|'

# --- maxmemory 20mb, allkeys-lru, under a SET load --------------------
start_redis evict --maxmemory 20mb --maxmemory-policy allkeys-lru
redis-benchmark -p "$evict_PORT" -t set -n 400000 -r 1000000 -d 512 -c 20 -q >/dev/null 2>&1 &
CLEANUP_PIDS="$CLEANUP_PIDS $!"

ui main 120 40 TERM=tmux-256color LANG=C.UTF-8 -- -p "$evict_PID" -i 0.5 -u \
	--offsets-dir "$top_srcdir/offsets"
wait_screen main 'EVICTING' 20
ok $? "the view says Redis is evicting"
is "$(tm display -p -t main '#{alternate_on}')" 1 "it draws on the alternate screen"
first=$SCREEN
for field in "PID $evict_PID" "redis 7.0.15" "offsets: (disasm|dwarf)" "maxmemory 20.0M" \
	"used [0-9.]+[KMG]" "up 0:00:[0-5][0-9]" "interval 0.5s"; do
	grep -Eq "$field" <<<"$first"
	ok $? "the header shows '$field'"
done
[ "$(grep -Ec "$ROW" <<<"$first")" -ge 3 ]
ok $? "latency histogram rows have bars"
grep -q 'calls that did not evict: not timed by the light plan' <<<"$first" && grep -q 'calls that evicted' <<<"$first"
ok $? "the light plan's latency panel shows evicting calls and says it does not time the others"
grep -Eq 'probes light [0-9.]+/cmd [0-9.]+% CPU' <<<"$first"
ok $? "the header says what the probes cost Redis"
awk '/ mem_tofree/ { p = 1; next } /─ / { p = 0 } p' <<<"$first" | grep -Eq "$ROW"
ok $? "the mem_tofree panel has rows with bars"
LC_ALL=C grep -Eq $'^commands/s +[1-9][0-9]* +(\xe2\x96[\x81-\x88])+' <<<"$first"
ok $? "the throughput timeline has commands/s bars"
LC_ALL=C grep -Eq $'^keys evicted/s +[0-9]+ +(\xe2\x96[\x81-\x88])+' <<<"$first"
ok $? "the throughput timeline has keys evicted/s bars"
grep -Eq '^in eviction +[0-9.]+%' <<<"$first"
ok $? "the time in eviction timeline shows a share"
grep -q 'q quit  p pause' <<<"$(tail -n 1 <<<"$first")"
ok $? "the footer shows the main keys"
[ "$(colours main)" -gt 0 ]
ok $? "colours are used on a colour terminal"

# p: frozen screen while intervals keep being cut.
tm send-keys -t main p
wait_screen main 'PAUSED'
ok $? "p shows PAUSED"
paused_at=$(date +%s.%N)
still=$(grep -v ' up [0-9]*:' <<<"$SCREEN")
sleep 1.2
is "$(tm capture-pane -p -t main | grep -v ' up [0-9]*:')" "$still" "the paused screen stays still"
tm send-keys -t main s
wait_screen main 'snapshot saved: [^ ]+\.json'
ok $? "s says where the snapshot went"
snap=$TMPDIR_T/$(grep -oE 'snapshot saved: [^ ]+\.json' <<<"$SCREEN" | cut -d' ' -f3)
[ -f "$snap" ]
ok $? "the snapshot file exists in the current directory ($(basename "$snap"))"
jq -e --argjson pid "$evict_PID" '.schema == 3 and .target.pid == $pid and .total.type == "total"
	and (.intervals | length) > 0 and ([.intervals[].type] | unique) == ["interval"]' "$snap" >/dev/null
ok $? "the snapshot parses and follows the snapshot schema"
# An interval (0.5 s) that began after PAUSED showed ended before the snapshot.
jq -e --argjson t "$paused_at" '.intervals[-1].ts | capture("^(?<s>[^.]+)(?<f>\\.[0-9]+)Z$")
	| (.s + "Z" | fromdate) + (.f | tonumber) >= $t + 0.5' "$snap" >/dev/null
ok $? "intervals were still collected while paused"
ls "$TMPDIR_T" | grep -q '\.tmp\.'
ok $((!$?)) "no temporary file is left behind"
build=$(jq -r .target.build_id "$snap")
grep -q "build ${build:0:12}" <<<"$first"
ok $? "the header shows the short build-id"
tm send-keys -t main p
wait_gone main 'PAUSED'
ok $? "p again resumes"

# ?: every key, and any key closes it.
tm send-keys -t main '?'
wait_screen main 'this help; any key closes it'
ok $? "? opens the help"
missing=""
for k in 'q +quit' 'p +pause or resume' 'r +reset' 'c +per-interval or cumulative' \
	'u +latency units' 's +save a snapshot' 'tab, arrows move the focus'; do
	grep -Eq "$k" <<<"$SCREEN" || missing="$missing '$k'"
done
is "$missing" "" "the help lists every key"
tm send-keys -t main Escape
wait_gone main 'this help'
ok $? "a key closes the help"

# c and u: the cumulative view, in milliseconds.
tm send-keys -t main c u
wait_screen main 'cumulative, [0-9]+ s'
ok $? "c switches to the cumulative view"
grep -q 'performEvictions latency (msecs)' <<<"$SCREEN"
ok $? "u cycles the latency unit (usecs to msecs)"

# A resize to 80x24 redraws everything readable inside it.
tm resize-window -t main -x 80 -y 24
sleep 0.6
wait_screen main 'q quit'
small=$SCREEN
is "$(wc -l <<<"$small")" 24 "at 80x24 the screen has 24 rows"
[ "$(LC_ALL=C.UTF-8 wc -L <<<"$small")" -le 80 ]
ok $? "no row is wider than 80 columns"
grep -q "PID $evict_PID" <<<"$small" && grep -Eq 'probes light [0-9.]+/cmd' <<<"$small"
ok $? "the header still fits at 80x24, with what the probes cost (the interval gives way first)"
[ "$(grep -Ec "$ROW" <<<"$small")" -ge 2 ] && grep -q ' mem_tofree' <<<"$small" &&
	grep -q '^commands/s' <<<"$small" && grep -q 'q quit' <<<"$(tail -n 1 <<<"$small")"
ok $? "histograms, mem_tofree, the timeline and the footer are all there at 80x24"

# tab: the focused panel gets the spare rows; the timeline's peak shows.
tm send-keys -t main Tab Tab
wait_screen main '^ +peak +[0-9]+ '
ok $? "tab moves the focus to the timeline, which grows"

# r: counting starts again, the snapshot's intervals too.
tm send-keys -t main r
wait_screen main 'reset at [0-9:]+'
ok $? "r says it reset"
sleep 1.1
tm send-keys -t main s
wait_screen main 'snapshot saved: [^ ]+ \([0-9]+ intervals\)' 5
n=$(grep -oE '\([0-9]+ intervals\)' <<<"$SCREEN" | tr -dc 0-9)
[ "$n" -ge 1 ] && [ "$n" -le 4 ]
ok $? "after r the snapshot holds only the intervals since ($n)"

tm send-keys -t main q
is "$(finished main)" "status 0, alt 0, keypad 0" "q: exit 0, alternate screen left, keypad reset"
grep -q 'q quit  p' <<<"$(tm capture-pane -p -t main)"
ok $((!$?)) "the screen before redprof is back"
after=$(tm capture-pane -p -S - -t main)
grep -q 'redprof: snapshot saved to ' <<<"$after" && grep -q 'redprof: offsets: ' <<<"$after"
ok $? "held-back messages and the saved files are printed after exit"

# --- other ways out -----------------------------------------------------
ui term 80 24 TERM=tmux-256color LANG=C.UTF-8 -- -p "$evict_PID" -i 0.5 --offsets-dir "$top_srcdir/offsets"
wait_screen term 'per interval'
kill -TERM "$(redprof_pid term)"
is "$(finished term)" "status 0, alt 0, keypad 0" "SIGTERM: exit 0 with the terminal restored"

ui intr 80 24 TERM=screen LANG=C.UTF-8 -- -p "$evict_PID" -i 0.5 --offsets-dir "$top_srcdir/offsets"
wait_screen intr 'per interval'
ok $? "TERM=screen works"
tm send-keys -t intr C-c
is "$(finished intr)" "status 0, alt 0, keypad 0" "Ctrl-C: exit 0 with the terminal restored"

ui crash 80 24 TERM=xterm LANG=C.UTF-8 -- -p "$evict_PID" -i 0.5 --offsets-dir "$top_srcdir/offsets"
wait_screen crash 'per interval'
kill -SEGV "$(redprof_pid crash)"
# Killed by the signal (status 139), or ended by ASan's report of it in an --enable-asan build.
out=$(finished crash)
[[ "$out" =~ ^status\ [1-9][0-9]*,\ alt\ 0,\ keypad\ 0$ ]]
ok $? "a fatal signal restores the terminal, then kills ($out)"

# --- no colours: NO_COLOR, TERM=xterm, a C locale -------------------------
redis-benchmark -p "$evict_PORT" -t set -n 100000 -r 1000000 -d 512 -c 20 -q >/dev/null 2>&1 &
CLEANUP_PIDS="$CLEANUP_PIDS $!"
ui mono 80 24 NO_COLOR=1 TERM=xterm LANG=C LC_ALL=C -- -p "$evict_PID" -i 0.5 \
	--offsets-dir "$top_srcdir/offsets"
wait_screen mono "$ROW"
ok $? "NO_COLOR, TERM=xterm: histogram rows are drawn"
is "$(colours mono)" 0 "NO_COLOR: no colour at all"
wait_screen mono '^commands/s +[0-9]+ +[#_.]+' 10
ok $? "a C locale draws the timeline in ASCII" || grep '^commands/s' <<<"$SCREEN" | sed 's/^/#   /'
tm send-keys -t mono q
is "$(finished mono)" "status 0, alt 0, keypad 0" "TERM=xterm: exit 0 with the terminal restored"

# --- maxmemory 0, then the server goes away ------------------------------
start_redis nomax
redis-benchmark -p "$nomax_PORT" -t set -n 200000 -r 100000 -d 64 -c 10 -q >/dev/null 2>&1 &
CLEANUP_PIDS="$CLEANUP_PIDS $!"
ui nomax 80 24 TERM=tmux-256color LANG=C.UTF-8 -- -p "$nomax_PID" -i 0.5 \
	--offsets-dir "$top_srcdir/offsets"
wait_screen nomax '^commands/s +[1-9]'
reasons=$(grep -c '^maxmemory is 0: Redis does not evict' <<<"$SCREEN")
[ "$reasons" -ge 3 ]
ok $? "maxmemory 0: the latency, mem_tofree and time panels give the reason ($reasons)"
redis-cli -p "$nomax_PORT" shutdown nosave >/dev/null 2>&1
is "$(finished nomax)" "status 0, alt 0, keypad 0" "the target's exit: exit 0 with the terminal restored"
grep -q "redprof: PID $nomax_PID exited; stopping" <<<"$(tm capture-pane -p -S - -t nomax)"
ok $? "it says the target exited, as the text output does"

done_testing
