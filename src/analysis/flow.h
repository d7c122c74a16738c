/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow.h: the code of one function with everything the compiler split off
 * it (.cold parts, unnamed parts of a stripped binary), its control-flow
 * predecessors, and reaching definitions of registers. This is what a
 * probe site is proven against: an instruction boundary, and a register
 * that nothing overwrites between where a value is made and the site.
 */
#ifndef REDPROF_FLOW_H
#define REDPROF_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "disasm.h"
#include "elf_image.h"

#define FLOW_MAX_PARTS 8

struct flow_part {
	uint64_t start, end;	/* [start, end) */
	char name[96];		/* symbol, or "" for a part only reached by a jump */
	bool named;		/* boundaries from a linear sweep of a sized symbol */
};

struct flow {
	const struct elf_image *img;
	struct elf_sym fn;		/* the main part's symbol */
	struct code code;		/* every part's instructions, by address */
	struct flow_part part[FLOW_MAX_PARTS];
	int nparts;
	uint32_t *pred_off;		/* CSR: preds of insn i are pred[pred_off[i]..pred_off[i+1]) */
	uint32_t *pred;
	uint32_t *succ_off;		/* CSR: successors, likewise */
	uint32_t *succ;
	bool *entry;			/* instruction i may be reached from outside (function entry) */
	char why_incomplete[160];	/* non-empty: some edges are unknown, proofs refuse */
};

/*
 * Disassembles FN and its parts: named variants (FN.cold, ...) by linear
 * sweep, and targets of jumps out of known code that no symbol covers by
 * following them until an unconditional transfer. -EILSEQ when the main
 * part does not decode (and F holds nothing to free).
 */
int flow_build(const struct elf_image *img, const struct elf_sym *fn, struct flow *f);
void flow_free(struct flow *f);

/* The part holding ADDR, or NULL. */
const struct flow_part *flow_part_at(const struct flow *f, uint64_t addr);

/*
 * The unique instruction that defines register R on every path reaching
 * the instruction at SITE (SITE itself excluded). 0 with *DEF set, or
 * -ENOENT when some path reaches the function's entry without a
 * definition, -EEXIST when two definitions reach it, -ENOTRECOVERABLE
 * when the flow graph is incomplete.
 */
int flow_reaching_def(const struct flow *f, uint64_t site, enum gpr r, uint64_t *def);

/* Every instruction defining R that reaches SITE, up to MAX (-E2BIG beyond); else as flow_reaching_def. */
int flow_reaching_defs(const struct flow *f, uint64_t site, enum gpr r, uint64_t *defs, int max, int *n);

/* 0 when every path reaching SITE passes DEF; -errno as flow_reaching_def. */
int flow_dominates(const struct flow *f, uint64_t def, uint64_t site);

/* Whether no path from the function's entry to SITE writes register R: it still holds the caller's value. */
bool flow_keeps_entry(const struct flow *f, uint64_t site, enum gpr r);

/*
 * Whether the instruction at ADDR can run again before the function
 * returns (it lies on a cycle: a loop); true when the graph is incomplete.
 */
bool flow_on_cycle(const struct flow *f, uint64_t addr);

/*
 * Whether memory at BASE+DISP (8 bytes) still holds what DEF left there
 * at SITE: no path from DEF to SITE stores to it, changes BASE, or calls
 * a function (which could write through an escaped pointer), and every
 * path reaching SITE passes DEF. 0, or -errno as flow_reaching_def.
 */
int flow_slot_intact(const struct flow *f, uint64_t site, enum gpr base, int64_t disp, uint64_t def);

/* Whether an instruction writes memory at BASE+DISP..+8 through BASE. */
bool insn_stores_to(const struct insn *in, enum gpr base, int64_t disp);

#endif /* REDPROF_FLOW_H */
