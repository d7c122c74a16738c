// SPDX-License-Identifier: BSD-3-Clause
/*
 * offsets_gen.c: from a binary to its offset file.
 *
 * Both strategies answer the same question per slow-path candidate: which
 * expression gives each variable there. The sites are then chosen for
 * cost: the fewest sites, emulated instructions over single-stepped ones,
 * and the earliest on the slow path. Every site on the slow path is hit
 * once per evicting call and never by a call that does not evict.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "server_fields.h"
#include "site_disasm.h"
#include "util.h"

__attribute__((format(printf, 2, 3)))
static void note(struct gen_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->nnotes == GEN_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->nnotes++], sizeof(r->notes[0]), fmt, ap);
	va_end(ap);
}

/* Names a global for the file: server+OFFSET when it is a field of server. */
static void name_global(const struct elf_image *img, uint64_t addr, char *sym, size_t symlen, int64_t *off)
{
	const struct elf_sym *obj = elf_image__object_at(img, addr);

	if (obj && !strcmp(obj->name, "server")) {
		snprintf(sym, symlen, "server");
		*off = (int64_t)(addr - obj->addr);
	} else {
		sym[0] = '\0';
		*off = (int64_t)addr;
	}
}

static void set_global(const struct elf_image *img, struct global_rec *g, uint64_t addr, enum strategy s)
{
	g->present = true;
	g->addr = addr;
	g->strategy = s;
	name_global(img, addr, g->sym, sizeof(g->sym), &g->off);
}

/* What the strategies found at each candidate. */
struct found {
	bool have[ANALYSIS_MAX_CANDIDATES][NVARS];
	struct expr e[ANALYSIS_MAX_CANDIDATES][NVARS];
	enum strategy by[ANALYSIS_MAX_CANDIDATES][NVARS];
};

static unsigned mask_at(const struct found *fd, size_t c)
{
	unsigned m = 0;

	for (int v = 0; v < NVARS; v++)
		if (fd->have[c][v])
			m |= 1U << v;
	return m;
}

/* Lower is better: single-stepped sites first, then the number of sites, then position. */
static long cost(const struct evict_analysis *a, const size_t *sel, int n)
{
	long c = 0;

	for (int i = 0; i < n; i++) {
		const struct insn *in = code_at(&a->flow->code, a->cand[sel[i]]);

		c += (in->cls == INSN_EMULATED ? 0 : 1000000) + 10000 + (long)sel[i];
	}
	return c;
}

/*
 * The cheapest set of at most two candidates covering every variable found
 * anywhere, else a greedy cover. SEL gets candidate indices in path order.
 */
static int choose(const struct evict_analysis *a, const struct found *fd, size_t *sel)
{
	unsigned want = 0;
	long best = -1;
	int n = 0;

	for (size_t c = 0; c < a->ncand; c++)
		want |= mask_at(fd, c);
	for (size_t i = 0; i < a->ncand; i++) {
		for (size_t j = i; j < a->ncand; j++) {
			size_t s[2] = { i, j };
			int k = i == j ? 1 : 2;
			long c;

			if ((mask_at(fd, i) | mask_at(fd, j)) != want)
				continue;
			c = cost(a, s, k);
			if (best < 0 || c < best) {
				best = c;
				n = k;
				sel[0] = i;
				sel[1] = j;
			}
		}
	}
	if (best >= 0)
		return n;
	/* Greedy: each step adds the candidate covering most of what is missing. */
	for (unsigned got = 0; got != want && n < OFFSETS_MAX_SITES; n++) {
		size_t pick = 0;
		int most = -1;

		for (size_t c = 0; c < a->ncand; c++) {
			int cover = __builtin_popcount(mask_at(fd, c) & ~got);
			const struct insn *in = code_at(&a->flow->code, a->cand[c]);

			cover = cover * 2 + (in->cls == INSN_EMULATED);
			if (cover > most) {
				most = cover;
				pick = c;
			}
		}
		sel[n] = pick;
		got |= mask_at(fd, pick);
	}
	for (int i = 1; i < n; i++)	/* path order */
		for (int j = i; j > 0 && sel[j] < sel[j - 1]; j--) {
			size_t t = sel[j];

			sel[j] = sel[j - 1];
			sel[j - 1] = t;
		}
	return n;
}

static void fill_site(const struct evict_analysis *a, struct site_rec *s, uint64_t addr, enum strategy st)
{
	const struct insn *in = code_at(&a->flow->code, addr);

	s->addr = addr;
	s->cls = (enum insn_class)in->cls;
	s->strategy = st;
	elf_image__file_offset(a->img, addr, &s->file_offset);
	disasm_text(a->img, addr, s->insn, sizeof(s->insn));
}

/* Turns the chosen candidates into sites and values. */
static void place(const struct evict_analysis *a, const struct found *fd, enum strategy st, struct offsets *o)
{
	size_t sel[OFFSETS_MAX_SITES] = { 0 };
	int n = choose(a, fd, sel);

	if (!n) {
		/* Nothing located: still mark evicting calls, at the cheapest slow-path instruction. */
		size_t pick = 0;

		for (size_t c = 0; c < a->ncand; c++)
			if (code_at(&a->flow->code, a->cand[c])->cls == INSN_EMULATED) {
				pick = c;
				break;
			}
		sel[0] = pick;
		n = 1;
	}
	for (int i = 0; i < n; i++) {
		struct site_rec *s = &o->site[o->nsites++];

		snprintf(s->name, sizeof(s->name), i ? "values%d" : "slowpath", i + 1);
		fill_site(a, s, a->cand[sel[i]], st);
		s->slowpath = i == 0;
		for (int v = 0; v < NVARS; v++) {
			if (o->value[v].present || !fd->have[sel[i]][v])
				continue;
			o->value[v].present = true;
			o->value[v].site = o->nsites - 1;
			o->value[v].e = fd->e[sel[i]][v];
			o->value[v].strategy = fd->by[sel[i]][v];
		}
	}
}

/* Names the global terms of values like the globals: server+OFFSET. */
static void name_terms(const struct elf_image *img, struct offsets *o)
{
	for (int v = 0; v < NVARS; v++)
		for (int i = 0; i < o->value[v].e.n; i++) {
			struct term *t = &o->value[v].e.t[i];

			if (t->kind == TERM_GLOBAL)
				name_global(img, (uint64_t)t->off, t->sym, sizeof(t->sym), &t->sym_off);
		}
}

/*
 * Each variable at each candidate: from DWARF when there is DWARF, from the
 * code when there is not, and in automatic mode from the code where DWARF
 * has no answer.
 */
static void locate_all(const struct evict_analysis *a, struct dwarf_ctx *d, enum strategy mode, struct found *fd,
		       struct gen_result *r)
{
	char why[NVARS][256] = { "" };
	bool use_disasm = mode != STRATEGY_DWARF;

	for (size_t c = 0; c < a->ncand; c++) {
		struct loc_table lt;
		bool have_lt = false;

		for (int v = 0; v < NVARS; v++) {
			if (d && !dwarf_locate(d, a, c, (enum var)v, &fd->e[c][v], why[v], sizeof(why[v]))) {
				fd->have[c][v] = true;
				fd->by[c][v] = STRATEGY_DWARF;
				continue;
			}
			if (!use_disasm)
				continue;
			if (!have_lt && disasm_locations(a, c, &lt))
				break;
			have_lt = true;
			if (!disasm_locate(a, &lt, (enum var)v, &fd->e[c][v])) {
				fd->have[c][v] = true;
				fd->by[c][v] = STRATEGY_DISASM;
			}
		}
	}
	for (int v = 0; v < NVARS; v++) {
		bool any = false;

		for (size_t c = 0; c < a->ncand; c++)
			any |= fd->have[c][v];
		if (!any)
			note(r, "%s: not found on the slow path%s%s", var_name((enum var)v), why[v][0] ? ": " : "", why[v]);
	}
}

static void add_deletes(const struct evict_analysis *a, struct offsets *o)
{
	uint64_t dels[OFFSETS_MAX_DELETES];
	int n = 0;

	if (find_delete_calls(a->flow, dels, OFFSETS_MAX_DELETES, &n))
		return;
	for (int i = 0; i < n; i++) {
		struct delete_rec *d = &o->del[o->ndeletes++];
		struct site_rec tmp = { 0 };

		fill_site(a, &tmp, dels[i], STRATEGY_DISASM);
		d->addr = tmp.addr;
		d->file_offset = tmp.file_offset;
		d->cls = tmp.cls;
		d->strategy = STRATEGY_DISASM;
		snprintf(d->insn, sizeof(d->insn), "%s", tmp.insn);
	}
}

/* Globals the dwarf strategy did not give, from the code (after add_deletes). */
static void disasm_globals(const struct evict_analysis *a, const struct elf_image *img, struct offsets *o,
			   struct gen_result *r)
{
	uint64_t dels[OFFSETS_MAX_DELETES], addr;

	for (int i = 0; i < o->ndeletes; i++)
		dels[i] = o->del[i].addr;

	if (!o->global[G_MAXMEMORY].present && a->maxmemory_known)
		set_global(img, &o->global[G_MAXMEMORY], a->maxmemory, STRATEGY_DISASM);
	if (!o->global[G_USED_MEMORY].present && a->used_memory_known)
		set_global(img, &o->global[G_USED_MEMORY], a->used_memory, STRATEGY_DISASM);
	if (!o->global[G_STAT_EVICTEDKEYS].present) {
		if (!o->ndeletes)
			note(r, "stat_evictedkeys: not found, and no call to a known delete function: keys evicted "
				"are not available for this build");
		else if (!find_evictedkeys(a->flow, dels, o->ndeletes, &addr))
			set_global(img, &o->global[G_STAT_EVICTEDKEYS], addr, STRATEGY_DISASM);
		else
			note(r, "stat_evictedkeys: no single server field is incremented after the delete calls; "
				"keys evicted will be counted at the delete call sites (one probe hit per key)");
	}
	if (!o->global[G_STAT_NUMCOMMANDS].present) {
		if (!find_numcommands(img, &addr))
			set_global(img, &o->global[G_STAT_NUMCOMMANDS], addr, STRATEGY_DISASM);
		else
			note(r, "stat_numcommands: call() has no single 64-bit increment of a server field; "
				"commands will be counted with a probe on processCommand");
	}
}

static void fill_header(const struct analysis *an, const char *flavor, const char *version,
			const struct flow *f, bool inlined, struct offsets *o)
{
	o->format = OFFSETS_FORMAT;
	snprintf(o->build_id, sizeof(o->build_id), "%s", an->img->build_id);
	snprintf(o->flavor, sizeof(o->flavor), "%s", flavor);
	snprintf(o->version, sizeof(o->version), "%s", version);
	snprintf(o->function, sizeof(o->function), "%s", an->evict.name);
	o->func_addr = an->evict.addr;
	o->func_size = an->evict.size;
	o->inlined = inlined;
	for (int i = 1; f && i < f->nparts && o->nparts < OFFSETS_MAX_PARTS; i++) {
		struct part_rec *p = &o->part[o->nparts++];

		p->addr = f->part[i].start;
		p->size = f->part[i].named ? f->part[i].end - f->part[i].start : 0;
		snprintf(p->name, sizeof(p->name), "%s", f->part[i].named ? f->part[i].name : "");
	}
}

/* The DWARF to use: none when forced to disasm, or (automatically) when it does not describe the function. */
static int open_dwarf(struct analysis *an, enum strategy strategy, struct dwarf_ctx **d, struct gen_result *r)
{
	*d = strategy == STRATEGY_DISASM ? NULL : context_dwarf(an);
	if (!*d && strategy == STRATEGY_DWARF) {
		snprintf(r->why, sizeof(r->why), "no DWARF for build-id %s: not in the file, and no debug file "
			 "under /usr/lib/debug/.build-id or by .gnu_debuglink", an->img->build_id);
		return -ENODATA;
	}
	return 0;
}

int analysis__generate(struct analysis *an, const char *flavor, const char *version, enum strategy strategy,
		       struct offsets *o, struct gen_result *r)
{
	const struct evict_analysis *a;
	struct dwarf_ctx *d;
	struct found *fd;
	uint64_t hint = 0;
	char why[256];
	bool locate;
	int err;

	memset(o, 0, sizeof(*o));
	memset(r, 0, sizeof(*r));
	if (!an->img->build_id[0]) {
		snprintf(r->why, sizeof(r->why), "the executable has no GNU build-id to key an offset file by");
		return -ENODATA;
	}
	err = open_dwarf(an, strategy, &d, r);
	if (err)
		return err;
	if (d) {
		note(r, "debug information: %s", dwarf_ctx_source(d));
		dwarf_globals(d, an->img, o->global);
		if (o->global[G_MAXMEMORY].present)
			hint = o->global[G_MAXMEMORY].addr;
	}

	err = context_runs(an, hint, &a);
	fill_header(an, flavor, version, a->flow, a->inlined, o);
	if (!a->flow) {
		snprintf(r->why, sizeof(r->why), "%s", a->why);
		return err;
	}
	locate = !err;
	if (!err && a->narrow)
		note(r, "the slow path holds for runs with every 4-byte field in the high half of a word at 0: "
			"with other values the code and its helpers' own code disagree");
	if (err) {
		note(r, "no value sites: %s", a->why);
	} else if (d && dwarf_prepare(d, a, why, sizeof(why))) {
		/* Automatic: what DWARF cannot say, the code may. */
		if (strategy == STRATEGY_DWARF)
			note(r, "no value sites: %s", why);
		else
			note(r, "dwarf: %s; the values come from the disasm strategy", why);
		locate = strategy != STRATEGY_DWARF;
		d = NULL;
	}
	r->strategy = d ? STRATEGY_DWARF : STRATEGY_DISASM;
	if (locate) {
		fd = xcalloc(1, sizeof(*fd));
		locate_all(a, d, strategy, fd, r);
		place(a, fd, r->strategy, o);
		name_terms(an->img, o);
		free(fd);
	}
	add_deletes(a, o);
	disasm_globals(a, an->img, o, r);
	/* What we generate passes the same checks as any file someone hands us. */
	return analysis__verify(an, o, r->why, sizeof(r->why));
}
