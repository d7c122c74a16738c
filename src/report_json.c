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
#include "series.h"
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

/* Where json_series() has nested objects open: the components of a dotted path. */
struct json_nest {
	char open[4][32];
	int depth;
};

/* Closes and opens nested objects so that PATH's last component is the next key; returns it. */
static const char *json_nest_to(struct jw *w, struct json_nest *n, const char *path)
{
	char comp[4][32];
	const char *p = path, *dot;
	int nc = 0, common = 0;

	while ((dot = strchr(p, '.')) && nc < 4) {
		snprintf(comp[nc++], sizeof(comp[0]), "%.*s", (int)(dot - p), p);
		p = dot + 1;
	}
	while (common < n->depth && common < nc && !strcmp(n->open[common], comp[common]))
		common++;
	for (; n->depth > common; n->depth--)
		jw_obj_end(w);
	for (; n->depth < nc; n->depth++) {
		jw_key(w, comp[n->depth]);
		jw_obj_begin(w);
		memcpy(n->open[n->depth], comp[n->depth], sizeof(comp[0]));
	}
	return p;
}

static void json_value(struct jw *w, const struct series_value *v)
{
	if (v->real)
		jw_double(w, v->d, 6);
	else
		jw_u64(w, v->u);
}

/* Every counter and gauge of series_table: a key, or an object by label. */
static void json_series(struct jw *w, const struct session *s, const struct sample *smp)
{
	struct series_value v[SERIES_MAX_VALUES];
	struct json_nest nest = { .depth = 0 };

	for (size_t i = 0; i < series_count; i++) {
		const struct series *se = &series_table[i];
		size_t n = se->values(s, smp, v);

		if (!n && !se->label)
			continue;
		jw_key(w, json_nest_to(w, &nest, se->path));
		if (!se->label) {
			json_value(w, &v[0]);
			continue;
		}
		jw_obj_begin(w);
		for (size_t k = 0; k < n; k++) {
			jw_key(w, v[k].label);
			json_value(w, &v[k]);
		}
		jw_obj_end(w);
	}
	json_nest_to(w, &nest, "");
}

/* Entries of the offset file redprof's own analysis did not confirm: on every line, as no line stands alone. */
static void json_offsets_trust(struct jw *w, const struct session *s)
{
	if (s->offsets_forced[0]) {
		jw_key(w, "offsets_forced");
		jw_str(w, s->offsets_forced);
	}
	if (s->offsets_unverified[0]) {
		jw_key(w, "offsets_unverified");
		jw_str(w, s->offsets_unverified);
	}
}

/* An object of S's rounds, time and (WITH_KEYS) keys under KEY, left open for more. */
static void payer_sums_open(struct jw *w, const char *key, const struct payer_sums *s, bool with_keys)
{
	if (key)
		jw_key(w, key);
	jw_obj_begin(w);
	jw_key(w, "rounds");
	jw_u64(w, s->rounds);
	jw_key(w, "evict_time_s");
	jw_scaled(w, s->ns, 1000000000ULL);
	if (with_keys) {
		jw_key(w, "keys_evicted");
		jw_u64(w, s->keys);
	}
}

void json_payers(struct jw *w, const struct payer_top *t, const struct payer_sums *outside, uint64_t unread,
		 bool keys)
{
	jw_key(w, "payers");
	jw_obj_begin(w);
	jw_key(w, "table_size");
	jw_u64(w, EV_PAYERS);
	jw_key(w, "top");
	jw_arr_begin(w);
	for (uint32_t i = 0; i < t->n; i++) {
		const struct payer_row *r = &t->row[i];

		payer_sums_open(w, NULL, &(struct payer_sums){ r->rounds, r->ns, r->keys }, keys);
		/* No client: the eviction timer's rounds. */
		jw_key(w, "client_id");
		if (r->client_id || r->cmd)
			jw_u64(w, r->client_id);
		else
			jw_null(w);
		jw_key(w, "client_name");
		if (r->client[0])
			jw_str(w, r->client);
		else
			jw_null(w);
		jw_key(w, "command");
		if (r->command[0])
			jw_str(w, r->command);
		else
			jw_null(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	payer_sums_open(w, "rest", &t->rest, keys);
	jw_obj_end(w);
	payer_sums_open(w, "outside_table", outside, keys);
	jw_obj_end(w);
	jw_key(w, "unreadable");
	jw_u64(w, unread);
	jw_obj_end(w);
}

const char *payers_unavailable(const struct session *s)
{
	if (!s->plan.slowpath)
		return s->plan.why_no_values;
	return s->plan.payers.known ? NULL : s->plan.payers.why;
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
	json_offsets_trust(w, s);
	json_series(w, s, smp);

	jw_key(w, "histograms");
	jw_obj_begin(w);
	for (enum measure m = 0; m < M_NHISTS; m++) {
		struct hist h;

		if (measure_unavailable(s, smp, m))
			continue;
		measure_hist(smp, m, unit, &h);
		jw_key(w, measure_name(m));
		json_hist(w, &h, measure_unit(m, unit));
	}
	jw_obj_end(w);

	if (!payers_unavailable(s))
		json_payers(w, &smp->payers, &smp->outside, smp->payer_unread, !measure_unavailable(s, smp, M_KEYS_EVICTED));

	jw_key(w, "unavailable");
	jw_obj_begin(w);
	for (enum measure m = 0; m < M_NMEASURES; m++) {
		const char *why = measure_unavailable(s, smp, m);

		if (!why)
			continue;
		jw_key(w, measure_name(m));
		jw_str(w, why);
	}
	if (payers_unavailable(s)) {
		jw_key(w, "payers");
		jw_str(w, payers_unavailable(s));
	}
	jw_obj_end(w);
	jw_obj_end(w);
}

static void json_target(struct jw *w, const struct session *s, const struct sample *total)
{
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
	if (total->maxmemory >= 0) {
		jw_key(w, "maxmemory");
		jw_i64(w, total->maxmemory);
	}
	if (total->policy >= 0) {
		char raw[24];

		snprintf(raw, sizeof(raw), "0x%" PRIx64, (uint64_t)total->policy);
		jw_key(w, "maxmemory_policy");
		jw_str(w, maxmemory_policy_name(total->policy) ? maxmemory_policy_name(total->policy) : raw);
	}
	jw_obj_end(w);
}

static const char *site_role(const struct plan_site *ps)
{
	switch (ps->spec.kind) {
	case EV_SITE_ENTRY: return "entry";
	case EV_SITE_RETURN: return "return";
	case EV_SITE_COMMAND: return "command";
	case EV_SITE_VALUES: return "values";
	case EV_SITE_EXIT: return "exit";
	default: return "delete";
	}
}

/* Where each probe sits, what it is for and how the kernel runs it; and what is read from memory instead. */
static void json_probe_plan(struct jw *w, const struct session *s)
{
	const struct probe_plan *p = &s->plan;

	jw_obj_begin(w);
	jw_key(w, "mode");
	jw_str(w, p->light ? "light" : "full");
	jw_key(w, "sites");
	jw_arr_begin(w);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_site *ps = &p->site[i];

		if (ps->detached)
			continue;
		jw_obj_begin(w);
		jw_key(w, "name");
		jw_str(w, ps->name);
		jw_key(w, "role");
		jw_str(w, site_role(ps));
		jw_key(w, "class");
		jw_str(w, ps->cls == SITE_SINGLE_STEPPED ? "single_stepped" : site_class_name(ps->cls));
		if (ps->spec.flags & EV_SITE_SLOWPATH) {
			jw_key(w, "slowpath");
			jw_bool(w, true);
		}
		if (ps->spec.leaves) {
			jw_key(w, "exit");
			jw_bool(w, true);
		}
		if (ps->spec.vars) {
			jw_key(w, "reads");
			jw_arr_begin(w);
			for (int v = 0; v < EV_NVARS; v++)
				if (ps->spec.vars & (1U << v))
					jw_str(w, measure_name((enum measure)(M_MEM_REPORTED + v)));
			jw_arr_end(w);
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "commands_from");
	jw_str(w, s->commands_from_memory ? "stat_numcommands" : "probe");
	jw_key(w, "keys_evicted_from");
	if (p->keys)
		jw_str(w, p->keys_at_deletes ? "probe" : "stat_evictedkeys");
	else
		jw_null(w);
	jw_obj_end(w);
}

void json_snapshot_head(struct jw *w, const struct session *s, const struct sample *total,
			uint64_t start_real_ns, size_t dropped)
{
	char ts[40];

	jw_obj_begin(w);
	jw_key(w, "schema");
	jw_u64(w, REPORT_SCHEMA);
	jw_key(w, "redprof");
	jw_str(w, PACKAGE_VERSION);
	format_iso8601(start_real_ns, ts, sizeof(ts));
	jw_key(w, "start");
	jw_str(w, ts);
	format_iso8601(total->end_real_ns, ts, sizeof(ts));
	jw_key(w, "end");
	jw_str(w, ts);
	jw_key(w, "target");
	json_target(w, s, total);
	jw_key(w, "probe_plan");
	json_probe_plan(w, s);
	jw_key(w, "notes");
	jw_arr_begin(w);
	for (size_t i = 0; i < s->nnotes; i++)
		jw_str(w, s->notes[i]);
	jw_arr_end(w);
	jw_key(w, "unavailable");
	jw_obj_begin(w);
	if (total->policy < 0) {
		jw_key(w, "maxmemory_policy");
		jw_str(w, s->plan.policy.known ? "the target's memory could not be read at the end"
					       : "the offset file does not say where the server keeps maxmemory_policy");
	}
	if (total->maxmemory < 0) {
		jw_key(w, "maxmemory");
		jw_str(w, s->plan.why_no_values[0] ? s->plan.why_no_values
						   : "the offset file does not say where the server keeps maxmemory");
	}
	if (storm_unavailable(s)) {
		jw_key(w, "episodes");
		jw_str(w, storm_unavailable(s));
		jw_key(w, "heat_map");
		jw_str(w, storm_unavailable(s));
	}
	jw_obj_end(w);
	jw_key(w, "intervals_dropped");
	jw_u64(w, dropped);
	jw_key(w, "intervals");
}
