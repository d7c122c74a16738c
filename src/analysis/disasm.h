/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * disasm.h: capstone over the code of one function: instruction boundaries,
 * control flow, which registers each instruction reads and writes, and how
 * the kernel runs a uprobe placed on it.
 */
#ifndef REDPROF_DISASM_H
#define REDPROF_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <capstone/capstone.h>

#include "elf_image.h"
#include "x86.h"

enum insn_flow {
	FLOW_NEXT,	/* falls through */
	FLOW_JUMP,	/* direct unconditional jump */
	FLOW_CJUMP,	/* direct conditional jump */
	FLOW_CALL,	/* direct call */
	FLOW_ICALL,	/* indirect call */
	FLOW_IJUMP,	/* indirect jump (jump table or tail call) */
	FLOW_RET,
	FLOW_STOP,	/* ud2, hlt, int3: no successor */
};

struct insn {
	uint64_t addr;
	uint8_t size;
	uint8_t flow;		/* enum insn_flow */
	uint8_t cls;		/* enum insn_class */
	uint8_t cc;		/* enum x86_cc: a jump's condition, X86_CC_NONE when no jump */
	uint16_t reads;		/* GPR_BIT set, explicit and implicit */
	uint16_t writes;	/* GPR_BIT set; a call writes the caller-saved set */
	uint64_t target;	/* direct jump/call target */
	cs_insn *cs;		/* capstone detail, Intel operand order */
};

/* A disassembled run of code: instructions sorted by address. */
struct code {
	struct insn *insns;
	size_t n, cap;
};

/* The condition of capstone instruction ID (jcc, cmovcc, setcc); X86_CC_NONE for any other. */
enum x86_cc x86_cc_of(unsigned id);

/* Opens the process-wide capstone handles; 0 or -errno. */
int disasm_init(void);
void disasm_fini(void);

/* Disassembles [START, START+SIZE) linearly into CODE; -EILSEQ when bytes do not decode. */
int disasm_linear(const struct elf_image *img, uint64_t start, uint64_t size, struct code *code);

/*
 * Why disassembling code failed, in words, for the -errno of disasm_*() and
 * flow_build(): -EILSEQ bytes that do not decode or a jump into the middle
 * of an instruction, -ERANGE code outside the file.
 */
const char *disasm_strerror(int err);

/*
 * Disassembles from ENTRY along fall-through until an unconditional transfer
 * (jmp, ret, ud2) or code already in CODE, adding instructions to CODE: the
 * boundaries proven for an unnamed part reached only through a known jump
 * target. LIMIT caps bytes; *CUT (when not NULL) says whether it stopped
 * there, with code going on.
 */
int disasm_follow(const struct elf_image *img, uint64_t entry, uint64_t limit, struct code *code, bool *cut);

void code_free(struct code *code);

/* The instruction starting at ADDR, or NULL when ADDR is no boundary in CODE. */
const struct insn *code_at(const struct code *code, uint64_t addr);

/* Index of the instruction starting at ADDR, or -1. */
long code_index(const struct code *code, uint64_t addr);

/* AT&T text of the instruction at ADDR as gdb shows it ("je 0x11e111"). */
int disasm_text(const struct elf_image *img, uint64_t addr, char *buf, size_t len);

/* How a uprobe on these instruction bytes (one whole instruction) is run. */
enum insn_class insn_classify(const uint8_t *bytes, size_t len);

/* Register family of a capstone x86 register, or GPR_NONE. */
enum gpr gpr_of(unsigned cs_reg);

#endif /* REDPROF_DISASM_H */
