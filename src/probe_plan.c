// SPDX-License-Identifier: BSD-3-Clause
/*
 * probe_plan.c: choosing probe sites from symbols.
 *
 * The uretprobe must sit at the function's first instruction (it hijacks
 * the return address there); the entry probe shares that breakpoint, so
 * one trap serves both. For command counting any instruction that every
 * call runs exactly once will do, and an emulated one costs ~1 us where a
 * single-stepped one costs 15-20 us, so it is chosen among those.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "probe_plan.h"
#include "util.h"

const char *site_class_name(int cls)
{
	switch (cls) {
	case SITE_EMULATED: return "emulated";
	case SITE_SINGLE_STEPPED: return "single-stepped";
	default: return "return";
	}
}

double site_class_hit_ns(int cls)
{
	switch (cls) {
	case SITE_EMULATED: return 1000;
	case SITE_SINGLE_STEPPED: return 17000;
	default: return 2000;
	}
}

static struct plan_site *plan_push(struct probe_plan *plan)
{
	if (plan->n >= EV_MAX_SITES)
		return NULL;
	memset(&plan->site[plan->n], 0, sizeof(plan->site[0]));
	return &plan->site[plan->n++];
}

static int site_at(struct plan_site *s, const struct target *t, const struct elf_sym *fn, uint64_t addr)
{
	struct code_line line;
	int err;

	err = elf_image__file_offset(t->img, addr, &s->file_offset);
	if (!err)
		err = analysis__site(t->an, fn, addr, &line);
	if (err)
		return err;
	s->addr = addr;
	s->fn = *fn;
	s->cls = line.cls == INSN_EMULATED ? SITE_EMULATED : SITE_SINGLE_STEPPED;
	s->spec.cc = (__u8)line.cc;
	if (addr == fn->addr)
		snprintf(s->name, sizeof(s->name), "%s", fn->name);
	else
		snprintf(s->name, sizeof(s->name), "%s+%llu", fn->name, (unsigned long long)(addr - fn->addr));
	return 0;
}

/* pt_regs index of a register family. */
static __u8 ev_reg_of(enum gpr r)
{
	static const __u8 map[GPR_N] = {
		[GPR_RAX] = EV_RAX, [GPR_RCX] = EV_RCX, [GPR_RDX] = EV_RDX, [GPR_RBX] = EV_RBX,
		[GPR_RSP] = EV_RSP, [GPR_RBP] = EV_RBP, [GPR_RSI] = EV_RSI, [GPR_RDI] = EV_RDI,
		[GPR_R8] = EV_R8, [GPR_R9] = EV_R9, [GPR_R10] = EV_R10, [GPR_R11] = EV_R11,
		[GPR_R12] = EV_R12, [GPR_R13] = EV_R13, [GPR_R14] = EV_R14, [GPR_R15] = EV_R15,
	};

	return map[r];
}

/* The kernel's form of an expression; globals become runtime addresses. */
static int ev_expr_of(const struct expr *e, const struct target *t, struct ev_expr *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < e->n; i++) {
		const struct term *term = &e->t[i];
		struct ev_term *k = &out->t[i];

		k->sign = (__s8)term->sign;
		switch (term->kind) {
		case TERM_REG:
			k->kind = EV_TERM_REG;
			k->reg = ev_reg_of(term->reg);
			break;
		case TERM_MEM:
			k->kind = EV_TERM_MEM_REG;
			k->reg = ev_reg_of(term->reg);
			k->off = term->off;
			break;
		case TERM_GLOBAL:
			if (!t->bias_known)
				return -ENOENT;
			k->kind = EV_TERM_MEM_ABS;
			k->off = (__s64)((uint64_t)term->off + t->bias);
			break;
		case TERM_VAR:
			k->kind = EV_TERM_VAR;
			k->reg = (__u8)term->var;
			break;
		case TERM_CONST:
			k->kind = EV_TERM_CONST;
			k->off = term->off;
			break;
		}
	}
	return 0;
}

/* V's value kept from the early site where the file reads it. */
static void kept_value(struct ev_site *spec, enum var v)
{
	spec->expr[v] = (struct ev_expr){ .t[0] = { .kind = EV_TERM_VAR, .sign = 1, .reg = (__u8)v } };
	spec->vars |= 1U << v;
	spec->derived |= 1U << v;
}

_Static_assert((int)VAR_MEM_REPORTED == (int)EV_MEM_REPORTED && (int)VAR_OVERHEAD == (int)EV_OVERHEAD &&
	       (int)VAR_MEM_USED == (int)EV_MEM_USED && (int)VAR_MEM_TOFREE == (int)EV_MEM_TOFREE &&
	       (int)NVARS == (int)EV_NVARS, "the offset file's variables are the kernel's, in its order");
_Static_assert(X86_CC_ALWAYS == EV_CC_ALWAYS && (int)EDGE_TAKEN == (int)EV_WAY_TAKEN && (int)EDGE_NEXT == (int)EV_WAY_NEXT,
	       "the kernel's jump conditions and ways are the analyser's");

/*
 * Exits of the eviction path, for the light plan's clock and the calls'
 * outcomes. One at the slow-path site is that site's own probe.
 */
static int plan_exits(struct probe_plan *plan, const struct target *t, const struct offsets *o)
{
	for (int i = 0; i < o->nexits; i++) {
		const struct exit_rec *x = &o->exit[i];
		struct plan_site *s = NULL;
		int err = 0;

		for (size_t k = 0; k < plan->n; k++)
			if (plan->site[k].addr == x->addr && (plan->site[k].spec.flags & EV_SITE_SLOWPATH))
				s = &plan->site[k];
		if (!s) {
			s = plan_push(plan);
			if (!s)
				return -E2BIG;
			err = site_at(s, t, &t->evict, x->addr);
			s->spec.kind = EV_SITE_EXIT;
		}
		if (s->spec.cc > EV_CC_ALWAYS)
			return -EINVAL;
		for (int e = 0; e < NEDGES && !err; e++)
			if (x->leaves[e]) {
				s->spec.leaves |= (__u8)(1U << e);
				err = ev_expr_of(&x->result[e], t, &s->spec.result[e]);
			}
		if (err)
			return err;
	}
	return 0;
}

bool plan_can_be_light(const struct offsets *o, char *why, size_t len)
{
	bool slow = false, early = false;

	for (int i = 0; i < o->nsites; i++) {
		slow |= o->site[i].slowpath;
		early |= o->site[i].early;
	}
	if (!slow)
		snprintf(why, len, "the offset file has no slow-path site to time evicting calls from");
	else if (!o->nexits)
		snprintf(why, len, "the offset file has no exit sites (format 1, or exits that cannot be proven for "
			 "this build)");
	else if (early)
		snprintf(why, len, "the offset file reads values before the slow path (an early site), where calls "
			 "that do not evict pass too");
	else if (!o->global[G_STAT_NUMCOMMANDS].present)
		snprintf(why, len, "the offset file does not say where the server counts commands, which the light "
			 "plan reads instead of probing every call");
	else
		return true;
	return false;
}

void plan_add_sums(struct probe_plan *plan, const struct target *t)
{
	static const char *const getters[EV_NSUMS] = {
		[EV_SUM_USED_MEMORY] = "zmalloc_used_memory",
		[EV_SUM_LAZYFREE_PENDING] = "lazyfreeGetPendingObjectsCount",
	};

	for (int i = 0; i < EV_NSUMS; i++) {
		struct plan_sum *ps = &plan->sum[i];
		struct counter_sum cs;

		memset(ps, 0, sizeof(*ps));
		if (!t->bias_known) {
			snprintf(ps->why, sizeof(ps->why), "the target's load bias is unknown, so %s's counters "
				 "cannot be found in its memory", getters[i]);
			continue;
		}
		if (analysis__counter_sum(t->an, getters[i], &cs, ps->why, sizeof(ps->why)))
			continue;
		ps->known = true;
		ps->spec.base = cs.base + t->bias;
		ps->spec.stride = cs.stride;
		ps->spec.count = cs.count ? cs.count + t->bias : 0;
		ps->spec.extra = cs.extra ? cs.extra + t->bias : 0;
		ps->spec.count_size = (__u32)cs.count_size;
		ps->spec.cap = cs.cap;
		ps->spec.count_signed = cs.count_signed;
		ps->spec.capped = cs.capped;
	}
}

/* The client and command of each round, when the file has current_client and every member. */
static void plan_payers(struct plan_payers *pp, const struct target *t, const struct offsets *o)
{
	const struct global_rec *cc = &o->global[G_CURRENT_CLIENT];
	const struct member_rec *m = o->member;

	memset(pp, 0, sizeof(*pp));
	if (!cc->present) {
		snprintf(pp->why, sizeof(pp->why), "the offset file does not say where server.current_client is "
			 "(neither debug information nor this build's code showed it: generate the file where the "
			 "server's debug symbols are installed)");
		return;
	}
	for (int i = 0; i < NMEMBERS; i++)
		if (!m[i].present) {
			snprintf(pp->why, sizeof(pp->why), "the offset file does not give the struct member %s",
				 member_name((enum member)i));
			return;
		}
	if (!t->bias_known) {
		snprintf(pp->why, sizeof(pp->why), "the target's load bias is unknown, so server.current_client "
			 "cannot be found in its memory");
		return;
	}
	pp->known = true;
	pp->spec.current_client = cc->addr + t->bias;
	pp->spec.id_off = (__u64)m[MB_CLIENT_ID].off;
	pp->spec.cmd_off = (__u64)m[MB_CLIENT_CMD].off;
	pp->spec.name_off = (__u64)m[MB_CLIENT_NAME].off;
	pp->spec.ptr_off = (__u64)m[MB_OBJECT_PTR].off;
	pp->spec.cmdname_off = (__u64)m[MB_COMMAND_NAME].off;
}

static void plan_global(struct plan_global *g, const struct global_rec *r)
{
	g->known = r->present;
	g->addr = r->addr;
}

int plan_add_offsets(struct probe_plan *plan, const struct target *t, const struct offsets *o)
{
	const struct elf_sym *fn = &t->evict;	/* the file's function: it was verified against the binary */
	int err;

	plan_global(&plan->maxmemory, &o->global[G_MAXMEMORY]);
	plan_global(&plan->numcommands, &o->global[G_STAT_NUMCOMMANDS]);
	plan_global(&plan->evictedkeys, &o->global[G_STAT_EVICTEDKEYS]);
	plan_global(&plan->used_memory, &o->global[G_USED_MEMORY]);
	plan_global(&plan->policy, &o->global[G_MAXMEMORY_POLICY]);
	plan_global(&plan->clients_memory, &o->global[G_CLIENTS_MEMORY]);
	plan_payers(&plan->payers, t, o);
	for (int i = 0; i < o->nsites; i++) {
		const struct site_rec *sr = &o->site[i];
		struct plan_site *s = plan_push(plan);

		if (!s)
			return -E2BIG;
		err = site_at(s, t, fn, sr->addr);
		if (err)
			return err;
		s->spec.kind = EV_SITE_VALUES;
		s->spec.flags = (sr->slowpath ? EV_SITE_SLOWPATH : 0) | (sr->early ? EV_SITE_EARLY : 0);
		plan->slowpath |= sr->slowpath;
		for (int v = 0; v < NVARS; v++) {
			const struct value_rec *r = &o->value[v];

			if (!r->present)
				continue;
			/* The slow-path site counts what an early site read on the way. */
			if (sr->slowpath && r->site != i && o->site[r->site].early) {
				kept_value(&s->spec, (enum var)v);
				continue;
			}
			if (r->site != i || ev_expr_of(&r->e, t, &s->spec.expr[v]))
				continue;
			s->spec.vars |= 1U << v;
			if (expr_derived(&r->e))
				s->spec.derived |= 1U << v;
			if (!sr->early)
				plan->var_mask |= 1U << v;
		}
	}
	/* A value kept from an early site whose expression could not be planned is no value. */
	for (size_t i = 0; i < plan->n; i++)
		if (plan->site[i].spec.flags & EV_SITE_SLOWPATH) {
			plan->var_mask |= plan->site[i].spec.vars;
			plan->round_vars |= plan->site[i].spec.vars;
		}
	plan->values = plan->var_mask != 0;
	if (plan->light) {
		err = plan_exits(plan, t, o);
		if (err)
			return err;
	}
	/* Keys evicted: the server's own counter read at the slow path and the return, or one hit per delete. */
	plan->keys = plan->slowpath && plan->evictedkeys.known && t->bias_known;
	if (plan->slowpath && !plan->keys && o->ndeletes) {
		for (int i = 0; i < o->ndeletes; i++) {
			struct plan_site *s = plan_push(plan);

			if (!s)
				return -E2BIG;
			err = site_at(s, t, fn, o->del[i].addr);
			if (err)
				return err;
			s->spec.kind = EV_SITE_DELETE;
		}
		plan->keys = plan->keys_at_deletes = true;
	}
	return 0;
}

int plan_add_eviction(struct probe_plan *plan, const struct target *t)
{
	struct plan_site *entry, *ret;
	int err;

	if (plan->n != EV_SITE_INDEX_ENTRY)
		return -EINVAL;
	entry = plan_push(plan);
	ret = plan_push(plan);
	err = site_at(entry, t, &t->evict, t->evict.addr);
	if (err)
		return err;
	entry->spec.kind = EV_SITE_ENTRY;
	*ret = *entry;
	ret->retprobe = true;
	ret->cls = SITE_RETURN;
	ret->spec.kind = EV_SITE_RETURN;
	snprintf(ret->name, sizeof(ret->name), "%s (return)", t->evict.name);
	/* Their cookies stay reserved; the light plan attaches neither. */
	entry->detached = ret->detached = plan->light;
	return 0;
}

int plan_add_commands(struct probe_plan *plan, const struct target *t)
{
	struct plan_site *s = plan_push(plan);
	int err;

	if (!s)
		return -E2BIG;
	err = site_at(s, t, &t->command, analysis__once_per_call(t->an, &t->command));
	if (err)
		return err;
	s->spec.kind = EV_SITE_COMMAND;
	return 0;
}
