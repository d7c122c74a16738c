# offsets_gdb.py: an offset file's sites and expressions as gdb sees them,
# for the gdb oracle tests (imported by the scripts they run under gdb).
import os
import re

import gdb

BIAS = 0  # runtime address - link-time address, once start() has run
KINDS = {}  # site location -> "slowpath", "early" or "", once load() has run
VARS = ("mem_reported", "overhead", "mem_used", "mem_tofree")

TERM = r"([+-]?)(\[[a-z0-9]+[+-]0x[0-9a-f]+\]|\[[A-Za-z_]\w*\+[0-9]+\]|\[0x[0-9a-f]+\]|[a-z0-9_]+)"


def address(t, bias):
    """The address a memory term ([rsp+0x20], [server+3600], [0x25c798])
    reads, as a gdb expression; an absolute [0x...] takes the load BIAS."""
    m = re.fullmatch(r"\[([a-z0-9]+)([+-])0x([0-9a-f]+)\]", t)
    if m:
        return "($%s %s 0x%s)" % m.groups()
    if t.startswith("[0x"):
        return "(%s + %d)" % (t[1:-1], bias)
    obj, off = t[1:-1].split("+")
    return "((char *)&%s + %s)" % (obj, off)


def term(t, bias):
    """One term of an offset-file expression as a gdb expression over
    registers and memory."""
    if not t.startswith("["):
        return "$" + t
    return "*(unsigned long *)" + address(t, bias)


class Derived:
    """A value worked out from others of the same call (format 2's
    mem_reported-mem_used): its terms, (sign, variable or gdb expression)."""

    def __init__(self, parts, bias):
        self.terms = [(-1 if s == "-" else 1, t if t in VARS else term(t, bias)) for s, t in parts]

    def value(self, known, evaluate):
        """Its value from KNOWN {variable: value} and EVALUATE(gdb expression)."""
        return sum(s * (known[t] if t in VARS else evaluate("(long)" + t)) for s, t in self.terms)


def translate(e, bias):
    """A gdb expression for E; a Derived for one over other variables."""
    parts = re.findall(TERM, e)
    if "".join(s + t for s, t in parts) != e:
        raise gdb.GdbError("cannot translate " + e)
    if any(t in VARS for _, t in parts):
        return Derived(parts, bias)
    return " ".join("%s (long)%s" % (s or "+", term(t, bias)) for s, t in parts)


def load(paths, bias):
    """The files' sites, {location: [(file, variable, gdb expression)]}, and
    globals, {file: {name: gdb expression}}; a file is named by its base name
    without ".offsets"."""
    sites, globals_ = {}, {}
    for path in paths:
        name, where = os.path.basename(path).removesuffix(".offsets"), {}
        for line in open(path):
            w = line.split()
            if w and w[0] == "site":
                where[w[1]] = w[2]
                sites.setdefault(w[2], [])
                KINDS[w[2]] = w[-1] if w[-1] in ("slowpath", "early") else ""
            elif w and w[0] == "value":
                sites[where[w[2]]].append((name, w[1], translate(w[3], bias)))
            elif w and w[0] == "global":
                # maxmemory_policy is an int: the word's low half, as redprof reads it.
                e = translate("[%s]" % w[2], bias)
                globals_.setdefault(name, {})[w[1]] = "(%s & 0xffffffff)" % e if w[1] == "maxmemory_policy" else e
    return sites, globals_


def global_addresses(paths, bias):
    """The files' globals as addresses, {file: {name: gdb expression}}."""
    out = {}
    for path in paths:
        name = os.path.basename(path).removesuffix(".offsets")
        for line in open(path):
            w = line.split()
            if w and w[0] == "global":
                out.setdefault(name, {})[w[1]] = address("[%s]" % w[2], bias)
    return out


def breakpoint_at(loc, bias):
    """A file's code location as a gdb breakpoint location: NAME+N (a name
    with dots, as performEvictions.cold, quoted) or, in an unnamed part,
    a link-time 0x address moved by the load BIAS."""
    if loc.startswith("0x"):
        return "*%d" % (int(loc, 16) + bias)
    name, _, off = loc.partition("+")
    return "*'%s'+%s" % (name, off or "0")


def start(paths):
    """Runs the program to main, where PIE addresses are final, and loads the
    files there: the load bias (BIAS) is the first file's function address
    against gdb's address of that function."""
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("handle SIGPIPE nostop noprint pass")
    gdb.execute("break main")
    gdb.execute("run")
    gdb.execute("delete")
    func = next(line.split() for line in open(paths[0]) if line.startswith("function "))
    global BIAS
    BIAS = int(gdb.parse_and_eval("(unsigned long)&" + func[1])) - int(func[2], 16)
    return load(paths, BIAS)
