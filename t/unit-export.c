// SPDX-License-Identifier: BSD-3-Clause
/*
 * unit-export.c: the export formats without a live target: the mapping of
 * redprof's [lo, hi) log2 buckets to Prometheus's inclusive le (a value on
 * a power of two must land in the same bucket on both sides), quantiles
 * as Prometheus computes them, the spool's round trip, and the JSON, CSV
 * and OpenMetrics writers over a capture of a few intervals.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "capture.h"
#include "export.h"
#include "hist.h"
#include "openmetrics.h"
#include "sample.h"
#include "session.h"
#include "spool.h"
#include "tap.h"
#include "util.h"

#define BUILD_ID "a50d6825e71f1473372299161f75fe50e80452de"
#define LABELS "{pid=\"4242\",build_id=\"" BUILD_ID "\",redis_version=\"7.0.15\""

/* A session as the writers see it: the target's facts and a plan that gives every measure, no probes. */
static struct elf_image img = { .build_id = BUILD_ID };
static struct target tgt = { .pid = 4242, .img = &img, .flavor = "redis", .version = "7.0.15",
			     .exe = "/usr/bin/redis-server" };
static struct session sess;

static void session_init(void)
{
	static const char *const names[] = { "performEvictions", "performEvictions (return)", "performEvictions+222" };
	static const int kinds[] = { EV_SITE_ENTRY, EV_SITE_RETURN, EV_SITE_VALUES };

	sess.t = &tgt;
	for (int i = 0; i < 3; i++) {
		snprintf(sess.plan.site[i].name, sizeof(sess.plan.site[i].name), "%s", names[i]);
		sess.plan.site[i].spec.kind = (__u32)kinds[i];
		sess.plan.site[i].cls = i == 1 ? SITE_RETURN : SITE_EMULATED;
	}
	sess.plan.site[2].spec.flags = EV_SITE_SLOWPATH;
	sess.plan.site[2].spec.vars = 0xf;
	sess.plan.n = 3;
	sess.plan.values = sess.plan.slowpath = sess.plan.keys = true;
	sess.plan.var_mask = 0xf;
	sess.commands_from_memory = true;
}

static void lat_add(struct lat_hist *l, uint64_t ns)
{
	for (int u = 0; u < EV_NUNITS; u++)
		l->slots[u][hist_slot(ns / unit_scale(u))]++;
	l->count++;
	l->sum_ns += ns;
	l->min_ns = ns < l->min_ns ? ns : l->min_ns;
	l->max_ns = ns > l->max_ns ? ns : l->max_ns;
}

/* An interval ending at END_S in which each value of TOFREE was one evicting call taking LAT_NS. */
static void interval(struct sample *s, uint64_t end_s, const uint64_t *tofree, size_t n, uint64_t lat_ns)
{
	sample_init(s);
	s->end_real_ns = end_s * 1000000000ULL;
	s->ns = 1000000000ULL;
	s->calls = s->commands = s->evicting_calls = s->keys_evicted = n;
	s->returns[EV_RET_0] = n;
	s->maxmemory = 20 << 20;
	s->used_memory = (20 << 20) + 100;
	s->hits[0] = s->hits[1] = s->hits[2] = n;
	for (size_t i = 0; i < n; i++) {
		for (int v = 0; v < EV_NVARS; v++)
			hist_add(&s->var[v], tofree[i]);
		hist_add(&s->keys_per_evict, 1);
		lat_add(&s->lat[EV_ACTIVE], lat_ns + i);
	}
	lat_merge(&s->lat_all, &s->lat[EV_NOOP], &s->lat[EV_ACTIVE]);
}

static char *render_page(const struct sample *cum)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	om_page(f, &sess, cum);
	fclose(f);
	return buf;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* ------------------------------------------------------------------ */

static void test_edges(void)
{
	static const uint64_t values[] = { 0, 1, 2, 3, 4, 1023, 1024, 1025, 2047, 2048, 1ULL << 20, (1ULL << 20) + 1,
					   1ULL << 40, 1ULL << 63, UINT64_MAX };
	char le[40];
	int bad = 0;

	/* Prometheus counts v in the first bucket whose le >= v: that must be the bucket redprof put it in. */
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		uint64_t v = values[i];
		unsigned slot = hist_slot(v);

		if (v > hist_slot_max(slot) || (slot && hist_slot_max(slot - 1) >= v))
			bad++;
	}
	is_u64(bad, 0, "every value, powers of two included, is in the first bucket whose le is >= it");
	is_u64(hist_slot(1024), 10, "1024 is in redprof's bucket [1024, 2048)");
	om_le(hist_slot(1024), false, le, sizeof(le));
	is_str(le, "2047", "... whose le is 2047: 1024 <= le, so Prometheus counts it there too");
	om_le(hist_slot(1024) - 1, false, le, sizeof(le));
	is_str(le, "1023", "the bucket below ends at le 1023, which 1024 is not under");
	om_le(hist_slot(1024), true, le, sizeof(le));
	is_str(le, "0.000002047", "a latency bucket's le is its largest ns value in seconds, exactly");
	om_le(0, false, le, sizeof(le));
	is_str(le, "1", "the first bucket [0, 2) has le 1");
	om_le(63, false, le, sizeof(le));
	is_str(le, "18446744073709551615", "the top bucket's le is the largest 64-bit value");
}

static void test_page_power_of_two(void)
{
	static const uint64_t tofree[] = { 1023, 1024 };
	struct sample s;
	char *page;

	interval(&s, 1800000000, tofree, 2, 1023);
	page = render_page(&s);
	ok(has_line(page, "redprof_mem_tofree_bytes_bucket" LABELS ",le=\"1023\"} 1"),
	   "1023 bytes count under le 1023");
	ok(has_line(page, "redprof_mem_tofree_bytes_bucket" LABELS ",le=\"2047\"} 2"),
	   "1024 bytes, on a power of two, count under le 2047 and not under 1023");
	ok(!strstr(page, "le=\"1024\""), "no bucket claims le 1024, which would hold values it does not (ebpf_exporter's bug)");
	ok(has_line(page, "redprof_mem_tofree_bytes_bucket" LABELS ",le=\"4398046511103\"} 2") &&
	   has_line(page, "redprof_evict_latency_seconds_bucket" LABELS ",le=\"0.000000255\"} 0") &&
	   has_line(page, "redprof_evict_latency_seconds_bucket" LABELS ",le=\"68.719476735\"} 2"),
	   "each kind of histogram has a fixed set of buckets (bytes up to 4 TiB, latency 255 ns to 68.7 s)");
	ok(has_line(page, "redprof_mem_tofree_bytes_bucket" LABELS ",le=\"+Inf\"} 2"), "the +Inf bucket holds the count");
	ok(has_line(page, "redprof_mem_tofree_bytes_sum" LABELS "} 2047"), "_sum is the sum of the values");
	ok(has_line(page, "redprof_mem_tofree_bytes_count" LABELS "} 2"), "_count is the count");
	ok(has_line(page, "redprof_evict_latency_active_seconds_bucket" LABELS ",le=\"0.000001023\"} 1") &&
	   has_line(page, "redprof_evict_latency_active_seconds_bucket" LABELS ",le=\"0.000002047\"} 2"),
	   "latency of 1023 and 1024 ns: one under le 1023 ns, both under 2047 ns");
	ok(has_line(page, "redprof_commands_total" LABELS "} 2"), "counters are _total samples");
	ok(has_line(page, "redprof_returns_total" LABELS ",value=\"EVICT_OK\"} 2"), "labelled counters carry their label");
	ok(has_line(page, "# TYPE redprof_mem_tofree_bytes histogram") &&
	   has_line(page, "# UNIT redprof_mem_tofree_bytes bytes"), "histograms have TYPE and UNIT");
	ok(strlen(page) > 6 && !strcmp(page + strlen(page) - 6, "# EOF\n"), "the page ends with # EOF");
	free(page);

	sess.plan.var_mask = 0;
	page = render_page(&s);
	ok(!strstr(page, "redprof_mem_tofree_bytes_bucket") &&
	   strstr(page, "redprof_unavailable_info" LABELS ",measure=\"mem_tofree\",reason=\""),
	   "an unavailable histogram is absent, and the reason is given instead");
	sess.plan.var_mask = 0xf;
	free(page);
}

static void test_quantile(void)
{
	struct hist h;

	hist_init(&h, 1);
	ok(isnan(hist_quantile(&h, 0.5)), "an empty histogram has no quantile");
	h.slots[9] = 10;	/* [512, 1024) */
	h.slots[10] = 30;	/* [1024, 2048) */
	h.count = 40;
	ok(fabs(hist_quantile(&h, 0.5) - (1023 + 1024.0 * 10 / 30)) < 1e-9,
	   "p50: rank 20 is in [1024, 2048), interpolated between le 1023 and 2047, as histogram_quantile()");
	ok(fabs(hist_quantile(&h, 1) - 2047) < 1e-9, "p100 is the top bucket's le");
	ok(fabs(hist_quantile(&h, 0.25) - 1023) < 1e-9, "a rank on a bucket's edge is that bucket's le");
	hist_init(&h, 1000);
	h.slots[1] = 4;		/* [2, 4) us: 2000 to 3999 ns */
	h.count = 4;
	ok(fabs(hist_quantile(&h, 0.5) - 2999) < 1e-9, "microsecond buckets interpolate between their ns edges");
}

static void test_spool(void)
{
	char dir[] = "/tmp/redprof-unit-XXXXXX";
	struct spool *sp;
	struct spool_reader r;
	struct spool_pos mid = { 0 };
	struct sample *in = xcalloc(500, sizeof(*in)), out;
	uint8_t ones[4096], back[4096];
	size_t bad = 0, n = 0;
	struct dirent *d;
	DIR *dd;

	if (!mkdtemp(dir)) {
		ok(0, "a temporary directory for the spool");
		return;
	}
	is_u64(spool__open("/nonexistent/dir", 8, &sp), -ENOENT, "a spool in a missing directory is -ENOENT");
	ok(!spool__open(dir, sizeof(struct sample), &sp), "a spool opens in a writable directory");
	for (int i = 0; i < 500; i++) {
		uint64_t tofree[3] = { 100u + (unsigned)i, 5000, 1u << (i % 30) };

		interval(&in[i], 1800000000 + (uint64_t)i, tofree, (size_t)(i % 4), 1000 + (uint64_t)i);
		if (i == 200)
			mid = spool__end(sp);
		bad += spool__append(sp, &in[i]) != 0;
	}
	is_u64(bad, 0, "500 intervals are appended");
	ok(spool__end(sp).off / 500 < 1200, "an interval of %zu bytes takes %lld bytes in the spool",
	   sizeof(struct sample), (long long)(spool__end(sp).off / 500));
	dd = opendir(dir);
	while (dd && (d = readdir(dd)))
		n += d->d_name[0] != '.' || strncmp(d->d_name, ".redprof-spool", 14) == 0;
	if (dd)
		closedir(dd);
	is_u64(n, 0, "the spool has no name in the directory: it vanishes with redprof");

	spool_reader__init(&r, sp, (struct spool_pos){ 0 });
	for (n = 0, bad = 0; spool_reader__next(&r, &out) == 1; n++)
		bad += memcmp(&out, &in[n], sizeof(out)) != 0;
	spool_reader__fini(&r);
	ok(n == 500 && !bad, "every interval reads back byte for byte (%zu read, %zu differ)", n, bad);
	spool_reader__init(&r, sp, mid);
	for (n = 0, bad = 0; spool_reader__next(&r, &out) == 1; n++)
		bad += memcmp(&out, &in[200 + n], sizeof(out)) != 0;
	spool_reader__fini(&r);
	ok(n == 300 && !bad, "reading from a position gives the intervals from there on");
	spool__close(sp);

	ok(!spool__open(dir, sizeof(ones), &sp), "a spool of 4 KiB records");
	memset(ones, 0xff, sizeof(ones));
	spool__append(sp, ones);
	memset(ones, 0, sizeof(ones));
	spool__append(sp, ones);
	spool_reader__init(&r, sp, (struct spool_pos){ 0 });
	spool_reader__next(&r, back);
	bad = back[0] != 0xff || back[4095] != 0xff;
	spool_reader__next(&r, back);
	bad += back[0] || back[4095];
	spool_reader__fini(&r);
	is_u64(bad, 0, "records of all ones and all zeros round trip");
	spool__close(sp);
	rmdir(dir);
	free(in);
}

static char *write_capture(enum export_format fmt, const struct capture *c, const struct capture_run *run)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	export_write(f, fmt, &sess, c, run, EV_NSEC);
	fclose(f);
	return buf;
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += !strncmp(p, prefix, strlen(prefix));
	return n;
}

static void test_writers(void)
{
	static const uint64_t tofree[] = { 300, 1024, 40000 };
	char dir[] = "/tmp/redprof-unit-XXXXXX";
	struct capture *c = capture__new();
	struct sample iv;
	json_error_t je;
	json_t *j;
	char *out;

	if (!mkdtemp(dir) || capture__spool_in(c, dir)) {
		ok(0, "a capture spooled in a temporary directory");
		return;
	}
	for (int i = 0; i < 3; i++) {
		interval(&iv, 1800000000 + (uint64_t)i, tofree, (size_t)i + 1, 2000);
		capture__add(c, &iv);
	}
	is_u64(c->all.total.commands, 6, "the running total is the sum of the intervals");

	out = write_capture(EXPORT_JSON, c, &c->all);
	j = json_loads(out, 0, &je);
	ok(j != NULL, "the JSON export parses%s%s", j ? "" : ": ", j ? "" : je.text);
	is_u64(json_integer_value(json_object_get(j, "schema")), 3, "it is schema 3");
	ok(json_array_size(json_object_get(j, "episodes")) == 0 && json_is_null(json_object_get(j, "heat_map")),
	   "a session without probes has no episodes and no heat map");
	is_u64(json_array_size(json_object_get(j, "intervals")), 3, "it has the three intervals");
	is_u64(json_integer_value(json_object_get(json_object_get(j, "total"), "commands")), 6,
	       "its total is their sum");
	is_u64(json_integer_value(json_object_get(json_object_get(json_object_get(json_object_get(j, "total"),
		"histograms"), "mem_tofree"), "count")), 6, "... histograms included");
	is_str(json_string_value(json_object_get(j, "start")), "2027-01-15T07:59:59.000Z",
	       "it starts when the first interval began");
	json_decref(j);
	free(out);

	out = write_capture(EXPORT_CSV, c, &c->all);
	ok(!strncmp(out, "type,ts,interval_s,record,name,unit,lo,hi,value\n", 48), "the CSV starts with its header row");
	is_u64(count_lines(out, "interval,2027-01-15T08:00:02.000Z,1,bucket,mem_tofree,bytes,"), 3,
	       "an interval with three values in three buckets has three bucket rows");
	ok(has_line(out, "total,2027-01-15T08:00:02.000Z,3,counter,commands,,,,6"), "the total's counters follow");
	ok(has_line(out, "total,2027-01-15T08:00:02.000Z,3,counter,probe_hits.by_site.performEvictions (return),,,,6"),
	   "labelled counters are named by their JSON path");
	ok(has_line(out, "total,2027-01-15T08:00:02.000Z,3,bucket,mem_tofree,bytes,1024,2048,2"),
	   "1024 bytes are in the row of bucket [1024, 2048)");
	free(out);

	out = write_capture(EXPORT_OPENMETRICS, c, &c->all);
	is_u64(count_lines(out, "# TYPE redprof_mem_tofree_bytes "), 1, "each family's metadata is written once");
	ok(has_line(out, "redprof_mem_tofree_bytes_bucket" LABELS ",le=\"2047\"} 1 1800000000") &&
	   has_line(out, "redprof_mem_tofree_bytes_bucket" LABELS ",le=\"2047\"} 3 1800000001") &&
	   has_line(out, "redprof_mem_tofree_bytes_bucket" LABELS ",le=\"2047\"} 5 1800000002"),
	   "each interval is a cumulative point, stamped with its end");
	is_u64(count_lines(out, "redprof_mem_tofree_bytes_bucket"), 3 * 43,
	       "every point has the same 42 byte buckets and +Inf, empty or not");
	ok(strlen(out) > 6 && !strcmp(out + strlen(out) - 6, "# EOF\n"), "the file ends with # EOF");
	free(out);

	capture__mark(c);
	interval(&iv, 1800000003, tofree, 1, 2000);
	capture__add(c, &iv);
	out = write_capture(EXPORT_JSON, c, &c->marked);
	j = json_loads(out, 0, NULL);
	ok(json_array_size(json_object_get(j, "intervals")) == 1 &&
	   json_integer_value(json_object_get(json_object_get(j, "total"), "commands")) == 1,
	   "after a mark, a snapshot holds only the intervals since");
	json_decref(j);
	free(out);
	capture__free(c);
	rmdir(dir);
}

static void test_sample_add(void)
{
	static const uint64_t a[] = { 100, 200 }, b[] = { 50 };
	struct sample x, y, sum;

	interval(&x, 1, a, 2, 5000);
	interval(&y, 2, b, 1, 300);
	sample_init(&sum);
	sample_add(&sum, &x);
	sample_add(&sum, &y);
	ok(sum.calls == 3 && sum.var[EV_MEM_TOFREE].count == 3 && sum.var[EV_MEM_TOFREE].sum == 350,
	   "counts and sums add up");
	ok(sum.var[EV_MEM_TOFREE].min == 50 && sum.var[EV_MEM_TOFREE].max == 200, "extremes merge");
	ok(sum.lat_all.min_ns == 300 && sum.lat_all.max_ns == 5001, "latency extremes merge");
	ok(sum.end_real_ns == y.end_real_ns && sum.ns == 2000000000ULL, "the sum ends with the last interval and spans both");
}

int main(void)
{
	session_init();
	test_edges();
	test_page_power_of_two();
	test_quantile();
	test_spool();
	test_writers();
	test_sample_add();
	return tap_done();
}
