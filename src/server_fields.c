// SPDX-License-Identifier: BSD-3-Clause
/*
 * server_fields.c: counters of `server` found by reading code.
 *
 * Compilers address server's fields either rip-relative (server+1264(%rip))
 * or off a register loaded once with `lea server(%rip)`; the latter is
 * resolved through the register's unique reaching definition.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "server_fields.h"

static const char *const delete_functions[] = {
	"dbSyncDelete", "dbAsyncDelete", "dbGenericDelete", "dbDelete",
	"deleteKeyAndPropagate", "deleteEvictedKeyAndPropagate",
};

static bool is_delete_call(const struct elf_image *img, const struct insn *in)
{
	const struct elf_sym *first;
	size_t n;

	if (in->flow != FLOW_CALL)
		return false;
	n = elf_image__funcs_at(img, in->target, &first);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof(delete_functions) / sizeof(delete_functions[0]); k++)
			if (elf_sym_is_variant(first[i].name, delete_functions[k]))
				return true;
	return false;
}

int find_delete_calls(const struct flow *f, uint64_t *sites, int max, int *n)
{
	*n = 0;
	for (size_t i = 0; i < f->code.n; i++) {
		if (!is_delete_call(f->img, &f->code.insns[i]))
			continue;
		if (*n == max)
			return -E2BIG;
		sites[(*n)++] = f->code.insns[i].addr;
	}
	return *n ? 0 : -ENOENT;
}

/* A register's value when its only definition is `lea SYM(%rip), reg`. */
static bool register_constant(const struct flow *f, uint64_t at, unsigned reg, uint64_t *v)
{
	const struct insn *def;
	uint64_t d;

	if (gpr_of(reg) == GPR_NONE || flow_reaching_def(f, at, gpr_of(reg), &d))
		return false;
	def = code_at(&f->code, d);
	if (!def || def->cs->id != X86_INS_LEA || def->cs->detail->x86.operands[1].mem.base != X86_REG_RIP ||
	    def->cs->detail->x86.operands[1].mem.index != X86_REG_INVALID)
		return false;
	*v = def->addr + def->size + (uint64_t)def->cs->detail->x86.operands[1].mem.disp;
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
	if (m->type != X86_OP_MEM || m->size != 8 || m->mem.index != X86_REG_INVALID)
		return false;
	if (m->mem.base == X86_REG_RIP)
		a = in->addr + in->size + (uint64_t)m->mem.disp;
	else if (register_constant(f, in->addr, m->mem.base, &a))
		a += (uint64_t)m->mem.disp;
	else
		return false;
	obj = elf_image__object_at(f->img, a);
	if (!obj || strcmp(obj->name, "server"))
		return false;
	*addr = a;
	return true;
}

/* The first server increment on the fall-through path after AT. */
static bool increment_after(const struct flow *f, uint64_t at, uint64_t *addr)
{
	const struct insn *in = code_at(&f->code, at);

	for (int steps = 0; in && steps < 64; steps++) {
		uint64_t next = in->addr + in->size;

		if (steps && server_increment(f, in, addr))
			return true;
		if (in->flow == FLOW_RET || in->flow == FLOW_STOP || in->flow == FLOW_IJUMP ||
		    (steps && is_delete_call(f->img, in)))
			return false;
		if (in->flow == FLOW_JUMP)
			next = in->target;
		in = code_at(&f->code, next);
	}
	return false;
}

int find_evictedkeys(const struct flow *f, const uint64_t *dels, int ndel, uint64_t *addr)
{
	uint64_t found = 0, a;

	for (int i = 0; i < ndel; i++) {
		if (!increment_after(f, dels[i], &a))
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

int find_numcommands(const struct elf_image *img, uint64_t *addr)
{
	struct elf_sym call;
	struct flow f;
	uint64_t found = 0, a;
	int err;

	err = elf_image__func(img, "call", &call);
	if (err)
		return err;
	err = flow_build(img, &call, &f);
	if (err)
		return err;
	for (size_t i = 0; i < f.code.n && !err; i++) {
		if (!server_increment(&f, &f.code.insns[i], &a))
			continue;
		if (found && found != a)
			err = -EEXIST;
		found = a;
	}
	flow_free(&f);
	if (!err && !found)
		err = -ENOENT;
	if (!err)
		*addr = found;
	return err;
}
