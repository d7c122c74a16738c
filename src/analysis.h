/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * analysis.h: the analyser as the rest of redprof sees it. Everything that
 * reads machine code (capstone, flow graphs, the interpreter, DWARF, the
 * offset-file generator and verifier) lives in src/analysis/ behind these
 * few entry points, over one context per executable: the eviction
 * function's flow graph, its concrete runs and its debug information are
 * built once, when first needed, and shared by generating, verifying and
 * describing code.
 */
#ifndef REDPROF_ANALYSIS_H
#define REDPROF_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"
#include "offsets.h"
#include "x86.h"

/* What an analysis error -ERR means, for people: a corrupted executable rather than "Invalid or incomplete multibyte". */
const char *analysis_strerror(int err);

/* Process-wide set-up of the disassembler (capstone handles); 0 or -errno. */
int analysis_init(void);
void analysis_fini(void);

struct analysis;

/*
 * The analysis of IMG, whose eviction function is EVICT (both must outlive
 * it). ROOT is where debug files are looked for besides the host's
 * /usr/lib/debug ("/proc/PID/root" for a process), or NULL.
 */
struct analysis *analysis__new(const struct elf_image *img, const struct elf_sym *evict, const char *root);
void analysis__free(struct analysis *a);

/* --------------------------------------------------------------------
 * Offset files
 * ------------------------------------------------------------------ */

#define GEN_MAX_NOTES 8

struct gen_result {
	enum strategy strategy;		/* the one used for the values */
	char notes[GEN_MAX_NOTES][256];	/* what is missing and why, for people */
	int nnotes;
	char why[256];			/* when generation failed */
};

/*
 * Generates the offset file O of the executable, a FLAVOR ("redis",
 * "valkey") server of VERSION ("" unknown). STRATEGY forces one
 * (STRATEGY_NONE: dwarf when debug information is found, disasm otherwise
 * or where dwarf finds nothing). 0 with notes for what could not be found;
 * -errno with r->why when nothing could be.
 */
int analysis__generate(struct analysis *a, const char *flavor, const char *version, enum strategy strategy,
		       struct offsets *o, struct gen_result *r);

/*
 * The checks every file passes before a probe is placed (redprof-offsets(5)):
 * build-id, function, sites on instruction boundaries of the function or
 * its parts, producers, slow-path claims. 0 when O fits; it also resolves
 * O's globals to link-time addresses. -EINVAL with the first problem in WHY.
 */
int analysis__verify(struct analysis *a, struct offsets *o, char *why, size_t len);

/*
 * What the checks cannot prove: that a global is the server field its name
 * says, and a delete call one that deletes evicted keys. O, verified,
 * against what analysis__generate finds in the same executable: entries
 * read elsewhere, with both readings, in DISAGREE ("stat_evictedkeys: the
 * file reads server+1264 (0x...), redprof's own analysis ... finds
 * server+1216 (0x...)"); entries it does not find, and so cannot confirm,
 * in UNVERIFIED. Both "" when everything agrees.
 */
void analysis__cross_check(struct analysis *a, const struct offsets *o, char *disagree, size_t dlen,
			   char *unverified, size_t ulen);

/* --------------------------------------------------------------------
 * Code, for probe placement and for people
 * ------------------------------------------------------------------ */

struct code_line {
	uint64_t addr;
	enum insn_class cls;
	enum x86_cc cc;		/* a jump's condition; X86_CC_NONE when it is no direct jump */
	char text[96];		/* AT&T, as gdb shows it ("je 0x11e111") */
};

/*
 * ADDR as a probe site of function FN: 0 with its class and text when it
 * is an instruction boundary of FN or of one of its parts (a linear sweep
 * of a sized symbol, or followed from a known jump into an unnamed part);
 * -EFAULT when it is not, -EILSEQ when FN does not disassemble.
 */
int analysis__site(struct analysis *a, const struct elf_sym *fn, uint64_t addr, struct code_line *out);

/* Up to BEFORE instructions before ADDR of the eviction function, ADDR, up to AFTER after it. */
int analysis__listing(struct analysis *a, uint64_t addr, int before, int after, struct code_line *lines, int max,
		      int *n);

/*
 * An instruction every call of FN runs exactly once, preferring one the
 * kernel emulates: the first emulated instruction of its entry block, else
 * its first instruction.
 */
uint64_t analysis__once_per_call(struct analysis *a, const struct elf_sym *fn);

/* --------------------------------------------------------------------
 * Values of a live server, through its own code
 * ------------------------------------------------------------------ */

/* Reads the 8 bytes at link-time address ADDR of the running server; 0 or -errno. */
typedef int (*analysis_read_fn)(void *ctx, uint64_t addr, uint64_t *v);

/*
 * The server's used memory: its zmalloc_used_memory() run by the
 * interpreter over the memory READ gives (Redis 8 and Valkey sum
 * per-thread counters). Only the binary's writable globals are read.
 * -ENOENT when the function is missing, READ's -errno when a read fails,
 * -EFAULT when the run reads anything else, -EIO when it does not return.
 */
int analysis__used_memory(struct analysis *a, analysis_read_fn read, void *ctx, uint64_t *v);

#define COUNTER_SUM_MAX 512	/* counters a sum may have; BPF's loop bound */

/*
 * How a getter computes its result from the server's globals: the word at
 * BASE, or the counters STRIDE bytes apart from BASE, as many as the
 * global COUNT says, at most CAP of them, plus the word EXTRA when the
 * count exceeds CAP (Redis 8 counts threads beyond its array there).
 * Addresses are link-time.
 */
struct counter_sum {
	uint64_t base;
	uint64_t stride;
	uint64_t count;		/* 0: one word, at BASE */
	int count_size;		/* 4 or 8 bytes */
	bool count_signed;	/* a negative count sums nothing */
	uint32_t cap;
	bool capped;		/* the getter clamps the count at CAP; else a larger count cannot be read */
	uint64_t extra;		/* 0: none */
};

/*
 * The formula of GETTER (zmalloc_used_memory, lazyfreeGetPendingObjectsCount),
 * found by running it over made-up memory and checked the same way for
 * counts from 0 to past the cap. -ENOENT when it is missing, -ENOTSUP when
 * it is no such sum; WHY says which.
 */
int analysis__counter_sum(struct analysis *a, const char *getter, struct counter_sum *out, char *why, size_t len);

/* The number GETTER (RM_GetServerVersion, VM_GetServerVersion) returns: REDIS_VERSION_NUM. */
int analysis_server_version(const struct elf_image *img, const char *getter, uint64_t *v);

#endif /* REDPROF_ANALYSIS_H */
