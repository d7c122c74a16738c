/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * measures.h: the named measures redprof reports, what each is made of,
 * and why one is unavailable for a target. Text, JSON and the UI all ask
 * here, so they agree on names and on every "not available because".
 */
#ifndef REDPROF_MEASURES_H
#define REDPROF_MEASURES_H

#include "sample.h"
#include "session.h"

enum measure {
	M_EVICT_LATENCY,	/* all eviction calls */
	M_EVICT_LATENCY_ACTIVE,	/* calls that reached the eviction path */
	M_EVICT_LATENCY_NOOP,	/* calls that returned without evicting */
	M_MEM_REPORTED,
	M_OVERHEAD,
	M_MEM_USED,
	M_MEM_TOFREE,
	M_KEYS_PER_EVICT,
	M_FREED,		/* per evicting call: bytes used memory fell */
	M_OVERSHOOT,		/* ... beyond mem_tofree */
	M_SHORTFALL,		/* ... short of it */
	M_LAZYFREE_PENDING,	/* objects left to the lazyfree thread at its end */
	M_NHISTS,		/* the ones above are histograms */
	M_EVICTING_CALLS = M_NHISTS,	/* counts in the sample */
	M_KEYS_EVICTED,
	M_ROUNDS_GREW,		/* evicting calls during which used memory rose */
	M_COMMANDS,
	M_MAXMEMORY,		/* bytes at the sample's end */
	M_USED_MEMORY,
	M_CLIENTS_MEMORY,	/* server.stat_clients_type_memory[CLIENT_TYPE_NORMAL] */
	M_NMEASURES
};

/* Why clients' memory is not read: the offset file lacks it. */
#define MEASURE_NO_CLIENTS_MEMORY "the offset file does not say where the server keeps its client-memory " \
	"accounting (server.stat_clients_type_memory, from debug information: generate the file where the " \
	"server's debug symbols are installed)"

/* The JSON name ("evict_latency", "mem_tofree", ...). */
const char *measure_name(enum measure m);
/* A short title for people ("performEvictions latency, evicting calls"). */
const char *measure_title(const struct session *s, enum measure m);
/* The same for the eviction function named FN (a report read from a file). */
const char *measure_title_of(const char *fn, enum measure m);
/* Whether M is a latency (unit: time) rather than bytes or keys. */
bool measure_is_latency(enum measure m);
/* Whether M counts bytes (the others: time, keys, objects, calls). */
bool measure_is_bytes(enum measure m);
/* The bucket label: funclatency's nsecs/usecs/msecs, "bytes", "keys" or "objects". */
const char *measure_label(enum measure m, int unit);
/* The unit JSON and CSV name: "ns", "us", "ms", "bytes", "keys" or "objects". */
const char *measure_unit(enum measure m, int unit);
/* The measure named NAME (measure_name's spelling); -1 when none is. */
int measure_parse(const char *name);

/* NULL when S can give M in SMP; else why not, in words. */
const char *measure_unavailable(const struct session *s, const struct sample *smp, enum measure m);

/* Whether M is read from the target's memory and could not be for SMP (the target exited). */
bool measure_lost(const struct sample *smp, enum measure m);

/* The name of maxmemory_policy value V ("allkeys-lru"), NULL when it is none of Redis's. */
const char *maxmemory_policy_name(int64_t v);

/* The count or byte value M (M_NHISTS or after) of SMP. */
uint64_t measure_value(const struct sample *smp, enum measure m);

/* The histogram M of SMP; latency bucketed in UNIT. */
void measure_hist(const struct sample *smp, enum measure m, int unit, struct hist *out);

#endif /* REDPROF_MEASURES_H */
