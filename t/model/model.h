/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * model.h: a small C model of the code redprof instruments in Redis, for
 * proving the analyser in seconds (t/model.t): the `server` global,
 * zmalloc's used-memory counter, the entry evaluation of
 * getMaxmemoryState() in performEvictions(), the eviction loop with its
 * decoy evaluations, and the command path (processCommand, call). It is
 * our own code, written to have the shapes the analyser meets in real
 * builds, not Redis's; what the analyser looks for (exported symbols,
 * struct redisServer's members, getMaxmemoryState's parameters and
 * variables in DWARF) is spelled as Redis spells it.
 *
 * Variants, chosen with -D (t/model/build.sh builds each with every
 * compiler), each for a shape real builds have:
 *   MODEL_GMS_CALL         getMaxmemoryState is never inlined, so the
 *                          values are read from performEvictions' frame
 *                          (Valkey 8); otherwise it is always inlined
 *                          (Debian's Redis 7.0)
 *   MODEL_OVERHEAD_INLINE  freeMemoryGetNotCountedMemory may be inlined
 *                          into the entry evaluation while the lazy-free
 *                          check still calls it; otherwise never (Redis's
 *                          is larger)
 *   MODEL_PER_THREAD       used memory is a sum of per-thread counters,
 *                          which gcc -O3 vectorises and LTO inlines
 *                          (Valkey 8); otherwise one word, a global in the
 *                          offset file (Redis 7)
 *   MODEL_COLD             the eviction loop's no-key path calls a cold
 *                          function, so gcc moves it to
 *                          performEvictions.cold, a part a stripped build
 *                          leaves unnamed
 *   MODEL_STATS_IN_DELETE  an evicted key is counted inside the function
 *                          that deletes it, reached through a thunk that
 *                          passes NOTIFY_EVICTED, and call() bumps two
 *                          counters (Redis 8)
 */
#ifndef MODEL_H
#define MODEL_H

#include <stddef.h>

#define C_OK 0
#define C_ERR -1

#define EVICT_OK 0
#define EVICT_RUNNING 1
#define EVICT_FAIL 2

#define MAXMEMORY_ALLKEYS_LRU 1
#define MAXMEMORY_NO_EVICTION 7

#define NOTIFY_EXPIRED 0x100
#define NOTIFY_EVICTED 0x200

#define MODEL_MAX_KEYS 64
#define MODEL_MAX_THREADS 16

/* The members redprof reads by name, among others it never reads. */
struct redisServer {
	int hz;
	long long dirty;			/* writes since the last save */
	long long stat_numcommands;		/* commands processed */
	long long stat_expiredkeys;
	long long stat_evictedkeys;		/* keys evicted to stay under maxmemory */
	long long stat_unblocked;		/* commands finished after blocking */
	int lazyfree_lazy_eviction;		/* evict with dbAsyncDelete */
	int aof_enabled;
	size_t aof_buf_alloc;			/* bytes, the AOF buffer's allocation */
	size_t repl_buffer_mem;			/* bytes, replication buffers */
	long long repl_backlog_size;		/* bytes of those the backlog accounts for */
	unsigned long long maxmemory;		/* bytes, 0: no limit */
	int maxmemory_policy;
	int maxmemory_samples;
	char padding[200];			/* the rest of a server: fields are not at small offsets */
};

extern struct redisServer server;

/* A key of the one database: its size and how recently it was used. */
struct model_key {
	int alive;
	size_t size;		/* bytes it holds in zmalloc's counter */
	unsigned long lru;	/* lower: less recently used */
};

struct model_db {
	struct model_key keys[MODEL_MAX_KEYS];
};

extern struct model_db model_db;

struct client {
	int is_write;
	int rejected;		/* refused with OOM */
};

/* zmalloc.c */
size_t zmalloc_used_memory(void);
void model_memory_set(size_t bytes);
void model_memory_free(size_t bytes);

/* evict.c */
size_t freeMemoryGetNotCountedMemory(void);
int getMaxmemoryState(size_t *total, size_t *logical, size_t *tofree, float *level);
int performEvictions(void);

/* server.c */
struct model_key *evictionPoolBest(void);
void dbSyncDelete(struct model_key *key);
void dbAsyncDelete(struct model_key *key);
void deleteEvictedKeyAndPropagate(struct model_key *key, long long *mem_freed);
void deleteExpiredKeyAndPropagate(struct model_key *key, long long *mem_freed);
void call(struct client *c);
void updateStatsOnUnblock(struct client *c);
int processCommand(struct client *c);
int RM_GetServerVersion(void);
void modelLogNoKeys(void) __attribute__((cold));

#endif /* MODEL_H */
