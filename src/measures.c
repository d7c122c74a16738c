// SPDX-License-Identifier: BSD-3-Clause
/*
 * measures.c: names, make-up and availability of each measure.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "measures.h"

static const char *const names[M_NMEASURES] = {
	[M_EVICT_LATENCY] = "evict_latency",
	[M_EVICT_LATENCY_ACTIVE] = "evict_latency_active",
	[M_EVICT_LATENCY_NOOP] = "evict_latency_noop",
	[M_MEM_REPORTED] = "mem_reported",
	[M_OVERHEAD] = "overhead",
	[M_MEM_USED] = "mem_used",
	[M_MEM_TOFREE] = "mem_tofree",
	[M_KEYS_PER_EVICT] = "keys_per_evict",
	[M_FREED] = "freed",
	[M_OVERSHOOT] = "overshoot",
	[M_SHORTFALL] = "shortfall",
	[M_LAZYFREE_PENDING] = "lazyfree_pending",
	[M_EVICTING_CALLS] = "evicting_calls",
	[M_KEYS_EVICTED] = "keys_evicted",
	[M_ROUNDS_GREW] = "rounds_memory_grew",
	[M_COMMANDS] = "commands",
	[M_MAXMEMORY] = "maxmemory",
	[M_USED_MEMORY] = "used_memory",
	[M_CLIENTS_MEMORY] = "clients_normal_memory",
};

const char *measure_name(enum measure m)
{
	return names[m];
}

const char *measure_title(const struct session *s, enum measure m)
{
	return measure_title_of(target__evict_name(s->t), m);
}

const char *measure_title_of(const char *fn, enum measure m)
{
	static char buf[128];

	switch (m) {
	case M_EVICT_LATENCY: snprintf(buf, sizeof(buf), "%s latency", fn); break;
	case M_EVICT_LATENCY_ACTIVE: snprintf(buf, sizeof(buf), "%s latency, calls that evicted", fn); break;
	case M_EVICT_LATENCY_NOOP: snprintf(buf, sizeof(buf), "%s latency, calls that did not evict", fn); break;
	case M_KEYS_PER_EVICT: snprintf(buf, sizeof(buf), "keys evicted per evicting call"); break;
	case M_FREED: snprintf(buf, sizeof(buf), "bytes freed per evicting call"); break;
	case M_OVERSHOOT: snprintf(buf, sizeof(buf), "bytes freed beyond mem_tofree, per evicting call"); break;
	case M_SHORTFALL: snprintf(buf, sizeof(buf), "bytes short of mem_tofree, per evicting call"); break;
	case M_LAZYFREE_PENDING: snprintf(buf, sizeof(buf), "objects left to the lazyfree thread, per evicting call");
		break;
	default: snprintf(buf, sizeof(buf), "%s", names[m]); break;
	}
	return buf;
}

bool measure_is_latency(enum measure m)
{
	return m <= M_EVICT_LATENCY_NOOP;
}

bool measure_is_bytes(enum measure m)
{
	return (m >= M_MEM_REPORTED && m <= M_MEM_TOFREE) || (m >= M_FREED && m <= M_SHORTFALL) ||
	       m == M_MAXMEMORY || m == M_USED_MEMORY || m == M_CLIENTS_MEMORY;
}

const char *measure_label(enum measure m, int unit)
{
	if (measure_is_latency(m))
		return unit_label(unit);
	if (m == M_LAZYFREE_PENDING)
		return "objects";
	return m == M_KEYS_PER_EVICT ? "keys" : "bytes";
}

const char *measure_unit(enum measure m, int unit)
{
	return measure_is_latency(m) ? unit_name(unit) : measure_label(m, unit);
}

int measure_parse(const char *name)
{
	for (int m = 0; m < M_NMEASURES; m++)
		if (!strcmp(names[m], name))
			return m;
	return -1;
}

_Static_assert(M_OVERHEAD - M_MEM_REPORTED == EV_OVERHEAD - EV_MEM_REPORTED &&
	       M_MEM_USED - M_MEM_REPORTED == EV_MEM_USED - EV_MEM_REPORTED &&
	       M_MEM_TOFREE - M_MEM_REPORTED == EV_MEM_TOFREE - EV_MEM_REPORTED,
	       "the variables' measures follow enum ev_var");

static int var_of(enum measure m)
{
	return (int)(m - M_MEM_REPORTED) + EV_MEM_REPORTED;
}

#define LIGHT_NOOP "the light plan probes nothing a call that does not evict runs, so their latency is not " \
	"measured; --full measures it (two probe hits per command)"
static unsigned unread_bit(enum measure m)
{
	switch (m) {
	case M_COMMANDS: return UNREAD_COMMANDS;
	case M_MAXMEMORY: return UNREAD_MAXMEMORY;
	case M_USED_MEMORY: return UNREAD_USED_MEMORY;
	case M_CLIENTS_MEMORY: return UNREAD_CLIENTS_MEMORY;
	default: return 0;
	}
}

bool measure_lost(const struct sample *smp, enum measure m)
{
	return smp->unread & unread_bit(m);
}

/* Why a value known to the plan was not read from the target for SMP. */
static const char *unread_reason(const struct sample *smp)
{
	return smp->target_gone ? "the target had exited, so its memory could no longer be read"
				: "the target's memory could not be read";
}

const char *measure_unavailable(const struct session *s, const struct sample *smp, enum measure m)
{
	const char *no_calls = session__why_no_evictions(s, smp);
	const struct probe_plan *p = &s->plan;

	switch (m) {
	case M_COMMANDS:
		if (smp->commands_went_back && !smp->target_gone)
			return "server.stat_numcommands went back (CONFIG RESETSTAT zeroes it), so the commands of "
			       "this span are unknown";
		return measure_lost(smp, m) ? unread_reason(smp) : NULL;
	case M_MAXMEMORY:
		if (!p->maxmemory.known)
			return s->offsets_source[0] ? "the offset file does not say where server.maxmemory is"
						    : p->why_no_values;
		return measure_lost(smp, m) ? unread_reason(smp) : NULL;
	case M_USED_MEMORY:
		if (measure_lost(smp, m))
			return unread_reason(smp);
		return smp->used_memory >= 0 || s->used_memory ? NULL
			: "neither the offset file's used_memory nor the server's zmalloc_used_memory() can be read";
	case M_CLIENTS_MEMORY:
		if (!p->clients_memory.known)
			return s->offsets_source[0] ? MEASURE_NO_CLIENTS_MEMORY : p->why_no_values;
		return measure_lost(smp, m) ? unread_reason(smp) : NULL;
	case M_EVICT_LATENCY:
		return p->light && !no_calls ? LIGHT_NOOP : no_calls;
	case M_EVICT_LATENCY_NOOP:
		if (p->light && !no_calls)
			return LIGHT_NOOP;
		return p->slowpath ? no_calls : p->why_no_values;
	case M_EVICT_LATENCY_ACTIVE:
		return p->slowpath ? no_calls : p->why_no_values;
	case M_KEYS_PER_EVICT:
		return p->keys ? no_calls : p->why_no_values;
	case M_FREED:
	case M_ROUNDS_GREW:
	case M_OVERSHOOT:
	case M_SHORTFALL:
		if (!p->slowpath)
			return p->why_no_values;
		if (!p->sum[EV_SUM_USED_MEMORY].known)
			return p->sum[EV_SUM_USED_MEMORY].why;
		/* Against mem_tofree, which the file must read too. */
		if ((m == M_OVERSHOOT || m == M_SHORTFALL) && !(p->round_vars & (1U << EV_MEM_TOFREE)))
			return "mem_tofree is not read where a round starts (the slow-path site), so what a round "
			       "freed cannot be set against it";
		return m == M_ROUNDS_GREW ? NULL : no_calls;
	case M_LAZYFREE_PENDING:
		if (!p->slowpath)
			return p->why_no_values;
		return p->sum[EV_SUM_LAZYFREE_PENDING].known ? no_calls : p->sum[EV_SUM_LAZYFREE_PENDING].why;
	/* Counters are zero, not unavailable, when Redis does not evict. */
	case M_EVICTING_CALLS:
		return p->slowpath ? NULL : p->why_no_values;
	case M_KEYS_EVICTED:
		return p->keys ? NULL : p->why_no_values;
	case M_MEM_REPORTED:
	case M_OVERHEAD:
	case M_MEM_USED:
	case M_MEM_TOFREE:
		return (p->var_mask & (1U << var_of(m))) ? no_calls : p->why_no_values;
	default:
		return NULL;
	}
}

const char *maxmemory_policy_name(int64_t v)
{
	/* server.h's MAXMEMORY_* values, the same since Redis 4.0 and in Valkey. */
	static const struct { int64_t v; const char *name; } policies[] = {
		{ 0x001, "volatile-lru" }, { 0x102, "volatile-lfu" }, { 0x200, "volatile-random" },
		{ 0x300, "volatile-ttl" }, { 0x405, "allkeys-lru" }, { 0x506, "allkeys-lfu" },
		{ 0x604, "allkeys-random" }, { 0x700, "noeviction" },
	};

	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (policies[i].v == v)
			return policies[i].name;
	return NULL;
}

uint64_t measure_value(const struct sample *smp, enum measure m)
{
	switch (m) {
	case M_EVICTING_CALLS: return smp->evicting_calls;
	case M_KEYS_EVICTED: return smp->keys_evicted;
	case M_ROUNDS_GREW: return smp->rounds_grew;
	case M_COMMANDS: return smp->commands;
	case M_MAXMEMORY: return (uint64_t)smp->maxmemory;
	case M_USED_MEMORY: return (uint64_t)smp->used_memory;
	case M_CLIENTS_MEMORY: return (uint64_t)smp->clients_memory;
	default: return 0;
	}
}

void measure_hist(const struct sample *smp, enum measure m, int unit, struct hist *out)
{
	switch (m) {
	case M_EVICT_LATENCY: lat_view(&smp->lat_all, unit, out); break;
	case M_EVICT_LATENCY_ACTIVE: lat_view(&smp->lat[EV_ACTIVE], unit, out); break;
	case M_EVICT_LATENCY_NOOP: lat_view(&smp->lat[EV_NOOP], unit, out); break;
	case M_KEYS_PER_EVICT: *out = smp->keys_per_evict; break;
	case M_FREED: *out = smp->round[EV_FREED]; break;
	case M_OVERSHOOT: *out = smp->round[EV_OVERSHOOT]; break;
	case M_SHORTFALL: *out = smp->round[EV_SHORTFALL]; break;
	case M_LAZYFREE_PENDING: *out = smp->round[EV_LAZYFREE_PENDING]; break;
	default: *out = smp->var[var_of(m)]; break;
	}
}
