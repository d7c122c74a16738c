#!/bin/bash
# export-cli.t: the command line of --export, --format and --listen, and of
# `redprof report`: every bad input gets its exit code and one message that
# names the problem and the fix. No root, no Redis: export paths and the
# listening address are checked before any target is opened, and a report
# is made from files.
. "$top_srcdir/t/lib.sh"

D=$TMPDIR_T

# run ARGS...: redprof with a time limit; sets RC, OUT and ERR.
run() {
	OUT=$(timeout 20 "$REDPROF" "$@" 2>"$D/err" </dev/null)
	RC=$?
	ERR=$(cat "$D/err")
}

# refused RC PATTERN DESCRIPTION ARGS...: exit code and message.
refused() {
	local want=$1 pat=$2 d=$3
	shift 3
	run "$@"
	is "$RC" "$want" "$d: exit $want"
	grep -qE -- "$pat" <<<"$ERR"
	ok $? "$d: says '$pat'" || diag "$ERR"
}

# --- --export, --format, --listen -------------------------------------------
run --help
grep -q -- '--export=FILE' <<<"$OUT" && grep -q -- '--listen=\[ADDR:\]PORT' <<<"$OUT" && grep -q 'redprof report' <<<"$OUT"
ok $? "--help lists --export, --format, --listen and redprof report"
refused 2 "cannot tell the format of '$D/x.txt' from its name: name it .json, .csv or .om, or give --format" \
	"an export whose name says no format" -p 1 --export "$D/x.txt"
refused 2 "invalid format 'xml': give json, csv or openmetrics" "an unknown format" -p 1 --export "$D/x" --format xml
refused 2 "--format is the format of --export files: give --export FILE too" "--format alone" -p 1 --format csv
refused 2 "--export '$D/a.json' is given twice" "the same export twice" -p 1 --export "$D/a.json" --export "$D/a.json"
refused 2 "at most 4 --export files" "five exports" -p 1 --export a.json --export b.json --export c.json \
	--export d.json --export e.json
refused 2 "invalid --listen '99999': give PORT" "a port out of range" -p 1 --listen 99999
refused 2 "invalid --listen 'example.com:80'" "a host name" -p 1 --listen example.com:80
refused 2 "invalid --listen '1.2.3.4:'" "an address without a port" -p 1 --listen 1.2.3.4:
refused 1 "cannot export to $D/none/x.csv: its directory does not exist" \
	"an export directory that does not exist, checked before the target" -p 1 --export "$D/none/x.csv"
refused 1 "cannot export to $D: it is a directory" "an export that is a directory" -p 1 --export "$D" --format json
refused 1 "cannot export to /dev/null: it exists and is not a regular file" "an export to a device" \
	-p 1 --export /dev/null --format csv
port=$(free_port) || bail "no free port"
run -p 1 --listen "$port"
grep -q "serving /metrics at http://127.0.0.1:$port/metrics$" <<<"$ERR"
ok $? "--listen PORT serves on loopback and says where" || diag "$ERR"
run -p 1 --listen "0.0.0.0:$port"
grep -q "serving /metrics at http://0.0.0.0:$port/metrics, which other hosts can reach" <<<"$ERR"
ok $? "--listen 0.0.0.0:PORT warns that other hosts can reach it" || diag "$ERR"
ls -A "$D" | grep -q redprof-spool
ok $((!$?)) "a refused start leaves no spool behind"

# --- redprof report: its inputs ---------------------------------------------
run report --help
grep -q 'before and after' <<<"$OUT" && grep -q 'SNAPSHOT2.json' <<<"$OUT"
ok $? "report --help says what it makes and how"
refused 2 "give a capture: a snapshot file" "report without a file" report -o "$D/r.html"
refused 2 "unexpected argument 'c.json': give one capture, or two" "report of three files" report a.json b.json c.json
refused 1 "cannot read $D/missing.json: No such file or directory" "a missing snapshot" report "$D/missing.json" \
	-o "$D/r.html"
printf '{"schema": 2,\n "intervals": [1, 2,]}\n' >"$D/broken.json"
refused 1 "$D/broken.json: 2:21: unexpected token near" "malformed JSON: the line and column" report "$D/broken.json" -o "$D/r.html"
echo '[1, 2]' >"$D/array.json"
refused 1 "holds an array, not a redprof snapshot object" "JSON that is not an object" report "$D/array.json" \
	-o "$D/r.html"
echo '{"type": "interval", "ts": "2026-11-23T10:00:01.250Z", "interval_s": 1, "commands": 5}' >"$D/cut.jsonl"
refused 1 "has no total: a capture cut short" "JSON Lines without their total" report "$D/cut.jsonl" -o "$D/r.html"
echo '{"hello": "world"}' >"$D/other.json"
refused 1 "neither a redprof snapshot .no \"schema\". nor redprof --json lines" "some other JSON" \
	report "$D/other.json" -o "$D/r.html"
is "$(ls "$D" | grep -c '^r\.html')" 0 "no report is written from bad input"

# A capture as --json prints it: two intervals and the total, enough for a report.
sample() { # TYPE TS LEN COMMANDS TOFREE_BUCKET_COUNT
	printf '{"type":"%s","ts":"%s","interval_s":%s,"pid":77,"build_id":"ab12","redis_version":"7.0.15",' "$1" "$2" "$3"
	printf '"commands":%s,"calls":%s,"returns":{"EVICT_OK":%s},"evicting_calls":%s,"keys_evicted":%s,' "$4" "$4" "$4" "$5" "$5"
	printf '"evict_time_share":0.1,"probe_hits":{"by_site":{},"by_class":{"emulated":%s,"single_stepped":0,"return":%s}},' "$4" "$4"
	printf '"diagnostics":{"returns_without_entry":0,"unreadable_values":0,"other_threads":0},'
	printf '"histograms":{"mem_tofree":{"unit":"bytes","buckets":[{"lo":1024,"hi":2048,"count":%s}],' "$5"
	printf '"count":%s,"sum":%s,"min":1024,"max":2000}},"unavailable":{}}\n' "$5" "$(($5 * 1500))"
}
{ sample interval 2026-11-23T10:00:01.000Z 1 100 40; sample interval 2026-11-23T10:00:02.000Z 1 300 60
  sample total 2026-11-23T10:00:02.000Z 2 400 100; } >"$D/lines.jsonl"
run report "$D/lines.jsonl" -o "$D/r.html"
is "$RC" 0 "a report from --json lines" || diag "$ERR"
grep -q '<tr data-name="mem_tofree count"><th>mem_tofree count</th><td data-value="100">100</td></tr>' "$D/r.html"
ok $? "it counts what the lines count"
grep -q 'data-measure="evict_latency".*Not available: not in this file' "$D/r.html" ||
	grep -q 'Not available: not in this file' "$D/r.html"
ok $? "a histogram the file lacks is not available, not zero"
grep -q 'data-q="max" data-value="2000"' "$D/r.html" && grep -q 'data-q="p50" data-value="1535"' "$D/r.html"
ok $? "p50 of 100 values in [1024, 2048) is 1535 by histogram_quantile, max the exact 2000"
run report "$D/lines.jsonl" -o "$D/r.svg"
head -c 200 "$D/r.svg" | grep -q '<svg xmlns="http://www.w3.org/2000/svg"'
ok $? "-o FILE.svg writes the chart sheet"
grep -q 'class="why">Not available: the heat map is in snapshot files' "$D/r.svg" && ! grep -q 'Storm episodes' "$D/r.svg"
ok $? "the sheet of --json lines says where the heat map is, and lists no episodes when there are none"
run report "$D/lines.jsonl"
grep -q '^<!DOCTYPE html>' <<<"$OUT"
ok $? "without -o the HTML goes to standard output when it is not a terminal"
refused 1 "cannot write $D/none/r.html: No such file or directory" "a report to a missing directory" \
	report "$D/lines.jsonl" -o "$D/none/r.html"

# --- the sheet's storm sections, from a snapshot made here ------------------
# slices SLICE=NS...: a heat-map column's 100 counts, 0 but where given.
slices() {
	local v=() a IFS=,
	for ((i = 0; i < 100; i++)); do v[i]=0; done
	for a; do v[${a%=*}]=${a#*=}; done
	printf '[%s]' "${v[*]}"
}
# storm COLUMNS: the capture above as a snapshot file with one episode and a heat map of COLUMNS (JSON).
storm() {
	printf '{"schema":3,"redprof":"0.1.0","start":"2026-11-23T10:00:00.000Z","end":"2026-11-23T10:00:02.000Z",'
	printf '"target":{"pid":77,"exe":"/usr/bin/redis-server","build_id":"ab12","server":"redis",'
	printf '"evict_function":"performEvictions","offsets":null},"intervals_dropped":0,"intervals":['
	sample interval 2026-11-23T10:00:01.000Z 1 100 40
	printf ','
	sample interval 2026-11-23T10:00:02.000Z 1 300 60
	printf '],"total":'
	sample total 2026-11-23T10:00:02.000Z 2 400 100
	# A verdict with markup and a control character, which XML has no way to hold.
	printf ',"episodes":[{"id":1,"start":"2026-11-23T10:00:00.500Z","end":"2026-11-23T10:00:02.000Z",'
	printf '"duration_s":1.5,"evict_time_s":0.35,"evict_time_share":0.23,"evicting_calls":100,"keys_evicted":100,'
	printf '"verdict":{"pace":"falling_behind","text":"eviction fell behind <&> \\u0001"}}],'
	printf '"heat_map":{"slice_s":0.01,"slices_per_second":100,"slices_lost":3,"unplaced_s":0,"seconds_kept":4,'
	printf '"columns":[%s]}}\n' "$1"
}
# 10:00:00 and :01 evicting all of their first 20 ms (one run of two cells), a quarter of
# +500 ms and a trace of +980 ms; nothing at :02; half of the first 20 ms of :03.
t0=1795428000
storm "$(printf '{"second":%s,"busy_ns":%s,"calls":%s},' \
	$t0 "$(slices 0=10000000 1=10000000 50=5000000)" "$(slices)" \
	$((t0 + 1)) "$(slices 0=10000000 1=10000000 99=1)" "$(slices)" \
	$((t0 + 3)) "$(slices 0=10000000)" "$(slices)" | sed 's/,$//')" >"$D/storm.json"
run report "$D/storm.json" -o "$D/storm.svg"
is "$RC" 0 "a sheet from a snapshot with episodes and a heat map" || diag "$ERR"
storm '' >"$D/calm.json"
run report "$D/calm.json" -o "$D/calm.svg"
if [ -x /usr/bin/python3 ]; then
	CHECK="/usr/bin/python3 $top_srcdir/t/export_check.py"
	heat=$($CHECK heat "$D/storm.svg" "$D/storm.json" 2>&1)
	is "$(head -n 1 <<<"$heat")" 0 "the sheet parses as XML, draws the file's heat-map cells in their shades and places nothing on anything else" ||
		diag "$heat"
	grep -q '^strips: 1, seconds: 4, cells: 5 in 4 rects, episode bars: 1,' <<<"$heat"
	ok $? "one strip of the capture's 4 seconds, 5 cells in 4 runs, the episode above them" || diag "$heat"
	run report "$D/storm.json" "$D/lines.jsonl" -o "$D/both.svg"
	heat=$($CHECK heat "$D/both.svg" "$D/storm.json" 2>&1)
	is "$(head -n 1 <<<"$heat")" 0 "before and after: the heat map of the one that has it, nothing overlapping" ||
		diag "$heat"
	heat=$($CHECK heat "$D/calm.svg" "$D/calm.json" 2>&1)
	[ "$(head -n 1 <<<"$heat")" = 0 ] && grep -q '^strips: 0,' <<<"$heat"
	ok $? "a heat map without a second of eviction: a sheet that parses, and no strip" || diag "$heat"
else
	for d in "the heat map's cells" "its strip" "before and after" "a calm heat map"; do
		skip "$d" "no /usr/bin/python3"
	done
fi
grep -q '>#1  2026-11-23T10:00:00 UTC, 1.5 s: 100 keys evicted, 350 ms evicting (23.0%), round p99 n/a<' "$D/storm.svg" &&
	grep -q 'class="t behind">eviction fell behind &lt;&amp;&gt; ?<' "$D/storm.svg"
ok $? "the sheet lists the episode, its verdict escaped" || grep -A2 'Storm episodes' "$D/storm.svg" | sed 's/^/# /'
grep -q '>3 slices (10 ms each) were lost' "$D/storm.svg"
ok $? "and says how many slices the heat map lost"
grep -q 'class="why">No second of this capture had eviction in it.<' "$D/calm.svg"
ok $? "a heat map without a second of eviction is said to be so"

echo "1..$TAP_N"
done_testing
