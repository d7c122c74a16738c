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
#include <stdlib.h>
#include <string.h>

#include "client_fields.h"
#include "context.h"
#include "exits.h"
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

/*
 * Variables no slow-path candidate holds may still be read at an early
 * site: an emulated instruction every evicting call runs once on its way
 * to the slow path (right after the entry evaluation, where clang's LTO
 * builds keep mem_reported only until mem_used replaces it). The one
 * holding the most of them, the latest on the way, is taken.
 */
static void place_early(const struct evict_analysis *a, struct offsets *o)
{
	const struct scenario *e0 = NULL;
	uint64_t slow = o->site[0].addr, best_addr = 0;
	struct expr best_e[NVARS];
	unsigned missing = 0, best = 0;

	for (int v = 0; v < NVARS; v++)
		if (!o->value[v].present)
			missing |= 1U << v;
	for (size_t k = 0; k < a->nsc && !e0; k++)
		if (a->sc[k].evicts)
			e0 = &a->sc[k];
	if (!missing || !e0 || o->nsites == OFFSETS_MAX_SITES)
		return;
	for (size_t i = e0->slow_step; i-- > 0;) {
		uint64_t addr = e0->run.trace[i].addr;
		const struct insn *in = code_at(&a->flow->code, addr);
		struct expr e[NVARS];
		struct loc_table lt;
		unsigned got = 0;

		if (in->cls != INSN_EMULATED || evict_early(a, addr, slow) ||
		    disasm_locations_at(a, addr, true, &lt))
			continue;
		for (int v = 0; v < NVARS; v++)
			if ((missing >> v & 1) && !disasm_locate(a, &lt, (enum var)v, &e[v]))
				got |= 1U << v;
		if (__builtin_popcount(got) > __builtin_popcount(best)) {
			best = got;
			best_addr = addr;
			memcpy(best_e, e, sizeof(e));
		}
	}
	if (!best)
		return;
	fill_site(a, &o->site[o->nsites], best_addr, STRATEGY_DISASM);
	snprintf(o->site[o->nsites].name, sizeof(o->site[0].name), "early");
	o->site[o->nsites].early = true;
	for (int v = 0; v < NVARS; v++) {
		if (!(best >> v & 1))
			continue;
		o->value[v] = (struct value_rec){ .present = true, .site = o->nsites, .e = best_e[v],
						  .strategy = STRATEGY_DISASM };
	}
	o->nsites++;
}

/*
 * A variable no site holds, worked out at the slow-path site from ones
 * read there or at the early site, by getMaxmemoryState's identities:
 * mem_used = mem_reported - overhead, mem_tofree = mem_used - maxmemory.
 */
static void place_derived(const struct evict_analysis *a, struct offsets *o)
{
	static const struct { enum var v, x, y; int sy; bool mm; } ids[] = {
		{ VAR_OVERHEAD, VAR_MEM_REPORTED, VAR_MEM_USED, -1, false },
		{ VAR_MEM_REPORTED, VAR_MEM_USED, VAR_OVERHEAD, 1, false },
		{ VAR_MEM_USED, VAR_MEM_REPORTED, VAR_OVERHEAD, -1, false },
		{ VAR_MEM_USED, VAR_MEM_TOFREE, VAR_NONE, 1, true },
		{ VAR_MEM_TOFREE, VAR_MEM_USED, VAR_NONE, -1, true },
	};
	const struct site_rec *slow = &o->site[0];

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		struct value_rec *r = &o->value[ids[i].v];
		const struct value_rec *x = &o->value[ids[i].x];
		const struct value_rec *y = ids[i].y == VAR_NONE ? NULL : &o->value[ids[i].y];
		struct expr e = { .n = 2 };

		if (r->present || !x->present || expr_derived(&x->e) || (y && (!y->present || expr_derived(&y->e))) ||
		    (x->site && !o->site[x->site].early) || (y && y->site && !o->site[y->site].early))
			continue;
		e.t[0] = (struct term){ .kind = TERM_VAR, .sign = 1, .var = ids[i].x };
		if (y)
			e.t[1] = (struct term){ .kind = TERM_VAR, .sign = ids[i].sy, .var = ids[i].y };
		else
			e.t[1] = (struct term){ .kind = TERM_GLOBAL, .sign = ids[i].sy, .off = (int64_t)a->maxmemory };
		if (!evict_check_at(a, slow->addr, false, &e, ids[i].v))
			continue;
		*r = (struct value_rec){ .present = true, .site = 0, .e = e, .strategy = STRATEGY_DISASM };
	}
}

/* Where evicting calls leave the eviction path: what a light plan times them to. */
static void place_exits(const struct analysis *an, const struct evict_analysis *a, struct offsets *o,
			struct gen_result *r)
{
	struct exit_site x[OFFSETS_MAX_EXITS];
	char why[256];
	int n, hits;

	if (exits_find(a->flow, o->site[0].addr, !strcmp(an->evict.name, "freeMemoryIfNeeded"), x,
		       OFFSETS_MAX_EXITS, &n, &hits, why, sizeof(why))) {
		note(r, "exits: %s; only the entry and return probes can time evicting calls", why);
		return;
	}
	for (int i = 0; i < n; i++) {
		struct exit_rec *e = &o->exit[o->nexits++];
		struct site_rec tmp = { 0 };

		fill_site(a, &tmp, x[i].addr, STRATEGY_DISASM);
		snprintf(e->name, sizeof(e->name), "exit%d", i + 1);
		e->addr = tmp.addr;
		e->file_offset = tmp.file_offset;
		e->cls = tmp.cls;
		e->strategy = STRATEGY_DISASM;
		snprintf(e->insn, sizeof(e->insn), "%s", tmp.insn);
		memcpy(e->leaves, x[i].leaves, sizeof(e->leaves));
		memcpy(e->result, x[i].result, sizeof(e->result));
	}
	if (hits >= EXITS_LOOPED)
		note(r, "exits: one is on a loop: an evicting call that turns it is hit once per turn");
	else if (hits > 1)
		note(r, "exits: an evicting call may run up to %d exit jumps (a probe hit each) on its way out", hits);
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
static void locate_all(const struct evict_analysis *a, struct debuginfo *d, enum strategy mode, struct found *fd,
		       char why[NVARS][256])
{
	bool use_disasm = mode != STRATEGY_DWARF;

	for (size_t c = 0; c < a->ncand; c++) {
		struct loc_table lt;
		bool have_lt = false;

		for (int v = 0; v < NVARS; v++) {
			if (d && !debuginfo_locate(d, a, c, (enum var)v, &fd->e[c][v], why[v], sizeof(why[v]))) {
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

/*
 * Who rounds ran for, where the dwarf strategy did not say: current_client
 * and the members together, or none of them (a table needs all).
 */
static void disasm_payers(const struct evict_analysis *a, const struct elf_image *img, struct offsets *o)
{
	struct member_rec m[NMEMBERS] = { { 0 } };
	char why[256];
	uint64_t addr;

	if (o->global[G_CURRENT_CLIENT].present)
		return;
	for (int i = 0; i < NMEMBERS; i++)
		if (o->member[i].present)
			return;
	if (client_current(img, &a->flow->fn, &addr, why, sizeof(why)) || client_members(img, m, why, sizeof(why)))
		return;
	set_global(img, &o->global[G_CURRENT_CLIENT], addr, STRATEGY_DISASM);
	memcpy(o->member, m, sizeof(m));
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
	if (!o->global[G_MAXMEMORY_POLICY].present && !find_maxmemory_policy(a->flow, &addr))
		set_global(img, &o->global[G_MAXMEMORY_POLICY], addr, STRATEGY_DISASM);
	if (!o->global[G_STAT_NUMCOMMANDS].present) {
		if (!find_numcommands(img, &addr))
			set_global(img, &o->global[G_STAT_NUMCOMMANDS], addr, STRATEGY_DISASM);
		else
			note(r, "stat_numcommands: call() has no single 64-bit increment of a server field; "
				"commands will be counted with a probe on processCommand");
	}
	disasm_payers(a, img, o);
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
static int open_dwarf(struct analysis *an, enum strategy strategy, struct debuginfo **d, struct gen_result *r)
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
	struct debuginfo *d;
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
		note(r, "debug information: %s", debuginfo_source(d));
		debuginfo_globals(d, an->img, o->global);
		debuginfo_members(d, an->img, o->member);
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
	} else if (d && debuginfo_prepare(d, a, why, sizeof(why))) {
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
		char nowhere[NVARS][256] = { "" };

		fd = xcalloc(1, sizeof(*fd));
		locate_all(a, d, strategy, fd, nowhere);
		place(a, fd, r->strategy, o);
		if (strategy != STRATEGY_DWARF) {
			place_early(a, o);
			place_derived(a, o);
		}
		for (int v = 0; v < NVARS; v++)
			if (!o->value[v].present)
				note(r, "%s: not found on the slow path%s%s", var_name((enum var)v),
				     nowhere[v][0] ? ": " : "", nowhere[v]);
		name_terms(an->img, o);
		place_exits(an, a, o, r);
		free(fd);
	}
	add_deletes(a, o);
	disasm_globals(a, an->img, o, r);
	/* What we generate passes the same checks as any file someone hands us. */
	return analysis__verify(an, o, r->why, sizeof(r->why));
}

/* "server+1264 (0x25c798)": how a global reads in a message. */
static void global_words(const struct global_rec *g, char *buf, size_t len)
{
	if (g->sym[0])
		snprintf(buf, len, "%s+%" PRId64 " (0x%" PRIx64 ")", g->sym, g->off, g->addr);
	else
		snprintf(buf, len, "0x%" PRIx64, g->addr);
}

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used >= len)
		return;
	if (used)
		used += (size_t)snprintf(buf + used, len - used, "; ");
	va_start(ap, fmt);
	if (used < len)
		vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

void analysis__cross_check(struct analysis *an, const struct offsets *o, char *disagree, size_t dlen,
			   char *unverified, size_t ulen)
{
	struct offsets *own = xcalloc(1, sizeof(*own));
	struct gen_result *r = xcalloc(1, sizeof(*r));
	bool generated;

	disagree[0] = unverified[0] = '\0';
	generated = !analysis__generate(an, o->flavor, o->version, STRATEGY_NONE, own, r);
	for (int g = 0; g < NGLOBALS; g++) {
		const struct global_rec *mine = &own->global[g], *theirs = &o->global[g];
		char a[96], b[96];

		if (!theirs->present)
			continue;
		if (!generated || !mine->present) {
			append(unverified, ulen, "%s", global_name((enum global)g));
			continue;
		}
		if (mine->addr == theirs->addr)
			continue;
		global_words(theirs, a, sizeof(a));
		global_words(mine, b, sizeof(b));
		append(disagree, dlen, "%s: the file reads %s, redprof's own analysis of this executable finds %s",
		       global_name((enum global)g), a, b);
	}
	for (int m = 0; m < NMEMBERS; m++) {
		const struct member_rec *mine = &own->member[m], *theirs = &o->member[m];

		if (!theirs->present)
			continue;
		if (!generated || !mine->present)
			append(unverified, ulen, "%s", member_name((enum member)m));
		else if (mine->off != theirs->off)
			append(disagree, dlen, "%s: the file reads offset %" PRId64 ", redprof's own analysis of this "
			       "executable finds %" PRId64, member_name((enum member)m), theirs->off, mine->off);
	}
	/* Delete calls count keys only without stat_evictedkeys; each must be one redprof finds. */
	for (int i = 0; i < o->ndeletes && !o->global[G_STAT_EVICTEDKEYS].present; i++) {
		bool found = false;

		for (int k = 0; k < own->ndeletes; k++)
			found |= own->del[k].addr == o->del[i].addr;
		if (!generated || !own->ndeletes)
			append(unverified, ulen, "delete call 0x%" PRIx64, o->del[i].addr);
		else if (!found)
			append(disagree, dlen, "the delete call at 0x%" PRIx64 " is not one redprof's own analysis finds",
			       o->del[i].addr);
	}
	free(own);
	free(r);
}

