/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * session.h: one profiling session of one Redis process: the target, the
 * probe plan, the loaded probes, and the snapshots intervals are cut from.
 * Outputs (text, JSON, the UI) drive it; it owns everything it opens.
 */
#ifndef REDPROF_SESSION_H
#define REDPROF_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payers.h"
#include "probe_plan.h"
#include "probes.h"
#include "sample.h"
#include "storm.h"
#include "target.h"

struct session_opts {
	int pid;
	const char *offsets_file;	/* --offsets */
	const char *offsets_dir;	/* --offsets-dir, else the installed directory */
	bool full;			/* --full: probe every call's entry and return */
	bool force_offsets;		/* --force-offsets: use the --offsets file where redprof reads otherwise */
	int verbose;
};

/* What went wrong in session__open, for the command line to word. */
enum session_stage {
	STAGE_TARGET,		/* err from target__open, with problem */
	STAGE_PRIVILEGE,	/* no CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN) */
	STAGE_KERNEL,		/* no uprobe PMU */
	STAGE_PLAN,		/* no site could be resolved */
	STAGE_OFFSETS,		/* the offset file given was refused */
	STAGE_LOAD,		/* the kernel refused the BPF programs */
	STAGE_ATTACH,		/* a site could not be attached */
};

struct session_error {
	enum session_stage stage;
	int err;
	enum target_problem problem;
	char site[96];		/* the site that failed to attach */
	char detail[512];	/* e.g. the offset file's FILE:LINE: message */
};

#define SESSION_MAX_NOTES 16

struct session {
	struct target *t;
	struct probe_plan plan;
	struct probes *probes;
	struct used_memory *used_memory;	/* NULL when it cannot be read */
	int pidfd;			/* readable when the target exits */
	bool commands_from_memory;	/* server.stat_numcommands, not a probe */
	char offsets_source[512];	/* where the offset file came from, "" when none */
	bool offsets_generated;		/* ... generated on the fly: its notes say what it lacks */
	char strategy[16];		/* "dwarf", "disasm", "" */
	char offsets_forced[512];	/* what the file reads elsewhere than redprof's analysis (--force-offsets) */
	char offsets_unverified[256];	/* entries redprof's analysis cannot confirm */
	char *notes[SESSION_MAX_NOTES];	/* for people: what is missing and why */
	size_t nnotes;
	uint64_t start_ns, prev_ns, base_ns;
	struct ev_totals prev, base;	/* snapshots: last interval's end, capture start */
	uint64_t prev_cmds, base_cmds;	/* server.stat_numcommands */
	int prev_cmds_err, base_cmds_err;	/* 0: read then; else why not, and the value is older */
	bool cmds_went_back;			/* since base: the counter fell, so base to prev means nothing */
	struct storm *storm;		/* episodes and the heat map, fed each interval */
	struct payers *payers;		/* who rounds ran for; NULL when the plan cannot say */
};

int session__open(const struct session_opts *o, struct session **out, struct session_error *e);
void session__close(struct session *s);

/* Ends the current interval and returns its measures. */
void session__interval(struct session *s, struct sample *out);
/* The whole capture (or since the last reset) up to the last interval's end. */
void session__total(struct session *s, struct sample *out);
/* Starts the cumulative view afresh. */
void session__reset(struct session *s);

/* Why SMP has no eviction calls although commands ran; NULL when it has some. */
const char *session__why_no_evictions(const struct session *s, const struct sample *smp);

/* SMP's probe hits by enum site_class. */
void session__hits_by_class(const struct session *s, const struct sample *smp, uint64_t out[SITE_NCLASSES]);

/* What SMP's probe hits cost Redis's main thread, estimated: hits times site_class_hit_ns(). */
double session__probe_cpu_ns(const struct session *s, const struct sample *smp);

#endif /* REDPROF_SESSION_H */
