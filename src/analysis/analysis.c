// SPDX-License-Identifier: BSD-3-Clause
/*
 * analysis.c: the per-executable context of analysis.h, its caches, and
 * the entry points that describe code (probe sites, listings) or run it
 * (used memory, the version). Generating and verifying offset files are in
 * offsets_gen.c and site_verify.c, over the same context.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "disasm.h"
#include "emu.h"
#include "util.h"

#define USED_MEMORY_STEPS 100000	/* Valkey sums up to 260 counters */
#define USED_MEMORY_STACK 0x7ff000000000ULL	/* a run's own stack */

int analysis_init(void)
{
	return disasm_init();
}

void analysis_fini(void)
{
	disasm_fini();
}

struct analysis *analysis__new(const struct elf_image *img, const struct elf_sym *evict, const char *root)
{
	struct analysis *a = xcalloc(1, sizeof(*a));

	a->img = img;
	a->evict = *evict;
	a->root = root ? xstrdup(root) : NULL;
	return a;
}

void analysis__free(struct analysis *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->nruns; i++) {
		evict_analysis_free(&a->runs[i]->ev);
		free(a->runs[i]);
	}
	for (int i = 0; i < a->nflows; i++) {
		flow_free(&a->flow[i]->flow);
		free(a->flow[i]);
	}
	debuginfo_close(a->dwarf);
	code_free(&a->zm_code);
	free(a->root);
	free(a);
}

/* --------------------------------------------------------------------
 * Caches
 * ------------------------------------------------------------------ */

const struct flow *context_flow(struct analysis *a, const struct elf_sym *fn, int *err)
{
	struct cached_flow *c = NULL;

	for (int i = 0; i < a->nflows; i++)
		if (a->flow[i]->addr == fn->addr)
			c = a->flow[i];
	if (!c) {
		if (a->nflows == CONTEXT_MAX_FLOWS) {
			*err = -ENOSPC;
			return NULL;
		}
		c = a->flow[a->nflows++] = xcalloc(1, sizeof(*c));
		c->addr = fn->addr;
		c->err = flow_build(a->img, fn, &c->flow);
	}
	*err = c->err;
	return c->err ? NULL : &c->flow;
}

int context_runs(struct analysis *a, uint64_t hint, const struct evict_analysis **out)
{
	struct cached_runs *c;
	const struct flow *f;
	int err;

	/* A run that discovered maxmemory at HINT is the run a hint of HINT would make. */
	for (int i = 0; i < a->nruns; i++) {
		c = a->runs[i];
		if (c->hint == hint || (hint && !c->err && c->ev.maxmemory_known && c->ev.maxmemory == hint)) {
			*out = &c->ev;
			return c->err;
		}
	}
	if (a->nruns == CONTEXT_MAX_RUNS) {
		snprintf(a->no_room.why, sizeof(a->no_room.why), "more than %d maxmemory addresses asked of one "
			 "executable's analysis", CONTEXT_MAX_RUNS);
		*out = &a->no_room;
		return -ENOSPC;
	}
	c = a->runs[a->nruns++] = xcalloc(1, sizeof(*c));
	c->hint = hint;
	f = context_flow(a, &a->evict, &err);
	if (f) {
		c->err = evict_analyse(f, hint, &c->ev);
	} else {
		c->err = err;
		snprintf(c->ev.why, sizeof(c->ev.why), "%s cannot be read as code: %s", a->evict.name,
			 disasm_strerror(err));
	}
	*out = &c->ev;
	return c->err;
}

struct debuginfo *context_dwarf(struct analysis *a)
{
	if (!a->dwarf_tried) {
		a->dwarf_tried = true;
		if (debuginfo_open(a->img, a->root, &a->dwarf))
			a->dwarf = NULL;
	}
	return a->dwarf;
}

/* --------------------------------------------------------------------
 * Code
 * ------------------------------------------------------------------ */

const char *analysis_strerror(int err)
{
	return disasm_strerror(err);
}

static void describe(const struct analysis *a, const struct insn *in, struct code_line *out)
{
	out->addr = in->addr;
	out->cls = (enum insn_class)in->cls;
	out->cc = (enum x86_cc)in->cc;
	if (disasm_text(a->img, in->addr, out->text, sizeof(out->text)))
		snprintf(out->text, sizeof(out->text), "?");
}

int analysis__site(struct analysis *a, const struct elf_sym *fn, uint64_t addr, struct code_line *out)
{
	const struct flow *f;
	const struct insn *in;
	int err;

	f = context_flow(a, fn, &err);
	if (!f)
		return err == -ERANGE ? -EFAULT : err;
	in = code_at(&f->code, addr);
	if (!flow_part_at(f, addr) || !in)
		return -EFAULT;
	describe(a, in, out);
	return 0;
}

int analysis__listing(struct analysis *a, uint64_t addr, int before, int after, struct code_line *lines, int max,
		      int *n)
{
	const struct flow *f;
	long i;
	int err;

	*n = 0;
	f = context_flow(a, &a->evict, &err);
	if (!f)
		return err;
	i = code_index(&f->code, addr);
	if (i < 0)
		return -EFAULT;
	for (long k = i - before < 0 ? 0 : i - before; k <= i + after && (size_t)k < f->code.n && *n < max; k++)
		describe(a, &f->code.insns[k], &lines[(*n)++]);
	return 0;
}

uint64_t analysis__once_per_call(struct analysis *a, const struct elf_sym *fn)
{
	const struct flow *f;
	long entry;
	int err;

	f = context_flow(a, fn, &err);
	if (!f || f->why_incomplete[0] || (entry = code_index(&f->code, fn->addr)) < 0)
		return fn->addr;
	for (size_t i = (size_t)entry; i < f->code.n; i++) {
		const struct insn *in = &f->code.insns[i];

		/* Past the entry, an instruction reached from elsewhere may run more than once a call. */
		if ((long)i != entry && (f->pred_off[i + 1] - f->pred_off[i] != 1 || f->pred[f->pred_off[i]] != i - 1))
			break;
		if (in->cls == INSN_EMULATED)
			return in->addr;
		if (in->flow != FLOW_NEXT && in->flow != FLOW_CALL && in->flow != FLOW_ICALL)
			break;
	}
	return fn->addr;
}

/* --------------------------------------------------------------------
 * Running the server's own code over its memory
 * ------------------------------------------------------------------ */

struct read_run {
	const struct elf_image *img;
	analysis_read_fn read;
	void *ctx;
	int err;	/* the first failed load's -errno */
};

static uint64_t read_load(void *ctx, uint64_t addr)
{
	struct read_run *r = ctx;
	uint64_t v = 0;
	int err;

	/* Only the binary's own globals: never a pointer the target holds. */
	err = elf_image__is_data(r->img, addr) ? r->read(r->ctx, addr, &v) : -EFAULT;
	if (err && !r->err)
		r->err = err;
	return v;
}

static int no_calls(void *ctx, struct emu *e, uint64_t target, uint64_t at)
{
	(void)ctx, (void)e, (void)target, (void)at;
	return -1;
}

int analysis__used_memory(struct analysis *a, analysis_read_fn read, void *ctx, uint64_t *v)
{
	struct read_run r = { a->img, read, ctx, 0 };
	struct emu_hooks hooks = { read_load, no_calls, &r };
	struct elf_sym fn;
	struct emu e;
	int err = 0;

	if (!a->zm_tried) {
		a->zm_tried = true;
		a->zm_err = elf_image__func(a->img, "zmalloc_used_memory", &fn);
		if (!a->zm_err)
			a->zm_err = disasm_linear(a->img, fn.addr, fn.size, &a->zm_code);
		a->zm_entry = fn.addr;
	}
	if (a->zm_err)
		return a->zm_err;
	emu_init(&e, &a->zm_code, &hooks);
	emu_set(&e, GPR_RSP, USED_MEMORY_STACK - 8, 0);
	emu_write(&e, USED_MEMORY_STACK - 8, 0, 8, 0);	/* the return address */
	e.rip = a->zm_entry;
	if (emu_run(&e, USED_MEMORY_STEPS) != EMU_RETURNED || r.err)
		err = r.err ? r.err : -EIO;
	else
		*v = e.regs.r[GPR_RAX];
	emu_free(&e);
	return err;
}

static uint64_t no_loads(void *ctx, uint64_t addr)
{
	*(bool *)ctx = true;
	(void)addr;
	return 0;
}

/* The getter returns a constant, whatever the frame set-up around it: run it, reading nothing. */
int analysis_server_version(const struct elf_image *img, const char *getter, uint64_t *v)
{
	bool loaded = false;
	struct emu_hooks hooks = { no_loads, no_calls, &loaded };
	struct code code = { 0 };
	struct elf_sym sym;
	struct emu e;
	int err;

	err = elf_image__func(img, getter, &sym);
	if (!err)
		err = disasm_linear(img, sym.addr, sym.size, &code);
	if (err)
		goto out;
	emu_init(&e, &code, &hooks);
	emu_set(&e, GPR_RSP, USED_MEMORY_STACK - 8, 0);
	emu_write(&e, USED_MEMORY_STACK - 8, 0, 8, 0);	/* the return address */
	e.rip = sym.addr;
	if (emu_run(&e, 64) != EMU_RETURNED || loaded)
		err = -ENOENT;
	else
		*v = e.regs.r[GPR_RAX] & 0xffffffffULL;
	emu_free(&e);
out:
	code_free(&code);
	return err;
}
