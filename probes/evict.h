/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * evict.h: what the eviction probes (evict.bpf.c) and redprof's user side
 * both read. Fixed-width types only; the BPF side fills these structures in
 * its .bss, user space snapshots them each interval and subtracts.
 */
#ifndef REDPROF_EVICT_H
#define REDPROF_EVICT_H

#include <linux/types.h>

#define EV_SLOTS	64	/* log2 buckets of a 64-bit value */
#define EV_MAX_SITES	24	/* probe sites, indexed by their BPF cookie */
#define EV_MAX_TERMS	3	/* terms of a value expression */
#define EV_EPOCHS	3	/* extrema slots: two alternating intervals + whole capture */
#define EV_EPOCH_ALL	2

/*
 * The heat map's slices: the main thread's time in evicting calls and
 * their count, per 10 ms of wall clock (a divisor of a second, so a second
 * is a whole number of slices), in a ring of the last EV_SLICES that user
 * space drains each interval.
 */
#define EV_SLICE_NS	10000000ULL
#define EV_SLICES	8192	/* 81.92 s; a power of two */

/*
 * A sum of counters in the server's memory, as its getter computes it
 * (analysis.h's struct counter_sum, at runtime addresses): the word at
 * base, or count's value of counters stride bytes apart, clamped at cap
 * (capped), plus the word at extra past it.
 */
#define EV_SUM_MAX 512
enum ev_sum_which { EV_SUM_USED_MEMORY, EV_SUM_LAZYFREE_PENDING, EV_NSUMS };
_Static_assert(!(EV_NSUMS & (EV_NSUMS - 1)), "the BPF side masks sum indexes: a power of two");

struct ev_sum {
	__u64 base;		/* 0: unknown */
	__u64 stride;
	__u64 count;		/* 0: one word */
	__u64 extra;		/* 0: none */
	__u32 count_size;	/* 4 or 8 */
	__u32 cap;
	__u8 count_signed;
	__u8 capped;		/* else a count above cap cannot be read */
	__u8 pad[6];
};

/*
 * What each evicting call (a round) did to memory: bytes the server's used
 * memory fell from mem_reported to the round's end; against mem_tofree,
 * what it freed beyond it or fell short of it; and the objects left to
 * the lazyfree thread when it ended.
 */
enum ev_round { EV_FREED, EV_OVERSHOOT, EV_SHORTFALL, EV_LAZYFREE_PENDING, EV_NROUNDS };
_Static_assert(!(EV_NROUNDS & (EV_NROUNDS - 1)), "the BPF side masks round indexes: a power of two");

/*
 * Who an eviction round ran for: the client Redis was serving
 * (server.current_client; none when the eviction timer runs it) and the
 * command it was about to run. Rounds, their time and keys are added up in
 * the hash map `payers` by client, command and the interval's epoch
 * parity; user space drains the parity of each interval that ends, so the
 * map holds two intervals' pairs, at most EV_PAYERS; rounds of pairs that
 * find it full are counted in totals.outside_*.
 */
#define EV_PAYERS 2048
#define EV_NAME_LEN 32

struct ev_payer_spec {
	__u64 current_client;	/* runtime address of server.current_client; 0: unknown */
	__u64 id_off;		/* client.id */
	__u64 cmd_off;		/* client.cmd */
	__u64 name_off;		/* client.name (an object) */
	__u64 ptr_off;		/* object.ptr (its string) */
	__u64 cmdname_off;	/* command.name (a string) */
};

struct ev_payer_key {
	__u64 client_id;	/* 0 with cmd 0: no client */
	__u64 cmd;		/* the command's address in the server */
	__u32 epoch;		/* the interval's parity (epoch & 1) */
	__u32 pad;
};

struct ev_payer {
	__u64 rounds;
	__u64 ns;		/* their latency, summed */
	__u64 keys;
	char client[EV_NAME_LEN];	/* CLIENT SETNAME's, "" when none, when the pair was first seen */
	char command[EV_NAME_LEN];
};

/* Time units of the latency histograms; the kernel fills all three. */
enum ev_unit { EV_NSEC, EV_USEC, EV_MSEC, EV_NUNITS };

/* getMaxmemoryState()'s variables, in src/evict.c's names. */
enum ev_var { EV_MEM_REPORTED, EV_OVERHEAD, EV_MEM_USED, EV_MEM_TOFREE, EV_NVARS };

/* Whether a performEvictions() call reached the eviction path (mem_used > maxmemory). */
enum ev_phase { EV_NOOP, EV_ACTIVE, EV_NPHASES };

/* Return values: EVICT_OK/RUNNING/FAIL are 0/1/2; Redis <= 6.0 returns C_OK 0 / C_ERR -1. */
enum ev_ret { EV_RET_0, EV_RET_1, EV_RET_2, EV_RET_MINUS1, EV_RET_OTHER, EV_NRETS };

/* x86-64 registers in struct pt_regs order, so the index is the field. */
enum ev_reg {
	EV_R15, EV_R14, EV_R13, EV_R12, EV_RBP, EV_RBX, EV_R11, EV_R10,
	EV_R9, EV_R8, EV_RAX, EV_RCX, EV_RDX, EV_RSI, EV_RDI, EV_ORIG_RAX,
	EV_RIP, EV_CS, EV_EFLAGS, EV_RSP, EV_SS, EV_NREGS
};

enum ev_term_kind {
	EV_TERM_NONE,
	EV_TERM_REG,		/* register */
	EV_TERM_MEM_REG,	/* 8-byte read at register + off */
	EV_TERM_MEM_ABS,	/* 8-byte read at runtime address off */
	EV_TERM_VAR,		/* the call's value of variable reg (enum ev_var), read here or kept from an early site */
	EV_TERM_CONST,		/* the number off */
};

struct ev_term {
	__u8 kind;		/* enum ev_term_kind */
	__s8 sign;		/* +1 or -1 */
	__u8 reg;		/* enum ev_reg */
	__u8 pad[5];
	__s64 off;		/* displacement, or runtime address for EV_TERM_MEM_ABS */
};

/* A value as a signed sum of terms, e.g. rbx - r12. */
struct ev_expr {
	struct ev_term t[EV_MAX_TERMS];
};

enum ev_site_kind {
	EV_SITE_ENTRY,		/* performEvictions entry: starts the call's clock (full plan) */
	EV_SITE_RETURN,		/* performEvictions return (uretprobe, full plan) */
	EV_SITE_COMMAND,	/* one hit per command (processCommand) */
	EV_SITE_VALUES,		/* reads getMaxmemoryState's variables */
	EV_SITE_DELETE,		/* a call deleting an evicted key */
	EV_SITE_EXIT,		/* a jump where evicting calls leave the eviction path (light plan) */
};

#define EV_SITE_SLOWPATH 0x1	/* a hit means this call reached the eviction path (light plan: starts its clock) */
#define EV_SITE_EARLY 0x2	/* its values are kept for the call's slow-path site, not counted here */

/* The cookies of the entry and return sites; every other site follows them. */
#define EV_SITE_INDEX_ENTRY 0
#define EV_SITE_INDEX_RETURN 1

/*
 * Light plan exits: a jump's condition in x86's numbering (jcc's low
 * nibble: o no b ae e ne be a s ns p np l ge le g), EV_CC_ALWAYS for jmp;
 * and its ways on (taken, not taken) on which the call leaves.
 */
#define EV_CC_ALWAYS 16
enum ev_way { EV_WAY_TAKEN, EV_WAY_NEXT, EV_NWAYS };

struct ev_site {
	__u32 kind;		/* enum ev_site_kind */
	__u32 flags;		/* EV_SITE_* */
	__u32 vars;		/* bit per enum ev_var read at this site */
	__u32 derived;		/* ... of which worked out from others (EV_TERM_VAR), after the rest */
	__u8 cc;		/* an exit's condition (EV_SITE_EXIT, or a slow-path site that is one) */
	__u8 leaves;		/* bit per enum ev_way on which the call leaves the eviction path */
	__u8 pad[6];
	struct ev_expr expr[EV_NVARS];
	struct ev_expr result[EV_NWAYS];	/* the function's return value when the call leaves that way */
};

struct ev_hist {
	__u64 slots[EV_SLOTS];	/* slot 0: [0, 2); slot i: [2^i, 2^(i+1)) */
	__u64 sum;		/* sum of the values (ns for latency, bytes, keys) */
};

/* Latency of one phase, bucketed in each unit; sum in ns. */
struct ev_lat_hist {
	__u64 slots[EV_NUNITS][EV_SLOTS];
	__u64 sum_ns;
};

/* Everything cumulative since the programs were loaded. */
struct ev_totals {
	__u64 calls;			/* performEvictions entries */
	__u64 returns[EV_NRETS];	/* returns by value */
	__u64 orphan_returns;		/* returns whose entry came before attach */
	__u64 orphan_exits;		/* exits whose slow-path hit came before attach (light plan) */
	__u64 evicting_calls;		/* calls that reached the eviction path */
	__u64 keys_evicted;		/* sum over calls of keys evicted */
	__u64 commands;			/* command-site hits */
	__u64 hits[EV_MAX_SITES];	/* hits by site (cookie); entry and return: calls, returns */
	__u64 other_threads;		/* hits from a thread other than the main one, ignored */
	__u64 read_errors;		/* value terms whose memory could not be read, or kept values missing */
	struct ev_lat_hist lat[EV_NPHASES];
	struct ev_hist var[EV_NVARS];	/* bytes */
	struct ev_hist keys_per_evict;	/* keys evicted by each evicting call */
	struct ev_hist round[EV_NROUNDS];	/* per evicting call, enum ev_round */
	__u64 rounds_grew;		/* evicting calls during which used memory rose, not fell */
	__u64 grew_bytes;		/* ... by this much in all */
	__u64 outside_rounds;		/* evicting calls whose client and command found `payers` full */
	__u64 outside_ns;
	__u64 outside_keys;
	__u64 payer_unread;		/* evicting calls whose client could not be read */
};

struct ev_minmax {
	__u64 min;		/* ~0ULL while empty */
	__u64 max;
};

/* Extremes of one epoch; min/max cannot be subtracted like counts. */
struct ev_extrema {
	struct ev_minmax lat[EV_NPHASES];	/* ns */
	struct ev_minmax var[EV_NVARS];
	struct ev_minmax keys_per_evict;
	struct ev_minmax round[EV_NROUNDS];
};

/* One slice of the ring: what the evicting calls that ended in it took. */
struct ev_slice {
	__u64 slice;		/* its number: (CLOCK_MONOTONIC + slice_shift_ns) / EV_SLICE_NS */
	__u64 busy_ns;		/* their latency, summed */
	__u64 calls;
};

#endif /* REDPROF_EVICT_H */
