// SPDX-License-Identifier: BSD-3-Clause
/*
 * site_verify.c: proving an offset file safe for one executable.
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

#include "evict_analysis.h"
#include "flow.h"
#include "site_verify.h"

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

static int check_value(struct offsets *o, const struct flow *f, enum var v, char *why, size_t len)
{
	struct value_rec *r = &o->value[v];
	const struct site_rec *s = &o->site[r->site];
	char site[128], from[128], slot[48];

	offsets_code_name(o, s->addr, site, sizeof(site));
	for (int i = 0; i < r->e.n; i++) {
		struct term *t = &r->e.t[i];
		uint64_t def;
		int err;

		const struct insn *producer = code_at(&f->code, t->from);

		switch (t->kind) {
		case TERM_REG:
			offsets_code_name(o, t->from, from, sizeof(from));
			if (!producer)
				return refuse(why, len, "%s at %s: the producer %s is no instruction of %s", var_name(v),
					      site, from, o->function);
			if (t->reg == GPR_RSP)
				return refuse(why, len, "%s at %s: rsp is the stack pointer, not a value", var_name(v), site);
			err = flow_reaching_def(f, s->addr, t->reg, &def);
			if (!err && def != t->from) {
				offsets_code_name(o, def, from, sizeof(from));
				return refuse(why, len, "%s at %s: %s is set by %s, not by the instruction the file names",
					      var_name(v), site, gpr_name(t->reg), from);
			}
			if (err)
				return refuse(why, len, "%s at %s: %s may not hold the value set at %s: %s",
					      var_name(v), site, gpr_name(t->reg), from, why_def(err));
			/* After a call only rax (and rdx) hold a result; the other caller-saved registers are junk. */
			if ((producer->flow == FLOW_CALL || producer->flow == FLOW_ICALL) && t->reg != GPR_RAX &&
			    t->reg != GPR_RDX)
				return refuse(why, len, "%s at %s: %s holds no result of the call at %s", var_name(v),
					      site, gpr_name(t->reg), from);
			break;
		case TERM_MEM:
			offsets_code_name(o, t->from, from, sizeof(from));
			if (t->reg != GPR_RSP && t->reg != GPR_RBP)
				return refuse(why, len, "%s at %s: %s is not a stack slot (rsp or rbp)", var_name(v),
					      site, slot_name(t, slot, sizeof(slot)));
			if (!producer)
				return refuse(why, len, "%s at %s: the producer %s is no instruction of %s", var_name(v),
					      site, from, o->function);
			if ((producer->flow == FLOW_CALL || producer->flow == FLOW_ICALL)
			    ? !passes_slot(f, producer, t->reg, t->off) : !stores_slot(producer, t->reg, t->off))
				return refuse(why, len, "%s at %s: %s does not write %s", var_name(v), site, from,
					      slot_name(t, slot, sizeof(slot)));
			err = flow_slot_intact(f, s->addr, t->reg, t->off, t->from);
			if (err)
				return refuse(why, len, "%s at %s: %s may not hold the value stored at %s: %s",
					      var_name(v), site, slot_name(t, slot, sizeof(slot)), from, why_def(err));
			break;
		case TERM_GLOBAL:
			if (resolve_global(f->img, t->sym, t->sym[0] ? t->sym_off : t->off, (uint64_t *)&t->off,
					   var_name(v), why, len))
				return -EINVAL;
			break;
		}
	}
	return 0;
}

/*
 * A slowpath site must run only when mem_used > maxmemory: its hits count
 * evicting calls and its values are those of the eviction path. Checked by
 * running the function in evicting and non-evicting scenarios.
 */
static int check_slowpath(const struct offsets *o, const struct elf_image *img, const struct elf_sym *fn,
			  char *why, size_t len)
{
	struct evict_analysis a;
	char name[128];
	int err = 0;

	if (evict_analyse(img, fn, o->global[G_MAXMEMORY].present ? o->global[G_MAXMEMORY].addr : 0, &a)) {
		err = refuse(why, len, "cannot confirm the slow-path sites: %s", a.why);
		goto out;
	}
	for (int i = 0; i < o->nsites && !err; i++) {
		if (!o->site[i].slowpath || analysis_only_evicting(&a, o->site[i].addr))
			continue;
		offsets_code_name(o, o->site[i].addr, name, sizeof(name));
		err = refuse(why, len, "site %s is marked slowpath, but it does not run only when mem_used > "
			     "maxmemory", name);
	}
out:
	evict_analysis_free(&a);
	return err;
}

int offsets_verify(struct offsets *o, const struct elf_image *img, char *why, size_t len)
{
	struct elf_sym fn;
	struct flow f;
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
	err = flow_build(img, &fn, &f);
	if (err)
		return refuse(why, len, "%s cannot be read as code: %s", o->function, disasm_strerror(err));

	for (int i = 0; i < o->nsites && !err; i++)
		err = check_code(o, &f, o->site[i].addr, o->site[i].file_offset, o->site[i].cls, o->site[i].insn,
				 "site", why, len);
	for (int i = 0; i < o->ndeletes && !err; i++)
		err = check_code(o, &f, o->del[i].addr, o->del[i].file_offset, o->del[i].cls, o->del[i].insn,
				 "delete site", why, len);
	for (int v = 0; v < NVARS && !err; v++)
		if (o->value[v].present)
			err = check_value(o, &f, (enum var)v, why, len);
	for (int g = 0; g < NGLOBALS && !err; g++)
		if (o->global[g].present)
			err = resolve_global(img, o->global[g].sym, o->global[g].off, &o->global[g].addr,
					     global_name((enum global)g), why, len);
	flow_free(&f);
	for (int i = 0; i < o->nsites && !err; i++)
		if (o->site[i].slowpath) {
			err = check_slowpath(o, img, &fn, why, len);
			break;
		}
	return err;
}
