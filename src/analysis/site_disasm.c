// SPDX-License-Identifier: BSD-3-Clause
/*
 * site_disasm.c: locating variables by their values.
 *
 * A location qualifies only when the flow graph proves what it holds: a
 * register's unique reaching definition must be the instruction that wrote
 * it in every run, a stack slot must not be stored to, called over or
 * moved away from between its write and the site. Among qualifying
 * locations, a sum of at most three that equals the variable in every
 * evicting run (random values, 16 or more runs) is the answer; fewer terms
 * and registers over memory reads are preferred.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "site_disasm.h"
#include "util.h"

#define SLOT_BELOW 0x200	/* stack slots considered below rsp ... */
#define SLOT_ABOVE 0x1000	/* ... and above it (the frame) */

static void add_loc(struct loc_table *lt, const struct term *t)
{
	if (lt->n < LOC_MAX) {
		lt->loc[lt->n].t = *t;
		lt->loc[lt->n].t.sign = 1;
		lt->n++;
	}
}

/*
 * The frame register (rsp or rbp) through which the instruction WRITER
 * addresses the slot at ADDR: a store's own base, or, for a call writing
 * through a pointer argument, the base of the lea that made the argument.
 * The verifier proves a slot in the same terms, so this is the form used.
 */
static bool slot_base(const struct evict_analysis *a, const struct emu *st, uint64_t addr, uint64_t writer,
		      enum gpr *base)
{
	static const enum gpr args[] = { GPR_RDI, GPR_RSI, GPR_RDX, GPR_RCX, GPR_R8, GPR_R9 };
	const struct insn *w = code_at(&a->flow->code, writer);
	const cs_x86 *x;

	if (!w)
		return false;
	x = &w->cs->detail->x86;
	if (w->flow != FLOW_CALL && w->flow != FLOW_ICALL) {
		for (int i = 0; i < x->op_count; i++) {
			const cs_x86_op *op = &x->operands[i];
			enum gpr b = gpr_of(op->mem.base);

			if (op->type == X86_OP_MEM && (op->access & CS_AC_WRITE) && (b == GPR_RSP || b == GPR_RBP) &&
			    st->regs.r[b] + (uint64_t)op->mem.disp == addr) {
				*base = b;
				return true;
			}
		}
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(args); i++) {
		const struct insn *lea;
		const cs_x86_op *src;
		uint64_t d;
		enum gpr b;

		if (flow_reaching_def(a->flow, writer, args[i], &d) || !(lea = code_at(&a->flow->code, d)) ||
		    lea->cs->id != X86_INS_LEA)
			continue;
		src = &lea->cs->detail->x86.operands[1];
		b = gpr_of(src->mem.base);
		if ((b == GPR_RSP || b == GPR_RBP) && src->mem.index == X86_REG_INVALID &&
		    st->regs.r[b] + (uint64_t)src->mem.disp == addr) {
			*base = b;
			return true;
		}
	}
	return false;
}

/*
 * A register's value at SITE is proven when the definitions of it that
 * reach SITE (flow) are exactly the writers the runs saw, each seen in
 * some run: then every definition's value was checked.
 */
static bool register_defs(const struct evict_analysis *a, const struct emu *st, const bool *have, uint64_t site,
			  enum gpr r, struct term *t)
{
	uint64_t defs[OFFSETS_MAX_FROM];
	int n;

	if (flow_reaching_defs(a->flow, site, r, defs, OFFSETS_MAX_FROM, &n))
		return false;
	for (int d = 0; d < n; d++) {
		bool seen = false;

		for (size_t k = 0; k < a->nsc && !seen; k++)
			seen = have[k] && st[k].regs.writer[r] == defs[d];
		if (!seen)
			return false;
	}
	for (size_t k = 0; k < a->nsc; k++) {
		bool listed = false;

		for (int d = 0; d < n && have[k]; d++)
			listed |= st[k].regs.writer[r] == defs[d];
		if (have[k] && !listed)
			return false;
	}
	*t = (struct term){ .kind = TERM_REG, .reg = r, .nfrom = n };
	memcpy(t->from, defs, (size_t)n * sizeof(defs[0]));
	return true;
}

int disasm_locations_at(const struct evict_analysis *a, uint64_t site, bool before_slow, struct loc_table *lt)
{
	struct emu st[ANALYSIS_MAX_SCENARIOS];
	bool have[ANALYSIS_MAX_SCENARIOS] = { false };
	size_t first = a->nsc;
	int err = 0;

	memset(lt, 0, sizeof(*lt));
	for (size_t k = 0; k < a->nsc; k++) {
		long step;

		if (!a->sc[k].evicts)
			continue;
		step = evict_visit(a, k, site, before_slow);
		err = step < 0 ? -ENOENT : evict_state_at(a, k, (size_t)step, &st[k]);
		if (err)
			goto out;
		have[k] = true;
		if (first == a->nsc)
			first = k;
	}

	/* Registers whose every definition reaching the site is a writer the runs saw. */
	for (int r = 0; r < GPR_N; r++) {
		struct term t;

		if (r == GPR_RSP || !register_defs(a, st, have, site, (enum gpr)r, &t))
			continue;
		add_loc(lt, &t);
		for (size_t k = 0; k < a->nsc; k++)
			if (have[k])
				lt->loc[lt->n - 1].val[k] = st[k].regs.r[r];
	}

	/* Stack slots written during the run, intact since, addressed as their producer does. */
	for (size_t i = 0; i < st[first].mem_cap; i++) {
		const struct emu_mem_entry *m = &st[first].mem[i];
		enum gpr base;
		int64_t off;
		bool same = m->addr && m->mask == 0xff && m->writer;

		if (!same || !slot_base(a, &st[first], m->addr, m->writer, &base))
			continue;
		off = (int64_t)(m->addr - st[first].regs.r[base]);
		if (off < -SLOT_BELOW || off >= SLOT_ABOVE)
			continue;
		for (size_t k = 0; k < a->nsc && same; k++)
			same = !have[k] || emu_mem_writer(&st[k], st[k].regs.r[base] + (uint64_t)off) == m->writer;
		if (!same || flow_slot_intact(a->flow, site, base, off, m->writer))
			continue;
		add_loc(lt, &(struct term){ .kind = TERM_MEM, .reg = base, .off = off, .from = { m->writer }, .nfrom = 1 });
		for (size_t k = 0; k < a->nsc; k++)
			if (have[k])
				lt->loc[lt->n - 1].val[k] = emu_read(&st[k], st[k].regs.r[base] + (uint64_t)off, 8);
	}

	/* server.maxmemory, read at the hit. */
	add_loc(lt, &(struct term){ .kind = TERM_GLOBAL, .off = (int64_t)a->maxmemory });
	for (size_t k = 0; k < a->nsc; k++)
		if (have[k])
			lt->loc[lt->n - 1].val[k] = a->sc[k].mm;
out:
	for (size_t k = 0; k < a->nsc; k++)
		if (have[k])
			evict_state_free(&st[k]);
	return err;
}

int disasm_locations(const struct evict_analysis *a, size_t cand, struct loc_table *lt)
{
	return disasm_locations_at(a, a->cand[cand], false, lt);
}

/* Registers over memory reads, and one producer over several. */
static int cost(const struct term *t)
{
	return t->kind == TERM_REG ? (t->nfrom > 1 ? 2 : 1) : 3;
}

/* Whether sum of SIGN[i] * loc[IDX[i]] equals V in every evicting run. */
static bool matches(const struct evict_analysis *a, const struct loc_table *lt, const int *idx,
		    const int *sign, int n, enum var v)
{
	for (size_t k = 0; k < a->nsc; k++) {
		uint64_t sum = 0;

		if (!a->sc[k].evicts)
			continue;
		for (int i = 0; i < n; i++)
			sum += sign[i] < 0 ? -lt->loc[idx[i]].val[k] : lt->loc[idx[i]].val[k];
		if (sum != scenario_value(&a->sc[k], v))
			return false;
	}
	return true;
}

int disasm_locate(const struct evict_analysis *a, const struct loc_table *lt, enum var v, struct expr *out)
{
	int best = -1, idx[3], sign[3] = { 1, 1, 1 }, n = (int)lt->n;

	for (int terms = 1; terms <= 3 && best < 0; terms++) {
		for (idx[0] = 0; idx[0] < n; idx[0]++)
		for (idx[1] = terms > 1 ? 0 : n - 1; idx[1] < n; idx[1]++)
		for (idx[2] = terms > 2 ? 0 : n - 1; idx[2] < n; idx[2]++)
		for (int signs = 0; signs < (1 << (terms - 1)); signs++) {
			int c = 0;

			if ((terms > 1 && idx[1] == idx[0]) || (terms > 2 && (idx[2] == idx[0] || idx[2] == idx[1])))
				continue;
			sign[1] = signs & 1 ? -1 : 1;
			sign[2] = signs & 2 ? -1 : 1;
			for (int i = 0; i < terms; i++)
				c += cost(&lt->loc[idx[i]].t);
			if ((best >= 0 && c >= best) || !matches(a, lt, idx, sign, terms, v))
				continue;
			best = c;
			out->n = terms;
			for (int i = 0; i < terms; i++) {
				out->t[i] = lt->loc[idx[i]].t;
				out->t[i].sign = sign[i];
			}
		}
	}
	return best < 0 ? -ENOENT : 0;
}
