// SPDX-License-Identifier: BSD-3-Clause
/*
 * report_html.c: the report page and the chart sheet.
 *
 * What a post-mortem needs first comes first: a line of key figures, the
 * facts of the target and the capture, then the latency histograms (the
 * bimodal picture of a burst: calls that evicted against calls that did
 * not), what each round had to free, the timelines, the other variables,
 * the exact counts, and how to read it all. Every number shown is computed
 * from the file's buckets and counts; what the file says is unavailable is
 * shown as such, with its reason, never as zero.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "report_html.h"
#include "report_html_storm.h"
#include "report_svg.h"
#include "util.h"

#define MAX_POINTS 600	/* timeline points; longer captures are summed in groups of intervals */
#define NPCT 4

static const char *const pct_names[NPCT] = { "p50", "p90", "p99", "max" };
static const double pct_q[NPCT - 1] = { 0.5, 0.9, 0.99 };

/* A snapshot and what the report derives from it. */
struct side {
	const struct snapshot *s;
	const char *name;		/* "Before", "After"; NULL alone */
	double pct[M_NHISTS][NPCT];	/* base units; NAN when empty */
	size_t n, group;		/* timeline points, intervals per point */
	double *t, *commands, *keys, *share, *tofree50, *tofree99;
	double tmax;
};

struct report {
	FILE *f;
	struct side side[2];
	size_t nsides;
};

/* ------------------------------------------------------------------ */
/* What each histogram is                                               */
/* ------------------------------------------------------------------ */

static enum value_kind kind_of(enum measure m)
{
	if (measure_is_latency(m))
		return VK_TIME;
	return measure_is_bytes(m) ? VK_BYTES : VK_KEYS;
}

static const char *counted(enum measure m)
{
	return m == M_EVICT_LATENCY || m == M_EVICT_LATENCY_NOOP ? "calls" : "evicting calls";
}

/* What an empty histogram M has none of, for "No ... in this capture". */
static const char *none_of(enum measure m)
{
	switch (m) {
	case M_OVERSHOOT: return "round that freed more than its mem_tofree";
	case M_SHORTFALL: return "round that freed less than its mem_tofree";
	case M_FREED: return "round during which used memory fell";
	default: return counted(m);
	}
}

static const char *described(enum measure m)
{
	switch (m) {
	case M_EVICT_LATENCY: return "every call, evicting or not";
	case M_EVICT_LATENCY_ACTIVE: return "calls that reached the eviction path (mem_used > maxmemory)";
	case M_EVICT_LATENCY_NOOP: return "calls that returned at once: memory was under maxmemory";
	case M_MEM_REPORTED: return "memory Redis reports (zmalloc_used_memory) when a call starts evicting";
	case M_OVERHEAD: return "replication and AOF buffers, which do not count against maxmemory";
	case M_MEM_USED: return "memory that counts: mem_reported - overhead";
	case M_MEM_TOFREE: return "what each eviction round must free: mem_used - maxmemory";
	case M_FREED: return "how far used memory fell from mem_reported by the round's end";
	case M_OVERSHOOT: return "rounds that freed at least mem_tofree: by how much more";
	case M_SHORTFALL: return "rounds that freed less than mem_tofree (time limit, lazy freeing): by how much";
	case M_LAZYFREE_PENDING: return "objects still queued for the lazyfree thread when the round ended";
	default: return "keys each evicting call evicted";
	}
}

/* ------------------------------------------------------------------ */
/* Derived figures                                                      */
/* ------------------------------------------------------------------ */

/*
 * p50, p90, p99 as Prometheus's histogram_quantile() estimates them from
 * the buckets (hist_quantile), kept within the exact extremes; max exact.
 */
static void percentiles(const struct hist *h, double out[NPCT])
{
	for (int i = 0; i < NPCT - 1; i++)
		out[i] = hist_percentile(h, pct_q[i]);
	out[NPCT - 1] = h->count ? (double)h->max : NAN;
}

static double rate(uint64_t n, double len)
{
	return len > 0 ? (double)n / len : NAN;
}

/* The timelines, one point per group of intervals so that a long capture stays drawable. */
static void side_timelines(struct side *sd)
{
	const struct snapshot *s = sd->s;
	size_t g = s->npoints > MAX_POINTS ? (s->npoints + MAX_POINTS - 1) / MAX_POINTS : 1;

	sd->group = g;
	sd->n = (s->npoints + g - 1) / g;
	sd->t = xcalloc(sd->n + 1, sizeof(double));
	sd->commands = xcalloc(sd->n + 1, sizeof(double));
	sd->keys = xcalloc(sd->n + 1, sizeof(double));
	sd->share = xcalloc(sd->n + 1, sizeof(double));
	sd->tofree50 = xcalloc(sd->n + 1, sizeof(double));
	sd->tofree99 = xcalloc(sd->n + 1, sizeof(double));
	for (size_t k = 0; k < sd->n; k++) {
		uint64_t cmds = 0, keys = 0;
		double len = 0, busy = 0, p[NPCT];
		bool has_keys = true;
		struct hist tofree;

		hist_init(&tofree, 1);
		for (size_t i = k * g; i < s->npoints && i < (k + 1) * g; i++) {
			const struct snap_point *pt = &s->points[i];

			len += pt->c.len;
			cmds += pt->c.commands;
			keys += pt->c.keys_evicted;
			has_keys &= pt->c.has_keys;
			busy += pt->c.share * pt->c.len;
			if (pt->has_tofree)
				hist_merge(&tofree, &tofree, &pt->tofree);
			sd->t[k] = pt->c.end;
		}
		sd->commands[k] = rate(cmds, len);
		sd->keys[k] = has_keys ? rate(keys, len) : NAN;
		sd->share[k] = len > 0 ? busy / len : NAN;
		percentiles(&tofree, p);
		sd->tofree50[k] = p[0];
		sd->tofree99[k] = p[2];
	}
	sd->tmax = s->total.len;
	if (sd->n && sd->t[sd->n - 1] > sd->tmax)
		sd->tmax = sd->t[sd->n - 1];
}

static void side_init(struct side *sd, const struct snapshot *s, const char *name)
{
	memset(sd, 0, sizeof(*sd));
	sd->s = s;
	sd->name = name;
	for (int m = 0; m < M_NHISTS; m++)
		percentiles(&s->hist[m].h, sd->pct[m]);
	side_timelines(sd);
}

static void side_fini(struct side *sd)
{
	free(sd->t);
	free(sd->commands);
	free(sd->keys);
	free(sd->share);
	free(sd->tofree50);
	free(sd->tofree99);
}

static const char *fn_of(const struct snapshot *s)
{
	return s->evict_function[0] ? s->evict_function : "performEvictions";
}

/* Whether histogram M can be drawn for S; else why not in *WHY. */
static bool hist_shown(const struct snapshot *s, enum measure m, const char **why)
{
	*why = s->why[m] ? s->why[m] : "not in this file";
	return s->hist[m].present && !s->why[m];
}

/* The latency histograms worth a chart: the split when the file has it, else all calls. */
static bool latency_split(const struct report *r)
{
	for (size_t i = 0; i < r->nsides; i++)
		if (!r->side[i].s->hist[M_EVICT_LATENCY_ACTIVE].present)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Page furniture                                                       */
/* ------------------------------------------------------------------ */

static const char page_css[] =
	"body{margin:0;background:#fff;color:#1a1a1a;font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,"
	"\"DejaVu Sans\",Arial,sans-serif}\n"
	"main{max-width:1180px;margin:0 auto;padding:20px 24px 40px}\n"
	"h1{font-size:1.5em;margin:0 0 4px;line-height:1.25}\n"
	"h2{font-size:1.15em;margin:30px 0 12px;padding-bottom:4px;border-bottom:2px solid #e4e4e4}\n"
	"h3{font-size:.95em;margin:0 0 2px;color:#444}\n"
	".sub{color:#555;margin:0}\n"
	".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:10px;margin-top:16px}\n"
	".card{border:1px solid #ddd;border-radius:6px;padding:9px 12px}\n"
	".card .v{font-size:1.4em;font-weight:650}\n"
	".card .k{color:#444;font-size:.85em}\n"
	".card .d{color:#666;font-size:.8em}\n"
	"table{border-collapse:collapse}\n"
	".facts th{text-align:left;font-weight:600;color:#444;padding:3px 18px 3px 0;vertical-align:top;"
	"white-space:nowrap}\n"
	".facts td{padding:3px 14px 3px 0;overflow-wrap:anywhere;vertical-align:top}\n"
	".facts ul{margin:0;padding-left:18px}\n"
	".grid2{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:22px 28px}\n"
	".stack{display:grid;gap:28px}\n"
	".pair{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:8px 24px}\n"
	"figure{margin:0;break-inside:avoid}\n"
	"figcaption{margin-bottom:2px}\n"
	"figcaption .n{color:#666;font-size:.85em}\n"
	".pct{font-size:.9em;margin-top:4px;font-variant-numeric:tabular-nums}\n"
	".pct th,.pct td{padding:2px 14px 2px 0;text-align:left}\n"
	".pct thead th{color:#c05621}\n"
	".pct th.max{color:#9b2c2c}\n"
	".pct.cmp thead th{color:#444}\n"
	".pct.cmp tbody th{color:#c05621}\n"
	".pct.cmp tbody th.max{color:#9b2c2c}\n"
	".cards.cmp .card .v{font-size:1.15em}\n"
	".why{color:#555;font-style:italic;border-left:3px solid #ddd;padding-left:8px;margin:6px 0}\n"
	".worse{color:#9b2c2c}.better{color:#2f855a}\n"
	".counts td{text-align:right;padding:2px 0 2px 22px;font-variant-numeric:tabular-nums}\n"
	".counts th{text-align:left;font-weight:normal;padding:2px 0}\n"
	".counts thead th{font-weight:600;text-align:right;padding-left:22px}\n"
	".method{font-size:.92em;max-width:80ch}\n"
	".scroll{overflow-x:auto}\n"
	"footer{margin-top:32px;color:#777;font-size:.8em}\n"
	"svg.chart{display:block;width:100%;height:auto}\n"
	"@media (max-width:760px){main{padding:12px}body{font-size:14px}.grid2,.pair{grid-template-columns:1fr}"
	".facts th,.facts td{display:block;padding:0}.facts th{padding-top:8px}}\n"
	"@media print{main{max-width:none;padding:0}body{font-size:9.5pt}h2{break-after:avoid}"
	".card{break-inside:avoid}}\n"
	"@page{margin:14mm}\n";

static void text(struct report *r, const char *s)
{
	xml_text(r->f, s);
}

/* "redis 7.0.15" or what the file says of the server. */
static void server_words(const struct snapshot *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", s->server[0] ? s->server : "redis", s->version[0] ? s->version : "(version unknown)");
}

static void page_head(struct report *r)
{
	const struct snapshot *a = r->side[0].s;
	char server[64];

	server_words(a, server, sizeof(server));
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", r->f);
	fprintf(r->f, "redprof: %s PID %lld%s</title>\n", server, (long long)a->pid,
		r->nsides > 1 ? ", before and after" : "");
	fprintf(r->f, "<style>\n%s%s%s%s</style>\n</head>\n<body>\n<main>\n", page_css, svg_css, storm_css, heat_css);
}

static void capture_words(const struct side *sd, char *buf, size_t len)
{
	const struct snapshot *s = sd->s;
	char from[40] = "", to[40] = "";

	if (s->start[0] && s->end[0]) {
		snprintf(from, sizeof(from), "%.19s", s->start);
		snprintf(to, sizeof(to), "%.19s", s->end);
		for (char *p = from; *p; p++)
			*p = *p == 'T' ? ' ' : *p;
		snprintf(buf, len, "%s UTC to %s, %.0f s, %zu intervals", from, to + 11, s->total.len, s->npoints);
	} else {
		snprintf(buf, len, "%.0f s, %zu intervals", s->total.len, s->npoints);
	}
}

static void page_title(struct report *r)
{
	char server[64], words[160];

	fputs("<header>\n<h1>", r->f);
	if (r->nsides == 1) {
		server_words(r->side[0].s, server, sizeof(server));
		fprintf(r->f, "Redis eviction profile: %s, PID %lld</h1>\n", server, (long long)r->side[0].s->pid);
		capture_words(&r->side[0], words, sizeof(words));
		fprintf(r->f, "<p class=\"sub\">%s</p>\n", words);
	} else {
		fputs("Redis eviction profile: before and after</h1>\n", r->f);
		for (size_t i = 0; i < r->nsides; i++) {
			server_words(r->side[i].s, server, sizeof(server));
			capture_words(&r->side[i], words, sizeof(words));
			fprintf(r->f, "<p class=\"sub\"><b>%s</b>: %s, PID %lld, %s (", r->side[i].name, server,
				(long long)r->side[i].s->pid, words);
			text(r, r->side[i].s->path);
			fputs(")</p>\n", r->f);
		}
	}
	fputs("</header>\n", r->f);
}

/* ------------------------------------------------------------------ */
/* Key figures                                                          */
/* ------------------------------------------------------------------ */

/*
 * Relative change from A to B: "+52%", "-34%", "×12"; "" when not
 * meaningful. *CLS says whether it is for the worse ("up" in red) or the
 * better ("down" in green), given whether a higher value is worse.
 */
static void change_words(double a, double b, bool higher_worse, char *buf, size_t len, const char **cls)
{
	double ratio;

	*cls = "";
	buf[0] = '\0';
	if (isnan(a) || isnan(b) || a <= 0)
		return;
	ratio = b / a;
	if (ratio >= 10)
		snprintf(buf, len, "×%.0f", ratio);
	else if (ratio >= 2)
		snprintf(buf, len, "×%.1f", ratio);
	else
		snprintf(buf, len, "%+.0f%%", 100 * (ratio - 1));
	if (!strcmp(buf, "+0%") || !strcmp(buf, "-0%"))
		snprintf(buf, len, "same");
	else
		*cls = (ratio > 1) == higher_worse ? "worse" : "better";
}

/* A value that never breaks across lines: "8.12&nbsp;µs". */
static void unbroken(struct report *r, const char *s)
{
	for (; *s; s++)
		if (*s == ' ')
			fputs("&nbsp;", r->f);
		else
			fputc(*s, r->f);
}

/* A card: values of each side in the same words, with the change when there are two. */
static void card(struct report *r, const char *key, const double *v, enum value_kind kind, bool higher_worse,
		 const char *detail)
{
	char a[48], b[48], chg[32];
	const char *cls;

	format_value(v[0], kind, a, sizeof(a));
	fprintf(r->f, "<div class=\"card\" data-card=\"%s\"><div class=\"k\">%s</div><div class=\"v\">", key, key);
	unbroken(r, a);
	if (r->nsides > 1) {
		format_value(v[1], kind, b, sizeof(b));
		change_words(v[0], v[1], higher_worse, chg, sizeof(chg), &cls);
		fputs(" → ", r->f);
		unbroken(r, b);
		fprintf(r->f, "</div><div class=\"d\"><span class=\"%s\">%s</span>", cls, chg);
	} else {
		fputs("</div><div class=\"d\">", r->f);
		text(r, detail);
	}
	fputs("</div></div>\n", r->f);
}

static double peak(const double *v, size_t n)
{
	double p = NAN;

	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]) && (isnan(p) || v[i] > p))
			p = v[i];
	return p;
}

static void key_figures(struct report *r)
{
	enum measure lat = latency_split(r) ? M_EVICT_LATENCY_ACTIVE : M_EVICT_LATENCY;
	double v[2];
	char d[128], x[48];

	fprintf(r->f, "<section class=\"cards%s\" id=\"summary\">\n", r->nsides > 1 ? " cmp" : "");
	for (size_t i = 0; i < r->nsides; i++)
		v[i] = rate(r->side[i].s->total.commands, r->side[i].s->total.len);
	format_value(peak(r->side[0].commands, r->side[0].n), VK_RATE, x, sizeof(x));
	snprintf(d, sizeof(d), "average; peak %s/s", x);
	card(r, "commands/s", v, VK_RATE, false, d);

	for (size_t i = 0; i < r->nsides; i++) {
		const struct snap_counts *c = &r->side[i].s->total;
		uint64_t calls = c->calls > c->evicting_calls ? c->calls : c->evicting_calls;

		v[i] = c->has_evicting && calls ? (double)c->evicting_calls / (double)calls : NAN;
	}
	snprintf(d, sizeof(d), "of %s calls", fn_of(r->side[0].s));
	card(r, "calls that evicted", v, VK_SHARE, true, d);

	for (size_t i = 0; i < r->nsides; i++) {
		const struct snap_counts *c = &r->side[i].s->total;

		v[i] = c->has_keys ? rate(c->keys_evicted, c->len) : NAN;
	}
	card(r, "keys evicted/s", v, VK_RATE, true, "average");

	for (size_t i = 0; i < r->nsides; i++)
		v[i] = r->side[i].s->total.share;
	format_value(peak(r->side[0].share, r->side[0].n), VK_SHARE, x, sizeof(x));
	snprintf(d, sizeof(d), "of the main thread; peak %s", x);
	card(r, "time in eviction", v, VK_SHARE, true, d);

	for (size_t i = 0; i < r->nsides; i++)
		v[i] = r->side[i].pct[lat][2];
	format_value(r->side[0].pct[lat][3], VK_TIME, x, sizeof(x));
	snprintf(d, sizeof(d), "%s; max %s", lat == M_EVICT_LATENCY_ACTIVE ? "calls that evicted" : "all calls", x);
	card(r, "eviction latency p99", v, VK_TIME, true, d);

	for (size_t i = 0; i < r->nsides; i++)
		v[i] = r->side[i].pct[M_MEM_TOFREE][0];
	format_value(r->side[0].pct[M_MEM_TOFREE][2], VK_BYTES, x, sizeof(x));
	snprintf(d, sizeof(d), "per round; p99 %s", x);
	card(r, "mem_tofree p50", v, VK_BYTES, true, d);
	fputs("</section>\n", r->f);
}

/* ------------------------------------------------------------------ */
/* The target and the capture                                           */
/* ------------------------------------------------------------------ */

typedef void (*fact_fn)(struct report *r, const struct snapshot *s);

static void fact_server(struct report *r, const struct snapshot *s)
{
	char w[64];

	server_words(s, w, sizeof(w));
	text(r, w);
	fprintf(r->f, ", PID %lld", (long long)s->pid);
}

static void fact_exe(struct report *r, const struct snapshot *s)
{
	text(r, s->exe[0] ? s->exe : "not recorded (redprof --json lines)");
}

static void fact_build(struct report *r, const struct snapshot *s)
{
	text(r, s->build_id);
}

static void fact_maxmemory(struct report *r, const struct snapshot *s)
{
	char a[32], b[32];

	if (s->maxmemory < 0) {
		fputs("not recorded", r->f);
		return;
	}
	format_value((double)s->maxmemory, VK_BYTES, a, sizeof(a));
	format_count((uint64_t)s->maxmemory, b, sizeof(b));
	fprintf(r->f, "%s (%s bytes)", a, b);
}

static void fact_policy(struct report *r, const struct snapshot *s)
{
	if (s->policy[0]) {
		text(r, s->policy);
		return;
	}
	fputs("not recorded", r->f);
	if (s->policy_why[0]) {
		fputs(": ", r->f);
		text(r, s->policy_why);
	}
}

static void fact_offsets(struct report *r, const struct snapshot *s)
{
	if (!s->offsets[0]) {
		fputs(s->lines ? "not recorded (redprof --json lines)" : "none: only what needs symbols", r->f);
		return;
	}
	text(r, s->offsets);
	fprintf(r->f, " (%s strategy)", s->strategy);
}

static void fact_probes(struct report *r, const struct snapshot *s)
{
	uint64_t hits = s->hits_emulated + s->hits_single_stepped + s->hits_return;
	char n[32];

	if (s->plan_mode[0])
		fprintf(r->f, "%s plan; ", s->plan_mode);
	format_count(hits, n, sizeof(n));
	fprintf(r->f, "%s probe hits", n);
	if (s->total.commands)
		fprintf(r->f, ", %.2f per command", (double)hits / (double)s->total.commands);
	if (s->hits_single_stepped)
		fprintf(r->f, " (%.1f%% single-stepped, ~15-20 µs each)",
			100.0 * (double)s->hits_single_stepped / (double)hits);
	else if (hits)
		fputs(" (all emulated or returns, ~1 µs each)", r->f);
}

static void fact_capture(struct report *r, const struct snapshot *s)
{
	char w[160];
	struct side sd = { .s = s };

	capture_words(&sd, w, sizeof(w));
	text(r, w);
	if (s->dropped)
		fprintf(r->f, "; <b>%zu intervals missing</b> (could not be kept while capturing)", s->dropped);
}

static void fact_redprof(struct report *r, const struct snapshot *s)
{
	if (s->lines) {
		fputs("JSON Lines of redprof --json", r->f);
		return;
	}
	text(r, s->redprof);
	fprintf(r->f, " (snapshot schema %d)", s->schema);
}

static void fact_notes(struct report *r, const struct snapshot *s)
{
	if (!s->nnotes) {
		fputs("none", r->f);
		return;
	}
	fputs("<ul>", r->f);
	for (size_t i = 0; i < s->nnotes; i++) {
		fputs("<li>", r->f);
		text(r, s->notes[i]);
		fputs("</li>", r->f);
	}
	fputs("</ul>", r->f);
}

static void facts(struct report *r)
{
	static const struct { const char *name; fact_fn fn; } rows[] = {
		{ "Server", fact_server }, { "Executable", fact_exe }, { "Build-id", fact_build },
		{ "maxmemory", fact_maxmemory }, { "maxmemory-policy", fact_policy }, { "Capture", fact_capture },
		{ "Offset file", fact_offsets }, { "Probes", fact_probes }, { "redprof", fact_redprof },
		{ "Notes", fact_notes },
	};

	fputs("<section id=\"target\">\n<h2>Target and capture</h2>\n<div class=\"scroll\"><table class=\"facts\">\n",
	      r->f);
	if (r->nsides > 1)
		fprintf(r->f, "<tr><th></th><th>%s</th><th>%s</th></tr>\n", r->side[0].name, r->side[1].name);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fprintf(r->f, "<tr><th>%s</th>", rows[i].name);
		for (size_t k = 0; k < r->nsides; k++) {
			fputs("<td>", r->f);
			rows[i].fn(r, r->side[k].s);
			fputs("</td>", r->f);
		}
		fputs("</tr>\n", r->f);
	}
	fputs("</table></div>\n</section>\n", r->f);
}

/* ------------------------------------------------------------------ */
/* Histograms                                                           */
/* ------------------------------------------------------------------ */

/* The bucket range both sides draw, at least six buckets wide. */
static void shared_axis(const struct report *r, enum measure m, unsigned *lo, unsigned *hi, double *ymax)
{
	unsigned a, b;
	double top = 0;

	*lo = EV_SLOTS - 1;
	*hi = 0;
	for (size_t i = 0; i < r->nsides; i++) {
		const struct hist *h = &r->side[i].s->hist[m].h;

		if (!hist_range(h, &a, &b))
			continue;
		*lo = a < *lo ? a : *lo;
		*hi = b > *hi ? b : *hi;
		for (unsigned k = a; k <= b; k++)
			if (100.0 * (double)h->slots[k] / (double)h->count > top)
				top = 100.0 * (double)h->slots[k] / (double)h->count;
	}
	if (*lo > *hi)
		*lo = *hi = 0;
	while (*hi - *lo < 5) {
		if (*lo > 0)
			(*lo)--;
		if (*hi - *lo < 5 && *hi < EV_SLOTS - 1)
			(*hi)++;
	}
	*ymax = top > 50 ? 100 : nice_ceiling(top, VK_SHARE);
}

static void pct_cell(struct report *r, const struct side *sd, enum measure m, int q)
{
	double v = sd->pct[m][q];
	char w[48], num[48];

	format_value(v, kind_of(m), w, sizeof(w));
	/* data-value in the file's unit, as its buckets, min and max are. */
	snprintf(num, sizeof(num), "%.10g", v / (double)sd->s->hist[m].h.scale);
	fprintf(r->f, "<td data-q=\"%s\"%s%s%s data-value=\"%s\">%s</td>", pct_names[q], sd->name ? " data-side=\"" : "",
		sd->name ? sd->name : "", sd->name ? "\"" : "", isnan(v) ? "" : num, w);
}

static void pct_table(struct report *r, enum measure m)
{
	char chg[32];
	const char *cls;

	fprintf(r->f, "<table class=\"pct%s\" data-measure=\"%s\">", r->nsides > 1 ? " cmp" : "", measure_name(m));
	if (r->nsides == 1) {
		fputs("<thead><tr>", r->f);
		for (int q = 0; q < NPCT; q++)
			fprintf(r->f, "<th%s>%s</th>", q == NPCT - 1 ? " class=\"max\"" : "", pct_names[q]);
		fputs("</tr></thead><tbody><tr>", r->f);
		for (int q = 0; q < NPCT; q++)
			pct_cell(r, &r->side[0], m, q);
		fputs("</tr></tbody></table>\n", r->f);
		return;
	}
	fprintf(r->f, "<thead><tr><th></th><th>%s</th><th>%s</th><th>change</th></tr></thead><tbody>", r->side[0].name,
		r->side[1].name);
	for (int q = 0; q < NPCT; q++) {
		fprintf(r->f, "<tr><th%s>%s</th>", q == NPCT - 1 ? " class=\"max\"" : "", pct_names[q]);
		pct_cell(r, &r->side[0], m, q);
		pct_cell(r, &r->side[1], m, q);
		change_words(r->side[0].pct[m][q], r->side[1].pct[m][q], true, chg, sizeof(chg), &cls);
		fprintf(r->f, "<td class=\"%s\">%s</td></tr>", cls, chg);
	}
	fputs("</tbody></table>\n", r->f);
}

static void hist_caption(struct report *r, const struct side *sd, enum measure m)
{
	const struct hist *h = &sd->s->hist[m].h;
	char n[32], mean[48];

	format_count(h->count, n, sizeof(n));
	format_value(h->count ? (double)h->sum / (double)h->count : NAN, kind_of(m), mean, sizeof(mean));
	fprintf(r->f, "<span class=\"n\">%s%s%s %s, mean %s</span>", sd->name ? sd->name : "", sd->name ? ": " : "", n,
		counted(m), mean);
}

static void hist_chart(struct report *r, const struct side *sd, enum measure m, unsigned lo, unsigned hi, double ymax)
{
	struct marker mk[NPCT];
	const char *why;

	if (!hist_shown(sd->s, m, &why)) {
		fputs("<p class=\"why\">Not available: ", r->f);
		text(r, why);
		fputs("</p>\n", r->f);
		return;
	}
	if (!sd->s->hist[m].h.count) {
		fprintf(r->f, "<p class=\"why\">No %s in this capture.</p>\n", none_of(m));
		return;
	}
	for (int q = 0; q < NPCT; q++)
		mk[q] = (struct marker){ pct_names[q], sd->pct[m][q] };
	svg_hist(r->f, (struct svg_place){ 0 }, &sd->s->hist[m].h, kind_of(m), lo, hi, ymax, mk, NPCT, counted(m));
}

static void hist_figure(struct report *r, enum measure m)
{
	unsigned lo, hi;
	double ymax;
	bool any = false;
	const char *why;

	shared_axis(r, m, &lo, &hi, &ymax);
	fprintf(r->f, "<figure class=\"hist\" data-measure=\"%s\">\n<figcaption><h3>", measure_name(m));
	text(r, measure_title_of(fn_of(r->side[0].s), m));
	fputs("</h3><span class=\"n\">", r->f);
	text(r, described(m));
	fputs("</span><br>", r->f);
	for (size_t i = 0; i < r->nsides; i++) {
		if (hist_shown(r->side[i].s, m, &why)) {
			hist_caption(r, &r->side[i], m);
			any = true;
			fputs(i + 1 < r->nsides ? "<br>" : "", r->f);
		}
	}
	fputs("</figcaption>\n", r->f);
	if (r->nsides > 1)
		fputs("<div class=\"pair\">\n", r->f);
	for (size_t i = 0; i < r->nsides; i++) {
		if (r->nsides > 1)
			fprintf(r->f, "<div><h3>%s</h3>\n", r->side[i].name);
		hist_chart(r, &r->side[i], m, lo, hi, ymax);
		if (r->nsides > 1)
			fputs("</div>\n", r->f);
	}
	if (r->nsides > 1)
		fputs("</div>\n", r->f);
	if (any)
		pct_table(r, m);
	fputs("</figure>\n", r->f);
}

static void hist_section(struct report *r, const char *id, const char *title, const enum measure *ms, size_t n)
{
	fprintf(r->f, "<section id=\"%s\">\n<h2>", id);
	text(r, title);
	fprintf(r->f, "</h2>\n<div class=\"%s\">\n", r->nsides > 1 ? "stack" : "grid2");
	for (size_t i = 0; i < n; i++)
		hist_figure(r, ms[i]);
	fputs("</div>\n</section>\n", r->f);
}

/* ------------------------------------------------------------------ */
/* Timelines                                                            */
/* ------------------------------------------------------------------ */

enum timeline { TL_COMMANDS, TL_KEYS, TL_SHARE, TL_TOFREE, TL_N };

static const struct {
	const char *id, *title;
	enum value_kind kind;
} timelines[TL_N] = {
	[TL_COMMANDS] = { "commands", "commands/s", VK_RATE },
	[TL_KEYS] = { "keys_evicted", "keys evicted/s", VK_RATE },
	[TL_SHARE] = { "evict_time_share", "time in eviction (evict_time_share)", VK_SHARE },
	[TL_TOFREE] = { "mem_tofree", "mem_tofree per interval, p50 and p99", VK_BYTES },
};

/* The lines of timeline TL for SD; returns how many. */
static size_t timeline_lines(const struct side *sd, enum timeline tl, struct line *l)
{
	switch (tl) {
	case TL_COMMANDS: l[0] = (struct line){ NULL, "l1", sd->commands }; return 1;
	case TL_KEYS: l[0] = (struct line){ NULL, "l1", sd->keys }; return 1;
	case TL_SHARE: l[0] = (struct line){ NULL, "l3", sd->share }; return 1;
	default:
		l[0] = (struct line){ "p50", "l1", sd->tofree50 };
		l[1] = (struct line){ "p99", "l2", sd->tofree99 };
		return 2;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The top of timeline TL's axis, the same for both sides: the peak, unless a
 * few points dwarf the rest (the peak is over three times the 95th
 * percentile): then the scale fits the rest, points above it are drawn at
 * its top edge, and *CLIPPED says the peak (NAN otherwise).
 */
static double timeline_max(const struct report *r, enum timeline tl, double *clipped)
{
	size_t n = 0, cap = 0;
	double *v = NULL, top;

	for (size_t i = 0; i < r->nsides; i++) {
		struct line l[2];
		size_t nl = timeline_lines(&r->side[i], tl, l);

		for (size_t k = 0; k < nl; k++) {
			for (size_t j = 0; j < r->side[i].n; j++) {
				if (isnan(l[k].y[j]))
					continue;
				if (n == cap)
					v = xreallocarray(v, cap = 2 * cap + 64, sizeof(*v));
				v[n++] = l[k].y[j];
			}
		}
	}
	qsort(v, n, sizeof(*v), cmp_double);
	top = n ? v[n - 1] : 0;
	*clipped = NAN;
	if (n >= 20 && v[(n - 1) * 95 / 100] > 0 && top > 3 * v[(n - 1) * 95 / 100]) {
		*clipped = top;
		top = 1.25 * v[(n - 1) * 95 / 100];
	}
	free(v);
	if (tl == TL_SHARE)
		return top > 0.5 ? 1 : nice_ceiling(top, VK_RATE);
	return nice_ceiling(top, timelines[tl].kind);
}

/* Why timeline TL has nothing to draw for SD, or NULL. */
static const char *timeline_why(const struct side *sd, enum timeline tl)
{
	const struct snapshot *s = sd->s;

	if (!sd->n)
		return "no intervals in this file";
	if (tl == TL_KEYS && !s->total.has_keys)
		return s->why[M_KEYS_EVICTED] ? s->why[M_KEYS_EVICTED] : "keys evicted are not in this file";
	if (tl == TL_TOFREE && (!s->hist[M_MEM_TOFREE].present || s->why[M_MEM_TOFREE]))
		return s->why[M_MEM_TOFREE] ? s->why[M_MEM_TOFREE] : "mem_tofree is not in this file";
	return NULL;
}

static void timeline_figure(struct report *r, enum timeline tl)
{
	double clipped, ymax = timeline_max(r, tl, &clipped);
	char peak_words[48];

	fprintf(r->f, "<figure class=\"timeline\" data-series=\"%s\">\n<figcaption><h3>%s</h3></figcaption>\n",
		timelines[tl].id, timelines[tl].title);
	if (r->nsides > 1)
		fputs("<div class=\"pair\">\n", r->f);
	for (size_t i = 0; i < r->nsides; i++) {
		const struct side *sd = &r->side[i];
		const char *why = timeline_why(sd, tl);
		struct line l[2];
		size_t n = timeline_lines(sd, tl, l);

		if (r->nsides > 1)
			fprintf(r->f, "<div><h3>%s</h3>\n", sd->name);
		if (why) {
			fputs("<p class=\"why\">Not available: ", r->f);
			text(r, why);
			fputs("</p>\n", r->f);
		} else {
			svg_timeline(r->f, (struct svg_place){ 0 }, sd->t, sd->n, sd->tmax, l, n, timelines[tl].kind, ymax);
		}
		if (r->nsides > 1)
			fputs("</div>\n", r->f);
	}
	if (r->nsides > 1)
		fputs("</div>\n", r->f);
	/* Under the chart, so that charts side by side stay level. */
	if (!isnan(clipped)) {
		format_value(clipped, timelines[tl].kind, peak_words, sizeof(peak_words));
		fprintf(r->f, "<p class=\"sub n\">A few points reach %s, above this scale: they are drawn at its top.</p>\n",
			peak_words);
	}
	fputs("</figure>\n", r->f);
}

static void timeline_section(struct report *r)
{
	fputs("<section id=\"timelines\">\n<h2>Over the capture</h2>\n", r->f);
	for (size_t i = 0; i < r->nsides; i++) {
		const struct side *sd = &r->side[i];

		if (sd->group > 1)
			fprintf(r->f, "<p class=\"sub\">%s%sEach point is %zu intervals together, about %.3g s, so that "
				"%zu intervals fit.</p>\n", sd->name ? sd->name : "", sd->name ? ": " : "", sd->group,
				sd->n ? sd->tmax / (double)sd->n : 0, sd->s->npoints);
	}
	fprintf(r->f, "<div class=\"%s\">\n", r->nsides > 1 ? "stack" : "grid2");
	for (int tl = 0; tl < TL_N; tl++)
		timeline_figure(r, (enum timeline)tl);
	fputs("</div>\n</section>\n", r->f);
}

/* ------------------------------------------------------------------ */
/* Exact counts and the method                                          */
/* ------------------------------------------------------------------ */

/* The rows of the counts table: the totals, each histogram's count, the probe hits. */
enum count_row { C_INTERVALS, C_COMMANDS, C_CALLS, C_EVICTING, C_KEYS, C_HITS_EMULATED, C_HITS_SINGLE, C_HITS_RETURN,
		 C_HISTS, C_N = C_HISTS + M_NHISTS };

static uint64_t count_of(const struct snapshot *s, int row, bool *have, char *name, size_t len)
{
	static const char *const names[C_HISTS] = {
		"intervals", "commands", "calls", "evicting_calls", "keys_evicted",
		"probe hits, emulated", "probe hits, single-stepped", "probe hits, return",
	};

	*have = true;
	if (row >= C_HISTS) {
		snprintf(name, len, "%s count", measure_name((enum measure)(row - C_HISTS)));
		*have = s->hist[row - C_HISTS].present && !s->why[row - C_HISTS];
		return s->hist[row - C_HISTS].h.count;
	}
	snprintf(name, len, "%s", names[row]);
	switch (row) {
	case C_INTERVALS: return s->npoints;
	case C_COMMANDS: return s->total.commands;
	case C_CALLS: return s->total.calls;
	case C_EVICTING: *have = s->total.has_evicting; return s->total.evicting_calls;
	case C_KEYS: *have = s->total.has_keys; return s->total.keys_evicted;
	case C_HITS_EMULATED: return s->hits_emulated;
	case C_HITS_SINGLE: return s->hits_single_stepped;
	default: return s->hits_return;
	}
}

static void counts(struct report *r)
{
	fputs("<section id=\"counts\">\n<h2>Counts over the capture</h2>\n<div class=\"scroll\">"
	      "<table class=\"counts\">\n", r->f);
	if (r->nsides > 1)
		fprintf(r->f, "<thead><tr><th></th><th>%s</th><th>%s</th></tr></thead>\n", r->side[0].name,
			r->side[1].name);
	for (int row = 0; row < C_N; row++) {
		char name[64], n[32];

		count_of(r->side[0].s, row, &(bool){ false }, name, sizeof(name));
		fprintf(r->f, "<tr data-name=\"%s\"><th>%s</th>", name, name);
		for (size_t i = 0; i < r->nsides; i++) {
			bool have;
			uint64_t v = count_of(r->side[i].s, row, &have, name, sizeof(name));

			format_count(v, n, sizeof(n));
			if (have)
				fprintf(r->f, "<td data-value=\"%llu\">%s</td>", (unsigned long long)v, n);
			else
				fputs("<td>not available</td>", r->f);
		}
		fputs("</tr>\n", r->f);
	}
	fputs("</table></div>\n</section>\n", r->f);
}

static void method(struct report *r)
{
	fputs("<section id=\"method\" class=\"method\">\n<h2>How to read this report</h2>\n"
	      "<p>redprof counts in the kernel, in log2 histograms: each bucket covers twice the range of the one "
	      "before, and holds whole numbers from its low bound up to, not including, its high bound. Bars show "
	      "each bucket's share of the histogram's count on a logarithmic axis.</p>\n"
	      "<p><b>Percentiles</b> (p50, p90, p99) are estimated from the buckets the way Prometheus's "
	      "<code>histogram_quantile()</code> estimates them: the bucket holding the rank (q × count) is found and "
	      "the value interpolated linearly within it, from the previous bucket's largest value to its own largest "
	      "value (high bound − 1). An estimate is kept within the exact minimum and maximum redprof measured; "
	      "<b>max</b> is exact. An estimate can be off by up to its bucket's width, a factor of two.</p>\n"
	      "<p>Rates and shares are averages over each interval (or group of intervals); the key figures at the top "
	      "are over the whole capture. A measure redprof cannot give for a target is shown as not available, "
	      "with the reason, never as zero. The meaning of every measure is in redprof(8), FIELDS.</p>\n"
	      "</section>\n", r->f);
}

static void page_foot(struct report *r)
{
	char when[40];

	format_iso8601(now_real_ns(), when, sizeof(when));
	fprintf(r->f, "<footer>Made by redprof report %s on %.19s UTC from ", PACKAGE_VERSION, when);
	for (size_t i = 0; i < r->nsides; i++) {
		fputs(i ? " and " : "", r->f);
		text(r, r->side[i].s->path);
	}
	fputs(".</footer>\n</main>\n</body>\n</html>\n", r->f);
}

static const enum measure latency_split_ms[] = { M_EVICT_LATENCY_ACTIVE, M_EVICT_LATENCY_NOOP };
static const enum measure latency_all_ms[] = { M_EVICT_LATENCY };
static const enum measure round_ms[] = { M_MEM_TOFREE, M_FREED, M_OVERSHOOT, M_SHORTFALL, M_KEYS_PER_EVICT,
					  M_LAZYFREE_PENDING };
static const enum measure vars_ms[] = { M_MEM_USED, M_MEM_REPORTED, M_OVERHEAD, M_EVICT_LATENCY };

/* The snapshots and their names as the storm sections take them. */
static void storm_sides(const struct report *r, const struct snapshot *snaps[2], const char *names[2])
{
	for (size_t k = 0; k < 2; k++) {
		snaps[k] = k < r->nsides ? r->side[k].s : NULL;
		names[k] = k < r->nsides ? r->side[k].name : NULL;
	}
}

static void html(struct report *r)
{
	const struct snapshot *snaps[2];
	const char *names[2];
	char title[128];
	bool split = latency_split(r);

	page_head(r);
	page_title(r);
	key_figures(r);
	facts(r);
	snprintf(title, sizeof(title), "%s latency", fn_of(r->side[0].s));
	if (split)
		hist_section(r, "latency", title, latency_split_ms, 2);
	else
		hist_section(r, "latency", title, latency_all_ms, 1);
	hist_section(r, "rounds", "What each eviction round had to free, and freed", round_ms,
		     sizeof(round_ms) / sizeof(round_ms[0]));
	timeline_section(r);
	storm_sides(r, snaps, names);
	storm_html(r->f, snaps, names, r->nsides);
	/* With the split shown, all calls together go with the rest. */
	hist_section(r, "variables", "getMaxmemoryState's other variables, and all calls",
		     vars_ms, split ? 4 : 3);
	counts(r);
	method(r);
	page_foot(r);
}

/* ------------------------------------------------------------------ */
/* The chart sheet                                                      */
/* ------------------------------------------------------------------ */

/* One row of the sheet: a chart per side (or two measures side by side when alone). */
static void sheet_hist(FILE *f, enum measure m, double x, double y, const struct side *sd,
		       unsigned lo, unsigned hi, double ymax)
{
	struct marker mk[NPCT];
	const char *why;

	y = sheet_title(f, x, y, sd->name, measure_title_of(fn_of(sd->s), m));
	if (!hist_shown(sd->s, m, &why) || !sd->s->hist[m].h.count) {
		fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"why\">Not available: ", x, y + 20);
		xml_text(f, sd->s->hist[m].h.count ? why : "no calls in this capture");
		fputs("</text>\n", f);
		return;
	}
	for (int q = 0; q < NPCT; q++)
		mk[q] = (struct marker){ pct_names[q], sd->pct[m][q] };
	svg_hist(f, (struct svg_place){ true, x, y }, &sd->s->hist[m].h, kind_of(m), lo, hi, ymax, mk, NPCT,
		 counted(m));
}

static void sheet(struct report *r)
{
	static const enum measure order[] = { M_EVICT_LATENCY_ACTIVE, M_EVICT_LATENCY_NOOP, M_EVICT_LATENCY,
					      M_MEM_TOFREE, M_FREED, M_OVERSHOOT, M_SHORTFALL, M_KEYS_PER_EVICT,
					      M_LAZYFREE_PENDING, M_MEM_USED, M_MEM_REPORTED, M_OVERHEAD };
	double width = 2 * CHART_W + SHEET_GAP + 40, y = 50;
	char *body = NULL, title[160], server[64];
	const struct snapshot *snaps[2];
	const char *names[2];
	size_t len = 0, col = 0;
	FILE *f = open_memstream(&body, &len);

	if (!f)
		fatal("out of memory drawing the chart sheet");
	/* Alone: two measures a row; before and after: one measure a row, a side a column. */
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum measure m = order[i];
		unsigned lo, hi;
		double ymax;
		const char *why;

		if (!hist_shown(r->side[0].s, m, &why) && (r->nsides == 1 || !hist_shown(r->side[1].s, m, &why)))
			continue;
		shared_axis(r, m, &lo, &hi, &ymax);
		for (size_t k = 0; k < r->nsides; k++) {
			sheet_hist(f, m, SHEET_X(col), y, &r->side[k], lo, hi, ymax);
			if (++col == 2) {
				col = 0;
				y += SHEET_TITLE + HIST_H + 24;
			}
		}
	}
	if (col)
		y += SHEET_TITLE + HIST_H + 24;
	col = 0;
	for (int tl = 0; tl < TL_N; tl++) {
		double clipped, ymax = timeline_max(r, (enum timeline)tl, &clipped);

		for (size_t k = 0; k < r->nsides; k++) {
			const struct side *sd = &r->side[k];
			double x = SHEET_X(col), yy = sheet_title(f, x, y, sd->name, timelines[tl].title);
			const char *why = timeline_why(sd, (enum timeline)tl);
			struct line l[2];
			size_t n = timeline_lines(sd, (enum timeline)tl, l);

			if (why) {
				fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"why\">Not available: ", x, yy + 20);
				xml_text(f, why);
				fputs("</text>\n", f);
			} else {
				svg_timeline(f, (struct svg_place){ true, x, yy }, sd->t, sd->n, sd->tmax, l, n,
					     timelines[tl].kind, ymax);
			}
			if (++col == 2) {
				col = 0;
				y += SHEET_TITLE + LINE_H + 24;
			}
		}
	}
	if (col)
		y += SHEET_TITLE + LINE_H + 24;
	storm_sides(r, snaps, names);
	y = storm_sheet(f, snaps, names, r->nsides, y);
	if (fclose(f))
		fatal("out of memory drawing the chart sheet");

	server_words(r->side[0].s, server, sizeof(server));
	fprintf(r->f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n"
		"<style>\n%s.st{font:600 14px system-ui,\"DejaVu Sans\",Arial,sans-serif;fill:#222}\n"
		".why{font:italic 12px system-ui,\"DejaVu Sans\",Arial,sans-serif;fill:#555}\n"
		".t{font:12px system-ui,\"DejaVu Sans\",Arial,sans-serif;fill:#333}.t.behind{fill:#9b2c2c}\n"
		".h{font:600 18px system-ui,\"DejaVu Sans\",Arial,sans-serif;fill:#111}\n%s</style>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
		width, y + 10, width, y + 10, svg_css, heat_css);
	snprintf(title, sizeof(title), "Redis eviction profile: %s, PID %lld%s", server, (long long)r->side[0].s->pid,
		 r->nsides > 1 ? " (before) and after" : "");
	fputs("<text x=\"20\" y=\"32\" class=\"h\">", r->f);
	xml_text(r->f, title);
	fputs("</text>\n", r->f);
	fwrite(body, 1, len, r->f);
	fputs("</svg>\n", r->f);
	free(body);
}

void report_write(FILE *f, enum report_output out, const struct snapshot *a, const struct snapshot *b)
{
	struct report r = { .f = f, .nsides = b ? 2 : 1 };

	side_init(&r.side[0], a, b ? "Before" : NULL);
	if (b)
		side_init(&r.side[1], b, "After");
	if (out == REPORT_SVG)
		sheet(&r);
	else
		html(&r);
	for (size_t i = 0; i < r.nsides; i++)
		side_fini(&r.side[i]);
}
