// SPDX-License-Identifier: BSD-3-Clause
/*
 * sample.c: turning two cumulative kernel snapshots into one interval.
 */
#include "config.h"

#include <string.h>

#include "sample.h"

void sample_delta(struct sample *s, const struct ev_totals *cur, const struct ev_totals *prev,
		  const struct ev_extrema *mm)
{
	static const struct ev_totals zero;

	if (!prev)
		prev = &zero;
	memset(s, 0, sizeof(*s));
	s->maxmemory = s->used_memory = s->clients_memory = s->policy = -1;
	s->calls = cur->calls - prev->calls;
	s->commands = cur->commands - prev->commands;
	s->evicting_calls = cur->evicting_calls - prev->evicting_calls;
	s->keys_evicted = cur->keys_evicted - prev->keys_evicted;
	s->other_threads = cur->other_threads - prev->other_threads;
	s->orphan_returns = cur->orphan_returns - prev->orphan_returns;
	s->orphan_exits = cur->orphan_exits - prev->orphan_exits;
	s->read_errors = cur->read_errors - prev->read_errors;
	for (int i = 0; i < EV_NRETS; i++)
		s->returns[i] = cur->returns[i] - prev->returns[i];
	for (int i = 0; i < EV_MAX_SITES; i++)
		s->hits[i] = cur->hits[i] - prev->hits[i];
	/* The entry and return programs do not count their hits: they are the calls and returns. */
	s->hits[EV_SITE_INDEX_ENTRY] = s->calls;
	s->hits[EV_SITE_INDEX_RETURN] = s->orphan_returns;
	for (int i = 0; i < EV_NRETS; i++)
		s->hits[EV_SITE_INDEX_RETURN] += s->returns[i];
	for (int i = 0; i < EV_NPHASES; i++)
		lat_delta(&s->lat[i], &cur->lat[i], &prev->lat[i], &mm->lat[i]);
	lat_merge(&s->lat_all, &s->lat[EV_NOOP], &s->lat[EV_ACTIVE]);
	for (int i = 0; i < EV_NVARS; i++)
		hist_delta(&s->var[i], &cur->var[i], &prev->var[i], &mm->var[i]);
	hist_delta(&s->keys_per_evict, &cur->keys_per_evict, &prev->keys_per_evict, &mm->keys_per_evict);
	for (int i = 0; i < EV_NROUNDS; i++)
		hist_delta(&s->round[i], &cur->round[i], &prev->round[i], &mm->round[i]);
	s->rounds_grew = cur->rounds_grew - prev->rounds_grew;
	s->grew_bytes = cur->grew_bytes - prev->grew_bytes;
	s->outside.rounds = cur->outside_rounds - prev->outside_rounds;
	s->outside.ns = cur->outside_ns - prev->outside_ns;
	s->outside.keys = cur->outside_keys - prev->outside_keys;
	s->payer_unread = cur->payer_unread - prev->payer_unread;
}

/*
 * sample_add names every field; a field added to struct sample changes its
 * size, and this stops the build until sample_add adds it too.
 */
_Static_assert(sizeof(struct sample) == 11000, "sample_add must add every field of struct sample");

void sample_init(struct sample *s)
{
	memset(s, 0, sizeof(*s));
	s->maxmemory = s->used_memory = s->clients_memory = s->policy = -1;
	for (int i = 0; i < EV_NPHASES; i++)
		s->lat[i].min_ns = UINT64_MAX;
	s->lat_all.min_ns = UINT64_MAX;
	for (int i = 0; i < EV_NVARS; i++)
		hist_init(&s->var[i], 1);
	hist_init(&s->keys_per_evict, 1);
	for (int i = 0; i < EV_NROUNDS; i++)
		hist_init(&s->round[i], 1);
}

void sample_add(struct sample *acc, const struct sample *iv)
{
	acc->end_real_ns = iv->end_real_ns;
	acc->ns += iv->ns;
	acc->calls += iv->calls;
	acc->commands += iv->commands;
	acc->evicting_calls += iv->evicting_calls;
	acc->keys_evicted += iv->keys_evicted;
	for (int i = 0; i < EV_NRETS; i++)
		acc->returns[i] += iv->returns[i];
	for (int i = 0; i < EV_NPHASES; i++)
		lat_merge(&acc->lat[i], &acc->lat[i], &iv->lat[i]);
	lat_merge(&acc->lat_all, &acc->lat_all, &iv->lat_all);
	for (int i = 0; i < EV_NVARS; i++)
		hist_merge(&acc->var[i], &acc->var[i], &iv->var[i]);
	hist_merge(&acc->keys_per_evict, &acc->keys_per_evict, &iv->keys_per_evict);
	for (int i = 0; i < EV_NROUNDS; i++)
		hist_merge(&acc->round[i], &acc->round[i], &iv->round[i]);
	acc->rounds_grew += iv->rounds_grew;
	acc->grew_bytes += iv->grew_bytes;
	payer_sums_add(&acc->outside, &iv->outside);
	acc->payer_unread += iv->payer_unread;
	payer_top_add(&acc->payers, &iv->payers);
	for (int i = 0; i < EV_MAX_SITES; i++)
		acc->hits[i] += iv->hits[i];
	acc->other_threads += iv->other_threads;
	acc->orphan_returns += iv->orphan_returns;
	acc->orphan_exits += iv->orphan_exits;
	acc->read_errors += iv->read_errors;
	if (iv->maxmemory >= 0)
		acc->maxmemory = iv->maxmemory;
	if (iv->used_memory >= 0)
		acc->used_memory = iv->used_memory;
	if (iv->clients_memory >= 0)
		acc->clients_memory = iv->clients_memory;
	if (iv->policy >= 0)
		acc->policy = iv->policy;
	/* A count one interval could not read leaves the sum short; a gauge is the latest reading or none. */
	acc->unread = (acc->unread & UNREAD_COMMANDS) | iv->unread;
	acc->target_gone |= iv->target_gone;
	acc->commands_went_back |= iv->commands_went_back;
}

double sample_evicting_share(const struct sample *s)
{
	uint64_t calls = s->calls > s->evicting_calls ? s->calls : s->evicting_calls;

	return calls ? (double)s->evicting_calls / (double)calls : 0;
}

double sample_evict_share(const struct sample *s)
{
	double share;

	if (!s->ns)
		return 0;
	share = (double)s->lat_all.sum_ns / (double)s->ns;
	/* A call that began in the previous interval is counted whole in this one. */
	return share > 1 ? 1 : share;
}

void sample_extrema_init(struct ev_extrema *e)
{
	memset(e, 0, sizeof(*e));
	for (int i = 0; i < EV_NPHASES; i++)
		e->lat[i].min = ~0ULL;
	for (int i = 0; i < EV_NVARS; i++)
		e->var[i].min = ~0ULL;
	e->keys_per_evict.min = ~0ULL;
	for (int i = 0; i < EV_NROUNDS; i++)
		e->round[i].min = ~0ULL;
}
