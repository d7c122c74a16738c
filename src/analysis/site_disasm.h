/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * site_disasm.h: the disasm strategy, for stripped builds: at a slow-path
 * instruction, which registers, stack slots and globals hold
 * getMaxmemoryState()'s variables, found by matching the values of every
 * evicting run and proven live by the flow graph.
 */
#ifndef REDPROF_SITE_DISASM_H
#define REDPROF_SITE_DISASM_H

#include "evict_analysis.h"
#include "offsets.h"

#define LOC_MAX 64

/* A readable location at one candidate and its value in each scenario. */
struct loc {
	struct term t;		/* sign +1 */
	uint64_t val[ANALYSIS_MAX_SCENARIOS];
};

struct loc_table {
	struct loc loc[LOC_MAX];
	size_t n;
};

/*
 * The locations at candidate CAND whose producers are proven: registers
 * whose reaching definitions are the writers the runs saw (a sum computed
 * in a loop may have two), stack slots nothing overwrites since they were
 * written, and the maxmemory global.
 */
int disasm_locations(const struct evict_analysis *a, size_t cand, struct loc_table *lt);

/* The same at SITE, at the visit evict_visit (BEFORE_SLOW) picks in each evicting run. */
int disasm_locations_at(const struct evict_analysis *a, uint64_t site, bool before_slow, struct loc_table *lt);

/* The cheapest sum of at most three locations equal to V in every evicting run. */
int disasm_locate(const struct evict_analysis *a, const struct loc_table *lt, enum var v, struct expr *out);

#endif /* REDPROF_SITE_DISASM_H */
