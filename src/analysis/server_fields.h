/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server_fields.h: what a stripped build's code says about Redis's
 * counters: the calls in the eviction loop that delete the evicted key,
 * server.stat_evictedkeys (the 64-bit increment of a server field right
 * after those calls, or inside the callee on the path the loop's constant
 * arguments take) and server.stat_numcommands (the 64-bit increment of a
 * server field in call(), cross-checked with updateStatsOnUnblock() when
 * call() has several), and server.maxmemory_policy (the field compared
 * with MAXMEMORY_NO_EVICTION). Each is refused when ambiguous.
 */
#ifndef REDPROF_SERVER_FIELDS_H
#define REDPROF_SERVER_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"

/*
 * The address memory operand M of IN (an instruction of F) names: rip-
 * relative, or off a register every definition reaching IN sets with the
 * same `lea SYM(%rip)`; false when it is neither.
 */
bool operand_address(const struct flow *f, const struct insn *in, const cs_x86_op *m, uint64_t *addr);

/* Calls in F to a function deleting a key (dbSyncDelete, dbAsyncDelete, ...). */
int find_delete_calls(const struct flow *f, uint64_t *sites, int max, int *n);

/* The server field incremented after every delete call in F. */
int find_evictedkeys(const struct flow *f, const uint64_t *dels, int ndel, uint64_t *addr);

/*
 * server.maxmemory_policy: the 4-byte server field the eviction function F
 * compares with MAXMEMORY_NO_EVICTION (7 << 8, the same in Redis 4 to 8
 * and Valkey), everywhere the same field.
 */
int find_maxmemory_policy(const struct flow *f, uint64_t *addr);

/* The server field call() increments once per command. */
int find_numcommands(const struct elf_image *img, uint64_t *addr);

#endif /* REDPROF_SERVER_FIELDS_H */
