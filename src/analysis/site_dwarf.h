/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * site_dwarf.h: the dwarf strategy: getMaxmemoryState()'s variables where
 * the debug information says they live. The entry evaluation is the
 * inlined instance whose `total` argument is not NULL (the lazy-free
 * checks pass NULL for all four), or the caller's own variables when the
 * function was not inlined. Locations are translated into the offset
 * file's forms; operations that cannot be are named and refused.
 */
#ifndef REDPROF_SITE_DWARF_H
#define REDPROF_SITE_DWARF_H

#include <stddef.h>

#include "evict_analysis.h"
#include "offsets.h"

struct dwarf_ctx;

/*
 * Opens the debug information of IMG: in the file itself, or a separate
 * file found by build-id or .gnu_debuglink under ROOT (e.g.
 * /proc/PID/root) and the host's /usr/lib/debug. -ENODATA when none.
 */
int dwarf_ctx_open(const struct elf_image *img, const char *root, struct dwarf_ctx **out);
void dwarf_ctx_close(struct dwarf_ctx *d);

/* Where the debug information came from: the file, or the separate file's path. */
const char *dwarf_ctx_source(const struct dwarf_ctx *d);

/*
 * server's maxmemory, stat_numcommands and stat_evictedkeys (struct
 * redisServer's members) and zmalloc's used_memory when it is one word.
 */
void dwarf_globals(struct dwarf_ctx *d, const struct elf_image *img, struct global_rec g[NGLOBALS]);

/* Finds the eviction function and the entry evaluation's variables. */
int dwarf_prepare(struct dwarf_ctx *d, const struct evict_analysis *a, char *why, size_t len);

/*
 * V at slow-path candidate CAND: a DWARF location there, one carried
 * forward from earlier on the slow path when nothing in between writes
 * it, or derived from the others (mem_used = mem_tofree + maxmemory,
 * overhead = mem_reported - mem_used, ...). Every answer is checked
 * against the analysis's runs. -ENOENT with WHY when there is none.
 */
int dwarf_locate(struct dwarf_ctx *d, const struct evict_analysis *a, size_t cand, enum var v,
		 struct expr *out, char *why, size_t len);

#endif /* REDPROF_SITE_DWARF_H */
