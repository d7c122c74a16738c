/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offsets.h: a per-build offset file in memory: where, in one build of
 * Redis (keyed by GNU build-id), getMaxmemoryState()'s variables can be
 * read by uprobes, where the eviction path starts, which calls delete
 * evicted keys, and where the server keeps the counters redprof reads
 * from memory. The text format is redprof-offsets(5).
 */
#ifndef REDPROF_OFFSETS_H
#define REDPROF_OFFSETS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "x86.h"

#define OFFSETS_FORMAT 2		/* written; format 1 is still read */
#define OFFSETS_MAX_TERMS 3
#define OFFSETS_MAX_FROM 4		/* instructions that may have produced one term */
#define OFFSETS_MAX_SITES 4
#define OFFSETS_MAX_DELETES 8
#define OFFSETS_MAX_EXITS 8
#define OFFSETS_MAX_PARTS 8

/* getMaxmemoryState()'s variables, in the order of enum ev_var. */
enum var { VAR_MEM_REPORTED, VAR_OVERHEAD, VAR_MEM_USED, VAR_MEM_TOFREE, NVARS, VAR_NONE = -1 };

/* Globals redprof reads from the target's memory. */
enum global { G_MAXMEMORY, G_STAT_NUMCOMMANDS, G_STAT_EVICTEDKEYS, G_USED_MEMORY, G_MAXMEMORY_POLICY,
	      G_CURRENT_CLIENT, G_CLIENTS_MEMORY, NGLOBALS };

/*
 * Struct members the kernel follows from server.current_client to say who
 * an eviction round ran for: the client's id, command and name, the name
 * object's string, the command's name.
 */
enum member { MB_CLIENT_ID, MB_CLIENT_CMD, MB_CLIENT_NAME, MB_OBJECT_PTR, MB_COMMAND_NAME, NMEMBERS };

enum strategy { STRATEGY_NONE, STRATEGY_DWARF, STRATEGY_DISASM };

enum term_kind {
	TERM_REG,	/* a register */
	TERM_MEM,	/* 8 bytes at register + off */
	TERM_GLOBAL,	/* 8 bytes at a global: a link-time address */
	TERM_VAR,	/* another variable's value in the same call (format 2) */
	TERM_CONST,	/* the number off (format 2, exit results) */
};

struct term {
	enum term_kind kind;
	int sign;		/* +1 or -1 */
	enum gpr reg;		/* TERM_REG, TERM_MEM */
	enum var var;		/* TERM_VAR */
	int64_t off;		/* TERM_MEM displacement; TERM_GLOBAL link-time address; TERM_CONST value */
	/* TERM_REG, TERM_MEM: the instructions that may have produced it, every one reaching the site */
	uint64_t from[OFFSETS_MAX_FROM];
	int nfrom;
	char sym[32];		/* TERM_GLOBAL: object the address is in, "" when absolute */
	int64_t sym_off;	/* TERM_GLOBAL: offset in sym */
};

struct expr {
	struct term t[OFFSETS_MAX_TERMS];
	int n;
};


struct site_rec {
	char name[16];		/* "slowpath", "values", ... */
	uint64_t addr;		/* link-time */
	uint64_t file_offset;
	enum insn_class cls;
	char insn[80];		/* AT&T text, checked against the binary */
	bool slowpath;		/* reached only when mem_used > maxmemory */
	/*
	 * Format 2: reached once by every call that goes on to evict, before
	 * the slow path, and by no call with mem_reported <= maxmemory; its
	 * values are kept for the call's slow-path site.
	 */
	bool early;
	enum strategy strategy;
};

struct value_rec {
	bool present;
	int site;		/* index into sites */
	struct expr e;
	enum strategy strategy;
};

struct delete_rec {
	uint64_t addr;
	uint64_t file_offset;
	enum insn_class cls;
	char insn[80];
	enum strategy strategy;
};

/* The two ways on from a jump: taken (a jmp's only one) and not taken. */
enum edge { EDGE_TAKEN, EDGE_NEXT, NEDGES };

/*
 * Format 2: a jump where evicting calls leave the eviction path, after the
 * slow-path site (light plans time evicting calls between the two). Each
 * way on from it either leaves, with the function's return value then (a
 * register or a constant), or stays on the path to another exit; every
 * evicting call leaves exactly once. The slow-path site itself may be one.
 */
struct exit_rec {
	char name[16];
	uint64_t addr;
	uint64_t file_offset;
	enum insn_class cls;
	char insn[80];
	bool leaves[NEDGES];
	struct expr result[NEDGES];	/* where leaves */
	enum strategy strategy;
};

struct global_rec {
	bool present;
	char sym[32];		/* the object it is in ("server"), "" when the address is absolute */
	int64_t off;		/* offset in sym, or the link-time address */
	uint64_t addr;		/* link-time address (sym resolved) */
	enum strategy strategy;
};

struct member_rec {
	bool present;
	int64_t off;		/* bytes from the start of the struct */
	enum strategy strategy;
};

struct part_rec {
	uint64_t addr, size;	/* size 0: unknown (an unnamed part) */
	char name[96];		/* "" when unnamed */
};

struct offsets {
	int format;
	char build_id[129];
	char flavor[16];		/* "redis", "valkey" */
	char version[32];		/* "" unknown */
	char function[96];		/* performEvictions / freeMemoryIfNeeded */
	uint64_t func_addr, func_size;
	struct part_rec part[OFFSETS_MAX_PARTS];
	int nparts;
	bool inlined;			/* getMaxmemoryState inlined into the function */
	struct site_rec site[OFFSETS_MAX_SITES];
	int nsites;
	struct value_rec value[NVARS];
	struct delete_rec del[OFFSETS_MAX_DELETES];
	int ndeletes;
	struct exit_rec exit[OFFSETS_MAX_EXITS];
	int nexits;
	struct global_rec global[NGLOBALS];
	struct member_rec member[NMEMBERS];
};

const char *var_name(enum var v);
const char *global_name(enum global g);
const char *strategy_name(enum strategy s);
int var_parse(const char *s);		/* -1 when unknown */
int global_parse(const char *s);
const char *member_name(enum member m);	/* "client.id", ... */
int member_parse(const char *s);
int strategy_parse(const char *s);

/* "rbx-r12", "[rsp+0x20]+[server+3040]", "mem_reported-mem_used": the file's spelling. */
void expr_format(const struct expr *e, char *buf, size_t len);

/* Whether E reads another variable (a value derived across sites). */
bool expr_derived(const struct expr *e);

/* Parses a file; on error -EINVAL and "FILE:LINE: what is wrong" in ERR. */
int offsets_parse(const char *path, struct offsets *o, char *err, size_t errlen);
int offsets_parse_string(const char *name, const char *text, struct offsets *o, char *err, size_t errlen);

/* Writes O in the format of redprof-offsets(5), with comments for people. */
int offsets_write(const struct offsets *o, FILE *f);

/* "performEvictions+222" or, in an unnamed part, "0x60b66". */
void offsets_code_name(const struct offsets *o, uint64_t addr, char *buf, size_t len);

#endif /* REDPROF_OFFSETS_H */
