/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * verdict.h: what kind of storm an episode is, in words, from what was
 * measured in it and nothing else. Each finding has its rule
 * (redprof(8), STORM EPISODES):
 *
 *   - the pace: eviction falling behind when commands were refused with
 *     OOM (EVICT_FAIL; C_ERR before Redis 6.2), or when at least
 *     VERDICT_RUNNING_SHARE of the rounds of one of its intervals (of at
 *     least 10 rounds) hit their time limit (EVICT_RUNNING); else keeping up;
 *   - pressure from outside the dataset: the AOF and replication buffers
 *     (overhead) averaging, or growing during the burst by, at least
 *     VERDICT_OVERHEAD_SHARE of maxmemory;
 *   - the backlog feedback loop: normal clients' memory (the server's own
 *     accounting, stat_clients_type_memory: query and output buffers,
 *     which used_memory counts and eviction cannot free) growing during the
 *     burst, from the interval before it to its peak, by at least
 *     VERDICT_BACKLOG_SHARE of maxmemory; unavailable, with the reason,
 *     where the offset file does not say where that accounting is.
 */
#ifndef REDPROF_VERDICT_H
#define REDPROF_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "episode.h"

#define VERDICT_RUNNING_SHARE 0.01
#define VERDICT_OVERHEAD_SHARE 0.01
#define VERDICT_BACKLOG_SHARE 0.05

enum verdict_pace { PACE_KEEPING_UP, PACE_FALLING_BEHIND };

struct verdict {
	enum verdict_pace pace;
	int outside;			/* pressure from outside the dataset: 1 yes, 0 no, -1 cannot tell */
	const char *outside_why;	/* ... why not, when -1 */
	int backlog;			/* the backlog feedback loop: 1 yes, 0 no, -1 cannot tell */
	const char *backlog_why;	/* ... why not, when -1 */
	char text[768];			/* the findings in words, the pace first */
};

/*
 * The verdict on EP. LEGACY: the server returns C_OK/C_ERR (Redis 6.0).
 * NO_OVERHEAD, NO_CLIENTS: why the target's overhead, its clients' memory,
 * is not measured; NULL when it is.
 */
void verdict_of(const struct episode *ep, bool legacy, const char *no_overhead, const char *no_clients,
		struct verdict *out);

/* "keeping_up", "falling_behind": the pace as JSON names it. */
const char *verdict_pace_name(enum verdict_pace p);

#endif /* REDPROF_VERDICT_H */
