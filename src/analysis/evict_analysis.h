/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * evict_analysis.h: what both offset strategies need to know about one
 * build's eviction function before they can say where a variable is:
 *
 *  - where the entry evaluation of getMaxmemoryState() starts: the first
 *    call to zmalloc_used_memory() (or its inlined load) reached from the
 *    function's entry, or the call to getMaxmemoryState() when it is not
 *    inlined; the later evaluations (per-key memory deltas, the lazy-free
 *    wait loop) are decoys and never start one;
 *  - which global is server.maxmemory;
 *  - which instructions run only when mem_used > maxmemory (the slow
 *    path), found by running the code from the entry evaluation in many
 *    concrete scenarios, evicting and not, with the emulator.
 *
 * Each scenario knows its true mem_reported, overhead and maxmemory (the
 * helpers' own code is run on the same memory when the compiler inlined
 * them), so a strategy can check any claim "variable V is in location L at
 * site S" against every evicting run.
 */
#ifndef REDPROF_EVICT_ANALYSIS_H
#define REDPROF_EVICT_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>

#include "emu.h"
#include "flow.h"
#include "offsets.h"

#define ANALYSIS_MAX_SCENARIOS 48
#define ANALYSIS_MAX_CANDIDATES 48
#define ANALYSIS_MAX_CLONES 8

struct scenario {
	uint64_t seed;
	uint64_t mr, oh, mm;	/* mem_reported, overhead, maxmemory */
	uint64_t mu;		/* mem_used: mr - oh, 0 when oh >= mr */
	bool evicts;		/* mm && mr > mm && mu > mm */
	struct emu run;		/* from the entry evaluation on, with its trace */
	size_t slow_step;	/* trace index of the slow path's first instruction (evicting runs) */
};

/* A function and its compiler clones (name.part.N, name.constprop.N, ...). */
struct helper {
	bool present;
	struct elf_sym sym;
	uint64_t addrs[ANALYSIS_MAX_CLONES];
	int naddrs;
	uint16_t clobbers;	/* caller-saved registers a call of sym may change */
};

struct callees;

struct evict_analysis {
	const struct elf_image *img;
	const struct flow *flow;	/* the eviction function's (the context's) */
	struct helper zmalloc, notcounted, gms;
	struct code zmalloc_code, notcounted_code;
	bool inlined;			/* getMaxmemoryState inlined into the function */
	uint64_t producer;		/* first instruction of the entry evaluation */
	uint64_t *path;			/* an instruction path from the entry to producer */
	size_t npath;
	bool maxmemory_known;
	uint64_t maxmemory;		/* link-time address of server.maxmemory */
	bool used_memory_known;
	uint64_t used_memory;		/* zmalloc's counter when it is one word */
	uint64_t counter_refs[8];	/* data zmalloc_used_memory reads: an inlined copy references them */
	int ncounter_refs;
	bool oh_chosen;			/* overhead comes from a call we answer, not inlined code */
	struct callees *callees;	/* functions whose calls runs run (when !oh_chosen) */
	bool narrow;			/* 4-byte fields in a word's high half are 0 in every run */
	struct scenario sc[ANALYSIS_MAX_SCENARIOS];
	size_t nsc;
	uint64_t deciding;		/* the branch that enters the slow path */
	uint64_t cand[ANALYSIS_MAX_CANDIDATES];	/* slow-path instructions every evicting run passes, in order */
	size_t ncand;
	char why[256];			/* when analysis failed: why, for people */
};

/*
 * Analyses the eviction function whose flow graph is F (which must outlive
 * A). MAXMEMORY_HINT (0 for none) is server.maxmemory's address when it is
 * known (DWARF, or a file being verified). 0, or -errno with a->why saying
 * what could not be established.
 */
int evict_analyse(const struct flow *f, uint64_t maxmemory_hint, struct evict_analysis *a);
void evict_analysis_free(struct evict_analysis *a);

/* The value of V in scenario S. */
uint64_t scenario_value(const struct scenario *s, enum var v);

/* Whether ADDR runs in some evicting run and in no run that does not evict. */
bool evict_only_evicting(const struct evict_analysis *a, uint64_t addr);

/* Registers before candidate CAND (index into a->cand) in scenario S, which must evict. */
const struct emu_regs *evict_regs(const struct evict_analysis *a, size_t s, size_t cand);

/* Memory before candidate CAND in scenario S: an emulator stopped there, freed with evict_state_free. */
int evict_state(const struct evict_analysis *a, size_t s, size_t cand, struct emu *out);
/* The same before step STEP of scenario S's run (an index into its trace). */
int evict_state_at(const struct evict_analysis *a, size_t s, size_t step, struct emu *out);
void evict_state_free(struct emu *st);

/*
 * The step at which scenario S's run is at ADDR: with BEFORE_SLOW, its
 * last visit before the slow path (an evicting run's); else its first on
 * the slow path (or anywhere, in a run that does not evict). -1: none.
 */
long evict_visit(const struct evict_analysis *a, size_t s, uint64_t addr, bool before_slow);

/*
 * Whether ADDR can be an early site for the slow-path site SLOW: not in a
 * loop (-ELOOP), on every path to SLOW (-ENOENT), run before the slow
 * path by every evicting run and by no run whose mem_reported is not above
 * maxmemory (-ERANGE). 0 when it can.
 */
int evict_early(const struct evict_analysis *a, uint64_t addr, uint64_t slow);

/*
 * Whether E computes V at ADDR in every evicting scenario, at the visit
 * evict_visit picks (variables in E read their true values: a value
 * derived from others), and some scenario evicts.
 */
bool evict_check_at(const struct evict_analysis *a, uint64_t addr, bool before_slow, const struct expr *e,
		    enum var v);

/*
 * Whether E computes V at candidate CAND in every evicting scenario (with
 * TERM_GLOBAL read from the scenario's memory).
 */
bool evict_check(const struct evict_analysis *a, size_t cand, const struct expr *e, enum var v);

#endif /* REDPROF_EVICT_ANALYSIS_H */
