# export_check.py: checks of redprof's export files and report, for
# t/e2e-export.t, with real parsers: jsonschema for the snapshot JSON,
# Python's csv module, prometheus_client's OpenMetrics parser, html.parser
# for the report's DOM as Chromium dumps it, zlib for the PNG it renders.
#
# Each command prints the number of differences on its first line and a
# few words on what was compared on the second; the test asserts the first.
#
#   export_check.py schema SCHEMA SNAPSHOT [JSONL]
#   export_check.py csv CSV SNAPSHOT
#   export_check.py openmetrics OM SNAPSHOT
#   export_check.py page METRICS                     (a /metrics page; prints its histograms with samples)
#   export_check.py quantile SNAPSHOT MEASURE Q       (Prometheus's estimate, in the file's unit)
#   export_check.py dom DOM SNAPSHOT [JSONL]
#   export_check.py report-value DOM MEASURE Q
#   export_check.py png PNG
#   export_check.py sheet SVG
#   export_check.py heat SVG SNAPSHOT                (the sheet of one capture of under an hour)
import copy
import csv
import json
import math
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib
from datetime import datetime, timezone
from html.parser import HTMLParser

HISTS = ["evict_latency", "evict_latency_active", "evict_latency_noop", "mem_reported", "overhead",
         "mem_used", "mem_tofree", "keys_per_evict", "freed", "overshoot", "shortfall", "lazyfree_pending"]
COUNTED = ("keys_per_evict", "lazyfree_pending")  # no unit suffix in OpenMetrics
SCALE = {"ns": 1, "us": 1000, "ms": 1000000, "bytes": 1, "keys": 1, "objects": 1}
GAUGES = ("evict_time_share", "maxmemory", "used_memory", "clients_normal_memory", "probe_cost.cpu_share",
          "probe_cost.hits_per_command.emulated", "probe_cost.hits_per_command.single_stepped",
          "probe_cost.hits_per_command.return")


def say(diffs, what, detail=()):
    print(len(diffs) if isinstance(diffs, list) else diffs)
    print(what)
    for d in list(detail)[:8]:
        print("  " + str(d))


def epoch(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def samples(snap):
    return snap["intervals"] + [snap["total"]]


def scalars(obj):
    """The counters and gauges of a sample by their CSV names (JSON paths)."""
    out = {}
    for key in ("commands", "calls", "evicting_calls", "keys_evicted", "rounds_memory_grew", "memory_grew_bytes",
                "evict_time_share", "maxmemory", "used_memory", "clients_normal_memory"):
        if key in obj:
            out[key] = obj[key]
    for k, v in obj["returns"].items():
        out["returns." + k] = v
    for group in ("by_site", "by_class"):
        for k, v in obj["probe_hits"][group].items():
            out["probe_hits.%s.%s" % (group, k)] = v
    for k, v in obj["probe_cost"].items():
        if isinstance(v, dict):
            for c, x in v.items():
                out["probe_cost.%s.%s" % (k, c)] = x
        else:
            out["probe_cost." + k] = v
    for k, v in obj["diagnostics"].items():
        out["diagnostics." + k] = v
    return out


def same(a, b):
    a, b = float(a), float(b)
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def quantile(h, q):
    """Prometheus's histogram_quantile() over the file's buckets, le = hi - 1 in base units, in the file's unit."""
    scale = SCALE[h["unit"]]
    count = sum(b["count"] for b in h["buckets"])
    if not count:
        return float("nan")
    rank, below, le = q * count, 0, 0.0
    for b in sorted(h["buckets"], key=lambda b: b["lo"]):
        lo_le = b["lo"] * scale - 1 if b["lo"] else 0.0
        le = b["hi"] * scale - 1
        if below + b["count"] >= rank:
            return (lo_le + (le - lo_le) * (rank - below) / b["count"]) / scale
        below += b["count"]
    return le / scale


def cmd_schema(schema_path, snap_path, jsonl=None):
    import jsonschema
    schema = json.load(open(schema_path))
    jsonschema.Draft202012Validator.check_schema(schema)
    snap = json.load(open(snap_path))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(snap))
    checked = "the snapshot"
    if jsonl:
        # Episodes have their own definition; every other line is a sample.
        line = {t: jsonschema.Draft202012Validator({"$ref": "#/$defs/" + t, "$defs": schema["$defs"]})
                for t in ("sample", "episode")}
        lines = [json.loads(l) for l in open(jsonl) if l.strip()]
        for obj in lines:
            errors += list(line["episode" if obj.get("type") == "episode" else "sample"].iter_errors(obj))
        checked += " and %d JSON Lines" % len(lines)
    # The checker must be able to fail: a damaged copy has to be refused.
    bad = copy.deepcopy(snap)
    bad["total"]["histograms"].setdefault("mem_tofree", {})["buckets"] = [{"lo": "1"}]
    bad["total"]["commands"] = -1
    refused = len(list(jsonschema.Draft202012Validator(schema).iter_errors(bad)))
    if not refused:
        errors.append("a damaged copy passes the schema")
    say(errors, "%s against %s; a damaged copy has %d errors" % (checked, schema_path, refused),
        (e.message if hasattr(e, "message") else e for e in errors))


def cmd_csv(csv_path, snap_path):
    snap = json.load(open(snap_path))
    rows = list(csv.DictReader(open(csv_path, newline="")))
    want = {}
    for obj in samples(snap):
        key = (obj["type"], obj["ts"])
        for name, v in scalars(obj).items():
            want[key + ("gauge" if name in GAUGES else "counter", name, "", "")] = v
        for name, h in obj["histograms"].items():
            for b in h["buckets"]:
                want[key + ("bucket", name, str(b["lo"]), str(b["hi"]))] = b["count"]
            want[key + ("sum", name, "", "")] = h["sum"]
            if h["count"]:
                want[key + ("min", name, "", "")] = h["min"]
                want[key + ("max", name, "", "")] = h["max"]
    got = {(r["type"], r["ts"], r["record"], r["name"], r["lo"], r["hi"]): r["value"] for r in rows}
    lengths = {(obj["type"], obj["ts"]): obj["interval_s"] for obj in samples(snap)}
    diffs = ["%s %s: interval_s %s, JSON %s" % (r["type"], r["ts"], r["interval_s"], lengths.get((r["type"], r["ts"])))
             for r in rows if not same(r["interval_s"], lengths.get((r["type"], r["ts"]), -1))][:5]
    diffs += ["missing %s" % (k,) for k in want if k not in got]
    diffs += ["extra %s" % (k,) for k in got if k not in want]
    diffs += ["%s: csv %s, json %s" % (k, got[k], want[k]) for k in want if k in got and not same(got[k], want[k])]
    say(diffs, "%d CSV rows against %d values of the JSON's %d samples" % (len(rows), len(want), len(samples(snap))),
        diffs)


def parse_openmetrics(text):
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
    return list(text_string_to_metric_families(text))


def points(text):
    """The export file one timestamp at a time, each a whole OpenMetrics document.

    prometheus_client's parser (0.16, and upstream too) drops the second and
    later points of a histogram: its filter of duplicate timestamps is not
    reset when the timestamp changes. So it gets one point per document;
    promtool, Prometheus's own parser, reads the whole file in the test.
    """
    families, order, stamps = {}, [], []
    for line in text.splitlines():
        if line == "# EOF":
            break
        if line.startswith("# "):
            name = line.split(" ")[2]
            if name not in families:
                families[name] = ([], {})
                order.append(name)
            families[name][0].append(line)
            continue
        t = line.rsplit(" ", 1)[1]
        if t not in stamps:
            stamps.append(t)
        families[order[-1]][1].setdefault(t, []).append(line)
    for t in stamps:
        doc = []
        for name in order:
            meta, by_time = families[name]
            doc += meta + by_time.get(t, [])
        yield float(t), "\n".join(doc + ["# EOF", ""])


def cmd_openmetrics(om_path, snap_path):
    snap = json.load(open(snap_path))
    ivs = snap["intervals"]
    ends = [round(epoch(iv["ts"]), 3) for iv in ivs]
    diffs, compared, npoints, run = [], 0, 0, {}
    for t, doc in points(open(om_path).read()):
        npoints += 1
        try:
            fams = {f.name: f for f in parse_openmetrics(doc)}
        except ValueError as e:
            diffs.append("the parser refuses the point at %s: %s" % (t, e))
            continue
        if npoints > len(ends) or round(t, 3) != ends[npoints - 1]:
            diffs.append("point %d at %s: no interval ends then" % (npoints, t))
            continue
        upto = ivs[:npoints]
        for name in HISTS:
            unit = "seconds" if name.startswith("evict_latency") else "" if name in COUNTED else "bytes"
            fam = fams.get("redprof_%s%s" % (name, "_" + unit if unit else ""))
            present = [iv["histograms"][name] for iv in upto if name in iv["histograms"]]
            if name not in snap["total"]["histograms"]:
                if fam and fam.samples:
                    diffs.append("%s is unavailable in the JSON but has samples" % name)
                continue
            if not fam or not fam.samples:
                if present:
                    diffs.append("no samples for %s at %s" % (name, t))
                continue
            scale = 1e9 if unit == "seconds" else 1
            for s in fam.samples:
                if s.name.endswith("_bucket"):
                    le = float("inf") if s.labels["le"] == "+Inf" else round(float(s.labels["le"]) * scale)
                    want = sum(b["count"] for h in present for b in h["buckets"] if b["hi"] - 1 <= le)
                elif s.name.endswith("_count"):
                    want = sum(h["count"] for h in present)
                else:
                    want = sum(h["sum"] for h in present) / scale
                    if abs(s.value - want) > 1e-9 * max(want, 1):
                        diffs.append("%s at %s: %s, JSON says %s" % (s.name, t, s.value, want))
                    continue
                compared += 1
                if s.value != want:
                    diffs.append("%s le=%s at %s: %s, JSON says %s" % (s.name, s.labels.get("le"), t, s.value, want))
        for name in ("commands", "calls", "evicting_calls", "keys_evicted"):
            fam = fams.get("redprof_" + name)
            want = sum(iv.get(name, 0) for iv in upto)
            compared += 1
            if not fam or len(fam.samples) != 1 or fam.samples[0].value != want:
                diffs.append("redprof_%s_total at %s: %s, JSON says %s" % (name, t, fam and fam.samples, want))
        run = fams
    if npoints != len(ivs):
        diffs.append("%d points for %d intervals" % (npoints, len(ivs)))
    for name in ("evict_latency", "evict_latency_active"):
        last = run.get("redprof_%s_seconds" % name)
        if name in snap["total"]["histograms"] and \
                (not last or [s.value for s in last.samples if s.name.endswith("_count")] !=
                 [snap["total"]["histograms"][name]["count"]]):
            diffs.append("the last point's %s count is not the JSON total's" % name)
    say(diffs, "%d OpenMetrics samples at %d points against the JSON's %d intervals" % (compared, npoints, len(ivs)),
        diffs)


def cmd_page(om_path):
    """A /metrics page: one point, parsed whole; prints its histogram families with samples."""
    fams = parse_openmetrics(open(om_path).read())
    hists = [f for f in fams if f.type == "histogram" and f.samples]
    print(len(hists))
    print("%d families, %d histograms with samples" % (len(fams), len(hists)))


def cmd_quantile(snap_path, measure, q):
    print("%.9g" % quantile(json.load(open(snap_path))["total"]["histograms"][measure], float(q)))


class DomReader(HTMLParser):
    """Figures, percentile cells and count rows of the report, as the browser built them."""

    def __init__(self):
        super().__init__()
        self.figures, self.pct, self.counts, self.stack, self.scripts = {}, {}, {}, [], 0
        self.measure, self.row = None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "figure" and "data-measure" in a:
            self.figures.setdefault(a["data-measure"], 0)
            self.stack.append(a["data-measure"])
        elif tag == "figure":
            self.stack.append(None)
        if tag == "svg" and self.stack and self.stack[-1]:
            self.figures[self.stack[-1]] += 1
        if tag == "table" and "data-measure" in a:
            self.measure = a["data-measure"]
        if tag == "td" and "data-q" in a and self.measure:
            self.pct[(self.measure, a["data-q"], a.get("data-side", ""))] = a["data-value"]
        if tag == "tr" and "data-name" in a:
            self.row = a["data-name"]
            self.counts[self.row] = []
        if tag == "td" and self.row and "data-value" in a:
            self.counts[self.row].append(a["data-value"])

    def handle_endtag(self, tag):
        if tag == "figure" and self.stack:
            self.stack.pop()
        if tag == "table":
            self.measure = None
        if tag == "tr":
            self.row = None


def read_dom(path):
    d = DomReader()
    d.feed(open(path).read())
    return d


def cmd_dom(dom_path, snap_path, jsonl=None):
    snap = json.load(open(snap_path))
    d = read_dom(dom_path)
    total = snap["total"]
    diffs, compared = [], 0
    if d.scripts:
        diffs.append("%d script elements" % d.scripts)
    for name, h in total["histograms"].items():
        # An empty histogram is said to be empty, not drawn.
        if h["count"] and not d.figures.get(name):
            diffs.append("no chart for %s" % name)
        if not h["count"]:
            continue
        for q, p in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", None)):
            want = h["max"] if p is None else min(max(quantile(h, p), h["min"]), h["max"])
            got = d.pct.get((name, q, ""))
            compared += 1
            if got is None or abs(float(got) - want) > 1e-5 * max(abs(want), 1):
                diffs.append("%s %s: report %s, snapshot's buckets give %.9g" % (name, q, got, want))
    want = {"intervals": len(snap["intervals"]), "commands": total["commands"], "calls": total["calls"]}
    for key in ("evicting_calls", "keys_evicted"):
        if key in total:
            want[key] = total[key]
    for name, h in total["histograms"].items():
        want[name + " count"] = h["count"]
    if jsonl:
        capture = [json.loads(l) for l in open(jsonl) if l.strip()][-1]
        for key in ("commands", "calls", "evicting_calls", "keys_evicted"):
            if key in capture and capture[key] != want.get(key):
                diffs.append("the capture's own total %s is %s, the snapshot's %s" % (key, capture[key], want.get(key)))
        for name, h in capture["histograms"].items():
            if h["count"] != want.get(name + " count"):
                diffs.append("the capture's own %s count is %s, the snapshot's %s" % (name, h["count"],
                                                                                     want.get(name + " count")))
    for key, v in want.items():
        compared += 1
        if d.counts.get(key) != [str(v)]:
            diffs.append("count %s: report %s, snapshot %s" % (key, d.counts.get(key), v))
    say(diffs, "%d figures with %d charts, %d values compared" % (len(d.figures), sum(d.figures.values()), compared),
        diffs)


def cmd_report_value(dom_path, measure, q):
    print(read_dom(dom_path).pct.get((measure, q, ""), "none"))


def cmd_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        print("not a PNG")
        return
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = {2: 3, 6: 4}[ctype]
    raw, stride = zlib.decompress(idat), w * bpp
    prev, rows, i = bytearray(stride), [], 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    nonwhite, colours = 0, set()
    for line in rows:
        for x in range(0, stride, bpp):
            px = tuple(line[x:x + 3])
            if px != (255, 255, 255):
                nonwhite += 1
            colours.add(tuple(v >> 4 for v in px))
    print("%d %d %.2f %d" % (w, h, 100.0 * nonwhite / (w * h), len(colours)))


def cmd_sheet(path):
    root = ET.parse(path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    charts = [e for e in root.iter(ns + "svg") if e is not root and "chart" in e.get("class", "")]
    print(len(charts))


SVG = "{http://www.w3.org/2000/svg}"
CELL = re.compile(r"(\d+):(\d\d) to (\d+):(\d\d), \+(\d+) to (\d+) ms: (\d+) to (\d+)% evicting$")
AXIS = re.compile(r"(\d+):(\d\d)$")


def want_cells(snap):
    """(second since the start, 20 ms row) -> shade 1..8 of every cell of the file with eviction in it."""
    heat, want = snap.get("heat_map") or {"columns": []}, {}
    t0 = math.floor(epoch(snap["start"]))
    for col in heat["columns"]:
        for row in range(50):
            share = (col["busy_ns"][2 * row] + col["busy_ns"][2 * row + 1]) / 20e6
            if share > 0:
                want[(col["second"] - t0, row)] = min(8, max(1, math.ceil(share * 8)))
    return want


def strip_cells(strip, diffs):
    """A strip's seconds and its cells, from where each rect is and what its tooltip says."""
    bg = strip.find(SVG + "rect")
    x0, y0, w = float(bg.get("x")), float(bg.get("y")), float(bg.get("width"))
    row_h = float(bg.get("height")) / 50
    axis = [(float(t.get("x")), int(m[1]) * 60 + int(m[2])) for t in strip.iter(SVG + "text")
            if (m := AXIS.match(t.text or ""))]
    (xa, ta), (xb, tb) = axis[0], axis[-1]
    # The labels are rounded: they give the number of seconds, the plot's width their exact width.
    first, seconds = ta, round(w * (tb - ta) / (xb - xa))
    cw = w / seconds
    cells, rects = {}, 0
    for r in strip.iter(SVG + "rect"):
        m = CELL.match(r.findtext(SVG + "title") or "")
        if not m:
            continue
        rects += 1
        a, b = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
        row, level = int(m[5]) // 20, round(int(m[8]) * 8 / 100)
        x, y, width = float(r.get("x")), float(r.get("y")), float(r.get("width"))
        if abs(x - (x0 + (a - first) * cw)) > 0.01 or abs(width - (b - a) * cw) > 0.01 or abs(y - (y0 + row * row_h)) > 0.01:
            diffs.append("cell %s is drawn at x %s y %s width %s" % (m[0], x, y, width))
        if a < first or b > first + seconds:
            diffs.append("cell %s is outside its strip %d..%d" % (m[0], first, first + seconds))
        for sec in range(a, b):
            if (sec, row) in cells:
                diffs.append("second %d row %d is drawn twice" % (sec, row))
            cells[(sec, row)] = (level, r.get("fill"))
    return seconds, cells, rects


def boxes(root):
    """What the sheet places itself: (what, x, y, width, height), a text a point on its baseline."""
    out = []
    for e in root:
        tag = e.tag.replace(SVG, "")
        if tag in ("svg", "rect") and not e.get("width", "").endswith("%"):
            out.append((tag, float(e.get("x")), float(e.get("y")), float(e.get("width")), float(e.get("height"))))
        elif tag == "text":
            out.append(("text " + (e.text or "")[:30], float(e.get("x")), float(e.get("y")) - 10, 1, 10))
    return out


def cmd_heat(svg_path, snap_path):
    root = ET.parse(svg_path).getroot()
    snap = json.load(open(snap_path))
    diffs, got, shades, rects, seconds = [], {}, {}, 0, []
    strips = [e for e in root if e.tag == SVG + "svg" and "heat" in e.get("class", "").split()]
    for strip in strips:
        n, cells, r = strip_cells(strip, diffs)
        seconds.append(n)
        rects += r
        got.update(cells)
    for key, (level, fill) in got.items():
        if shades.setdefault(level, fill) != fill:
            diffs.append("shade %d is drawn both %s and %s" % (level, shades[level], fill))
    want = want_cells(snap)
    for key in sorted(set(want) | set(got)):
        if want.get(key) != got.get(key, (None,))[0]:
            diffs.append("second %d row %d: file's shade %s, sheet's %s" % (key + (want.get(key), got.get(key))))
    placed = boxes(root)
    height = float(root.get("height"))
    for i, a in enumerate(placed):
        if a[2] + a[4] > height:
            diffs.append("%s at y %g ends below the sheet's %g" % (a[0], a[2], height))
        for b in placed[i + 1:]:
            if a[1] < b[1] + b[3] and b[1] < a[1] + a[3] and a[2] < b[2] + b[4] and b[2] < a[2] + a[4]:
                diffs.append("%s at (%g, %g) overlaps %s at (%g, %g)" % (a[0], a[1], a[2], b[0], b[1], b[2]))
    episodes = sum(1 for s in strips for r in s.iter(SVG + "rect") if r.get("class") == "ep")
    say(diffs, "strips: %d, seconds: %s, cells: %d in %d rects, episode bars: %d, things laid out: %d" %
        (len(strips), "+".join(map(str, seconds)) or "0", len(got), rects, episodes, len(placed)), diffs)


COMMANDS = {"schema": cmd_schema, "csv": cmd_csv, "openmetrics": cmd_openmetrics, "page": cmd_page,
            "quantile": cmd_quantile,
            "dom": cmd_dom, "report-value": cmd_report_value, "png": cmd_png, "sheet": cmd_sheet,
            "heat": cmd_heat}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
