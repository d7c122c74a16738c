/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hist.h: log2 histograms as user space holds them. Slot 0 counts values
 * in [0, 2), slot i values in [2^i, 2^(i+1)): each bucket covers twice the
 * previous one's range, as in the kernel side and bcc's funclatency.
 */
#ifndef REDPROF_HIST_H
#define REDPROF_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "evict.h"

struct hist {
	uint64_t slots[EV_SLOTS];
	uint64_t count;		/* sum of slots */
	uint64_t sum;		/* in base units (ns, bytes, keys) */
	uint64_t min, max;	/* base units; meaningful when count > 0 */
	uint64_t scale;		/* base units per bucket unit: 1, 1000 (us), 1000000 (ms) */
};

/* Latency of one phase: buckets in every unit, sum and extremes in ns. */
struct lat_hist {
	uint64_t slots[EV_NUNITS][EV_SLOTS];
	uint64_t count, sum_ns, min_ns, max_ns;
};

unsigned hist_slot(uint64_t v);
/* Inclusive low and exclusive high bound of SLOT; the top slot's high saturates. */
uint64_t hist_slot_lo(unsigned slot);
uint64_t hist_slot_hi(unsigned slot);
/* The largest value SLOT holds: hi - 1, and UINT64_MAX for the top slot. */
uint64_t hist_slot_max(unsigned slot);

/* Empty histogram with SCALE base units per bucket unit. */
void hist_init(struct hist *h, uint64_t scale);
/* Adds one value in base units (tests and derived histograms). */
void hist_add(struct hist *h, uint64_t v);

/*
 * Counts of CUR minus PREV (cumulative kernel snapshots), with this
 * period's extremes MM (min ~0 when nothing was recorded).
 */
void hist_delta(struct hist *h, const struct ev_hist *cur, const struct ev_hist *prev,
		const struct ev_minmax *mm);
void lat_delta(struct lat_hist *h, const struct ev_lat_hist *cur, const struct ev_lat_hist *prev,
	       const struct ev_minmax *mm);

/* A + B into DST (counts, sums and extremes). */
void hist_merge(struct hist *dst, const struct hist *a, const struct hist *b);
void lat_merge(struct lat_hist *dst, const struct lat_hist *a, const struct lat_hist *b);

/* The histogram of L in UNIT (enum ev_unit). */
void lat_view(const struct lat_hist *l, int unit, struct hist *out);

/*
 * The Q-quantile (0..1) of H in base units, computed as Prometheus's
 * histogram_quantile() computes it from the same buckets: each slot is the
 * bucket le = its largest base value (slot i in a unit of SCALE base units
 * holds base values up to hi * SCALE - 1); the bucket holding rank Q * count
 * is found and the value interpolated linearly between the previous
 * bucket's le (0 for the first) and its own. NAN when H is empty.
 */
double hist_quantile(const struct hist *h, double q);
/* hist_quantile() kept within H's exact minimum and maximum, which it can overshoot by a bucket. */
double hist_percentile(const struct hist *h, double q);

/* Index of the lowest and highest non-empty slots; false when empty. */
bool hist_range(const struct hist *h, unsigned *lo, unsigned *hi);

/*
 * "16M": V bytes with a K, M, G... suffix when it is a whole multiple of
 * 1024 (a log2 bucket's bound), else the number.
 */
void format_bytes(uint64_t v, char *buf, size_t len);

/* One row of a log2 histogram as people read it (the text output, the live view). */
struct hist_row {
	char lo[24], hi[24];	/* bytes: the bucket's bounds ("16M", "32M"); else its inclusive bounds ("16", "31") */
	uint64_t count;
	bool merged;		/* several buckets, merged to fit */
};

/*
 * The rows of H, at most MAX: every bucket from the lowest to the highest
 * non-empty one; when that is more than MAX, the empty ones are left out,
 * then the lowest merged into one, so the costliest calls stay in view.
 * BYTES names bounds as format_bytes does. Returns how many.
 */
size_t hist_rows(const struct hist *h, bool bytes, struct hist_row *row, size_t max);

/* Unit names: "ns"/"us"/"ms" and funclatency's column labels "nsecs"/"usecs"/"msecs". */
const char *unit_name(int unit);
const char *unit_label(int unit);
uint64_t unit_scale(int unit);
int unit_parse(const char *s);	/* -1 when unknown */

#endif /* REDPROF_HIST_H */
