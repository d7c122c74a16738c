// SPDX-License-Identifier: BSD-3-Clause
/*
 * capture.c: spooling intervals and summing them.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "util.h"

static void run_start(struct capture_run *r, const struct capture *c)
{
	memset(r, 0, sizeof(*r));
	if (c->spool)
		r->from = spool__end(c->spool);
	sample_init(&r->total);
}

struct capture *capture__new(void)
{
	struct capture *c = xcalloc(1, sizeof(*c));

	run_start(&c->all, c);
	run_start(&c->marked, c);
	return c;
}

void capture__free(struct capture *c)
{
	if (!c)
		return;
	spool__close(c->spool);
	free(c);
}

int capture__spool_in(struct capture *c, const char *dir)
{
	c->spool_err = spool__open(dir, sizeof(struct sample), &c->spool);
	if (c->spool_err)
		c->spool = NULL;
	run_start(&c->all, c);
	run_start(&c->marked, c);
	return c->spool_err;
}

static void run_add(struct capture_run *r, const struct sample *iv, bool kept)
{
	if (!r->n)
		r->start_real_ns = iv->end_real_ns - iv->ns;
	r->n++;
	r->dropped += !kept;
	sample_add(&r->total, iv);
}

void capture__add(struct capture *c, const struct sample *iv)
{
	bool kept = false;
	int err;

	if (c->spool) {
		err = spool__append(c->spool, iv);
		kept = !err;
		if (err && !c->spool_err)
			c->spool_err = err;
	}
	run_add(&c->all, iv, kept);
	run_add(&c->marked, iv, kept);
}

void capture__mark(struct capture *c)
{
	run_start(&c->marked, c);
}

int capture__each(const struct capture *c, const struct capture_run *run,
		  int (*fn)(const struct sample *iv, void *arg), void *arg)
{
	struct spool_reader r;
	struct sample *iv;
	int err = 0;

	if (!c->spool)
		return 0;
	iv = xmalloc(sizeof(*iv));
	spool_reader__init(&r, c->spool, run->from);
	while (!err) {
		err = spool_reader__next(&r, iv);
		if (err <= 0)
			break;
		err = fn(iv, arg);
	}
	spool_reader__fini(&r);
	free(iv);
	return err;
}
