// SPDX-License-Identifier: BSD-3-Clause
/*
 * client_fields.c: where a build without debug information keeps what the
 * kernel follows to say who an eviction round ran for.
 *
 * server.current_client: processCommand() tests it for NULL right after
 * its call of the eviction function ("performEvictions may flush replica
 * output buffers ... the active client"): the first server field compared
 * with 0 after that call. Taken only when another function that reads
 * server.current_client in the source (RM_Call, revokeClientAuthentication)
 * reads the same field.
 *
 * The struct members: the module API's getters are exported and tiny, and
 * each returns the end of a chain of loads from its argument:
 * RM_GetClientId (ctx->client->id), RM_GetCurrentCommandName
 * (ctx->client->cmd->fullname), RM_GetClientNameById (a client looked up
 * by id, ->name), RM_StringPtrLen (an object's ->ptr); Valkey names them
 * VM_. Each is run by the interpreter over made-up memory, every word a
 * distinct pointer-like number, and the chain is read back from the
 * result; two sets of numbers must give the same chain, and the two
 * getters that go through ctx->client must agree on where it is.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_fields.h"
#include "disasm.h"
#include "emu.h"
#include "flow.h"
#include "server_fields.h"
#include "util.h"

#define CHAIN_STEPS 4096
#define CHAIN_STACK 0x7ff000000000ULL
#define CHAIN_MAX_LOADS 256
#define CHAIN_MAX_BASES 16
#define CHAIN_REACH 65536	/* a member lies within this of its struct's start */

/* A word of made-up memory, or a made-up argument or call result: 16-byte aligned, nonzero, in no mapping. */
static uint64_t made_up(uint64_t seed, uint64_t x)
{
	return 0x500000000000ULL | (mix64(seed, x) & 0xfffffffff0ULL);
}

struct chain_run {
	uint64_t seed;
	uint64_t base[CHAIN_MAX_BASES];	/* values a chain may start from: argument 0, then call results */
	int nbases;
	struct { uint64_t addr, val; } load[CHAIN_MAX_LOADS];
	int nloads;
};

static uint64_t chain_load(void *ctx, uint64_t addr)
{
	struct chain_run *r = ctx;
	uint64_t v = made_up(r->seed, addr);

	if (r->nloads < CHAIN_MAX_LOADS) {
		r->load[r->nloads].addr = addr;
		r->load[r->nloads++].val = v;
	}
	return v;
}

/* A fresh made-up pointer a chain may start from: what a call gave back. */
static uint64_t new_base(struct chain_run *r)
{
	uint64_t v = made_up(r->seed, 0xca11000000ULL + (uint64_t)r->nbases);

	if (r->nbases < CHAIN_MAX_BASES)
		r->base[r->nbases++] = v;
	return v;
}

/*
 * A call returns a fresh made-up pointer, in rax and through every
 * argument that points into the run's stack (raxFind's out-parameter,
 * where clang inlines lookupClientByID).
 */
static int chain_call(void *ctx, struct emu *e, uint64_t target, uint64_t at)
{
	static const enum gpr args[] = { GPR_RDI, GPR_RSI, GPR_RDX, GPR_RCX, GPR_R8, GPR_R9 };
	struct chain_run *r = ctx;

	(void)target;
	for (size_t i = 0; i < ARRAY_SIZE(args); i++) {
		uint64_t p = e->regs.r[args[i]];

		if (p < CHAIN_STACK && p >= CHAIN_STACK - CHAIN_REACH)
			emu_write(e, p, new_base(r), 8, at);
	}
	emu_set(e, GPR_RAX, new_base(r), at);
	return 0;
}

/*
 * The offsets from a base to V through the run's loads, into OFFS (at
 * most MAX, outermost first), and which base it starts from; -1 when V is
 * no such chain.
 */
static int chain_of(const struct chain_run *r, uint64_t v, int64_t *offs, int max, int *n)
{
	int64_t rev[8];
	int k = 0;

	for (;;) {
		int from = -1;

		for (int b = 0; b < r->nbases; b++)
			if (r->base[b] == v) {
				if (k > max)
					return -1;
				for (int i = 0; i < k; i++)
					offs[i] = rev[k - 1 - i];
				*n = k;
				return b;
			}
		for (int i = 0; i < r->nloads && from < 0; i++)
			if (r->load[i].val == v)
				from = i;
		if (from < 0 || k == 8)
			return -1;
		/* The load read a member of a struct whose address is a value seen before. */
		v = 0;
		for (int b = 0; b < r->nbases && !v; b++)
			if (r->load[from].addr - r->base[b] < CHAIN_REACH)
				v = r->base[b];
		for (int i = 0; i < from && !v; i++)
			if (r->load[from].addr - r->load[i].val < CHAIN_REACH)
				v = r->load[i].val;
		if (!v)
			return -1;
		rev[k++] = (int64_t)(r->load[from].addr - v);
	}
}

/* Runs a getter once with SEED; its chain in OFFS/N and the base it starts from (0: the argument). */
static int run_chain(const struct elf_image *img, const struct code *code, uint64_t entry, uint64_t seed,
		     int64_t *offs, int max, int *n)
{
	struct chain_run *r = xcalloc(1, sizeof(*r));
	struct emu_hooks hooks = { chain_load, chain_call, r };
	struct emu e;
	int base = -1;

	(void)img;
	r->seed = seed;
	r->base[r->nbases++] = made_up(seed, 0xa160);
	emu_init(&e, code, &hooks);
	emu_set(&e, GPR_RDI, r->base[0], 0);
	emu_set(&e, GPR_RSI, 0, 0);	/* an id for a call to look up, or no length wanted */
	emu_set(&e, GPR_RSP, CHAIN_STACK - 8, 0);
	emu_write(&e, CHAIN_STACK - 8, 0, 8, 0);	/* the return address */
	e.rip = entry;
	if (emu_run(&e, CHAIN_STEPS) == EMU_RETURNED)
		base = chain_of(r, e.regs.r[GPR_RAX], offs, max, n);
	emu_free(&e);
	free(r);
	return base;
}

/*
 * The chain the module getter NAME (RM_ or VM_) returns, from its argument
 * (FROM_CALL false) or from what a call gave back; offsets outermost
 * first. The same for two sets of made-up numbers, else -ENOTSUP.
 */
static int getter_chain(const struct elf_image *img, const char *name, bool from_call, int64_t *offs, int n)
{
	char sym[64];
	struct elf_sym fn;
	struct code code = { 0 };
	int64_t o1[8], o2[8];
	int n1 = 0, n2 = 0, b1, b2, err;

	snprintf(sym, sizeof(sym), "RM_%s", name);
	err = elf_image__func(img, sym, &fn);
	if (err) {
		snprintf(sym, sizeof(sym), "VM_%s", name);
		err = elf_image__func(img, sym, &fn);
	}
	if (!err)
		err = disasm_linear(img, fn.addr, fn.size, &code);
	if (err)
		goto out;
	err = -ENOTSUP;
	b1 = run_chain(img, &code, fn.addr, 0x6368616931ULL, o1, 8, &n1);
	b2 = run_chain(img, &code, fn.addr, 0x6368616932ULL, o2, 8, &n2);
	if (b1 >= 0 && b2 >= 0 && (b1 > 0) == from_call && (b2 > 0) == from_call && n1 == n && n2 == n &&
	    !memcmp(o1, o2, (size_t)n * sizeof(*o1))) {
		memcpy(offs, o1, (size_t)n * sizeof(*offs));
		err = 0;
	}
out:
	code_free(&code);
	return err;
}

static bool aligned_member(int64_t off)
{
	return off >= 0 && off < CHAIN_REACH && off % 8 == 0;
}

int client_members(const struct elf_image *img, struct member_rec m[NMEMBERS], char *why, size_t len)
{
	int64_t id[2], cmd[3], name[1], ptr[1];

	if (getter_chain(img, "GetClientId", false, id, 2) || getter_chain(img, "GetCurrentCommandName", false, cmd, 3) ||
	    getter_chain(img, "GetClientNameById", true, name, 1) || getter_chain(img, "StringPtrLen", false, ptr, 1)) {
		snprintf(why, len, "the module API's GetClientId, GetCurrentCommandName, GetClientNameById and "
			 "StringPtrLen are not all there as chains of loads");
		return -ENOENT;
	}
	if (id[0] != cmd[0] || !aligned_member(id[1]) || !aligned_member(cmd[1]) || !aligned_member(cmd[2]) ||
	    !aligned_member(name[0]) || !aligned_member(ptr[0])) {
		snprintf(why, len, "the module API's getters disagree on where a context keeps its client");
		return -EINVAL;
	}
	m[MB_CLIENT_ID] = (struct member_rec){ true, id[1], STRATEGY_DISASM };
	m[MB_CLIENT_CMD] = (struct member_rec){ true, cmd[1], STRATEGY_DISASM };
	m[MB_COMMAND_NAME] = (struct member_rec){ true, cmd[2], STRATEGY_DISASM };
	m[MB_CLIENT_NAME] = (struct member_rec){ true, name[0], STRATEGY_DISASM };
	m[MB_OBJECT_PTR] = (struct member_rec){ true, ptr[0], STRATEGY_DISASM };
	return 0;
}

/* The 8-byte word of SERVER that IN reads (a memory operand), 0 if none. */
static uint64_t server_word(const struct flow *f, const struct insn *in, const struct elf_sym *server)
{
	const cs_x86 *x = &in->cs->detail->x86;
	uint64_t a;

	for (int i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].size == 8 &&
		    operand_address(f, in, &x->operands[i], &a) && a >= server->addr && a + 8 <= server->addr + server->size)
			return a;
	return 0;
}

/* The field of SERVER instruction K (and the next) compares with 0: `cmpq $0, X`, or a load of X tested. */
static uint64_t null_test(const struct flow *f, size_t k, const struct elf_sym *server)
{
	const struct code *c = &f->code;
	const struct insn *in = &c->insns[k];
	const cs_x86 *x = &in->cs->detail->x86;
	uint64_t a = server_word(f, in, server);

	if (!a)
		return 0;
	if (in->cs->id == X86_INS_CMP && x->op_count == 2 && x->operands[1].type == X86_OP_IMM &&
	    !x->operands[1].imm)
		return a;
	if (in->cs->id == X86_INS_MOV && x->operands[0].type == X86_OP_REG && k + 1 < c->n) {
		const cs_x86 *t = &c->insns[k + 1].cs->detail->x86;

		if (c->insns[k + 1].cs->id == X86_INS_TEST && t->operands[0].type == X86_OP_REG &&
		    t->operands[1].type == X86_OP_REG && t->operands[0].reg == x->operands[0].reg &&
		    t->operands[1].reg == x->operands[0].reg)
			return a;
	}
	return 0;
}

/* Whether function NAME reads the word at ADDR, a field of SERVER. */
static bool reads_word(const struct elf_image *img, const char *name, const struct elf_sym *server, uint64_t addr)
{
	struct elf_sym fn;
	struct flow f;
	bool found = false;

	if (elf_image__func(img, name, &fn) || flow_build(img, &fn, &f))
		return false;
	for (size_t k = 0; k < f.code.n && !found; k++)
		found = server_word(&f, &f.code.insns[k], server) == addr;
	flow_free(&f);
	return found;
}

int client_current(const struct elf_image *img, const struct elf_sym *evict, uint64_t *out, char *why, size_t len)
{
	static const char *const confirm[] = { "revokeClientAuthentication", "RM_Call", "VM_Call" };
	struct elf_sym pc, server;
	uint64_t found = 0;
	struct flow f;
	int err;

	err = elf_image__func(img, "processCommand", &pc);
	if (!err)
		err = elf_image__object(img, "server", &server);
	if (!err)
		err = flow_build(img, &pc, &f);
	if (err) {
		snprintf(why, len, "processCommand or server cannot be read");
		return err;
	}
	/* After each call of the eviction function, the first server field compared with 0. */
	for (size_t k = 0; k < f.code.n; k++) {
		uint64_t a = 0;

		if (f.code.insns[k].flow != FLOW_CALL || f.code.insns[k].target != evict->addr)
			continue;
		for (size_t j = k + 1; j < f.code.n && j < k + 64 && !a; j++)
			a = null_test(&f, j, &server);
		if (!a || (found && found != a)) {
			snprintf(why, len, "processCommand tests no single server field for NULL after calling %s",
				 evict->name);
			err = -ENOENT;
			goto out;
		}
		found = a;
	}
	err = -ENOENT;
	snprintf(why, len, "processCommand does not call %s", evict->name);
	for (size_t i = 0; found && i < ARRAY_SIZE(confirm) && err; i++)
		if (reads_word(img, confirm[i], &server, found))
			err = 0;
	if (found && err)
		snprintf(why, len, "the server field processCommand tests after %s (server+%llu) is read by neither "
			 "RM_Call nor revokeClientAuthentication", evict->name,
			 (unsigned long long)(found - server.addr));
	if (!err)
		*out = found;
out:
	flow_free(&f);
	return err;
}
