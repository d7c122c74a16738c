// SPDX-License-Identifier: BSD-3-Clause
/*
 * site_dwarf.c: the dwarf strategy.
 *
 * Debug information is found through libdwfl's standard callbacks (in the
 * file, by build-id, by .gnu_debuglink). All addresses here are the
 * executable's link-time addresses: the DWARF is read with libdw directly,
 * never through a load bias.
 *
 * At a slow-path instruction a variable is read where its location list
 * says, or carried forward from the last place on the slow path that had
 * one when no instruction in between writes it (right after the inlined
 * body ends, DWARF often stops describing values still in registers), or
 * derived from the others through getMaxmemoryState()'s own identities.
 * Every answer is checked against the analysis's concrete runs.
 */
#include "config.h"

#include <dwarf.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "site_dwarf.h"
#include "util.h"

struct debuginfo {
	Dwfl *dwfl;
	Dwarf *dw;
	Dwarf_CFI *cfi;		/* .eh_frame of the executable, for frame bases */
	char *debuginfo_path;
	char source[PATH_MAX];
	bool inlined;
	Dwarf_Die fn;		/* the eviction function */
	Dwarf_Die inst;		/* entry instance of getMaxmemoryState */
	Dwarf_Die var[NVARS];	/* its variables */
	bool have_var[NVARS];
	Dwarf_Die caller[NVARS];	/* the function's own mem_reported, mem_tofree */
	bool have_caller[NVARS];
};

/* --------------------------------------------------------------------
 * Thin helpers over libdw
 * ------------------------------------------------------------------ */

/* A DIE's name, following DW_AT_abstract_origin and DW_AT_specification. */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;

	return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
}

static bool die_is(Dwarf_Die *die, int tag, const char *name)
{
	const char *n;

	if (dwarf_tag(die) != tag)
		return false;
	n = die_name(die);
	return n && !strcmp(n, name);
}

/* DWARF register number to register family (x86-64 psABI numbering). */
static enum gpr gpr_of_dwarf(unsigned n)
{
	static const enum gpr map[16] = {
		GPR_RAX, GPR_RDX, GPR_RCX, GPR_RBX, GPR_RSI, GPR_RDI, GPR_RBP, GPR_RSP,
		GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	};

	return n < 16 ? map[n] : GPR_NONE;
}

static const char *op_name(unsigned atom)
{
	switch (atom) {
	case DW_OP_entry_value: case DW_OP_GNU_entry_value: return "DW_OP_entry_value (the value on entry)";
	case DW_OP_implicit_pointer: case DW_OP_GNU_implicit_pointer: return "DW_OP_implicit_pointer";
	case DW_OP_GNU_parameter_ref: return "DW_OP_GNU_parameter_ref";
	case DW_OP_piece: return "DW_OP_piece (a value in pieces)";
	case DW_OP_deref: case DW_OP_deref_size: return "DW_OP_deref";
	case DW_OP_implicit_value: return "DW_OP_implicit_value (a constant)";
	case DW_OP_call_frame_cfa: return "DW_OP_call_frame_cfa";
	default:
		if ((atom >= DW_OP_lit0 && atom <= DW_OP_lit31) || (atom >= DW_OP_const1u && atom <= DW_OP_consts) ||
		    atom == DW_OP_constu)
			return "a constant (DW_OP_lit/const)";
		return "an operation redprof does not translate";
	}
}

/* --------------------------------------------------------------------
 * Opening
 * ------------------------------------------------------------------ */

int debuginfo_open(const struct elf_image *img, const char *root, struct debuginfo **out)
{
	struct debuginfo *d = xcalloc(1, sizeof(*d));
	const char *mainfile = NULL, *debugfile = NULL;
	static Dwfl_Callbacks cb = {
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.section_address = dwfl_offline_section_address,
	};
	Dwfl_Module *mod;
	Dwarf_Addr bias;
	Dwarf_Off off = 0, next;
	size_t hsize;

	*out = NULL;
	/* The target's own /usr/lib/debug first (a container), then the host's. */
	d->debuginfo_path = root ? xasprintf(":.debug:%s/usr/lib/debug:/usr/lib/debug", root)
				 : xstrdup(":.debug:/usr/lib/debug");
	cb.debuginfo_path = &d->debuginfo_path;
	d->dwfl = dwfl_begin(&cb);
	if (!d->dwfl)
		goto none;
	mod = dwfl_report_offline(d->dwfl, "target", img->path, -1);
	dwfl_report_end(d->dwfl, NULL, NULL);
	if (!mod)
		goto none;
	d->dw = dwfl_module_getdwarf(mod, &bias);
	if (!d->dw || dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL))
		goto none;
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
	snprintf(d->source, sizeof(d->source), "%s", debugfile && strcmp(debugfile, mainfile ? mainfile : "")
		 ? debugfile : "the executable itself");
	d->cfi = dwarf_getcfi_elf(img->elf);
	*out = d;
	return 0;
none:
	debuginfo_close(d);
	return -ENODATA;
}

void debuginfo_close(struct debuginfo *d)
{
	if (!d)
		return;
	if (d->cfi)
		dwarf_cfi_end(d->cfi);
	if (d->dwfl)
		dwfl_end(d->dwfl);
	free(d->debuginfo_path);
	free(d);
}

const char *debuginfo_source(const struct debuginfo *d)
{
	return d->source;
}

/* --------------------------------------------------------------------
 * Types and globals
 * ------------------------------------------------------------------ */

/*
 * The compile unit covering ADDR: through .debug_aranges when the compiler
 * wrote them (gcc does), else by asking each unit (clang writes none).
 */
static bool cu_at(struct debuginfo *d, uint64_t addr, Dwarf_Die *cu)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	if (dwarf_addrdie(d->dw, addr, cu))
		return true;
	while (!dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL)) {
		if (dwarf_offdie(d->dw, off + hsize, cu) && dwarf_haspc(cu, addr) == 1)
			return true;
		off = next;
	}
	return false;
}

/*
 * Calls VISIT on each child of DIE (and, INTO_BLOCKS, on the children of
 * its lexical blocks, not of nested functions) until one returns non-zero,
 * which the walk returns; 0 when none does. Every walk over the DIE tree
 * goes through here.
 */
static int die_walk(Dwarf_Die *die, bool into_blocks, int (*visit)(Dwarf_Die *c, void *arg), void *arg)
{
	Dwarf_Die c;
	int r;

	if (dwarf_child(die, &c))
		return 0;
	do {
		if (into_blocks && dwarf_tag(&c) == DW_TAG_lexical_block)
			r = die_walk(&c, true, visit, arg);
		else
			r = visit(&c, arg);
		if (r)
			return r;
	} while (!dwarf_siblingof(&c, &c));
	return 0;
}

/* What a walk looks for: the definition (not a declaration) of TAG called NAME, into OUT. */
struct named {
	int tag;
	const char *name;
	Dwarf_Die *out;
};

static int is_named_definition(Dwarf_Die *c, void *arg)
{
	struct named *n = arg;
	Dwarf_Attribute attr;

	if (!die_is(c, n->tag, n->name) || dwarf_attr(c, DW_AT_declaration, &attr))
		return 0;
	*n->out = *c;
	return 1;
}

/* The top-level DIE of the CU holding ADDR with TAG and NAME. */
static bool cu_child(struct debuginfo *d, uint64_t addr, int tag, const char *name, Dwarf_Die *out)
{
	struct named n = { tag, name, out };
	Dwarf_Die cu;

	return cu_at(d, addr, &cu) && die_walk(&cu, false, is_named_definition, &n);
}

struct member_search {
	const char *name;
	uint64_t off;
};

static int is_member(Dwarf_Die *c, void *arg)
{
	struct member_search *m = arg;
	Dwarf_Attribute attr;
	Dwarf_Word v;

	if (!die_is(c, DW_TAG_member, m->name) || !dwarf_attr(c, DW_AT_data_member_location, &attr) ||
	    dwarf_formudata(&attr, &v))
		return 0;
	m->off = v;
	return 1;
}

static bool member_offset(Dwarf_Die *type, const char *name, uint64_t *off)
{
	struct member_search m = { name, 0 };

	if (!die_walk(type, false, is_member, &m))
		return false;
	*off = m.off;
	return true;
}

struct member_die {
	const char *name;
	Dwarf_Die *out;
};

static int is_member_named(Dwarf_Die *c, void *arg)
{
	struct member_die *m = arg;

	if (!die_is(c, DW_TAG_member, m->name))
		return 0;
	*m->out = *c;
	return 1;
}

/* The offset of NAME in struct TYPE when it is an array of 8-byte elements. */
static bool member_elements8(Dwarf_Die *type, const char *name, uint64_t *off)
{
	Dwarf_Die mem, arr, elem;
	struct member_die m = { name, &mem };
	Dwarf_Attribute attr;
	Dwarf_Word size;

	if (!member_offset(type, name, off) || !die_walk(type, false, is_member_named, &m) ||
	    !dwarf_attr_integrate(&mem, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &arr) ||
	    dwarf_peel_type(&arr, &arr) || dwarf_tag(&arr) != DW_TAG_array_type ||
	    !dwarf_attr_integrate(&arr, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &elem) ||
	    dwarf_aggregate_size(&elem, &size))
		return false;
	return size == 8;
}

/* The offset of NAME in struct TYPE when it is an 8-byte field (a pointer, a 64-bit id). */
static bool member_word(Dwarf_Die *type, const char *name, uint64_t *off)
{
	Dwarf_Die mem, mtype;
	struct member_die m = { name, &mem };
	Dwarf_Attribute attr;
	Dwarf_Word size;

	if (!member_offset(type, name, off) || !die_walk(type, false, is_member_named, &m) ||
	    !dwarf_attr_integrate(&mem, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &mtype) ||
	    dwarf_aggregate_size(&mtype, &size))
		return false;
	return size == 8;
}

/* A variable's address when its location is DW_OP_addr and it is 8 bytes large. */
static bool variable_word(Dwarf_Die *var, uint64_t *addr)
{
	Dwarf_Attribute attr;
	Dwarf_Die type;
	Dwarf_Word size;
	Dwarf_Op *ops;
	size_t n;

	if (!dwarf_attr(var, DW_AT_location, &attr) || dwarf_getlocation(&attr, &ops, &n) || n != 1 ||
	    ops[0].atom != DW_OP_addr)
		return false;
	if (!dwarf_attr_integrate(var, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &type) ||
	    dwarf_aggregate_size(&type, &size) || size != 8)
		return false;
	*addr = ops[0].number;
	return true;
}

static void set_global(const struct elf_image *img, struct global_rec *g, uint64_t addr)
{
	const struct elf_sym *obj = elf_image__object_at(img, addr);

	g->present = true;
	g->addr = addr;
	g->strategy = STRATEGY_DWARF;
	if (obj && !strcmp(obj->name, "server")) {
		snprintf(g->sym, sizeof(g->sym), "server");
		g->off = (int64_t)(addr - obj->addr);
	} else {
		g->off = (int64_t)addr;
	}
}

/* A complete struct NAME: in the unit holding ADDR, else in any unit (LTO splits them). */
static bool find_struct(struct debuginfo *d, uint64_t addr, const char *name, Dwarf_Die *out)
{
	struct named n = { DW_TAG_structure_type, name, out };
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf_Die cu;

	if (cu_child(d, addr, DW_TAG_structure_type, name, out))
		return true;
	for (; !dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL); off = next)
		if (dwarf_offdie(d->dw, off + hsize, &cu) && die_walk(&cu, false, is_named_definition, &n))
			return true;
	return false;
}

void debuginfo_globals(struct debuginfo *d, const struct elf_image *img, struct global_rec g[NGLOBALS])
{
	static const struct { enum global g; const char *member; } fields[] = {
		{ G_MAXMEMORY, "maxmemory" },
		{ G_STAT_NUMCOMMANDS, "stat_numcommands" },
		{ G_STAT_EVICTEDKEYS, "stat_evictedkeys" },
		{ G_MAXMEMORY_POLICY, "maxmemory_policy" },
		{ G_CURRENT_CLIENT, "current_client" },
	};
	struct elf_sym server, fn, zm;
	Dwarf_Die type, var;
	uint64_t off, addr;
	bool have;

	have = !elf_image__object(img, "server", &server) &&
	       (!elf_image__func(img, "performEvictions", &fn) || !elf_image__func(img, "freeMemoryIfNeeded", &fn)) &&
	       (find_struct(d, fn.addr, "redisServer", &type) || find_struct(d, fn.addr, "valkeyServer", &type));
	for (size_t i = 0; have && i < ARRAY_SIZE(fields); i++)
		if (member_offset(&type, fields[i].member, &off) && off + 8 <= server.size)
			set_global(img, &g[fields[i].g], server.addr + off);
	/* CLIENT_TYPE_NORMAL's entry, the first, of an array of 8-byte counters. */
	if (have && member_elements8(&type, "stat_clients_type_memory", &off) && off + 8 <= server.size)
		set_global(img, &g[G_CLIENTS_MEMORY], server.addr + off);
	if (!elf_image__func(img, "zmalloc_used_memory", &zm) &&
	    cu_child(d, zm.addr, DW_TAG_variable, "used_memory", &var) && variable_word(&var, &addr))
		set_global(img, &g[G_USED_MEMORY], addr);
}

static void set_member(struct member_rec *r, uint64_t off)
{
	r->present = true;
	r->off = (int64_t)off;
	r->strategy = STRATEGY_DWARF;
}

void debuginfo_members(struct debuginfo *d, const struct elf_image *img, struct member_rec m[NMEMBERS])
{
	Dwarf_Die client, obj, cmd;
	struct elf_sym fn;
	uint64_t off;

	if (elf_image__func(img, "processCommand", &fn))
		return;
	if (find_struct(d, fn.addr, "client", &client)) {
		if (member_word(&client, "id", &off))
			set_member(&m[MB_CLIENT_ID], off);
		if (member_word(&client, "cmd", &off))
			set_member(&m[MB_CLIENT_CMD], off);
		if (member_word(&client, "name", &off))
			set_member(&m[MB_CLIENT_NAME], off);
	}
	if ((find_struct(d, fn.addr, "redisObject", &obj) || find_struct(d, fn.addr, "serverObject", &obj)) &&
	    member_word(&obj, "ptr", &off))
		set_member(&m[MB_OBJECT_PTR], off);
	/* Redis 7 and Valkey name a subcommand "client|setname" in fullname; Redis 6 has only name. */
	if ((find_struct(d, fn.addr, "redisCommand", &cmd) || find_struct(d, fn.addr, "serverCommand", &cmd)) &&
	    (member_word(&cmd, "fullname", &off) || member_word(&cmd, "name", &off)))
		set_member(&m[MB_COMMAND_NAME], off);
}

/* --------------------------------------------------------------------
 * The eviction function and its entry evaluation
 * ------------------------------------------------------------------ */

/* 2 + whether parameter C (of the name ARG) is NULL (all its locations are 0): 1 yes, 0 no, -1 unknown. */
static int null_param(Dwarf_Die *c, void *arg)
{
	Dwarf_Addr base, start, end;
	Dwarf_Attribute attr;
	Dwarf_Word w;
	Dwarf_Op *ops;
	size_t n;
	ptrdiff_t off = 0;
	int nulls = 0, others = 0;

	if (!die_is(c, DW_TAG_formal_parameter, arg))
		return 0;
	if (dwarf_attr(c, DW_AT_const_value, &attr))
		return 2 + (!dwarf_formudata(&attr, &w) && w == 0);
	if (!dwarf_attr(c, DW_AT_location, &attr))
		return 2 + -1;
	while ((off = dwarf_getlocations(&attr, off, &base, &start, &end, &ops, &n)) > 0) {
		if (n >= 1 && ops[0].atom == DW_OP_lit0)
			nulls++;
		else
			others++;
	}
	return 2 + (nulls && !others ? 1 : others ? 0 : -1);
}

/* Whether getMaxmemoryState's parameter PARAM is NULL in instance INST: 1 yes, 0 no, -1 unknown. */
static int param_is_null(Dwarf_Die *inst, const char *param)
{
	int r = die_walk(inst, false, null_param, (void *)param);

	return r ? r - 2 : -1;
}

/* The variables of interest found so far; CALLER_ONLY: only those the caller has (not inlined). */
struct var_search {
	Dwarf_Die *vars;
	bool *have;
	bool caller_only;
};

static int is_var(Dwarf_Die *c, void *arg)
{
	struct var_search *vs = arg;

	for (int v = 0; v < NVARS; v++) {
		if (vs->caller_only && v != VAR_MEM_REPORTED && v != VAR_MEM_TOFREE)
			continue;
		if (!vs->have[v] && die_is(c, DW_TAG_variable, var_name((enum var)v))) {
			vs->vars[v] = *c;
			vs->have[v] = true;
		}
	}
	return 0;
}

/* DIE's variables of interest, lexical blocks included (not nested inlined functions). */
static void collect_vars(Dwarf_Die *die, Dwarf_Die *vars, bool *have, bool caller_only)
{
	struct var_search vs = { vars, have, caller_only };

	die_walk(die, true, is_var, &vs);
}

struct instances {
	Dwarf_Die *out;
	int max, n;
};

static int is_instance(Dwarf_Die *c, void *arg)
{
	struct instances *in = arg;

	if (die_is(c, DW_TAG_inlined_subroutine, "getMaxmemoryState") && in->n < in->max)
		in->out[in->n++] = *c;
	return 0;
}

/* The inlined instances of getMaxmemoryState under DIE (lexical blocks included). */
static void find_instances(Dwarf_Die *die, Dwarf_Die *out, int max, int *n)
{
	struct instances in = { out, max, *n };

	die_walk(die, true, is_instance, &in);
	*n = in.n;
}

int debuginfo_prepare(struct debuginfo *d, const struct evict_analysis *a, char *why, size_t len)
{
	Dwarf_Die cu, inst[16];
	int ninst = 0, entry = -1;

	if (!cu_at(d, a->flow->fn.addr, &cu)) {
		snprintf(why, len, "DWARF has no compile unit covering %s", a->flow->fn.name);
		return -ENOENT;
	}
	/*
	 * By name in the unit holding the code: where clang starts the inlined
	 * body at the function's first byte, dwarf_getscopes() there gives the
	 * inlined function's abstract scopes, not the function.
	 */
	if (!cu_child(d, a->flow->fn.addr, DW_TAG_subprogram, a->flow->fn.name, &d->fn)) {
		snprintf(why, len, "DWARF has no subprogram for %s", a->flow->fn.name);
		return -ENOENT;
	}
	collect_vars(&d->fn, d->caller, d->have_caller, true);
	d->inlined = a->inlined;
	if (!d->inlined) {
		if (!d->have_caller[VAR_MEM_REPORTED] || !d->have_caller[VAR_MEM_TOFREE]) {
			snprintf(why, len, "DWARF does not describe %s's mem_reported and mem_tofree", a->flow->fn.name);
			return -ENOENT;
		}
		return 0;
	}

	/*
	 * The entry evaluation passes &mem_reported as `total`; the lazy-free
	 * checks pass NULL. Compilers describe a NULL argument (a constant 0)
	 * but may leave a pointer argument out, so every instance not known to
	 * get NULL is a candidate, and the one holding the code's entry
	 * evaluation must be the only such candidate.
	 */
	find_instances(&d->fn, inst, 16, &ninst);
	entry = -1;
	for (int i = 0; i < ninst; i++) {
		if (param_is_null(&inst[i], "total") == 1 || dwarf_haspc(&inst[i], a->producer) != 1)
			continue;
		if (entry >= 0) {
			snprintf(why, len, "two inlined getMaxmemoryState instances hold the entry evaluation");
			return -EEXIST;
		}
		entry = i;
	}
	if (entry < 0) {
		snprintf(why, len, "no inlined getMaxmemoryState in %s with a non-NULL total holds the entry "
			 "evaluation at 0x%" PRIx64, a->flow->fn.name, a->producer);
		return -ENOENT;
	}
	d->inst = inst[entry];
	collect_vars(&d->inst, d->var, d->have_var, false);
	return 0;
}

/* --------------------------------------------------------------------
 * Locations
 * ------------------------------------------------------------------ */

/* The CFA at PC as a register plus an offset (.eh_frame's usual rule). */
static int cfa_at(struct debuginfo *d, uint64_t pc, enum gpr *reg, int64_t *off)
{
	Dwarf_Frame *frame;
	Dwarf_Op *ops;
	size_t n;
	int err = -ENOENT;

	if (!d->cfi || dwarf_cfi_addrframe(d->cfi, pc, &frame))
		return -ENOENT;
	if (!dwarf_frame_cfa(frame, &ops, &n) && n == 1) {
		if (ops[0].atom == DW_OP_bregx && gpr_of_dwarf((unsigned)ops[0].number) != GPR_NONE) {
			*reg = gpr_of_dwarf((unsigned)ops[0].number);
			*off = (int64_t)ops[0].number2;
			err = 0;
		} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg15) {
			*reg = gpr_of_dwarf(ops[0].atom - DW_OP_breg0);
			*off = (int64_t)ops[0].number;
			err = 0;
		}
	}
	free(frame);
	return err;
}

/* DW_AT_frame_base of the function, as an offset from the CFA. */
static int frame_base(struct debuginfo *d, int64_t *from_cfa)
{
	Dwarf_Attribute attr;
	Dwarf_Op *ops;
	size_t n;

	if (!dwarf_attr_integrate(&d->fn, DW_AT_frame_base, &attr) || dwarf_getlocation(&attr, &ops, &n) ||
	    n != 1 || ops[0].atom != DW_OP_call_frame_cfa)
		return -ENOTSUP;
	*from_cfa = 0;
	return 0;
}

/* Translates one DWARF expression at PC into the file's form. */
static int translate(struct debuginfo *d, const Dwarf_Op *ops, size_t n, uint64_t pc, struct expr *e,
		     char *why, size_t len)
{
	int64_t cfa, fb;
	enum gpr base;

	memset(e, 0, sizeof(*e));
	if (n == 1 && ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg15) {
		e->t[e->n++] = (struct term){ .kind = TERM_REG, .sign = 1, .reg = gpr_of_dwarf(ops[0].atom - DW_OP_reg0) };
		return 0;
	}
	if (n == 1 && ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg15) {
		e->t[e->n++] = (struct term){ .kind = TERM_MEM, .sign = 1, .reg = gpr_of_dwarf(ops[0].atom - DW_OP_breg0),
					      .off = (int64_t)ops[0].number };
		return 0;
	}
	if (n == 1 && ops[0].atom == DW_OP_fbreg) {
		if (frame_base(d, &fb) || cfa_at(d, pc, &base, &cfa)) {
			snprintf(why, len, "a frame-based location, and no register-relative frame here");
			return -ENOTSUP;
		}
		e->t[e->n++] = (struct term){ .kind = TERM_MEM, .sign = 1, .reg = base,
					      .off = cfa + fb + (int64_t)ops[0].number };
		return 0;
	}
	if (n == 1 && ops[0].atom == DW_OP_addr) {
		e->t[e->n++] = (struct term){ .kind = TERM_GLOBAL, .sign = 1, .off = (int64_t)ops[0].number };
		return 0;
	}
	/* A computed value: register pushes combined by plus and minus, then DW_OP_stack_value. */
	if (n >= 2 && ops[n - 1].atom == DW_OP_stack_value) {
		struct term stack[OFFSETS_MAX_TERMS * 2];
		int depth[OFFSETS_MAX_TERMS * 2];	/* terms in each stack entry */
		int sp = 0, nterms = 0;

		for (size_t i = 0; i + 1 < n; i++) {
			unsigned atom = ops[i].atom;

			if (atom >= DW_OP_breg0 && atom <= DW_OP_breg15 && ops[i].number == 0 && sp < 6 &&
			    nterms < OFFSETS_MAX_TERMS * 2) {
				stack[nterms] = (struct term){ .kind = TERM_REG, .sign = 1,
							       .reg = gpr_of_dwarf(atom - DW_OP_breg0) };
				depth[sp++] = 1;
				nterms++;
			} else if ((atom == DW_OP_plus || atom == DW_OP_minus) && sp >= 2) {
				/* The top entry's terms change sign for a minus, then the two entries merge. */
				if (atom == DW_OP_minus)
					for (int k = nterms - depth[sp - 1]; k < nterms; k++)
						stack[k].sign = -stack[k].sign;
				depth[sp - 2] += depth[sp - 1];
				sp--;
			} else {
				snprintf(why, len, "%s in a computed location", op_name(atom));
				return -ENOTSUP;
			}
		}
		if (sp != 1 || nterms > OFFSETS_MAX_TERMS) {
			snprintf(why, len, "a computed location with more than %d terms", OFFSETS_MAX_TERMS);
			return -ENOTSUP;
		}
		for (int k = 0; k < nterms; k++)
			e->t[e->n++] = stack[k];
		return 0;
	}
	snprintf(why, len, "%s", op_name(ops[0].atom));
	return -ENOTSUP;
}

/* V's DWARF location at PC, from the entry instance or (failing that) the caller. */
static int location_at(struct debuginfo *d, enum var v, uint64_t pc, struct expr *e, char *why, size_t len)
{
	Dwarf_Die *dies[2] = { d->have_var[v] ? &d->var[v] : NULL, d->have_caller[v] ? &d->caller[v] : NULL };
	int err = -ENOENT;

	for (int i = 0; i < 2; i++) {
		Dwarf_Attribute attr;
		Dwarf_Op *ops;
		size_t n;

		if (!dies[i] || !dwarf_attr(dies[i], DW_AT_location, &attr) ||
		    dwarf_getlocation_addr(&attr, pc, &ops, &n, 1) != 1)
			continue;
		err = translate(d, ops, n, pc, e, why, len);
		if (!err)
			return 0;
	}
	if (err == -ENOENT)
		snprintf(why, len, "no DWARF location for %s at 0x%" PRIx64, var_name(v), pc);
	return err;
}

/* Fills in the producers of E's terms at SITE, proving each; false when one cannot be. */
static bool set_producers(const struct evict_analysis *a, size_t cand, struct expr *e)
{
	uint64_t site = a->cand[cand];

	for (int i = 0; i < e->n; i++) {
		struct term *t = &e->t[i];

		if (t->kind == TERM_REG) {
			if (flow_reaching_def(a->flow, site, t->reg, &t->from[0]))
				return false;
			t->nfrom = 1;
		} else if (t->kind == TERM_MEM) {
			struct emu st;
			size_t k;

			for (k = 0; k < a->nsc && !a->sc[k].evicts; k++)
				;
			if (k == a->nsc || evict_state(a, k, cand, &st))
				return false;
			t->from[0] = emu_mem_writer(&st, st.regs.r[t->reg] + (uint64_t)t->off);
			t->nfrom = 1;
			evict_state_free(&st);
			if (!t->from[0] || flow_slot_intact(a->flow, site, t->reg, t->off, t->from[0]))
				return false;
		}
	}
	return true;
}

/* The last place on the slow path's run before CAND where V had a location still intact at CAND. */
static int carried(struct debuginfo *d, const struct evict_analysis *a, size_t cand, enum var v, struct expr *e)
{
	const struct scenario *s = NULL;
	char why[128];

	for (size_t k = 0; k < a->nsc && !s; k++)
		if (a->sc[k].evicts)
			s = &a->sc[k];
	for (size_t i = s->slow_step + cand; i-- > 0;) {
		uint16_t written = 0;

		if (location_at(d, v, s->run.trace[i].addr, e, why, sizeof(why)))
			continue;
		/* Nothing from there to the candidate may write a register the location reads. */
		for (size_t j = i; j < s->slow_step + cand; j++)
			written |= code_at(&a->flow->code, s->run.trace[j].addr)->writes;
		for (int t = 0; t < e->n; t++)
			if (e->t[t].kind != TERM_GLOBAL && (written & GPR_BIT(e->t[t].reg)))
				return -ENOENT;
		return 0;
	}
	return -ENOENT;
}

static bool append(struct expr *dst, const struct expr *src, int sign)
{
	for (int i = 0; i < src->n; i++) {
		struct term t = src->t[i];

		t.sign *= sign;
		/* x - x cancels */
		for (int k = 0; k < dst->n; k++) {
			struct term *u = &dst->t[k];

			if (u->kind == t.kind && u->reg == t.reg && u->off == t.off && u->sign == -t.sign) {
				*u = dst->t[--dst->n];
				goto next;
			}
		}
		if (dst->n == OFFSETS_MAX_TERMS)
			return false;
		dst->t[dst->n++] = t;
next:;
	}
	return true;
}

/* A + sa*B, as getMaxmemoryState's identities allow. */
static bool combine(const struct expr *x, const struct expr *y, int sy, struct expr *out)
{
	memset(out, 0, sizeof(*out));
	return append(out, x, 1) && append(out, y, sy);
}

static int direct(struct debuginfo *d, const struct evict_analysis *a, size_t cand, enum var v, struct expr *e,
		  char *why, size_t len)
{
	if (!location_at(d, v, a->cand[cand], e, why, len) && set_producers(a, cand, e) &&
	    evict_check(a, cand, e, v))
		return 0;
	if (!carried(d, a, cand, v, e) && set_producers(a, cand, e) && evict_check(a, cand, e, v))
		return 0;
	return -ENOENT;
}

int debuginfo_locate(struct debuginfo *d, const struct evict_analysis *a, size_t cand, enum var v,
		     struct expr *out, char *why, size_t len)
{
	struct expr x[NVARS], mm = { .n = 1 };
	bool have[NVARS];
	char w[256] = "";

	if (!direct(d, a, cand, v, out, why, len))
		return 0;
	snprintf(w, sizeof(w), "%s", why);
	for (int u = 0; u < NVARS; u++)
		have[u] = u != (int)v && !direct(d, a, cand, (enum var)u, &x[u], why, len);
	mm.t[0] = (struct term){ .kind = TERM_GLOBAL, .sign = 1, .off = (int64_t)a->maxmemory };

	/* mem_reported = mem_used + overhead; mem_used = mem_tofree + maxmemory (on the slow path). */
	switch (v) {
	case VAR_MEM_REPORTED:
		if (have[VAR_MEM_USED] && have[VAR_OVERHEAD] && combine(&x[VAR_MEM_USED], &x[VAR_OVERHEAD], 1, out))
			break;
		goto none;
	case VAR_OVERHEAD:
		if (have[VAR_MEM_REPORTED] && have[VAR_MEM_USED] &&
		    combine(&x[VAR_MEM_REPORTED], &x[VAR_MEM_USED], -1, out))
			break;
		if (have[VAR_MEM_REPORTED] && have[VAR_MEM_TOFREE]) {
			struct expr t;

			if (combine(&x[VAR_MEM_REPORTED], &x[VAR_MEM_TOFREE], -1, &t) && combine(&t, &mm, -1, out))
				break;
		}
		goto none;
	case VAR_MEM_USED:
		if (have[VAR_MEM_TOFREE] && combine(&x[VAR_MEM_TOFREE], &mm, 1, out))
			break;
		if (have[VAR_MEM_REPORTED] && have[VAR_OVERHEAD] &&
		    combine(&x[VAR_MEM_REPORTED], &x[VAR_OVERHEAD], -1, out))
			break;
		goto none;
	case VAR_MEM_TOFREE:
		if (have[VAR_MEM_USED] && combine(&x[VAR_MEM_USED], &mm, -1, out))
			break;
		goto none;
	default:
		goto none;
	}
	if (evict_check(a, cand, out, v))
		return 0;
none:
	snprintf(why, len, "%s", w);
	return -ENOENT;
}
