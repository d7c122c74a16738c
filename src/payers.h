/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * payers.h: who eviction rounds ran for. The kernel adds each round to
 * its client and command in a bounded hash map (evict.h's `payers`), one
 * set of pairs per interval parity; this drains the pairs of each interval
 * as it ends and keeps, per pair, what they added up to since the
 * capture's start, so that an interval and the whole capture are what
 * they added, as for every other count.
 */
#ifndef REDPROF_PAYERS_H
#define REDPROF_PAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "evict.h"

struct payer_row {
	uint64_t client_id;		/* 0 with no command: no client (the eviction timer) */
	uint64_t cmd;			/* the command's address in the server, 0: none */
	char client[EV_NAME_LEN + 1];	/* CLIENT SETNAME's (its first EV_NAME_LEN bytes), "" when none */
	char command[EV_NAME_LEN + 1];
	uint64_t rounds, ns, keys;
};

/* Rounds, their time and keys. */
struct payer_sums {
	uint64_t rounds, ns, keys;
};

/*
 * The pairs with most rounds in a sample, and the sum of the rest: what
 * an interval (or a capture) keeps of the table. Added up over intervals,
 * a pair that drops out of the top goes into the rest, so the sums stay
 * exact while the top of a long span is that of its intervals.
 */
#define SAMPLE_PAYERS 8

struct payer_top {
	struct payer_row row[SAMPLE_PAYERS];
	uint32_t n;
	struct payer_sums rest;
};

void payer_sums_add(struct payer_sums *acc, const struct payer_sums *v);
/* Adds IV's pairs and rest to ACC. */
void payer_top_add(struct payer_top *acc, const struct payer_top *iv);

struct payers;

/* A reader of the kernel's map MAP_FD (a BPF map descriptor the caller owns). */
struct payers *payers__new(int map_fd);
void payers__free(struct payers *p);

/* Drains the pairs of the interval of epoch parity PARITY, which just ended: what it added, in OUT. */
int payers__interval(struct payers *p, unsigned parity, struct payer_top *out);
/* Since the capture's start (or the last reset) up to the last interval's end. */
void payers__total(struct payers *p, struct payer_top *out);
/* Starts the total afresh from the last interval's end. */
void payers__reset(struct payers *p);

#endif /* REDPROF_PAYERS_H */
