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

#include "disasm.h"
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

static struct plan_site *plan_push(struct probe_plan *plan)
{
	if (plan->n >= EV_MAX_SITES)
		return NULL;
	memset(&plan->site[plan->n], 0, sizeof(plan->site[0]));
	return &plan->site[plan->n++];
}

static int site_at(struct plan_site *s, const struct target *t, const struct elf_sym *fn, uint64_t addr)
{
	const uint8_t *b = elf_image__bytes(t->img, addr, 16);
	int err;

	err = elf_image__file_offset(t->img, addr, &s->file_offset);
	if (err)
		return err;
	s->addr = addr;
	s->func_addr = fn->addr;
	s->func_size = fn->size;
	s->cls = b && insn_classify(b, 16) == INSN_EMULATED ? SITE_EMULATED : SITE_SINGLE_STEPPED;
	if (addr == fn->addr)
		snprintf(s->name, sizeof(s->name), "%s", fn->name);
	else
		snprintf(s->name, sizeof(s->name), "%s+%llu", fn->name, (unsigned long long)(addr - fn->addr));
	return 0;
}

int plan_add_eviction(struct probe_plan *plan, const struct target *t)
{
	struct plan_site *entry = plan_push(plan), *ret = plan_push(plan);
	int err;

	if (!entry || !ret)
		return -E2BIG;
	err = site_at(entry, t, &t->evict, t->evict.addr);
	if (err)
		return err;
	entry->spec.kind = EV_SITE_ENTRY;
	*ret = *entry;
	ret->retprobe = true;
	ret->cls = SITE_RETURN;
	ret->spec.kind = EV_SITE_RETURN;
	snprintf(ret->name, sizeof(ret->name), "%s (return)", t->evict.name);
	return 0;
}

/*
 * First emulated instruction of FN's entry block: it runs once per call
 * when nothing jumps into the block. Falls back to the first instruction.
 */
static uint64_t entry_block_site(const struct target *t, const struct elf_sym *fn)
{
	struct code code = { 0 };
	uint64_t site = fn->addr, block_end = fn->addr + fn->size;

	if (disasm_linear(t->img, fn->addr, fn->size, &code))
		goto out;
	/* The block ends at the first control transfer or at the first jump target. */
	for (size_t i = 0; i < code.n; i++) {
		const struct insn *in = &code.insns[i];

		if ((in->flow == FLOW_JUMP || in->flow == FLOW_CJUMP) && in->target > fn->addr &&
		    in->target < block_end)
			block_end = in->target;
		if (in->flow == FLOW_IJUMP)
			block_end = fn->addr + 1;	/* a jump table could land anywhere */
	}
	for (size_t i = 0; i < code.n && code.insns[i].addr < block_end; i++) {
		const struct insn *in = &code.insns[i];

		if (in->cls == INSN_EMULATED) {
			site = in->addr;
			break;
		}
		if (in->flow != FLOW_NEXT && in->flow != FLOW_CALL && in->flow != FLOW_ICALL)
			break;
	}
out:
	code_free(&code);
	return site;
}

int plan_add_commands(struct probe_plan *plan, const struct target *t)
{
	struct plan_site *s = plan_push(plan);
	int err;

	if (!s)
		return -E2BIG;
	err = site_at(s, t, &t->command, entry_block_site(t, &t->command));
	if (err)
		return err;
	s->spec.kind = EV_SITE_COMMAND;
	return 0;
}
