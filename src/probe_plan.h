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
	struct ev_site spec;	/* what the kernel does on a hit */
};

/* Globals read from the target's memory by user space, link-time addresses. */
struct plan_global {
	bool known;
	uint64_t addr;
};

struct probe_plan {
	struct plan_site site[EV_MAX_SITES];
	size_t n;
	struct plan_global maxmemory, numcommands, evictedkeys, used_memory;
	bool values;		/* sites read getMaxmemoryState's variables */
	bool slowpath;		/* a site marks calls that reached the eviction path */
	bool keys;		/* keys evicted are counted per call */
	bool keys_at_deletes;	/* ... by a probe hit per key at the delete calls */
	unsigned var_mask;	/* bit per enum ev_var that some site reads */
	char why_no_values[768];	/* when !values: the reason, for people */
};

/* Entry and return probes on the eviction function: the plan's first two sites. */
int plan_add_eviction(struct probe_plan *plan, const struct target *t);

/*
 * One hit per command: processCommand, at the cheapest instruction every
 * call runs once (the first emulated one of its entry block).
 */
int plan_add_commands(struct probe_plan *plan, const struct target *t);

/*
 * The value, slow-path and delete sites of a verified offset file, and the
 * globals read from memory. Variables whose expression needs a global are
 * left out when the target's load bias is unknown.
 */
int plan_add_offsets(struct probe_plan *plan, const struct target *t, const struct offsets *o);

/* "emulated", "single-stepped" or "return". */
const char *site_class_name(int cls);

#endif /* REDPROF_PROBE_PLAN_H */
