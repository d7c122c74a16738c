// SPDX-License-Identifier: BSD-3-Clause
/*
 * used_memory.c: see used_memory.h. The interpreter runs
 * zmalloc_used_memory() with every load served from the target (through
 * the load bias) and its own stack. It reads only the binary's globals; a
 * call, an instruction it does not model, any other read, a read that
 * fails or a run that does not return gives no value.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "disasm.h"
#include "emu.h"
#include "used_memory.h"
#include "util.h"

#define RUN_STEPS 100000	/* Valkey sums up to 260 counters */
#define STACK_TOP 0x7ff000000000ULL	/* the run's own stack */

struct used_memory {
	const struct target *t;
	struct plan_global word;
	struct code code;	/* zmalloc_used_memory, when there is no word */
	uint64_t entry;
};

struct run {
	const struct target *t;
	int err;	/* the first failed load's -errno */
};

static uint64_t load(void *ctx, uint64_t addr)
{
	struct run *r = ctx;
	uint64_t v = 0;
	int err;

	/* Only the binary's own globals: never a pointer the target holds. */
	err = elf_image__is_data(r->t->img, addr) ? target__read(r->t, addr, &v, sizeof(v)) : -EFAULT;
	if (err && !r->err)
		r->err = err;
	return v;
}

static int no_calls(void *ctx, struct emu *e, uint64_t target, uint64_t at)
{
	(void)ctx, (void)e, (void)target, (void)at;
	return -1;
}

int used_memory_read(struct used_memory *u, uint64_t *v)
{
	struct run r = { u->t, 0 };
	struct emu_hooks hooks = { load, no_calls, &r };
	struct emu e;
	int err = 0;

	if (u->word.known)
		return target__read(u->t, u->word.addr, v, sizeof(*v));
	emu_init(&e, &u->code, &hooks);
	emu_set(&e, GPR_RSP, STACK_TOP - 8, 0);
	emu_write(&e, STACK_TOP - 8, 0, 8, 0);	/* the return address */
	e.rip = u->entry;
	if (emu_run(&e, RUN_STEPS) != EMU_RETURNED || r.err)
		err = r.err ? r.err : -EIO;
	else
		*v = e.regs.r[GPR_RAX];
	emu_free(&e);
	return err;
}

struct used_memory *used_memory_open(const struct target *t, const struct plan_global *word)
{
	struct used_memory *u = xcalloc(1, sizeof(*u));
	struct elf_sym fn;
	uint64_t v;

	u->t = t;
	u->word = *word;
	if (!u->word.known) {
		if (!t->bias_known || elf_image__func(t->img, "zmalloc_used_memory", &fn) ||
		    disasm_linear(t->img, fn.addr, fn.size, &u->code)) {
			used_memory_close(u);
			return NULL;
		}
		u->entry = fn.addr;
	}
	if (used_memory_read(u, &v)) {
		used_memory_close(u);
		return NULL;
	}
	return u;
}

void used_memory_close(struct used_memory *u)
{
	if (!u)
		return;
	code_free(&u->code);
	free(u);
}
