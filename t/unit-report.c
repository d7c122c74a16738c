// SPDX-License-Identifier: BSD-3-Clause
/*
 * unit-report.c: what the text and JSON outputs say, from samples built
 * here (no BPF): a session on a model build (t/model/) planned from the
 * offset file redprof generates for it, and cumulative kernel totals made
 * up to known counts, latencies and sizes. Each output must carry exactly
 * those numbers, in funclatency's layout for text and in redprof(8)'s
 * schema for JSON, and say why a measure is unavailable when the plan has
 * no site for it. session__why_no_evictions and the measures' names and
 * labels are checked on the way.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "measures.h"
#include "analysis.h"
#include "report.h"
#include "session.h"
#include "tap.h"
#include "util.h"

#define MODEL "t/model/evict-model-gcc-O2-redis7"
#define SEC 1000000000ULL
/* 2026-11-23T10:00:01.250Z */
#define END_REAL_NS 1795428001250000000ULL

/* N calls of NS nanoseconds into a latency histogram, in every unit. */
static void add_lat(struct ev_lat_hist *h, struct ev_minmax *mm, uint64_t ns, uint64_t n)
{
	for (int u = 0; u < EV_NUNITS; u++)
		h->slots[u][hist_slot(ns / unit_scale(u))] += n;
	h->sum_ns += ns * n;
	mm->min = mm->min < ns ? mm->min : ns;
	mm->max = mm->max > ns ? mm->max : ns;
}

static void add_value(struct ev_hist *h, struct ev_minmax *mm, uint64_t v, uint64_t n)
{
	h->slots[hist_slot(v)] += n;
	h->sum += v * n;
	mm->min = mm->min < v ? mm->min : v;
	mm->max = mm->max > v ? mm->max : v;
}

/*
 * One second: 1000 commands, 800 calls, of which 600 evicted (5 us each,
 * 700 bytes to free, 1.5 keys each on average) and 200 did not (500 ns).
 */
static void one_second(struct sample *smp, uint64_t hits_at_values_site)
{
	static struct ev_totals cur;
	static struct ev_extrema mm;

	memset(&cur, 0, sizeof(cur));
	sample_extrema_init(&mm);
	cur.calls = 800;
	cur.returns[EV_RET_0] = 790;
	cur.returns[EV_RET_2] = 10;
	cur.commands = 1000;
	cur.evicting_calls = 600;
	cur.keys_evicted = 900;
	cur.hits[2] = hits_at_values_site;
	add_lat(&cur.lat[EV_ACTIVE], &mm.lat[EV_ACTIVE], 5000, 600);
	add_lat(&cur.lat[EV_NOOP], &mm.lat[EV_NOOP], 500, 200);
	add_value(&cur.var[EV_MEM_REPORTED], &mm.var[EV_MEM_REPORTED], 21000000, 600);
	add_value(&cur.var[EV_OVERHEAD], &mm.var[EV_OVERHEAD], 16384, 600);
	add_value(&cur.var[EV_MEM_USED], &mm.var[EV_MEM_USED], 20983616, 600);
	add_value(&cur.var[EV_MEM_TOFREE], &mm.var[EV_MEM_TOFREE], 700, 600);
	add_value(&cur.keys_per_evict, &mm.keys_per_evict, 1, 300);
	add_value(&cur.keys_per_evict, &mm.keys_per_evict, 2, 300);
	/* Each round freed 900 bytes, 200 more than it had to. */
	add_value(&cur.round[EV_FREED], &mm.round[EV_FREED], 900, 600);
	add_value(&cur.round[EV_OVERSHOOT], &mm.round[EV_OVERSHOOT], 200, 600);
	sample_delta(smp, &cur, NULL, &mm);
	smp->ns = SEC;
	smp->end_real_ns = END_REAL_NS;
	smp->maxmemory = 20971520;
	smp->used_memory = 21000000;
}

/* A session on the model build, planned from its generated file (or, with WITH_OFFSETS false, from symbols). */
static struct session *open_session(const char *path, bool with_offsets)
{
	struct session *s = xcalloc(1, sizeof(*s));
	enum target_problem problem;
	struct gen_result r;
	struct offsets o;

	if (target__open_binary(path, &s->t, &problem) || plan_add_eviction(&s->plan, s->t)) {
		free(s);
		return NULL;
	}
	if (with_offsets && !analysis__generate(s->t->an, s->t->flavor, s->t->version, STRATEGY_DISASM, &o, &r) &&
	    !plan_add_offsets(&s->plan, s->t, &o)) {
		/* As a process that loaded it at its link-time addresses would: the sums need a bias. */
		s->t->bias_known = true;
		plan_add_sums(&s->plan, s->t);
		snprintf(s->offsets_source, sizeof(s->offsets_source), "generated on the fly");
		snprintf(s->strategy, sizeof(s->strategy), "disasm");
	} else {
		snprintf(s->plan.why_no_values, sizeof(s->plan.why_no_values),
			 "no offset file for this build: generate one with redprof offsets generate");
	}
	plan_add_commands(&s->plan, s->t);
	s->pidfd = -1;
	return s;
}

static char *render_text(const struct session *s, const struct sample *smp, int unit, bool total)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	text_sample(f, s, smp, unit, total);
	fclose(f);
	return buf;
}

static char *render_json(const struct session *s, const struct sample *smp, int unit)
{
	struct jw w;
	char *out;

	jw_init(&w);
	json_sample(&w, s, smp, unit, "interval");
	out = xstrdup(w.buf);
	jw_free(&w);
	return out;
}

/* Diagnostic lines of TEXT, each prefixed. */
static void diag_lines(const char *prefix, const char *text)
{
	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");

		diag("%s%.*s", prefix, (int)n, l);
		l += n + (l[n] == '\n');
	}
}

/* One test per NULL-terminated fragment: TEXT holds it; the first missing one is shown with TEXT. */
static void holds(const char *text, const char *what, ...)
{
	va_list ap;
	const char *frag;
	int i = 0;

	va_start(ap, what);
	while ((frag = va_arg(ap, const char *))) {
		if (ok(strstr(text, frag) != NULL, "%s holds part %d", what, ++i))
			continue;
		diag_lines("  want: ", frag);
		diag_lines("  in:   ", text);
		break;
	}
	va_end(ap);
}

static void text_output(const struct session *s, const struct sample *smp)
{
	char *t = render_text(s, smp, EV_USEC, false);

	holds(t, "text", "\n10:00:01\n", "commands: 1000/s   performEvictions calls: 800/s   evicting calls: 600/s"
	      "   keys evicted: 900/s   time in eviction: 0.3%\n",
	      "returns: EVICT_OK 790 EVICT_RUNNING 0 EVICT_FAIL 10\n",
	      "\nperformEvictions latency, calls that evicted\n     usecs               : count    distribution\n"
	      "         4 -> 7          : 600      |****************************************|\n"
	      "avg = 5 usecs, total: 3000 usecs, count: 600\n",
	      "\nperformEvictions latency, calls that did not evict\n",
	      "         0 -> 1          : 200      |",
	      "\nmem_tofree\n     bytes               : count    distribution\n"
	      "       512 -> 1K         : 600      |",
	      "avg = 700 bytes, min: 700, max: 700, count: 600\n",
	      "\noverhead\n", "       16K -> 32K        : 600 ",
	      "\nkeys evicted per evicting call\n     keys                : count    distribution\n"
	      "         0 -> 1          : 300      |****************************************|\n"
	      "         2 -> 3          : 300      |****************************************|\n"
	      "avg = 1 keys, min: 1, max: 2, count: 600\n", (char *)NULL);
	free(t);
	t = render_text(s, smp, EV_MSEC, true);
	holds(t, "text total in msecs", "\n== total over 1.0 s ==\n", "     msecs               : count",
	      "         0 -> 1          : 600 ", (char *)NULL);
	free(t);
}

static void json_output(const struct session *s, const struct sample *smp)
{
	char *j = render_json(s, smp, EV_USEC);

	holds(j, "json", "{\"type\":\"interval\",\"ts\":\"2026-11-23T10:00:01.250Z\",\"interval_s\":1,\"pid\":0,",
	      "\"redis_version\":\"0.1.0\",\"commands\":1000,\"calls\":800,"
	      "\"returns\":{\"EVICT_OK\":790,\"EVICT_RUNNING\":0,\"EVICT_FAIL\":10},"
	      "\"evicting_calls\":600,\"keys_evicted\":900,\"rounds_memory_grew\":0,\"memory_grew_bytes\":0,"
	      "\"evict_time_share\":0.0031,"
	      "\"maxmemory\":20971520,\"used_memory\":21000000,",
	      "\"probe_hits\":{\"by_site\":{\"performEvictions\":800,\"performEvictions (return)\":800,",
	      "\"diagnostics\":{\"returns_without_entry\":0,\"exits_without_slow_path\":0,\"unreadable_values\":0,\"other_threads\":0}",
	      "\"evict_latency_active\":{\"unit\":\"us\",\"buckets\":[{\"lo\":4,\"hi\":8,\"count\":600}],"
	      "\"count\":600,\"sum\":3000,\"min\":5,\"max\":5}",
	      "\"mem_tofree\":{\"unit\":\"bytes\",\"buckets\":[{\"lo\":512,\"hi\":1024,\"count\":600}],"
	      "\"count\":600,\"sum\":420000,\"min\":700,\"max\":700}",
	      "\"keys_per_evict\":{\"unit\":\"keys\",",
	      "\"freed\":{\"unit\":\"bytes\",\"buckets\":[{\"lo\":512,\"hi\":1024,\"count\":600}],"
	      "\"count\":600,\"sum\":540000,\"min\":900,\"max\":900}",
	      "\"shortfall\":{\"unit\":\"bytes\",\"buckets\":[],\"count\":0,",
	      /* The model has no lazyfree, and its file (disasm) no current_client. */
	      "\"unavailable\":{\"lazyfree_pending\":\"the server has no function lazyfreeGetPendingObjectsCount\",",
	      "\"payers\":\"the offset file does not say where server.current_client is",
	      (char *)NULL);
	ok(!strstr(j, "\"other\":"), "json: no 'other' returns when there are none");
	free(j);
}

/* A session without offsets: every measure that needs a site says why it is missing. */
static void unavailable(const struct session *s, const struct sample *smp)
{
	char *j = render_json(s, smp, EV_NSEC);
	const char *why = s->plan.why_no_values;

	ok(measure_unavailable(s, smp, M_EVICT_LATENCY) == NULL, "no offsets: all calls' latency is still there");
	ok(measure_unavailable(s, smp, M_MEM_TOFREE) == why && measure_unavailable(s, smp, M_EVICTING_CALLS) == why &&
	   measure_unavailable(s, smp, M_KEYS_PER_EVICT) == why, "no offsets: the values, evicting calls and "
	   "keys are unavailable, with the plan's reason");
	holds(j, "json without offsets", "\"evict_latency\":{\"unit\":\"ns\",",
	      "\"unavailable\":{\"evict_latency_active\":\"no offset file for this build",
	      "\"mem_tofree\":\"no offset file for this build", (char *)NULL);
	ok(!strstr(j, "\"evicting_calls\":600") && strstr(j, "\"evicting_calls\":\"no offset file"),
	   "json without offsets: evicting_calls is unavailable, not a count");
	free(j);
}

static void legacy_and_snapshot(struct session *s, struct sample *smp)
{
	const char *intervals[] = { "{\"type\":\"interval\",\"n\":1}", "{\"type\":\"interval\",\"n\":2}" };
	struct jw w;
	char *t;

	s->t->legacy = true;
	smp->returns[EV_RET_MINUS1] = 3;
	smp->returns[EV_RET_OTHER] = 2;
	t = render_text(s, smp, EV_USEC, false);
	holds(t, "text, Redis 6.0", "freeMemoryIfNeeded calls: 800/s", "returns: C_OK 790  C_ERR 3\n",
	      "\nfreeMemoryIfNeeded latency, calls that evicted\n", (char *)NULL);
	free(t);
	/* The snapshot: its head, then the intervals and the total as the export writes them. */
	jw_init(&w);
	json_snapshot_head(&w, s, smp, 0, 5);
	jw_arr_begin(&w);
	for (size_t i = 0; i < ARRAY_SIZE(intervals); i++)
		jw_raw(&w, intervals[i], strlen(intervals[i]));
	jw_arr_end(&w);
	jw_key(&w, "total");
	json_sample(&w, s, smp, EV_USEC, "total");
	jw_obj_end(&w);
	holds(w.buf, "snapshot", "{\"schema\":3,\"redprof\":\"" PACKAGE_VERSION "\",\"start\":\"1970-01-01T00:00:00.000Z\"",
	      "\"target\":{\"pid\":0,\"exe\":\"", "\"server\":\"redis\",\"evict_function\":\"freeMemoryIfNeeded\",",
	      "\"offsets\":{\"source\":\"generated on the fly\",\"strategy\":\"disasm\"}",
	      "\"intervals_dropped\":5,\"intervals\":[{\"type\":\"interval\",\"n\":1},{\"type\":\"interval\",\"n\":2}],"
	      "\"total\":{\"type\":\"total\",",
	      "\"returns\":{\"C_OK\":790,\"C_ERR\":3,\"other\":2}", (char *)NULL);
	jw_free(&w);
	s->t->legacy = false;
}

static void why_no_evictions(const struct session *s)
{
	struct sample smp = { .maxmemory = 0 };

	is_str(session__why_no_evictions(s, &smp), "maxmemory is 0: Redis does not evict", "maxmemory 0, no calls");
	smp.maxmemory = 1024;
	ok(session__why_no_evictions(s, &smp) == NULL, "maxmemory set, no commands: nothing to explain");
	smp.commands = 10;
	is_str(session__why_no_evictions(s, &smp), "performEvictions was not called although maxmemory is set",
	       "commands but no calls with maxmemory set");
	smp.maxmemory = -1;
	is_str(session__why_no_evictions(s, &smp),
	       "no eviction calls while commands ran: maxmemory is 0, so Redis does not evict",
	       "commands but no calls, maxmemory unknown");
	smp.calls = 1;
	ok(session__why_no_evictions(s, &smp) == NULL, "calls: nothing to explain");
}

static void measures(const struct session *s)
{
	is_str(measure_name(M_EVICT_LATENCY_NOOP), "evict_latency_noop", "measure_name");
	is_str(measure_title(s, M_EVICT_LATENCY), "performEvictions latency", "measure_title of all calls");
	is_str(measure_title(s, M_MEM_USED), "mem_used", "measure_title of a value");
	is_str(measure_label(M_EVICT_LATENCY, EV_MSEC), "msecs", "latency labels are funclatency's");
	is_str(measure_label(M_KEYS_PER_EVICT, EV_MSEC), "keys", "keys are keys");
	is_str(measure_label(M_OVERHEAD, EV_MSEC), "bytes", "values are bytes");
}

int main(void)
{
	const char *top = getenv("top_builddir");
	char *path = xasprintf("%s/" MODEL, top ? top : ".");
	struct session *s, *bare;
	struct sample smp;

	setenv("TZ", "UTC", 1);
	tzset();
	if (!ok(!analysis_init() && (s = open_session(path, true)) != NULL, "a session on %s planned from its file", MODEL) ||
	    !ok((bare = open_session(path, false)) != NULL, "and one without offsets"))
		return tap_done();
	ok(s->plan.values && s->plan.slowpath && s->plan.keys_at_deletes, "the plan reads values, marks evicting "
	   "calls and counts keys at the delete calls (no load bias for server.stat_evictedkeys)");
	one_second(&smp, 600);
	text_output(s, &smp);
	json_output(s, &smp);
	unavailable(bare, &smp);
	legacy_and_snapshot(s, &smp);
	why_no_evictions(s);
	measures(s);
	session__close(s);
	session__close(bare);
	free(path);
	analysis_fini();
	return tap_done();
}
