// SPDX-License-Identifier: BSD-3-Clause
/*
 * series.c: every counter and gauge of a sample, once. The order is the
 * order of the keys in a JSON object (redprof(8), JSON OUTPUT).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "measures.h"
#include "series.h"

static size_t one(struct series_value *out, uint64_t v)
{
	memset(out, 0, sizeof(*out));
	out->u = v;
	return 1;
}

static size_t labelled(struct series_value *out, const char *label, uint64_t v)
{
	one(out, v);
	snprintf(out->label, sizeof(out->label), "%s", label);
	return 1;
}

static size_t commands(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return measure_unavailable(s, smp, M_COMMANDS) ? 0 : one(out, smp->commands);
}

/* The light plan counts calls as commands: none when those could not be read. */
static size_t calls(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return s->plan.light && measure_unavailable(s, smp, M_COMMANDS) ? 0 : one(out, smp->calls);
}

size_t series_returns(const struct session *s, const uint64_t returns[EV_NRETS], struct series_value *out)
{
	static const char *const modern[] = { "EVICT_OK", "EVICT_RUNNING", "EVICT_FAIL" };
	size_t n = 0;

	if (s->t->legacy) {
		n += labelled(&out[n], "C_OK", returns[EV_RET_0]);
		n += labelled(&out[n], "C_ERR", returns[EV_RET_MINUS1]);
	} else {
		for (int i = 0; i < 3; i++)
			n += labelled(&out[n], modern[i], returns[i]);
	}
	if (returns[EV_RET_OTHER])
		n += labelled(&out[n], "other", returns[EV_RET_OTHER]);
	return n;
}

static size_t returns(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return series_returns(s, smp->returns, out);
}

static size_t evicting_calls(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return measure_unavailable(s, smp, M_EVICTING_CALLS) ? 0 : one(out, smp->evicting_calls);
}

static size_t keys_evicted(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return measure_unavailable(s, smp, M_KEYS_EVICTED) ? 0 : one(out, smp->keys_evicted);
}

static size_t rounds_grew(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return measure_unavailable(s, smp, M_ROUNDS_GREW) ? 0 : one(out, smp->rounds_grew);
}

static size_t grew_bytes(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return measure_unavailable(s, smp, M_ROUNDS_GREW) ? 0 : one(out, smp->grew_bytes);
}

static size_t evict_time_share(const struct session *s, const struct sample *smp, struct series_value *out)
{
	one(out, 0);
	out->real = true;
	out->d = sample_evict_share(smp);
	return 1;
}

static size_t maxmemory(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return measure_unavailable(s, smp, M_MAXMEMORY) || smp->maxmemory < 0 ? 0 : one(out, (uint64_t)smp->maxmemory);
}

static size_t used_memory(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return measure_unavailable(s, smp, M_USED_MEMORY) || smp->used_memory < 0 ? 0
										    : one(out, (uint64_t)smp->used_memory);
}

static size_t clients_memory(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return measure_unavailable(s, smp, M_CLIENTS_MEMORY) || smp->clients_memory < 0 ? 0
											  : one(out, (uint64_t)smp->clients_memory);
}

static size_t hits_by_site(const struct session *s, const struct sample *smp, struct series_value *out)
{
	size_t n = 0;

	for (size_t i = 0; i < s->plan.n; i++)
		if (!s->plan.site[i].detached)
			n += labelled(&out[n], s->plan.site[i].name, smp->hits[i]);
	return n;
}

static const char *class_label(int c)
{
	return c == SITE_SINGLE_STEPPED ? "single_stepped" : site_class_name(c);
}

static size_t hits_by_class(const struct session *s, const struct sample *smp, struct series_value *out)
{
	uint64_t by_class[SITE_NCLASSES];

	session__hits_by_class(s, smp, by_class);
	for (int c = 0; c < SITE_NCLASSES; c++)
		labelled(&out[c], class_label(c), by_class[c]);
	return SITE_NCLASSES;
}

static size_t hits_per_command(const struct session *s, const struct sample *smp, struct series_value *out)
{
	uint64_t by_class[SITE_NCLASSES];

	if (!smp->commands)
		return 0;
	session__hits_by_class(s, smp, by_class);
	for (int c = 0; c < SITE_NCLASSES; c++) {
		labelled(&out[c], class_label(c), 0);
		out[c].real = true;
		out[c].d = (double)by_class[c] / (double)smp->commands;
	}
	return SITE_NCLASSES;
}

static size_t probe_cpu_seconds(const struct session *s, const struct sample *smp, struct series_value *out)
{
	one(out, 0);
	out->real = true;
	out->d = session__probe_cpu_ns(s, smp) / 1e9;
	return 1;
}

static size_t probe_cpu_share(const struct session *s, const struct sample *smp, struct series_value *out)
{
	if (!smp->ns)
		return 0;
	one(out, 0);
	out->real = true;
	out->d = session__probe_cpu_ns(s, smp) / (double)smp->ns;
	return 1;
}

static size_t orphan_returns(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return one(out, smp->orphan_returns);
}

static size_t orphan_exits(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return one(out, smp->orphan_exits);
}

static size_t read_errors(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return one(out, smp->read_errors);
}

static size_t other_threads(const struct session *s, const struct sample *smp, struct series_value *out)
{
	return one(out, smp->other_threads);
}

const struct series series_table[] = {
	{ "commands", NULL, "redprof_commands", "", SERIES_COUNTER,
	  "Commands Redis processed (server.stat_numcommands, or a probe on processCommand)", commands },
	{ "calls", NULL, "redprof_calls", "", SERIES_COUNTER,
	  "Calls of the eviction function (performEvictions; freeMemoryIfNeeded before Redis 6.2)", calls },
	{ "returns", "value", "redprof_returns", "", SERIES_COUNTER,
	  "Calls of the eviction function by return value", returns },
	{ "evicting_calls", NULL, "redprof_evicting_calls", "", SERIES_COUNTER,
	  "Calls that reached the eviction path (mem_used > maxmemory)", evicting_calls },
	{ "keys_evicted", NULL, "redprof_keys_evicted", "", SERIES_COUNTER,
	  "Keys evicted", keys_evicted },
	{ "rounds_memory_grew", NULL, "redprof_rounds_memory_grew", "", SERIES_COUNTER,
	  "Evicting calls during which used memory rose rather than fell (not in the freed histogram)",
	  rounds_grew },
	{ "memory_grew_bytes", NULL, "redprof_memory_grew_bytes", "bytes", SERIES_COUNTER,
	  "How much used memory rose during those calls, in all", grew_bytes },
	/* A ratio per interval; in OpenMetrics it is rate(redprof_evict_latency_seconds_sum). */
	{ "evict_time_share", NULL, NULL, "", SERIES_GAUGE,
	  "Share of wall time spent inside the eviction function", evict_time_share },
	{ "maxmemory", NULL, "redprof_maxmemory_bytes", "bytes", SERIES_GAUGE,
	  "Redis's maxmemory, read from its memory", maxmemory },
	{ "used_memory", NULL, "redprof_used_memory_bytes", "bytes", SERIES_GAUGE,
	  "Memory Redis reports as used (INFO used_memory), read from its memory", used_memory },
	{ "clients_normal_memory", NULL, "redprof_clients_normal_memory_bytes", "bytes", SERIES_GAUGE,
	  "Memory of normal clients' buffers, which used_memory counts (server.stat_clients_type_memory)",
	  clients_memory },
	{ "probe_hits.by_site", "site", "redprof_probe_hits", "", SERIES_COUNTER,
	  "redprof's own uprobe hits in the target, by site", hits_by_site },
	{ "probe_hits.by_class", "class", "redprof_probe_hits_by_class", "", SERIES_COUNTER,
	  "redprof's own uprobe hits in the target, by how the kernel runs them (emulated ~1 us, "
	  "single_stepped 15-20 us, return)", hits_by_class },
	{ "probe_cost.hits_per_command", "class", "redprof_probe_hits_per_command", "", SERIES_GAUGE,
	  "redprof's probe hits per command Redis ran, by class", hits_per_command },
	{ "probe_cost.cpu_seconds", NULL, "redprof_probe_cost_seconds", "seconds", SERIES_COUNTER,
	  "Estimated CPU time redprof's probe hits took from Redis's main thread (hits times a per-hit cost by "
	  "class)", probe_cpu_seconds },
	/* A ratio per interval; in OpenMetrics it is rate(redprof_probe_cost_seconds_total). */
	{ "probe_cost.cpu_share", NULL, NULL, "", SERIES_GAUGE,
	  "Estimated share of Redis's main thread the probe hits took", probe_cpu_share },
	{ "diagnostics.returns_without_entry", NULL, "redprof_returns_without_entry", "", SERIES_COUNTER,
	  "Returns of calls entered before the probes were attached", orphan_returns },
	{ "diagnostics.exits_without_slow_path", NULL, "redprof_exits_without_slow_path", "", SERIES_COUNTER,
	  "Light plan: exits passed with no evicting call in flight (one already on the eviction path at attach)",
	  orphan_exits },
	{ "diagnostics.unreadable_values", NULL, "redprof_unreadable_values", "", SERIES_COUNTER,
	  "Value terms whose memory could not be read", read_errors },
	{ "diagnostics.other_threads", NULL, "redprof_other_threads", "", SERIES_COUNTER,
	  "Probe hits from threads other than Redis's main thread, ignored", other_threads },
};

const size_t series_count = sizeof(series_table) / sizeof(series_table[0]);

_Static_assert(SERIES_MAX_VALUES >= EV_NRETS && SERIES_MAX_VALUES >= SITE_NCLASSES,
	       "a series' values fit in SERIES_MAX_VALUES");
