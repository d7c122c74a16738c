/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * snapshot.h: a capture read back from a file for `redprof report`: the
 * snapshot JSON of redprof(8) (written by --export and the UI's `s`,
 * schema 1 or 2) or the JSON Lines of --json. Histograms are rebuilt as
 * struct hist, by measures.h's names, so the report computes with the same
 * code the capture used.
 */
#ifndef REDPROF_SNAPSHOT_H
#define REDPROF_SNAPSHOT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "measures.h"

/* Counts of a sample as the file gives them. */
struct snap_counts {
	double len;			/* seconds */
	double end;			/* seconds since the capture's start */
	uint64_t commands, calls, evicting_calls, keys_evicted;
	bool has_evicting, has_keys;	/* absent when unavailable */
	double share;			/* evict_time_share */
	int64_t used_memory;		/* -1 when absent */
};

/* One interval, as the timelines draw it. */
struct snap_point {
	struct snap_counts c;
	bool has_tofree;
	struct hist tofree;		/* mem_tofree, bytes */
};

/* A histogram of the total. */
struct snap_hist {
	bool present;
	char unit[8];			/* "ns", "us", "ms", "bytes", "keys" */
	struct hist h;			/* slots in UNIT; sum, min and max in base units (ns, bytes, keys) */
};

struct snapshot {
	char path[PATH_MAX];
	bool lines;			/* JSON Lines of --json, not a snapshot file */
	int schema;
	char redprof[32], exe[PATH_MAX], build_id[129], version[32], server[16], evict_function[64];
	char offsets[512], strategy[16], plan_mode[16], start[40], end[40];
	char policy[32];		/* maxmemory_policy ("allkeys-lru"), "" when not recorded */
	char policy_why[256];		/* why maxmemory_policy is not recorded */
	int64_t pid, maxmemory;		/* maxmemory -1 when not recorded */
	uint64_t hits_emulated, hits_single_stepped, hits_return;	/* of the total */
	char **notes;
	size_t nnotes;
	size_t dropped;			/* intervals_dropped */
	struct snap_point *points;
	size_t npoints;
	struct snap_counts total;
	struct snap_hist hist[M_NHISTS];
	char *why[M_NMEASURES];		/* why a measure is unavailable, NULL when it is not */
};

/*
 * Reads PATH. 0, or -errno with ERR saying what is wrong in it
 * ("FILE:LINE:COLUMN: ..." for malformed JSON).
 */
int snapshot__read(const char *path, struct snapshot **out, char *err, size_t errlen);
void snapshot__free(struct snapshot *s);

#endif /* REDPROF_SNAPSHOT_H */
