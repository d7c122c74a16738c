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

struct debuginfo;

/*
 * Opens the debug information of IMG: in the file itself, or a separate
 * file found by build-id or .gnu_debuglink under ROOT (e.g.
 * /proc/PID/root) and the host's /usr/lib/debug. -ENODATA when none.
 */
int debuginfo_open(const struct elf_image *img, const char *root, struct debuginfo **out);
void debuginfo_close(struct debuginfo *d);

/* Where the debug information came from: the file, or the separate file's path. */
const char *debuginfo_source(const struct debuginfo *d);

/*
 * server's maxmemory, stat_numcommands, stat_evictedkeys and
 * maxmemory_policy (struct redisServer's members) and zmalloc's
 * used_memory when it is one word.
 */
void debuginfo_globals(struct debuginfo *d, const struct elf_image *img, struct global_rec g[NGLOBALS]);

/*
 * The struct members followed from server.current_client (client's id,
 * cmd and name, the name object's ptr, the command's name), where the
 * debug information describes them as 8-byte fields.
 */
void debuginfo_members(struct debuginfo *d, const struct elf_image *img, struct member_rec m[NMEMBERS]);

/* Finds the eviction function and the entry evaluation's variables. */
int debuginfo_prepare(struct debuginfo *d, const struct evict_analysis *a, char *why, size_t len);

/*
 * V at slow-path candidate CAND: a DWARF location there, one carried
 * forward from earlier on the slow path when nothing in between writes
 * it, or derived from the others (mem_used = mem_tofree + maxmemory,
 * overhead = mem_reported - mem_used, ...). Every answer is checked
 * against the analysis's runs. -ENOENT with WHY when there is none.
 */
int debuginfo_locate(struct debuginfo *d, const struct evict_analysis *a, size_t cand, enum var v,
		 struct expr *out, char *why, size_t len);

#endif /* REDPROF_SITE_DWARF_H */
