// SPDX-License-Identifier: BSD-3-Clause
/*
 * episode.c: finding storm episodes in the intervals, summing them, and
 * placing each in its cycle.
 *
 * Every interval is turned into a one-interval episode and merged, so an
 * episode is exactly the sum of its intervals. The cold intervals after an
 * episode's last busy one wait apart (the tail): when eviction resumes
 * within EPISODE_QUIET_NS they join it, else they are the "after".
 *
 * The cycle comes from used_memory, read at each interval's end. Its low
 * point over a stretch is a plateau: readings within 1% of maxmemory of
 * the lowest count as low, so that noise does not move where the reclaim
 * ends (the first low reading) or where the growth begins (the last one).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "episode.h"
#include "util.h"

#define LOW_TOLERANCE_MIN (64 * 1024)	/* bytes: the plateau is never narrower */

struct episodes *episodes__new(const struct heat *heat)
{
	struct episodes *e = xcalloc(1, sizeof(*e));

	e->heat = heat;
	e->next_id = 1;
	e->list = xcalloc(EPISODES_KEPT, sizeof(*e->list));
	return e;
}

void episodes__free(struct episodes *e)
{
	if (!e)
		return;
	free(e->list);
	free(e);
}

const struct episode *episodes__at(const struct episodes *e, size_t i)
{
	return &e->list[i];
}

double episode_duration_s(const struct episode *ep)
{
	return ep->end_ns > ep->start_ns ? (double)(ep->end_ns - ep->start_ns) / 1e9 : 0;
}

int64_t episode_bytes_freed(const struct episode *ep)
{
	return (int64_t)ep->freed.sum - (int64_t)ep->grew_bytes;
}

double episode_evict_share(const struct episode *ep)
{
	double d = episode_duration_s(ep), share;

	/* Start and end fall in one slice: the intervals' length is all there is. */
	if (!(d > 0))
		d = (double)ep->iv_ns / 1e9;
	share = d > 0 ? (double)ep->evict_ns / 1e9 / d : 0;
	return share > 1 ? 1 : share;
}

/* ------------------------------------------------------------------ */
/* Sums                                                                 */
/* ------------------------------------------------------------------ */

static void episode_init(struct episode *ep)
{
	memset(ep, 0, sizeof(*ep));
	hist_init(&ep->latency, 1);
	hist_init(&ep->tofree, 1);
	hist_init(&ep->overhead, 1);
	hist_init(&ep->freed, 1);
	ep->overhead_first = ep->overhead_peak = NAN;
	ep->cmds_before = ep->cmds_during = ep->cmds_after = NAN;
	ep->maxmemory = -1;
	ep->clients_before = ep->clients_first = ep->clients_peak = ep->clients_last = ep->clients_after = -1;
	ep->cycle = (struct episode_cycle){ NAN, false, -1, NAN, -1, NAN };
}

/* IV as an episode of one interval. */
static void episode_of_interval(struct episode *ep, const struct sample *iv)
{
	const struct hist *ovh = &iv->var[EV_OVERHEAD];

	episode_init(ep);
	ep->intervals = 1;
	ep->iv_ns = iv->ns;
	ep->first_end_real_ns = ep->last_end_real_ns = iv->end_real_ns;
	ep->commands = iv->commands;
	ep->calls = iv->calls;
	ep->evicting_calls = iv->evicting_calls;
	ep->keys_evicted = iv->keys_evicted;
	memcpy(ep->returns, iv->returns, sizeof(ep->returns));
	ep->evict_ns = iv->lat[EV_ACTIVE].sum_ns;
	lat_view(&iv->lat[EV_ACTIVE], EV_NSEC, &ep->latency);
	ep->tofree = iv->var[EV_MEM_TOFREE];
	ep->overhead = *ovh;
	ep->freed = iv->round[EV_FREED];
	ep->grew_bytes = iv->grew_bytes;
	ep->clients_first = ep->clients_peak = ep->clients_last = iv->clients_memory;
	ep->payers = iv->payers;
	ep->outside = iv->outside;
	ep->payer_unread = iv->payer_unread;
	if (ovh->count)
		ep->overhead_first = ep->overhead_peak = (double)ovh->sum / (double)ovh->count;
	if (iv->evicting_calls >= 10) {
		ep->worst_running = iv->returns[EV_RET_1];
		ep->worst_rounds = iv->evicting_calls;
	}
	ep->maxmemory = iv->maxmemory;
}

/* SRC, which follows DST in time, added to DST. */
static void episode_merge(struct episode *dst, const struct episode *src)
{
	if (!src->intervals)
		return;
	if (!dst->intervals)
		dst->first_end_real_ns = src->first_end_real_ns;
	dst->last_end_real_ns = src->last_end_real_ns;
	dst->intervals += src->intervals;
	dst->iv_ns += src->iv_ns;
	dst->commands += src->commands;
	dst->calls += src->calls;
	dst->evicting_calls += src->evicting_calls;
	dst->keys_evicted += src->keys_evicted;
	for (int i = 0; i < EV_NRETS; i++)
		dst->returns[i] += src->returns[i];
	dst->evict_ns += src->evict_ns;
	hist_merge(&dst->latency, &dst->latency, &src->latency);
	hist_merge(&dst->tofree, &dst->tofree, &src->tofree);
	hist_merge(&dst->overhead, &dst->overhead, &src->overhead);
	hist_merge(&dst->freed, &dst->freed, &src->freed);
	dst->grew_bytes += src->grew_bytes;
	if (dst->clients_first < 0)
		dst->clients_first = src->clients_first;
	if (src->clients_peak > dst->clients_peak)
		dst->clients_peak = src->clients_peak;
	if (src->clients_last >= 0)
		dst->clients_last = src->clients_last;
	payer_top_add(&dst->payers, &src->payers);
	payer_sums_add(&dst->outside, &src->outside);
	dst->payer_unread += src->payer_unread;
	if (isnan(dst->overhead_first))
		dst->overhead_first = src->overhead_first;
	if (isnan(dst->overhead_peak) || src->overhead_peak > dst->overhead_peak)
		dst->overhead_peak = src->overhead_peak;
	/* The larger share of rounds that hit the time limit: a/b > c/d as a*d > c*b. */
	if (src->worst_rounds && (!dst->worst_rounds ||
				  src->worst_running * dst->worst_rounds > dst->worst_running * src->worst_rounds)) {
		dst->worst_running = src->worst_running;
		dst->worst_rounds = src->worst_rounds;
	}
	if (src->maxmemory >= 0)
		dst->maxmemory = src->maxmemory;
}

static double rate(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : NAN;
}

/* ------------------------------------------------------------------ */
/* The cycle                                                            */
/* ------------------------------------------------------------------ */

static void low_feed(struct low_point *l, const struct sample *iv, uint64_t at)
{
	int64_t tol = (iv->maxmemory > 0 ? iv->maxmemory : iv->used_memory) / 100;

	if (iv->used_memory < 0)
		return;
	tol = tol > LOW_TOLERANCE_MIN ? tol : LOW_TOLERANCE_MIN;
	if (!l->have || iv->used_memory < l->min - tol) {
		*l = (struct low_point){ true, iv->used_memory, at, at };
		return;
	}
	if (iv->used_memory < l->min)
		l->min = iv->used_memory;
	if (iv->used_memory <= l->min + tol)
		l->last_at = at;
}

static double seconds_between(uint64_t from, uint64_t to)
{
	return to > from ? (double)(to - from) / 1e9 : 0;
}

/* The growth before the episode being confirmed, and its period. */
static void cycle_begin(struct episodes *e)
{
	struct episode_cycle *c = &e->cur.cycle;

	if (e->low_before.have) {
		c->growth_s = seconds_between(e->low_before.last_at, e->cur.start_ns);
		c->growth_before_capture = e->low_before.last_at == e->capture_first_end;
		c->low_before = e->low_before.min;
	}
	if (e->have_prev)
		c->period_s = seconds_between(e->prev_start, e->cur.start_ns);
	e->have_prev = true;
	e->prev_start = e->cur.start_ns;
}

/*
 * The reclaim after the last episode: to the low point since it ended, or
 * none (0) while used_memory stays within EPISODE_RECLAIM_SHARE of
 * maxmemory. Fixed once another episode begins.
 */
static void cycle_reclaim(struct episodes *e)
{
	struct episode *last = e->n ? &e->list[e->n - 1] : NULL;

	if (!last || !e->low.have || last->maxmemory <= 0)
		return;
	last->cycle.low_after = e->low.min;
	last->cycle.reclaim_s = (double)e->low.min > (1 - EPISODE_RECLAIM_SHARE) * (double)last->maxmemory ? 0 :
				seconds_between(last->end_ns, e->low.first_at);
}

/* ------------------------------------------------------------------ */
/* Detection                                                            */
/* ------------------------------------------------------------------ */

/* Start and end to the slice, where the heat map has them; else the bounds of the intervals. */
static void refine(struct episodes *e, struct episode *ep)
{
	uint64_t at;

	ep->start_ns = e->first_start;
	if (e->heat && heat__first_busy(e->heat, e->first_start, e->first_end, &at))
		ep->start_ns = at;
	ep->end_ns = e->last_end;
	if (e->heat && heat__last_busy(e->heat, e->last_start, e->last_end, &at))
		ep->end_ns = at;
	ep->start_real_ns = (uint64_t)((int64_t)ep->start_ns + e->real_minus_mono);
	ep->end_real_ns = (uint64_t)((int64_t)ep->end_ns + e->real_minus_mono);
}

/* Commands/s over the intervals that ended in the EPISODE_BEFORE_NS before START. */
static double commands_before(const struct episodes *e, uint64_t start)
{
	uint64_t n = 0, ns = 0;
	size_t k = e->nhistory < EPISODE_HISTORY ? e->nhistory : EPISODE_HISTORY;

	for (size_t i = 0; i < k; i++) {
		const struct episode_recent *h = &e->history[(e->nhistory - 1 - i) % EPISODE_HISTORY];

		if (h->end > start)
			continue;
		if (h->end + EPISODE_BEFORE_NS <= start)
			break;
		n += h->commands;
		ns += h->end - h->start;
	}
	return rate(n, ns);
}

static void begin(struct episodes *e, const struct episode *one, uint64_t start, uint64_t end)
{
	e->state = EPISODE_TENTATIVE;
	e->cur = *one;
	episode_init(&e->tail);
	e->first_start = e->last_start = start;
	e->first_end = e->last_end = end;
	e->real_minus_mono = (int64_t)one->last_end_real_ns - (int64_t)end;
	e->hot_ns = 0;
	e->low_before = e->low;
	e->low_tail = (struct low_point){ 0 };
	e->cur.cmds_before = commands_before(e, start);
	e->cur.clients_before = e->nhistory ? e->history[(e->nhistory - 1) % EPISODE_HISTORY].clients_memory : -1;
}

static void keep(struct episodes *e, const struct episode *ep)
{
	if (e->n == EPISODES_KEPT) {
		memmove(e->list, e->list + 1, (EPISODES_KEPT - 1) * sizeof(*e->list));
		e->n--;
		e->dropped++;
	}
	e->list[e->n++] = *ep;
}

/* Quiet long enough: a confirmed episode is kept, a tentative one was a blip. */
static void end(struct episodes *e)
{
	if (e->state == EPISODE_OPEN) {
		refine(e, &e->cur);
		e->cur.cmds_during = rate(e->cur.commands, e->cur.iv_ns);
		e->cur.cmds_after = rate(e->tail.commands, e->tail.iv_ns);
		e->cur.clients_after = e->tail.clients_last;
		keep(e, &e->cur);
		/* The reclaim is looked for from its end on. */
		e->low = e->low_tail;
	}
	e->state = EPISODE_IDLE;
}

static void remember(struct episodes *e, const struct sample *iv, uint64_t start, uint64_t end_ns)
{
	struct episode_recent *h = &e->history[e->nhistory++ % EPISODE_HISTORY];

	h->start = start;
	h->end = end_ns;
	h->commands = iv->commands;
	h->clients_memory = iv->clients_memory;
}

void episodes__add(struct episodes *e, const struct sample *iv, uint64_t end_mono_ns)
{
	uint64_t start = end_mono_ns - iv->ns;
	double share = sample_evicting_share(iv);
	struct episode one;

	if (!e->capture_first_end)
		e->capture_first_end = end_mono_ns;
	episode_of_interval(&one, iv);
	low_feed(&e->low, iv, end_mono_ns);
	if (e->state == EPISODE_IDLE) {
		if (share >= EPISODE_ENTER)
			begin(e, &one, start, end_mono_ns);
	} else if (share < EPISODE_LEAVE) {
		episode_merge(&e->tail, &one);
		low_feed(&e->low_tail, iv, end_mono_ns);
		if (e->tail.iv_ns >= EPISODE_QUIET_NS)
			end(e);
	} else {
		episode_merge(&e->cur, &e->tail);
		episode_init(&e->tail);
		e->low_tail = (struct low_point){ 0 };
		episode_merge(&e->cur, &one);
		e->last_start = start;
		e->last_end = end_mono_ns;
	}
	if (e->state != EPISODE_IDLE && share >= EPISODE_ENTER) {
		e->hot_ns += iv->ns;
		if (e->state == EPISODE_TENTATIVE && e->hot_ns >= EPISODE_SUSTAIN_NS) {
			e->state = EPISODE_OPEN;
			e->cur.id = e->next_id++;
			refine(e, &e->cur);
			cycle_begin(e);
		}
	}
	if (e->state == EPISODE_OPEN)
		refine(e, &e->cur);
	else
		cycle_reclaim(e);
	remember(e, iv, start, end_mono_ns);
}

bool episodes__current(const struct episodes *e, struct episode *out)
{
	if (e->state != EPISODE_OPEN)
		return false;
	*out = e->cur;
	out->ongoing = true;
	out->cmds_during = rate(out->commands, out->iv_ns);
	return true;
}
