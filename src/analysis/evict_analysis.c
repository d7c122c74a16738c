// SPDX-License-Identifier: BSD-3-Clause
/*
 * evict_analysis.c: finding the entry evaluation of getMaxmemoryState(),
 * server.maxmemory and the slow path, by running the eviction function
 * in concrete scenarios.
 *
 * A scenario fixes every memory word the code reads (file bytes for
 * read-only data, a deterministic pseudo-random value per address and seed
 * for the rest) and maxmemory. mem_reported is what zmalloc_used_memory()
 * returns on that memory: its own code is run when it was inlined, so the
 * inlined copy and the oracle agree. overhead is chosen when the code
 * calls freeMemoryGetNotCountedMemory() and computed the same way when it
 * is inlined. Each scenario then runs from the entry evaluation on; the
 * slow path is what every evicting run executes and no other run does.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evict_analysis.h"
#include "util.h"

#define STACK_TOP 0x7ff000000000ULL	/* rsp at the function's entry */
#define ORACLE_STACK 0x7fe000000000ULL	/* rsp for runs of a helper */
#define RETURN_ADDR 0x7fdead000000ULL	/* never code: a return there ends a run */
#define MAX_SEEDS 600
#define WANT_EACH 16			/* evicting and non-evicting runs wanted */
#define PATH_STEPS 100000
#define RUN_STEPS 3000
#define ORACLE_STEPS 20000
#define DISCOVER_STEPS 4000
#define NEST_DEPTH 3			/* calls run inside calls, at most */
#define NEST_STEPS 5000			/* steps of one call run */
#define NEST_CALLS 16			/* calls a run runs; later ones (the slow path's) are answered */

/* --------------------------------------------------------------------
 * Scenario memory and calls
 * ------------------------------------------------------------------ */

/*
 * The word at W in scenario SEED: a random low half (sizes, counts,
 * pointers), or one below 16, and a high half of 0 or 1, so that a 4-byte field there (a
 * flag such as aof_enabled) takes both values across scenarios, where a
 * constant 0 would hide a branch from every run, while 8-byte values stay
 * below 2^33 and their sums cannot wrap.
 */
static uint64_t scenario_word(uint64_t seed, uint64_t w, bool narrow)
{
	uint64_t h = mix64(seed, w);

	/* One word in four is small (0 one time in eight), so that counts (of threads, say) take short loops' ways too. */
	if (!(mix64(seed, w ^ 0x5a11) & 3))
		return h & (h & 0x100 ? 0x3 : 0xf);
	return (h & 0xffffffffULL) | (narrow ? 0 : (h >> 63) << 32);
}

/* What a run needs to answer loads and calls; one per scenario run. */
struct run_ctx {
	const struct evict_analysis *a;
	const struct scenario *s;
	bool oracle;		/* running a helper's own code */
	bool stub_failed;
	struct emu *parent;	/* a call being run: the caller's run, whose memory it reads */
	int depth;		/* calls deep */
	int ran;		/* calls this run has run */
};

/* Code of functions whose calls are run rather than answered, disassembled once. */
struct callees {
	struct callee {
		uint64_t addr;
		struct code code;
		bool usable;
	} fn[32];
	size_t n;
};

static uint64_t run_load(void *ctx, uint64_t w)
{
	const struct run_ctx *c = ctx;
	const uint8_t *b;
	uint64_t v;

	/* Read-only data (jump tables, constants) is what the file holds. */
	if (!elf_image__is_data(c->a->img, w) && (b = elf_image__bytes(c->a->img, w, 8))) {
		memcpy(&v, b, 8);
		return v;
	}
	if (c->a->maxmemory_known && w == c->a->maxmemory)
		return c->s->mm;
	return scenario_word(c->s->seed, w, c->a->narrow);
}

/* A run of a call reads what its caller's run sees. */
static uint64_t nested_load(void *ctx, uint64_t w)
{
	const struct run_ctx *c = ctx;

	return emu_read(c->parent, w, 8);
}

/* The code of the sized function starting at TARGET, NULL when there is none. */
static const struct code *callee_code(const struct evict_analysis *a, uint64_t target)
{
	struct callees *cs = a->callees;
	const struct elf_sym *fn = elf_image__func_at(a->img, target);
	struct callee *c;

	for (size_t i = 0; i < cs->n; i++)
		if (cs->fn[i].addr == target)
			return cs->fn[i].usable ? &cs->fn[i].code : NULL;
	if (cs->n == ARRAY_SIZE(cs->fn))
		return NULL;
	c = &cs->fn[cs->n++];
	c->addr = target;
	c->usable = fn && fn->addr == target && fn->size && !disasm_linear(a->img, fn->addr, fn->size, &c->code);
	return c->usable ? &c->code : NULL;
}

static int run_call(void *ctx, struct emu *e, uint64_t target, uint64_t at);

/*
 * Runs the call to TARGET on the caller's memory, discarding what it
 * writes; its result in *RAX. False when it cannot be run to its return.
 */
static bool run_callee(struct run_ctx *c, struct emu *e, uint64_t target, uint64_t *rax)
{
	struct run_ctx sub = *c;
	struct emu_hooks hooks = { nested_load, run_call, &sub };
	const struct code *code;
	struct emu n;
	bool ok;

	if (c->depth >= NEST_DEPTH || c->ran >= NEST_CALLS || !target || !(code = callee_code(c->a, target)))
		return false;
	c->ran++;
	sub.parent = e;
	sub.depth = c->depth + 1;
	sub.ran = 0;
	emu_init(&n, code, &hooks);
	n.regs = e->regs;	/* its arguments, and a stack below the caller's */
	memcpy(n.xmm, e->xmm, sizeof(n.xmm));
	n.xmm_known = e->xmm_known;
	n.regs.r[GPR_RSP] -= 8;
	emu_write(&n, n.regs.r[GPR_RSP], RETURN_ADDR, 8, 0);
	n.rip = target;
	/* A jump out of the code to another function's start is a tail call: run that function. */
	while (emu_run(&n, NEST_STEPS) == EMU_LEFT && n.stop_addr != RETURN_ADDR &&
	       (code = callee_code(c->a, n.stop_addr)) && ++sub.depth <= NEST_DEPTH + 1)
		n.code = code;
	ok = n.stop == EMU_RETURNED && !sub.stub_failed;
	if (ok)
		*rax = n.regs.r[GPR_RAX];
	emu_free(&n);
	return ok;
}

static bool in_helper(const struct helper *h, uint64_t t)
{
	for (int i = 0; i < h->naddrs; i++)
		if (h->addrs[i] == t)
			return true;
	return false;
}

/* What a call to TARGET leaves in the caller-saved registers it may change: junk. */
static void clobber(struct emu *e, const struct evict_analysis *a, uint64_t seed, uint64_t target, uint64_t at)
{
	static const enum gpr regs[] = { GPR_RCX, GPR_RDX, GPR_RSI, GPR_RDI, GPR_R8, GPR_R9, GPR_R10, GPR_R11 };
	uint16_t may = GPR_CALLER_SAVED;

	if (a->zmalloc.present && target == a->zmalloc.sym.addr)
		may = a->zmalloc.clobbers;
	else if (a->notcounted.present && target == a->notcounted.sym.addr)
		may = a->notcounted.clobbers;
	for (size_t i = 0; i < ARRAY_SIZE(regs); i++)
		if (may & GPR_BIT(regs[i]))
			emu_set(e, regs[i], mix64(seed, target + 0x100 + i), at);
}

/* getMaxmemoryState(total, logical, tofree, level) as src/evict.c defines it. */
static int gms_stub(struct emu *e, const struct scenario *s, uint64_t at)
{
	uint64_t total = e->regs.r[GPR_RDI], logical = e->regs.r[GPR_RSI], tofree = e->regs.r[GPR_RDX];
	bool ok = !s->mm || s->mr <= s->mm || s->mu <= s->mm;

	if (total)
		emu_write(e, total, s->mr, 8, at);
	if (!ok && logical)
		emu_write(e, logical, s->mu, 8, at);
	if (!ok && tofree)
		emu_write(e, tofree, s->mu - s->mm, 8, at);
	return ok ? 0 : -1;
}

static int run_call(void *ctx, struct emu *e, uint64_t target, uint64_t at)
{
	struct run_ctx *c = ctx;
	const struct evict_analysis *a = c->a;
	uint64_t rax;

	if (in_helper(&a->zmalloc, target)) {
		rax = c->s->mr;
	} else if (in_helper(&a->notcounted, target)) {
		/* Chosen, or what its code gives on this memory, as an inlined copy computes it. */
		rax = c->s->oh;
	} else if (in_helper(&a->gms, target) && !c->oracle) {
		/* A clone may have dropped arguments: its registers mean something else. */
		if (target != a->gms.sym.addr) {
			c->stub_failed = true;
			return -1;
		}
		rax = (uint64_t)(uint32_t)gms_stub(e, c->s, at);
	} else if (a->oh_chosen || !run_callee(c, e, target, &rax)) {
		/*
		 * Same callee, same first argument, same answer: an inlined copy
		 * agrees with the oracle. When the overhead is computed by inlined
		 * code, calls are run instead: that copy may call what the
		 * helper's own code inlines (sdsAllocSize, in clang's LTO builds),
		 * and only running it gives both the same value.
		 */
		rax = mix64(c->s->seed, target * 31 + e->regs.r[GPR_RDI]) & 0xffffffffULL;
	}
	clobber(e, a, c->s->seed, target, at);
	emu_set(e, GPR_RAX, rax, at);
	return 0;
}

static void init_regs(struct emu *e, const struct scenario *s, uint64_t rsp)
{
	for (int r = 0; r < GPR_N; r++) {
		e->regs.r[r] = mix64(s->seed, 0x1000 + (uint64_t)r);
		e->regs.writer[r] = 0;
		e->regs.load_from[r] = 0;
	}
	e->regs.r[GPR_RSP] = rsp;
	emu_write(e, rsp, RETURN_ADDR, 8, 0);
}

/* Runs helper CODE from ENTRY on scenario S's memory; its result in *out. */
static enum emu_stop oracle(const struct evict_analysis *a, const struct scenario *s, const struct code *code,
			     uint64_t entry, uint64_t *out)
{
	struct run_ctx ctx = { .a = a, .s = s, .oracle = true };
	struct emu_hooks hooks = { run_load, run_call, &ctx };
	struct emu e;
	enum emu_stop stop;

	emu_init(&e, code, &hooks);
	init_regs(&e, s, ORACLE_STACK);
	e.rip = entry;
	stop = emu_run(&e, ORACLE_STEPS);
	if (stop == EMU_RETURNED)
		*out = e.regs.r[GPR_RAX];
	emu_free(&e);
	return stop;
}

/*
 * mem_reported in scenario S: what zmalloc_used_memory returns from its
 * memory, so that an inlined copy computes the same. Valkey 8 sums its
 * per-thread counters with SSE, which the interpreter does not model: then
 * a value of the scenario's, which calls return; an inlined copy of that
 * code stops any run through it, so it can never be mistaken for the value.
 */
static int scenario_mem_reported(const struct evict_analysis *a, struct scenario *s)
{
	if (!a->zmalloc.present)
		return -ENOENT;
	switch (oracle(a, s, &a->zmalloc_code, a->zmalloc.sym.addr, &s->mr)) {
	case EMU_RETURNED:
		return 0;
	case EMU_UNSUPPORTED:
		s->mr = mix64(s->seed, 0x6d72) & 0xffffffffULL;
		return 0;
	default:
		return -ENOTSUP;
	}
}

/* --------------------------------------------------------------------
 * Helpers, the entry evaluation, maxmemory
 * ------------------------------------------------------------------ */

static void find_helper(const struct elf_image *img, const char *name, struct helper *h)
{
	memset(h, 0, sizeof(*h));
	h->present = !elf_image__func(img, name, &h->sym);
	for (size_t i = 0; i < img->nfuncs && h->naddrs < ANALYSIS_MAX_CLONES; i++) {
		const struct elf_sym *s = &img->funcs[i];

		if (elf_sym_is_variant(s->name, name) && !strstr(s->name, ".cold") &&
		    (!h->naddrs || h->addrs[h->naddrs - 1] != s->addr))
			h->addrs[h->naddrs++] = s->addr;
	}
}

/*
 * The caller-saved registers CODE (a helper's body, SYM) writes. gcc's
 * -fipa-ra lets a caller in the same unit keep values in the others across
 * the call, so a run must not invent changes there. A call or a jump out
 * of the body may change any of them.
 */
static uint16_t clobbered_by(const struct code *code, const struct elf_sym *sym)
{
	uint16_t w = 0;

	for (size_t i = 0; i < code->n; i++) {
		const struct insn *in = &code->insns[i];

		w |= in->writes;
		if (in->flow == FLOW_IJUMP || (in->flow == FLOW_JUMP &&
		    (in->target < sym->addr || in->target >= sym->addr + sym->size)))
			w |= GPR_CALLER_SAVED;
	}
	return w & GPR_CALLER_SAVED;
}

/* The data address a rip-relative operand of IN names (load, store or lea), or 0. */
static uint64_t rip_data_ref(const struct elf_image *img, const struct insn *in)
{
	const cs_x86 *x = &in->cs->detail->x86;

	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		uint64_t a;

		if (op->type != X86_OP_MEM || op->mem.base != X86_REG_RIP || op->mem.index != X86_REG_INVALID)
			continue;
		a = in->addr + in->size + (uint64_t)op->mem.disp;
		if (elf_image__is_data(img, a))
			return a;
	}
	return 0;
}

/*
 * What zmalloc_used_memory() reads: a counter in one word
 * (`mov COUNTER(%rip),%rax; ret`), or per-thread counters and their count
 * summed in a loop. An inlined copy references the same data.
 */
static void find_used_memory(struct evict_analysis *a)
{
	struct code c = { 0 };
	size_t i = 0;

	if (!a->zmalloc.present || disasm_linear(a->img, a->zmalloc.sym.addr, a->zmalloc.sym.size, &c))
		goto out;
	for (size_t k = 0; k < c.n && a->ncounter_refs < 8; k++) {
		uint64_t ref = rip_data_ref(a->img, &c.insns[k]);

		if (ref)
			a->counter_refs[a->ncounter_refs++] = ref;
	}
	if (c.n && c.insns[0].cs->id == X86_INS_ENDBR64)
		i++;
	if (i + 2 == c.n && c.insns[i].cs->id == X86_INS_MOV && c.insns[i + 1].flow == FLOW_RET &&
	    a->ncounter_refs == 1) {
		a->used_memory = a->counter_refs[0];
		a->used_memory_known = true;
	}
out:
	code_free(&c);
}

/* Whether IN references zmalloc's counters: the start of an inlined zmalloc_used_memory(). */
static bool reads_counters(const struct evict_analysis *a, const struct insn *in)
{
	uint64_t ref = rip_data_ref(a->img, in);

	for (int i = 0; ref && i < a->ncounter_refs; i++)
		if (ref == a->counter_refs[i])
			return true;
	return false;
}

static bool starts_evaluation(const struct evict_analysis *a, const struct insn *in)
{
	if (in->flow == FLOW_CALL)
		return in_helper(&a->zmalloc, in->target) || in_helper(&a->gms, in->target);
	return reads_counters(a, in);
}

/*
 * The entry evaluation: breadth-first from the function's entry, each path
 * stopping at the first evaluation it meets. Exactly one may be met; the
 * others are reached only through it.
 */
static int find_producer(struct evict_analysis *a)
{
	const struct flow *f = a->flow;
	size_t n = f->code.n, head = 0, tail = 0;
	long *parent = xcalloc(n, sizeof(*parent));
	uint32_t *queue = xcalloc(n, sizeof(*queue));
	long start = code_index(&f->code, f->fn.addr), found = -1;
	int err = 0;

	for (size_t i = 0; i < n; i++)
		parent[i] = -2;	/* unvisited */
	parent[start] = -1;
	queue[tail++] = (uint32_t)start;
	while (head < tail) {
		uint32_t i = queue[head++];

		if (starts_evaluation(a, &f->code.insns[i])) {
			if (found >= 0 && found != (long)i) {
				snprintf(a->why, sizeof(a->why),
					 "two evaluations of getMaxmemoryState are reached first from the entry "
					 "(0x%llx and 0x%llx): cannot tell the entry one",
					 (unsigned long long)f->code.insns[found].addr,
					 (unsigned long long)f->code.insns[i].addr);
				err = -EEXIST;
				goto out;
			}
			found = (long)i;
			continue;
		}
		for (uint32_t k = f->succ_off[i]; k < f->succ_off[i + 1]; k++) {
			uint32_t j = f->succ[k];

			if (parent[j] == -2) {
				parent[j] = (long)i;
				queue[tail++] = j;
			}
		}
	}
	if (found < 0) {
		snprintf(a->why, sizeof(a->why),
			 "no evaluation of getMaxmemoryState in %s: no call to zmalloc_used_memory or "
			 "getMaxmemoryState, and no load of zmalloc's counter", f->fn.name);
		err = -ENOENT;
		goto out;
	}
	a->producer = f->code.insns[found].addr;
	a->inlined = f->code.insns[found].flow != FLOW_CALL || !in_helper(&a->gms, f->code.insns[found].target);
	for (long i = found; i >= 0; i = parent[i])
		a->npath++;
	a->path = xcalloc(a->npath, sizeof(*a->path));
	{
		size_t k = a->npath;

		for (long i = found; i >= 0; i = parent[i])
			a->path[--k] = f->code.insns[i].addr;
	}
out:
	free(parent);
	free(queue);
	return err;
}

/* Starts scenario S: registers, and a forced walk from the entry to the entry evaluation. */
static int start_run(const struct evict_analysis *a, const struct scenario *s, struct run_ctx *ctx,
		     struct emu *e)
{
	struct emu_hooks hooks = { run_load, run_call, ctx };

	*ctx = (struct run_ctx){ .a = a, .s = s };
	emu_init(e, &a->flow->code, &hooks);
	init_regs(e, s, STACK_TOP);
	e->rip = a->flow->fn.addr;
	if (a->npath > 1) {
		e->forced = a->path;
		e->nforced = a->npath;
		if (emu_run(e, PATH_STEPS) != EMU_HOOK || e->rip != a->producer)
			return -ENOTSUP;
	}
	return 0;
}

/* A compare of mem_reported with a field of server: that field is maxmemory. */
static bool compared_global(const struct evict_analysis *a, struct emu *e, const struct insn *in, uint64_t mr,
			    uint64_t *addr)
{
	uint64_t v[2], from[2];
	unsigned id = in->cs->id;
	const struct elf_sym *obj;

	if ((id != X86_INS_CMP && id != X86_INS_SUB) || in->cs->detail->x86.op_count != 2 ||
	    !emu_operand(e, in, 0, &v[0], &from[0]) || !emu_operand(e, in, 1, &v[1], &from[1]))
		return false;
	for (int k = 0; k < 2; k++) {
		uint64_t g = from[1 - k];

		if (v[k] != mr || !g || !elf_image__is_data(a->img, g))
			continue;
		obj = elf_image__object_at(a->img, g);
		if (obj && !strcmp(obj->name, "server")) {
			*addr = g;
			return true;
		}
	}
	return false;
}

/* One run of scenario S looking for the compare of mem_reported with a server field. */
static int discover_in_run(struct evict_analysis *a, struct scenario *s)
{
	struct run_ctx ctx;
	struct code gms_code = { 0 };
	struct emu e;
	int err = -ENOENT;

	if (a->inlined) {
		if (start_run(a, s, &ctx, &e)) {
			emu_free(&e);
			snprintf(a->why, sizeof(a->why), "cannot follow %s from its entry to 0x%llx",
				 a->flow->fn.name, (unsigned long long)a->producer);
			return -ENOTSUP;
		}
	} else {
		/* Not inlined: maxmemory is whatever getMaxmemoryState compares mem_reported with. */
		struct emu_hooks hooks = { run_load, run_call, &ctx };

		ctx = (struct run_ctx){ .a = a, .s = s, .oracle = true };
		if (disasm_linear(a->img, a->gms.sym.addr, a->gms.sym.size, &gms_code)) {
			snprintf(a->why, sizeof(a->why), "getMaxmemoryState does not disassemble");
			return -EILSEQ;
		}
		emu_init(&e, &gms_code, &hooks);
		init_regs(&e, s, STACK_TOP);
		emu_set(&e, GPR_RDI, STACK_TOP - 0x100, 0);
		emu_set(&e, GPR_RSI, 0, 0);
		emu_set(&e, GPR_RDX, STACK_TOP - 0x108, 0);
		emu_set(&e, GPR_RCX, 0, 0);
		e.rip = a->gms.sym.addr;
	}
	for (int step = 0; step < DISCOVER_STEPS && err == -ENOENT; step++) {
		const struct insn *in = code_at(e.code, e.rip);

		if (!in)
			break;
		if (compared_global(a, &e, in, s->mr, &a->maxmemory)) {
			a->maxmemory_known = true;
			err = 0;
		} else if (emu_run(&e, 1) != EMU_LIMIT) {
			break;
		}
	}
	emu_free(&e);
	code_free(&gms_code);
	return err;
}

/*
 * server.maxmemory: the field of server the entry evaluation compares
 * mem_reported with, in the first of a few scenarios whose memory makes
 * the code compute a mem_reported worth comparing (a zero-thread sum, say,
 * returns at once).
 */
static int discover_maxmemory(struct evict_analysis *a)
{
	int err = -ENOENT;

	for (uint64_t k = 0; k < 64 && err == -ENOENT; k++) {
		struct scenario s = { .seed = 0x5eed + k };

		if (scenario_mem_reported(a, &s)) {
			snprintf(a->why, sizeof(a->why), "cannot run zmalloc_used_memory to learn mem_reported");
			return -ENOTSUP;
		}
		s.oh = s.mr / 8;
		if (s.mr >= 16)
			err = discover_in_run(a, &s);
	}
	if (err == -ENOENT)
		snprintf(a->why, sizeof(a->why),
			 "cannot find server.maxmemory: nothing in %s compares mem_reported with a field of server",
			 a->inlined ? a->flow->fn.name : "getMaxmemoryState");
	return err;
}

/* --------------------------------------------------------------------
 * Scenarios and the slow path
 * ------------------------------------------------------------------ */

uint64_t scenario_value(const struct scenario *s, enum var v)
{
	switch (v) {
	case VAR_MEM_REPORTED: return s->mr;
	case VAR_OVERHEAD: return s->oh;
	case VAR_MEM_USED: return s->mu;
	default: return s->mu - s->mm;
	}
}

/* Picks maxmemory (and overhead when ours to choose) for one of six kinds of scenario. */
static bool shape(struct evict_analysis *a, struct scenario *s, int kind)
{
	uint64_t r = mix64(s->seed, 0xabc);

	if (a->oh_chosen)
		s->oh = kind == 2 ? s->mr + r % s->mr : (kind == 3 ? 1 : 0) + r % (s->mr / 4 + 1);
	else if (oracle(a, s, &a->notcounted_code, a->notcounted.sym.addr, &s->oh) != EMU_RETURNED)
		return false;
	s->mu = s->oh < s->mr ? s->mr - s->oh : 0;
	r = mix64(s->seed, 0xdef);
	switch (kind) {
	case 0:		/* maxmemory 0: never evict */
		s->mm = 0;
		break;
	case 1:		/* under the limit as reported */
		s->mm = s->mr + 1 + r % s->mr;
		break;
	case 2:		/* over as reported, but the overhead is all of it */
		if (s->oh < s->mr)
			return false;
		s->mm = s->mr / 2 + 1;
		break;
	case 3:		/* over as reported, under once the overhead is taken off */
		if (s->mu == s->mr || s->mu < 2)
			return false;
		s->mm = s->mu + r % (s->mr - s->mu);
		break;
	default:	/* evicting */
		if (s->mu < 4)
			return false;
		s->mm = s->mu - 1 - r % (s->mu / 2);
		break;
	}
	s->evicts = s->mm && s->mr > s->mm && s->mu > s->mm;
	return true;
}

static int make_scenarios(struct evict_analysis *a)
{
	size_t ne = 0, nn = 0;

	for (uint64_t seed = 1; seed <= MAX_SEEDS && a->nsc < ANALYSIS_MAX_SCENARIOS &&
	     (ne < WANT_EACH || nn < WANT_EACH); seed++) {
		struct scenario *s = &a->sc[a->nsc];
		int kind = (int)(seed % 6);
		struct run_ctx *ctx;

		memset(s, 0, sizeof(*s));
		s->seed = mix64(seed, 0x7ed15);
		if ((kind >= 4 ? ne : nn) >= WANT_EACH)
			continue;
		if (scenario_mem_reported(a, s)) {
			snprintf(a->why, sizeof(a->why), "cannot run zmalloc_used_memory to learn mem_reported");
			return -ENOTSUP;
		}
		if (s->mr < 16 || !shape(a, s, kind))
			continue;
		ctx = xcalloc(1, sizeof(*ctx));
		if (start_run(a, s, ctx, &s->run)) {
			snprintf(a->why, sizeof(a->why), "cannot follow %s from its entry to the entry evaluation "
				 "at 0x%llx (%s at 0x%llx)", a->flow->fn.name, (unsigned long long)a->producer,
				 emu_stop_name(s->run.stop), (unsigned long long)s->run.stop_addr);
			emu_free(&s->run);
			free(ctx);
			return -ENOTSUP;
		}
		s->run.record = true;
		emu_run(&s->run, RUN_STEPS);
		if (ctx->stub_failed) {
			snprintf(a->why, sizeof(a->why), "getMaxmemoryState is called through a compiler clone "
				 "whose arguments may differ from the source's");
			emu_free(&s->run);
			free(ctx);
			return -ENOTSUP;
		}
		s->evicts ? ne++ : nn++;
		a->nsc++;
	}
	if (ne < WANT_EACH / 2 || nn < WANT_EACH / 2) {
		snprintf(a->why, sizeof(a->why), "could not build enough evicting and non-evicting runs");
		return -ENOTSUP;
	}
	return 0;
}

static bool visits(const struct scenario *s, uint64_t addr, size_t *at)
{
	for (size_t i = 0; i < s->run.ntrace; i++)
		if (s->run.trace[i].addr == addr) {
			if (at)
				*at = i;
			return true;
		}
	return false;
}

static bool only_evicting(const struct evict_analysis *a, uint64_t addr)
{
	for (size_t k = 0; k < a->nsc; k++)
		if (visits(&a->sc[k], addr, NULL) != a->sc[k].evicts)
			return false;
	return true;
}

bool evict_only_evicting(const struct evict_analysis *a, uint64_t addr)
{
	bool some = false;

	for (size_t k = 0; k < a->nsc; k++) {
		bool v = visits(&a->sc[k], addr, NULL);

		if (v && !a->sc[k].evicts)
			return false;
		some |= v;
	}
	return some;
}

static int find_slow_path(struct evict_analysis *a)
{
	const struct scenario *e0 = NULL;
	size_t first = 0;

	for (size_t k = 0; k < a->nsc && !e0; k++)
		if (a->sc[k].evicts)
			e0 = &a->sc[k];
	for (first = 0; first < e0->run.ntrace; first++)
		if (only_evicting(a, e0->run.trace[first].addr))
			break;
	if (first == e0->run.ntrace || !first) {
		snprintf(a->why, sizeof(a->why), "no instruction after 0x%llx runs only when mem_used > maxmemory",
			 (unsigned long long)a->producer);
		return -ENOENT;
	}
	a->deciding = e0->run.trace[first - 1].addr;
	for (size_t k = 0; k < a->nsc; k++)
		if (a->sc[k].evicts)
			visits(&a->sc[k], e0->run.trace[first].addr, &a->sc[k].slow_step);
	/*
	 * Candidates: the stretch every evicting run walks in step from the
	 * slow path's start, up to the eviction loop: an instruction in a loop
	 * runs once per key, with the values of that iteration.
	 */
	for (size_t m = 0; m < ANALYSIS_MAX_CANDIDATES && first + m < e0->run.ntrace; m++) {
		uint64_t addr = e0->run.trace[first + m].addr;
		bool same = true;

		for (size_t k = 0; k < a->nsc && same; k++) {
			const struct scenario *s = &a->sc[k];

			if (s->evicts)
				same = s->slow_step + m < s->run.ntrace && s->run.trace[s->slow_step + m].addr == addr;
		}
		if (!same || !only_evicting(a, addr) || flow_on_cycle(a->flow, addr))
			break;
		a->cand[a->ncand++] = addr;
	}
	if (!a->ncand && a->flow->why_incomplete[0]) {
		snprintf(a->why, sizeof(a->why), "no slow-path instruction can be proven to run once per evicting "
			 "call: %s", a->flow->why_incomplete);
		return -ENOENT;
	}
	if (!a->ncand) {
		snprintf(a->why, sizeof(a->why), "the slow path starts in a loop at 0x%llx: no instruction runs "
			 "once per evicting call", (unsigned long long)e0->run.trace[first].addr);
		return -ENOENT;
	}
	return 0;
}

static void free_scenarios(struct evict_analysis *a);
static int run_scenarios(struct evict_analysis *a);

int evict_analyse(const struct flow *f, uint64_t maxmemory_hint, struct evict_analysis *a)
{
	const struct elf_image *img = f->img;
	bool chosen;
	int err;

	memset(a, 0, sizeof(*a));
	a->img = img;
	a->flow = f;
	a->callees = xcalloc(1, sizeof(*a->callees));
	find_helper(img, "zmalloc_used_memory", &a->zmalloc);
	find_helper(img, "freeMemoryGetNotCountedMemory", &a->notcounted);
	find_helper(img, "getMaxmemoryState", &a->gms);
	if (!a->zmalloc.present || !a->notcounted.present) {
		snprintf(a->why, sizeof(a->why), "the executable has no %s symbol",
			 a->zmalloc.present ? "freeMemoryGetNotCountedMemory" : "zmalloc_used_memory");
		return -ENOENT;
	}
	if (disasm_linear(img, a->zmalloc.sym.addr, a->zmalloc.sym.size, &a->zmalloc_code) ||
	    disasm_linear(img, a->notcounted.sym.addr, a->notcounted.sym.size, &a->notcounted_code)) {
		snprintf(a->why, sizeof(a->why), "zmalloc_used_memory or freeMemoryGetNotCountedMemory does not disassemble");
		return -EILSEQ;
	}
	a->zmalloc.clobbers = clobbered_by(&a->zmalloc_code, &a->zmalloc.sym);
	a->notcounted.clobbers = clobbered_by(&a->notcounted_code, &a->notcounted.sym);
	find_used_memory(a);
	err = find_producer(a);
	if (err)
		return err;
	/* The overhead is ours to choose when a call to the helper answers it. */
	a->oh_chosen = !a->inlined;
	for (size_t i = 0; i < a->flow->code.n && !a->oh_chosen; i++)
		a->oh_chosen = a->flow->code.insns[i].flow == FLOW_CALL &&
			       in_helper(&a->notcounted, a->flow->code.insns[i].target);
	if (maxmemory_hint) {
		a->maxmemory = maxmemory_hint;
		a->maxmemory_known = true;
	} else {
		err = discover_maxmemory(a);
		if (err)
			return err;
	}
	chosen = a->oh_chosen;
	err = run_scenarios(a);
	/*
	 * Both values of a flag in a word's high half can lead the runs where
	 * a helper, inlined here and called there, computes otherwise (clang
	 * calls sdsAllocSize from performEvictions' copy of the overhead and
	 * inlines it into freeMemoryGetNotCountedMemory): then such fields are
	 * 0 in every run, one configuration, and a->narrow says so.
	 */
	if (err) {
		free_scenarios(a);
		a->narrow = true;
		a->oh_chosen = chosen;
		a->why[0] = '\0';
		err = run_scenarios(a);
	}
	return err;
}

/* Scenarios and their slow path, with chosen overheads, else with those the helper's code computes. */
static int run_scenarios(struct evict_analysis *a)
{
	int err = make_scenarios(a);

	if (!err)
		err = find_slow_path(a);
	/*
	 * The call may be a decoy's (the lazy-free check) while the entry
	 * evaluation has the helper inlined: then chosen overheads are not
	 * what the code computes, and runs that evict by them take no common
	 * path. The overhead is then the helper's code's on each scenario.
	 */
	if (err && a->inlined && a->oh_chosen) {
		free_scenarios(a);
		a->oh_chosen = false;
		a->why[0] = '\0';
		err = make_scenarios(a);
		if (!err)
			err = find_slow_path(a);
	}
	return err;
}

static void free_scenarios(struct evict_analysis *a)
{
	for (size_t k = 0; k < a->nsc; k++)
		evict_state_free(&a->sc[k].run);
	a->nsc = 0;
	a->ncand = 0;
}

void evict_analysis_free(struct evict_analysis *a)
{
	free_scenarios(a);
	code_free(&a->zmalloc_code);
	code_free(&a->notcounted_code);
	for (size_t i = 0; a->callees && i < a->callees->n; i++)
		code_free(&a->callees->fn[i].code);
	free(a->callees);
	free(a->path);
	memset(a, 0, sizeof(*a));
}

const struct emu_regs *evict_regs(const struct evict_analysis *a, size_t s, size_t cand)
{
	const struct scenario *sc = &a->sc[s];

	return &sc->run.trace[sc->slow_step + cand].regs;
}

int evict_state_at(const struct evict_analysis *a, size_t s, size_t step, struct emu *out)
{
	const struct scenario *sc = &a->sc[s];
	struct run_ctx *ctx = xcalloc(1, sizeof(*ctx));
	int err;

	err = start_run(a, sc, ctx, out);
	if (!err && emu_run(out, step) != EMU_LIMIT)
		err = -ENOTSUP;
	if (!err && (step >= sc->run.ntrace || out->rip != sc->run.trace[step].addr))
		err = -EFAULT;
	/* The context lives as long as the emulator: freed with it by evict_state_free. */
	out->trace = NULL;
	if (err)
		evict_state_free(out);
	return err;
}

int evict_state(const struct evict_analysis *a, size_t s, size_t cand, struct emu *out)
{
	return evict_state_at(a, s, a->sc[s].slow_step + cand, out);
}

void evict_state_free(struct emu *st)
{
	free(st->hooks.ctx);
	emu_free(st);
}

long evict_visit(const struct evict_analysis *a, size_t s, uint64_t addr, bool before_slow)
{
	const struct scenario *sc = &a->sc[s];
	long found = -1;

	for (size_t i = 0; i < sc->run.ntrace; i++) {
		if (sc->run.trace[i].addr != addr)
			continue;
		if (before_slow && (!sc->evicts || i >= sc->slow_step))
			break;
		if (!before_slow && sc->evicts && i < sc->slow_step)
			continue;
		found = (long)i;
		if (!before_slow)
			break;
	}
	return found;
}

int evict_early(const struct evict_analysis *a, uint64_t addr, uint64_t slow)
{
	if (flow_on_cycle(a->flow, addr))
		return -ELOOP;
	if (flow_dominates(a->flow, addr, slow))
		return -ENOENT;
	for (size_t k = 0; k < a->nsc; k++) {
		const struct scenario *sc = &a->sc[k];
		bool over = sc->mm && sc->mr > sc->mm;

		if ((sc->evicts && evict_visit(a, k, addr, true) < 0) || (!over && evict_visit(a, k, addr, false) >= 0))
			return -ERANGE;
	}
	return 0;
}

/* E's value in the state ST of scenario S: registers, memory, and other variables' true values. */
static uint64_t expr_value(const struct scenario *s, struct emu *st, const struct expr *e)
{
	uint64_t sum = 0;

	for (int i = 0; i < e->n; i++) {
		const struct term *t = &e->t[i];
		uint64_t val;

		switch (t->kind) {
		case TERM_REG:
			val = st->regs.r[t->reg];
			break;
		case TERM_MEM:
			val = emu_read(st, st->regs.r[t->reg] + (uint64_t)t->off, 8);
			break;
		case TERM_GLOBAL:
			val = emu_read(st, (uint64_t)t->off, 8);
			break;
		case TERM_VAR:
			val = scenario_value(s, t->var);
			break;
		default:
			val = (uint64_t)t->off;
			break;
		}
		sum += t->sign < 0 ? -val : val;
	}
	return sum;
}

bool evict_check_at(const struct evict_analysis *a, uint64_t addr, bool before_slow, const struct expr *e,
		    enum var v)
{
	bool any = false;

	for (size_t k = 0; k < a->nsc; k++) {
		const struct scenario *s = &a->sc[k];
		struct emu st;
		long step;
		bool ok;

		if (!s->evicts)
			continue;
		step = evict_visit(a, k, addr, before_slow);
		if (step < 0 || evict_state_at(a, k, (size_t)step, &st))
			return false;
		ok = expr_value(s, &st, e) == scenario_value(s, v);
		evict_state_free(&st);
		if (!ok)
			return false;
		any = true;
	}
	return any;
}

bool evict_check(const struct evict_analysis *a, size_t cand, const struct expr *e, enum var v)
{
	return evict_check_at(a, a->cand[cand], false, e, v);
}
