// SPDX-License-Identifier: BSD-3-Clause
/*
 * storm.c: feeding the heat map and the episode detector, in that order,
 * so that an episode's start and end are looked up in slices already
 * drained.
 */
#include "config.h"

#include <stdlib.h>

#include "storm.h"
#include "util.h"

struct storm *storm__open(const struct ev_slice *ring, uint64_t shift_ns, uint64_t start_mono_ns)
{
	struct storm *st = xcalloc(1, sizeof(*st));

	st->ring = ring;
	st->heat = heat__new(start_mono_ns, shift_ns, (int64_t)(now_real_ns() - now_mono_ns()));
	st->episodes = episodes__new(st->heat);
	return st;
}

void storm__close(struct storm *st)
{
	if (!st)
		return;
	episodes__free(st->episodes);
	heat__free(st->heat);
	free(st);
}

void storm__drain(struct storm *st, uint64_t now_mono_ns)
{
	heat__drain(st->heat, st->ring, now_mono_ns - STORM_DRAIN_GUARD_NS);
}

void storm__interval(struct storm *st, const struct sample *iv, uint64_t end_mono_ns)
{
	storm__drain(st, end_mono_ns);
	episodes__add(st->episodes, iv, end_mono_ns);
}
