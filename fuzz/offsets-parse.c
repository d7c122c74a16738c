// SPDX-License-Identifier: BSD-3-Clause
/*
 * offsets-parse.c: libFuzzer harness for the offset-file parser,
 * offsets_parse_string(), the first thing a file given with --offsets
 * meets. Any input is either refused with a message naming the file, or
 * accepted; an accepted file written back by offsets_write() must parse
 * again to the same records (what `redprof offsets generate` writes is
 * read by another redprof). Seeds: fuzz/corpus/offsets/.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offsets.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_expr(const struct expr *a, const struct expr *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++) {
		const struct term *x = &a->t[i], *y = &b->t[i];

		if (x->kind != y->kind || x->sign != y->sign || x->reg != y->reg || x->var != y->var ||
		    x->off != y->off || x->nfrom != y->nfrom || memcmp(x->from, y->from, sizeof(x->from)) ||
		    strcmp(x->sym, y->sym) || x->sym_off != y->sym_off)
			return false;
	}
	return true;
}

/* What a reader acts on: the sites, values, exits, delete calls and globals. */
static const char *differs(const struct offsets *a, const struct offsets *b)
{
	if (strcmp(a->build_id, b->build_id) || a->func_addr != b->func_addr || a->func_size != b->func_size)
		return "header";
	if (a->nsites != b->nsites || a->ndeletes != b->ndeletes ||
	    a->nparts != b->nparts || a->nexits != b->nexits)
		return "record counts";
	for (int i = 0; i < a->nsites; i++)
		if (a->site[i].addr != b->site[i].addr || a->site[i].file_offset != b->site[i].file_offset ||
		    a->site[i].cls != b->site[i].cls || a->site[i].slowpath != b->site[i].slowpath ||
		    a->site[i].early != b->site[i].early || strcmp(a->site[i].insn, b->site[i].insn))
			return "a site";
	for (int i = 0; i < a->nexits; i++) {
		const struct exit_rec *x = &a->exit[i], *y = &b->exit[i];

		if (x->addr != y->addr || x->file_offset != y->file_offset || strcmp(x->insn, y->insn))
			return "an exit";
		for (int e = 0; e < NEDGES; e++)
			if (x->leaves[e] != y->leaves[e] || (x->leaves[e] && !same_expr(&x->result[e], &y->result[e])))
				return "an exit's result";
	}
	for (int v = 0; v < NVARS; v++)
		if (a->value[v].present != b->value[v].present ||
		    (a->value[v].present && (a->value[v].site != b->value[v].site ||
					     !same_expr(&a->value[v].e, &b->value[v].e))))
			return "a value";
	for (int i = 0; i < a->ndeletes; i++)
		if (a->del[i].addr != b->del[i].addr || a->del[i].file_offset != b->del[i].file_offset)
			return "a delete call";
	for (int g = 0; g < NGLOBALS; g++)
		if (a->global[g].present != b->global[g].present || strcmp(a->global[g].sym, b->global[g].sym) ||
		    a->global[g].off != b->global[g].off)
			return "a global";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1), *written = NULL, err[512] = "";
	struct offsets *a = xcalloc(2, sizeof(*a)), *b = a + 1;
	const char *what;
	size_t len = 0;
	FILE *f;

	memcpy(text, data, size);
	text[size] = '\0';
	if (offsets_parse_string("in.offsets", text, a, err, sizeof(err))) {
		if (strncmp(err, "in.offsets", 10))
			fatal("a refusal that does not name the file: '%s'", err);
		goto out;
	}
	f = open_memstream(&written, &len);
	if (!f || offsets_write(a, f) || fclose(f))
		fatal("offsets_write failed");
	if (offsets_parse_string("out.offsets", written, b, err, sizeof(err)))
		fatal("an accepted file, written back, is refused: %s\n%s", err, written);
	what = differs(a, b);
	if (what)
		fatal("an accepted file, written back, reads with %s changed:\n%s", what, written);
out:
	free(written);
	free(a);
	free(text);
	return 0;
}
