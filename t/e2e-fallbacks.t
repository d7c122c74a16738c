#!/bin/bash
# e2e-fallbacks.t: the probes redprof falls back on when an offset file does
# not say where the server keeps its counters. Debian 12's redis-server in
# eviction, profiled with the file redprof generates for it minus
# stat_evictedkeys and stat_numcommands: keys evicted must then be counted at the delete calls
# (one hit per key) and commands by a probe on processCommand (one hit per
# command), both equal to Redis's own INFO counters, and redprof must say so.
. "$top_srcdir/t/lib.sh"

require_bpf
require_cmd redis-cli redis-benchmark jq
require_fixtures deb12u10

plan 8

FILE=$TMPDIR_T/no-counters.offsets
timeout 60 "$REDPROF" offsets generate "${BIN[deb12u10]}" -o "$TMPDIR_T/full.offsets" 2>/dev/null ||
	bail "offsets generate failed for ${BIN[deb12u10]}"
grep -v -E '^global (stat_evictedkeys|stat_numcommands) ' "$TMPDIR_T/full.offsets" >"$FILE"
DELETES=$(awk '$1 == "delete" { print $2 }' "$FILE" | jq -R . | jq -sc .)
[ "$DELETES" != "[]" ] || bail "the generated file has no delete call"

# Debian's packages ship redis-check-rdb; Redis runs as a server when called redis-server.
REDIS_SERVER=$(dirname "${BIN[deb12u10]}")/redis-server start_redis fb \
	--maxmemory 20mb --maxmemory-policy allkeys-lru
redis-benchmark -p "$fb_PORT" -t set -n 50000 -r 1000000 -d 512 -c 20 -q >/dev/null 2>&1
keys_before=$(info "$fb_PORT" evicted_keys)
cmds_before=$(info "$fb_PORT" total_commands_processed)
start_redprof "$TMPDIR_T/fb.jsonl" "$TMPDIR_T/fb.err" -p "$fb_PID" --json -i 0.5 --offsets "$FILE"
wait_lines "$TMPDIR_T/fb.jsonl" 1
redis-benchmark -p "$fb_PORT" -t set -n 40000 -r 1000000 -d 512 -c 20 -q >/dev/null 2>&1
sleep 0.6
keys=$(($(info "$fb_PORT" evicted_keys) - keys_before))
cmds=$(($(info "$fb_PORT" total_commands_processed) - cmds_before))
kill -INT "$RP_PID"
wait_exit "$RP_PID"
total=$(tail -n 1 "$TMPDIR_T/fb.jsonl")

is "$EXIT_STATUS" 0 "redprof runs with an offset file that lacks both counters" || sed 's/^/#   /' "$TMPDIR_T/fb.err"
grep -q '^redprof: keys evicted: counted at the delete calls (one probe hit per key)' "$TMPDIR_T/fb.err"
ok $? "it says keys evicted are counted at the delete calls"
grep -q '^redprof: commands: the offset file has no stat_numcommands, so a probe on processCommand' "$TMPDIR_T/fb.err"
ok $? "it says a probe on processCommand counts the commands"

got=$(echo "$total" | jq '.keys_evicted // -1')
[ "$keys" -gt 1000 ] && [ $(((got - keys) * 50)) -le "$keys" ] && [ $(((keys - got) * 50)) -le "$keys" ]
ok $? "keys_evicted ($got) matches INFO's evicted_keys delta ($keys) within 2%"
is "$(echo "$total" | jq --argjson d "$DELETES" '[.probe_hits.by_site | to_entries[] | select(.key as $k | $d | index($k)) | .value] | add')" \
	"$got" "one probe hit per key at the delete calls ($(echo "$DELETES" | jq -r 'join(", ")'))"

got=$(echo "$total" | jq '.commands // -1')
# INFO calls on either side of redprof's window make a few commands of difference.
[ "$got" -ge $((cmds - 3)) ] && [ "$got" -le $((cmds + 3)) ]
ok $? "commands ($got) equal INFO's total_commands_processed delta ($cmds) within 3"
is "$(echo "$total" | jq '.probe_hits.by_site.processCommand')" "$got" "one processCommand hit per command"
echo "$total" | jq -e '.probe_hits.by_class.single_stepped == 0' >/dev/null
ok $? "every fallback probe is emulated, none single-stepped"

redis-cli -p "$fb_PORT" shutdown nosave >/dev/null 2>&1
done_testing
