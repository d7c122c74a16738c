/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exits.h: the jumps where an evicting call leaves the eviction path, the
 * ways on from them that leave it, each passed exactly once on every way
 * out of the slow path, and the function's return value on each.
 */
#ifndef REDPROF_EXITS_H
#define REDPROF_EXITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "offsets.h"

struct exit_site {
	uint64_t addr;			/* a direct jump the kernel emulates, outside loops */
	bool leaves[NEDGES];		/* the call leaves the eviction path this way on */
	struct expr result[NEDGES];	/* ... returning this: a constant or a register */
};

/* *HITS of exits_find when an exit is on a loop: hit once per turn. */
#define EXITS_LOOPED 4

/*
 * The exits of the region the slow-path site SLOW of F dominates, at most
 * MAX of them; LEGACY: Redis <= 6.0's freeMemoryIfNeeded (C_OK 0, C_ERR -1)
 * rather than EVICT_OK/RUNNING/FAIL (0, 1, 2). 0 with *N of them and in
 * *HITS the most of them (other than the slow-path site) one evicting call
 * runs; -errno with WHY.
 */
int exits_find(const struct flow *f, uint64_t slow, bool legacy, struct exit_site *out, int max, int *n, int *hits,
	       char *why, size_t len);

/* Whether the N exits X are what exits_find proves of such exits (-EINVAL with WHY when not). */
int exits_check(const struct flow *f, uint64_t slow, bool legacy, const struct exit_site *x, int n, char *why,
		size_t len);

#endif /* REDPROF_EXITS_H */
