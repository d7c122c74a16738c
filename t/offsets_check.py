# offsets_check.py: an offset file checked against gdb's own reading of the
# binary, independently of redprof's analyser, by relations that hold on
# every build rather than by addresses of one:
#
#   - the header: the function's address and size are gdb's;
#   - every site and delete call is an instruction boundary of the function
#     or of a part the file names, at the file offset the program headers
#     give, with gdb's instruction text, of the class the file says;
#   - every register term is defined by the instructions the file names
#     (A|B: either), each of which writes that register, and by nothing
#     else on any path to the site (a reaching-definition search over gdb's
#     listing);
#   - an early site lies on every path to the slow-path site and in no
#     loop; the exits of the eviction path (a jump's way on: taken or not)
#     are crossed exactly once on every way out of the code the slow-path
#     site dominates, with no loop after them (calls that never return,
#     such as _serverAssert or __stack_chk_fail, end a path);
#   - the values mean what their names say: evaluated symbolically from
#     gdb's instructions, overhead is what freeMemoryGetNotCountedMemory()
#     returned, mem_used = mem_reported - overhead, and mem_tofree =
#     mem_used - maxmemory where maxmemory is a load of the server field
#     the file's `global maxmemory` names;
#   - the counters are the fields the code increments: stat_evictedkeys in
#     the eviction function or in the function a delete call of the file
#     calls (through one thunk), stat_numcommands in call(), used_memory
#     the word zmalloc_used_memory() returns; maxmemory_policy is the field
#     the eviction function compares with MAXMEMORY_NO_EVICTION.
#
# Run by gdb: gdb -batch -nx -x t/offsets_check.py BINARY, with the file in
# OFFSETS_FILE. With OFFSETS_CHECKS=exits, only the header, the early sites
# and the exits are checked (the probe plan's structure, on any build). Prints one "ok DESCRIPTION" or "not ok DESCRIPTION" a check,
# with "# " diagnostics, for the test script to number.
import os
import re
import subprocess

import gdb

CALLER_SAVED = {"rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"}
EMULATED = re.compile(r"^(j[a-z]+|call|nop[a-z]*|push)$")
NO_REG_WRITE = re.compile(r"^(j[a-z]+|cmp[a-z]*|test[a-z]*|bt[a-z]?|nop[a-z]*|endbr64|ret[a-z]*|ud2|hlt|"
                          r"ucomis[sd]|comis[sd]|prefetch[a-z0-9]*|[ls]?fence|pause)$")
FAMILY = {}
for i, r in enumerate(["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]):
    full = "r" + r
    for alias in (full, "e" + r, r):
        FAMILY[alias] = full
FAMILY.update({"al": "rax", "ah": "rax", "cl": "rcx", "ch": "rcx", "dl": "rdx", "dh": "rdx", "bl": "rbx",
               "bh": "rbx", "spl": "rsp", "bpl": "rbp", "sil": "rsi", "dil": "rdi"})
for n in range(8, 16):
    for suffix in ("", "d", "w", "b"):
        FAMILY["r%d%s" % (n, suffix)] = "r%d" % n

results = []


def check(cond, desc, *diags):
    results.append(("ok " if cond else "not ok ") + desc)
    if not cond:
        results.extend("# " + d for d in diags)
    return cond


def note(msg):
    results.append("# " + msg)


class Insn:
    def __init__(self, addr, size, mnem, ops, comment):
        self.addr, self.size, self.mnem, self.ops, self.comment = addr, size, mnem, ops, comment
        self.target = None
        self.callee = None
        m = re.fullmatch(r"(0x[0-9a-f]+)(?: <([^+>]*)(?:\+\d+)?>)?", ops)
        if (self.mnem.startswith("j") or self.mnem == "call") and m:
            self.target = int(m.group(1), 16)
            self.callee = m.group(2)

    @property
    def text(self):
        return (self.mnem + " " + self.ops).strip()

    def operands(self):
        out, depth, cur = [], 0, ""
        for ch in self.ops:
            if ch == "," and depth == 0:
                out.append(cur.strip())
                cur = ""
                continue
            depth += ch == "("
            depth -= ch == ")"
            cur += ch
        if cur.strip():
            out.append(cur.strip())
        return out

    def unconditional(self):
        return self.mnem in ("jmp", "ret", "ud2", "hlt") or self.mnem.startswith("ret")

    def writes(self):
        """Register families this instruction writes."""
        m, ops = self.mnem, self.operands()
        if NO_REG_WRITE.match(m):
            return set()
        if m == "call":
            return set(CALLER_SAVED)
        if m in ("cqto", "cqo", "cltq", "cdqe", "cltd", "cwtl", "rdtsc", "rdtscp") or \
                (m in ("mul", "mulq", "div", "divq", "idiv", "idivq", "imul", "imulq") and len(ops) == 1):
            return {"rax", "rdx"} | (set() if not ops else set())
        if m.startswith("rep") or m.split()[0] in ("movsb", "movsq", "stos", "stosq", "stosb", "lods", "scas"):
            return {"rcx", "rdi", "rsi", "rax"}
        if m in ("cpuid",):
            return {"rax", "rbx", "rcx", "rdx"}
        if m == "syscall":
            return {"rax", "rcx", "r11"}
        if m == "leave":
            return {"rsp", "rbp"}
        out = set()
        if m in ("push", "pushq", "pop", "popq"):
            out.add("rsp")
        if m in ("xchg", "xadd") or m.startswith("cmpxchg"):
            out |= {reg_family(o) for o in ops if reg_family(o)}
            if m.startswith("cmpxchg"):
                out.add("rax")
            return out
        if ops and reg_family(ops[-1]) and not (m in ("push", "pushq")):
            out.add(reg_family(ops[-1]))
        return out


def reg_family(op):
    m = re.fullmatch(r"%([a-z0-9]+)", op.strip())
    return FAMILY.get(m.group(1)) if m else None


def parse_x(text):
    """gdb's x/Ni lines as (addr, mnemonic, operands, comment)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^\s*(?:=> )?(0x[0-9a-f]+)(?: <[^>]*>)?:\t(.*)$", line)
        if not m:
            continue
        body = m.group(2)
        comment = ""
        if "#" in body:
            body, comment = body.split("#", 1)
        w = body.split(None, 1)
        mnem = w[0] if w else ""
        ops = w[1].strip() if len(w) > 1 else ""
        while mnem in ("notrack", "bnd", "lock", "rex.W", "data16", "cs", "ds") and ops:
            w2 = ops.split(None, 1)
            mnem, ops = w2[0], (w2[1].strip() if len(w2) > 1 else "")
        out.append((int(m.group(1), 16), mnem, ops, comment.strip()))
    return out


class Code:
    """The instructions reached from ENTRY (and from further entries added
    with explore) by following gdb's listing along every jump."""

    def __init__(self, entry, bounds, limit=20000):
        self.entry = entry
        self.bounds = bounds  # [start, end) of the function and its named parts
        self.insns = {}
        self.incomplete = []
        self.explore(entry, limit)

    def block(self, addr, n=48):
        try:
            return parse_x(gdb.execute("x/%di 0x%x" % (n, addr), to_string=True))
        except gdb.MemoryError:
            self.incomplete.append(addr)
            return []

    def explore(self, entry, limit=20000):
        todo = [entry]
        while todo and len(self.insns) < limit:
            a = todo.pop()
            if a in self.insns:
                continue
            lines = self.block(a)
            for k in range(len(lines) - 1):
                addr, mnem, ops, comment = lines[k]
                if addr in self.insns:
                    break
                ins = Insn(addr, lines[k + 1][0] - addr, mnem, ops, comment)
                self.insns[addr] = ins
                if ins.target is not None and mnem.startswith("j"):
                    todo.append(ins.target)
                if mnem == "jmp" and ins.target is None:
                    targets = self.jump_table(ins)
                    if targets is None:
                        self.incomplete.append(addr)
                    else:
                        ins.table = targets
                        todo.extend(targets)
                if ins.unconditional():
                    break
            else:
                if lines:
                    todo.append(lines[-1][0])

    def jump_table(self, jmp):
        """gcc's `cmp $N,%r; ja; lea T(%rip),%b; movslq (%b,%r,4),%x; add %b,%x; jmp *%x`."""
        before = sorted(a for a in self.insns if jmp.addr - 40 <= a < jmp.addr)
        lea = bound = None
        for a in reversed(before):
            i = self.insns[a]
            if i.mnem == "lea" and "(%rip)" in i.ops and lea is None:
                m = re.search(r"(0x[0-9a-f]+)", i.comment)
                lea = int(m.group(1), 16) if m else None
            if i.mnem.startswith("cmp") and bound is None:
                m = re.match(r"\$(0x[0-9a-f]+|\d+),", i.ops)
                if m:
                    bound = int(m.group(1), 0)
        if lea is None or bound is None:
            return None
        words = gdb.execute("x/%dwx 0x%x" % (bound + 1, lea), to_string=True)
        vals = [int(v, 16) for line in words.splitlines() for v in re.findall(r"\t(0x[0-9a-f]+)", line)]
        return [(lea + (v - (1 << 32) if v >= 1 << 31 else v)) & 0xffffffffffffffff for v in vals[:bound + 1]]

    def inside(self, a):
        return any(lo <= a < hi for lo, hi in self.bounds)

    def call_returns(self, ins):
        """A call the compiler knows does not return ends the function's code (nothing follows
        it, or padding does) or calls one that never returns."""
        nxt = ins.addr + ins.size
        if never_returns(ins.target, ins.callee):
            return False
        if self.inside(ins.addr) and not self.inside(nxt):
            return False
        nxt_ins = self.insns.get(nxt)
        return not (nxt_ins and (nxt_ins.mnem.startswith("nop") or nxt_ins.mnem in ("int3", "ud2")))

    def succs(self, ins):
        out = []
        if not ins.unconditional() and not (ins.mnem == "call" and not self.call_returns(ins)):
            out.append(ins.addr + ins.size)
        if ins.target is not None and ins.mnem.startswith("j"):
            out.append(ins.target)
        out.extend(getattr(ins, "table", []))
        return [a for a in out if a in self.insns]

    def preds(self):
        if not hasattr(self, "_preds"):
            self._preds = {}
            for ins in self.insns.values():
                for s in self.succs(ins):
                    self._preds.setdefault(s, []).append(ins.addr)
        return self._preds


NORETURN_LIBC = {"__stack_chk_fail", "__fortify_fail", "__chk_fail", "__assert_fail", "__assert_perror_fail",
                 "abort", "exit", "_exit", "_Exit", "quick_exit", "pthread_exit", "longjmp", "_longjmp",
                 "siglongjmp", "__longjmp_chk", "__libc_fatal", "err", "errx", "verr", "verrx"}
_never = {}


def never_returns(target, name):
    """A call that does not come back: a C library function that never
    returns (through its PLT stub), or a function whose whole listing has
    no ret, no indirect jump and no jump out of itself (_serverAssert)."""
    if target is None:
        return False
    if target not in _never:
        if name and name.endswith("@plt"):
            _never[target] = name[:-4] in NORETURN_LIBC
        else:
            try:
                lines = [l for l in gdb.execute("disassemble 0x%x" % target, to_string=True).splitlines()
                         if l.startswith("   0x") or l.startswith("=> 0x")]
            except gdb.error:
                lines = []
            insns = parse_x("\n".join(lines))
            if not insns or insns[0][0] != target:
                _never[target] = False
            else:
                lo, hi = insns[0][0], insns[-1][0] + 1
                ok = True
                for _, mnem, ops, _ in insns:
                    t = re.match(r"(0x[0-9a-f]+)", ops)
                    if mnem.startswith("ret") or (mnem.startswith("j") and ops.startswith("*")) or \
                            (mnem.startswith("j") and t and not lo <= int(t.group(1), 16) < hi):
                        ok = False
                _never[target] = ok
    return _never[target]


def reaching_defs(code, site, reg):
    """Instructions writing REG that reach SITE (SITE excluded); 'entry' when
    a path from the code's entry reaches it without one."""
    preds, entry = code.preds(), code.entry
    seen, defs, todo = set(), set(), list(preds.get(site, []))
    if site == entry:
        defs.add("entry")
    while todo:
        a = todo.pop()
        if a in seen:
            continue
        seen.add(a)
        if reg in code.insns[a].writes():
            defs.add(a)
            continue
        if a == entry:
            defs.add("entry")
        todo.extend(preds.get(a, []))
    return defs


# ---------------------------------------------------------------- the file
def producers(field):
    """A value line's producers: per term, the list of alternatives."""
    return [p.split("|") for p in field.split(",")]


def read_file(path):
    f = {"sites": {}, "values": {}, "deletes": [], "globals": {}, "parts": [], "exits": []}
    for line in open(path):
        line = line.split("#", 1)[0] if not line.lstrip().startswith(("site", "delete", "exit")) else line
        w = line.split()
        if not w:
            continue
        if w[0] == "function":
            f["function"] = (w[1], int(w[2], 16), int(w[3]))
        elif w[0] == "inlined":
            f["inlined"] = w[1] == "yes"
        elif w[0] == "part":
            f["parts"].append((w[1], int(w[2], 16), int(w[3])))
        elif w[0] == "site":
            q = line.split('"')
            f["sites"][w[1]] = {"loc": w[2], "off": int(w[3], 16), "cls": w[4], "insn": q[1],
                                "kind": q[2].split()[0] if q[2].split() else ""}
        elif w[0] == "value":
            f["values"][w[1]] = {"site": w[2], "expr": w[3], "from": producers(w[5])}
        elif w[0] == "exit":
            q = line.split('"')
            rest = q[2].split()
            f["exits"].append({"name": w[1], "loc": w[2], "off": int(w[3], 16), "cls": w[4], "insn": q[1],
                               "taken": rest[1] != "-", "next": rest[3] != "-"})
        elif w[0] == "delete":
            q = line.split('"')
            f["deletes"].append({"loc": w[1], "off": int(w[2], 16), "cls": w[3], "insn": q[1]})
        elif w[0] == "global":
            f["globals"][w[1]] = w[2]
    return f


def sym_addr(name):
    try:
        return int(gdb.parse_and_eval("(long)&%s" % name)) & 0xffffffffffffffff
    except gdb.error:
        return None


def loc_addr(f, loc):
    if loc.startswith("0x"):
        return int(loc, 16)
    name, off = loc.rsplit("+", 1)
    return f["function"][1] + int(off) if name == f["function"][0] else sym_addr(name) + int(off)


def file_offset(binary, addr):
    out = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True).stdout
    for line in out.splitlines():
        w = line.split()
        if w and w[0] == "LOAD":
            off, va, fsz = int(w[1], 16), int(w[2], 16), int(w[4], 16)
            if va <= addr < va + fsz:
                return addr - va + off
    return None


def same_text(file_text, ins):
    """The file's capstone spelling against gdb's: callq/call, and gdb's <sym> dropped."""
    a = re.sub(r"^(call|jmp|push|pop|ret)q\b", r"\1", file_text)
    b = re.sub(r" <[^>]*>", "", ins.text)
    return re.sub(r"\s+", " ", a) == re.sub(r"\s+", " ", b)


def check_code_loc(f, binary, code, kind, rec):
    addr = loc_addr(f, rec["loc"])
    ins = code.insns.get(addr)
    name = kind + " " + rec["loc"]
    if not check(ins is not None, "%s is an instruction boundary in gdb's listing of %s and its parts"
                 % (name, f["function"][0])):
        return None
    check(file_offset(binary, addr) == rec["off"], "%s: file offset 0x%x is where readelf's LOAD segment puts 0x%x"
          % (name, rec["off"], addr), "readelf: 0x%x" % (file_offset(binary, addr) or 0))
    check(same_text(rec["insn"], ins), "%s: the file's \"%s\" is gdb's \"%s\"" % (name, rec["insn"], ins.text))
    emulated = bool(EMULATED.match(ins.mnem)) and (ins.mnem != "call" or ins.target is not None) and \
        (ins.mnem != "push" or reg_family(ins.ops) is not None)
    check((rec["cls"] == "emulated") == emulated, "%s: \"%s\" is %s, as the file says" %
          (name, ins.text, rec["cls"]))
    return addr


# ---------------------------------------------------------------- symbolic values
def server_field(code, ins, operand, server):
    """server+N when OPERAND of INS addresses a field of server: server+N(%rip),
    or N(%r) where r's only reaching definition is a lea of server."""
    m = re.search(r"<server\+(\d+)>|<server>", ins.comment)
    if "(%rip)" in operand and m:
        return int(m.group(1) or 0)
    m = re.fullmatch(r"(-?0x[0-9a-f]+|\d*)\(%([a-z0-9]+)\)", operand)
    if not m or not server:
        return None
    base = FAMILY.get(m.group(2))
    defs = reaching_defs(code, ins.addr, base)
    if len(defs) == 1 and "entry" not in defs:
        lea = code.insns[next(iter(defs))]
        if lea.mnem == "lea" and re.search(r"<server>", lea.comment):
            return int(m.group(1) or "0", 0)
    return None


def form(terms):
    return {k: v for k, v in terms.items() if v}


def add(a, b, sign=1):
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + sign * v
    return form(out)


def origin(code, reg, at, server, depth=0):
    """The value of REG just before AT as alternatives of linear forms over
    opaque atoms (a call's result, a server field, an unknown)."""
    if depth > 24:
        return [{"%s@?" % reg: 1}]
    defs = reaching_defs(code, at, reg)
    if len(defs) != 1 or "entry" in defs:
        return [{"%s@0x%x" % (reg, at): 1}]
    p = code.insns[next(iter(defs))]
    ops = p.operands()
    atom = [{"%s@0x%x" % (reg, p.addr): 1}]
    if p.mnem == "call":
        if reg != "rax":
            return atom
        m = re.search(r"<([A-Za-z_][\w.]*)>", p.ops)
        return [{"%s()" % (m.group(1).split(".")[0] if m else "0x%x" % (p.target or 0)): 1}]
    if len(ops) == 2 and reg_family(ops[1]) == reg:
        src = ops[0]
        if p.mnem in ("mov", "movq") or (p.mnem in ("movl",) and reg_family(src)):
            if reg_family(src):
                return origin(code, reg_family(src), p.addr, server, depth + 1)
            n = server_field(code, p, src, server)
            if n is not None:
                return [{"server+%d" % n: 1}]
            m = re.search(r"(0x[0-9a-f]+)", p.comment)
            if "(%rip)" in src and m:
                return [{"[0x%x]" % int(m.group(1), 16): 1}]
            return atom
        if p.mnem in ("xor", "sub") and reg_family(src) == reg:
            return [{}]
        if p.mnem in ("sub", "add") and reg_family(src):
            before = origin(code, reg, p.addr, server, depth + 1)
            other = origin(code, reg_family(src), p.addr, server, depth + 1)
            return [add(x, y, -1 if p.mnem == "sub" else 1) for x in before for y in other][:16]
        if p.mnem.startswith("cmov") and reg_family(src):
            return (origin(code, reg, p.addr, server, depth + 1) +
                    origin(code, reg_family(src), p.addr, server, depth + 1))[:16]
    return atom


VARIABLES = ("mem_reported", "overhead", "mem_used", "mem_tofree")


def expr_forms(code, f, var, site_addr, server, depth=0):
    """The file's expression for VAR as alternatives of linear forms; a
    variable term is that variable's own forms, at the site it is read."""
    v = f["values"][var]
    forms = [{}]
    for sign, term in re.findall(r"([+-]?)([a-z0-9_]+|\[[^\]]+\])", v["expr"]):
        s = -1 if sign == "-" else 1
        if term in VARIABLES:
            if depth or term not in f["values"]:
                return [{"%s@?" % term: 1}]
            u = f["values"][term]
            alts = expr_forms(code, f, term, loc_addr(f, f["sites"][u["site"]]["loc"]), server, depth + 1)
        elif term.startswith("["):
            inner = term[1:-1]
            m = re.fullmatch(r"server\+(\d+)", inner)
            alts = [{"server+%s" % m.group(1): 1}] if m else [{"%s@site" % inner: 1}]
        else:
            alts = origin(code, term, site_addr, server)
        forms = [add(x, y, s) for x in forms for y in alts][:64]
    return forms


def check_values(f, code, server):
    if len(f["values"]) < 4 or not f.get("inlined", True):
        note("values: the symbolic relations are checked for files with all four values of an inlined "
             "getMaxmemoryState (this one: %s, inlined %s)" % (sorted(f["values"]), f.get("inlined")))
        return
    sites = {f["values"][v]["site"] for v in f["values"]}
    forms = {v: expr_forms(code, f, v, loc_addr(f, f["sites"][f["values"][v]["site"]]["loc"]), server)
             for v in f["values"]}
    oh_ok = any(x == {"freeMemoryGetNotCountedMemory()": 1} for x in forms["overhead"])
    check(oh_ok, "overhead is what freeMemoryGetNotCountedMemory() returned (gdb's call target)",
          "symbolic: %s" % forms["overhead"])
    mm = f["globals"].get("maxmemory", "")
    want_mm = {mm: 1} if mm.startswith("server+") else None
    rel_used = any(add(mu, add(mr, oh, -1), -1) == {} for mu in forms["mem_used"]
                   for mr in forms["mem_reported"] for oh in forms["overhead"])
    check(rel_used, "mem_used = mem_reported - overhead, by gdb's instructions",
          "symbolic: mem_used %s, mem_reported %s, overhead %s" %
          (forms["mem_used"], forms["mem_reported"], forms["overhead"]))
    rel_tofree = want_mm is not None and any(add(tf, mu, -1) == {k: -1 for k in want_mm}
                                              for tf in forms["mem_tofree"] for mu in forms["mem_used"])
    check(rel_tofree, "mem_tofree = mem_used - maxmemory, maxmemory loaded from %s (the file's global)" % mm,
          "symbolic: mem_tofree %s, mem_used %s" % (forms["mem_tofree"], forms["mem_used"]))
    if len(sites) > 1:
        note("values are read at %d sites" % len(sites))


# ---------------------------------------------------------------- counters
def increments(code, server):
    """server fields incremented by one in CODE: addq $0x1 / incq of server+N."""
    out = {}
    for ins in code.insns.values():
        ops = ins.operands()
        if (ins.mnem in ("addq", "add") and len(ops) == 2 and ops[0] == "$0x1") or \
                (ins.mnem in ("incq",) and len(ops) == 1):
            n = server_field(code, ins, ops[-1], server)
            if n is not None:
                out.setdefault(n, []).append(ins.addr)
    return out


def check_counters(f, code, server):
    g = f["globals"]
    if "stat_evictedkeys" in g:
        want = int(g["stat_evictedkeys"].split("+")[1]) if g["stat_evictedkeys"].startswith("server+") else None
        where = [f["function"][0]] if want in increments(code, server) else []
        # A delete call's callee, with whatever it jumps to (a thunk's target).
        for d in f["deletes"]:
            ins = code.insns.get(loc_addr(f, d["loc"]))
            if ins and ins.target and want in increments(Code(ins.target, [], 6000), server):
                where.append("the code the delete call at %s runs (0x%x)" % (d["loc"], ins.target))
        check(bool(where), "stat_evictedkeys (%s) is a field incremented by one in %s or by a delete call's callee"
              % (g["stat_evictedkeys"], f["function"][0]))
        if where:
            note("stat_evictedkeys: incremented in " + "; ".join(sorted(set(where))))
    if "stat_numcommands" in g:
        want = int(g["stat_numcommands"].split("+")[1])
        call = sym_addr("call")
        incs = increments(Code(call, [], 6000), server) if call else {}
        check(want in incs, "stat_numcommands (%s) is a field call() increments by one" % g["stat_numcommands"],
              "call() increments server+%s" % sorted(incs))
    if "used_memory" in g:
        want = int(g["used_memory"], 0)
        zm = sym_addr("zmalloc_used_memory")
        refs = [i for i in Code(zm, [], 6000).insns.values() if "(%rip)" in i.ops and
                re.search(r"0x%x\b" % want, i.comment)] if zm else []
        check(bool(refs), "used_memory (0x%x) is the word zmalloc_used_memory() reads" % want)
    if "maxmemory_policy" in g:
        want = int(g["maxmemory_policy"].split("+")[1])
        cmps = {server_field(code, i, i.operands()[1], server) for i in code.insns.values()
                if i.mnem in ("cmpl", "cmp") and len(i.operands()) == 2 and i.operands()[0] == "$0x700"}
        check(cmps == {want}, "maxmemory_policy (%s) is the field %s compares with MAXMEMORY_NO_EVICTION (0x700)"
              % (g["maxmemory_policy"], f["function"][0]), "gdb's listing compares server+%s" % sorted(cmps, key=str))


# ---------------------------------------------------------------- early sites, exits
def reachable(code, start, avoid=None):
    seen, todo = set(), [start]
    while todo:
        a = todo.pop()
        if a in seen or a == avoid or a not in code.insns:
            continue
        seen.add(a)
        todo.extend(code.succs(code.insns[a]))
    return seen


def check_structure(f, code):
    slow = [loc_addr(f, s["loc"]) for s in f["sites"].values() if s["kind"] == "slowpath"]
    if not slow:
        return
    slow = slow[0]
    for name, s in f["sites"].items():
        if s["kind"] != "early":
            continue
        a = loc_addr(f, s["loc"])
        check(a not in reachable(code, code.entry, avoid=a) or slow not in reachable(code, code.entry, avoid=a),
              "early site %s: every path to the slow-path site passes it" % name)
        check(a not in set().union(*[reachable(code, x) for x in code.succs(code.insns[a])]),
              "early site %s: it is in no loop" % name)
    if not f["exits"]:
        note("no exits in this file: redprof profiles this build with the full plan")
        return
    # The region only evicting calls run: reached from the slow-path site, not from the entry without it.
    region = reachable(code, slow) - reachable(code, code.entry, avoid=slow)
    exits = {}
    for x in f["exits"]:
        a = loc_addr(f, x["loc"])
        ins = code.insns.get(a)
        check(a in region and ins is not None and (ins.mnem.startswith("j") and ins.target is not None),
              "exit %s (%s): a direct jump only evicting calls run" % (x["name"], x["loc"]))
        exits[a] = x
    # Every path from the slow-path site out of the region crosses exactly one way on that leaves
    # (a jump's taken or not-taken way), and no loop follows one.
    looped = {a for a in region if a in set().union(*[reachable(code, n) for n in code.succs(code.insns[a])])}
    seen, todo, bad = set(), [(slow, 0)], None
    while todo and bad is None:
        a, passed = todo.pop()
        if (a, passed) in seen:
            continue
        seen.add((a, passed))
        ins = code.insns[a]
        ways = [(n, "taken" if n == ins.target and ins.mnem.startswith("j") else "next") for n in code.succs(ins)]
        if ins.mnem.startswith("ret") or (ins.target is not None and ins.mnem.startswith("j") and
                                           ins.target not in code.insns):
            ways.append((None, "taken"))
        for n, way in ways:
            now = passed + (a in exits and exits[a][way])
            if now > 1:
                bad = "a path crosses two exits (the second at 0x%x)" % a
            elif n is None or n not in region:
                if not now:
                    bad = "a path leaves at 0x%x without crossing an exit" % a
            elif now and n in looped:
                bad = "a loop follows the exit at 0x%x" % a
            else:
                todo.append((n, now))
    check(bad is None, "every way out of the slow path crosses exactly one exit, and no loop follows it", bad or "")


# ---------------------------------------------------------------- main
def main():
    path = os.environ["OFFSETS_FILE"]
    binary = gdb.objfiles()[0].filename
    f = read_file(path)
    name, faddr, fsize = f["function"]
    check(sym_addr(name) == faddr, "%s is at 0x%x, as gdb says" % (name, faddr), "gdb: %s" % sym_addr(name))
    # With debug information a function split into parts lists one "Address range" block each: take the main one.
    listing, block = [], []
    for l in gdb.execute("disassemble %s" % name, to_string=True).splitlines():
        if l.startswith("Address range"):
            block = []
        elif l.startswith("   0x") or l.startswith("=> 0x"):
            block.append(l)
            if int(l.split()[0 if l.startswith("   ") else 1], 16) == faddr:
                listing = block
    listing = listing or block
    last = parse_x(gdb.execute("x/2i %s" % listing[-1].split()[0], to_string=True))
    check(last[1][0] - faddr == fsize, "%s is %d bytes long, as gdb's listing ends" % (name, fsize),
          "gdb: %d" % (last[1][0] - faddr))
    code = Code(faddr, [(faddr, faddr + fsize)] + [(a, a + n) for _, a, n in f["parts"] if n])
    for _, paddr, _ in f["parts"]:
        code.explore(paddr)
    if code.incomplete:
        note("code gdb's listing does not resolve (indirect jumps, unreadable targets): " +
             ", ".join("0x%x" % a for a in code.incomplete))
    if os.environ.get("OFFSETS_CHECKS") == "exits":
        for x in f["exits"]:
            check_code_loc(f, binary, code, "exit " + x["name"], x)
        check_structure(f, code)
        return
    server = sym_addr("server")
    for sname, s in f["sites"].items():
        check_code_loc(f, binary, code, "site " + sname, s)
    for d in f["deletes"]:
        check_code_loc(f, binary, code, "delete call", d)
    for x in f["exits"]:
        check_code_loc(f, binary, code, "exit " + x["name"], x)
    for var, v in f["values"].items():
        site = loc_addr(f, f["sites"][v["site"]]["loc"])
        terms = re.findall(r"([+-]?)([a-z0-9_]+|\[[^\]]+\])", v["expr"])
        for (sign, term), frm in zip(terms, v["from"]):
            if term.startswith("[") or frm == ["-"] or term in VARIABLES:
                continue
            listed = set()
            for one in frm:
                p = loc_addr(f, one)
                ins = code.insns.get(p)
                check(ins is not None and term in ins.writes(),
                      "%s: %s's producer %s (%s) writes %s" % (var, term, one, ins.text if ins else "?", term))
                listed.add(p)
            defs = reaching_defs(code, site, term)
            check(defs == listed, "%s: %s at %s is set by %s on every path, and by nothing else" %
                  (var, term, v["site"], "|".join(frm)), "gdb's listing: reaching definitions %s" %
                  ", ".join(d if d == "entry" else "0x%x" % d for d in defs))
    check_structure(f, code)
    check_values(f, code, server)
    check_counters(f, code, server)


try:
    main()
except Exception as e:  # a crash of the checker is a failure, with its reason
    import traceback
    results.append("not ok offsets_check.py ran to the end")
    results.extend("# " + l for l in traceback.format_exc().splitlines())
for line in results:
    print(line)
