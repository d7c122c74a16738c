/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x86.h: the x86-64 words offset files and the analyser share, as plain
 * data: register families, and how the kernel runs a uprobe placed on an
 * instruction. No disassembler here: src/analysis/ owns capstone.
 */
#ifndef REDPROF_X86_H
#define REDPROF_X86_H

/* General-purpose register families (rax/eax/ax/al are one), pt_regs-independent. */
enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_N, GPR_NONE = -1
};
#define GPR_BIT(r) (1U << (r))
/* Clobbered by a call under the SysV x86-64 ABI. */
#define GPR_CALLER_SAVED (GPR_BIT(GPR_RAX) | GPR_BIT(GPR_RCX) | GPR_BIT(GPR_RDX) | \
	GPR_BIT(GPR_RSI) | GPR_BIT(GPR_RDI) | GPR_BIT(GPR_R8) | GPR_BIT(GPR_R9) | \
	GPR_BIT(GPR_R10) | GPR_BIT(GPR_R11))

/*
 * How the kernel runs a uprobe hit on an x86-64 instruction: a few are
 * emulated in place (jmp, jcc, call rel32, nop, push reg: about 1 us a
 * hit); every other one is single-stepped out of line (15-20 us a hit).
 */
enum insn_class { INSN_EMULATED, INSN_SINGLE_STEPPED };

/*
 * The condition of a conditional jump (or cmov, set), numbered as the
 * encoding's low nibble; X86_CC_ALWAYS for jmp, X86_CC_NONE for the rest.
 * The BPF side evaluates them on the saved flags (probes/evict.h).
 */
enum x86_cc {
	X86_CC_O, X86_CC_NO, X86_CC_B, X86_CC_AE, X86_CC_E, X86_CC_NE, X86_CC_BE, X86_CC_A,
	X86_CC_S, X86_CC_NS, X86_CC_P, X86_CC_NP, X86_CC_L, X86_CC_GE, X86_CC_LE, X86_CC_G,
	X86_CC_ALWAYS, X86_CC_NONE
};

const char *gpr_name(enum gpr r);
/* Parses "rbx", "r12" ...; GPR_NONE when unknown. */
enum gpr gpr_parse(const char *name);
const char *insn_class_name(enum insn_class cls);

#endif /* REDPROF_X86_H */
