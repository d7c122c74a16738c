// SPDX-License-Identifier: BSD-3-Clause
/*
 * counter_sum.c: how a getter of the server's (zmalloc_used_memory,
 * lazyfreeGetPendingObjectsCount) computes its result from globals, as a
 * formula BPF can evaluate: one word, or counters STRIDE bytes apart summed
 * up to a count read from another global (Redis 8 and Valkey keep used
 * memory per thread), clamped at a cap, plus a word for the threads beyond
 * it.
 *
 * Nothing is assumed from names or sizes: the getter itself is run by the
 * interpreter over made-up memory, every word a distinct random number and
 * the candidate count set to chosen values. The formula is taken only when
 * it gives the getter's result for every count tried, including 0, the cap
 * and past it, with a second set of numbers.
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

#define SUM_STEPS 200000
#define SUM_STACK 0x7ff000000000ULL	/* a run's own stack */
#define SUM_MAX_LOADS 1024

/* One run of the getter: made-up memory, and what it read. */
struct sum_run {
	const struct elf_image *img;
	uint64_t seed;
	uint64_t count;		/* the count's address; 0: none */
	int count_size;
	uint64_t k;		/* the count's value */
	uint64_t loads[SUM_MAX_LOADS];	/* words read other than the count's */
	size_t nloads;
	bool bad;		/* read outside the binary's writable globals */
};

/* The made-up number at word ADDR: random, so that no sum of others equals it by chance. */
static uint64_t word_of(uint64_t seed, uint64_t addr)
{
	return mix64(seed, addr);
}

static uint64_t sum_load(void *ctx, uint64_t addr)
{
	struct sum_run *r = ctx;
	uint64_t mask;
	int shift;

	if (!elf_image__is_data(r->img, addr)) {
		r->bad = true;
		return 0;
	}
	if (r->count && addr == (r->count & ~7ULL)) {
		shift = (int)(r->count & 7) * 8;
		mask = r->count_size == 8 ? ~0ULL : 0xffffffffULL;
		return (r->k & mask) << shift;
	}
	if (r->nloads < SUM_MAX_LOADS)
		r->loads[r->nloads++] = addr;
	return word_of(r->seed, addr);
}

static int sum_no_calls(void *ctx, struct emu *e, uint64_t target, uint64_t at)
{
	(void)ctx, (void)e, (void)target, (void)at;
	return -1;
}

/* Runs the getter with R's memory; false when it does not return or reads outside the globals. */
static bool run_getter(const struct code *code, uint64_t entry, struct sum_run *r, uint64_t *out)
{
	struct emu_hooks hooks = { sum_load, sum_no_calls, r };
	struct emu e;
	bool ok;

	r->nloads = 0;
	r->bad = false;
	emu_init(&e, code, &hooks);
	emu_set(&e, GPR_RSP, SUM_STACK - 8, 0);
	emu_write(&e, SUM_STACK - 8, 0, 8, 0);	/* the return address */
	e.rip = entry;
	ok = emu_run(&e, SUM_STEPS) == EMU_RETURNED && !r->bad;
	*out = e.regs.r[GPR_RAX];
	emu_free(&e);
	return ok;
}

/* Whether count K is negative for S: a signed count below zero sums nothing. */
static bool negative(const struct counter_sum *s, uint64_t k)
{
	return s->count_signed && (k >> (s->count_size * 8 - 1) & 1);
}

/* What formula S gives for count K over R's memory. */
static uint64_t formula(const struct counter_sum *s, const struct sum_run *r, uint64_t k)
{
	uint64_t n = s->count ? k : 1, v = 0;

	if (negative(s, k))
		return 0;
	if (n > s->cap)
		n = s->cap;
	for (uint64_t i = 0; i < n; i++)
		v += word_of(r->seed, s->base + i * s->stride);
	if (s->extra && k > s->cap)
		v += word_of(r->seed, s->extra);
	return v;
}

/* Whether the getter agrees with S for count K (any count when S has none). */
static bool agrees(const struct code *code, uint64_t entry, const struct counter_sum *s, struct sum_run *r,
		   uint64_t k)
{
	uint64_t v;

	r->k = k;
	return run_getter(code, entry, r, &v) && v == formula(s, r, k);
}

/* The word among R's loads that is V, 0 if none. */
static uint64_t load_valued(const struct sum_run *r, uint64_t v)
{
	for (size_t i = 0; i < r->nloads; i++)
		if (word_of(r->seed, r->loads[i]) == v)
			return r->loads[i];
	return 0;
}

/*
 * With count at C: base and stride from counts 1 and 2, then the cap: the
 * largest count for which the plain sum holds (searched up to
 * COUNTER_SUM_MAX), and what is added past it.
 */
static bool try_count(const struct code *code, uint64_t entry, struct counter_sum *s, struct sum_run *r)
{
	uint64_t v, second, lo, hi;

	r->k = 1;
	if (!run_getter(code, entry, r, &v) || !(s->base = load_valued(r, v)))
		return false;
	r->k = 2;
	if (!run_getter(code, entry, r, &v) || !(second = load_valued(r, v - word_of(r->seed, s->base))) ||
	    second <= s->base)
		return false;
	s->stride = second - s->base;
	s->cap = COUNTER_SUM_MAX;
	s->extra = 0;
	if (!agrees(code, entry, s, r, 0) || !agrees(code, entry, s, r, 2))
		return false;
	if (agrees(code, entry, s, r, COUNTER_SUM_MAX)) {
		/* Summed up to any count we tried: BPF reads at most the cap and refuses more. */
		s->capped = false;
		return true;
	}
	/* The plain sum holds at LO and fails at HI. */
	lo = 2, hi = COUNTER_SUM_MAX;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (agrees(code, entry, s, r, mid))
			lo = mid;
		else
			hi = mid;
	}
	s->cap = (uint32_t)lo;
	s->capped = true;
	r->k = hi;
	if (!run_getter(code, entry, r, &v))
		return false;
	v -= formula(s, r, lo);
	if (v && !(s->extra = load_valued(r, v)))
		return false;
	return true;
}

/* The reads of IN at a global by a rip-relative operand of 4 or 8 bytes: candidates for the count. */
static int count_candidates(const struct elf_image *img, const struct code *c, uint64_t *addr, int *size, int max)
{
	int n = 0;

	for (size_t k = 0; k < c->n && n < max; k++) {
		const struct insn *in = &c->insns[k];
		const cs_x86 *x = &in->cs->detail->x86;

		if (in->cs->id == X86_INS_LEA)
			continue;
		for (int i = 0; i < x->op_count && n < max; i++) {
			const cs_x86_op *op = &x->operands[i];
			uint64_t a;

			if (op->type != X86_OP_MEM || op->mem.base != X86_REG_RIP ||
			    op->mem.index != X86_REG_INVALID || (op->size != 4 && op->size != 8))
				continue;
			a = in->addr + in->size + (uint64_t)op->mem.disp;
			if (elf_image__is_data(img, a) && (a & 7) + op->size <= 8) {
				addr[n] = a;
				size[n++] = op->size;
			}
		}
	}
	return n;
}

/* Counts a second set of numbers is checked at, beyond those the search used. */
static bool confirm(const struct code *code, uint64_t entry, const struct counter_sum *s, struct sum_run *r)
{
	uint64_t ks[] = { 0, 1, 2, 3, 5, 8, 13, s->cap - 1, s->cap, s->cap + 1ULL, s->cap + 2ULL,
			  2ULL * s->cap + 3, s->count_size == 4 ? 0x7fffffffULL : 1ULL << 40,
			  s->count_size == 4 ? 0xffffffffULL : ~0ULL };

	r->seed ^= 0x5eed5eed5eed5eedULL;
	if (!s->count)
		return agrees(code, entry, s, r, 0);
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		/* Past the cap an uncapped getter reads what BPF refuses to: nothing to compare. */
		if (!s->capped && ks[i] > s->cap && !negative(s, ks[i]))
			continue;
		if (!agrees(code, entry, s, r, ks[i]))
			return false;
	}
	return true;
}

int analysis__counter_sum(struct analysis *a, const char *getter, struct counter_sum *out, char *why, size_t len)
{
	struct sum_run *r = xcalloc(1, sizeof(*r));
	uint64_t cand[16], v;
	int csize[16], ncand;
	struct code code = { 0 };
	struct elf_sym fn;
	int err;

	memset(out, 0, sizeof(*out));
	r->img = a->img;
	r->seed = 0x636f756e74657273ULL;
	err = elf_image__func(a->img, getter, &fn);
	if (err) {
		snprintf(why, len, "the server has no function %s", getter);
		goto out;
	}
	err = disasm_linear(a->img, fn.addr, fn.size, &code);
	if (err) {
		snprintf(why, len, "%s does not disassemble: %s", getter, disasm_strerror(err));
		goto out;
	}
	err = -ENOTSUP;
	/* One word: the getter returns what it read. */
	if (run_getter(&code, fn.addr, r, &v) && r->nloads == 1 && v == word_of(r->seed, r->loads[0])) {
		out->base = r->loads[0];
		out->cap = 1;
		if (confirm(&code, fn.addr, out, r))
			err = 0;
		goto out;
	}
	ncand = count_candidates(a->img, &code, cand, csize, 16);
	/* Each candidate, as a signed count and as an unsigned one. */
	for (int i = 0; i < 2 * ncand && err; i++) {
		memset(out, 0, sizeof(*out));
		out->count = r->count = cand[i / 2];
		out->count_size = r->count_size = csize[i / 2];
		out->count_signed = !(i & 1);
		if (try_count(&code, fn.addr, out, r) && confirm(&code, fn.addr, out, r))
			err = 0;
	}
	if (err) {
		memset(out, 0, sizeof(*out));
		snprintf(why, len, "%s computes its result in a way redprof cannot model as a sum of counters",
			 getter);
	}
out:
	code_free(&code);
	free(r);
	return err;
}
