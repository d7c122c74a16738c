// SPDX-License-Identifier: BSD-3-Clause
/*
 * zmalloc.c (model): the allocator's used-memory counter, in its own
 * translation unit as in Redis, so that only LTO can inline
 * zmalloc_used_memory() into the eviction code.
 *
 * One word read with a relaxed atomic load (Redis: `mov used_memory,%rax;
 * ret`), or, with MODEL_PER_THREAD, one counter per thread summed over at
 * most MODEL_MAX_THREADS of them (Valkey 8: a loop gcc -O3 vectorises).
 */
#include "model.h"

#ifndef MODEL_PER_THREAD

static size_t used_memory;

size_t zmalloc_used_memory(void)
{
	return __atomic_load_n(&used_memory, __ATOMIC_RELAXED);
}

void model_memory_set(size_t bytes)
{
	__atomic_store_n(&used_memory, bytes, __ATOMIC_RELAXED);
}

void model_memory_free(size_t bytes)
{
	__atomic_fetch_sub(&used_memory, bytes, __ATOMIC_RELAXED);
}

#else

size_t used_memory_thread[MODEL_MAX_THREADS];
int model_active_threads = 4;

size_t zmalloc_used_memory(void)
{
	int n = model_active_threads < MODEL_MAX_THREADS ? model_active_threads : MODEL_MAX_THREADS;
	size_t sum = 0;

	for (int i = 0; i < n; i++)
		sum += used_memory_thread[i];
	return sum;
}

/* Spread over the active threads; the main thread (0) takes the remainder. */
void model_memory_set(size_t bytes)
{
	int n = model_active_threads;

	for (int i = 1; i < n; i++)
		used_memory_thread[i] = bytes / (size_t)n;
	used_memory_thread[0] = bytes - (size_t)(n - 1) * (bytes / (size_t)n);
}

/* Frees by the main thread: its counter may wrap, the sum stays right. */
void model_memory_free(size_t bytes)
{
	used_memory_thread[0] -= bytes;
}

#endif
