# sums_gdb.py: the used-memory sum redprof reads at each round's end
# (`offsets show`'s "used memory" line, in SUM_LINE) against the server's
# own zmalloc_used_memory(): gdb stops the server where a call of it
# returns (serverCron makes one every 100 ms; every thread stops there)
# and evaluates the formula over its memory then. SUM_LINK is the
# function's link-time address, for the load bias. Prints "formula F
# returned R count N", or "not called" when no call came within 10 s
# (link-time optimisation inlined every call).
import os
import re
import signal
import threading

import gdb


def word(inf, addr, size):
    return int.from_bytes(bytes(inf.read_memory(addr, size)), "little")


def evaluate(inf, line, bias):
    m = re.search(r"  the word at 0x([0-9a-f]+)", line)
    if m:
        return word(inf, int(m.group(1), 16) + bias, 8), None
    m = re.search(r"(\d)-byte (signed|unsigned) count at 0x([0-9a-f]+) of counters at 0x([0-9a-f]+) every (\d+) "
                  r"bytes, (clamped at|read up to) (\d+)(?:, plus the word at 0x([0-9a-f]+) past it)?", line)
    if not m:
        raise gdb.GdbError("cannot read the formula in: " + line)
    size, sign, count, base, stride, how, cap, extra = m.groups()
    size, stride, cap = int(size), int(stride), int(cap)
    n = word(inf, int(count, 16) + bias, size)
    if sign == "signed" and n >> (size * 8 - 1):
        return 0, n - (1 << (size * 8))
    total = 0
    if n > cap:
        if how != "clamped at":
            raise gdb.GdbError("count %d above what redprof reads" % n)
        if extra:
            total += word(inf, int(extra, 16) + bias, 8)
    for i in range(min(n, cap)):
        total += word(inf, int(base, 16) + bias + i * stride, 8)
    return total % (1 << 64), n


def returned(inf, entry):
    """What the server's next call at ENTRY returns; None when none comes within 10 s."""
    bp = gdb.Breakpoint("*%d" % entry, internal=True)
    timer = threading.Timer(10, os.kill, (inf.pid, signal.SIGINT))
    timer.start()
    gdb.execute("continue", to_string=True)
    timer.cancel()
    bp.delete()
    if int(gdb.parse_and_eval("(unsigned long)$pc")) != entry:
        return None
    gdb.execute("finish", to_string=True)
    return int(gdb.parse_and_eval("(unsigned long)$rax"))


def main():
    inf = gdb.selected_inferior()
    # Only the thread gdb stopped in runs to the getter's return: the others' counters stay as the sum read them.
    gdb.execute("set scheduler-locking on")
    entry = int(gdb.parse_and_eval("(unsigned long)&zmalloc_used_memory"))
    r = returned(inf, entry)
    if r is None:
        print("not called")
        return
    f, n = evaluate(inf, os.environ["SUM_LINE"], entry - int(os.environ["SUM_LINK"], 16))
    print("formula %d returned %d count %s" % (f, r, "-" if n is None else n))


main()
