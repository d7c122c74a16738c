// SPDX-License-Identifier: BSD-3-Clause
/*
 * disasm.c: capstone wrapper.
 *
 * Two handles: one with instruction detail in Intel operand order for the
 * analyses (operand 0 is the destination), one without detail printing
 * AT&T syntax for people, matching what gdb shows.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disasm.h"
#include "util.h"

static csh cs_intel = 0;	/* Intel, detail on */
static csh cs_att = 0;		/* AT&T, text only */

int disasm_init(void)
{
	if (cs_intel)
		return 0;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs_intel) != CS_ERR_OK)
		return -ENOSYS;
	cs_option(cs_intel, CS_OPT_DETAIL, CS_OPT_ON);
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs_att) != CS_ERR_OK) {
		cs_close(&cs_intel);
		return -ENOSYS;
	}
	cs_option(cs_att, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
	return 0;
}

void disasm_fini(void)
{
	if (cs_intel)
		cs_close(&cs_intel);
	if (cs_att)
		cs_close(&cs_att);
	cs_intel = cs_att = 0;
}

enum gpr gpr_of(unsigned r)
{
	switch (r) {
	case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX: case X86_REG_AL: case X86_REG_AH: return GPR_RAX;
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CL: case X86_REG_CH: return GPR_RCX;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DL: case X86_REG_DH: return GPR_RDX;
	case X86_REG_RBX: case X86_REG_EBX: case X86_REG_BX: case X86_REG_BL: case X86_REG_BH: return GPR_RBX;
	case X86_REG_RSP: case X86_REG_ESP: case X86_REG_SP: case X86_REG_SPL: return GPR_RSP;
	case X86_REG_RBP: case X86_REG_EBP: case X86_REG_BP: case X86_REG_BPL: return GPR_RBP;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL: return GPR_RSI;
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL: return GPR_RDI;
	case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B: return GPR_R8;
	case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B: return GPR_R9;
	case X86_REG_R10: case X86_REG_R10D: case X86_REG_R10W: case X86_REG_R10B: return GPR_R10;
	case X86_REG_R11: case X86_REG_R11D: case X86_REG_R11W: case X86_REG_R11B: return GPR_R11;
	case X86_REG_R12: case X86_REG_R12D: case X86_REG_R12W: case X86_REG_R12B: return GPR_R12;
	case X86_REG_R13: case X86_REG_R13D: case X86_REG_R13W: case X86_REG_R13B: return GPR_R13;
	case X86_REG_R14: case X86_REG_R14D: case X86_REG_R14W: case X86_REG_R14B: return GPR_R14;
	case X86_REG_R15: case X86_REG_R15D: case X86_REG_R15W: case X86_REG_R15B: return GPR_R15;
	default: return GPR_NONE;
	}
}

/*
 * Mirrors arch/x86/kernel/uprobes.c: branch_setup_xol_ops() emulates
 * jmp rel8/rel32, jcc rel8/rel32, call rel32 and 0x90 nops (not with a
 * 0x66 prefix on branches); push_setup_xol_ops() emulates push %reg with
 * at most a 0x41 REX prefix. Everything else is single-stepped.
 */
enum insn_class insn_classify(const uint8_t *b, size_t len)
{
	size_t i = 0;
	bool opsize = false;

	if (len == 1 && b[0] >= 0x50 && b[0] <= 0x57)
		return INSN_EMULATED;
	if (len == 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57)
		return INSN_EMULATED;

	/* Legacy prefixes the branch emulation tolerates (segment/bnd hints). */
	while (i < len && (b[i] == 0x2e || b[i] == 0x3e || b[i] == 0xf2 || b[i] == 0xf3 || b[i] == 0x66)) {
		opsize |= b[i] == 0x66;
		i++;
	}
	if (i >= len)
		return INSN_SINGLE_STEPPED;
	if (b[i] == 0x90)
		return INSN_EMULATED;
	if (opsize)
		return INSN_SINGLE_STEPPED;
	if (b[i] == 0xeb || b[i] == 0xe9 || b[i] == 0xe8 || (b[i] >= 0x70 && b[i] <= 0x7f))
		return INSN_EMULATED;
	if (b[i] == 0x0f && i + 1 < len && b[i + 1] >= 0x80 && b[i + 1] <= 0x8f)
		return INSN_EMULATED;
	return INSN_SINGLE_STEPPED;
}

static bool has_group(const cs_insn *ci, uint8_t group)
{
	for (int i = 0; i < ci->detail->groups_count; i++)
		if (ci->detail->groups[i] == group)
			return true;
	return false;
}

enum x86_cc x86_cc_of(unsigned id)
{
	switch (id) {
	case X86_INS_JO: case X86_INS_CMOVO: case X86_INS_SETO: return X86_CC_O;
	case X86_INS_JNO: case X86_INS_CMOVNO: case X86_INS_SETNO: return X86_CC_NO;
	case X86_INS_JB: case X86_INS_CMOVB: case X86_INS_SETB: return X86_CC_B;
	case X86_INS_JAE: case X86_INS_CMOVAE: case X86_INS_SETAE: return X86_CC_AE;
	case X86_INS_JE: case X86_INS_CMOVE: case X86_INS_SETE: return X86_CC_E;
	case X86_INS_JNE: case X86_INS_CMOVNE: case X86_INS_SETNE: return X86_CC_NE;
	case X86_INS_JBE: case X86_INS_CMOVBE: case X86_INS_SETBE: return X86_CC_BE;
	case X86_INS_JA: case X86_INS_CMOVA: case X86_INS_SETA: return X86_CC_A;
	case X86_INS_JS: case X86_INS_CMOVS: case X86_INS_SETS: return X86_CC_S;
	case X86_INS_JNS: case X86_INS_CMOVNS: case X86_INS_SETNS: return X86_CC_NS;
	case X86_INS_JP: case X86_INS_CMOVP: case X86_INS_SETP: return X86_CC_P;
	case X86_INS_JNP: case X86_INS_CMOVNP: case X86_INS_SETNP: return X86_CC_NP;
	case X86_INS_JL: case X86_INS_CMOVL: case X86_INS_SETL: return X86_CC_L;
	case X86_INS_JGE: case X86_INS_CMOVGE: case X86_INS_SETGE: return X86_CC_GE;
	case X86_INS_JLE: case X86_INS_CMOVLE: case X86_INS_SETLE: return X86_CC_LE;
	case X86_INS_JG: case X86_INS_CMOVG: case X86_INS_SETG: return X86_CC_G;
	default: return X86_CC_NONE;
	}
}

static void fill_insn(struct insn *in, cs_insn *ci)
{
	const cs_x86 *x = &ci->detail->x86;
	cs_regs rr, ww;
	uint8_t nr = 0, nw = 0;
	bool direct = x->op_count == 1 && x->operands[0].type == X86_OP_IMM;

	in->addr = ci->address;
	in->size = (uint8_t)ci->size;
	in->cs = ci;
	in->cls = (uint8_t)insn_classify(ci->bytes, ci->size);
	in->target = direct ? (uint64_t)x->operands[0].imm : 0;

	if (has_group(ci, CS_GRP_CALL))
		in->flow = direct ? FLOW_CALL : FLOW_ICALL;
	else if (has_group(ci, CS_GRP_RET) || ci->id == X86_INS_IRET || ci->id == X86_INS_IRETQ)
		in->flow = FLOW_RET;
	else if (ci->id == X86_INS_JMP || ci->id == X86_INS_LJMP)
		in->flow = direct ? FLOW_JUMP : FLOW_IJUMP;
	else if (has_group(ci, CS_GRP_JUMP))
		in->flow = direct ? FLOW_CJUMP : FLOW_IJUMP;
	else if (ci->id == X86_INS_UD2 || ci->id == X86_INS_HLT || ci->id == X86_INS_INT3)
		in->flow = FLOW_STOP;
	else
		in->flow = FLOW_NEXT;
	in->cc = (uint8_t)(in->flow == FLOW_JUMP ? X86_CC_ALWAYS : in->flow == FLOW_CJUMP ? x86_cc_of(ci->id)
											 : X86_CC_NONE);

	in->reads = in->writes = 0;
	if (cs_regs_access(cs_intel, ci, rr, &nr, ww, &nw) == CS_ERR_OK) {
		for (int i = 0; i < nr; i++)
			if (gpr_of(rr[i]) != GPR_NONE)
				in->reads |= GPR_BIT(gpr_of(rr[i]));
		for (int i = 0; i < nw; i++)
			if (gpr_of(ww[i]) != GPR_NONE)
				in->writes |= GPR_BIT(gpr_of(ww[i]));
	}
	/* Operands capstone's access lists may leave out. */
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type == X86_OP_REG && gpr_of(op->reg) != GPR_NONE) {
			if (op->access & CS_AC_WRITE)
				in->writes |= GPR_BIT(gpr_of(op->reg));
			if (op->access & CS_AC_READ)
				in->reads |= GPR_BIT(gpr_of(op->reg));
		} else if (op->type == X86_OP_MEM) {
			if (gpr_of(op->mem.base) != GPR_NONE)
				in->reads |= GPR_BIT(gpr_of(op->mem.base));
			if (gpr_of(op->mem.index) != GPR_NONE)
				in->reads |= GPR_BIT(gpr_of(op->mem.index));
		}
	}
	if (in->flow == FLOW_CALL || in->flow == FLOW_ICALL)
		in->writes |= GPR_CALLER_SAVED;
}

static int insn_cmp(const void *a, const void *b)
{
	const struct insn *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void code_push(struct code *code, cs_insn *ci)
{
	if (code->n == code->cap) {
		code->cap = code->cap ? code->cap * 2 : 512;
		code->insns = xreallocarray(code->insns, code->cap, sizeof(*code->insns));
	}
	fill_insn(&code->insns[code->n++], ci);
}

int disasm_linear(const struct elf_image *img, uint64_t start, uint64_t size, struct code *code)
{
	const uint8_t *bytes = elf_image__bytes(img, start, size);
	uint64_t addr = start;
	size_t left = size;

	if (!bytes)
		return -ERANGE;
	while (left) {
		cs_insn *ci = cs_malloc(cs_intel);

		if (!ci)
			fatal("out of memory in capstone");
		if (!cs_disasm_iter(cs_intel, &bytes, &left, &addr, ci)) {
			cs_free(ci, 1);
			return -EILSEQ;
		}
		code_push(code, ci);
	}
	qsort(code->insns, code->n, sizeof(*code->insns), insn_cmp);
	return 0;
}

const char *disasm_strerror(int err)
{
	switch (err) {
	case -EILSEQ:
		return "its bytes are not valid x86-64 instructions, or a jump lands inside one: the executable "
		       "is corrupted (use an intact copy of it)";
	case -ERANGE:
		return "its code lies outside the file's loadable segments: the executable is corrupted (use "
		       "an intact copy of it)";
	default:
		return strerror(-err);
	}
}

/* Whether ADDR falls strictly inside an instruction of CODE. */
static bool inside_insn(const struct code *code, uint64_t addr)
{
	for (size_t i = 0; i < code->n; i++)
		if (addr > code->insns[i].addr && addr < code->insns[i].addr + code->insns[i].size)
			return true;
	return false;
}

int disasm_follow(const struct elf_image *img, uint64_t entry, uint64_t limit, struct code *code, bool *cut)
{
	uint64_t addr = entry;
	int err = 0;

	if (cut)
		*cut = false;
	for (;;) {
		const uint8_t *bytes;
		size_t left = 16;
		uint64_t a = addr;
		cs_insn *ci;
		enum insn_flow flow;

		if (code_at(code, addr))
			break;
		if (addr >= entry + limit) {
			if (cut)
				*cut = true;
			break;
		}
		if (inside_insn(code, addr)) {
			err = -EILSEQ;
			break;
		}
		bytes = elf_image__bytes(img, addr, left);
		if (!bytes || !elf_image__is_text(img, addr)) {
			err = -ERANGE;
			break;
		}
		ci = cs_malloc(cs_intel);
		if (!ci)
			fatal("out of memory in capstone");
		if (!cs_disasm_iter(cs_intel, &bytes, &left, &a, ci)) {
			cs_free(ci, 1);
			err = -EILSEQ;
			break;
		}
		code_push(code, ci);
		/* Keep the array sorted so code_at() works while following. */
		qsort(code->insns, code->n, sizeof(*code->insns), insn_cmp);
		flow = code_at(code, addr)->flow;
		if (flow == FLOW_JUMP || flow == FLOW_IJUMP || flow == FLOW_RET || flow == FLOW_STOP)
			break;
		addr = a;
	}
	return err;
}

void code_free(struct code *code)
{
	for (size_t i = 0; i < code->n; i++)
		cs_free(code->insns[i].cs, 1);
	free(code->insns);
	*code = (struct code){ 0 };
}

long code_index(const struct code *code, uint64_t addr)
{
	size_t lo = 0, hi = code->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (code->insns[mid].addr == addr)
			return (long)mid;
		if (code->insns[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const struct insn *code_at(const struct code *code, uint64_t addr)
{
	long i = code_index(code, addr);

	return i < 0 ? NULL : &code->insns[i];
}

int disasm_text(const struct elf_image *img, uint64_t addr, char *buf, size_t len)
{
	size_t avail = 16, n;
	const uint8_t *bytes;
	cs_insn *ci;

	/* Up to the longest x86 instruction, less at the end of a segment. */
	while (avail && !elf_image__bytes(img, addr, avail))
		avail--;
	if (!avail)
		return -ERANGE;
	bytes = elf_image__bytes(img, addr, avail);
	n = cs_disasm(cs_att, bytes, avail, addr, 1, &ci);
	if (!n)
		return -EILSEQ;
	if (ci->op_str[0])
		snprintf(buf, len, "%s %s", ci->mnemonic, ci->op_str);
	else
		snprintf(buf, len, "%s", ci->mnemonic);
	cs_free(ci, n);
	return 0;
}
