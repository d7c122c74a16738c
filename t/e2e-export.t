#!/bin/bash
# e2e-export.t: a real capture of Debian's redis-server in eviction, exported
# as JSON, CSV and OpenMetrics while a real Prometheus scrapes /metrics:
# each file read back by a real parser and held against the others,
# Prometheus's histogram_quantile() and rate() against redprof's own
# figures, and the HTML report rendered by headless Chromium. Then the
# failures: export paths that cannot be written, a port in use, a file
# system that fills up before the end.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq curl prometheus promtool chromium /usr/bin/python3
if ! /usr/bin/python3 -c 'import jsonschema, prometheus_client' 2>/dev/null; then
	[ "${CI:-}" = true ] && bail "python3-jsonschema and python3-prometheus-client are missing under CI=true"
	skip_all "missing python3-jsonschema or python3-prometheus-client (run scripts/test to install them)"
fi

D=$TMPDIR_T
CHECK="/usr/bin/python3 $top_srcdir/t/export_check.py"
SCHEMA=$top_srcdir/schema/redprof-snapshot.schema.json
MOUNTS=""

unmount_all() {
	for m in $MOUNTS; do umount "$m" 2>/dev/null; done
}
trap 'unmount_all; cleanup' EXIT

# checked DESCRIPTION OUTPUT: an export_check.py result: its first line, the differences, is 0.
checked() {
	is "$(head -n 1 <<<"$2")" 0 "$1 ($(sed -n 2p <<<"$2"))" || sed -n '3,$p' <<<"$2" | sed 's/^/# /'
}

chromium_run() {
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$D/chromium" "$@" 2>>"$D/chromium.log"
}

# promq QUERY [TIME]: the value of an instant query, "" when there is none.
promq() {
	curl -sfG "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} |
		jq -r '.data.result[0].value[1] // empty'
}

# within A B PERCENT: A and B differ by at most PERCENT of B.
within() {
	awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b != 0 && d * 100 <= p * b) }'
}

# --- A Redis in eviction, redprof exporting, Prometheus scraping ----------
start_redis evict --maxmemory 20mb --maxmemory-policy allkeys-lru
redis-benchmark -p "$evict_PORT" -t set -n 60000 -r 1000000 -d 512 -c 10 -q >/dev/null 2>&1

MPORT=$(free_port) && PPORT=$(free_port) || bail "no free port"
cat >"$D/prom.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: redprof
    static_configs: [{ targets: ['127.0.0.1:$MPORT'] }]
EOF
prometheus --config.file="$D/prom.yml" --storage.tsdb.path="$D/tsdb" --web.listen-address="127.0.0.1:$PPORT" \
	--log.level=warn >"$D/prom.log" 2>&1 &
CLEANUP_PIDS="$CLEANUP_PIDS $!"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null && break; sleep 0.2; done

start_redprof "$D/cap.jsonl" "$D/err" -p "$evict_PID" --json -i 0.5 --export "$D/cap.json" \
	--export "$D/cap.csv" --export "$D/cap.om" --listen "127.0.0.1:$MPORT"
wait_lines "$D/cap.jsonl" 1
ok $? "redprof attaches, with three exports and /metrics" || sed 's/^/# /' "$D/err"
for _ in $(seq 60); do [ "$(promq 'up{job="redprof"}')" = 1 ] && break; sleep 0.25; done
is "$(promq 'up{job="redprof"}')" 1 "a real Prometheus scrapes redprof's /metrics" || tail -5 "$D/prom.log" | sed 's/^/# /'

# --- /metrics and / while it runs -----------------------------------------
is "$(curl -s -o "$D/page.om" -w '%{http_code} %{content_type}' "http://127.0.0.1:$MPORT/metrics")" \
	"200 application/openmetrics-text; version=1.0.0; charset=utf-8" "/metrics answers in OpenMetrics text"
page=$($CHECK page "$D/page.om" 2>&1)
is "$(head -n 1 <<<"$page")" "$(head -n 1 "$D/cap.jsonl" | jq '.histograms | length')" \
	"prometheus_client parses /metrics: every histogram of the capture is there ($(sed -n 2p <<<"$page"))"
curl -s "http://127.0.0.1:$MPORT/" >"$D/index.html"
grep -q 'href="/metrics"' "$D/index.html" && grep -q "PID $evict_PID" "$D/index.html"
ok $? "/ says what it is and links /metrics"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/nothing")" 404 "another path is 404"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics")" 405 "POST is refused with 405"

# --- The load, then quiet: nothing talks to Redis from here on ------------
load_start=$(date +%s.%N)
redis-benchmark -p "$evict_PORT" -t set -n 400000 -r 1000000 -d 512 -c 20 -q >/dev/null 2>&1
load_end=$(date +%s.%N)
sleep 4

# Prometheus's rate() over the last seconds of the load against redprof's own intervals then.
at=$(awk -v e="$load_end" 'BEGIN { printf "%.3f", e - 0.7 }')
prom_rate=$(promq 'rate(redprof_commands_total[3s])' "$at")
own_rate=$(jq -rs --argjson t "$at" '[.[] | select(.type == "interval")
	| (.ts | capture("^(?<s>[^.]+)(?<f>\\.[0-9]+)Z$") | (.s + "Z" | fromdate) + (.f | tonumber)) as $e
	| select($e > $t - 3 and $e <= $t)] | (map(.commands) | add) / (map(.interval_s) | add)' "$D/cap.jsonl")
diag "load $(awk -v a="$load_start" -v b="$load_end" 'BEGIN { printf "%.1f", b - a }') s; at $at: Prometheus $prom_rate/s, redprof $own_rate/s"
within "$prom_rate" "$own_rate" 25
ok $? "rate(redprof_commands_total[3s]) from Prometheus is redprof's own commands/s, within 25%"

prom_count=$(promq 'redprof_evict_latency_active_seconds_count')
prom_p99=$(promq 'histogram_quantile(0.99, redprof_evict_latency_active_seconds_bucket)')

kill -INT "$RP_PID"
wait_exit "$RP_PID" 30
is "$EXIT_STATUS" 0 "redprof exits 0 and writes its exports" || sed 's/^/# /' "$D/err"

# --- The export files -------------------------------------------------------
ls -A "$D" | grep -E '\.tmp\.|redprof-spool' >"$D/left"
is "$(cat "$D/left")" "" "no temporary or spool file is left beside the exports"
checked "the JSON export and every --json line pass the JSON Schema checker" \
	"$($CHECK schema "$SCHEMA" "$D/cap.json" "$D/cap.jsonl" 2>&1)"
jq -c '.intervals[]' "$D/cap.json" >"$D/export-intervals"
jq -c 'select(.type == "interval")' "$D/cap.jsonl" >"$D/line-intervals"
cmp -s "$D/export-intervals" "$D/line-intervals"
ok $? "the export's $(wc -l <"$D/export-intervals") intervals are the --json lines of the capture, byte for byte"
totals='{commands, calls, evicting_calls, keys_evicted, returns, h: (.histograms | map_values({count, buckets}))}'
is "$(jq -cS ".total | $totals" "$D/cap.json")" "$(tail -n 1 "$D/cap.jsonl" | jq -cS "$totals")" \
	"the export's total has the capture's counts and buckets"
is "$(jq -r .target.maxmemory_policy "$D/cap.json")" "$(redis-cli -p "$evict_PORT" config get maxmemory-policy | tail -n 1)" \
	"the snapshot's maxmemory_policy, read from the server's memory, is CONFIG GET's"
jq -e '.total.histograms.mem_tofree.count > 1000 and .total.keys_evicted > 1000' "$D/cap.json" >/dev/null
ok $? "the capture saw eviction: $(jq -c '.total | {keys_evicted, mem_tofree: .histograms.mem_tofree.count}' "$D/cap.json")"

checked "CSV rows read back with Python's csv module equal the JSON's counts" "$($CHECK csv "$D/cap.csv" "$D/cap.json" 2>&1)"
sed '0,/,bucket,mem_tofree,bytes,\([0-9]*\),\([0-9]*\),\([0-9]*\)$/s//,bucket,mem_tofree,bytes,\1,\2,999999/' \
	"$D/cap.csv" >"$D/bad.csv"
[ "$($CHECK csv "$D/bad.csv" "$D/cap.json" | head -n 1)" -ge 1 ]
ok $? "... and the CSV check fails on a copy with one count changed"
checked "OpenMetrics parsed by prometheus_client: every point's buckets equal the JSON's intervals summed" \
	"$($CHECK openmetrics "$D/cap.om" "$D/cap.json" 2>&1)"
sed '0,/^\(redprof_mem_tofree_bytes_bucket{.*le="2047"}\) [0-9]*/s//\1 999999/' "$D/cap.om" >"$D/bad.om"
[ "$($CHECK openmetrics "$D/bad.om" "$D/cap.json" | head -n 1)" -ge 1 ]
ok $? "... and the OpenMetrics check fails on a copy with one bucket changed"
promtool tsdb create-blocks-from openmetrics "$D/cap.om" "$D/blocks" >"$D/promtool.out" 2>&1
series=$(awk 'length($1) == 26 && $7 ~ /^[0-9]+$/ { s += $7 } END { print s + 0 }' "$D/promtool.out")
[ "$series" -gt 200 ]
ok $? "promtool backfills the OpenMetrics export into a Prometheus block ($series series)" || sed 's/^/# /' "$D/promtool.out"

# --- Prometheus against redprof's own figures ------------------------------
is "$prom_count" "$(jq .total.histograms.evict_latency_active.count "$D/cap.json")" \
	"Prometheus's last scrape holds the capture's final count of evicting calls"
own_p99=$($CHECK quantile "$D/cap.json" evict_latency_active 0.99)
within "$(awk -v p="$prom_p99" 'BEGIN { printf "%.3f", p * 1e9 }')" "$own_p99" 0.0001
ok $? "histogram_quantile(0.99) in Prometheus ($prom_p99 s) is the estimate from redprof's buckets ($own_p99 ns)"

# --- The report -------------------------------------------------------------
"$REDPROF" report "$D/cap.json" -o "$D/report.html" 2>"$D/report.err"
is "$?" 0 "redprof report writes the HTML report" || sed 's/^/# /' "$D/report.err"
"$REDPROF" report "$D/cap.json" -o "$D/report.svg" 2>>"$D/report.err"
is "$?" 0 "... and the chart sheet"
is "$(grep -cE '<script|https?://|@import|url\(' "$D/report.html")" 0 \
	"the report is self-contained: no script, nothing fetched"
is "$(grep -oE 'https?://[^"]*' "$D/report.svg" | sort -u)" "http://www.w3.org/2000/svg" \
	"the sheet names nothing but its own namespace"
# A chart per histogram and four timelines.
[ "$($CHECK sheet "$D/report.svg")" -ge $(($(jq '.total.histograms | length' "$D/cap.json") + 4)) ]
ok $? "the sheet parses as XML and holds every chart ($($CHECK sheet "$D/report.svg"))"
checked "the sheet's heat map is the snapshot's, cell for cell, and nothing on it overlaps" \
	"$($CHECK heat "$D/report.svg" "$D/cap.json")"

chromium_run --window-size=1280,2400 --screenshot="$D/report.png" "file://$D/report.html" >/dev/null
read -r w h ink colours <<<"$($CHECK png "$D/report.png")"
[ "$w" = 1280 ] && [ "$h" = 2400 ] && awk -v i="$ink" 'BEGIN { exit !(i > 3) }' && [ "$colours" -gt 8 ]
ok $? "Chromium renders it to a PNG that is not blank (${w}x$h, $ink% ink, $colours colours)"
chromium_run --window-size=390,1800 --screenshot="$D/phone.png" "file://$D/report.html" >/dev/null
read -r w h ink colours <<<"$($CHECK png "$D/phone.png")"
[ "$w" = 390 ] && awk -v i="$ink" 'BEGIN { exit !(i > 3) }' && [ "$colours" -gt 8 ]
ok $? "... and on a phone-sized screen ($ink% ink, $colours colours)"
chromium_run --dump-dom "file://$D/report.html" >"$D/dom.html"
checked "the DOM has every chart, its percentiles and counts equal to the snapshot's and the capture's" \
	"$($CHECK dom "$D/dom.html" "$D/cap.json" "$D/cap.jsonl" 2>&1)"
rep_p99=$($CHECK report-value "$D/dom.html" evict_latency_active p99)
max=$(jq .total.histograms.evict_latency_active.max "$D/cap.json")
awk -v r="$rep_p99" -v p="$prom_p99" -v m="$max" 'BEGIN { p *= 1e9; d = r - p; if (d < 0) d = -d
	exit !(d <= 1e-5 * p || (r == m && p >= m)) }'
ok $? "the report's p99 ($rep_p99 ns) is Prometheus's ($prom_p99 s), or the exact max when that is lower"

"$REDPROF" report "$D/cap.jsonl" -o "$D/lines.html" 2>>"$D/report.err"
chromium_run --dump-dom "file://$D/lines.html" >"$D/lines-dom.html"
checked "a report from the --json lines shows the same counts and percentiles" \
	"$($CHECK dom "$D/lines-dom.html" "$D/cap.json" 2>&1)"
"$REDPROF" report "$D/cap.json" "$D/cap.jsonl" -o "$D/compare.html" 2>>"$D/report.err"
chromium_run --dump-dom "file://$D/compare.html" >"$D/compare-dom.html"
same=$(grep -o '<td class="">same</td>' "$D/compare-dom.html" | wc -l)
[ "$same" -ge $((3 * $(jq '[.total.histograms[] | select(.count > 0)] | length' "$D/cap.json"))) ] && ! grep -qE 'class="(worse|better)"' "$D/compare-dom.html" &&
	grep -q 'data-side="After"' "$D/compare-dom.html"
ok $? "before and after of the same capture: side by side, every percentile the same ($same)"

# --- Failures: at start-up, before any probe is attached --------------------
# refused PATTERN DESCRIPTION ARGS...: exit 1, the message, no file, Redis unharmed.
refused() {
	local pat=$1 d=$2
	shift 2
	timeout 20 "$REDPROF" -p "$evict_PID" --text -d 2 "$@" >/dev/null 2>"$D/refused.err"
	is "$?" 1 "$d: exit 1"
	grep -qE "$pat" "$D/refused.err"
	ok $? "$d: says '$pat'" || sed 's/^/# /' "$D/refused.err"
}
refused 'its directory does not exist; create it' "an export in a missing directory" --export "$D/none/x.json"
refused 'is a directory; give a file name' "an export path that is a directory" --export "$D" --format csv
mkdir -p "$D/full" "$D/ro" "$D/small"
mount -t tmpfs -o size=64k tmpfs "$D/full" && MOUNTS="$MOUNTS $D/full"
dd if=/dev/zero of="$D/full/fill" bs=4k count=100 2>/dev/null
refused 'file system is full.*free some space' "an export on a full file system" --export "$D/full/x.json"
mount -t tmpfs -o size=1m,ro tmpfs "$D/ro" && MOUNTS="$MOUNTS $D/ro"
refused 'not writable.*directory redprof can write to' "an export on a read-only file system" --export "$D/ro/x.json"
refused 'port is in use; choose another' "--listen on a port in use" --listen "127.0.0.1:$PPORT"
is "$(ls -A "$D/full" "$D/ro" | grep -c x.json)" 0 "nothing was written where it was refused"

# --- Failure at the end: the file system fills before the export is written -
mount -t tmpfs -o size=48k tmpfs "$D/small" && MOUNTS="$MOUNTS $D/small"
redis-benchmark -p "$evict_PORT" -t set -n 150000 -r 1000000 -d 512 -c 10 -q >/dev/null 2>&1 &
bench=$!
timeout 30 "$REDPROF" -p "$evict_PID" --json -i 0.1 -d 3 --export "$D/small/x.json" >"$D/small.jsonl" 2>"$D/small.err"
is "$?" 1 "an export that does not fit at the end: exit 1"
wait "$bench"
grep -q 'could not write the export .*small/x.json: No space left on device' "$D/small.err" &&
	grep -q '^== total over' "$D/small.err"
ok $? "... says why and prints the capture's total on standard error" || sed 's/^/# /' "$D/small.err" | head -5
is "$(ls -A "$D/small")" "" "... and leaves no partial file behind"
is "$(tail -n 1 "$D/small.jsonl" | jq -r .type)" total "... while the line output still ends with the total"
is "$(redis-cli -p "$evict_PORT" ping)" PONG "Redis still answers"

echo "1..$TAP_N"
done_testing
