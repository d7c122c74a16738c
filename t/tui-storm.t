#!/bin/bash
# tui-storm.t: the live view's storm screen (key e), run as a person runs
# it (t/tmux.sh). Two bursts of SETs into Debian's redis-server just under
# maxmemory: while one runs the status line names it; then e shows, at
# 80x24, the heat map in Unicode shades with its rows, time axis and
# legend, both episodes newest first with the newest selected, and its
# figures, cycle, verdict and the backlog slot; the arrows select the other
# one; p freezes the screen; e goes back. At 120x40 the map has 100 ms
# rows. With TERM=xterm, a C locale and NO_COLOR the map is drawn in ASCII.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd tmux redis-server redis-cli redis-benchmark

plan 26

. "$top_srcdir/t/tmux.sh"
tmux_start

# load N: N SETs of 512 bytes from 20 clients, into server st.
load() {
	redis-benchmark -p "$st_PORT" -t set -n "$1" -r 10000000 -d 512 -c 20 -q >/dev/null 2>&1
}

start_redis st --maxmemory 20mb --maxmemory-policy allkeys-lru
fill_below_maxmemory "$st_PORT" redis-benchmark

ui main 80 24 TERM=tmux-256color LANG=C.UTF-8 -- -p "$st_PID" -i 0.5 --offsets-dir "$top_srcdir/offsets"
wait_screen main 'per interval' 20
ok $? "redprof's view is up"
load 150000 &
lpid=$!
wait_screen main 'EVICTING .* storm #1, [0-9]+ s' 10
ok $? "while a burst goes on the status line names its episode" || grep EVICTING <<<"$SCREEN" | sed 's/^/#   /'
wait "$lpid"
sleep 2
load 100000
sleep 2

tm send-keys -t main e
wait_screen main 'storm episodes, newest first \(2, one every [0-9.]+ s;'
ok $? "e shows the storm screen with both episodes, and how often they come" || sed 's/^/#   /' <<<"$SCREEN"
s=$SCREEN
is "$(wc -l <<<"$s")" 24 "at 80x24 the storm screen has 24 rows"
[ "$(LC_ALL=C.UTF-8 wc -L <<<"$s")" -le 80 ]
ok $? "no row is wider than 80 columns"
grep -Eq 'heat map: share of each [0-9]+ ms spent evicting, a column a second' <<<"$s"
ok $? "the heat map's title says what a cell is"
[ "$(grep -Ec '^ +[0-9]+ms.*[░▒▓█]' <<<"$s")" -ge 2 ]
ok $? "its rows have Unicode shades where Redis evicted"
grep -q '░<25% ▒<50% ▓<75% █≥75%' <<<"$s"
ok $? "its legend says what each shade means"
grep -Eq '^ +[0-9]{2}:[0-9]{2}:[0-9]{2}' <<<"$s"
ok $? "its time axis names the seconds" || sed 's/^/#   /' <<<"$s"
grep -Eq '^>#2 +[0-9:]{8} +[0-9.]+ s +keys [0-9.]+K? +[0-9]+% evicting  kept up' <<<"$s"
ok $? "the newest episode is listed first and selected" || grep '#' <<<"$s" | sed 's/^/#   /'
grep -Eq '^─ episode #2: [0-9:.]{12} to [0-9:.]{12}, [0-9.]+ s ' <<<"$s"
ok $? "its figures are shown under its times"
grep -Eq '^evicting calls [0-9,]+  keys evicted [0-9,]+  time evicting' <<<"$s"
ok $? "... calls, keys and time evicting"
grep -Eq '^commands/s  before [0-9.]+K?  during [0-9.]+K?  after [0-9.]+' <<<"$s"
ok $? "... commands/s before, during and after"
grep -A1 '^cycle: ' <<<"$s" | tr '\n' ' ' | grep -Eq '^cycle: growth .*burst [0-9.]+ s.*period [0-9.]+ s' 
ok $? "... its cycle, with the period since the first" || grep -A1 '^cycle' <<<"$s" | sed 's/^/#   /' 
grep -q '^verdict: eviction kept up' <<<"$s"
ok $? "... the verdict in words"
grep -q '^backlog feedback: unavailable: the offset file does not say where the server' <<<"$s"
ok $? "... and the backlog slot, unavailable with the reason"
grep -q 'e histograms' <<<"$(tail -n 1 <<<"$s")"
ok $? "the footer says e goes back"

tm send-keys -t main Down
wait_screen main '^─ episode #1: '
ok $? "down selects the older episode"
grep -Eq '^>#1 ' <<<"$SCREEN"
ok $? "... marked in the list"
tm send-keys -t main Up
wait_screen main '^─ episode #2: '
ok $? "up selects the newest again"

tm send-keys -t main p
wait_screen main 'PAUSED'
still=$(grep -v ' up [0-9]*:' <<<"$SCREEN")
load 60000
is "$(tm capture-pane -p -t main | grep -v ' up [0-9]*:')" "$still" "paused, the storm screen stays still under a third burst"
tm send-keys -t main p e
wait_screen main 'performEvictions latency'
ok $? "e goes back to the histograms"

tm resize-window -t main -x 120 -y 40
tm send-keys -t main e
wait_screen main 'heat map: share of each 100 ms spent evicting'
ok $? "at 120x40 the map has ten rows of 100 ms" || sed 's/^/#   /' <<<"$SCREEN"
tm send-keys -t main q
is "$(finished main)" "status 0, alt 0, keypad 0" "q from the storm screen: exit 0, terminal restored"

# --- ASCII -----------------------------------------------------------------
ui ascii 80 24 NO_COLOR=1 TERM=xterm LANG=C LC_ALL=C -- -p "$st_PID" -i 0.5 --offsets-dir "$top_srcdir/offsets"
wait_screen ascii 'per interval' 20
tm send-keys -t ascii e
load 100000
wait_screen ascii '^ +[0-9]+ms.*[.:+#]' 10
ok $? "a C locale draws the heat map in ASCII" || sed 's/^/#   /' <<<"$SCREEN"
! LC_ALL=C grep -q $'\xe2\x96' <<<"$SCREEN" && grep -q '.<25% :<50% +<75% #>=75%' <<<"$SCREEN"
ok $? "... with an ASCII legend and no Unicode shade"

done_testing
