/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sample.h: the measures of one interval, or of a whole capture, as every
 * output (text, JSON, the UI) renders them.
 */
#ifndef REDPROF_SAMPLE_H
#define REDPROF_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "hist.h"
#include "payers.h"

/* Values read from the target's memory that could not be read for a sample. */
enum sample_unread {
	UNREAD_COMMANDS = 1 << 0,	/* server.stat_numcommands, at either end */
	UNREAD_MAXMEMORY = 1 << 1,
	UNREAD_USED_MEMORY = 1 << 2,
	UNREAD_CLIENTS_MEMORY = 1 << 3,
};

struct sample {
	uint64_t end_real_ns;		/* CLOCK_REALTIME at the end */
	uint64_t ns;			/* length, monotonic */
	uint64_t calls;			/* performEvictions entries */
	uint64_t commands;
	uint64_t evicting_calls;	/* calls that reached the eviction path */
	uint64_t keys_evicted;
	uint64_t returns[EV_NRETS];
	struct lat_hist lat[EV_NPHASES];	/* noop / active */
	struct lat_hist lat_all;		/* both */
	struct hist var[EV_NVARS];		/* bytes */
	struct hist keys_per_evict;
	struct hist round[EV_NROUNDS];	/* per evicting call: freed, overshoot, shortfall, lazyfree pending */
	uint64_t rounds_grew;		/* evicting calls during which used memory rose */
	uint64_t grew_bytes;		/* ... by this much in all */
	struct payer_sums outside;	/* rounds whose client and command found the table full */
	uint64_t payer_unread;		/* rounds whose client could not be read */
	struct payer_top payers;	/* who rounds ran for: the pairs with most rounds, and the rest */
	uint64_t hits[EV_MAX_SITES];	/* probe hits by plan site */
	uint64_t other_threads;		/* hits from threads other than the main one, ignored */
	uint64_t orphan_returns;	/* returns of calls entered before attach */
	uint64_t orphan_exits;		/* light plan: exits with no evicting call in flight */
	uint64_t read_errors;		/* value terms whose memory could not be read */
	int64_t maxmemory;		/* at the end, -1 when unknown */
	int64_t used_memory;		/* at the end, -1 when unknown */
	int64_t clients_memory;		/* normal clients' buffers and the like, at the end; -1 when unknown */
	int64_t policy;			/* server.maxmemory_policy at the end, -1 when unknown */
	unsigned unread;		/* enum sample_unread: known to the plan, but not read */
	bool commands_went_back;	/* server.stat_numcommands fell (CONFIG RESETSTAT): commands unknown */
	bool target_gone;		/* ... because the target had exited */
};

/*
 * CUR minus PREV (cumulative kernel snapshots; PREV NULL for "since
 * load"), with extremes MM of the same period.
 */
void sample_delta(struct sample *s, const struct ev_totals *cur, const struct ev_totals *prev,
		  const struct ev_extrema *mm);

/* Extremes of a period in which nothing was recorded yet: min ~0, max 0, as the kernel side starts. */
void sample_extrema_init(struct ev_extrema *e);

/* An empty sample to add intervals to (extremes empty, gauges unknown). */
void sample_init(struct sample *s);

/*
 * Adds interval IV to the running sum ACC: counts, histograms, hits and
 * lengths add up, extremes merge, gauges and the end time are IV's.
 */
void sample_add(struct sample *acc, const struct sample *iv);

/* Fraction of the sample's wall time spent inside the eviction function. */
double sample_evict_share(const struct sample *s);

/*
 * Share of S's calls that evicted, over the larger of calls and evicting
 * calls: the light plan counts calls as commands, and the eviction timer's
 * calls are none.
 */
double sample_evicting_share(const struct sample *s);

#endif /* REDPROF_SAMPLE_H */
