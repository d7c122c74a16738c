// SPDX-License-Identifier: BSD-3-Clause
/*
 * server.c (model): the `server` global, the one database, the functions
 * that delete keys, and the command path: processCommand() evicts before
 * a command when maxmemory is set, refuses a write it cannot make room
 * for, and call() counts the command.
 *
 * The delete functions stand for large ones of Redis that compilers never
 * inline, hence noinline. With MODEL_STATS_IN_DELETE they are Redis 8's:
 * two exported thunks passing a notification type to one static function
 * that counts the key as evicted or expired by that type.
 */
#include <stdio.h>

#include "model.h"

struct redisServer server = {
	.hz = 10,
	.maxmemory_policy = MAXMEMORY_ALLKEYS_LRU,
	.maxmemory_samples = 5,
};

struct model_db model_db;

/* The least recently used key alive, or NULL when the database is empty. */
__attribute__((noinline)) struct model_key *evictionPoolBest(void)
{
	struct model_key *best = NULL;

	for (int i = 0; i < MODEL_MAX_KEYS; i++) {
		struct model_key *k = &model_db.keys[i];

		if (k->alive && (!best || k->lru < best->lru))
			best = k;
	}
	return best;
}

__attribute__((noinline)) void dbSyncDelete(struct model_key *key)
{
	key->alive = 0;
	model_memory_free(key->size);
}

/* The value would go to a background thread; in the model it is freed at once too. */
__attribute__((noinline)) void dbAsyncDelete(struct model_key *key)
{
	key->alive = 0;
	model_memory_free(key->size);
}

#ifdef MODEL_STATS_IN_DELETE
__attribute__((noinline)) static void deleteKeyAndPropagate(struct model_key *key, int notify_type,
							     long long *mem_freed)
{
	long long before = (long long)zmalloc_used_memory();

	if (server.lazyfree_lazy_eviction)
		dbAsyncDelete(key);
	else
		dbSyncDelete(key);
	*mem_freed = before - (long long)zmalloc_used_memory();
	if (notify_type == NOTIFY_EVICTED)
		server.stat_evictedkeys++;
	else
		server.stat_expiredkeys++;
}

void deleteEvictedKeyAndPropagate(struct model_key *key, long long *mem_freed)
{
	deleteKeyAndPropagate(key, NOTIFY_EVICTED, mem_freed);
}

void deleteExpiredKeyAndPropagate(struct model_key *key, long long *mem_freed)
{
	deleteKeyAndPropagate(key, NOTIFY_EXPIRED, mem_freed);
}
#endif

__attribute__((noinline)) void call(struct client *c)
{
	server.stat_numcommands++;
#ifdef MODEL_STATS_IN_DELETE
	if (c->is_write)
		server.dirty++;
#else
	(void)c;
#endif
}

/* A command that blocked is counted when it finishes, here rather than in call(). */
__attribute__((noinline)) void updateStatsOnUnblock(struct client *c)
{
	server.stat_numcommands++;
	server.stat_unblocked++;
	c->rejected = 0;
}

int processCommand(struct client *c)
{
	c->rejected = 0;
	if (server.maxmemory) {
		int out_of_memory = performEvictions() == EVICT_FAIL;

		if (out_of_memory && c->is_write) {
			c->rejected = 1;
			return C_OK;
		}
	}
	call(c);
	return C_OK;
}

/* REDIS_VERSION_NUM, 0x00MMmmpp: the model calls itself 0.1.0. */
int RM_GetServerVersion(void)
{
	return 0x000100;
}

void modelLogNoKeys(void)
{
	fprintf(stderr, "model: no key left to evict\n");
}
