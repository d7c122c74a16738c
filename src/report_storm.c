// SPDX-License-Identifier: BSD-3-Clause
/*
 * report_storm.c: storm episodes and the heat map in the line outputs and
 * the snapshot file: a text block and a JSON object per episode (the
 * schema in redprof(8), STORM EPISODES), and the heat map's seconds.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "measures.h"
#include "report.h"
#include "report_svg.h"
#include "series.h"
#include "util.h"
#include "verdict.h"

static const double quantiles[] = { 0.5, 0.9, 0.99 };
static const char *const quantile_names[] = { "p50", "p90", "p99" };

/* An episode has evicting calls: a measure of it is missing only for want of a site. */
static const char *why_not(const struct session *s, enum measure m)
{
	struct sample smp;

	sample_init(&smp);
	smp.calls = smp.commands = smp.evicting_calls = 1;
	smp.maxmemory = 1;
	return measure_unavailable(s, &smp, m);
}

const char *storm_unavailable(const struct session *s)
{
	return s->storm ? why_not(s, M_EVICTING_CALLS) : "redprof is not attached";
}

void storm_verdict(const struct session *s, const struct episode *ep, struct verdict *v)
{
	verdict_of(ep, s->t->legacy, why_not(s, M_OVERHEAD), why_not(s, M_CLIENTS_MEMORY), v);
}

void format_seconds(double s, char *buf, size_t len)
{
	long v = lround(s);

	if (isnan(s))
		snprintf(buf, len, "?");
	else if (s < 59.95)
		snprintf(buf, len, "%.1f s", s);
	else if (v < 3600)
		snprintf(buf, len, "%ldm%02lds", v / 60, v % 60);
	else
		snprintf(buf, len, "%ldh%02ldm", v / 3600, v / 60 % 60);
}

/* ------------------------------------------------------------------ */
/* Text                                                                 */
/* ------------------------------------------------------------------ */

static void clock_time(uint64_t real_ns, char *buf, size_t len)
{
	time_t sec = (time_t)(real_ns / 1000000000ULL);
	struct tm tm;
	size_t n;

	localtime_r(&sec, &tm);
	n = strftime(buf, len, "%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03u", (unsigned)(real_ns / 1000000ULL % 1000));
}

static void text_percentiles(FILE *f, const char *name, const struct hist *h, enum value_kind kind)
{
	char v[32];

	fprintf(f, "%s:", name);
	for (size_t i = 0; i < ARRAY_SIZE(quantiles); i++) {
		format_value(hist_percentile(h, quantiles[i]), kind, v, sizeof(v));
		fprintf(f, " %s %s,", quantile_names[i], v);
	}
	format_value((double)h->max, kind, v, sizeof(v));
	fprintf(f, " max %s\n", v);
}

void cycle_words(const struct episode_cycle *c, double burst_s, char *buf, size_t len)
{
	char a[32], b[32];
	size_t n;

	format_seconds(c->growth_s, a, sizeof(a));
	if (isnan(c->growth_s))
		n = (size_t)snprintf(buf, len, "growth unknown (no used_memory reading before it)");
	else
		n = (size_t)snprintf(buf, len, "growth %s%s", c->growth_before_capture ? "at least " : "", a);
	if (c->low_before >= 0 && n < len) {
		format_value((double)c->low_before, VK_BYTES, b, sizeof(b));
		n += (size_t)snprintf(buf + n, len - n, " (from %s)", b);
	}
	format_seconds(burst_s, a, sizeof(a));
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, ", burst %s", a);
	if (c->reclaim_s == 0 && n < len) {
		n += (size_t)snprintf(buf + n, len - n, ", no reclaim yet (used_memory near maxmemory)");
	} else if (!isnan(c->reclaim_s) && n < len) {
		format_seconds(c->reclaim_s, a, sizeof(a));
		format_value((double)c->low_after, VK_BYTES, b, sizeof(b));
		n += (size_t)snprintf(buf + n, len - n, ", reclaim %s (to %s)", a, b);
	}
	if (!isnan(c->period_s) && n < len) {
		format_seconds(c->period_s, a, sizeof(a));
		snprintf(buf + n, len - n, "; period %s", a);
	}
}

static void text_rate(FILE *f, const char *name, double v)
{
	if (isnan(v))
		fprintf(f, "%s unknown", name);
	else
		fprintf(f, "%s %.0f", name, v);
}

void text_episode(FILE *f, const struct session *s, const struct episode *ep)
{
	struct series_value rv[SERIES_MAX_VALUES];
	size_t nrv = series_returns(s, ep->returns, rv);
	char from[32], to[32], d[32], v[32], cyc[256];
	struct verdict vd;

	clock_time(ep->start_real_ns, from, sizeof(from));
	clock_time(ep->end_real_ns, to, sizeof(to));
	format_seconds(episode_duration_s(ep), d, sizeof(d));
	fprintf(f, "\n== storm episode %u %s: %s to %s (%s, %zu intervals) ==\n", ep->id,
		ep->ongoing ? "still going when the capture ended" : "ended", from, to, d, ep->intervals);
	fprintf(f, "evicting calls: %" PRIu64, ep->evicting_calls);
	if (!why_not(s, M_KEYS_EVICTED))
		fprintf(f, "   keys evicted: %" PRIu64, ep->keys_evicted);
	format_value((double)ep->evict_ns, VK_TIME, v, sizeof(v));
	fprintf(f, "   time evicting: %s (%.1f%% of the main thread)\n", v, 100 * episode_evict_share(ep));
	fputs("commands/s: ", f);
	text_rate(f, "before", ep->cmds_before);
	text_rate(f, ", during", ep->cmds_during);
	text_rate(f, ", after", ep->cmds_after);
	fputc('\n', f);
	fputs(s->plan.light ? "returns of evicting calls:" : "returns:", f);
	for (size_t i = 0; i < nrv; i++)
		fprintf(f, " %s %" PRIu64, rv[i].label, rv[i].u);
	fputc('\n', f);
	if (!why_not(s, M_MEM_TOFREE))
		text_percentiles(f, "mem_tofree", &ep->tofree, VK_BYTES);
	if (!why_not(s, M_FREED)) {
		format_value((double)episode_bytes_freed(ep), VK_BYTES, v, sizeof(v));
		fprintf(f, "bytes freed: %s in all; ", v);
		text_percentiles(f, "per round", &ep->freed, VK_BYTES);
	}
	text_percentiles(f, "round latency", &ep->latency, VK_TIME);
	cycle_words(&ep->cycle, episode_duration_s(ep), cyc, sizeof(cyc));
	fprintf(f, "cycle: %s\n", cyc);
	storm_verdict(s, ep, &vd);
	fprintf(f, "verdict: %s\n", vd.text);
	if (vd.backlog < 0)
		fprintf(f, "backlog feedback: unavailable: %s\n", vd.backlog_why);
	fflush(f);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                 */
/* ------------------------------------------------------------------ */

static void json_time(struct jw *w, const char *key, uint64_t real_ns)
{
	char ts[40];

	format_iso8601(real_ns, ts, sizeof(ts));
	jw_key(w, key);
	jw_str(w, ts);
}

static void json_percentiles(struct jw *w, const char *key, const struct hist *h)
{
	jw_key(w, key);
	jw_obj_begin(w);
	for (size_t i = 0; i < ARRAY_SIZE(quantiles); i++) {
		jw_key(w, quantile_names[i]);
		jw_double(w, hist_percentile(h, quantiles[i]), 0);
	}
	jw_key(w, "max");
	if (h->count)
		jw_u64(w, h->max);
	else
		jw_null(w);
	jw_obj_end(w);
}

static void json_cycle(struct jw *w, const struct episode_cycle *c)
{
	jw_key(w, "cycle");
	jw_obj_begin(w);
	jw_key(w, "growth_s");
	jw_double(w, c->growth_s, 3);
	jw_key(w, "growth_before_capture");
	jw_bool(w, c->growth_before_capture);
	jw_key(w, "low_before");
	if (c->low_before >= 0)
		jw_i64(w, c->low_before);
	else
		jw_null(w);
	jw_key(w, "reclaim_s");
	jw_double(w, c->reclaim_s, 3);
	jw_key(w, "low_after");
	if (c->low_after >= 0 && !isnan(c->reclaim_s))
		jw_i64(w, c->low_after);
	else
		jw_null(w);
	jw_key(w, "period_s");
	jw_double(w, c->period_s, 3);
	jw_obj_end(w);
}

static void json_verdict(struct jw *w, const struct verdict *v)
{
	jw_key(w, "verdict");
	jw_obj_begin(w);
	jw_key(w, "pace");
	jw_str(w, verdict_pace_name(v->pace));
	jw_key(w, "outside_pressure");
	if (v->outside < 0)
		jw_null(w);
	else
		jw_bool(w, v->outside);
	jw_key(w, "backlog_feedback");
	if (v->backlog < 0)
		jw_null(w);
	else
		jw_bool(w, v->backlog);
	jw_key(w, "text");
	jw_str(w, v->text);
	jw_key(w, "unavailable");
	jw_obj_begin(w);
	if (v->outside < 0) {
		jw_key(w, "outside_pressure");
		jw_str(w, v->outside_why);
	}
	if (v->backlog < 0) {
		jw_key(w, "backlog_feedback");
		jw_str(w, v->backlog_why);
	}
	jw_obj_end(w);
	jw_obj_end(w);
}

static void json_overhead(struct jw *w, const struct episode *ep)
{
	jw_key(w, "overhead");
	jw_obj_begin(w);
	jw_key(w, "mean");
	jw_double(w, ep->overhead.count ? (double)ep->overhead.sum / (double)ep->overhead.count : NAN, 0);
	jw_key(w, "max");
	if (ep->overhead.count)
		jw_u64(w, ep->overhead.max);
	else
		jw_null(w);
	jw_key(w, "first");
	jw_double(w, ep->overhead_first, 0);
	jw_key(w, "peak");
	jw_double(w, ep->overhead_peak, 0);
	jw_obj_end(w);
}

void json_episode(struct jw *w, const struct session *s, const struct episode *ep)
{
	static const enum measure optional[] = { M_KEYS_EVICTED, M_MEM_TOFREE, M_OVERHEAD, M_FREED };
	struct series_value rv[SERIES_MAX_VALUES];
	size_t nrv = series_returns(s, ep->returns, rv);
	struct verdict vd;

	jw_obj_begin(w);
	jw_key(w, "type");
	jw_str(w, "episode");
	jw_key(w, "id");
	jw_u64(w, ep->id);
	jw_key(w, "ongoing");
	jw_bool(w, ep->ongoing);
	json_time(w, "start", ep->start_real_ns);
	json_time(w, "end", ep->end_real_ns);
	jw_key(w, "duration_s");
	jw_double(w, episode_duration_s(ep), 3);
	jw_key(w, "intervals");
	jw_obj_begin(w);
	jw_key(w, "count");
	jw_u64(w, ep->intervals);
	json_time(w, "first", ep->first_end_real_ns);
	json_time(w, "last", ep->last_end_real_ns);
	jw_key(w, "length_s");
	jw_double(w, (double)ep->iv_ns / 1e9, 3);
	jw_obj_end(w);
	jw_key(w, "commands");
	jw_u64(w, ep->commands);
	jw_key(w, "calls");
	jw_u64(w, ep->calls);
	jw_key(w, "evicting_calls");
	jw_u64(w, ep->evicting_calls);
	if (!why_not(s, M_KEYS_EVICTED)) {
		jw_key(w, "keys_evicted");
		jw_u64(w, ep->keys_evicted);
	}
	jw_key(w, "returns");
	jw_obj_begin(w);
	for (size_t i = 0; i < nrv; i++) {
		jw_key(w, rv[i].label);
		jw_u64(w, rv[i].u);
	}
	jw_obj_end(w);
	jw_key(w, "evict_time_s");
	jw_scaled(w, ep->evict_ns, 1000000000ULL);
	jw_key(w, "evict_time_share");
	jw_double(w, episode_evict_share(ep), 6);
	jw_key(w, "commands_per_s");
	jw_obj_begin(w);
	jw_key(w, "before");
	jw_double(w, ep->cmds_before, 1);
	jw_key(w, "during");
	jw_double(w, ep->cmds_during, 1);
	jw_key(w, "after");
	jw_double(w, ep->cmds_after, 1);
	jw_obj_end(w);
	if (!why_not(s, M_MEM_TOFREE))
		json_percentiles(w, "mem_tofree", &ep->tofree);
	if (!why_not(s, M_FREED)) {
		jw_key(w, "bytes_freed");
		jw_i64(w, episode_bytes_freed(ep));
		json_percentiles(w, "freed_per_round", &ep->freed);
	}
	json_percentiles(w, "round_latency_ns", &ep->latency);
	if (!payers_unavailable(s))
		json_payers(w, &ep->payers, &ep->outside, ep->payer_unread, !why_not(s, M_KEYS_EVICTED));
	if (!why_not(s, M_OVERHEAD))
		json_overhead(w, ep);
	json_cycle(w, &ep->cycle);
	storm_verdict(s, ep, &vd);
	json_verdict(w, &vd);
	jw_key(w, "unavailable");
	jw_obj_begin(w);
	for (size_t i = 0; i < ARRAY_SIZE(optional); i++) {
		const char *why = why_not(s, optional[i]);

		if (!why)
			continue;
		jw_key(w, measure_name(optional[i]));
		jw_str(w, why);
	}
	if (payers_unavailable(s)) {
		jw_key(w, "payers");
		jw_str(w, payers_unavailable(s));
	}
	jw_obj_end(w);
	jw_obj_end(w);
}

void json_episodes(struct jw *w, const struct session *s, uint64_t from_real_ns)
{
	const struct episodes *e = s->storm ? s->storm->episodes : NULL;
	struct episode now;

	jw_arr_begin(w);
	for (size_t i = 0; e && i < e->n; i++)
		if (episodes__at(e, i)->end_real_ns >= from_real_ns)
			json_episode(w, s, episodes__at(e, i));
	if (e && episodes__current(e, &now))
		json_episode(w, s, &now);
	jw_arr_end(w);
}

static void json_column(struct jw *w, const struct heat_column *c)
{
	jw_obj_begin(w);
	jw_key(w, "second");
	jw_u64(w, c->second);
	jw_key(w, "busy_ns");
	jw_arr_begin(w);
	for (unsigned i = 0; i < HEAT_SLICES_PER_S; i++)
		jw_u64(w, c->busy_ns[i]);
	jw_arr_end(w);
	jw_key(w, "calls");
	jw_arr_begin(w);
	for (unsigned i = 0; i < HEAT_SLICES_PER_S; i++)
		jw_u64(w, c->calls[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

void json_heat_map(struct jw *w, const struct session *s, uint64_t from_real_ns)
{
	const struct heat *h = s->storm ? s->storm->heat : NULL;
	uint64_t oldest, newest, from = from_real_ns / 1000000000ULL;

	if (!h || storm_unavailable(s)) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_key(w, "slice_s");
	jw_scaled(w, EV_SLICE_NS, 1000000000ULL);
	jw_key(w, "slices_per_second");
	jw_u64(w, HEAT_SLICES_PER_S);
	jw_key(w, "slices_lost");
	jw_u64(w, h->lost_slices);
	jw_key(w, "unplaced_s");
	jw_scaled(w, h->unplaced_ns, 1000000000ULL);
	jw_key(w, "seconds_kept");
	jw_u64(w, HEAT_KEEP_S);
	jw_key(w, "columns");
	jw_arr_begin(w);
	if (heat__span(h, &oldest, &newest)) {
		for (uint64_t sec = oldest > from ? oldest : from; sec <= newest; sec++) {
			const struct heat_column *c = heat__column(h, sec);
			bool busy = false;

			for (unsigned i = 0; c && i < HEAT_SLICES_PER_S && !busy; i++)
				busy = c->busy_ns[i] || c->calls[i];
			if (busy)
				json_column(w, c);
		}
	}
	jw_arr_end(w);
	jw_obj_end(w);
}
