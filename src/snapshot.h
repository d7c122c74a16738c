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

#include "heatmap.h"
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

/* A storm episode as the file gives it; times in seconds since the capture's start, NAN when absent. */
struct snap_episode {
	unsigned id;
	bool ongoing;
	char start_ts[40];		/* ISO 8601 */
	double start, end, duration;
	double evict_time, share;	/* seconds, 0..1 */
	uint64_t evicting_calls, keys;
	bool has_keys;
	uint64_t running, refused;	/* EVICT_RUNNING; EVICT_FAIL or C_ERR */
	double cmds[3];			/* commands/s before, during, after */
	double tofree[4], latency_ns[4];	/* p50, p90, p99, max */
	double growth, reclaim, period;
	bool growth_before_capture;
	char pace[16];			/* "keeping_up", "falling_behind" */
	char *verdict;			/* its words */
	char *backlog_why;		/* why the backlog finding is unavailable */
};

/* The heat map of a snapshot file. */
struct snap_heat {
	bool present;
	struct heat_column *col;	/* seconds with eviction, in order */
	size_t n;
	uint64_t lost;			/* slices_lost */
	double capture_start;		/* the capture's start, seconds since the epoch */
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
	struct snap_episode *episodes;	/* schema 3, or "episode" lines */
	size_t nepisodes;
	struct snap_heat heat;		/* schema 3 */
	char *storm_why;		/* why the file has no episodes or heat map, NULL when it could have */
};

/*
 * Reads PATH. 0, or -errno with ERR saying what is wrong in it
 * ("FILE:LINE:COLUMN: ..." for malformed JSON).
 */
int snapshot__read(const char *path, struct snapshot **out, char *err, size_t errlen);
void snapshot__free(struct snapshot *s);

#endif /* REDPROF_SNAPSHOT_H */
