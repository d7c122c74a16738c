/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * episode.h: eviction storms as episodes, found in the sequence of
 * intervals, and each placed in its cycle: memory growing towards
 * maxmemory with no eviction, the burst, the reclaim after it.
 *
 * The rule (redprof(8), STORM EPISODES): an interval is hot when at least
 * EPISODE_ENTER of its calls evicted, cold when fewer than EPISODE_LEAVE
 * did. An episode begins with a hot interval and counts once its hot
 * intervals add up to EPISODE_SUSTAIN_NS; warm intervals (in between) keep
 * it going; it ends when cold intervals have lasted EPISODE_QUIET_NS. It
 * is the sum of its intervals, from its first hot one to its last one that
 * was not cold; its start and end are those of the first and last slice
 * in them where the heat map saw the main thread evict.
 *
 * The figures are sums and merged histograms, so that more (bytes freed,
 * who paid) can join an episode as more sums.
 */
#ifndef REDPROF_EPISODE_H
#define REDPROF_EPISODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heatmap.h"
#include "hist.h"
#include "sample.h"

#define EPISODE_ENTER 0.10		/* share of calls that evicted: hot at or above */
#define EPISODE_LEAVE 0.01		/* cold below */
#define EPISODE_SUSTAIN_NS 1000000000ULL	/* hot time that makes an episode */
#define EPISODE_QUIET_NS 1000000000ULL	/* cold time that ends one */
#define EPISODE_BEFORE_NS 5000000000ULL	/* commands/s before: the intervals in the 5 s before it */
#define EPISODE_RECLAIM_SHARE 0.05	/* used_memory this far below maxmemory after a burst is a reclaim */
#define EPISODES_KEPT 1024		/* the newest kept; older ones are counted as dropped */
#define EPISODE_HISTORY 64		/* intervals remembered for "before" */

/* Where an episode sits in its cycle; a time is NAN and a size -1 when not known. */
struct episode_cycle {
	double growth_s;		/* from the low point of used_memory before it to its start */
	bool growth_before_capture;	/* that low point is the capture's first interval: the growth began earlier */
	int64_t low_before;		/* used_memory at that low point, bytes */
	double reclaim_s;		/* from its end to the low point after it (0: none, memory stayed near maxmemory) */
	int64_t low_after;		/* used_memory there */
	double period_s;		/* from the previous episode's start */
};

struct episode {
	unsigned id;			/* 1, 2, ... in the order they were found */
	bool ongoing;			/* not ended yet: the figures so far */
	uint64_t start_ns, end_ns;	/* CLOCK_MONOTONIC */
	uint64_t start_real_ns, end_real_ns;
	uint64_t first_end_real_ns;	/* the end of its first interval, and of its last */
	uint64_t last_end_real_ns;
	size_t intervals;
	uint64_t iv_ns;			/* its intervals' length, summed */
	uint64_t commands, calls, evicting_calls, keys_evicted;
	uint64_t returns[EV_NRETS];
	uint64_t evict_ns;		/* main-thread time in evicting calls */
	struct hist latency;		/* of evicting calls: ns */
	struct hist tofree, overhead;	/* bytes */
	struct hist freed;		/* bytes each round freed, rounds in which used memory fell */
	uint64_t grew_bytes;		/* how much it rose in the others */
	/* Normal clients' memory (stat_clients_type_memory), bytes; -1 unknown. */
	int64_t clients_before;		/* at the interval before it */
	int64_t clients_first, clients_peak, clients_last;	/* at its first interval, the most, its last */
	int64_t clients_after;		/* at the end of the quiet that ended it */
	struct payer_top payers;	/* who its rounds ran for */
	struct payer_sums outside;	/* ... rounds whose pair found the table full */
	uint64_t payer_unread;
	double overhead_first;		/* mean overhead per round in its first interval with rounds; NAN: none */
	double overhead_peak;		/* the largest mean of its intervals */
	uint64_t worst_running;		/* the interval whose rounds most hit the time limit: those rounds */
	uint64_t worst_rounds;		/* ... of its rounds (intervals of at least 10 rounds) */
	double cmds_before, cmds_during, cmds_after;	/* commands/s; NAN when not known */
	int64_t maxmemory;		/* at its last interval; -1 unknown */
	struct episode_cycle cycle;
};

/* used_memory's lowest level over a stretch of intervals. */
struct low_point {
	bool have;
	int64_t min;			/* bytes */
	uint64_t first_at, last_at;	/* CLOCK_MONOTONIC ends of the first and last interval near it */
};

enum episode_state { EPISODE_IDLE, EPISODE_TENTATIVE, EPISODE_OPEN };

/* An interval as "commands/s before" needs it. */
struct episode_recent {
	uint64_t start, end;		/* CLOCK_MONOTONIC */
	uint64_t commands;
	int64_t clients_memory;		/* at its end, -1 unknown */
};

struct episodes {
	const struct heat *heat;	/* finds starts and ends to the slice; NULL: interval bounds */
	struct episode *list;		/* ended, oldest first */
	size_t n, dropped;
	unsigned next_id;
	enum episode_state state;
	struct episode cur;		/* the one being watched */
	struct episode tail;		/* the cold intervals after its last one that was not */
	uint64_t first_start, first_end;	/* CLOCK_MONOTONIC bounds of its first interval, */
	uint64_t last_start, last_end;	/* ... and of its last */
	int64_t real_minus_mono;	/* CLOCK_REALTIME - CLOCK_MONOTONIC at its first interval */
	uint64_t hot_ns;
	struct low_point low;		/* since the last episode ended (or the capture began) */
	struct low_point low_before;	/* ... as it was when the watched one began */
	struct low_point low_tail;	/* since the watched one's last interval that was not cold */
	uint64_t capture_first_end;	/* the end of the capture's first interval */
	bool have_prev;
	uint64_t prev_start;		/* the last episode's start, for the period */
	struct episode_recent history[EPISODE_HISTORY];	/* a ring of the newest intervals */
	size_t nhistory;
};

/* A detector; HEAT (may be NULL) refines starts and ends. */
struct episodes *episodes__new(const struct heat *heat);
void episodes__free(struct episodes *e);

/* One more interval IV, which ended at END_MONO_NS (CLOCK_MONOTONIC). */
void episodes__add(struct episodes *e, const struct sample *iv, uint64_t end_mono_ns);

/* The ended episodes kept, oldest first (I < e->n). */
const struct episode *episodes__at(const struct episodes *e, size_t i);

/* The episode going on now, figures so far, in OUT; false when there is none (yet). */
bool episodes__current(const struct episodes *e, struct episode *out);

/* From its start to its end, in seconds. */
double episode_duration_s(const struct episode *ep);
/* Its time in evicting calls over its duration (0..1): the main thread's share spent evicting. */
double episode_evict_share(const struct episode *ep);
/* How far its rounds brought used memory down, in all: what they freed less what rose during them. */
int64_t episode_bytes_freed(const struct episode *ep);

#endif /* REDPROF_EPISODE_H */
