// SPDX-License-Identifier: BSD-3-Clause
/*
 * flow.c: a function's instructions, parts and predecessors.
 *
 * Boundaries are only ever taken from a linear sweep of a sized symbol or
 * from following a known jump target, never guessed. Every edge we cannot
 * resolve (an indirect jump that is not a recognisable jump table) marks
 * the graph incomplete, and then every proof that needs all predecessors
 * refuses.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "util.h"

#define UNNAMED_PART_LIMIT 4096	/* bytes followed from one jump target */
#define JUMP_TABLE_MAX 1024	/* entries read from one jump table */

const struct flow_part *flow_part_at(const struct flow *f, uint64_t addr)
{
	for (int i = 0; i < f->nparts; i++)
		if (addr >= f->part[i].start && addr < f->part[i].end)
			return &f->part[i];
	return NULL;
}

static int add_part(struct flow *f, uint64_t start, uint64_t end, const char *name, bool named)
{
	struct flow_part *p;

	if (f->nparts == FLOW_MAX_PARTS)
		return -E2BIG;
	p = &f->part[f->nparts++];
	p->start = start;
	p->end = end;
	p->named = named;
	snprintf(p->name, sizeof(p->name), "%s", name);
	return 0;
}

/* The name FN's variants share: "performEvictions" for "performEvictions.constprop.0". */
static void base_name(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s", name);
	out[strcspn(out, ".")] = '\0';
}

static int add_named_parts(struct flow *f)
{
	char base[96];
	int err;

	base_name(f->fn.name, base, sizeof(base));
	for (size_t i = 0; i < f->img->nfuncs; i++) {
		const struct elf_sym *s = &f->img->funcs[i];

		if (s->addr == f->fn.addr || !s->size || !elf_sym_is_variant(s->name, base) ||
		    !strstr(s->name, ".cold") || flow_part_at(f, s->addr))
			continue;
		err = disasm_linear(f->img, s->addr, s->size, &f->code);
		if (!err)
			err = add_part(f, s->addr, s->addr + s->size, s->name, true);
		if (err)
			return err;
	}
	return 0;
}

static bool is_func_start(const struct elf_image *img, uint64_t addr)
{
	const struct elf_sym *first;

	return elf_image__funcs_at(img, addr, &first) > 0;
}

/*
 * Jump targets outside every known part, inside no function symbol: code
 * the compiler moved out of line that a stripped binary does not name.
 */
static int add_unnamed_parts(struct flow *f)
{
	bool added = true, cut;
	int err;

	while (added) {
		added = false;
		for (size_t i = 0; i < f->code.n; i++) {
			const struct insn *in = &f->code.insns[i];
			uint64_t t = in->target, end = t;

			if ((in->flow != FLOW_JUMP && in->flow != FLOW_CJUMP) || flow_part_at(f, t) ||
			    is_func_start(f->img, t) || elf_image__func_at(f->img, t))
				continue;
			err = disasm_follow(f->img, t, UNNAMED_PART_LIMIT, &f->code, &cut);
			if (err)
				return err;
			for (const struct insn *j = code_at(&f->code, t); j && j->addr == end; j = code_at(&f->code, end))
				end = j->addr + j->size;
			if (cut && !f->why_incomplete[0])
				snprintf(f->why_incomplete, sizeof(f->why_incomplete),
					 "the unnamed part at 0x%llx goes on past the %d bytes redprof follows",
					 (unsigned long long)t, UNNAMED_PART_LIMIT);
			err = add_part(f, t, end, "", false);
			if (err)
				return err;
			added = true;
			break;	/* the instruction array moved: start over */
		}
	}
	return 0;
}

/*
 * Targets of a jump table ending in the indirect jump at index I:
 *   lea TABLE(%rip), rT ; movslq (rT,rI,4), rX ; add rT, rX ; jmp *rX   (PIC)
 *   jmp *TABLE(,rI,8)                                                    (non-PIC)
 * Entries are read while they land on an instruction of this function:
 * reading too many only adds edges (more conservative), never too few.
 */
static int jump_table_targets(const struct flow *f, size_t i, uint64_t *out, size_t max, size_t *n)
{
	const struct insn *jmp = &f->code.insns[i];
	const cs_x86 *x = &jmp->cs->detail->x86;
	uint64_t table = 0;
	int entry_size = 0;

	*n = 0;
	if (x->op_count == 1 && x->operands[0].type == X86_OP_MEM && x->operands[0].mem.base == X86_REG_INVALID &&
	    x->operands[0].mem.scale == 8) {
		table = (uint64_t)x->operands[0].mem.disp;
		entry_size = 8;
	} else if (x->op_count == 1 && x->operands[0].type == X86_OP_REG) {
		/* Look back a few instructions for the lea of the table base. */
		for (size_t k = 1; k <= 8 && k <= i; k++) {
			const struct insn *p = &f->code.insns[i - k];
			const cs_x86 *px = &p->cs->detail->x86;

			if (p->flow != FLOW_NEXT)
				break;
			if (p->cs->id == X86_INS_LEA && px->operands[1].mem.base == X86_REG_RIP) {
				table = p->addr + p->size + (uint64_t)px->operands[1].mem.disp;
				entry_size = 4;
				break;
			}
		}
	}
	if (!entry_size)
		return -ENOENT;
	for (size_t k = 0; k < JUMP_TABLE_MAX && *n < max; k++) {
		const uint8_t *b = elf_image__bytes(f->img, table + k * (uint64_t)entry_size, (size_t)entry_size);
		uint64_t t;

		if (!b || elf_image__is_data(f->img, table))
			break;
		if (entry_size == 4) {
			int32_t rel;

			memcpy(&rel, b, 4);
			t = table + (uint64_t)(int64_t)rel;
		} else {
			memcpy(&t, b, 8);
		}
		if (!flow_part_at(f, t) || !code_at(&f->code, t))
			break;
		out[(*n)++] = t;
	}
	return *n ? 0 : -ENOENT;
}

/* An indirect jump through memory addressed off rip is a tail call through a pointer. */
static bool is_pointer_tail_call(const struct insn *in)
{
	const cs_x86 *x = &in->cs->detail->x86;

	return x->op_count == 1 && x->operands[0].type == X86_OP_MEM && x->operands[0].mem.base == X86_REG_RIP;
}

/* The library function an indirect jump or call through a GOT slot (jmp *disp(%rip)) reaches, or NULL. */
static const char *import_through(const struct elf_image *img, const struct insn *in)
{
	const cs_x86 *x = &in->cs->detail->x86;

	if (x->op_count != 1 || x->operands[0].type != X86_OP_MEM || x->operands[0].mem.base != X86_REG_RIP ||
	    x->operands[0].mem.index != X86_REG_INVALID)
		return NULL;
	return elf_image__import_at(img, in->addr + in->size + (uint64_t)x->operands[0].mem.disp);
}

/* The library function the PLT stub at ADDR jumps to, or NULL: a stub is 16 bytes ending in its jump. */
static const char *plt_import(const struct elf_image *img, uint64_t addr)
{
	struct code c = { 0 };
	const char *name = NULL;

	if (!disasm_linear(img, addr, 16, &c))
		for (size_t i = 0; i < c.n && !name; i++)
			if (c.insns[i].flow == FLOW_IJUMP)
				name = import_through(img, &c.insns[i]);
	code_free(&c);
	return name;
}

/* The C library's functions that never return, which a compiler calls on failed checks. */
static bool noreturn_import(const char *name)
{
	static const char *const never[] = {
		"__stack_chk_fail", "__fortify_fail", "__chk_fail", "__assert_fail", "__assert_perror_fail",
		"abort", "exit", "_exit", "_Exit", "quick_exit", "pthread_exit", "longjmp", "_longjmp",
		"siglongjmp", "__longjmp_chk", "__libc_fatal", "err", "errx", "verr", "verrx",
	};

	for (size_t i = 0; name && i < ARRAY_SIZE(never); i++)
		if (!strcmp(name, never[i]))
			return true;
	return false;
}

/*
 * Whether the function at ADDR never returns (_serverAssert, say): a sized
 * function with no ret, no indirect jump and no jump out of itself, or a
 * PLT stub of a library function that never returns (__stack_chk_fail). A
 * call to it has no fall-through edge, so no path goes on after an
 * assertion.
 */
static bool noreturn_fn(const struct elf_image *img, uint64_t addr)
{
	const struct elf_sym *fn = elf_image__func_at(img, addr);
	struct code c = { 0 };
	bool never = false;

	if (!fn || fn->addr != addr || !fn->size)
		return noreturn_import(plt_import(img, addr));
	if (disasm_linear(img, fn->addr, fn->size, &c))
		goto out;
	never = c.n > 0;
	for (size_t i = 0; i < c.n && never; i++) {
		const struct insn *in = &c.insns[i];

		never = in->flow != FLOW_RET && in->flow != FLOW_IJUMP &&
			!((in->flow == FLOW_JUMP || in->flow == FLOW_CJUMP) &&
			  (in->target < fn->addr || in->target >= fn->addr + fn->size));
	}
out:
	code_free(&c);
	return never;
}

/* noreturn_fn, remembered per callee while one graph is built. */
struct callee_returns {
	uint64_t addr[64];
	bool never[64];
	int n;
};

static bool call_returns(const struct flow *f, struct callee_returns *cr, uint64_t target)
{
	for (int i = 0; i < cr->n; i++)
		if (cr->addr[i] == target)
			return !cr->never[i];
	if (cr->n == (int)ARRAY_SIZE(cr->addr))
		return true;
	cr->addr[cr->n] = target;
	cr->never[cr->n] = noreturn_fn(f->img, target);
	return !cr->never[cr->n++];
}

struct edge {
	uint32_t from, to;
};

static int edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return x->from < y->from ? -1 : x->from > y->from;
}

static void push_edge(struct edge **e, size_t *n, size_t *cap, size_t from, long to)
{
	if (to < 0)
		return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*e = xreallocarray(*e, *cap, sizeof(**e));
	}
	(*e)[(*n)++] = (struct edge){ (uint32_t)from, (uint32_t)to };
}

static void build_preds(struct flow *f)
{
	size_t n = f->code.n, ne = 0, cap = 0;
	struct edge *e = NULL;
	uint64_t targets[JUMP_TABLE_MAX];
	struct callee_returns cr = { .n = 0 };

	for (size_t i = 0; i < n; i++) {
		const struct insn *in = &f->code.insns[i];
		uint64_t next = in->addr + in->size;
		bool falls = i + 1 < n && f->code.insns[i + 1].addr == next;
		size_t nt;

		switch (in->flow) {
		case FLOW_CALL:
			if (falls && call_returns(f, &cr, in->target))
				push_edge(&e, &ne, &cap, i, (long)i + 1);
			break;
		case FLOW_ICALL:
			if (falls && !noreturn_import(import_through(f->img, in)))
				push_edge(&e, &ne, &cap, i, (long)i + 1);
			break;
		case FLOW_NEXT:
		case FLOW_CJUMP:
			/*
			 * Code that goes on where nothing was disassembled (a part
			 * cut short) would end its paths there: proofs over every
			 * path need them whole. (A call there is one that does not
			 * return: the compiler put nothing after it; nops there are
			 * the padding a stripped function's extent takes in.)
			 */
			if (falls)
				push_edge(&e, &ne, &cap, i, (long)i + 1);
			else if (in->cs->id != X86_INS_NOP && !f->why_incomplete[0])
				snprintf(f->why_incomplete, sizeof(f->why_incomplete),
					 "the code after 0x%llx was not disassembled", (unsigned long long)in->addr);
			if (in->flow == FLOW_NEXT)
				break;
			/* fall through */
		case FLOW_JUMP:
			push_edge(&e, &ne, &cap, i, code_index(&f->code, in->target));
			break;
		case FLOW_IJUMP:
			if (!jump_table_targets(f, i, targets, JUMP_TABLE_MAX, &nt)) {
				for (size_t k = 0; k < nt; k++)
					push_edge(&e, &ne, &cap, i, code_index(&f->code, targets[k]));
			} else if (!is_pointer_tail_call(in) && !f->why_incomplete[0]) {
				snprintf(f->why_incomplete, sizeof(f->why_incomplete),
					 "the indirect jump at 0x%llx is not a jump table redprof can read",
					 (unsigned long long)in->addr);
			}
			break;
		default:
			break;
		}
	}
	/* Successors: edges in their natural (from) order. */
	f->succ_off = xcalloc(n + 1, sizeof(*f->succ_off));
	f->succ = xcalloc(ne ? ne : 1, sizeof(*f->succ));
	for (size_t k = 0; k < ne; k++)
		f->succ_off[e[k].from + 1]++;
	for (size_t i = 0; i < n; i++)
		f->succ_off[i + 1] += f->succ_off[i];
	{
		uint32_t *fill = xcalloc(n + 1, sizeof(*fill));

		for (size_t k = 0; k < ne; k++)
			f->succ[f->succ_off[e[k].from] + fill[e[k].from]++] = e[k].to;
		free(fill);
	}
	/* Predecessors: sorted by target. */
	qsort(e, ne, sizeof(*e), edge_cmp);
	f->pred_off = xcalloc(n + 1, sizeof(*f->pred_off));
	f->pred = xcalloc(ne ? ne : 1, sizeof(*f->pred));
	for (size_t k = 0; k < ne; k++) {
		f->pred[k] = e[k].from;
		f->pred_off[e[k].to + 1]++;
	}
	for (size_t i = 0; i < n; i++)
		f->pred_off[i + 1] += f->pred_off[i];
	free(e);
}

int flow_build(const struct elf_image *img, const struct elf_sym *fn, struct flow *f)
{
	long entry;
	int err;

	memset(f, 0, sizeof(*f));
	f->img = img;
	f->fn = *fn;
	err = disasm_linear(img, fn->addr, fn->size, &f->code);
	if (!err)
		err = add_part(f, fn->addr, fn->addr + fn->size, fn->name, true);
	if (!err)
		err = add_named_parts(f);
	if (!err)
		err = add_unnamed_parts(f);
	/* Branch targets in named parts must be boundaries, or the sweep went wrong. */
	for (size_t i = 0; i < f->code.n && !err; i++) {
		const struct insn *in = &f->code.insns[i];

		if ((in->flow == FLOW_JUMP || in->flow == FLOW_CJUMP) && flow_part_at(f, in->target) &&
		    !code_at(&f->code, in->target))
			err = -EILSEQ;
	}
	if (err) {
		flow_free(f);
		return err;
	}
	build_preds(f);
	f->entry = xcalloc(f->code.n, sizeof(*f->entry));
	entry = code_index(&f->code, fn->addr);
	if (entry >= 0)
		f->entry[entry] = true;
	return 0;
}

void flow_free(struct flow *f)
{
	code_free(&f->code);
	free(f->pred_off);
	free(f->pred);
	free(f->succ_off);
	free(f->succ);
	free(f->entry);
	memset(f, 0, sizeof(*f));
}

bool insn_stores_to(const struct insn *in, enum gpr base, int64_t disp)
{
	const cs_x86 *x = &in->cs->detail->x86;

	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		enum gpr b;

		if (op->type != X86_OP_MEM || !(op->access & CS_AC_WRITE))
			continue;
		if (op->mem.base == X86_REG_RIP || (op->mem.base == X86_REG_INVALID && op->mem.index == X86_REG_INVALID))
			continue;	/* a global: never the stack */
		b = gpr_of(op->mem.base);
		if (b != base || op->mem.index != X86_REG_INVALID)
			return true;	/* through another pointer: may alias */
		if (op->mem.disp < disp + 8 && disp < op->mem.disp + op->size)
			return true;
	}
	return false;
}

/*
 * Backward walk from SITE. STOP says whether an instruction ends the walk
 * on its path (1: a definition, counted; -1: a clobber, fail; 0: go on).
 */
static int walk_back_all(const struct flow *f, uint64_t site,
			 int (*stop)(const struct insn *in, const void *arg), const void *arg,
			 uint64_t *defs, int max, int *ndefs)
{
	long s = code_index(&f->code, site);
	size_t n = f->code.n, top = 0;
	uint32_t *stack;
	bool *seen;
	int err = 0, have = 0;

	if (f->why_incomplete[0])
		return -ENOTRECOVERABLE;
	if (s < 0)
		return -EFAULT;
	if (f->entry[s])
		return -ENOENT;
	stack = xcalloc(n + f->pred_off[n] + 1, sizeof(*stack));
	seen = xcalloc(n, sizeof(*seen));
	for (uint32_t k = f->pred_off[s]; k < f->pred_off[s + 1]; k++)
		stack[top++] = f->pred[k];
	if (!top)
		err = -ENOENT;	/* unreachable: nothing can be proven about it */
	while (top && !err) {
		uint32_t i = stack[--top];
		const struct insn *in = &f->code.insns[i];
		int r;

		if (seen[i])
			continue;
		seen[i] = true;
		r = stop(in, arg);
		if (r < 0) {
			err = -EBUSY;
			break;
		}
		if (r > 0) {
			if (have == max)
				err = -E2BIG;	/* each instruction is seen once: this one is new */
			else
				defs[have++] = in->addr;
			continue;
		}
		if (f->entry[i]) {
			err = -ENOENT;
			break;
		}
		for (uint32_t k = f->pred_off[i]; k < f->pred_off[i + 1]; k++)
			if (!seen[f->pred[k]])
				stack[top++] = f->pred[k];
	}
	free(stack);
	free(seen);
	if (!err && !have)
		err = -ENOENT;
	*ndefs = have;
	return err;
}

/* walk_back_all for a unique definition: -EEXIST when two reach SITE. */
static int walk_back(const struct flow *f, uint64_t site,
		     int (*stop)(const struct insn *in, const void *arg), const void *arg,
		     uint64_t *def)
{
	int n, err = walk_back_all(f, site, stop, arg, def, 1, &n);

	return err == -E2BIG ? -EEXIST : err;
}

static int stop_at_write(const struct insn *in, const void *arg)
{
	enum gpr r = *(const enum gpr *)arg;

	return (in->writes & GPR_BIT(r)) ? 1 : 0;
}

int flow_reaching_def(const struct flow *f, uint64_t site, enum gpr r, uint64_t *def)
{
	return walk_back(f, site, stop_at_write, &r, def);
}

int flow_reaching_defs(const struct flow *f, uint64_t site, enum gpr r, uint64_t *defs, int max, int *n)
{
	return walk_back_all(f, site, stop_at_write, &r, defs, max, n);
}

static int stop_at_addr(const struct insn *in, const void *arg)
{
	return in->addr == *(const uint64_t *)arg;
}

int flow_dominates(const struct flow *f, uint64_t def, uint64_t site)
{
	uint64_t found;

	return walk_back(f, site, stop_at_addr, &def, &found);
}

/*
 * Whether a depth-first walk from instruction S along successors (or,
 * BACKWARD, predecessors), S itself counted only when reached again,
 * meets an instruction MEETS accepts.
 */
static bool walk_meets(const struct flow *f, uint32_t s, bool backward,
		       bool (*meets)(const struct flow *f, uint32_t i, const void *arg), const void *arg)
{
	const uint32_t *off = backward ? f->pred_off : f->succ_off, *next = backward ? f->pred : f->succ;
	size_t n = f->code.n, top = 0;
	uint32_t *stack = xcalloc(n + off[n] + 1, sizeof(*stack));
	bool *seen = xcalloc(n, sizeof(*seen)), met = false;

	for (uint32_t k = off[s]; k < off[s + 1]; k++)
		stack[top++] = next[k];
	while (top && !met) {
		uint32_t i = stack[--top];

		if (seen[i])
			continue;
		seen[i] = true;
		met = meets(f, i, arg);
		for (uint32_t k = off[i]; k < off[i + 1]; k++)
			if (!seen[next[k]])
				stack[top++] = next[k];
	}
	free(stack);
	free(seen);
	return met;
}

static bool writes_reg(const struct flow *f, uint32_t i, const void *reg)
{
	return f->code.insns[i].writes & GPR_BIT(*(const enum gpr *)reg);
}

static bool is_insn(const struct flow *f, uint32_t i, const void *s)
{
	return i == *(const uint32_t *)s;
}

bool flow_keeps_entry(const struct flow *f, uint64_t site, enum gpr r)
{
	long s = code_index(&f->code, site);

	if (f->why_incomplete[0] || s < 0)
		return false;
	return !walk_meets(f, (uint32_t)s, true, writes_reg, &r);
}

bool flow_on_cycle(const struct flow *f, uint64_t addr)
{
	long s = code_index(&f->code, addr);
	uint32_t i = (uint32_t)s;

	if (f->why_incomplete[0] || s < 0)
		return true;
	return walk_meets(f, i, false, is_insn, &i);
}

struct slot_arg {
	enum gpr base;
	int64_t disp;
	uint64_t def;
};

static int stop_at_slot(const struct insn *in, const void *arg)
{
	const struct slot_arg *a = arg;

	if (in->addr == a->def)
		return 1;
	if (in->flow == FLOW_CALL || in->flow == FLOW_ICALL || (in->writes & GPR_BIT(a->base)) ||
	    insn_stores_to(in, a->base, a->disp))
		return -1;
	return 0;
}

int flow_slot_intact(const struct flow *f, uint64_t site, enum gpr base, int64_t disp, uint64_t def)
{
	struct slot_arg a = { base, disp, def };
	uint64_t found;

	return walk_back(f, site, stop_at_slot, &a, &found);
}
