// SPDX-License-Identifier: BSD-3-Clause
/*
 * openmetrics.c: OpenMetrics text of measures.h's histograms and series.h's
 * counters and gauges, plus two info families: the target, and why a
 * measure is unavailable (absent, never reported as zero).
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "measures.h"
#include "openmetrics.h"
#include "series.h"
#include "util.h"

/* Family numbers: the two info families, the histograms, then series_table. */
enum { FAM_TARGET, FAM_UNAVAILABLE, FAM_HISTS, FAM_SERIES = FAM_HISTS + M_NHISTS };

size_t om_families(void)
{
	return FAM_SERIES + series_count;
}

void om_le(unsigned slot, bool ns_in_seconds, char *buf, size_t len)
{
	format_decimal(hist_slot_max(slot), ns_in_seconds ? 1000000000ULL : 1, buf, len);
}

/* A label value or HELP text with OpenMetrics escapes (\\, \", \n). */
static void escaped(FILE *f, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quote)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

static void label(FILE *f, const char *name, const char *value)
{
	fprintf(f, ",%s=\"", name);
	escaped(f, value, true);
	fputc('"', f);
}

/* "{pid=...,build_id=...,redis_version=..." with the brace left open for more labels. */
static void labels_open(FILE *f, const struct session *s)
{
	fprintf(f, "{pid=\"%d\"", (int)s->t->pid);
	label(f, "build_id", s->t->img->build_id);
	if (s->t->version[0])
		label(f, "redis_version", s->t->version);
}

static void stamp(FILE *f, const struct sample *cum, bool stamped)
{
	char ts[32];

	if (stamped) {
		format_decimal(cum->end_real_ns / 1000000ULL, 1000, ts, sizeof(ts));
		fprintf(f, " %s", ts);
	}
	fputc('\n', f);
}

static void meta(FILE *f, const char *name, const char *type, const char *unit, const char *help)
{
	fprintf(f, "# TYPE %s %s\n", name, type);
	if (unit && *unit)
		fprintf(f, "# UNIT %s %s\n", name, unit);
	fprintf(f, "# HELP %s ", name);
	escaped(f, help, false);
	fputc('\n', f);
}

/* ------------------------------------------------------------------ */
/* Histograms                                                           */
/* ------------------------------------------------------------------ */

static const char *hist_unit(enum measure m)
{
	if (measure_is_latency(m))
		return "seconds";
	return strcmp(measure_label(m, EV_NSEC), "bytes") ? "" : "bytes";
}

/*
 * The buckets a histogram always has, whatever it holds, so that each le
 * series exists from the first scrape and rate() over any window adds up:
 * latency from 255 ns (a uprobe-timed call never takes less) to 68.7 s,
 * bytes from 1 B to 4 TiB, keys from 1 to 2 million. Values above the top
 * bucket are counted in +Inf only.
 */
static void hist_buckets(enum measure m, unsigned *lo, unsigned *hi)
{
	if (measure_is_latency(m)) {
		*lo = 7;
		*hi = 35;
	} else {
		*lo = 0;
		*hi = measure_is_bytes(m) ? 41 : 20;
	}
}

static void hist_family(enum measure m, char *buf, size_t len)
{
	const char *unit = hist_unit(m);

	snprintf(buf, len, "redprof_%s%s%s", measure_name(m), *unit ? "_" : "", unit);
}

static void hist_meta(FILE *f, const struct session *s, enum measure m)
{
	char name[96], help[256];

	hist_family(m, name, sizeof(name));
	snprintf(help, sizeof(help), "%s: log2 buckets, each bucket's le its largest value", measure_title(s, m));
	meta(f, name, "histogram", hist_unit(m), help);
}

static void hist_points(FILE *f, const struct session *s, enum measure m, const struct sample *cum, bool stamped)
{
	bool seconds = measure_is_latency(m);
	uint64_t below = 0, count = 0;
	unsigned lo, hi;
	char name[96], num[40];
	struct hist h;

	if (measure_unavailable(s, cum, m))
		return;
	/* Latency always in ns buckets, the finest the kernel keeps, whatever --units says. */
	measure_hist(cum, m, EV_NSEC, &h);
	hist_family(m, name, sizeof(name));
	hist_buckets(m, &lo, &hi);
	for (unsigned i = 0; i < EV_SLOTS; i++)
		count += h.slots[i];
	for (unsigned i = 0; i <= hi; i++) {
		below += h.slots[i];
		if (i < lo)
			continue;
		om_le(i, seconds, num, sizeof(num));
		fprintf(f, "%s_bucket", name);
		labels_open(f, s);
		fprintf(f, ",le=\"%s\"} %" PRIu64, num, below);
		stamp(f, cum, stamped);
	}
	fprintf(f, "%s_bucket", name);
	labels_open(f, s);
	fprintf(f, ",le=\"+Inf\"} %" PRIu64, count);
	stamp(f, cum, stamped);
	format_decimal(h.sum, seconds ? 1000000000ULL : 1, num, sizeof(num));
	fprintf(f, "%s_sum", name);
	labels_open(f, s);
	fprintf(f, "} %s", num);
	stamp(f, cum, stamped);
	fprintf(f, "%s_count", name);
	labels_open(f, s);
	fprintf(f, "} %" PRIu64, count);
	stamp(f, cum, stamped);
}

/* ------------------------------------------------------------------ */
/* Counters and gauges                                                  */
/* ------------------------------------------------------------------ */

static void series_points(FILE *f, const struct session *s, const struct series *se, const struct sample *cum,
			  bool stamped)
{
	struct series_value v[SERIES_MAX_VALUES];
	size_t n = se->values(s, cum, v);

	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%s", se->metric, se->kind == SERIES_COUNTER ? "_total" : "");
		labels_open(f, s);
		if (se->label)
			label(f, se->label, v[i].label);
		if (v[i].real)
			fprintf(f, "} %.9g", v[i].d);
		else
			fprintf(f, "} %" PRIu64, v[i].u);
		stamp(f, cum, stamped);
	}
}

/* ------------------------------------------------------------------ */
/* Info families                                                        */
/* ------------------------------------------------------------------ */

static void target_points(FILE *f, const struct session *s, const struct sample *cum, bool stamped)
{
	fputs("redprof_target_info", f);
	labels_open(f, s);
	label(f, "exe", s->t->exe);
	label(f, "server", s->t->flavor);
	label(f, "evict_function", target__evict_name(s->t));
	label(f, "offsets", s->offsets_source);
	label(f, "strategy", s->strategy);
	label(f, "redprof", PACKAGE_VERSION);
	fputs("} 1", f);
	stamp(f, cum, stamped);
}

static void unavailable_points(FILE *f, const struct session *s, const struct sample *cum, bool stamped)
{
	for (enum measure m = 0; m < M_NMEASURES; m++) {
		const char *why = measure_unavailable(s, cum, m);

		if (!why)
			continue;
		fputs("redprof_unavailable_info", f);
		labels_open(f, s);
		label(f, "measure", measure_name(m));
		label(f, "reason", why);
		fputs("} 1", f);
		stamp(f, cum, stamped);
	}
}

void om_family_meta(FILE *f, const struct session *s, size_t fam)
{
	const struct series *se;

	if (fam == FAM_TARGET) {
		meta(f, "redprof_target", "info", NULL, "The Redis server redprof profiles, and how");
	} else if (fam == FAM_UNAVAILABLE) {
		meta(f, "redprof_unavailable", "info", NULL,
		     "Measures redprof cannot give for this target now, and why (they are absent, not zero)");
	} else if (fam < FAM_SERIES) {
		hist_meta(f, s, (enum measure)(fam - FAM_HISTS));
	} else {
		se = &series_table[fam - FAM_SERIES];
		if (se->metric)
			meta(f, se->metric, se->kind == SERIES_COUNTER ? "counter" : "gauge", se->unit, se->help);
	}
}

void om_family_points(FILE *f, const struct session *s, size_t fam, const struct sample *cum, bool stamped)
{
	const struct series *se;

	if (fam == FAM_TARGET) {
		target_points(f, s, cum, stamped);
	} else if (fam == FAM_UNAVAILABLE) {
		unavailable_points(f, s, cum, stamped);
	} else if (fam < FAM_SERIES) {
		hist_points(f, s, (enum measure)(fam - FAM_HISTS), cum, stamped);
	} else {
		se = &series_table[fam - FAM_SERIES];
		if (se->metric)
			series_points(f, s, se, cum, stamped);
	}
}

void om_page(FILE *f, const struct session *s, const struct sample *cum)
{
	for (size_t fam = 0; fam < om_families(); fam++) {
		om_family_meta(f, s, fam);
		om_family_points(f, s, fam, cum, false);
	}
	fputs("# EOF\n", f);
}
