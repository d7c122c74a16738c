#!/bin/bash
# offsets-gdb.t: gdb as an independent oracle for the values an offset file
# describes. The DWARF build src-7.0.15-O2g runs under gdb, with
# maxmemory 20mb, allkeys-lru and appendonly yes (the AOF buffer is the
# overhead, so mem_reported, overhead and mem_used all differ), pushed over
# maxmemory by a bounded SET load. Two files are checked at once: the dwarf
# strategy's for that binary and the disasm strategy's for its stripped copy
# (same build-id, so it applies to the same binary). At each file site gdb
# evaluates every expression of both files from registers and memory, next
# to its own DWARF answers, hit by hit:
#   - mem_tofree: gdb's `print mem_tofree` at the site;
#   - mem_used, overhead, mem_reported: gdb's own at the oracle points: the
#     instructions that gdb's blocks place inside the inlined
#     getMaxmemoryState, in the straight run of code (no jump lands in it)
#     that ends at the site; the last value DWARF gives for each there
#     before a site hit is that call's;
#   - overhead also as sdsAllocSize(server.aof_buf), read from the sds
#     header, and maxmemory as gdb's server.maxmemory;
#   - the file's globals against gdb's server.maxmemory,
#     server.stat_numcommands, server.stat_evictedkeys and used_memory.
# Then the same for Valkey 8.1, whose getMaxmemoryState is not inlined.
. "$top_srcdir/t/lib.sh"

require_cmd gdb readelf jq
if ! gdb -batch -nx -ex 'python print(1)' >/dev/null 2>&1; then
	[ "${CI:-}" = true ] && bail "this gdb has no Python, which the oracle script needs"
	skip_all "this gdb has no Python, which the oracle script needs"
fi

FIXTURES="src-7.0.15-O2g src-7.0.15-O2g-stripped src-valkey-8.1.1 src-valkey-8.1.1-stripped"
# shellcheck disable=SC2086
require_fixtures $FIXTURES
O2G=${BIN[src-7.0.15-O2g]}
STRIPPED=${BIN[src-7.0.15-O2g-stripped]}
BENCH="$(dirname "$O2G")/redis-benchmark"

plan 63

build_id() { readelf -n "$1" | awk '/Build ID:/ { print $3; exit }'; }
is "$(build_id "$STRIPPED")" "$(build_id "$O2G")" "the stripped copy has the DWARF build's build-id"

# --- the two files --------------------------------------------------------
# two_files LABEL DWARF-BUILD STRIPPED-COPY DWARF-FILE DISASM-FILE: 2 tests.
two_files() {
	timeout 60 "$REDPROF" offsets generate "$2" --strategy dwarf -o "$4" 2>"$TMPDIR_T/gen.err"
	is "$?" 0 "${1}offsets generate --strategy dwarf on the DWARF build"
	timeout 60 "$REDPROF" offsets generate "$3" --strategy disasm -o "$5" 2>"$TMPDIR_T/gen.err"
	is "$?" 0 "${1}offsets generate --strategy disasm on the stripped copy"
}
DWARF="$TMPDIR_T/dwarf.offsets"
DISASM="$TMPDIR_T/disasm.offsets"
two_files "" "$O2G" "$STRIPPED" "$DWARF" "$DISASM"
for f in "$DWARF" "$DISASM"; do
	timeout 60 "$REDPROF" offsets show "$f" "$O2G" >/dev/null 2>"$TMPDIR_T/show.err"
	is "$?" 0 "offsets show accepts $(basename "$f") for the DWARF build's binary"
	is "$(awk '$1 == "value"' "$f" | wc -l)" 4 "$(basename "$f") has all four values"
done
SITES=$(awk '$1 == "site" { print $3 }' "$DWARF" "$DISASM" | sort -u)
is "$(echo "$SITES" | wc -l)" 1 "both files put their values at the same site ($SITES)"

# --- the gdb script ------------------------------------------------------
cat >"$TMPDIR_T/oracle.py" <<'EOF'
# Breakpoints at the offset files' sites and at the DWARF oracle point;
# every site hit becomes one JSON line. stop() returns False: no stop.
import gdb, json, os, re
from offsets_gdb import start

def read(expr, frame=None):
    try:
        v = frame.read_var(expr) if frame else gdb.parse_and_eval(expr)
        return None if v.is_optimized_out else int(v)
    except (gdb.error, ValueError):
        return None

def sds_alloc_size(s):
    """sdsAllocSize(s): header + alloc + 1; the type is in the flags byte before s."""
    if not s:
        return 0
    hdr, ty, width = {1: (3, "unsigned char", 1), 2: (5, "unsigned short", 2),
                      3: (9, "unsigned int", 4), 4: (17, "unsigned long", 8)}[read("*(unsigned char *)%d" % (s - 1)) & 7]
    return hdr + read("*(%s *)%d" % (ty, s - 1 - width)) + 1

out = open(os.environ["HITS"], "w")

def oracle_points(site_loc):
    """The instructions that gdb's blocks place inside an inlined
    getMaxmemoryState, in the straight run of code ending at SITE_LOC (no
    jump lands in it, so nothing else reaches the site from there)."""
    fn = site_loc.split("+")[0]
    lines = gdb.execute("disassemble " + fn, to_string=True).splitlines()
    insns = []
    for line in lines:
        m = re.match(r"^\s*(?:=> )?(0x[0-9a-f]+) <\+(\d+)>:\t(\S+)\s*(.*)$", line)
        if m:
            insns.append((int(m.group(1), 16), int(m.group(2)), m.group(3), m.group(4)))
    targets = {int(t) for _, _, _, ops in insns for t in re.findall(r"<%s\+(\d+)>" % re.escape(fn), ops)}
    i = next(k for k, x in enumerate(insns) if x[1] == int(site_loc.split("+")[1]))
    run = [insns[i]]
    while i > 0 and insns[i][1] not in targets and insns[i - 1][2] not in ("jmp", "ret"):
        i -= 1
        run.insert(0, insns[i])
    points = []
    for addr, off, _, _ in run[:-1]:
        b = gdb.block_for_pc(addr)
        while b is not None and not (b.function is not None and b.function.name == "getMaxmemoryState"):
            b = b.superblock
        if b is not None:
            points.append("%s+%d" % (fn, off))
    return points, [x[1] for x in run]

last = {}
class Oracle(gdb.Breakpoint):
    """Inside the inlined getMaxmemoryState: DWARF's own mem_used and overhead,
    and the caller's mem_reported (getMaxmemoryState stored it through total),
    each kept from the last point where DWARF has it."""
    def stop(self):
        f = gdb.selected_frame()
        now = dict(mem_used=read("mem_used"), overhead=read("overhead"),
                   mem_reported=read("mem_reported", f.older()))
        last["frame"] = f.name()
        last.update({k: v for k, v in now.items() if v is not None})
        return False

class Site(gdb.Breakpoint):
    def stop(self):
        loc = self.location.lstrip("*")
        rec = {"site": loc, "files": {}, "globals": {}, "dwarf_before": dict(last),
               "gdb": {v: read(v) for v in ("mem_tofree", "mem_used", "mem_reported", "overhead")},
               "server": {"maxmemory": read("server.maxmemory"),
                          "stat_numcommands": read("server.stat_numcommands"),
                          "stat_evictedkeys": read("server.stat_evictedkeys"),
                          "used_memory": read("'zmalloc.c'::used_memory"),
                          "aof_buf_alloc": sds_alloc_size(read("(unsigned long)server.aof_buf")),
                          "repl_buffer_mem": read("server.repl_buffer_mem")}}
        last.clear()
        for name, var, expr in sites[loc]:
            rec["files"].setdefault(name, {})[var] = int(gdb.parse_and_eval(expr))
        for name, g in globals_.items():
            rec["globals"][name] = {k: int(gdb.parse_and_eval(e)) for k, e in g.items()}
        rec["server"]["used_memory_after"] = read("'zmalloc.c'::used_memory")
        out.write(json.dumps(rec) + "\n")
        out.flush()
        return False

sites, globals_ = start(os.environ["OFFSET_FILES"].split())
if os.environ.get("ORACLE"):
    points, run = oracle_points(next(iter(sites)))
    open(os.environ["ORACLE"], "w").write("%s %s\n" % (",".join(points), " ".join("+%d" % o for o in run)))
    for point in points:
        Oracle("*" + point)
for loc in sites:
    Site("*" + loc)
gdb.execute("continue")
EOF

# --- the run ---------------------------------------------------------------
gdb_redis SRV "$TMPDIR_T/oracle.py" "$O2G" "$TMPDIR_T/data" HITS="$TMPDIR_T/hits.jsonl" \
	OFFSET_FILES="$DWARF $DISASM" ORACLE="$TMPDIR_T/oracle-point"
traced_by_gdb "$SRV_PID"
ok $? "redis-server runs under gdb with breakpoints at the sites and at the oracle point"
read -r ORACLE_POINT RUN <"$TMPDIR_T/oracle-point"
[ -n "$ORACLE_POINT" ]
ok $? "gdb's blocks give oracle points $ORACLE_POINT, in the straight run $RUN ending at the site"

# loaded LABEL HITS: 3 tests of the run evict_under_gdb just made; sets H
# and n, the hits file and its length, for `every` below.
loaded() {
	is "$EXIT_STATUS" 0 "${1}gdb exits when the server shuts down"
	[ "$EVICTED" -gt 200 ] && [ "$AOF" = 1 ]
	ok $? "${1}the load drove the server into eviction with the AOF on ($EVICTED keys evicted)"
	H=$2
	n=$(grep -c . "$H")
	[ "$n" -ge 200 ]
	ok $? "${1}enough site hits: $n (at least 200)"
}

# Fill to just under maxmemory (no hits below it), then a bounded load over
# it: from there on every SET runs an evicting performEvictions.
evict_under_gdb SRV "$BENCH" 1200
loaded "" "$TMPDIR_T/hits.jsonl"

# --- hit by hit --------------------------------------------------------------
# every JQ-CONDITION DESCRIPTION: the condition holds at every hit.
every() {
	jq -c "select(($1) | not)" "$H" >"$TMPDIR_T/bad"
	if [ -s "$TMPDIR_T/bad" ]; then
		ok 1 "$2"
		diag "  $(wc -l <"$TMPDIR_T/bad") of $n hits fail; the first: $(head -n 1 "$TMPDIR_T/bad" | head -c 700)"
	else
		ok 0 "$2"
	fi
}
every '.dwarf_before.frame == "getMaxmemoryState" and .dwarf_before.mem_used != null and
	.dwarf_before.overhead != null and .dwarf_before.mem_reported != null and .gdb.mem_tofree != null' \
	"every hit has gdb's mem_tofree at the site and its mem_used, overhead, mem_reported at the oracle points"
every '.server.repl_buffer_mem == 0 and .server.aof_buf_alloc > 0' \
	"every hit has a non-zero overhead: the AOF buffer (no replication buffer)"
for f in dwarf disasm; do
	v=".files.$f"
	every "$v.mem_tofree == .gdb.mem_tofree" "$f: mem_tofree equals gdb's print mem_tofree at every hit"
	every "$v.mem_used == .dwarf_before.mem_used" "$f: mem_used equals gdb's print mem_used at every hit"
	every "$v.overhead == .dwarf_before.overhead and $v.overhead == .server.aof_buf_alloc" \
		"$f: overhead equals gdb's print overhead and sdsAllocSize(server.aof_buf) at every hit"
	every "$v.mem_reported == .dwarf_before.mem_reported" \
		"$f: mem_reported equals gdb's print mem_reported (performEvictions') at every hit"
	every "$v.mem_tofree == $v.mem_used - .server.maxmemory and $v.mem_tofree > 0" \
		"$f: mem_tofree = mem_used - server.maxmemory > 0 at every hit"
	every "$v.mem_used == $v.mem_reported - $v.overhead and $v.overhead > 0" \
		"$f: mem_used = mem_reported - overhead, overhead > 0, at every hit"
	for g in maxmemory stat_numcommands stat_evictedkeys; do
		every ".globals.$f.$g == .server.$g" "$f: global $g reads gdb's server.$g at every hit"
	done
	# Other threads may allocate while gdb reads: then used_memory moves between its two reads.
	every ".globals.$f.used_memory == .server.used_memory or .server.used_memory != .server.used_memory_after" \
		"$f: global used_memory reads gdb's used_memory (zmalloc.c) at every hit"
done
every '.files.dwarf == .files.disasm' "the two files give the same four values at every hit"
jq -s -e '(map(.server.stat_evictedkeys) | (.[-1] > .[0])) and
	(map(.files.disasm.overhead) | unique | length > 1)' "$H" >/dev/null
ok $? "the values move: keys get evicted and the overhead changes between hits"
grep -q 'exited normally' "$TMPDIR_T/data/gdb.log"
ok $? "gdb saw the server exit normally"

# --- Valkey 8.1: getMaxmemoryState not inlined ------------------------------
# performEvictions passes &mem_reported and &mem_tofree to the out-of-line
# getMaxmemoryState, so both files read the caller's stack slots; at their
# site gdb prints the same two locals from performEvictions' own frame.
VK=${BIN[src-valkey-8.1.1]}
VK_STRIPPED=${BIN[src-valkey-8.1.1-stripped]}
VDWARF="$TMPDIR_T/valkey-dwarf.offsets"
VDISASM="$TMPDIR_T/valkey-disasm.offsets"
two_files "valkey: " "$VK" "$VK_STRIPPED" "$VDWARF" "$VDISASM"
grep -q '^inlined no$' "$VDWARF" && grep -q '^inlined no$' "$VDISASM"
ok $? "valkey: both files say getMaxmemoryState is not inlined"
VSITES=$(awk '$1 == "site" { print $3 }' "$VDWARF" "$VDISASM" | sort -u)
is "$(echo "$VSITES" | wc -l)" 1 "valkey: both files put their values at the same site ($VSITES)"

gdb_redis VK "$TMPDIR_T/oracle.py" "$VK" "$TMPDIR_T/vdata" HITS="$TMPDIR_T/vhits.jsonl" \
	OFFSET_FILES="$VDWARF $VDISASM"
traced_by_gdb "$VK_PID"
ok $? "valkey: valkey-server runs under gdb with breakpoints at the sites"
evict_under_gdb VK "$BENCH" 1200
loaded "valkey: " "$TMPDIR_T/vhits.jsonl"
every '.gdb.mem_tofree != null and .gdb.mem_reported != null and .server.aof_buf_alloc > 0' \
	"valkey: every hit has gdb's mem_tofree and mem_reported and a non-zero AOF buffer"
for f in valkey-dwarf valkey-disasm; do
	v=".files[\"$f\"]"
	every "$v.mem_tofree == .gdb.mem_tofree and $v.mem_tofree > 0" \
		"$f: mem_tofree equals gdb's print mem_tofree (performEvictions') at every hit"
	every "$v.mem_reported == .gdb.mem_reported" \
		"$f: mem_reported equals gdb's print mem_reported (performEvictions') at every hit"
	every "$v.mem_used == .gdb.mem_tofree + .server.maxmemory" \
		"$f: mem_used = gdb's mem_tofree + server.maxmemory at every hit"
	every "$v.overhead == .server.aof_buf_alloc" "$f: overhead equals sdsAllocSize(server.aof_buf) at every hit"
	for g in maxmemory stat_numcommands stat_evictedkeys; do
		every ".globals[\"$f\"].$g == .server.$g" "$f: global $g reads gdb's server.$g at every hit"
	done
done
every '.files["valkey-dwarf"] == .files["valkey-disasm"]' "valkey: the two files give the same four values at every hit"
grep -q 'exited normally' "$TMPDIR_T/vdata/gdb.log"
ok $? "valkey: gdb saw the server exit normally"

done_testing
