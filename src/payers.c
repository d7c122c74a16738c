// SPDX-License-Identifier: BSD-3-Clause
/*
 * payers.c: see payers.h. The map holds at most EV_PAYERS pairs, so a
 * linear table of them, searched by key, is enough.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "payers.h"
#include "util.h"

struct sums {
	uint64_t rounds, ns, keys;
};

struct entry {
	struct ev_payer_key key;
	char client[EV_NAME_LEN + 1], command[EV_NAME_LEN + 1];
	struct sums now, prev, base;
};

struct payers {
	int fd;
	struct entry *e;
	size_t n;
	struct payer_row *iv, *total;	/* the last views asked for */
};

struct payers *payers__new(int map_fd)
{
	struct payers *p = xcalloc(1, sizeof(*p));

	p->fd = map_fd;
	p->e = xcalloc(EV_PAYERS, sizeof(*p->e));
	p->iv = xcalloc(EV_PAYERS, sizeof(*p->iv));
	p->total = xcalloc(EV_PAYERS, sizeof(*p->total));
	return p;
}

void payers__free(struct payers *p)
{
	if (!p)
		return;
	free(p->e);
	free(p->iv);
	free(p->total);
	free(p);
}

static struct entry *entry_of(struct payers *p, const struct ev_payer_key *k, const struct ev_payer *v)
{
	struct entry *e;

	for (size_t i = 0; i < p->n; i++)
		if (p->e[i].key.client_id == k->client_id && p->e[i].key.cmd == k->cmd)
			return &p->e[i];
	if (p->n == EV_PAYERS)
		return NULL;
	e = &p->e[p->n++];
	memset(e, 0, sizeof(*e));
	e->key = *k;
	/* The kernel's copies need not end in NUL: they were read with a bound. */
	memcpy(e->client, v->client, EV_NAME_LEN);
	memcpy(e->command, v->command, EV_NAME_LEN);
	return e;
}

static int by_rounds(const void *a, const void *b)
{
	const struct payer_row *x = a, *y = b;

	if (x->rounds != y->rounds)
		return x->rounds < y->rounds ? 1 : -1;
	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

/* Into ROWS, what each entry added from FROM to TO (offsets of struct entry's sums), most rounds first. */
static void view(const struct payers *p, size_t from, size_t to, struct payer_row *rows, struct payer_view *out)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct entry *e = &p->e[i];
		const struct sums *a = (const void *)((const char *)e + from), *b = (const void *)((const char *)e + to);
		struct payer_row *r = &rows[n];

		if (b->rounds == a->rounds)
			continue;
		r->client_id = e->key.client_id;
		r->cmd = e->key.cmd;
		memcpy(r->client, e->client, sizeof(r->client));
		memcpy(r->command, e->command, sizeof(r->command));
		r->rounds = b->rounds - a->rounds;
		r->ns = b->ns - a->ns;
		r->keys = b->keys - a->keys;
		n++;
	}
	qsort(rows, n, sizeof(*rows), by_rounds);
	out->rows = rows;
	out->n = n;
}

int payers__interval(struct payers *p, struct payer_view *out)
{
	struct ev_payer_key k, next;
	struct ev_payer v;
	bool first = true;
	int err = 0;

	for (size_t i = 0; i < p->n; i++)
		p->e[i].prev = p->e[i].now;
	while (!bpf_map_get_next_key(p->fd, first ? NULL : &k, &next)) {
		struct entry *e;

		first = false;
		k = next;
		if (bpf_map_lookup_elem(p->fd, &k, &v)) {
			err = -errno;
			continue;
		}
		e = entry_of(p, &k, &v);
		if (e)
			e->now = (struct sums){ v.rounds, v.ns, v.keys };
	}
	view(p, offsetof(struct entry, prev), offsetof(struct entry, now), p->iv, out);
	return err;
}

void payers__total(struct payers *p, struct payer_view *out)
{
	view(p, offsetof(struct entry, base), offsetof(struct entry, now), p->total, out);
}

void payers__reset(struct payers *p)
{
	for (size_t i = 0; i < p->n; i++)
		p->e[i].base = p->e[i].now;
}

void payer_sums_add(struct payer_sums *acc, const struct payer_sums *v)
{
	acc->rounds += v->rounds;
	acc->ns += v->ns;
	acc->keys += v->keys;
}

static void rest_add(struct payer_top *t, const struct payer_row *r)
{
	payer_sums_add(&t->rest, &(struct payer_sums){ r->rounds, r->ns, r->keys });
}

void payer_top_of(struct payer_top *t, const struct payer_view *v)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < v->n; i++) {
		if (t->n < SAMPLE_PAYERS)
			t->row[t->n++] = v->rows[i];
		else
			rest_add(t, &v->rows[i]);
	}
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
