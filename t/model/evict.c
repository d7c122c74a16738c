// SPDX-License-Identifier: BSD-3-Clause
/*
 * evict.c (model): the eviction entry point redprof instruments.
 *
 * performEvictions() first asks getMaxmemoryState() whether memory is over
 * the limit: used memory as zmalloc reports it (mem_reported), less what
 * the buffers take that eviction cannot free (overhead), gives mem_used;
 * over maxmemory by mem_tofree, keys are deleted until that much is freed.
 * The same helpers run again inside the loop, and those evaluations are
 * decoys for the analyser: zmalloc_used_memory() around each delete (what
 * the key freed) and getMaxmemoryState(NULL, NULL, NULL, NULL) every 16
 * keys when keys are freed lazily (the limit may already be met).
 */
#include "model.h"

/* Always inlined into performEvictions, or never (MODEL_GMS_CALL). */
#ifdef MODEL_GMS_CALL
#define GMS_INLINE __attribute__((noinline))
#else
#define GMS_INLINE __attribute__((always_inline)) inline
#endif

#ifdef MODEL_COLD
#define unlikely(x) __builtin_expect(!!(x), 0)
#else
#define unlikely(x) (x)
#endif

/* Redis's is larger and never inlined; MODEL_OVERHEAD_INLINE leaves it to the compiler. */
#ifdef MODEL_OVERHEAD_INLINE
#define OVERHEAD_INLINE
#else
#define OVERHEAD_INLINE __attribute__((noinline))
#endif

/*
 * Replication buffers beyond what the backlog accounts for, and the AOF
 * buffer: memory counted by zmalloc that evicting keys does not give back.
 */
OVERHEAD_INLINE size_t freeMemoryGetNotCountedMemory(void)
{
	size_t overhead = 0;

	if ((long long)server.repl_buffer_mem > server.repl_backlog_size)
		overhead += server.repl_buffer_mem - (size_t)server.repl_backlog_size;
	if (server.aof_enabled)
		overhead += server.aof_buf_alloc;
	return overhead;
}

/*
 * C_OK when memory is within maxmemory (or there is none), else C_ERR.
 * *TOTAL gets mem_reported whenever it is given; *LOGICAL (mem_used) and
 * *TOFREE (mem_tofree) only with C_ERR; *LEVEL, when given, the fraction
 * of maxmemory in use.
 */
GMS_INLINE int getMaxmemoryState(size_t *total, size_t *logical, size_t *tofree, float *level)
{
	size_t mem_reported, overhead, mem_used, mem_tofree;

	mem_reported = zmalloc_used_memory();
	if (total)
		*total = mem_reported;
	if (!server.maxmemory)
		return C_OK;
	/* Under the limit before the buffers are even taken off: the usual case, kept cheap. */
	if (mem_reported <= server.maxmemory && !level)
		return C_OK;
	overhead = freeMemoryGetNotCountedMemory();
	mem_used = overhead < mem_reported ? mem_reported - overhead : 0;
	if (level)
		*level = (float)mem_used / (float)server.maxmemory;
	if (mem_used <= server.maxmemory)
		return C_OK;
	mem_tofree = mem_used - server.maxmemory;
	if (logical)
		*logical = mem_used;
	if (tofree)
		*tofree = mem_tofree;
	return C_ERR;
}

/* Deletes KEY, giving the memory it freed; the counter is the server's or, in Redis 8, the callee's. */
static long long evict_key(struct model_key *key)
{
	long long freed;

#ifdef MODEL_STATS_IN_DELETE
	deleteEvictedKeyAndPropagate(key, &freed);
#else
	freed = (long long)zmalloc_used_memory();
	if (server.lazyfree_lazy_eviction)
		dbAsyncDelete(key);
	else
		dbSyncDelete(key);
	freed -= (long long)zmalloc_used_memory();
	server.stat_evictedkeys++;
#endif
	return freed;
}

int performEvictions(void)
{
	size_t mem_reported, mem_tofree, mem_freed = 0;
	long keys_freed = 0;
	int result = EVICT_FAIL;

	if (getMaxmemoryState(&mem_reported, NULL, &mem_tofree, NULL) == C_OK)
		return EVICT_OK;
	if (server.maxmemory_policy == MAXMEMORY_NO_EVICTION)
		goto cant_free;
	while (mem_freed < mem_tofree) {
		struct model_key *best = evictionPoolBest();

		if (unlikely(!best)) {
#ifdef MODEL_COLD
			modelLogNoKeys();
#endif
			goto cant_free;
		}
		mem_freed += (size_t)evict_key(best);
		keys_freed++;
		/* Lazily freed memory may come back while we delete: stop once under the limit. */
		if (server.lazyfree_lazy_eviction && keys_freed % 16 == 0 &&
		    getMaxmemoryState(NULL, NULL, NULL, NULL) == C_OK)
			break;
	}
	result = EVICT_OK;
cant_free:
	if (result == EVICT_FAIL && server.lazyfree_lazy_eviction &&
	    getMaxmemoryState(NULL, NULL, NULL, NULL) == C_OK)
		result = EVICT_OK;
	return result;
}
