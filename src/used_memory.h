/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * used_memory.h: the server's used memory (INFO's used_memory), read from
 * its memory once per interval: the one word zmalloc keeps when the offset
 * file says where it is, else by running the server's own
 * zmalloc_used_memory() in the interpreter over its memory (Redis 8 and
 * Valkey sum per-thread counters). Only reads: process_vm_readv.
 */
#ifndef REDPROF_USED_MEMORY_H
#define REDPROF_USED_MEMORY_H

#include <stdint.h>

#include "probe_plan.h"
#include "target.h"

struct used_memory;

/* A reader for T, from the offset file's WORD or the code; NULL when neither reads. */
struct used_memory *used_memory_open(const struct target *t, const struct plan_global *word);
void used_memory_close(struct used_memory *u);

/* The server's used memory now; -errno when it cannot be read (-ESRCH: the server is gone). */
int used_memory_read(struct used_memory *u, uint64_t *v);

#endif /* REDPROF_USED_MEMORY_H */
