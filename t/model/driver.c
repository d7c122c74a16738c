// SPDX-License-Identifier: BSD-3-Clause
/*
 * driver.c (model): runs scenarios through processCommand() and publishes,
 * for a debugger, what each call must find.
 *
 *   evict-model USED,OVERHEAD,MAXMEMORY[,KEYS[,LAZY]] ...
 *   evict-model < scenarios        (the same, one a line, commas or blanks)
 *
 * Each scenario is one write command: zmalloc's counter is set to USED
 * bytes, the buffers to OVERHEAD bytes (part replication, part AOF),
 * server.maxmemory to MAXMEMORY, and the database to KEYS keys of
 * MODEL_KEY_SIZE bytes (default 32), freed lazily when LAZY is 1.
 *
 * The truth_* globals hold what the driver computes from the scenario on
 * its own, never from the model's code, which never reads them: before a
 * call, the values getMaxmemoryState() must find and whether it must
 * evict; at model_after_command(), called after each command, the
 * counters as they must be. Each command prints a line; the exit status
 * is 1 when the model's counters disagree with the driver's arithmetic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define MODEL_KEY_SIZE 4096
#define BACKLOG_SIZE 1048576

unsigned long truth_call;		/* 1-based index of the command being processed */
unsigned long truth_evicts;		/* 1 when this call must take the eviction path */
unsigned long truth_mem_reported, truth_overhead, truth_mem_used, truth_mem_tofree;
unsigned long truth_maxmemory;		/* after the call, as after every call */
unsigned long truth_stat_numcommands, truth_stat_evictedkeys, truth_used_memory;
unsigned long truth_maxmemory_policy;	/* the policy field, read back as the server holds it */

/* Where a debugger checks the counters: after each command. */
__attribute__((noinline)) void model_after_command(void)
{
	__asm__ volatile("" ::: "memory");
}

struct scenario {
	unsigned long used, overhead, maxmemory, keys, lazy;
};

static int parse(const char *s, struct scenario *sc)
{
	char buf[256], *end, *tok, *save = NULL;
	unsigned long v[5] = { 0, 0, 0, 32, 0 };
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save)) {
		if (n == 5)
			return -1;
		v[n++] = strtoul(tok, &end, 10);
		if (*end)
			return -1;
	}
	if (n < 3 || v[3] > MODEL_MAX_KEYS || v[4] > 1)
		return -1;
	*sc = (struct scenario){ v[0], v[1], v[2], v[3], v[4] };
	return 0;
}

static void setup(const struct scenario *sc)
{
	unsigned long repl = sc->overhead / 3;

	memset(&model_db, 0, sizeof(model_db));
	for (unsigned long i = 0; i < sc->keys; i++)
		model_db.keys[i] = (struct model_key){ 1, MODEL_KEY_SIZE, 1000 + (i * 7) % sc->keys };
	model_memory_set(sc->used);
	server.repl_backlog_size = BACKLOG_SIZE;
	server.repl_buffer_mem = BACKLOG_SIZE + repl;
	server.aof_enabled = 1;
	server.aof_buf_alloc = sc->overhead - repl;
	server.maxmemory = sc->maxmemory;
	server.lazyfree_lazy_eviction = (int)sc->lazy;
}

/* One command; 0 when the model's counters are what the driver computed. */
static int run(const struct scenario *sc)
{
	struct client c = { .is_write = 1 };
	unsigned long need = 0, evicted, before = (unsigned long)server.stat_evictedkeys;
	int rejected;

	truth_call++;
	truth_mem_reported = sc->used;
	truth_overhead = sc->overhead;
	truth_mem_used = sc->overhead < sc->used ? sc->used - sc->overhead : 0;
	truth_evicts = sc->maxmemory && sc->used > sc->maxmemory && truth_mem_used > sc->maxmemory;
	truth_mem_tofree = truth_evicts ? truth_mem_used - sc->maxmemory : 0;
	if (truth_evicts)
		need = (truth_mem_tofree + MODEL_KEY_SIZE - 1) / MODEL_KEY_SIZE;
	evicted = need < sc->keys ? need : sc->keys;
	rejected = need > sc->keys;

	setup(sc);
	processCommand(&c);

	truth_maxmemory = sc->maxmemory;
	truth_maxmemory_policy = (unsigned long)server.maxmemory_policy;
	truth_stat_numcommands += !rejected;
	truth_stat_evictedkeys += evicted;
	truth_used_memory = sc->used - evicted * MODEL_KEY_SIZE;
	model_after_command();
	printf("call %lu: mem_reported %lu overhead %lu maxmemory %lu: %s, %ld keys evicted, %s\n", truth_call,
	       sc->used, sc->overhead, sc->maxmemory, truth_evicts ? "evicts" : "does not evict",
	       (long)server.stat_evictedkeys - (long)before, c.rejected ? "rejected (OOM)" : "run");
	fflush(stdout);	/* whoever feeds stdin waits for this line */
	return (unsigned long)server.stat_evictedkeys - before != evicted || c.rejected != rejected ||
	       (unsigned long)server.stat_numcommands != truth_stat_numcommands ||
	       zmalloc_used_memory() != truth_used_memory;
}

int main(int argc, char **argv)
{
	struct scenario sc;
	char line[256];
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		if (parse(argv[i], &sc)) {
			fprintf(stderr, "evict-model: bad scenario '%s': give USED,OVERHEAD,MAXMEMORY[,KEYS[,LAZY]]\n",
				argv[i]);
			return 2;
		}
		bad |= run(&sc);
	}
	while (argc == 1 && fgets(line, sizeof(line), stdin)) {
		if (parse(line, &sc)) {
			fprintf(stderr, "evict-model: bad scenario '%s'\n", line);
			return 2;
		}
		bad |= run(&sc);
	}
	if (bad)
		fprintf(stderr, "evict-model: the model's counters disagree with the scenarios' arithmetic\n");
	return bad;
}
