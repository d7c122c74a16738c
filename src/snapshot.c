// SPDX-License-Identifier: BSD-3-Clause
/*
 * snapshot.c: reading snapshot files with jansson. The writer is json.c;
 * reading is another job (a parser with line and column in its errors),
 * done by a maintained library rather than by hand.
 *
 * A file holds one snapshot object, or JSON Lines: interval objects and a
 * last "total" one. Both are parsed value by value from one buffer, so a
 * JSON Lines file needs no line splitting.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "snapshot.h"
#include "util.h"

struct reader {
	struct snapshot *s;
	char *err;
	size_t errlen;
	double start;		/* the capture's start, seconds since the epoch */
};

static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, r->errlen, "%s: ", r->s->path);
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void copy_str(json_t *o, const char *key, char *dst, size_t len)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (v)
		snprintf(dst, len, "%s", v);
}

/* A number as a count; the saturated top bucket's 2^64 - 1 stays that. */
static uint64_t as_u64(double d)
{
	if (!(d > 0))
		return 0;
	return d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)llround(d);
}

/* Numbers are read as doubles (see snapshot__read): exact for counts below 2^53. */
static uint64_t get_u64(json_t *o, const char *key, bool *present)
{
	json_t *v = json_object_get(o, key);

	if (present)
		*present = json_is_number(v);
	return as_u64(json_number_value(v));
}

/* "2026-11-23T10:00:01.250Z" as seconds since the epoch; NAN when malformed. */
static double parse_time(const char *s)
{
	struct tm tm = { 0 };
	const char *rest;
	double frac = 0;

	if (!s || !(rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return NAN;
	if (*rest == '.')
		frac = strtod(rest, NULL);
	return (double)timegm(&tm) + frac;
}

/* ------------------------------------------------------------------ */
/* Histograms                                                           */
/* ------------------------------------------------------------------ */

static uint64_t unit_scale_of(const char *unit)
{
	int u = unit_parse(unit);

	return u < 0 ? 1 : unit_scale(u);
}

/* A number of the histogram's unit in base units (exact decimals of us and ms). */
static uint64_t base_units(json_t *v, uint64_t scale)
{
	return as_u64(json_number_value(v) * (double)scale);
}

static int read_hist(struct reader *r, json_t *o, const char *name, struct snap_hist *out)
{
	json_t *buckets = json_object_get(o, "buckets"), *b;
	size_t i;

	copy_str(o, "unit", out->unit, sizeof(out->unit));
	hist_init(&out->h, unit_scale_of(out->unit));
	if (!json_is_array(buckets))
		return fail(r, "histogram %s has no buckets array", name);
	json_array_foreach(buckets, i, b) {
		uint64_t lo = get_u64(b, "lo", NULL), hi = get_u64(b, "hi", NULL);
		unsigned slot = hist_slot(lo);

		if (hist_slot_lo(slot) != lo || hist_slot_hi(slot) != hi)
			return fail(r, "histogram %s: bucket [%llu, %llu) is not a log2 bucket", name,
				    (unsigned long long)lo, (unsigned long long)hi);
		out->h.slots[slot] += get_u64(b, "count", NULL);
	}
	out->h.count = get_u64(o, "count", NULL);
	out->h.sum = base_units(json_object_get(o, "sum"), out->h.scale);
	if (out->h.count) {
		out->h.min = base_units(json_object_get(o, "min"), out->h.scale);
		out->h.max = base_units(json_object_get(o, "max"), out->h.scale);
	}
	out->present = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Samples: intervals and the total                                     */
/* ------------------------------------------------------------------ */

static int read_counts(struct reader *r, json_t *o, struct snap_counts *c)
{
	json_t *len = json_object_get(o, "interval_s");
	bool has_used;
	double end;

	if (!json_is_number(len))
		return fail(r, "an object of type \"%s\" has no interval_s",
			    json_string_value(json_object_get(o, "type")));
	c->len = json_number_value(len);
	end = parse_time(json_string_value(json_object_get(o, "ts")));
	if (isnan(end))
		return fail(r, "an object has no ts of the form 2026-11-23T10:00:01.250Z");
	if (isnan(r->start))
		r->start = end - c->len;
	c->end = end - r->start;
	c->commands = get_u64(o, "commands", NULL);
	c->calls = get_u64(o, "calls", NULL);
	c->evicting_calls = get_u64(o, "evicting_calls", &c->has_evicting);
	c->keys_evicted = get_u64(o, "keys_evicted", &c->has_keys);
	c->share = json_number_value(json_object_get(o, "evict_time_share"));
	c->used_memory = (int64_t)get_u64(o, "used_memory", &has_used);
	if (!has_used)
		c->used_memory = -1;
	return 0;
}

static int read_interval(struct reader *r, json_t *o)
{
	struct snapshot *s = r->s;
	json_t *tofree = json_object_get(json_object_get(o, "histograms"), "mem_tofree");
	struct snap_point *p;
	struct snap_hist h;
	int err;

	if (!(s->npoints & (s->npoints + 1)))
		s->points = xreallocarray(s->points, 2 * s->npoints + 1, sizeof(*s->points));
	p = &s->points[s->npoints];
	memset(p, 0, sizeof(*p));
	err = read_counts(r, o, &p->c);
	if (!err && tofree) {
		err = read_hist(r, tofree, "mem_tofree", &h);
		p->has_tofree = true;
		p->tofree = h.h;
	}
	if (!err)
		s->npoints++;
	return err;
}

static void read_hits(struct snapshot *s, json_t *o)
{
	json_t *by_class = json_object_get(json_object_get(o, "probe_hits"), "by_class");

	s->hits_emulated = get_u64(by_class, "emulated", NULL);
	s->hits_single_stepped = get_u64(by_class, "single_stepped", NULL);
	s->hits_return = get_u64(by_class, "return", NULL);
}

static int read_total(struct reader *r, json_t *o)
{
	struct snapshot *s = r->s;
	json_t *hists = json_object_get(o, "histograms"), *why = json_object_get(o, "unavailable"), *v;
	const char *key;
	int err;

	err = read_counts(r, o, &s->total);
	if (err)
		return err;
	s->total.end = s->total.len;
	read_hits(s, o);
	if (!s->pid) {
		s->pid = (int64_t)get_u64(o, "pid", NULL);
		copy_str(o, "build_id", s->build_id, sizeof(s->build_id));
		copy_str(o, "redis_version", s->version, sizeof(s->version));
	}
	json_object_foreach(hists, key, v) {
		int m = measure_parse(key);

		if (m < 0 || m >= M_NHISTS)
			continue;	/* a measure of a later redprof */
		err = read_hist(r, v, key, &s->hist[m]);
		if (err)
			return err;
	}
	json_object_foreach(why, key, v) {
		int m = measure_parse(key);

		if (m >= 0 && json_is_string(v) && !s->why[m])
			s->why[m] = xstrdup(json_string_value(v));
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Storm episodes and the heat map (schema 3)                           */
/* ------------------------------------------------------------------ */

/* A number, or NAN when absent or null. */
static double get_real(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void read_quantiles(json_t *o, double out[4])
{
	static const char *const keys[4] = { "p50", "p90", "p99", "max" };

	for (int i = 0; i < 4; i++)
		out[i] = get_real(o, keys[i]);
}

static int read_episode(struct reader *r, json_t *o)
{
	struct snapshot *s = r->s;
	json_t *cycle = json_object_get(o, "cycle"), *verdict = json_object_get(o, "verdict");
	json_t *returns = json_object_get(o, "returns"), *cmds = json_object_get(o, "commands_per_s");
	struct snap_episode *ep;
	const char *v;
	double start = parse_time(json_string_value(json_object_get(o, "start")));
	double end = parse_time(json_string_value(json_object_get(o, "end")));

	if (isnan(start) || isnan(end))
		return fail(r, "an episode has no start or end of the form 2026-11-23T10:00:01.250Z");
	s->episodes = xreallocarray(s->episodes, s->nepisodes + 1, sizeof(*s->episodes));
	ep = &s->episodes[s->nepisodes++];
	memset(ep, 0, sizeof(*ep));
	ep->id = (unsigned)get_u64(o, "id", NULL);
	ep->ongoing = json_is_true(json_object_get(o, "ongoing"));
	copy_str(o, "start", ep->start_ts, sizeof(ep->start_ts));
	if (isnan(r->start))
		r->start = start;
	ep->start = start - r->start;
	ep->end = end - r->start;
	ep->duration = get_real(o, "duration_s");
	ep->evict_time = get_real(o, "evict_time_s");
	ep->share = get_real(o, "evict_time_share");
	ep->evicting_calls = get_u64(o, "evicting_calls", NULL);
	ep->keys = get_u64(o, "keys_evicted", &ep->has_keys);
	ep->running = get_u64(returns, "EVICT_RUNNING", NULL);
	ep->refused = get_u64(returns, "EVICT_FAIL", NULL) + get_u64(returns, "C_ERR", NULL);
	ep->cmds[0] = get_real(cmds, "before");
	ep->cmds[1] = get_real(cmds, "during");
	ep->cmds[2] = get_real(cmds, "after");
	read_quantiles(json_object_get(o, "mem_tofree"), ep->tofree);
	read_quantiles(json_object_get(o, "round_latency_ns"), ep->latency_ns);
	ep->growth = get_real(cycle, "growth_s");
	ep->growth_before_capture = json_is_true(json_object_get(cycle, "growth_before_capture"));
	ep->reclaim = get_real(cycle, "reclaim_s");
	ep->period = get_real(cycle, "period_s");
	copy_str(verdict, "pace", ep->pace, sizeof(ep->pace));
	v = json_string_value(json_object_get(verdict, "text"));
	ep->verdict = xstrdup(v ? v : "not in this file");
	v = json_string_value(json_object_get(json_object_get(verdict, "unavailable"), "backlog_feedback"));
	ep->backlog_why = v ? xstrdup(v) : NULL;
	return 0;
}

/* A column's NAME: an array of HEAT_SLICES_PER_S counts. */
static int read_slices(struct reader *r, json_t *col, const char *name, uint32_t out[HEAT_SLICES_PER_S])
{
	json_t *a = json_object_get(col, name), *v;
	size_t i;

	if (json_array_size(a) != HEAT_SLICES_PER_S)
		return fail(r, "a heat-map column's %s is not %u numbers", name, HEAT_SLICES_PER_S);
	json_array_foreach(a, i, v) {
		uint64_t n = as_u64(json_number_value(v));

		out[i] = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	}
	return 0;
}

static int read_heat(struct reader *r, json_t *o)
{
	struct snap_heat *h = &r->s->heat;
	json_t *cols = json_object_get(o, "columns"), *c;
	size_t i;
	int err;

	if (!json_is_object(o))
		return 0;
	if (get_real(o, "slice_s") != (double)EV_SLICE_NS / 1e9)
		return fail(r, "its heat map's slices are not %g s: a later redprof's?", (double)EV_SLICE_NS / 1e9);
	h->present = true;
	h->lost = get_u64(o, "slices_lost", NULL);
	h->capture_start = r->start;
	h->col = xcalloc(json_array_size(cols) + 1, sizeof(*h->col));
	json_array_foreach(cols, i, c) {
		struct heat_column *col = &h->col[h->n];

		col->second = get_u64(c, "second", NULL);
		err = read_slices(r, c, "busy_ns", col->busy_ns);
		if (!err)
			err = read_slices(r, c, "calls", col->calls);
		if (err)
			return err;
		if (h->n && col->second <= h->col[h->n - 1].second)
			return fail(r, "its heat map's columns are not in order of time");
		h->n++;
	}
	return 0;
}

static int read_storm(struct reader *r, json_t *o)
{
	json_t *eps = json_object_get(o, "episodes"), *ep;
	const char *why = json_string_value(json_object_get(json_object_get(o, "unavailable"), "episodes"));
	size_t i;
	int err;

	if (why)
		r->s->storm_why = xstrdup(why);
	else if (!json_is_array(eps))
		r->s->storm_why = xstrdup("this file is older than episodes (snapshot schema 3)");
	json_array_foreach(eps, i, ep) {
		err = read_episode(r, ep);
		if (err)
			return err;
	}
	return read_heat(r, json_object_get(o, "heat_map"));
}

/* ------------------------------------------------------------------ */
/* The snapshot header                                                  */
/* ------------------------------------------------------------------ */

static void read_header(struct reader *r, json_t *o)
{
	struct snapshot *s = r->s;
	json_t *t = json_object_get(o, "target"), *offs, *notes, *n;
	size_t i;

	s->schema = (int)get_u64(o, "schema", NULL);
	copy_str(o, "redprof", s->redprof, sizeof(s->redprof));
	copy_str(o, "start", s->start, sizeof(s->start));
	copy_str(o, "end", s->end, sizeof(s->end));
	s->pid = (int64_t)get_u64(t, "pid", NULL);
	copy_str(t, "exe", s->exe, sizeof(s->exe));
	copy_str(t, "build_id", s->build_id, sizeof(s->build_id));
	copy_str(t, "redis_version", s->version, sizeof(s->version));
	copy_str(t, "server", s->server, sizeof(s->server));
	copy_str(t, "evict_function", s->evict_function, sizeof(s->evict_function));
	if (json_object_get(t, "maxmemory"))
		s->maxmemory = (int64_t)get_u64(t, "maxmemory", NULL);
	offs = json_object_get(t, "offsets");
	copy_str(offs, "source", s->offsets, sizeof(s->offsets));
	copy_str(offs, "strategy", s->strategy, sizeof(s->strategy));
	copy_str(json_object_get(o, "probe_plan"), "mode", s->plan_mode, sizeof(s->plan_mode));
	copy_str(t, "maxmemory_policy", s->policy, sizeof(s->policy));
	copy_str(json_object_get(o, "unavailable"), "maxmemory_policy", s->policy_why, sizeof(s->policy_why));
	s->dropped = get_u64(o, "intervals_dropped", NULL);
	notes = json_object_get(o, "notes");
	json_array_foreach(notes, i, n) {
		if (!json_is_string(n))
			continue;
		s->notes = xreallocarray(s->notes, s->nnotes + 1, sizeof(*s->notes));
		s->notes[s->nnotes++] = xstrdup(json_string_value(n));
	}
	r->start = parse_time(s->start);
}

static int read_snapshot(struct reader *r, json_t *o)
{
	json_t *intervals = json_object_get(o, "intervals"), *iv, *total = json_object_get(o, "total");
	size_t i;
	int err;

	read_header(r, o);
	if (!json_is_array(intervals) || !json_is_object(total))
		return fail(r, "a snapshot needs an intervals array and a total object");
	json_array_foreach(intervals, i, iv) {
		err = read_interval(r, iv);
		if (err)
			return err;
	}
	err = read_total(r, total);
	return err ? err : read_storm(r, o);
}

/* The line of byte OFF in BUF, for messages about a value that starts there. */
static int line_at(const char *buf, size_t off)
{
	int line = 0;

	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

/* One value of the file: the snapshot object, or one of the JSON Lines. */
static int read_value(struct reader *r, json_t *o, bool *have_total)
{
	const char *type = json_string_value(json_object_get(o, "type"));

	if (!json_is_object(o))
		return fail(r, "holds %s, not a redprof snapshot object", json_is_array(o) ? "an array" : "a value");
	if (*have_total)
		return fail(r, "goes on after the capture's total");
	if (json_object_get(o, "schema")) {
		if (r->s->lines)
			return fail(r, "mixes a snapshot object with JSON Lines");
		*have_total = true;
		return read_snapshot(r, o);
	}
	r->s->lines = true;
	if (type && !strcmp(type, "interval"))
		return read_interval(r, o);
	if (type && !strcmp(type, "episode"))
		return read_episode(r, o);
	if (type && !strcmp(type, "total")) {
		*have_total = true;
		return read_total(r, o);
	}
	return fail(r, "is neither a redprof snapshot (no \"schema\") nor redprof --json lines");
}

/* Values one after the other: a snapshot object, or JSON Lines. */
static int read_values(struct reader *r, const char *buf, size_t len)
{
	bool have_total = false;
	size_t off = 0;
	int err = 0;

	while (!err) {
		json_error_t je;
		json_t *o;

		while (off < len && strchr(" \t\r\n", buf[off]))
			off++;
		if (off == len)
			break;
		/* As doubles: jansson's integers are signed, and a saturated bucket bound is 2^64 - 1. */
		o = json_loadb(buf + off, len - off, JSON_DISABLE_EOF_CHECK | JSON_DECODE_INT_AS_REAL, &je);
		if (!o)
			return fail(r, "%d:%d: %s", line_at(buf, off) + je.line, je.column, je.text);
		off += (size_t)je.position;
		err = read_value(r, o, &have_total);
		json_decref(o);
	}
	if (!err && !have_total)
		err = fail(r, "has no total: a capture cut short? (JSON Lines end with a \"total\" object)");
	return err;
}

/* The whole of PATH in memory. */
static int slurp(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n;
	int err = 0;

	if (!f)
		return -errno;
	*buf = xmalloc(cap);
	*len = 0;
	while ((n = fread(*buf + *len, 1, cap - *len, f)) > 0) {
		*len += n;
		if (*len == cap)
			*buf = xreallocarray(*buf, cap *= 2, 1);
	}
	if (ferror(f))
		err = -EIO;
	fclose(f);
	return err;
}

int snapshot__read(const char *path, struct snapshot **out, char *err, size_t errlen)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));
	struct reader r = { .s = s, .err = err, .errlen = errlen, .start = NAN };
	char *buf = NULL;
	size_t len = 0;
	int e;

	snprintf(s->path, sizeof(s->path), "%s", path);
	s->maxmemory = -1;
	e = slurp(path, &buf, &len);
	if (e)
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-e));
	else
		e = read_values(&r, buf, len);
	free(buf);
	if (e) {
		snapshot__free(s);
		return e;
	}
	*out = s;
	return 0;
}

void snapshot__free(struct snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nnotes; i++)
		free(s->notes[i]);
	free(s->notes);
	for (int m = 0; m < M_NMEASURES; m++)
		free(s->why[m]);
	free(s->points);
	for (size_t i = 0; i < s->nepisodes; i++) {
		free(s->episodes[i].verdict);
		free(s->episodes[i].backlog_why);
	}
	free(s->episodes);
	free(s->heat.col);
	free(s->storm_why);
	free(s);
}
