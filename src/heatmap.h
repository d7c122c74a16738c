/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * heatmap.h: the sub-second heat map of eviction, flamescope's picture:
 * one column a second, each cut into fixed slices of 10 ms, and in each
 * slice the main thread's time inside evicting calls. The kernel keeps the
 * last EV_SLICES slices in a ring (probes/evict.bpf.c); this store drains
 * it each interval and keeps the last HEAT_KEEP_S seconds, so memory stays
 * flat however long redprof runs.
 *
 * Clocks: the kernel cuts slices on CLOCK_MONOTONIC plus a shift that puts
 * slice boundaries on wall-clock multiples of 10 ms. Lookups take
 * CLOCK_MONOTONIC nanoseconds; columns are numbered by wall-clock second.
 */
#ifndef REDPROF_HEATMAP_H
#define REDPROF_HEATMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "evict.h"

#define HEAT_SLICES_PER_S ((unsigned)(1000000000ULL / EV_SLICE_NS))	/* rows of the finest map: 100 */
#define HEAT_KEEP_S 3600	/* seconds kept: the last hour */

_Static_assert(1000000000ULL % EV_SLICE_NS == 0, "a second must be a whole number of slices");

/* One second of the map. */
struct heat_column {
	uint64_t second;			/* wall-clock second (Unix time) */
	uint32_t busy_ns[HEAT_SLICES_PER_S];	/* time in evicting calls, at most EV_SLICE_NS each */
	uint32_t calls[HEAT_SLICES_PER_S];	/* evicting calls that ended in the slice */
};

struct heat {
	struct heat_column *col;	/* a ring of HEAT_KEEP_S; seconds first_held .. last are valid */
	uint64_t shift_ns;		/* the kernel's slice clock: CLOCK_MONOTONIC + shift_ns */
	uint64_t real_base_s;		/* wall-clock second = slice-clock second + real_base_s */
	uint64_t start_slice;		/* the slice the capture began in */
	uint64_t next_slice;		/* the first slice not drained yet */
	uint64_t first_held, last;	/* slice-clock seconds held */
	uint64_t lost_slices;		/* overwritten in the kernel's ring before they were drained */
	uint64_t busy_ns, calls;	/* everything drained */
	uint64_t unplaced_ns;		/* time of long calls that reached back before the oldest second held */
};

/*
 * A store for a capture starting now (START_MONO_NS) against a kernel ring
 * whose slice clock is CLOCK_MONOTONIC + SHIFT_NS; REAL_MINUS_MONO_NS is
 * CLOCK_REALTIME - CLOCK_MONOTONIC now.
 */
struct heat *heat__new(uint64_t start_mono_ns, uint64_t shift_ns, int64_t real_minus_mono_ns);
void heat__free(struct heat *h);

/*
 * Takes the slices of RING (EV_SLICES of them) that ended before
 * UPTO_MONO_NS and were not taken yet. A slice holding more time than its
 * length (a call longer than a slice is counted whole where it ended) gives
 * the rest back to the slices before it.
 */
void heat__drain(struct heat *h, const struct ev_slice *ring, uint64_t upto_mono_ns);

/* The column of wall-clock second SEC, NULL when it is not held (not drained yet, or too old). */
const struct heat_column *heat__column(const struct heat *h, uint64_t sec);
/* The newest and oldest wall-clock seconds held; false before anything was drained. */
bool heat__span(const struct heat *h, uint64_t *oldest, uint64_t *newest);

/*
 * The share (0..1) of ROW of column C spent evicting, the column cut into
 * ROWS rows (a divisor of HEAT_SLICES_PER_S); *CALLS, when not NULL, the
 * evicting calls that ended in it.
 */
double heat_cell(const struct heat_column *c, unsigned row, unsigned rows, uint64_t *calls);

/*
 * The start of the first, or the end of the last, slice in [FROM, TO)
 * (CLOCK_MONOTONIC ns) in which the main thread evicted; false when none
 * is held.
 */
bool heat__first_busy(const struct heat *h, uint64_t from_mono_ns, uint64_t to_mono_ns, uint64_t *at);
bool heat__last_busy(const struct heat *h, uint64_t from_mono_ns, uint64_t to_mono_ns, uint64_t *at);

#endif /* REDPROF_HEATMAP_H */
