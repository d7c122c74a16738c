// SPDX-License-Identifier: BSD-3-Clause
/*
 * exits.c: where an evicting call leaves the eviction path, for light
 * plans that time evicting calls from the slow-path site to their exit
 * without probing the function's entry and return (which every command
 * runs).
 *
 * The region is the code only evicting calls run: what the slow-path site
 * dominates. Nothing outside it leads back in but through the slow-path
 * site, which is on no loop, so a call leaves it once. Exits are ways on
 * from direct jumps the kernel emulates (the slow-path site's own
 * included): the probe on a jump sees the flags, so it tells a way that
 * leaves from one that stays. They split the region in two: the code
 * before them, which holds every loop (the work being timed), and a short
 * tail after them; every path from the slow-path site out of the region
 * crosses exactly one exit.
 *
 * The latest such split is found first: every way out of the region, moved
 * back to the last jump before it where it is not one. Then tails are
 * given up while that lowers the number of exit jumps a call runs (each
 * one a probe hit): a jump whose one way leaves and other way reaches a
 * second exit costs two hits where an earlier exit costs one. An exit on
 * a loop (a break straight out of the function) is crossed once but hit
 * on every turn; there is no later place to put it.
 *
 * The function's return value on each exit is found by running from where
 * that way goes to the return, with each value the server returns
 * (EVICT_OK/RUNNING/FAIL, or Redis 6.0's C_OK/C_ERR) in turn in each
 * register: the one constant every run returns, else the register that
 * holds what the function then returns. A value the server never returns
 * would show as "other".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "exits.h"
#include "util.h"

#define RESULT_STEPS 400	/* from an exit to the return */
#define RESULT_SEEDS 12		/* random states each value is tried in */
#define TAIL_MAX 96		/* instructions an exit may leave out of the timing */
#define HITS_CAP EXITS_LOOPED	/* exit hits counted per call, at most */
#define STACK_TOP 0x7ff000000000ULL

/* --------------------------------------------------------------------
 * The region
 * ------------------------------------------------------------------ */

struct region {
	const struct flow *f;
	size_t n;
	long slow;		/* index of the slow-path site */
	bool *dead_end;		/* no return follows (for emu) */
	bool *dominated;	/* run only after the slow-path site */
	bool *cyclic;		/* on a loop */
	bool *main_loop;	/* on the region's largest loop: the eviction loop most evicting calls turn */
	bool *cand;		/* may be an exit: an emulated direct jump of the region */
	bool legacy;		/* Redis <= 6.0: returns C_OK 0 or C_ERR -1 */
	int8_t *known;		/* per instruction: 1 when result[] holds what a call going on there returns, -1 when that cannot be told */
	struct expr *result;
};

/* One way on from an instruction: the instruction it goes to (-1: out of the function) and, for a jump, which. */
struct way {
	long to;
	int edge;		/* enum edge, -1 when no jump's */
};

static bool leaves_function(const struct flow *f, size_t i)
{
	const struct insn *in = &f->code.insns[i];

	/* A jump through a table has its targets as successors; one through a pointer is a tail call. */
	if (in->flow == FLOW_RET || (in->flow == FLOW_IJUMP && f->succ_off[i] == f->succ_off[i + 1]))
		return true;
	return (in->flow == FLOW_JUMP || in->flow == FLOW_CJUMP) && code_index(&f->code, in->target) < 0;
}

static int nways(const struct flow *f, size_t i)
{
	return (int)(f->succ_off[i + 1] - f->succ_off[i]) + leaves_function(f, i);
}

static struct way way_of(const struct flow *f, size_t i, int k)
{
	const struct insn *in = &f->code.insns[i];
	uint32_t nsucc = f->succ_off[i + 1] - f->succ_off[i];
	struct way w = { -1, -1 };
	bool jump = in->flow == FLOW_JUMP || in->flow == FLOW_CJUMP;

	if ((uint32_t)k == nsucc) {
		w.edge = jump ? EDGE_TAKEN : -1;
		return w;
	}
	w.to = f->succ[f->succ_off[i] + (uint32_t)k];
	/* A jcc to the next instruction has one way on, which no probe tells apart. */
	if (jump && in->target != in->addr + in->size)
		w.edge = f->code.insns[w.to].addr == in->target ? EDGE_TAKEN : EDGE_NEXT;
	return w;
}

static void reach(const struct flow *f, long from, long avoid, bool *seen)
{
	uint32_t *stack = xcalloc(f->code.n + f->succ_off[f->code.n] + 1, sizeof(*stack));
	size_t top = 0;

	stack[top++] = (uint32_t)from;
	while (top) {
		uint32_t i = stack[--top];

		if (seen[i] || (long)i == avoid)
			continue;
		seen[i] = true;
		for (uint32_t k = f->succ_off[i]; k < f->succ_off[i + 1]; k++)
			if (!seen[f->succ[k]])
				stack[top++] = f->succ[k];
	}
	free(stack);
}

/*
 * Marks instructions on a loop: those in a strongly connected component of
 * two or more, or jumping to themselves; and numbers the components in COMP.
 */
static void mark_cycles(const struct flow *f, bool *cyclic, uint32_t *comp)
{
	size_t n = f->code.n;
	long *index = xcalloc(n, sizeof(long)), *low = xcalloc(n, sizeof(long));
	uint32_t *stack = xcalloc(n, sizeof(uint32_t)), *call = xcalloc(n, sizeof(uint32_t));
	uint32_t *pos = xcalloc(n, sizeof(uint32_t));
	bool *on = xcalloc(n, sizeof(bool));
	size_t top = 0, depth = 0;
	long next = 1;
	uint32_t ncomp = 0;

	for (size_t root = 0; root < n; root++) {
		if (index[root])
			continue;
		call[depth++] = (uint32_t)root;
		index[root] = low[root] = next++;
		stack[top++] = (uint32_t)root;
		on[root] = true;
		pos[root] = f->succ_off[root];
		while (depth) {
			uint32_t v = call[depth - 1];

			if (pos[v] < f->succ_off[v + 1]) {
				uint32_t w = f->succ[pos[v]++];

				if (w == v)
					cyclic[v] = true;
				if (!index[w]) {
					index[w] = low[w] = next++;
					stack[top++] = w;
					on[w] = true;
					pos[w] = f->succ_off[w];
					call[depth++] = w;
				} else if (on[w] && index[w] < low[v]) {
					low[v] = index[w];
				}
				continue;
			}
			depth--;
			if (depth && low[v] < low[call[depth - 1]])
				low[call[depth - 1]] = low[v];
			if (low[v] == index[v]) {
				uint32_t w;
				bool many = stack[top - 1] != v;

				do {
					w = stack[--top];
					on[w] = false;
					cyclic[w] |= many;
					comp[w] = ncomp;
				} while (w != v);
				ncomp++;
			}
		}
	}
	free(index);
	free(low);
	free(stack);
	free(call);
	free(pos);
	free(on);
}

/* Marks instructions no return can follow: every way on ends in a call that does not return. */
static void mark_dead_ends(const struct flow *f, bool *dead)
{
	size_t n = f->code.n;
	uint32_t *stack = xcalloc(n + f->pred_off[n] + 1, sizeof(*stack));
	bool *live = xcalloc(n, sizeof(bool));
	size_t top = 0;

	for (size_t i = 0; i < n; i++)
		if (leaves_function(f, i))
			stack[top++] = (uint32_t)i;
	while (top) {
		uint32_t i = stack[--top];

		if (live[i])
			continue;
		live[i] = true;
		for (uint32_t k = f->pred_off[i]; k < f->pred_off[i + 1]; k++)
			stack[top++] = f->pred[k];
	}
	for (size_t i = 0; i < n; i++)
		dead[i] = !live[i];
	free(stack);
	free(live);
}

static int region_build(const struct flow *f, uint64_t slow, bool legacy, struct region *r)
{
	size_t n = f->code.n, *size;
	bool *from_slow, *avoiding;
	uint32_t *comp, largest = 0;

	memset(r, 0, sizeof(*r));
	r->f = f;
	r->n = n;
	r->legacy = legacy;
	r->slow = code_index(&f->code, slow);
	if (r->slow < 0 || f->why_incomplete[0])
		return -ENOTRECOVERABLE;
	from_slow = xcalloc(n, sizeof(bool));
	avoiding = xcalloc(n, sizeof(bool));
	r->dominated = xcalloc(n, sizeof(bool));
	r->dead_end = xcalloc(n, sizeof(bool));
	r->cyclic = xcalloc(n, sizeof(bool));
	r->main_loop = xcalloc(n, sizeof(bool));
	comp = xcalloc(n, sizeof(uint32_t));
	size = xcalloc(n, sizeof(size_t));
	r->cand = xcalloc(n, sizeof(bool));
	r->known = xcalloc(n, sizeof(int8_t));
	r->result = xcalloc(n, sizeof(struct expr));
	reach(f, r->slow, -1, from_slow);
	for (size_t i = 0; i < n; i++)
		if (f->entry[i])
			reach(f, (long)i, r->slow, avoiding);
	mark_cycles(f, r->cyclic, comp);
	mark_dead_ends(f, r->dead_end);
	for (size_t i = 0; i < n; i++) {
		const struct insn *in = &f->code.insns[i];

		r->dominated[i] = from_slow[i] && !avoiding[i];
		r->cand[i] = r->dominated[i] && in->cls == INSN_EMULATED && in->cc != X86_CC_NONE;
	}
	for (size_t i = 0; i < n; i++)
		if (r->dominated[i] && r->cyclic[i] && ++size[comp[i]] > size[largest])
			largest = comp[i];
	for (size_t i = 0; i < n; i++)
		r->main_loop[i] = r->dominated[i] && r->cyclic[i] && comp[i] == largest;
	free(from_slow);
	free(avoiding);
	free(comp);
	free(size);
	return 0;
}

static void region_free(struct region *r)
{
	free(r->dead_end);
	free(r->dominated);
	free(r->cyclic);
	free(r->main_loop);
	free(r->cand);
	free(r->known);
	free(r->result);
}

/* --------------------------------------------------------------------
 * The return value on an exit
 * ------------------------------------------------------------------ */

struct result_run {
	uint64_t seed;
};

static uint64_t result_load(void *ctx, uint64_t w)
{
	return mix64(((struct result_run *)ctx)->seed, w) & 0xffffffffULL;
}

static int result_call(void *ctx, struct emu *e, uint64_t target, uint64_t at)
{
	static const enum gpr clobbered[] = { GPR_RAX, GPR_RCX, GPR_RDX, GPR_RSI, GPR_RDI, GPR_R8, GPR_R9,
					      GPR_R10, GPR_R11 };
	struct result_run *r = ctx;

	for (size_t i = 0; i < ARRAY_SIZE(clobbered); i++)
		emu_set(e, clobbered[i], mix64(r->seed, target + i), at);
	return 0;
}

/* Return values compared as the int the function returns. */
static bool int_equal(uint64_t a, uint64_t b)
{
	return (uint32_t)a == (uint32_t)b;
}

/* Runs from instruction FROM to the return with register R = V and the rest random; rax then in *OUT. */
static bool run_to_return(const struct region *rg, size_t from, uint64_t seed, enum gpr r, uint64_t v,
			  uint64_t *out)
{
	const struct flow *f = rg->f;
	struct result_run ctx = { seed };
	struct emu_hooks hooks = { result_load, result_call, &ctx };
	struct emu e;
	bool ok;

	emu_init(&e, &f->code, &hooks);
	e.dead_end = rg->dead_end;
	for (int g = 0; g < GPR_N; g++)
		emu_set(&e, (enum gpr)g, mix64(seed, 0x900 + (uint64_t)g), 0);
	emu_set(&e, GPR_RSP, STACK_TOP, 0);
	emu_set(&e, r, v, 0);
	e.rip = f->code.insns[from].addr;
	ok = emu_run(&e, RESULT_STEPS) == EMU_RETURNED;
	if (ok)
		*out = e.regs.r[GPR_RAX];
	emu_free(&e);
	return ok;
}

/*
 * The return value of a call that goes on to instruction TO: runs from
 * there, with each value the function returns put in each register in
 * turn, must all return; then it is the one constant they all return, or
 * the register that, whichever of those values it held, the function
 * returns. Jumps change no register, so it holds that value at the exit.
 */
static int exit_result(const struct region *rg, long to, struct expr *result)
{
	static const int64_t modern[] = { 0, 1, 2 }, old[] = { 0, -1 };
	const int64_t *vals = rg->legacy ? old : modern;
	size_t nvals = rg->legacy ? ARRAY_SIZE(old) : ARRAY_SIZE(modern);
	uint16_t holds = (uint16_t)~GPR_BIT(GPR_RSP);
	uint64_t ret, first = 0;
	bool constant = true, some = false;

	if (to < 0)
		return -ENOTSUP;
	for (uint64_t seed = 1; seed <= RESULT_SEEDS; seed++)
		for (int r = 0; r < GPR_N; r++)
			for (size_t k = 0; k < nvals; k++) {
				if (r == GPR_RSP)
					continue;
				if (!run_to_return(rg, (size_t)to, seed, (enum gpr)r, (uint64_t)vals[k], &ret))
					return -ENOTSUP;
				if (!some)
					first = ret;
				some = true;
				constant &= int_equal(ret, first);
				if (!int_equal((uint64_t)vals[k], ret))
					holds &= (uint16_t)~GPR_BIT(r);
			}
	if (constant) {
		*result = (struct expr){ .n = 1, .t[0] = { .kind = TERM_CONST, .sign = 1, .off = (int32_t)first } };
		return 0;
	}
	for (int q = 0; q < GPR_N; q++)
		if (holds & GPR_BIT(q)) {
			*result = (struct expr){ .n = 1, .t[0] = { .kind = TERM_REG, .sign = 1, .reg = (enum gpr)q } };
			return 0;
		}
	return -ENOENT;
}

/* What a call going on to TO returns, worked out once; NULL when it cannot be told. */
static const struct expr *result_at(struct region *r, long to)
{
	if (to < 0)
		return NULL;
	if (!r->known[to])
		r->known[to] = exit_result(r, to, &r->result[to]) ? -1 : 1;
	return r->known[to] > 0 ? &r->result[to] : NULL;
}

static bool same_result(const struct expr *a, const struct expr *b)
{
	const struct term *x = &a->t[0], *y = &b->t[0];

	return a->n == 1 && b->n == 1 && x->kind == y->kind &&
	       (x->kind == TERM_REG ? x->reg == y->reg : x->kind == TERM_CONST && x->off == y->off);
}

/* --------------------------------------------------------------------
 * Splitting the region: BEFORE holds what runs before the exits
 * ------------------------------------------------------------------ */

/* Takes instruction I and all it leads to out of BEFORE; false when that gives up a loop or the slow-path site. */
static bool give_up(const struct region *r, bool *before, size_t i, size_t *given)
{
	const struct flow *f = r->f;
	uint32_t *stack = xcalloc(r->n + f->succ_off[r->n] + 1, sizeof(*stack));
	size_t top = 0;
	bool ok = true;

	stack[top++] = (uint32_t)i;
	while (top) {
		uint32_t j = stack[--top];

		if (!before[j])
			continue;
		before[j] = false;
		ok &= !r->cyclic[j] && (long)j != r->slow;
		if (given)
			++*given;
		for (uint32_t k = f->succ_off[j]; k < f->succ_off[j + 1]; k++)
			stack[top++] = f->succ[k];
	}
	free(stack);
	return ok;
}

/*
 * Gives up what BEFORE cannot keep, until every way out of it is a way on
 * from a candidate jump: an exit. False when a loop or the slow-path site
 * would go, with the instruction to blame in *AT.
 */
static bool settle(const struct region *r, bool *before, size_t *at)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (size_t i = 0; i < r->n; i++) {
			if (!before[i])
				continue;
			for (int k = 0; k < nways(r->f, i); k++) {
				struct way w = way_of(r->f, i, k);

				if ((w.to >= 0 && before[w.to]) || (r->cand[i] && w.edge >= 0))
					continue;
				*at = i;
				if (!give_up(r, before, i, NULL))
					return false;
				changed = true;
				break;
			}
		}
	}
	return true;
}

/* Whether instruction I of BEFORE is an exit: some way on from it leaves BEFORE. */
static bool is_exit(const struct region *r, const bool *before, size_t i)
{
	if (!before[i])
		return false;
	for (int k = 0; k < nways(r->f, i); k++) {
		struct way w = way_of(r->f, i, k);

		if (w.to < 0 || !before[w.to])
			return true;
	}
	return false;
}

/* What a split costs, best first: return values told on every exit, fewest hits, fewest exits, latest. */
struct split_cost {
	bool told;		/* the return value on every exit can be told */
	int main_hits;		/* ... of calls that turn the eviction loop and no other: most of them */
	int hits;		/* the most exits but the slow-path site's one call runs (HITS_CAP: one is on a loop) */
	int exits;
	size_t kept;		/* instructions before the exits */
};

static bool cheaper(const struct split_cost *a, const struct split_cost *b)
{
	if (a->told != b->told)
		return a->told;
	if (a->main_hits != b->main_hits)
		return a->main_hits < b->main_hits;
	if (a->hits != b->hits)
		return a->hits < b->hits;
	if (a->exits != b->exits)
		return a->exits < b->exits;
	return a->kept > b->kept;
}

/* Whether the return value on every exit of BEFORE can be told: the costly part, asked last. */
static bool all_told(struct region *r, const bool *before)
{
	for (size_t i = 0; i < r->n; i++) {
		if (!is_exit(r, before, i))
			continue;
		for (int k = 0; k < nways(r->f, i); k++) {
			struct way w = way_of(r->f, i, k);

			if ((w.to < 0 || !before[w.to]) && !result_at(r, w.to))
				return false;
		}
	}
	return true;
}

#define STATE(i, turned, h) (((uint32_t)(i) * 4 + (turned)) * (HITS_CAP + 1) + (h))
#define TURNED_MAIN 1		/* the path turned the eviction loop */
#define TURNED_OTHER 2		/* ... or another loop: a rare way (the wait for lazy freeing) */

/*
 * The cost of BEFORE but for told, which is left true: a search over
 * (instruction, loops turned, exit hits). The hits that matter most are
 * those of calls that turn the eviction loop and no other.
 */
static struct split_cost cost(const struct region *r, const bool *before)
{
	const struct flow *f = r->f;
	uint32_t *stack = xcalloc(4 * (r->n + f->succ_off[r->n]) * (HITS_CAP + 1) + 1, sizeof(*stack));
	bool *seen = xcalloc(4 * r->n * (HITS_CAP + 1), sizeof(bool));
	struct split_cost c = { .told = true };
	size_t top = 0;
	bool loop = false;

	for (size_t i = 0; i < r->n; i++) {
		c.kept += before[i];
		c.exits += is_exit(r, before, i);
		loop |= r->main_loop[i];
	}
	stack[top++] = STATE(r->slow, 0, 0);
	while (top) {
		uint32_t st = stack[--top], h = st % (HITS_CAP + 1), turned = st / (HITS_CAP + 1) % 4;
		uint32_t i = st / (HITS_CAP + 1) / 4;

		if (seen[st])
			continue;
		seen[st] = true;
		if ((long)i != r->slow && is_exit(r, before, i) && h < HITS_CAP)
			h++;
		if (r->cyclic[i])
			turned |= r->main_loop[i] ? TURNED_MAIN : TURNED_OTHER;
		if ((int)h > c.hits)
			c.hits = (int)h;
		if ((turned == TURNED_MAIN || !loop) && (int)h > c.main_hits)
			c.main_hits = (int)h;
		for (int k = 0; k < nways(f, i); k++) {
			struct way w = way_of(f, i, k);

			if (w.to >= 0 && before[w.to])
				stack[top++] = STATE(w.to, turned, h);
		}
	}
	free(stack);
	free(seen);
	return c;
}

/* Whether I starts a block: something jumps to it, or more than the instruction before leads to it. */
static bool block_start(const struct flow *f, size_t i)
{
	return i == 0 || f->pred_off[i + 1] - f->pred_off[i] != 1 || f->pred[f->pred_off[i]] != i - 1 ||
	       f->code.insns[i - 1].flow != FLOW_NEXT;
}

/*
 * Gives up the tail that makes the split cheapest while one makes it
 * cheaper. A tail is a block and all it leads to, holding no loop and at
 * most TAIL_MAX instructions. The cost of the split in *C.
 */
static void shorten(struct region *r, bool *before, struct split_cost *c)
{
	bool *trial = xcalloc(r->n, sizeof(bool)), *best = xcalloc(r->n, sizeof(bool));

	*c = cost(r, before);
	c->told = all_told(r, before);
	for (;;) {
		struct split_cost least = *c;
		bool found = false;
		size_t at;

		for (size_t x = 0; x < r->n; x++) {
			struct split_cost t;
			size_t given = 0;

			if (!before[x] || (long)x == r->slow || !block_start(r->f, x))
				continue;
			memcpy(trial, before, r->n * sizeof(bool));
			if (!give_up(r, trial, x, &given) || given > TAIL_MAX || !settle(r, trial, &at))
				continue;
			t = cost(r, trial);
			if (cheaper(&t, &least) && !(t.told = all_told(r, trial)) && !cheaper(&t, &least))
				continue;
			if (cheaper(&t, &least)) {
				least = t;
				memcpy(best, trial, r->n * sizeof(bool));
				found = true;
			}
		}
		if (!found)
			break;
		memcpy(before, best, r->n * sizeof(bool));
		*c = least;
	}
	free(trial);
	free(best);
}

/* --------------------------------------------------------------------
 * The proof
 * ------------------------------------------------------------------ */

static void say(char *why, size_t len, const char *what, uint64_t addr)
{
	snprintf(why, len, what, (unsigned long long)addr);
}

/*
 * Every path from the slow-path site leaves the region crossing exactly
 * one exit (a way on marked in LEAVES, a bit per enum edge per
 * instruction), and no loop follows one.
 */
static int prove(const struct region *r, const uint8_t *leaves, char *why, size_t len)
{
	const struct flow *f = r->f;
	uint32_t *stack = xcalloc(2 * (r->n + f->succ_off[r->n]) + 2, sizeof(*stack));
	bool *seen = xcalloc(2 * r->n, sizeof(bool));
	size_t top = 0;
	int err = 0;

	stack[top++] = (uint32_t)r->slow * 2;
	while (top && !err) {
		uint32_t st = stack[--top], i = st / 2, passed = st % 2;
		uint64_t at = f->code.insns[i].addr;

		if (seen[st])
			continue;
		seen[st] = true;
		for (int k = 0; k < nways(f, i) && !err; k++) {
			struct way w = way_of(f, i, k);
			uint32_t now = passed + (w.edge >= 0 && (leaves[i] >> w.edge & 1));

			if (now > 1) {
				say(why, len, "a path from the slow path crosses two exits (the second at 0x%llx)", at);
				err = -EINVAL;
			} else if (w.to < 0 || !r->dominated[w.to]) {
				if (!now) {
					say(why, len, "a path from the slow path leaves it at 0x%llx without crossing an "
					    "exit", at);
					err = -EINVAL;
				}
			} else if (now && r->cyclic[w.to]) {
				say(why, len, "a loop follows the exit at 0x%llx: the time it takes would be missed", at);
				err = -EINVAL;
			} else {
				stack[top++] = (uint32_t)w.to * 2 + now;
			}
		}
	}
	free(stack);
	free(seen);
	return err;
}

/* --------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------ */

int exits_find(const struct flow *f, uint64_t slow, bool legacy, struct exit_site *out, int max, int *n, int *hits,
	       char *why, size_t len)
{
	struct split_cost c = { 0 };
	struct region r;
	uint8_t *leaves;
	bool *before;
	size_t at = 0;
	int err = 0, k = 0;

	*n = 0;
	if (region_build(f, slow, legacy, &r)) {
		snprintf(why, len, "%s", f->why_incomplete[0] ? f->why_incomplete : "the slow-path site is no instruction");
		return -ENOTRECOVERABLE;
	}
	before = xcalloc(r.n, sizeof(bool));
	leaves = xcalloc(r.n, sizeof(uint8_t));
	memcpy(before, r.dominated, r.n * sizeof(bool));
	if (!settle(&r, before, &at)) {
		say(why, len, "the eviction path leaves at 0x%llx with no emulated jump to tell it by after its loops",
		    f->code.insns[at].addr);
		err = -ENOENT;
	}
	if (!err)
		shorten(&r, before, &c);
	for (size_t i = 0; i < r.n && !err; i++) {
		if (!is_exit(&r, before, i))
			continue;
		if (k == max) {
			snprintf(why, len, "more than %d exits from the eviction path", max);
			err = -E2BIG;
			break;
		}
		memset(&out[k], 0, sizeof(out[k]));
		out[k].addr = f->code.insns[i].addr;
		for (int j = 0; j < nways(f, i) && !err; j++) {
			struct way w = way_of(f, i, j);
			const struct expr *res;

			if (w.to >= 0 && before[w.to])
				continue;
			out[k].leaves[w.edge] = true;
			leaves[i] |= (uint8_t)(1U << w.edge);
			res = result_at(&r, w.to);
			if (!res) {
				say(why, len, "the return value on the exit at 0x%llx cannot be told from the code after it",
				    out[k].addr);
				err = -ENOENT;
			} else {
				out[k].result[w.edge] = *res;
			}
		}
		k++;
	}
	if (!err)
		err = prove(&r, leaves, why, len);
	if (!err) {
		*n = k;
		*hits = c.hits;
	}
	free(before);
	free(leaves);
	region_free(&r);
	return err;
}

int exits_check(const struct flow *f, uint64_t slow, bool legacy, const struct exit_site *x, int n, char *why,
		size_t len)
{
	struct region r;
	uint8_t *leaves;
	int err = 0;

	if (region_build(f, slow, legacy, &r)) {
		snprintf(why, len, "the exits cannot be proven: %s",
			 f->why_incomplete[0] ? f->why_incomplete : "the slow-path site is no instruction");
		return -EINVAL;
	}
	leaves = xcalloc(r.n, sizeof(uint8_t));
	for (int k = 0; k < n && !err; k++) {
		long i = code_index(&f->code, x[k].addr);

		if (i < 0 || !r.cand[i]) {
			say(why, len, "exit 0x%llx is not an emulated direct jump that only evicting calls run", x[k].addr);
			err = -EINVAL;
			break;
		}
		for (int j = 0; j < nways(f, (size_t)i) && !err; j++) {
			struct way w = way_of(f, (size_t)i, j);
			const struct expr *want;

			if (w.edge < 0 || !x[k].leaves[w.edge])
				continue;
			leaves[i] |= (uint8_t)(1U << w.edge);
			want = result_at(&r, w.to);
			if (!want || !same_result(want, &x[k].result[w.edge])) {
				say(why, len, "exit 0x%llx: the return value there is not what the file says", x[k].addr);
				err = -EINVAL;
			}
		}
		for (int e = 0; e < NEDGES && !err; e++)
			if (x[k].leaves[e] && !(leaves[i] >> e & 1)) {
				say(why, len, "exit 0x%llx: the jump has no such way on", x[k].addr);
				err = -EINVAL;
			}
	}
	if (!err)
		err = prove(&r, leaves, why, len);
	free(leaves);
	region_free(&r);
	return err;
}
