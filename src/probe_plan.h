/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * probe_plan.h: where redprof plants its uprobes and what a hit on each
 * means. Built from the target's symbols (entry, return, commands) and,
 * when the build has an offset file, from its value and eviction sites.
 */
#ifndef REDPROF_PROBE_PLAN_H
#define REDPROF_PROBE_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "evict.h"
#include "offsets.h"
#include "target.h"

/* How a hit at a site is run: the two instruction classes, or the return trampoline. */
enum site_class { SITE_EMULATED, SITE_SINGLE_STEPPED, SITE_RETURN, SITE_NCLASSES };

struct plan_site {
	char name[96];		/* "performEvictions+222", "performEvictions (return)" */
	uint64_t addr;		/* link-time address */
	uint64_t file_offset;	/* where the uprobe goes */
	struct elf_sym fn;	/* the function the site must lie in (or in its parts) */
	int cls;		/* enum site_class */
	bool retprobe;
	bool detached;		/* reserved, not attached: the light plan's entry and return */
	struct ev_site spec;	/* what the kernel does on a hit */
};

/* Globals read from the target's memory by user space, link-time addresses. */
struct plan_global {
	bool known;
	uint64_t addr;
};

/* A sum the kernel reads at each round's end (enum ev_sum_which). */
struct plan_sum {
	bool known;
	struct ev_sum spec;	/* runtime addresses */
	char why[256];		/* when !known */
};

/* Who rounds ran for (server.current_client, its id, command and name). */
struct plan_payers {
	bool known;
	struct ev_payer_spec spec;	/* runtime address of current_client, struct offsets */
	char why[256];			/* when !known */
};

struct probe_plan {
	struct plan_site site[EV_MAX_SITES];
	size_t n;
	/*
	 * The light plan: nothing a call that does not evict runs is probed;
	 * evicting calls are timed from the slow-path site to their exit site.
	 * Set before plan_add_eviction.
	 */
	bool light;
	struct plan_global maxmemory, numcommands, evictedkeys, used_memory, policy;
	struct plan_global clients_memory;	/* server.stat_clients_type_memory[CLIENT_TYPE_NORMAL] */
	bool values;		/* sites read getMaxmemoryState's variables */
	bool slowpath;		/* a site marks calls that reached the eviction path */
	bool keys;		/* keys evicted are counted per call */
	bool keys_at_deletes;	/* ... by a probe hit per key at the delete calls */
	unsigned var_mask;	/* bit per enum ev_var that some site reads */
	unsigned round_vars;	/* ... that a round has at its start, the slow-path site (mem_tofree for overshoot) */
	struct plan_sum sum[EV_NSUMS];
	struct plan_payers payers;
	char why_no_values[768];	/* when !values: the reason, for people */
};

/* Entry and return probes on the eviction function: the plan's first two sites (detached when light). */
int plan_add_eviction(struct probe_plan *plan, const struct target *t);

/* Whether a verified offset file allows the light plan; else WHY says what it lacks. */
bool plan_can_be_light(const struct offsets *o, char *why, size_t len);

/*
 * One hit per command: processCommand, at the cheapest instruction every
 * call runs once (the first emulated one of its entry block).
 */
int plan_add_commands(struct probe_plan *plan, const struct target *t);

/*
 * The value, slow-path, early, delete and (light plan) exit sites of a
 * verified offset file, and the globals read from memory. Variables whose
 * expression needs a global are left out when the target's load bias is
 * unknown.
 */
int plan_add_offsets(struct probe_plan *plan, const struct target *t, const struct offsets *o);

/*
 * The sums read at each round's end (used memory, lazyfree's pending
 * objects), from the target's own getters; each unknown with why when
 * its getter is no sum redprof can model or the load bias is unknown.
 */
void plan_add_sums(struct probe_plan *plan, const struct target *t);

/* "emulated", "single-stepped" or "return". */
const char *site_class_name(int cls);

/*
 * What one hit of a site of class CLS costs the traced thread, in ns: the
 * trap and the kernel's emulation of a jump, a single step out of line,
 * a uretprobe's return trap. Estimates measured by bench/overhead
 * (bench/RESULTS.md), for redprof's own account of what it costs.
 */
double site_class_hit_ns(int cls);

#endif /* REDPROF_PROBE_PLAN_H */
