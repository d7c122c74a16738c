/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * context.h: inside the analyser, the per-executable context of
 * analysis.h and its caches. Each cached piece is built on first use and
 * freed with the context, so callers never own or free any of them.
 */
#ifndef REDPROF_ANALYSIS_CONTEXT_H
#define REDPROF_ANALYSIS_CONTEXT_H

#include "analysis.h"
#include "evict_analysis.h"
#include "flow.h"
#include "site_dwarf.h"

/* A handful of functions and maxmemory addresses are ever asked for: no eviction, stable pointers. */
#define CONTEXT_MAX_FLOWS 8
#define CONTEXT_MAX_RUNS 8

struct cached_flow {
	uint64_t addr;		/* the function's address: the key */
	int err;		/* flow_build's result */
	struct flow flow;
};

struct cached_runs {
	uint64_t hint;		/* the maxmemory address asked for (0: discover it) */
	int err;		/* evict_analyse's result */
	struct evict_analysis ev;
};

struct analysis {
	const struct elf_image *img;
	struct elf_sym evict;
	char *root;
	struct cached_flow *flow[CONTEXT_MAX_FLOWS];
	int nflows;
	struct cached_runs *runs[CONTEXT_MAX_RUNS];
	int nruns;
	struct evict_analysis no_room;	/* what context_runs gives when runs is full */
	bool dwarf_tried;
	struct debuginfo *dwarf;	/* NULL: no debug information */
	bool zm_tried;
	int zm_err;
	struct code zm_code;		/* zmalloc_used_memory, for analysis__used_memory */
	uint64_t zm_entry;
};

/* FN's flow graph, built once; NULL with *ERR set when it cannot be built. */
const struct flow *context_flow(struct analysis *a, const struct elf_sym *fn, int *err);

/*
 * The eviction function's concrete runs, with server.maxmemory at HINT (0:
 * found from the code), built once per address. 0 with *OUT, or -errno
 * with (*OUT)->why saying what could not be established.
 */
int context_runs(struct analysis *a, uint64_t hint, const struct evict_analysis **out);

/* The executable's debug information, looked for once; NULL when there is none. */
struct debuginfo *context_dwarf(struct analysis *a);

#endif /* REDPROF_ANALYSIS_CONTEXT_H */
