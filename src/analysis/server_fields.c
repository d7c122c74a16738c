// SPDX-License-Identifier: BSD-3-Clause
/*
 * server_fields.c: counters of `server` found by reading code.
 *
 * Compilers address server's fields either rip-relative (server+1264(%rip))
 * or off a register loaded once with `lea server(%rip)`; the latter is
 * resolved through the register's unique reaching definition.
 *
 * Redis 8 moved `server.stat_evictedkeys++` out of the eviction loop into
 * deleteKeyAndPropagate(), which also counts expired keys: there the field
 * is the increment reached when the callee runs with the arguments the
 * eviction loop passes (notify_type NOTIFY_EVICTED), following only the
 * branches that compare those arguments with constants.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server_fields.h"
#include "util.h"

static const char *const delete_functions[] = {
	"dbSyncDelete", "dbAsyncDelete", "dbGenericDelete", "dbDelete",
	"deleteKeyAndPropagate", "deleteEvictedKeyAndPropagate",
	"dbGenericDeleteWithDictIndex",	/* Valkey 8, where dbGenericDelete is inlined */
};
#define NDELETE_FUNCTIONS (sizeof(delete_functions) / sizeof(delete_functions[0]))

#define NARGS 6	/* SysV integer argument registers */
static const enum gpr arg_regs[NARGS] = { GPR_RDI, GPR_RSI, GPR_RDX, GPR_RCX, GPR_R8, GPR_R9 };

/* Argument registers known to hold a constant on entry to a callee. */
struct args {
	bool known[GPR_N];
	uint64_t val[GPR_N];
};

static bool is_arg_reg(enum gpr r)
{
	for (int i = 0; i < NARGS; i++)
		if (arg_regs[i] == r)
			return true;
	return false;
}

/* `mov $imm, reg`: the register and value. */
static bool mov_imm(const struct insn *in, enum gpr *r, uint64_t *v)
{
	const cs_x86 *x = &in->cs->detail->x86;

	if (in->cs->id != X86_INS_MOV || x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
	    x->operands[1].type != X86_OP_IMM || gpr_of(x->operands[0].reg) == GPR_NONE)
		return false;
	*r = gpr_of(x->operands[0].reg);
	*v = x->operands[0].size == 4 ? (uint32_t)x->operands[1].imm : (uint64_t)x->operands[1].imm;
	return true;
}

/*
 * A thunk: a function that only sets argument registers and tail-jumps
 * (deleteEvictedKeyAndPropagate: mov %rdx,%rcx; mov $0x200,%edx; jmp X).
 * Its jump target, with ARGS updated by what it sets; false otherwise.
 */
static bool thunk_target(const struct elf_image *img, uint64_t addr, struct args *args, uint64_t *target)
{
	struct code c = { 0 };
	struct args a = args ? *args : (struct args){ 0 };
	bool found = false;

	if (disasm_follow(img, addr, 32, &c, NULL))
		return false;
	for (size_t i = 0; i < c.n; i++) {
		const struct insn *in = &c.insns[i];
		const cs_x86 *x = &in->cs->detail->x86;
		enum gpr r;
		uint64_t v;

		if (in->cs->id == X86_INS_ENDBR64)
			continue;
		if (in->flow == FLOW_JUMP) {
			*target = in->target;
			found = true;
			break;
		}
		if (mov_imm(in, &r, &v)) {
			a.known[r] = true;
			a.val[r] = v;
		} else if (in->cs->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
			   x->operands[1].type == X86_OP_REG && is_arg_reg(gpr_of(x->operands[0].reg)) &&
			   x->operands[0].size == 8 && gpr_of(x->operands[1].reg) != GPR_NONE) {
			r = gpr_of(x->operands[0].reg);
			a.known[r] = a.known[gpr_of(x->operands[1].reg)];
			a.val[r] = a.val[gpr_of(x->operands[1].reg)];
		} else {
			break;
		}
	}
	code_free(&c);
	if (found && args)
		*args = a;
	return found;
}

static bool is_delete_function(const struct elf_image *img, uint64_t addr)
{
	const struct elf_sym *first;
	size_t n = elf_image__funcs_at(img, addr, &first);

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < NDELETE_FUNCTIONS; k++)
			if (elf_sym_is_variant(first[i].name, delete_functions[k]))
				return true;
	return false;
}

/*
 * A call to a delete function, or to the unnamed function a named one is a
 * thunk for (THUNK_TO): a stripped Redis 8 calls deleteKeyAndPropagate
 * (static) directly.
 */
static bool is_delete_call(const struct elf_image *img, const struct insn *in, const uint64_t *thunk_to, int nthunks)
{
	if (in->flow != FLOW_CALL)
		return false;
	for (int k = 0; k < nthunks; k++)
		if (thunk_to[k] == in->target)
			return true;
	return is_delete_function(img, in->target);
}

int find_delete_calls(const struct flow *f, uint64_t *sites, int max, int *n)
{
	uint64_t thunk_to[NDELETE_FUNCTIONS];
	int nthunks = 0;

	for (size_t k = 0; k < NDELETE_FUNCTIONS; k++) {
		struct elf_sym fn;

		if (!elf_image__func(f->img, delete_functions[k], &fn) &&
		    thunk_target(f->img, fn.addr, NULL, &thunk_to[nthunks]))
			nthunks++;
	}
	*n = 0;
	for (size_t i = 0; i < f->code.n; i++) {
		if (!is_delete_call(f->img, &f->code.insns[i], thunk_to, nthunks))
			continue;
		if (*n == max)
			return -E2BIG;
		sites[(*n)++] = f->code.insns[i].addr;
	}
	return *n ? 0 : -ENOENT;
}

/*
 * A register's value when every definition reaching AT is `lea SYM(%rip), reg`
 * of the same SYM (clang reloads &server on some paths).
 */
static bool register_constant(const struct flow *f, uint64_t at, unsigned reg, uint64_t *v)
{
	uint64_t defs[4], first = 0;
	int n;

	if (gpr_of(reg) == GPR_NONE || flow_reaching_defs(f, at, gpr_of(reg), defs, 4, &n))
		return false;
	for (int i = 0; i < n; i++) {
		const struct insn *def = code_at(&f->code, defs[i]);
		const cs_x86_op *m;
		uint64_t a;

		if (!def || def->cs->id != X86_INS_LEA)
			return false;
		m = &def->cs->detail->x86.operands[1];
		if (m->mem.base != X86_REG_RIP || m->mem.index != X86_REG_INVALID)
			return false;
		a = def->addr + def->size + (uint64_t)m->mem.disp;
		if (i && a != first)
			return false;
		first = a;
	}
	*v = first;
	return true;
}

bool operand_address(const struct flow *f, const struct insn *in, const cs_x86_op *m, uint64_t *addr)
{
	if (m->type != X86_OP_MEM || m->mem.index != X86_REG_INVALID)
		return false;
	if (m->mem.base == X86_REG_RIP) {
		*addr = in->addr + in->size + (uint64_t)m->mem.disp;
		return true;
	}
	if (!register_constant(f, in->addr, m->mem.base, addr))
		return false;
	*addr += (uint64_t)m->mem.disp;
	return true;
}

/* For `add $1, FIELD` or `inc FIELD` on 8 bytes of `server`: the field's address. */
static bool server_increment(const struct flow *f, const struct insn *in, uint64_t *addr)
{
	const cs_x86 *x = &in->cs->detail->x86;
	const cs_x86_op *m = &x->operands[0];
	const struct elf_sym *obj;
	uint64_t a;

	if (in->cs->id == X86_INS_ADD) {
		if (x->op_count != 2 || x->operands[1].type != X86_OP_IMM || x->operands[1].imm != 1)
			return false;
	} else if (in->cs->id != X86_INS_INC) {
		return false;
	}
	if (m->type != X86_OP_MEM || m->size != 8 || !operand_address(f, in, m, &a))
		return false;
	obj = elf_image__object_at(f->img, a);
	if (!obj || strcmp(obj->name, "server"))
		return false;
	*addr = a;
	return true;
}

#define MAXMEMORY_NO_EVICTION 0x700

int find_maxmemory_policy(const struct flow *f, uint64_t *addr)
{
	uint64_t found = 0;

	for (size_t i = 0; i < f->code.n; i++) {
		const struct insn *in = &f->code.insns[i];
		const cs_x86 *x = &in->cs->detail->x86;
		const cs_x86_op *m = &x->operands[0];
		const struct elf_sym *obj;
		uint64_t a;

		if (in->cs->id != X86_INS_CMP || x->op_count != 2 || m->type != X86_OP_MEM || m->size != 4 ||
		    x->operands[1].type != X86_OP_IMM || x->operands[1].imm != MAXMEMORY_NO_EVICTION ||
		    m->mem.index != X86_REG_INVALID)
			continue;
		if (m->mem.base == X86_REG_RIP)
			a = in->addr + in->size + (uint64_t)m->mem.disp;
		else if (register_constant(f, in->addr, m->mem.base, &a))
			a += (uint64_t)m->mem.disp;
		else
			continue;
		obj = elf_image__object_at(f->img, a);
		if (!obj || strcmp(obj->name, "server"))
			continue;
		if (found && found != a)
			return -ENOTUNIQ;
		found = a;
	}
	if (!found)
		return -ENOENT;
	*addr = found;
	return 0;
}

/* The first server increment on the fall-through path after AT, before the next of the delete calls DELS. */
static bool increment_after(const struct flow *f, uint64_t at, const uint64_t *dels, int ndel, uint64_t *addr)
{
	const struct insn *in = code_at(&f->code, at);

	for (int steps = 0; in && steps < 64; steps++) {
		uint64_t next = in->addr + in->size;
		bool is_del = false;

		if (steps && server_increment(f, in, addr))
			return true;
		for (int i = 0; i < ndel; i++)
			is_del |= dels[i] == in->addr;
		if (in->flow == FLOW_RET || in->flow == FLOW_STOP || in->flow == FLOW_IJUMP || (steps && is_del))
			return false;
		if (in->flow == FLOW_JUMP)
			next = in->target;
		in = code_at(&f->code, next);
	}
	return false;
}

/* A callee of the eviction loop, disassembled, with what is known of its frame. */
struct callee {
	struct flow f;
	bool *reach;		/* instruction i is reachable from the entry */
	bool frame_shared;	/* rbp or rsp escapes other than as `lea d(%rbp)` */
	int64_t escape_floor;	/* lowest d of an escaping `lea d(%rbp)`: slots below it are private */
};

/* Whether OP (a write) overlaps the frame slot [DISP, DISP+SIZE) off rbp. */
static bool writes_slot(const cs_x86_op *op, int64_t disp, unsigned size)
{
	return op->type == X86_OP_MEM && (op->access & CS_AC_WRITE) && op->mem.base == X86_REG_RBP &&
	       op->mem.index == X86_REG_INVALID && op->mem.disp < disp + size && disp < op->mem.disp + op->size;
}

/*
 * Which argument register's value on entry OP holds at AT, or GPR_NONE:
 * the register itself when nothing on the way writes it, through register
 * copies, and through a frame slot when its one store is on every path and
 * no pointer into the frame can reach it.
 */
static enum gpr entry_value_of(const struct callee *c, uint64_t at, const cs_x86_op *op, int depth)
{
	const struct flow *f = &c->f;
	const struct insn *d = NULL;
	const cs_x86 *x;
	uint64_t def;

	if (depth > 3)
		return GPR_NONE;
	if (op->type == X86_OP_REG) {
		enum gpr r = gpr_of(op->reg);

		if (r == GPR_NONE)
			return GPR_NONE;
		if (flow_keeps_entry(f, at, r))
			return is_arg_reg(r) ? r : GPR_NONE;
		if (!flow_reaching_def(f, at, r, &def))
			d = code_at(&f->code, def);
	} else if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RBP && op->mem.index == X86_REG_INVALID &&
		   !c->frame_shared && op->mem.disp + op->size <= c->escape_floor) {
		for (size_t i = 0; i < f->code.n; i++) {
			const cs_x86 *ix = &f->code.insns[i].cs->detail->x86;

			if (!c->reach[i])
				continue;
			for (int k = 0; k < ix->op_count; k++) {
				if (!writes_slot(&ix->operands[k], op->mem.disp, op->size))
					continue;
				if (d && d != &f->code.insns[i])
					return GPR_NONE;	/* two stores */
				d = &f->code.insns[i];
			}
		}
		if (d && flow_dominates(f, d->addr, at))
			d = NULL;
	}
	if (!d || d->cs->id != X86_INS_MOV)
		return GPR_NONE;
	x = &d->cs->detail->x86;
	if (x->op_count != 2 || x->operands[1].type != X86_OP_REG || x->operands[0].size != op->size)
		return GPR_NONE;
	if (op->type == X86_OP_REG ? x->operands[0].type != X86_OP_REG
				   : (x->operands[0].type != X86_OP_MEM || x->operands[0].mem.disp != op->mem.disp))
		return GPR_NONE;
	return entry_value_of(c, d->addr, &x->operands[1], depth + 1);
}

/* Marks what the entry reaches; with ARGS, a je/jne right after `cmp $imm` on a known argument goes one way. */
static void reach_from_entry(struct callee *c, const struct args *args)
{
	const struct flow *f = &c->f;
	long e = code_index(&f->code, f->fn.addr);
	size_t top = 0;
	uint32_t *stack;

	memset(c->reach, 0, f->code.n * sizeof(*c->reach));
	if (e < 0)
		return;
	stack = xcalloc(f->succ_off[f->code.n] + 1, sizeof(*stack));
	stack[top++] = (uint32_t)e;
	while (top) {
		uint32_t i = stack[--top];
		const struct insn *in = &f->code.insns[i];
		uint64_t only = 0;	/* the one successor taken, when the branch is decided */

		if (c->reach[i])
			continue;
		c->reach[i] = true;
		if (args && in->flow == FLOW_CJUMP && (in->cs->id == X86_INS_JE || in->cs->id == X86_INS_JNE) && i > 0 &&
		    f->pred_off[i + 1] - f->pred_off[i] == 1 && f->pred[f->pred_off[i]] == i - 1 &&
		    f->code.insns[i - 1].cs->id == X86_INS_CMP) {
			const cs_x86 *cx = &f->code.insns[i - 1].cs->detail->x86;
			enum gpr r = GPR_NONE;

			if (cx->op_count == 2 && cx->operands[1].type == X86_OP_IMM)
				r = entry_value_of(c, f->code.insns[i - 1].addr, &cx->operands[0], 0);
			if (r != GPR_NONE && args->known[r]) {
				uint64_t mask = cx->operands[0].size == 8 ? ~0ULL : (1ULL << (8 * cx->operands[0].size)) - 1;
				bool equal = (args->val[r] & mask) == ((uint64_t)cx->operands[1].imm & mask);

				only = equal == (in->cs->id == X86_INS_JE) ? in->target : in->addr + in->size;
			}
		}
		for (uint32_t k = f->succ_off[i]; k < f->succ_off[i + 1]; k++)
			if (!only || f->code.insns[f->succ[k]].addr == only)
				stack[top++] = f->succ[k];
	}
	free(stack);
}

static bool is_reg(const cs_x86_op *op, x86_reg r)
{
	return op->type == X86_OP_REG && op->reg == r;
}

/*
 * How far rbp-based frame slots are the function's own: rbp must be its
 * frame pointer (set, only, by `mov %rsp,%rbp`), and rbp and rsp may not be
 * used as values, so no pointer into the frame escapes but `lea d(%rbp)`
 * (an object at d, which C code only accesses upward from d).
 */
static void frame_escapes(struct callee *c)
{
	const struct flow *f = &c->f;
	bool frame_pointer = false;

	c->frame_shared = false;
	c->escape_floor = INT64_MAX;
	for (size_t i = 0; i < f->code.n && !c->frame_shared; i++) {
		const struct insn *in = &f->code.insns[i];
		const cs_x86 *x = &in->cs->detail->x86;
		const cs_x86_op *op0 = &x->operands[0], *op1 = &x->operands[1];
		unsigned id = in->cs->id;

		if (!c->reach[i] || id == X86_INS_PUSH || id == X86_INS_POP || id == X86_INS_LEAVE)
			continue;
		if (id == X86_INS_MOV && is_reg(op0, X86_REG_RBP) && is_reg(op1, X86_REG_RSP)) {
			frame_pointer = true;
			continue;
		}
		if (id == X86_INS_MOV && is_reg(op0, X86_REG_RSP) && is_reg(op1, X86_REG_RBP))
			continue;
		if ((id == X86_INS_ADD || id == X86_INS_SUB) && is_reg(op0, X86_REG_RSP) && op1->type == X86_OP_IMM)
			continue;
		if (id == X86_INS_LEA && op1->mem.base == X86_REG_RBP && op1->mem.index == X86_REG_INVALID) {
			if (op1->mem.disp < c->escape_floor)
				c->escape_floor = op1->mem.disp;
			continue;
		}
		for (int k = 0; k < x->op_count; k++) {
			const cs_x86_op *op = &x->operands[k];

			if (is_reg(op, X86_REG_RBP) || is_reg(op, X86_REG_RSP) || is_reg(op, X86_REG_EBP) ||
			    (op->type == X86_OP_MEM &&
			     (op->mem.index == X86_REG_RBP || op->mem.index == X86_REG_RSP ||
			      (op->mem.base == X86_REG_RSP && (id == X86_INS_LEA || (op->access & CS_AC_WRITE))))))
				c->frame_shared = true;
		}
	}
	c->frame_shared |= !frame_pointer;	/* rbp would still point into the caller's frame */
}

/* The function starting at ADDR: its symbol, or up to the next symbol when it has none. */
static bool function_at(const struct elf_image *img, uint64_t addr, struct elf_sym *out)
{
	const struct elf_sym *first;
	uint64_t end = 0;

	if (elf_image__funcs_at(img, addr, &first)) {
		*out = first[0];
		return out->size > 0;
	}
	for (size_t i = 0; i < img->nfuncs && !end; i++)
		if (img->funcs[i].addr > addr)
			end = img->funcs[i].addr;
	if (!end || end - addr > 65536 || !elf_image__is_text(img, addr))
		return false;
	*out = (struct elf_sym){ .name = "", .addr = addr, .size = end - addr };
	return true;
}

/*
 * The server field the delete function called at CALL increments when run
 * with the constant arguments the caller passes (through a thunk, if the
 * target is one), following only the branches those arguments decide.
 */
static bool increment_in_callee(const struct flow *caller, const struct insn *call, uint64_t *addr)
{
	struct args args = { 0 };
	struct elf_sym fn;
	struct callee c;
	uint64_t target = call->target, found = 0, a;
	bool unique = true;

	for (int i = 0; i < NARGS; i++) {
		const struct insn *d;
		uint64_t def, v;
		enum gpr r;

		if (!flow_reaching_def(caller, call->addr, arg_regs[i], &def) && (d = code_at(&caller->code, def)) &&
		    mov_imm(d, &r, &v)) {
			args.known[r] = true;
			args.val[r] = v;
		}
	}
	thunk_target(caller->img, target, &args, &target);
	if (!function_at(caller->img, target, &fn))
		return false;
	if (flow_build(caller->img, &fn, &c.f)) {
		flow_free(&c.f);
		return false;
	}
	c.reach = xcalloc(c.f.code.n, sizeof(*c.reach));
	if (!c.f.why_incomplete[0]) {
		reach_from_entry(&c, NULL);
		frame_escapes(&c);
		reach_from_entry(&c, &args);
		for (size_t i = 0; i < c.f.code.n; i++) {
			if (!c.reach[i] || !server_increment(&c.f, &c.f.code.insns[i], &a))
				continue;
			unique &= !found || found == a;
			found = a;
		}
	}
	free(c.reach);
	flow_free(&c.f);
	if (!found || !unique)
		return false;
	*addr = found;
	return true;
}

int find_evictedkeys(const struct flow *f, const uint64_t *dels, int ndel, uint64_t *addr)
{
	uint64_t found = 0, a;

	for (int i = 0; i < ndel; i++) {
		if (!increment_after(f, dels[i], dels, ndel, &a) &&
		    !increment_in_callee(f, code_at(&f->code, dels[i]), &a))
			return -ENOENT;
		if (found && found != a)
			return -EEXIST;
		found = a;
	}
	if (!found)
		return -ENOENT;
	*addr = found;
	return 0;
}

/* The distinct server fields incremented in function NAME, up to MAX; -errno without the function. */
static int increments_in(const struct elf_image *img, const char *name, uint64_t *fields, int max, int *n)
{
	struct elf_sym fn;
	struct flow f;
	uint64_t a;
	int err;

	*n = 0;
	err = elf_image__func(img, name, &fn);
	if (err)
		return err;
	err = flow_build(img, &fn, &f);
	for (size_t i = 0; i < f.code.n && !err; i++) {
		int k = 0;

		if (!server_increment(&f, &f.code.insns[i], &a))
			continue;
		while (k < *n && fields[k] != a)
			k++;
		if (k < *n)
			continue;
		if (*n == max)
			err = -E2BIG;
		else
			fields[(*n)++] = a;
	}
	flow_free(&f);
	return err;
}

/*
 * call() increments stat_numcommands once per command. Redis 8 also bumps
 * other server fields there, and counts a command finished after blocking
 * in updateStatsOnUnblock(): the field both increment is the counter.
 */
int find_numcommands(const struct elf_image *img, uint64_t *addr)
{
	uint64_t in_call[8], in_unblock[8], found = 0;
	int ncall, nunblock, nfound = 0, err;

	err = increments_in(img, "call", in_call, 8, &ncall);
	if (err)
		return err;
	if (ncall == 1) {
		*addr = in_call[0];
		return 0;
	}
	if (!ncall || increments_in(img, "updateStatsOnUnblock", in_unblock, 8, &nunblock))
		return ncall ? -EEXIST : -ENOENT;
	for (int i = 0; i < ncall; i++)
		for (int k = 0; k < nunblock; k++)
			if (in_call[i] == in_unblock[k]) {
				found = in_call[i];
				nfound++;
			}
	if (nfound != 1)
		return nfound ? -EEXIST : -ENOENT;
	*addr = found;
	return 0;
}
