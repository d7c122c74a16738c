// SPDX-License-Identifier: BSD-3-Clause
/*
 * heatmap.c: draining the kernel's slice ring into seconds, and reading
 * them back.
 *
 * The kernel adds an evicting call to the slice it ended in, whole: cheap
 * in the probe, but a call longer than a slice (a round with a generous
 * time limit) would make one slice more than 100% busy and the slices it
 * covered idle. Here the excess goes back to the slices before, filling
 * each up to its length, so every slice's share is true and the sum of all
 * slices is still the sum of the latencies.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "heatmap.h"
#include "util.h"

struct heat *heat__new(uint64_t start_mono_ns, uint64_t shift_ns, int64_t real_minus_mono_ns)
{
	struct heat *h = xcalloc(1, sizeof(*h));

	h->col = xcalloc(HEAT_KEEP_S, sizeof(*h->col));
	h->shift_ns = shift_ns;
	/* The shift is the sub-second part of CLOCK_REALTIME - CLOCK_MONOTONIC: the rest is whole seconds. */
	h->real_base_s = (uint64_t)llround((double)(real_minus_mono_ns - (int64_t)shift_ns) / 1e9);
	h->start_slice = h->next_slice = (start_mono_ns + shift_ns) / EV_SLICE_NS;
	h->first_held = h->last = h->start_slice / HEAT_SLICES_PER_S;
	h->col[h->last % HEAT_KEEP_S].second = h->last + h->real_base_s;
	return h;
}

void heat__free(struct heat *h)
{
	if (!h)
		return;
	free(h->col);
	free(h);
}

/* Holds slice-clock seconds up to SEC, each new one empty; the oldest go when more than HEAT_KEEP_S are held. */
static void advance(struct heat *h, uint64_t sec)
{
	while (h->last < sec) {
		struct heat_column *c = &h->col[++h->last % HEAT_KEEP_S];

		memset(c, 0, sizeof(*c));
		c->second = h->last + h->real_base_s;
		if (h->last - h->first_held >= HEAT_KEEP_S)
			h->first_held = h->last - HEAT_KEEP_S + 1;
	}
}

/* The first slice whose time is held: the capture's first, or the oldest second's first. */
static uint64_t oldest_slice(const struct heat *h)
{
	uint64_t first = h->first_held * HEAT_SLICES_PER_S;

	return first > h->start_slice ? first : h->start_slice;
}

static uint32_t *busy_at(struct heat *h, uint64_t n)
{
	return &h->col[n / HEAT_SLICES_PER_S % HEAT_KEEP_S].busy_ns[n % HEAT_SLICES_PER_S];
}

static uint32_t busy_of(const struct heat *h, uint64_t n)
{
	return h->col[n / HEAT_SLICES_PER_S % HEAT_KEEP_S].busy_ns[n % HEAT_SLICES_PER_S];
}

/* Slice N's time BUSY and CALLS; what exceeds its length fills the slices before it. */
static void place(struct heat *h, uint64_t n, uint64_t busy, uint64_t calls)
{
	struct heat_column *c = &h->col[n / HEAT_SLICES_PER_S % HEAT_KEEP_S];
	uint64_t total = c->busy_ns[n % HEAT_SLICES_PER_S] + busy, excess, stop = oldest_slice(h);

	h->busy_ns += busy;
	h->calls += calls;
	c->calls[n % HEAT_SLICES_PER_S] += (uint32_t)calls;
	if (total <= EV_SLICE_NS) {
		c->busy_ns[n % HEAT_SLICES_PER_S] = (uint32_t)total;
		return;
	}
	c->busy_ns[n % HEAT_SLICES_PER_S] = (uint32_t)EV_SLICE_NS;
	excess = total - EV_SLICE_NS;
	for (uint64_t m = n; excess && m > stop;) {
		uint32_t *b = busy_at(h, --m);
		uint64_t take = EV_SLICE_NS - *b;

		take = take < excess ? take : excess;
		*b += (uint32_t)take;
		excess -= take;
	}
	h->unplaced_ns += excess;
}

void heat__drain(struct heat *h, const struct ev_slice *ring, uint64_t upto_mono_ns)
{
	uint64_t upto = (upto_mono_ns + h->shift_ns) / EV_SLICE_NS;

	if (upto <= h->next_slice)
		return;
	/* The ring holds EV_SLICES: older slices may have been overwritten since. */
	if (upto - h->next_slice > EV_SLICES) {
		h->lost_slices += upto - EV_SLICES - h->next_slice;
		h->next_slice = upto - EV_SLICES;
	}
	advance(h, (upto - 1) / HEAT_SLICES_PER_S);
	for (uint64_t n = h->next_slice; n < upto; n++) {
		const volatile struct ev_slice *s = &ring[n & (EV_SLICES - 1)];

		/* A slot still holding an older slice: no evicting call ended in this one. */
		if (s->slice == n && n >= oldest_slice(h))
			place(h, n, s->busy_ns, s->calls);
	}
	h->next_slice = upto;
}

const struct heat_column *heat__column(const struct heat *h, uint64_t sec)
{
	uint64_t s = sec - h->real_base_s;

	if (sec < h->real_base_s || s < h->first_held || s > h->last)
		return NULL;
	return &h->col[s % HEAT_KEEP_S];
}

bool heat__span(const struct heat *h, uint64_t *oldest, uint64_t *newest)
{
	if (h->next_slice == h->start_slice)
		return false;
	*oldest = h->first_held + h->real_base_s;
	*newest = (h->next_slice - 1) / HEAT_SLICES_PER_S + h->real_base_s;
	return true;
}

double heat_cell(const struct heat_column *c, unsigned row, unsigned rows, uint64_t *calls)
{
	unsigned per = HEAT_SLICES_PER_S / rows;
	uint64_t busy = 0, n = 0;

	for (unsigned i = row * per; i < (row + 1) * per && i < HEAT_SLICES_PER_S; i++) {
		busy += c->busy_ns[i];
		n += c->calls[i];
	}
	if (calls)
		*calls = n;
	return (double)busy / ((double)per * (double)EV_SLICE_NS);
}

/* The drained and held slices that overlap [FROM, TO): *LO inclusive, *HI exclusive; false when none. */
static bool slice_range(const struct heat *h, uint64_t from, uint64_t to, uint64_t *lo, uint64_t *hi)
{
	uint64_t first = oldest_slice(h);

	if (to <= from)
		return false;
	*lo = (from + h->shift_ns) / EV_SLICE_NS;
	*hi = (to - 1 + h->shift_ns) / EV_SLICE_NS + 1;
	*lo = *lo > first ? *lo : first;
	*hi = *hi < h->next_slice ? *hi : h->next_slice;
	return *lo < *hi;
}

bool heat__first_busy(const struct heat *h, uint64_t from_mono_ns, uint64_t to_mono_ns, uint64_t *at)
{
	uint64_t lo, hi;

	if (!slice_range(h, from_mono_ns, to_mono_ns, &lo, &hi))
		return false;
	for (uint64_t n = lo; n < hi; n++) {
		if (!busy_of(h, n))
			continue;
		*at = n * EV_SLICE_NS - h->shift_ns;
		*at = *at > from_mono_ns ? *at : from_mono_ns;
		return true;
	}
	return false;
}

bool heat__last_busy(const struct heat *h, uint64_t from_mono_ns, uint64_t to_mono_ns, uint64_t *at)
{
	uint64_t lo, hi;

	if (!slice_range(h, from_mono_ns, to_mono_ns, &lo, &hi))
		return false;
	for (uint64_t n = hi; n-- > lo;) {
		if (!busy_of(h, n))
			continue;
		*at = (n + 1) * EV_SLICE_NS - h->shift_ns;
		*at = *at < to_mono_ns ? *at : to_mono_ns;
		return true;
	}
	return false;
}
