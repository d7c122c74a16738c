// SPDX-License-Identifier: BSD-3-Clause
/*
 * export.c: the three file formats, each written from the capture's spool
 * one interval at a time, so a long capture never sits in memory.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "export.h"
#include "json.h"
#include "measures.h"
#include "openmetrics.h"
#include "report.h"
#include "series.h"
#include "util.h"

static const char *const format_names[EXPORT_NFORMATS] = { "json", "csv", "openmetrics" };

const char *export_format_name(enum export_format f)
{
	return format_names[f];
}

int export_format_parse(const char *s)
{
	for (int f = 0; f < EXPORT_NFORMATS; f++)
		if (!strcmp(s, format_names[f]))
			return f;
	return -1;
}

int export_format_of_path(const char *path)
{
	static const struct { const char *ext; enum export_format f; } exts[] = {
		{ ".json", EXPORT_JSON }, { ".csv", EXPORT_CSV },
		{ ".om", EXPORT_OPENMETRICS }, { ".openmetrics", EXPORT_OPENMETRICS },
	};
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return -1;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (!strcmp(dot, exts[i].ext))
			return (int)exts[i].f;
	return -1;
}

/* What the per-interval callbacks need. */
struct writer {
	FILE *f;
	const struct session *s;
	int unit;
	struct jw w;
	size_t n;		/* intervals written */
	size_t fam;		/* OpenMetrics: the family being written */
	struct sample cum;	/* OpenMetrics: the running sum */
};

/* ------------------------------------------------------------------ */
/* JSON: the snapshot object, one interval per line                     */
/* ------------------------------------------------------------------ */

static int json_interval(const struct sample *iv, void *arg)
{
	struct writer *wr = arg;

	jw_reset(&wr->w);
	json_sample(&wr->w, wr->s, iv, wr->unit, "interval");
	fputs(wr->n++ ? ",\n" : "\n", wr->f);
	fputs(wr->w.buf, wr->f);
	return 0;
}

static int write_json(struct writer *wr, const struct capture *c, const struct capture_run *run)
{
	int err;

	json_snapshot_head(&wr->w, wr->s, &run->total, run->start_real_ns, run->dropped);
	fputs(wr->w.buf, wr->f);
	fputc('[', wr->f);
	err = capture__each(c, run, json_interval, wr);
	if (err)
		return err;
	fputs("\n],\n\"total\":", wr->f);
	jw_reset(&wr->w);
	json_sample(&wr->w, wr->s, &run->total, wr->unit, "total");
	fputs(wr->w.buf, wr->f);
	/* Episodes and the heat map of the same stretch (schema 3). */
	fputs(",\n\"episodes\":", wr->f);
	jw_reset(&wr->w);
	json_episodes(&wr->w, wr->s, run->start_real_ns);
	fputs(wr->w.buf, wr->f);
	fputs(",\n\"heat_map\":", wr->f);
	jw_reset(&wr->w);
	json_heat_map(&wr->w, wr->s, run->start_real_ns);
	fputs(wr->w.buf, wr->f);
	fputs("}\n", wr->f);
	return 0;
}

/* ------------------------------------------------------------------ */
/* CSV: one row per bucket and per counter                              */
/* ------------------------------------------------------------------ */

static const char csv_header[] = "type,ts,interval_s,record,name,unit,lo,hi,value\n";

/* A field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* The first columns of a row: type, ts, interval_s, record, name, unit. */
static void csv_row(FILE *f, const char *prefix, const char *record, const char *name, const char *unit)
{
	fprintf(f, "%s,%s,", prefix, record);
	csv_field(f, name);
	fprintf(f, ",%s,", unit);
}

static void csv_series(FILE *f, const struct session *s, const struct sample *smp, const char *prefix)
{
	struct series_value v[SERIES_MAX_VALUES];

	for (size_t i = 0; i < series_count; i++) {
		const struct series *se = &series_table[i];
		size_t n = se->values(s, smp, v);

		for (size_t k = 0; k < n; k++) {
			char name[192];

			snprintf(name, sizeof(name), "%.64s%s%.95s", se->path, se->label ? "." : "", v[k].label);
			csv_row(f, prefix, se->kind == SERIES_COUNTER ? "counter" : "gauge", name, se->unit);
			if (v[k].real)
				fprintf(f, ",,%.6f\n", v[k].d);
			else
				fprintf(f, ",,%" PRIu64 "\n", v[k].u);
		}
	}
}

static void csv_hists(FILE *f, const struct session *s, const struct sample *smp, const char *prefix, int unit)
{
	for (enum measure m = 0; m < M_NHISTS; m++) {
		const char *name = measure_name(m), *u = measure_unit(m, unit);
		char num[40];
		struct hist h;

		if (measure_unavailable(s, smp, m))
			continue;
		measure_hist(smp, m, unit, &h);
		for (unsigned i = 0; i < EV_SLOTS; i++) {
			if (!h.slots[i])
				continue;
			csv_row(f, prefix, "bucket", name, u);
			fprintf(f, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", hist_slot_lo(i), hist_slot_hi(i), h.slots[i]);
		}
		format_decimal(h.sum, h.scale, num, sizeof(num));
		csv_row(f, prefix, "sum", name, u);
		fprintf(f, ",,%s\n", num);
		if (!h.count)
			continue;
		format_decimal(h.min, h.scale, num, sizeof(num));
		csv_row(f, prefix, "min", name, u);
		fprintf(f, ",,%s\n", num);
		format_decimal(h.max, h.scale, num, sizeof(num));
		csv_row(f, prefix, "max", name, u);
		fprintf(f, ",,%s\n", num);
	}
}

static void csv_sample(struct writer *wr, const struct sample *smp, const char *type)
{
	char prefix[96], ts[40];

	format_iso8601(smp->end_real_ns, ts, sizeof(ts));
	/* interval_s in JSON's own spelling of it. */
	jw_reset(&wr->w);
	jw_double(&wr->w, (double)smp->ns / 1e9, 3);
	snprintf(prefix, sizeof(prefix), "%s,%s,%s", type, ts, wr->w.buf);
	csv_series(wr->f, wr->s, smp, prefix);
	csv_hists(wr->f, wr->s, smp, prefix, wr->unit);
}

static int csv_interval(const struct sample *iv, void *arg)
{
	csv_sample(arg, iv, "interval");
	return 0;
}

static int write_csv(struct writer *wr, const struct capture *c, const struct capture_run *run)
{
	int err;

	fputs(csv_header, wr->f);
	err = capture__each(c, run, csv_interval, wr);
	if (!err)
		csv_sample(wr, &run->total, "total");
	return err;
}

/* ------------------------------------------------------------------ */
/* OpenMetrics: each family's points over the capture, with timestamps  */
/* ------------------------------------------------------------------ */

static int om_interval(const struct sample *iv, void *arg)
{
	struct writer *wr = arg;

	sample_add(&wr->cum, iv);
	om_family_points(wr->f, wr->s, wr->fam, &wr->cum, true);
	return 0;
}

/* A family's points must be together, so the spool is read once per family. */
static int write_openmetrics(struct writer *wr, const struct capture *c, const struct capture_run *run)
{
	int err = 0;

	for (wr->fam = 0; wr->fam < om_families() && !err; wr->fam++) {
		om_family_meta(wr->f, wr->s, wr->fam);
		sample_init(&wr->cum);
		err = capture__each(c, run, om_interval, wr);
	}
	fputs("# EOF\n", wr->f);
	return err;
}

int export_write(FILE *f, enum export_format fmt, const struct session *s, const struct capture *c,
		 const struct capture_run *run, int unit)
{
	struct writer wr = { .f = f, .s = s, .unit = unit };
	int err;

	jw_init(&wr.w);
	switch (fmt) {
	case EXPORT_JSON: err = write_json(&wr, c, run); break;
	case EXPORT_CSV: err = write_csv(&wr, c, run); break;
	default: err = write_openmetrics(&wr, c, run); break;
	}
	jw_free(&wr.w);
	return err;
}
