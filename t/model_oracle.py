# model_oracle.py: run under gdb by t/model.t on one build of the model
# (t/model/), with offset files that apply to it (OFFSET_FILES). The
# model's driver publishes, in truth_* globals its eviction code never
# reads, what each call must find; this script writes one JSON line to
# HITS for each:
#   {"kind": "site", "site": LOC, "truth": {...}, "files": {FILE: {VAR: value}}}
#       at a value or slow-path site of some file, before the instruction,
#       with what redprof counts there: the values read at the site, those
#       kept from the call's early site, and those worked out from others;
#   {"kind": "early", "site": LOC, "truth": {...}, "files": {...}}
#       at an early site, whose values are kept for the slow-path site;
#   {"kind": "delete", "site": LOC, "call": N}
#       at a call deleting an evicted key;
#   {"kind": "after", "truth": {...}, "globals": {FILE: {GLOBAL: value}}}
#       after each command (model_after_command), with the files' globals;
#   {"kind": "layout", "files": {FILE: {GLOBAL: address}}, "dwarf": {...}}
#       once, when the build has DWARF: gdb's own &server.MEMBER.
# Breakpoints never stop: stop() returns False.
import json
import os

import gdb

import offsets_gdb

MASK = (1 << 64) - 1
BEFORE = ("call", "evicts", "mem_reported", "overhead", "mem_used", "mem_tofree")
AFTER = ("call", "evicts", "maxmemory", "stat_numcommands", "stat_evictedkeys", "used_memory", "maxmemory_policy")

out = open(os.environ["HITS"], "w")
paths = os.environ["OFFSET_FILES"].split()


def emit(rec):
    out.write(json.dumps(rec) + "\n")
    out.flush()


def value(expr):
    return int(gdb.parse_and_eval(expr)) & MASK


def truth(names):
    return {n: value("*(unsigned long *)&truth_" + n) for n in names}


def address_or_none(*exprs):
    """The first of EXPRS gdb can take the address of, or None."""
    for expr in exprs:
        try:
            return value("(unsigned long)" + expr)
        except gdb.error:
            pass
    return None


kept = {}  # file -> {variable: value} read at the call's early site


class Site(gdb.Breakpoint):
    def __init__(self, loc):
        super().__init__(offsets_gdb.breakpoint_at(loc, offsets_gdb.BIAS), internal=True)
        self.loc = loc

    def stop(self):
        kind = offsets_gdb.KINDS.get(self.loc, "")
        files = {}
        for name, var, expr in sites[self.loc]:
            if not isinstance(expr, offsets_gdb.Derived):
                files.setdefault(name, {})[var] = value(expr)
        if kind == "early":
            for name, vals in files.items():
                kept[name] = dict(vals)
        elif kind == "slowpath":
            for name in set(files) | set(kept):
                known = {**kept.pop(name, {}), **files.get(name, {})}
                for n, var, expr in sites[self.loc]:
                    if n == name and isinstance(expr, offsets_gdb.Derived):
                        known[var] = expr.value(known, value) & MASK
                files[name] = known
        emit({"kind": "early" if kind == "early" else "site", "site": self.loc, "truth": truth(BEFORE),
              "files": files})
        return False


class Delete(gdb.Breakpoint):
    def __init__(self, loc):
        super().__init__(offsets_gdb.breakpoint_at(loc, offsets_gdb.BIAS), internal=True)
        self.loc = loc

    def stop(self):
        emit({"kind": "delete", "site": self.loc, "call": truth(["call"])["call"]})
        return False


class After(gdb.Breakpoint):
    def stop(self):
        emit({"kind": "after", "truth": truth(AFTER),
              "globals": {f: {g: value(e) for g, e in gl.items()} for f, gl in globals_.items()}})
        return False


sites, globals_ = offsets_gdb.start(paths)
if os.environ.get("DWARF") == "1":
    dwarf = {m: address_or_none("&server." + m) for m in ("maxmemory", "stat_numcommands", "stat_evictedkeys",
                                                         "maxmemory_policy")}
    # LTO names the unit otherwise; the model has one used_memory.
    dwarf["used_memory"] = address_or_none("&'zmalloc.c'::used_memory", "&used_memory")
    addrs = offsets_gdb.global_addresses(paths, offsets_gdb.BIAS)
    emit({"kind": "layout", "dwarf": dwarf,
          "files": {f: {g: value("(unsigned long)" + e) for g, e in gl.items()} for f, gl in addrs.items()}})
deletes = {line.split()[1] for p in paths for line in open(p) if line.startswith("delete ")}
for loc in sites:
    Site(loc)
for loc in deletes - set(sites):
    Delete(loc)
After("model_after_command", internal=True)
gdb.execute("continue")
