/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm.h: the storm view of a session: the heat map drained from the
 * kernel's slice ring and the episodes found in the intervals, fed at
 * every interval's end. The session owns it; text, JSON, the UI, exports
 * and the report read it.
 */
#ifndef REDPROF_STORM_H
#define REDPROF_STORM_H

#include <stdint.h>

#include "episode.h"
#include "heatmap.h"
#include "sample.h"

/* Slices end this long before an interval's end before they are read: calls in flight may still write them. */
#define STORM_DRAIN_GUARD_NS 1000000ULL
/* The ring holds EV_SLICES (81.92 s): drained at least this often, an interval of any length loses none. */
#define STORM_DRAIN_EVERY_NS (30 * 1000000000ULL)

struct storm {
	const struct ev_slice *ring;	/* the kernel's, in the probes' memory */
	struct heat *heat;
	struct episodes *episodes;
};

/*
 * The storm of a capture beginning at START_MONO_NS, draining RING, whose
 * slice clock is CLOCK_MONOTONIC + SHIFT_NS.
 */
struct storm *storm__open(const struct ev_slice *ring, uint64_t shift_ns, uint64_t start_mono_ns);
void storm__close(struct storm *st);

/* The slices that ended by NOW_MONO_NS are moved from the ring to the heat map. */
void storm__drain(struct storm *st, uint64_t now_mono_ns);

/* Interval IV ended at END_MONO_NS: its slices are drained, then it goes to the episodes. */
void storm__interval(struct storm *st, const struct sample *iv, uint64_t end_mono_ns);

#endif /* REDPROF_STORM_H */
