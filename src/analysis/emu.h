/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * emu.h: a concrete interpreter for the x86-64 integer instructions
 * compilers emit around getMaxmemoryState(): moves, arithmetic, compares,
 * conditional moves and jumps, calls, the stack, and the few SSE integer
 * instructions a vectorised sum of 64-bit counters uses. It runs one scenario at a
 * time with concrete values; memory it has not written comes from a hook
 * (file bytes for read-only data, scenario values for the rest), calls go
 * to a hook. Whatever it does not model stops the run; it never guesses.
 */
#ifndef REDPROF_EMU_H
#define REDPROF_EMU_H

#include <stdbool.h>
#include <stdint.h>

#include "disasm.h"

struct emu;

struct emu_hooks {
	/* The 8 bytes at aligned ADDR that the run has not written. */
	uint64_t (*load)(void *ctx, uint64_t addr);
	/*
	 * A call to TARGET (0 when indirect and unknown) at instruction AT:
	 * set rax (and anything else) in E; 0 continues after the call,
	 * -1 stops the run.
	 */
	int (*call)(void *ctx, struct emu *e, uint64_t target, uint64_t at);
	void *ctx;
};

/* Register state before an instruction, and which instruction wrote each. */
struct emu_regs {
	uint64_t r[GPR_N];
	uint64_t writer[GPR_N];	/* address of the last writer, 0 for the initial value */
	uint64_t load_from[GPR_N];	/* address a 64-bit load came from, 0 otherwise */
};

struct emu_step {
	uint64_t addr;
	struct emu_regs regs;	/* before executing it */
};

enum emu_stop {
	EMU_RUNNING,
	EMU_RETURNED,	/* ret at the outermost frame */
	EMU_LEFT,	/* jumped outside the code given */
	EMU_UNSUPPORTED,	/* an instruction the interpreter does not model */
	EMU_LIMIT,	/* step budget spent */
	EMU_HOOK,	/* a hook stopped it */
};

struct emu_mem_entry {
	uint64_t addr;		/* aligned word address; 0: empty slot */
	uint64_t val;
	uint64_t writer;	/* instruction that last stored here */
	uint8_t mask;		/* bytes written */
};

struct emu {
	const struct code *code;
	struct emu_hooks hooks;
	struct emu_regs regs;
	uint64_t xmm[16][2];	/* SSE registers, low lane first */
	uint16_t xmm_known;	/* bit i: xmm[i] holds what the run computed */
	uint64_t rip;
	bool cf, zf, sf, of;
	bool flags_known;
	int depth;		/* call depth inside emulated code (oracle runs) */
	struct emu_mem_entry *mem;	/* open addressing, power-of-two size */
	size_t mem_cap, mem_n;
	struct emu_step *trace;	/* filled when record is set */
	size_t ntrace, trace_cap;
	bool record;
	enum emu_stop stop;
	uint64_t stop_addr;
	const uint64_t *forced;	/* path to follow: each branch goes to the next address listed */
	size_t nforced, forced_pos;
	uint64_t stop_at;	/* stop (EMU_HOOK) before executing this address, 0: never */
	/*
	 * Per instruction of the code: no return can follow it (an assertion,
	 * a failed stack check). Set, a branch goes the other way when only
	 * that one can return: for runs about what the function returns.
	 */
	const bool *dead_end;
};

void emu_init(struct emu *e, const struct code *code, const struct emu_hooks *hooks);
void emu_free(struct emu *e);

/* Runs from e->rip for at most MAX_STEPS instructions. */
enum emu_stop emu_run(struct emu *e, size_t max_steps);

/* Memory as the run sees it. */
uint64_t emu_read(struct emu *e, uint64_t addr, int size);
void emu_write(struct emu *e, uint64_t addr, uint64_t val, int size, uint64_t writer);
/* The instruction that last stored to the word at ADDR in this run, 0 if none. */
uint64_t emu_mem_writer(const struct emu *e, uint64_t addr);

/*
 * Operand I of IN as the run sees it before executing IN: its value and,
 * for a memory operand or a register just loaded from memory by a 64-bit
 * mov, the address it came from (0 otherwise). False when not modelled.
 */
bool emu_operand(struct emu *e, const struct insn *in, int i, uint64_t *value, uint64_t *from);

/* Sets register R to V as if instruction AT wrote it. */
void emu_set(struct emu *e, enum gpr r, uint64_t v, uint64_t at);

const char *emu_stop_name(enum emu_stop s);

#endif /* REDPROF_EMU_H */
