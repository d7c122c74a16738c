// SPDX-License-Identifier: BSD-3-Clause
/*
 * report_json.c: JSON Lines and snapshot files. The keys written here are
 * the schema documented in redprof(8); later versions add keys, never
 * change these.
 */
#include <inttypes.h>
#include <string.h>

#include "config.h"
#include "measures.h"
#include "report.h"
#include "util.h"

static void json_hist(struct jw *w, const struct hist *h, const char *unit)
{
	jw_obj_begin(w);
	jw_key(w, "unit");
	jw_str(w, unit);
	jw_key(w, "buckets");
	jw_arr_begin(w);
	for (unsigned i = 0; i < EV_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		jw_obj_begin(w);
		jw_key(w, "lo");
		jw_u64(w, hist_slot_lo(i));
		jw_key(w, "hi");
		jw_u64(w, hist_slot_hi(i));
		jw_key(w, "count");
		jw_u64(w, h->slots[i]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "count");
	jw_u64(w, h->count);
	jw_key(w, "sum");
	jw_scaled(w, h->sum, h->scale);
	jw_key(w, "min");
	if (h->count)
		jw_scaled(w, h->min, h->scale);
	else
		jw_null(w);
	jw_key(w, "max");
	if (h->count)
		jw_scaled(w, h->max, h->scale);
	else
		jw_null(w);
	jw_obj_end(w);
}

static void json_returns(struct jw *w, const struct session *s, const struct sample *smp)
{
	static const char *const modern[] = { "EVICT_OK", "EVICT_RUNNING", "EVICT_FAIL" };

	jw_obj_begin(w);
	if (s->t->legacy) {
		jw_key(w, "C_OK");
		jw_u64(w, smp->returns[EV_RET_0]);
		jw_key(w, "C_ERR");
		jw_u64(w, smp->returns[EV_RET_MINUS1]);
	} else {
		for (int i = 0; i < 3; i++) {
			jw_key(w, modern[i]);
			jw_u64(w, smp->returns[i]);
		}
	}
	if (smp->returns[EV_RET_OTHER]) {
		jw_key(w, "other");
		jw_u64(w, smp->returns[EV_RET_OTHER]);
	}
	jw_obj_end(w);
}

static void json_probe_hits(struct jw *w, const struct session *s, const struct sample *smp)
{
	uint64_t by_class[SITE_NCLASSES] = { 0 };

	jw_obj_begin(w);
	jw_key(w, "by_site");
	jw_obj_begin(w);
	for (size_t i = 0; i < s->plan.n; i++) {
		jw_key(w, s->plan.site[i].name);
		jw_u64(w, smp->hits[i]);
		by_class[s->plan.site[i].cls] += smp->hits[i];
	}
	jw_obj_end(w);
	jw_key(w, "by_class");
	jw_obj_begin(w);
	for (int c = 0; c < SITE_NCLASSES; c++) {
		jw_key(w, c == SITE_SINGLE_STEPPED ? "single_stepped" : site_class_name(c));
		jw_u64(w, by_class[c]);
	}
	jw_obj_end(w);
	jw_obj_end(w);
}

/* A count or gauge, left out when unavailable (the "unavailable" object says why). */
static void json_value(struct jw *w, const struct session *s, const struct sample *smp, enum measure m)
{
	if (measure_unavailable(s, smp, m))
		return;
	jw_key(w, measure_name(m));
	jw_u64(w, measure_value(smp, m));
}

void json_sample(struct jw *w, const struct session *s, const struct sample *smp, int unit,
		 const char *type)
{
	char ts[40];

	format_iso8601(smp->end_real_ns, ts, sizeof(ts));
	jw_obj_begin(w);
	jw_key(w, "type");
	jw_str(w, type);
	jw_key(w, "ts");
	jw_str(w, ts);
	jw_key(w, "interval_s");
	jw_double(w, (double)smp->ns / 1e9, 3);
	jw_key(w, "pid");
	jw_i64(w, s->t->pid);
	jw_key(w, "build_id");
	jw_str(w, s->t->img->build_id);
	if (s->t->version[0]) {
		jw_key(w, "redis_version");
		jw_str(w, s->t->version);
	}
	json_value(w, s, smp, M_COMMANDS);
	jw_key(w, "calls");
	jw_u64(w, smp->calls);
	jw_key(w, "returns");
	json_returns(w, s, smp);
	json_value(w, s, smp, M_EVICTING_CALLS);
	json_value(w, s, smp, M_KEYS_EVICTED);
	jw_key(w, "evict_time_share");
	jw_double(w, sample_evict_share(smp), 6);
	json_value(w, s, smp, M_MAXMEMORY);
	json_value(w, s, smp, M_USED_MEMORY);
	jw_key(w, "probe_hits");
	json_probe_hits(w, s, smp);
	jw_key(w, "diagnostics");
	jw_obj_begin(w);
	jw_key(w, "returns_without_entry");
	jw_u64(w, smp->orphan_returns);
	jw_key(w, "unreadable_values");
	jw_u64(w, smp->read_errors);
	jw_key(w, "other_threads");
	jw_u64(w, smp->other_threads);
	jw_obj_end(w);

	jw_key(w, "histograms");
	jw_obj_begin(w);
	for (enum measure m = 0; m < M_NHISTS; m++) {
		struct hist h;

		if (measure_unavailable(s, smp, m))
			continue;
		measure_hist(smp, m, unit, &h);
		jw_key(w, measure_name(m));
		json_hist(w, &h, measure_is_latency(m) ? unit_name(unit) : measure_label(m, unit));
	}
	jw_obj_end(w);

	jw_key(w, "unavailable");
	jw_obj_begin(w);
	for (enum measure m = 0; m < M_NMEASURES; m++) {
		const char *why = measure_unavailable(s, smp, m);

		if (!why)
			continue;
		jw_key(w, measure_name(m));
		jw_str(w, why);
	}
	jw_obj_end(w);
	jw_obj_end(w);
}

void json_snapshot(struct jw *w, const struct session *s, const char *const *intervals,
		   size_t nintervals, size_t dropped, const struct sample *total, int unit)
{
	jw_obj_begin(w);
	jw_key(w, "schema");
	jw_u64(w, REPORT_SCHEMA);
	jw_key(w, "redprof");
	jw_str(w, PACKAGE_VERSION);
	jw_key(w, "target");
	jw_obj_begin(w);
	jw_key(w, "pid");
	jw_i64(w, s->t->pid);
	jw_key(w, "exe");
	jw_str(w, s->t->exe);
	jw_key(w, "build_id");
	jw_str(w, s->t->img->build_id);
	if (s->t->version[0]) {
		jw_key(w, "redis_version");
		jw_str(w, s->t->version);
	}
	jw_key(w, "server");
	jw_str(w, s->t->flavor);
	jw_key(w, "evict_function");
	jw_str(w, target__evict_name(s->t));
	jw_key(w, "offsets");
	if (s->offsets_source[0]) {
		jw_obj_begin(w);
		jw_key(w, "source");
		jw_str(w, s->offsets_source);
		jw_key(w, "strategy");
		jw_str(w, s->strategy);
		jw_obj_end(w);
	} else {
		jw_null(w);
	}
	jw_obj_end(w);
	jw_key(w, "intervals_dropped");
	jw_u64(w, dropped);
	jw_key(w, "intervals");
	jw_arr_begin(w);
	for (size_t i = 0; i < nintervals; i++)
		jw_raw(w, intervals[i], strlen(intervals[i]));
	jw_arr_end(w);
	jw_key(w, "total");
	json_sample(w, s, total, unit, "total");
	jw_obj_end(w);
}
