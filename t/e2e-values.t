#!/bin/bash
# e2e-values.t: getMaxmemoryState's variables read by redprof's instruction-
# offset uprobes on real Redis servers in eviction, checked against Redis's
# own INFO and, hit by hit, against an independent observer: the kernel's
# uprobe tracer (tracefs uprobe_events) placed at redprof's sites.
#
# Two builds: Debian 12's stripped redis-server with its shipped offset file
# (disasm strategy), and the -O2 -g build of Debian's source package with a
# file generated on the fly (dwarf strategy). Each runs from a private copy
# of its executable: tracefs probes are system-wide, a copy's inode is ours.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-server redis-cli redis-benchmark jq gdb

T=/sys/kernel/tracing
GROUP=rpt$$
INSTANCE=$T/instances/redprof-test-$$

remove_tracefs() {
	[ -d "$INSTANCE" ] && echo 0 >"$INSTANCE/tracing_on" 2>/dev/null
	for e in site entry oh; do
		[ -d "$INSTANCE/events/$GROUP/$e" ] && echo 0 >"$INSTANCE/events/$GROUP/$e/enable" 2>/dev/null
	done
	rmdir "$INSTANCE" 2>/dev/null
	for e in site entry oh; do
		echo "-:$GROUP/$e" >>"$T/uprobe_events" 2>/dev/null
	done
}
trap 'remove_tracefs; cleanup' EXIT

mountpoint -q "$T" || mount -t tracefs nodev "$T" || bail "cannot mount tracefs at $T"
require_fixtures src-7.0.15-O2g
DWARF_BUILD=${BIN[src-7.0.15-O2g]}

# The tracer's hits through the offset file's expressions: per variable, log2
# bucket counts as redprof makes them ("VAR LO COUNT"), then "hits N" and, hit
# by hit against values the tracer read on its own, the number of
# disagreements: "bad_reported" (with zmalloc's counter read from memory at
# the hit), "bad_overhead" (with what freeMemoryGetNotCountedMemory returned
# in this call), "bad_used" (mem_used against counter - returned overhead),
# "bad_tofree" (mem_tofree against mem_used - the configured maxmemory).
observe() { # OFFSETS-FILE TRACE MAXMEMORY
	awk -v file="$1" -v maxmemory="$3" '
	BEGIN {
		while ((getline l < file) > 0) {
			split(l, f, " ")
			if (f[1] == "value") expr[f[2]] = f[4]
		}
	}
	function value(e,    s, n, i, tok, sign) {
		gsub(/-/, " - ", e); gsub(/\+/, " + ", e)
		n = split(e, tok, " "); s = 0; sign = 1
		for (i = 1; i <= n; i++) {
			if (tok[i] == "+") sign = 1
			else if (tok[i] == "-") sign = -1
			else s += sign * reg[tok[i]]
		}
		return s
	}
	function bucket(v,    b) {
		if (v < 2) return 0
		for (b = 1; b * 2 <= v; b *= 2) ;
		return b
	}
	function fields(    n, i, kv, p) {
		sub(/^.*\) /, "")
		n = split($0, kv, " ")
		for (i = 1; i <= n; i++) { split(kv[i], p, "="); reg[p[1]] = p[2] + 0 }
	}
	/ entry: / { oh = -1 }
	/ oh: / { fields(); oh = reg["oh"] }
	/ site: / {
		fields()
		for (v in expr) { x[v] = value(expr[v]); h[v " " bucket(x[v])]++ }
		if (x["mem_reported"] != reg["counter"]) bad_reported++
		if (x["overhead"] != oh) bad_overhead++
		if (x["mem_used"] != reg["counter"] - oh) bad_used++
		if (x["mem_tofree"] != x["mem_used"] - maxmemory) bad_tofree++
		hits++
	}
	END {
		for (k in h) print k, h[k]
		printf "hits %d\nbad_reported %d\nbad_overhead %d\nbad_used %d\nbad_tofree %d\n",
			hits, bad_reported, bad_overhead, bad_used, bad_tofree
	}' "$2"
}

# The address zmalloc_used_memory reads, from gdb's own disassembly (`mov ADDR(%rip),%rax  # 0x...`).
counter_address() { # BINARY
	gdb -batch -ex 'x/i zmalloc_used_memory' "$1" 2>/dev/null | sed -n 's/.*# \(0x[0-9a-f]*\).*/\1/p' | head -n 1
}

run_case() { # NAME BINARY shipped|dwarf
	local name=$1 src=$2 mode=$3 dir=$TMPDIR_T/$1 port pid file
	mkdir -p "$dir"
	cp "$src" "$dir/redis-server"
	REDIS_SERVER="$dir/redis-server" start_redis "$name" --maxmemory 20mb --maxmemory-policy allkeys-lru \
		--appendonly yes --appendfsync no
	eval "port=\$${name}_PORT pid=\$${name}_PID"
	if [ "$mode" = shipped ]; then
		set -- --offsets-dir "$top_srcdir/offsets"
		file=$(grep -l "^build-id $(readelf -n "$src" | awk '/Build ID/ {print $3}')" "$top_srcdir"/offsets/*.offsets)
	else
		file=$dir/offsets
		"$REDPROF" offsets generate -p "$pid" --strategy dwarf -o "$file" 2>/dev/null
		set -- --offsets "$file"
	fi

	local site_off entry_off site_name
	site_off=$(awk '$1 == "site" && $NF == "slowpath" {print $4}' "$file")
	site_name=$(awk '$1 == "site" && $NF == "slowpath" {print $3}' "$file")
	entry_off=$(printf '0x%x' "0x$(nm -D "$src" | awk '$3 == "performEvictions" {print $1}')")
	[ -n "$site_off" ] && [ "$(awk '$1 == "value" && $4 !~ /\[/' "$file" | wc -l)" -eq 4 ]
	ok $? "$name: $file has a slow-path site ($site_name) with all four variables in registers"

	# Fill Redis to maxmemory first: the capture is all in eviction, like INFO's samples.
	redis-benchmark -p "$port" -t set -n 50000 -r 1000000 -d 512 -c 20 -q >/dev/null 2>&1

	# The observer: tracefs uprobes at the same offsets, in a private buffer, filtered to the PID.
	regs=$(awk '$1 == "value" {print $4}' "$file" | tr '+-' '\n\n' | sort -u | awk 'NF {printf " %s=%%%s:u64", $1, $1 ~ /^r[0-9]/ ? $1 : substr($1, 2)}')
	counter=$(counter_address "$src")
	oh_off=$(printf '0x%x' "0x$(nm -D "$src" | awk '$3 == "freeMemoryGetNotCountedMemory" {print $1}')")
	{ [ -n "$counter" ] &&
	  echo "p:$GROUP/site $dir/redis-server:$site_off$regs counter=@+$counter:u64" >>"$T/uprobe_events" &&
	  echo "p:$GROUP/entry $dir/redis-server:$entry_off" >>"$T/uprobe_events" &&
	  echo "r:$GROUP/oh $dir/redis-server:$oh_off oh=\$retval:u64" >>"$T/uprobe_events" &&
	  mkdir "$INSTANCE" && echo 65536 >"$INSTANCE/buffer_size_kb" &&
	  for e in site entry oh; do
		echo "common_pid == $pid" >"$INSTANCE/events/$GROUP/$e/filter" &&
		echo 1 >"$INSTANCE/events/$GROUP/$e/enable" || exit 1
	  done; } 2>"$dir/tracefs.err"
	ok $? "$name: the kernel's uprobe tracer watches the same site, the entry and freeMemoryGetNotCountedMemory's return$(cat "$dir/tracefs.err")"

	local before_ev after_ev total
	before_ev=$(info "$port" evicted_keys)
	start_redprof "$dir/out.jsonl" "$dir/err" -p "$pid" --json -i 0.5 "$@"
	wait_lines "$dir/out.jsonl" 1
	ok $? "$name: redprof attaches"
	(for _ in $(seq 40); do info "$port" used_memory; sleep 0.25; done) >"$dir/used" &
	local sampler=$!
	redis-benchmark -p "$port" -t set -n 60000 -r 1000000 -d 512 -c 20 -q >/dev/null 2>&1
	kill $sampler 2>/dev/null
	wait $sampler 2>/dev/null
	sleep 1.6	# idle intervals after the load
	kill -INT "$RP_PID"
	wait_exit "$RP_PID"
	is "$EXIT_STATUS" 0 "$name: redprof exits 0"
	echo 0 >"$INSTANCE/tracing_on"
	after_ev=$(info "$port" evicted_keys)
	total=$(tail -n 1 "$dir/out.jsonl")
	grep -q "^redprof: offsets: $file ($([ "$mode" = shipped ] && echo disasm || echo dwarf) strategy)" "$dir/err"
	ok $? "$name: redprof says which file and strategy it uses: $(grep 'offsets:' "$dir/err")"

	# --- against INFO ---
	echo "$total" | jq -e --argjson mm $((20 * 1024 * 1024)) '.histograms.mem_tofree |
		.count > 0 and .min > 0 and .max < $mm' >/dev/null
	ok $? "$name: mem_tofree has samples, min > 0, max < maxmemory: $(echo "$total" | jq -c '.histograms.mem_tofree | {count,min,max}')"
	echo "$total" | jq -e '.histograms.mem_tofree | ([.buckets[] | select(.hi <= 1048576) | .count] | add) * 2 > .count' >/dev/null
	ok $? "$name: most mem_tofree samples are under 1 MB"
	local mean used keys delta
	mean=$(echo "$total" | jq '.histograms.mem_reported | .sum / .count | floor')
	used=$(awk '{s += $1; n++} END {printf "%d", s / n}' "$dir/used")
	[ $((mean * 10)) -ge $((used * 9)) ] && [ $((mean * 10)) -le $((used * 11)) ]
	ok $? "$name: mean mem_reported ($mean) is within 10% of INFO used_memory during the run ($used)"
	echo "$total" | jq -e '.histograms.overhead | .count > 0 and .max > 0' >/dev/null
	ok $? "$name: overhead (the AOF buffer) has non-zero samples: $(echo "$total" | jq -c '.histograms.overhead | {min,max}')"
	keys=$(echo "$total" | jq '.keys_evicted // -1')
	delta=$((after_ev - before_ev))
	[ "$delta" -gt 1000 ] && [ $(((keys - delta) * 50)) -le "$delta" ] && [ $(((delta - keys) * 50)) -le "$delta" ]
	ok $? "$name: keys_evicted ($keys) equals INFO's evicted_keys delta ($delta) within 2%"
	echo "$total" | jq -e '.evicting_calls <= .calls and .evicting_calls > 0' >/dev/null
	ok $? "$name: evicting_calls ($(echo "$total" | jq .evicting_calls)) <= calls ($(echo "$total" | jq .calls))"
	jq -s -e '[.[] | .evict_time_share | select(. < 0 or . > 1)] | length == 0' "$dir/out.jsonl" >/dev/null
	ok $? "$name: evict_time_share is between 0 and 1 in every interval"
	jq -s -e '[.[] | select(.type == "interval") | .evict_time_share] as $s | ($s | max) > ($s[-1] * 4 + 0.001)' "$dir/out.jsonl" >/dev/null
	ok $? "$name: evict_time_share is higher while evicting than after the load: $(jq -s -c '[.[] | select(.type == "interval") | .evict_time_share]' "$dir/out.jsonl")"

	# --- against the kernel's uprobe tracer ---
	local prof_site prof_entry trace_site trace_entry overruns hits bad
	prof_site=$(echo "$total" | jq --arg s "$site_name" '.probe_hits.by_site[$s]')
	prof_entry=$(echo "$total" | jq '.probe_hits.by_site.performEvictions')
	# uprobe_profile: "PATH EVENT HITS"
	trace_site=$(awk -v p="$dir/redis-server" '$1 == p && $2 == "site" {print $3}' "$T/uprobe_profile")
	trace_entry=$(awk -v p="$dir/redis-server" '$1 == p && $2 == "entry" {print $3}' "$T/uprobe_profile")
	overruns=$(cat "$INSTANCE"/per_cpu/cpu*/stats | awk '/^overrun:/ {s += $2} END {print s + 0}')
	is "$overruns" 0 "$name: the tracer's buffer lost nothing (overruns)"
	[ "$prof_site" -gt 1000 ] && [ "$trace_site" -ge "$prof_site" ] && [ $(((trace_site - prof_site) * 100)) -le "$trace_site" ]
	ok $? "$name: slow-path site hits: redprof $prof_site, tracer $trace_site (within 1%)"
	# The light plan probes no entry: it counts calls as the commands Redis ran, which the tracer's entry hits check.
	is "$prof_entry" null "$name: the light plan puts no probe on the entry"
	prof_calls=$(echo "$total" | jq .calls)
	[ "$trace_entry" -ge "$prof_calls" ] && [ $(((trace_entry - prof_calls) * 100)) -le "$trace_entry" ]
	ok $? "$name: calls from Redis's command counter: redprof $prof_calls, tracer's entry hits $trace_entry (within 1%)"
	echo "$total" | jq -e '(.returns | add) as $r | .evicting_calls - $r <= 1 and $r - .evicting_calls <= 1' >/dev/null
	ok $? "$name: every evicting call left through one exit: returns $(echo "$total" | jq -c .returns), evicting calls $(echo "$total" | jq .evicting_calls)"

	observe "$file" "$INSTANCE/trace" $((20 * 1024 * 1024)) >"$dir/observed"
	hits=$(awk '$1 == "hits" {print $2}' "$dir/observed")
	is "$hits" "$trace_site" "$name: the trace holds every hit the tracer counted"
	for b in reported overhead used tofree; do
		v=mem_$b
		[ "$b" = overhead ] && v=overhead
		is "$(awk -v k="bad_$b" '$1 == k {print $2}' "$dir/observed")" 0 \
			"$name: hit by hit, the file's $v agrees with the tracer's own reading ($hits hits)"
	done
	for v in mem_tofree mem_used mem_reported overhead; do
		# redprof's buckets against the tracer's: within 1% (and 2 events) each, none missing.
		jq -r --arg v "$v" '.histograms[$v].buckets[] | "\(.lo) \(.count)"' <<<"$total" >"$dir/prof.$v"
		awk -v v="$v" '$1 == v {print $2, $3}' "$dir/observed" >"$dir/trace.$v"
		mismatch=$(awk 'NR == FNR {p[$1] = $2; next} {t[$1] = $2}
			END {
				for (b in p) { d = p[b] - t[b]; if (d < 0) d = -d; if (d * 100 > t[b] + 200) n++ }
				for (b in t) if (!(b in p) && t[b] > 2) n++
				print n + 0
			}' "$dir/prof.$v" "$dir/trace.$v")
		is "$mismatch" 0 "$name: redprof's $v histogram matches the tracer's bucket by bucket"
	done
	remove_tracefs
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
}

run_case debian /usr/bin/redis-check-rdb shipped
run_case dwarf "$DWARF_BUILD" dwarf

echo "1..$TAP_N"
done_testing
