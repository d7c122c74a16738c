/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.h: the intervals of a capture, for what is written when it ends
 * (export files) or on request (the UI's snapshots), and the running total
 * that /metrics serves. Intervals go to a spool on disk as they come, so
 * memory stays flat however long redprof runs; the totals are sums of the
 * same intervals, so a file's total always equals the sum of its intervals.
 */
#ifndef REDPROF_CAPTURE_H
#define REDPROF_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "sample.h"
#include "spool.h"

/* A run of intervals: the whole capture, or those since the last mark. */
struct capture_run {
	struct spool_pos from;		/* its first interval in the spool */
	size_t n;			/* intervals added */
	size_t dropped;			/* ... of which the spool could not keep */
	struct sample total;		/* their sum */
	uint64_t start_real_ns;		/* when the first began; 0 before any */
};

struct capture {
	struct spool *spool;		/* NULL: only the totals are kept */
	int spool_err;			/* why not, or the first append that failed (-errno) */
	struct capture_run all, marked;
};

/* A capture that keeps totals only, until capture__spool_in gives it a spool. */
struct capture *capture__new(void);
void capture__free(struct capture *c);

/* Keeps the intervals in a spool in DIR from now on. 0 or -errno (also kept in spool_err). */
int capture__spool_in(struct capture *c, const char *dir);

/* One more interval. A spool that cannot take it counts it as dropped. */
void capture__add(struct capture *c, const struct sample *iv);

/* The marked run starts afresh here (the UI's reset). */
void capture__mark(struct capture *c);

/* Calls FN on each interval of RUN in order; stops at FN's non-zero result or a spool error (-errno). */
int capture__each(const struct capture *c, const struct capture_run *run,
		  int (*fn)(const struct sample *iv, void *arg), void *arg);

#endif /* REDPROF_CAPTURE_H */
