// SPDX-License-Identifier: BSD-3-Clause
/*
 * used_memory.c: see used_memory.h. Reads go through the load bias with
 * process_vm_readv; zmalloc_used_memory() itself is run by the analyser
 * (analysis__used_memory), which reads only the binary's globals.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "used_memory.h"
#include "util.h"

struct used_memory {
	const struct target *t;
	struct plan_global word;
};

static int read_target(void *ctx, uint64_t addr, uint64_t *v)
{
	return target__read(ctx, addr, v, sizeof(*v));
}

int used_memory_read(struct used_memory *u, uint64_t *v)
{
	if (u->word.known)
		return target__read(u->t, u->word.addr, v, sizeof(*v));
	return analysis__used_memory(u->t->an, read_target, (void *)u->t, v);
}

struct used_memory *used_memory_open(const struct target *t, const struct plan_global *word)
{
	struct used_memory *u = xcalloc(1, sizeof(*u));
	uint64_t v;

	u->t = t;
	u->word = *word;
	if ((!u->word.known && !t->bias_known) || used_memory_read(u, &v)) {
		used_memory_close(u);
		return NULL;
	}
	return u;
}

void used_memory_close(struct used_memory *u)
{
	free(u);
}
