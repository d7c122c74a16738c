// SPDX-License-Identifier: BSD-3-Clause
/*
 * site_verify.c: proving an offset file safe for one executable
 * (analysis__verify).
 *
 * A uprobe replaces the first byte of an instruction with int3; placed
 * mid-instruction it corrupts the running Redis. So the only sites
 * accepted are boundaries proven here from the binary itself, never
 * trusted from the file.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "exits.h"

__attribute__((format(printf, 3, 4)))
static int refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A code location of the file: in the function or a part, a boundary, as recorded. */
static int check_code(const struct offsets *o, const struct flow *f, uint64_t addr, uint64_t file_offset,
		      enum insn_class cls, const char *insn, const char *what, char *why, size_t len)
{
	const struct flow_part *part = flow_part_at(f, addr);
	const struct insn *in;
	char name[128], where[160], text[96];
	uint64_t off;

	offsets_code_name(o, addr, name, sizeof(name));
	/* Where it is, for the two refusals about where it is: "performEvictions+223 (0x11daff)". */
	snprintf(where, sizeof(where), strncmp(name, "0x", 2) ? "%s (0x%" PRIx64 ")" : "%s", name, addr);
	if (!part)
		return refuse(why, len, "%s %s is outside %s and its parts", what, where, o->function);
	in = code_at(&f->code, addr);
	if (!in)
		return refuse(why, len, "%s %s is not on an instruction boundary of %s", what, where,
			      part->named ? part->name : "the part reached by a jump there");
	if (elf_image__file_offset(f->img, addr, &off) || off != file_offset)
		return refuse(why, len, "%s %s: file offset 0x%" PRIx64 " is wrong (the binary has 0x%" PRIx64 ")",
			      what, name, file_offset, off);
	if (disasm_text(f->img, addr, text, sizeof(text)) || strcmp(text, insn))
		return refuse(why, len, "%s %s: the instruction there is \"%s\", not \"%s\"", what, name, text, insn);
	if ((enum insn_class)in->cls != cls)
		return refuse(why, len, "%s %s: \"%s\" is %s, not %s", what, name, text,
			      insn_class_name((enum insn_class)in->cls), insn_class_name(cls));
	return 0;
}

static int resolve_global(const struct elf_image *img, const char *sym, int64_t off, uint64_t *addr,
			  const char *what, char *why, size_t len)
{
	struct elf_sym obj;

	if (sym[0]) {
		if (elf_image__object(img, sym, &obj))
			return refuse(why, len, "%s: the binary has no object '%s'", what, sym);
		if (off < 0 || (uint64_t)off + 8 > obj.size)
			return refuse(why, len, "%s: %s+%" PRId64 " is outside %s (%" PRIu64 " bytes)", what, sym,
				      off, sym, obj.size);
		*addr = obj.addr + (uint64_t)off;
	} else {
		*addr = (uint64_t)off;
	}
	if (!elf_image__is_data(img, *addr))
		return refuse(why, len, "%s: 0x%" PRIx64 " is not in a writable segment", what, *addr);
	return 0;
}

static const char *why_def(int err)
{
	switch (err) {
	case -ENOENT: return "some path reaches the site without passing it";
	case -EEXIST: return "several definitions reach the site";
	case -EBUSY: return "it is overwritten, or a call or stack change intervenes, on the way to the site";
	case -ENOTRECOVERABLE: return "the function's flow graph is incomplete";
	default: return "it cannot be proven";
	}
}

/* Whether IN stores 8 bytes exactly at BASE+DISP. */
static bool stores_slot(const struct insn *in, enum gpr base, int64_t disp)
{
	const cs_x86 *x = &in->cs->detail->x86;

	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type == X86_OP_MEM && (op->access & CS_AC_WRITE) && gpr_of(op->mem.base) == base &&
		    op->mem.index == X86_REG_INVALID && op->mem.disp == disp && op->size == 8)
			return true;
	}
	return false;
}

/* Whether the call at CALL is passed BASE+DISP in an argument register (lea DISP(BASE), reg). */
static bool passes_slot(const struct flow *f, const struct insn *call, enum gpr base, int64_t disp)
{
	static const enum gpr args[] = { GPR_RDI, GPR_RSI, GPR_RDX, GPR_RCX, GPR_R8, GPR_R9 };

	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		const struct insn *def;
		const cs_x86_op *src;
		uint64_t d;

		if (flow_reaching_def(f, call->addr, args[i], &d) || !(def = code_at(&f->code, d)) ||
		    def->cs->id != X86_INS_LEA)
			continue;
		src = &def->cs->detail->x86.operands[1];
		if (gpr_of(src->mem.base) == base && src->mem.index == X86_REG_INVALID && src->mem.disp == disp)
			return true;
	}
	return false;
}

/* A stack slot as the file spells it: [rsp+0x20]. */
static const char *slot_name(const struct term *t, char *buf, size_t len)
{
	snprintf(buf, len, "[%s%c0x%" PRIx64 "]", gpr_name(t->reg), t->off < 0 ? '-' : '+',
		 (uint64_t)(t->off < 0 ? -t->off : t->off));
	return buf;
}

/* "performEvictions+177" or "performEvictions+409|performEvictions+432". */
static void producers_name(const struct offsets *o, const struct term *t, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int k = 0; k < t->nfrom && used < len; k++) {
		char one[128];

		offsets_code_name(o, t->from[k], one, sizeof(one));
		used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? "|" : "", one);
	}
}

static bool listed(const struct term *t, uint64_t addr)
{
	for (int k = 0; k < t->nfrom; k++)
		if (t->from[k] == addr)
			return true;
	return false;
}

/*
 * A register term: the instructions reaching the site that write it are
 * exactly its producers, each an instruction of the function that can
 * leave a value in it.
 */
static int check_reg(const struct offsets *o, const struct flow *f, uint64_t site_addr, const char *what,
		     const char *site, const struct term *t, char *why, size_t len)
{
	uint64_t defs[OFFSETS_MAX_FROM + 1];
	char from[512], def[128];
	int ndefs, err;

	producers_name(o, t, from, sizeof(from));
	if (t->reg == GPR_RSP)
		return refuse(why, len, "%s at %s: rsp is the stack pointer, not a value", what, site);
	for (int k = 0; k < t->nfrom; k++) {
		const struct insn *producer = code_at(&f->code, t->from[k]);

		offsets_code_name(o, t->from[k], def, sizeof(def));
		if (!producer)
			return refuse(why, len, "%s at %s: the producer %s is no instruction of %s", what, site, def,
				      o->function);
		/* After a call only rax (and rdx) hold a result; the other caller-saved registers are junk. */
		if ((producer->flow == FLOW_CALL || producer->flow == FLOW_ICALL) && t->reg != GPR_RAX &&
		    t->reg != GPR_RDX)
			return refuse(why, len, "%s at %s: %s holds no result of the call at %s", what, site,
				      gpr_name(t->reg), def);
	}
	err = flow_reaching_defs(f, site_addr, t->reg, defs, OFFSETS_MAX_FROM + 1, &ndefs);
	if (err == -E2BIG)
		return refuse(why, len, "%s at %s: more than %d instructions set %s on the way to the site", what,
			      site, OFFSETS_MAX_FROM, gpr_name(t->reg));
	if (err)
		return refuse(why, len, "%s at %s: %s may not hold the value set at %s: %s", what, site,
			      gpr_name(t->reg), from, why_def(err));
	for (int k = 0; k < ndefs; k++) {
		if (listed(t, defs[k]))
			continue;
		offsets_code_name(o, defs[k], def, sizeof(def));
		return refuse(why, len, "%s at %s: %s is set by %s, not by the instruction%s the file names", what,
			      site, gpr_name(t->reg), def, t->nfrom > 1 ? "s" : "");
	}
	for (int k = 0; k < t->nfrom; k++) {
		bool reaches = false;

		for (int j = 0; j < ndefs; j++)
			reaches |= defs[j] == t->from[k];
		if (!reaches) {
			offsets_code_name(o, t->from[k], def, sizeof(def));
			return refuse(why, len, "%s at %s: %s, named as setting %s, does not reach the site", what,
				      site, def, gpr_name(t->reg));
		}
	}
	return 0;
}

/* A stack slot term: written by its one producer, and untouched from there to the site. */
static int check_slot(const struct offsets *o, const struct flow *f, uint64_t site_addr, const char *what,
		      const char *site, const struct term *t, char *why, size_t len)
{
	const struct insn *producer;
	char from[128], slot[48];
	int err;

	if (t->reg != GPR_RSP && t->reg != GPR_RBP)
		return refuse(why, len, "%s at %s: %s is not a stack slot (rsp or rbp)", what, site,
			      slot_name(t, slot, sizeof(slot)));
	if (t->nfrom != 1)
		return refuse(why, len, "%s at %s: a stack slot has one producer", what, site);
	offsets_code_name(o, t->from[0], from, sizeof(from));
	producer = code_at(&f->code, t->from[0]);
	if (!producer)
		return refuse(why, len, "%s at %s: the producer %s is no instruction of %s", what, site, from,
			      o->function);
	if ((producer->flow == FLOW_CALL || producer->flow == FLOW_ICALL)
	    ? !passes_slot(f, producer, t->reg, t->off) : !stores_slot(producer, t->reg, t->off))
		return refuse(why, len, "%s at %s: %s does not write %s", what, site, from,
			      slot_name(t, slot, sizeof(slot)));
	err = flow_slot_intact(f, site_addr, t->reg, t->off, t->from[0]);
	if (err)
		return refuse(why, len, "%s at %s: %s may not hold the value stored at %s: %s", what, site,
			      slot_name(t, slot, sizeof(slot)), from, why_def(err));
	return 0;
}

/* Every term of value E read at SITE_ADDR. */
static int check_expr(const struct offsets *o, const struct flow *f, uint64_t site_addr, const char *what,
		      struct expr *e, char *why, size_t len)
{
	char site[128];
	int err = 0;

	offsets_code_name(o, site_addr, site, sizeof(site));
	for (int i = 0; i < e->n && !err; i++) {
		struct term *t = &e->t[i];

		switch (t->kind) {
		case TERM_REG:
			err = check_reg(o, f, site_addr, what, site, t, why, len);
			break;
		case TERM_MEM:
			err = check_slot(o, f, site_addr, what, site, t, why, len);
			break;
		case TERM_GLOBAL:
			err = resolve_global(f->img, t->sym, t->sym[0] ? t->sym_off : t->off, (uint64_t *)&t->off,
					     what, why, len);
			break;
		case TERM_VAR:
		case TERM_CONST:
			break;
		}
	}
	return err;
}

/*
 * A value read from other variables is worked out at its slow-path site
 * from values read at that site or at an early one: one step, no cycles.
 */
static int check_derived(const struct offsets *o, enum var v, char *why, size_t len)
{
	const struct value_rec *r = &o->value[v];

	for (int i = 0; i < r->e.n; i++) {
		const struct term *t = &r->e.t[i];
		const struct value_rec *u;

		if (t->kind == TERM_CONST)
			return refuse(why, len, "%s: a value is no constant", var_name(v));
		if (t->kind != TERM_VAR)
			continue;
		u = &o->value[t->var];
		if (t->var == v || !u->present || expr_derived(&u->e))
			return refuse(why, len, "%s is worked out from %s, which %s", var_name(v), var_name(t->var),
				      t->var == v ? "is itself" : !u->present ? "the file does not have"
				      : "is worked out from others too");
		if (!o->site[r->site].slowpath || (u->site != r->site && !o->site[u->site].early))
			return refuse(why, len, "%s is worked out from %s: only at a slowpath site, from values read "
				      "there or at an early site", var_name(v), var_name(t->var));
	}
	return 0;
}

static int check_early(const struct evict_analysis *a, const struct offsets *o, const struct site_rec *s,
		       uint64_t slow, char *why, size_t len)
{
	char name[128];

	offsets_code_name(o, s->addr, name, sizeof(name));
	switch (evict_early(a, s->addr, slow)) {
	case 0:
		return 0;
	case -ELOOP:
		return refuse(why, len, "early site %s is in a loop: it can run more than once per call", name);
	case -ENOENT:
		return refuse(why, len, "early site %s is not on every path to the slow path", name);
	default:
		return refuse(why, len, "early site %s does not run exactly when mem_reported > maxmemory, before "
			      "the slow path", name);
	}
}

/* Exits: passed exactly once on every way out of the slow path, with the results the file says. */
static int check_exits(const struct analysis *an, const struct offsets *o, const struct flow *f, char *why,
		       size_t len)
{
	struct exit_site x[OFFSETS_MAX_EXITS];
	uint64_t slow = 0;

	/* The one check_sites_kinds has made sure of. */
	for (int i = 0; i < o->nsites; i++)
		if (o->site[i].slowpath)
			slow = o->site[i].addr;
	for (int i = 0; i < o->nexits; i++) {
		x[i].addr = o->exit[i].addr;
		memcpy(x[i].leaves, o->exit[i].leaves, sizeof(x[i].leaves));
		memcpy(x[i].result, o->exit[i].result, sizeof(x[i].result));
	}
	return exits_check(f, slow, !strcmp(an->evict.name, "freeMemoryIfNeeded"), x, o->nexits, why, len) ? -EINVAL
														: 0;
}

/*
 * Early sites and derived values belong with a slowpath site; values at an
 * early site are for it. Exits time calls from one slowpath site: the proof
 * covers the ways out from it, and a second would start the clock again.
 */
static int check_sites_kinds(const struct offsets *o, char *why, size_t len)
{
	int nslow = 0, nearly = 0;

	for (int i = 0; i < o->nsites; i++) {
		nslow += o->site[i].slowpath;
		nearly += o->site[i].early;
	}
	if (nearly && nslow != 1)
		return refuse(why, len, "early sites need exactly one slowpath site to hand their values to");
	if (o->nexits && nslow != 1)
		return refuse(why, len, "exits need exactly one slowpath site to time evicting calls from (the file "
			      "has %d)", nslow);
	return 0;
}

/*
 * What can only be checked by running the function: a slowpath site runs
 * only when mem_used > maxmemory, once per call (its hits count evicting
 * calls); an early site as check_early says; and every value is the
 * variable it names in every evicting run, where it is read.
 */
static int check_runs(struct analysis *an, const struct offsets *o, char *why, size_t len)
{
	const struct evict_analysis *a;
	uint64_t slow = 0;
	char name[128];
	int err;

	if (context_runs(an, o->global[G_MAXMEMORY].present ? o->global[G_MAXMEMORY].addr : 0, &a))
		return refuse(why, len, "cannot confirm the slow-path sites: %s", a->why);
	for (int i = 0; i < o->nsites; i++) {
		if (!o->site[i].slowpath)
			continue;
		offsets_code_name(o, o->site[i].addr, name, sizeof(name));
		if (!evict_only_evicting(a, o->site[i].addr))
			return refuse(why, len, "site %s is marked slowpath, but it does not run only when mem_used > "
				      "maxmemory", name);
		if (flow_on_cycle(a->flow, o->site[i].addr))
			return refuse(why, len, "site %s is marked slowpath, but it is in a loop: it can run more than "
				      "once per call", name);
		slow = o->site[i].addr;
	}
	for (int i = 0; i < o->nsites; i++)
		if (o->site[i].early && (err = check_early(a, o, &o->site[i], slow, why, len)))
			return err;
	for (int v = 0; v < NVARS; v++) {
		const struct value_rec *r = &o->value[v];
		const struct site_rec *s = &o->site[r->site];
		char e[128];

		if (!r->present || evict_check_at(a, s->addr, s->early, &r->e, (enum var)v))
			continue;
		offsets_code_name(o, s->addr, name, sizeof(name));
		expr_format(&r->e, e, sizeof(e));
		return refuse(why, len, "%s at %s: %s is not %s in every run of %s that evicts", var_name((enum var)v),
			      name, e, var_name((enum var)v), o->function);
	}
	return 0;
}

int analysis__verify(struct analysis *an, struct offsets *o, char *why, size_t len)
{
	const struct elf_image *img = an->img;
	const struct flow *f;
	struct elf_sym fn;
	int err;

	if (strcmp(o->build_id, img->build_id))
		return refuse(why, len, "the file is for build-id %s, the executable's is %s", o->build_id,
			      img->build_id[0] ? img->build_id : "(none)");
	if (elf_image__func(img, o->function, &fn))
		return refuse(why, len, "the executable has no single function %s", o->function);
	if (fn.addr != o->func_addr || fn.size != o->func_size)
		return refuse(why, len, "%s is at 0x%" PRIx64 " (%" PRIu64 " bytes) in the executable, "
			      "not 0x%" PRIx64 " (%" PRIu64 " bytes)", o->function, fn.addr, fn.size, o->func_addr,
			      o->func_size);
	if (fn.addr != an->evict.addr)
		return refuse(why, len, "%s is not the eviction function of this server (%s)", o->function,
			      an->evict.name);
	f = context_flow(an, &fn, &err);
	if (!f)
		return refuse(why, len, "%s cannot be read as code: %s", o->function, disasm_strerror(err));

	for (int i = 0; i < o->nsites && !err; i++)
		err = check_code(o, f, o->site[i].addr, o->site[i].file_offset, o->site[i].cls, o->site[i].insn,
				 "site", why, len);
	for (int i = 0; i < o->ndeletes && !err; i++)
		err = check_code(o, f, o->del[i].addr, o->del[i].file_offset, o->del[i].cls, o->del[i].insn,
				 "delete site", why, len);
	for (int i = 0; i < o->nexits && !err; i++)
		err = check_code(o, f, o->exit[i].addr, o->exit[i].file_offset, o->exit[i].cls, o->exit[i].insn, "exit",
				 why, len);
	for (int v = 0; v < NVARS && !err; v++) {
		struct value_rec *r = &o->value[v];

		if (!r->present)
			continue;
		err = check_expr(o, f, o->site[r->site].addr, var_name((enum var)v), &r->e, why, len);
		if (!err && expr_derived(&r->e))
			err = check_derived(o, (enum var)v, why, len);
	}
	for (int g = 0; g < NGLOBALS && !err; g++)
		if (o->global[g].present)
			err = resolve_global(img, o->global[g].sym, o->global[g].off, &o->global[g].addr,
					     global_name((enum global)g), why, len);
	if (!err)
		err = check_sites_kinds(o, why, len);
	for (int i = 0; i < o->nsites && !err; i++)
		if (o->site[i].slowpath)
			err = check_runs(an, o, why, len);
	/* Exits hang on a slow-path site proven to be one. */
	if (!err && o->nexits)
		err = check_exits(an, o, f, why, len);
	return err;
}
