// SPDX-License-Identifier: BSD-3-Clause
/*
 * payers.c: see payers.h. Each interval the kernel's pairs of the parity
 * that just ended are read and deleted, so the map holds two intervals'
 * pairs however many clients come and go; what they add up to since the
 * start is kept here, for at most PAYERS_KEPT pairs (the rest is summed).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "payers.h"
#include "util.h"

#define PAYERS_KEPT 4096

struct entry {
	uint64_t client_id, cmd;
	char client[EV_NAME_LEN + 1], command[EV_NAME_LEN + 1];
	struct payer_sums now, base;
};

struct payers {
	int fd;
	struct entry *e;
	size_t n;
	struct payer_sums spill, spill_base;	/* pairs beyond PAYERS_KEPT */
	struct ev_payer_key *keys;		/* a drain's keys */
	struct payer_row *rows;			/* a view's rows */
};

struct payers *payers__new(int map_fd)
{
	struct payers *p = xcalloc(1, sizeof(*p));

	p->fd = map_fd;
	p->e = xcalloc(PAYERS_KEPT, sizeof(*p->e));
	p->keys = xcalloc(EV_PAYERS, sizeof(*p->keys));
	p->rows = xcalloc(EV_PAYERS > PAYERS_KEPT ? EV_PAYERS : PAYERS_KEPT, sizeof(*p->rows));
	return p;
}

void payers__free(struct payers *p)
{
	if (!p)
		return;
	free(p->e);
	free(p->keys);
	free(p->rows);
	free(p);
}

void payer_sums_add(struct payer_sums *acc, const struct payer_sums *v)
{
	acc->rounds += v->rounds;
	acc->ns += v->ns;
	acc->keys += v->keys;
}

static struct entry *entry_of(struct payers *p, const struct payer_row *r)
{
	struct entry *e;

	for (size_t i = 0; i < p->n; i++)
		if (p->e[i].client_id == r->client_id && p->e[i].cmd == r->cmd)
			return &p->e[i];
	if (p->n == PAYERS_KEPT)
		return NULL;
	e = &p->e[p->n++];
	memset(e, 0, sizeof(*e));
	e->client_id = r->client_id;
	e->cmd = r->cmd;
	memcpy(e->client, r->client, sizeof(e->client));
	memcpy(e->command, r->command, sizeof(e->command));
	return e;
}

static int by_rounds(const void *a, const void *b)
{
	const struct payer_row *x = a, *y = b;

	if (x->rounds != y->rounds)
		return x->rounds < y->rounds ? 1 : -1;
	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

static void rest_add(struct payer_top *t, const struct payer_row *r)
{
	payer_sums_add(&t->rest, &(struct payer_sums){ r->rounds, r->ns, r->keys });
}

/* The N rows of ROWS as a top, most rounds first, with REST beyond them. */
static void top_of(struct payer_row *rows, size_t n, const struct payer_sums *rest, struct payer_top *t)
{
	qsort(rows, n, sizeof(*rows), by_rounds);
	memset(t, 0, sizeof(*t));
	t->rest = *rest;
	for (size_t i = 0; i < n; i++) {
		if (t->n < SAMPLE_PAYERS)
			t->row[t->n++] = rows[i];
		else
			rest_add(t, &rows[i]);
	}
}

int payers__interval(struct payers *p, unsigned parity, struct payer_top *out)
{
	struct ev_payer_key k, next;
	struct payer_sums spilled = { 0 };
	size_t nkeys = 0, n = 0;
	bool first = true;
	int err = 0;

	/* Keys first: deleting while walking would restart the walk. */
	while (nkeys < EV_PAYERS && !bpf_map_get_next_key(p->fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (k.epoch == (parity & 1))
			p->keys[nkeys++] = k;
	}
	for (size_t i = 0; i < nkeys; i++) {
		struct payer_row *r = &p->rows[n];
		struct ev_payer v;
		struct entry *e;

		if (bpf_map_lookup_elem(p->fd, &p->keys[i], &v) || bpf_map_delete_elem(p->fd, &p->keys[i])) {
			err = -errno;
			continue;
		}
		memset(r, 0, sizeof(*r));
		r->client_id = p->keys[i].client_id;
		r->cmd = p->keys[i].cmd;
		/* The kernel's copies need not end in NUL: they were read with a bound. */
		memcpy(r->client, v.client, EV_NAME_LEN);
		memcpy(r->command, v.command, EV_NAME_LEN);
		r->rounds = v.rounds;
		r->ns = v.ns;
		r->keys = v.keys;
		e = entry_of(p, r);
		payer_sums_add(e ? &e->now : &spilled, &(struct payer_sums){ v.rounds, v.ns, v.keys });
		n++;
	}
	payer_sums_add(&p->spill, &spilled);
	top_of(p->rows, n, &(struct payer_sums){ 0 }, out);
	return err;
}

void payers__total(struct payers *p, struct payer_top *out)
{
	struct payer_sums rest = p->spill;
	size_t n = 0;

	rest.rounds -= p->spill_base.rounds;
	rest.ns -= p->spill_base.ns;
	rest.keys -= p->spill_base.keys;
	for (size_t i = 0; i < p->n; i++) {
		const struct entry *e = &p->e[i];
		struct payer_row *r = &p->rows[n];

		if (e->now.rounds == e->base.rounds)
			continue;
		r->client_id = e->client_id;
		r->cmd = e->cmd;
		memcpy(r->client, e->client, sizeof(r->client));
		memcpy(r->command, e->command, sizeof(r->command));
		r->rounds = e->now.rounds - e->base.rounds;
		r->ns = e->now.ns - e->base.ns;
		r->keys = e->now.keys - e->base.keys;
		n++;
	}
	top_of(p->rows, n, &rest, out);
}

void payers__reset(struct payers *p)
{
	for (size_t i = 0; i < p->n; i++)
		p->e[i].base = p->e[i].now;
	p->spill_base = p->spill;
}

void payer_top_add(struct payer_top *acc, const struct payer_top *iv)
{
	for (uint32_t i = 0; i < iv->n; i++) {
		const struct payer_row *r = &iv->row[i];
		struct payer_row *least = NULL;
		uint32_t k;

		for (k = 0; k < acc->n; k++)
			if (acc->row[k].client_id == r->client_id && acc->row[k].cmd == r->cmd)
				break;
		if (k < acc->n) {
			acc->row[k].rounds += r->rounds;
			acc->row[k].ns += r->ns;
			acc->row[k].keys += r->keys;
		} else if (acc->n < SAMPLE_PAYERS) {
			acc->row[acc->n++] = *r;
		} else {
			/* Full: the pair with fewer rounds, this one or the least kept, goes to the rest. */
			for (k = 0; k < acc->n; k++)
				if (!least || acc->row[k].rounds < least->rounds)
					least = &acc->row[k];
			if (least->rounds < r->rounds) {
				rest_add(acc, least);
				*least = *r;
			} else {
				rest_add(acc, r);
			}
		}
	}
	payer_sums_add(&acc->rest, &iv->rest);
	qsort(acc->row, acc->n, sizeof(acc->row[0]), by_rounds);
}
