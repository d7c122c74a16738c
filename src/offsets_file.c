// SPDX-License-Identifier: BSD-3-Clause
/*
 * offsets_file.c: the text form of an offset file (redprof-offsets(5)).
 *
 * One record per line, '#' comments, fields separated by blanks, the
 * instruction text in double quotes. The parser is strict: anything it
 * does not know, any malformed number, any duplicate or missing required
 * record is an error naming FILE:LINE, because a file that is half
 * understood must never place a probe.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "offsets.h"
#include "util.h"

static const char *const var_names[NVARS] = { "mem_reported", "overhead", "mem_used", "mem_tofree" };
static const char *const global_names[NGLOBALS] = { "maxmemory", "stat_numcommands", "stat_evictedkeys",
						     "used_memory", "maxmemory_policy", "current_client",
						     "clients_normal_memory" };
static const char *const member_names[NMEMBERS] = { "client.id", "client.cmd", "client.name", "object.ptr",
						     "command.name" };
static const char *const strategy_names[] = { "none", "dwarf", "disasm" };

const char *var_name(enum var v) { return var_names[v]; }
const char *global_name(enum global g) { return global_names[g]; }
const char *member_name(enum member m) { return member_names[m]; }
const char *strategy_name(enum strategy s) { return strategy_names[s]; }

static int lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

int var_parse(const char *s) { return lookup(var_names, NVARS, s); }
int global_parse(const char *s) { return lookup(global_names, NGLOBALS, s); }
int member_parse(const char *s) { return lookup(member_names, NMEMBERS, s); }

int strategy_parse(const char *s)
{
	int i = lookup(strategy_names, 3, s);

	return i > 0 ? i : -1;
}

/* --------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------ */

void offsets_code_name(const struct offsets *o, uint64_t addr, char *buf, size_t len)
{
	/* The innermost named part holding ADDR; the function itself first. */
	if (addr >= o->func_addr && addr < o->func_addr + o->func_size) {
		if (addr == o->func_addr)
			snprintf(buf, len, "%s", o->function);
		else
			snprintf(buf, len, "%s+%" PRIu64, o->function, addr - o->func_addr);
		return;
	}
	for (int i = 0; i < o->nparts; i++) {
		const struct part_rec *p = &o->part[i];

		if (p->name[0] && addr >= p->addr && addr < p->addr + p->size) {
			snprintf(buf, len, "%s+%" PRIu64, p->name, addr - p->addr);
			return;
		}
	}
	snprintf(buf, len, "0x%" PRIx64, addr);
}

static void term_format(const struct term *t, char *buf, size_t len)
{
	switch (t->kind) {
	case TERM_REG:
		snprintf(buf, len, "%s", gpr_name(t->reg));
		break;
	case TERM_MEM:
		snprintf(buf, len, "[%s%c0x%" PRIx64 "]", gpr_name(t->reg), t->off < 0 ? '-' : '+',
			 (uint64_t)(t->off < 0 ? -t->off : t->off));
		break;
	case TERM_GLOBAL:
		if (t->sym[0])
			snprintf(buf, len, "[%s+%" PRId64 "]", t->sym, t->sym_off);
		else
			snprintf(buf, len, "[0x%" PRIx64 "]", (uint64_t)t->off);
		break;
	case TERM_VAR:
		snprintf(buf, len, "%s", var_name(t->var));
		break;
	case TERM_CONST:
		snprintf(buf, len, "%" PRId64, t->off);
		break;
	}
}

bool expr_derived(const struct expr *e)
{
	for (int i = 0; i < e->n; i++)
		if (e->t[i].kind == TERM_VAR)
			return true;
	return false;
}

/* The producers of E's terms: A|B for alternatives, - for a term no instruction produces. */
static void producers_write(const struct offsets *o, const struct expr *e, FILE *f)
{
	char b[128];

	for (int i = 0; i < e->n; i++) {
		const struct term *t = &e->t[i];

		fputs(i ? "," : "", f);
		if ((t->kind != TERM_REG && t->kind != TERM_MEM) || !t->nfrom) {
			fputc('-', f);
			continue;
		}
		for (int k = 0; k < t->nfrom; k++) {
			offsets_code_name(o, t->from[k], b, sizeof(b));
			fprintf(f, "%s%s", k ? "|" : "", b);
		}
	}
}

void expr_format(const struct expr *e, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < e->n && used < len; i++) {
		char t[64];

		term_format(&e->t[i], t, sizeof(t));
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? (e->t[i].sign < 0 ? "-" : "+") :
					 (e->t[i].sign < 0 ? "-" : ""), t);
	}
}

static const char *class_word(enum insn_class c)
{
	return insn_class_name(c);
}

int offsets_write(const struct offsets *o, FILE *f)
{
	char a[128], b[160];

	fprintf(f, "# redprof offset file: where getMaxmemoryState()'s variables can be read by\n"
		   "# uprobes in one build of %s, keyed by its GNU build-id. Format: redprof-offsets(5).\n"
		   "# Every site is checked against the binary before a probe is placed.\n",
		o->flavor[0] ? o->flavor : "redis");
	fprintf(f, "redprof-offsets %d\n", o->format);
	fprintf(f, "build-id %s\n", o->build_id);
	fprintf(f, "server %s %s\n", o->flavor, o->version[0] ? o->version : "-");
	fprintf(f, "\n# The eviction function (link-time address, size) and its parts.\n");
	fprintf(f, "function %s 0x%" PRIx64 " %" PRIu64 "\n", o->function, o->func_addr, o->func_size);
	fprintf(f, "inlined %s\n", o->inlined ? "yes" : "no");
	for (int i = 0; i < o->nparts; i++)
		fprintf(f, "part %s 0x%" PRIx64 " %" PRIu64 "%s\n", o->part[i].name[0] ? o->part[i].name : "-",
			o->part[i].addr, o->part[i].size,
			o->part[i].name[0] ? "" : "\t# unnamed: reached by a jump, boundaries followed from its target");

	if (o->nsites)
		fprintf(f, "\n# Probe sites: name, location, file offset, how the kernel runs a hit\n"
			   "# (emulated ~1 us, single-stepped 15-20 us), strategy, instruction.\n");
	for (int i = 0; i < o->nsites; i++) {
		const struct site_rec *s = &o->site[i];

		offsets_code_name(o, s->addr, a, sizeof(a));
		if (s->slowpath)
			fprintf(f, "# %s runs only when mem_used > maxmemory: once per evicting call.\n", a);
		if (s->early)
			fprintf(f, "# %s runs once on the way to the slow path, only when mem_reported > maxmemory:\n"
				   "# its values are kept for the slow-path site.\n", a);
		if (s->cls != INSN_EMULATED)
			fprintf(f, "# No emulated instruction holds these values: a hit here is single-stepped.\n");
		fprintf(f, "site %s %s 0x%" PRIx64 " %s %s \"%s\"%s\n", s->name, a, s->file_offset,
			class_word(s->cls), strategy_name(s->strategy), s->insn,
			s->slowpath ? " slowpath" : s->early ? " early" : "");
	}

	fprintf(f, "\n# Values: variable, site, expression over registers ([reg+off] and [global] read 8\n"
		   "# bytes) or other variables, then the instructions that may have set each term\n"
		   "# (A|B: either, and only those; - for a global or a variable).\n");
	for (int v = 0; v < NVARS; v++) {
		const struct value_rec *r = &o->value[v];

		if (!r->present) {
			fprintf(f, "# %s: not found in this build\n", var_name((enum var)v));
			continue;
		}
		expr_format(&r->e, a, sizeof(a));
		fprintf(f, "value %s %s %s from ", var_name((enum var)v), o->site[r->site].name, a);
		producers_write(o, &r->e, f);
		fprintf(f, " %s\n", strategy_name(r->strategy));
	}

	if (o->nexits)
		fprintf(f, "\n# Exits of the eviction path: jumps where evicting calls leave it, each exactly once.\n"
			   "# Per way on (taken, next): the function's return value when the call leaves that\n"
			   "# way, or - when it goes on to another exit.\n");
	for (int i = 0; i < o->nexits; i++) {
		const struct exit_rec *x = &o->exit[i];

		offsets_code_name(o, x->addr, a, sizeof(a));
		fprintf(f, "exit %s %s 0x%" PRIx64 " %s %s \"%s\"", x->name, a, x->file_offset, class_word(x->cls),
			strategy_name(x->strategy), x->insn);
		for (int e = 0; e < NEDGES; e++) {
			if (x->leaves[e])
				expr_format(&x->result[e], b, sizeof(b));
			fprintf(f, " %s %s", e == EDGE_TAKEN ? "taken" : "next", x->leaves[e] ? b : "-");
		}
		fputc('\n', f);
	}

	if (o->ndeletes)
		fprintf(f, "\n# Calls deleting an evicted key: counted only when stat_evictedkeys is unknown.\n");
	for (int i = 0; i < o->ndeletes; i++) {
		const struct delete_rec *d = &o->del[i];

		offsets_code_name(o, d->addr, a, sizeof(a));
		fprintf(f, "delete %s 0x%" PRIx64 " %s %s \"%s\"\n", a, d->file_offset, class_word(d->cls),
			strategy_name(d->strategy), d->insn);
	}

	fprintf(f, "\n# Globals read from the server's memory: name, object+offset or address.\n");
	for (int g = 0; g < NGLOBALS; g++) {
		const struct global_rec *r = &o->global[g];

		/* Found only in some builds: files without them stay as they were. */
		if (!r->present && g != G_CURRENT_CLIENT && g != G_CLIENTS_MEMORY) {
			fprintf(f, "# %s: not found in this build\n", global_name((enum global)g));
			continue;
		}
		if (!r->present)
			continue;
		if (r->sym[0])
			fprintf(f, "global %s %s+%" PRId64 " %s\n", global_name((enum global)g), r->sym, r->off,
				strategy_name(r->strategy));
		else
			fprintf(f, "global %s 0x%" PRIx64 " %s\n", global_name((enum global)g), r->addr,
				strategy_name(r->strategy));
	}
	for (int m = 0, header = 0; m < NMEMBERS; m++) {
		if (!o->member[m].present)
			continue;
		if (!header++)
			fprintf(f, "\n# Struct members followed from current_client: name, byte offset.\n");
		fprintf(f, "member %s %" PRId64 " %s\n", member_name((enum member)m), o->member[m].off,
			strategy_name(o->member[m].strategy));
	}
	return ferror(f) ? -EIO : 0;
}

/* --------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------ */

#define MAX_FIELDS 12
#define MAX_REFS (OFFSETS_MAX_SITES + OFFSETS_MAX_DELETES + OFFSETS_MAX_EXITS + \
		  (NVARS + OFFSETS_MAX_EXITS) * OFFSETS_MAX_TERMS * OFFSETS_MAX_FROM)

/* A code location named by a symbol, resolved once the function and its parts are read. */
struct code_ref {
	uint64_t *addr;		/* holds the offset until resolved */
	char name[96];
	int line;
};

struct parser {
	const char *name;
	int line;
	char *err;
	size_t errlen;
	struct offsets *o;
	bool seen_format, seen_build, seen_server, seen_function, seen_inlined;
	/* unresolved references, checked once the file is read */
	char value_site[NVARS][16];
	int value_line[NVARS];
	struct code_ref ref[MAX_REFS];
	int nrefs;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->name, p->line, msg);
	return -EINVAL;
}

/* Splits LINE into fields; a field in double quotes may contain blanks. */
static int split(struct parser *p, char *line, char **field, int *n)
{
	char *s = line;

	*n = 0;
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return fail(p, "control character 0x%02x: an offset file is plain text", (unsigned char)*c);
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			return 0;
		if (*n == MAX_FIELDS)
			return fail(p, "too many fields");
		if (*s == '"') {
			char *end = strchr(s + 1, '"');

			if (!end)
				return fail(p, "unterminated quoted instruction");
			*end = '\0';
			field[(*n)++] = s + 1;
			s = end + 1;
			if (*s && *s != ' ' && *s != '\t')
				return fail(p, "text after a quoted field");
			continue;
		}
		field[(*n)++] = s;
		while (*s && *s != ' ' && *s != '\t') {
			if (*s == '"')
				return fail(p, "a double quote inside a field: only a whole field is quoted");
			s++;
		}
		if (*s)
			*s++ = '\0';
	}
}

/*
 * A name as compilers give functions and their parts (performEvictions.cold,
 * .part.0), shorter than LEN: nothing a location or a list could misread.
 */
static bool symbol_name(const char *s, size_t len)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$");

	return n && !s[n] && n < len && !isdigit((unsigned char)s[0]);
}

/* A plain decimal: digits only, no sign, no base prefix, no leading zero. */
static bool decimal(const char *s, uint64_t *v)
{
	size_t n = strspn(s, "0123456789");

	if (!n || s[n] || (n > 1 && s[0] == '0'))
		return false;
	return !parse_u64(s, v);
}

static int number(struct parser *p, const char *s, const char *what, uint64_t *v)
{
	if (!decimal(s, v))
		return fail(p, "malformed %s '%s': give a decimal number", what, s);
	return 0;
}

static int hex_number(struct parser *p, const char *s, const char *what, uint64_t *v)
{
	if (strncmp(s, "0x", 2) || !s[2] || strspn(s + 2, "0123456789abcdef") != strlen(s + 2) || parse_u64(s, v))
		return fail(p, "malformed %s '%s': give a 0x-prefixed hexadecimal number", what, s);
	return 0;
}

/* NAME+DEC, NAME, or 0xHEX: a name is resolved against the function and parts once all are read. */
static int code_location(struct parser *p, const char *s, uint64_t *addr)
{
	const char *plus = strrchr(s, '+');
	struct code_ref *r;
	uint64_t off = 0;

	*addr = 0;
	if (!strncmp(s, "0x", 2))
		return hex_number(p, s, "address", addr);
	if (p->nrefs == MAX_REFS)
		return fail(p, "too many code locations");
	r = &p->ref[p->nrefs];
	if (plus) {
		if (!decimal(plus + 1, &off))
			return fail(p, "malformed offset in '%s': give NAME+DECIMAL", s);
		snprintf(r->name, sizeof(r->name), "%.*s", (int)(plus - s), s);
	} else {
		snprintf(r->name, sizeof(r->name), "%s", s);
	}
	if (!r->name[0])
		return fail(p, "malformed location '%s'", s);
	r->addr = addr;
	r->line = p->line;
	p->nrefs++;
	*addr = off;	/* relative to the name until resolved */
	return 0;
}

static int resolve(struct parser *p, const struct code_ref *r)
{
	const struct offsets *o = p->o;

	if (!strcmp(r->name, o->function)) {
		*r->addr += o->func_addr;
		return 0;
	}
	for (int i = 0; i < o->nparts; i++) {
		if (o->part[i].name[0] && !strcmp(r->name, o->part[i].name)) {
			*r->addr += o->part[i].addr;
			return 0;
		}
	}
	p->line = r->line;
	return fail(p, "'%s' is neither the function nor one of its parts", r->name);
}

static int class_of(struct parser *p, const char *s, enum insn_class *c)
{
	if (!strcmp(s, "emulated"))
		*c = INSN_EMULATED;
	else if (!strcmp(s, "single-stepped"))
		*c = INSN_SINGLE_STEPPED;
	else
		return fail(p, "unknown instruction class '%s': give emulated or single-stepped", s);
	return 0;
}

static int strategy_of(struct parser *p, const char *s, enum strategy *st)
{
	int v = strategy_parse(s);

	if (v < 0)
		return fail(p, "unknown strategy '%s': give dwarf or disasm", s);
	*st = (enum strategy)v;
	return 0;
}

static int global_location(struct parser *p, const char *s, char *sym, size_t symlen, int64_t *off,
			   uint64_t *addr)
{
	const char *plus = strrchr(s, '+');
	uint64_t v;

	sym[0] = '\0';
	if (!strncmp(s, "0x", 2)) {
		if (hex_number(p, s, "address", addr))
			return -EINVAL;
		*off = (int64_t)*addr;
		return 0;
	}
	if (!plus || plus == s || !decimal(plus + 1, &v) || (size_t)(plus - s) >= symlen)
		return fail(p, "malformed global location '%s': give OBJECT+DECIMAL or 0xADDRESS", s);
	snprintf(sym, symlen, "%.*s", (int)(plus - s), s);
	if (!symbol_name(sym, symlen))
		return fail(p, "malformed object name in '%s': give a symbol name (letters, digits, _ . $)", s);
	*off = (int64_t)v;
	*addr = 0;
	return 0;
}

/* One term of an expression: rbx, [rsp+0x20], [server+3600], [0x2cb0b0]. */
static int parse_term(struct parser *p, const char *s, struct term *t)
{
	char buf[96], *plus, *minus;
	uint64_t v;

	memset(t, 0, sizeof(*t));
	if (s[0] != '[') {
		if (p->o->format >= 2 && var_parse(s) >= 0) {
			t->kind = TERM_VAR;
			t->var = (enum var)var_parse(s);
			return 0;
		}
		if (p->o->format >= 2 && decimal(s, &v)) {
			t->kind = TERM_CONST;
			t->off = (int64_t)v;
			return 0;
		}
		t->kind = TERM_REG;
		t->reg = gpr_parse(s);
		if (t->reg == GPR_NONE)
			return fail(p, "unknown register '%s'", s);
		return 0;
	}
	if (s[strlen(s) - 1] != ']' || strlen(s) >= sizeof(buf) + 2)
		return fail(p, "malformed memory term '%s'", s);
	snprintf(buf, sizeof(buf), "%.*s", (int)strlen(s) - 2, s + 1);
	if (!strncmp(buf, "0x", 2)) {
		t->kind = TERM_GLOBAL;
		if (hex_number(p, buf, "address", &v))
			return -EINVAL;
		t->off = (int64_t)v;
		return 0;
	}
	plus = strchr(buf, '+');
	minus = strchr(buf, '-');
	if (plus || minus) {
		char *op = plus ? plus : minus;
		char c = *op;

		*op = '\0';
		if (gpr_parse(buf) != GPR_NONE) {
			t->kind = TERM_MEM;
			t->reg = gpr_parse(buf);
			if (hex_number(p, op + 1, "displacement", &v))
				return -EINVAL;
			if (v > INT32_MAX)
				return fail(p, "displacement in '%s' is larger than an instruction's 32 bits", s);
			t->off = c == '-' ? -(int64_t)v : (int64_t)v;
			return 0;
		}
		if (c == '+' && decimal(op + 1, &v) && symbol_name(buf, sizeof(t->sym))) {
			t->kind = TERM_GLOBAL;
			snprintf(t->sym, sizeof(t->sym), "%.*s", (int)sizeof(t->sym) - 1, buf);
			t->sym_off = (int64_t)v;
			return 0;
		}
	}
	return fail(p, "malformed memory term '%s': give [reg+0xOFF], [object+DECIMAL] or [0xADDRESS]", s);
}

static int parse_expr(struct parser *p, const char *s, struct expr *e)
{
	char buf[256];
	size_t i = 0, start = 0;
	int depth = 0, sign = 1;

	memset(e, 0, sizeof(*e));
	snprintf(buf, sizeof(buf), "%s", s);
	if (buf[0] == '-') {
		sign = -1;
		start = i = 1;
	}
	for (;; i++) {
		char c = buf[i];

		if (c == '[')
			depth++;
		else if (c == ']')
			depth--;
		if (depth < 0 || (depth && !c))
			return fail(p, "malformed expression '%s': unbalanced brackets", s);
		if (depth || (c != '+' && c != '-' && c))
			continue;
		if (e->n == OFFSETS_MAX_TERMS)
			return fail(p, "expression '%s' has more than %d terms", s, OFFSETS_MAX_TERMS);
		buf[i] = '\0';
		if (i == start)
			return fail(p, "malformed expression '%s'", s);
		if (parse_term(p, buf + start, &e->t[e->n]))
			return -EINVAL;
		e->t[e->n++].sign = sign;
		if (!c)
			return 0;
		sign = c == '-' ? -1 : 1;
		start = i + 1;
	}
}

static int rec_site(struct parser *p, char **f, int n)
{
	struct offsets *o = p->o;
	struct site_rec *s;

	if (n != 7 && !(n == 8 && (!strcmp(f[7], "slowpath") || (!strcmp(f[7], "early") && o->format >= 2))))
		return fail(p, "site wants: NAME LOCATION FILE-OFFSET CLASS STRATEGY \"INSTRUCTION\" [slowpath%s]",
			    o->format >= 2 ? "|early" : "");
	for (int i = 0; i < o->nsites; i++)
		if (!strcmp(o->site[i].name, f[1]))
			return fail(p, "duplicate site '%s'", f[1]);
	if (o->nsites == OFFSETS_MAX_SITES)
		return fail(p, "more than %d sites", OFFSETS_MAX_SITES);
	if (strlen(f[1]) >= sizeof(s->name) || !isalpha((unsigned char)f[1][0]))
		return fail(p, "malformed site name '%s'", f[1]);
	s = &o->site[o->nsites];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", f[1]);
	if (code_location(p, f[2], &s->addr) || hex_number(p, f[3], "file offset", &s->file_offset) ||
	    class_of(p, f[4], &s->cls) || strategy_of(p, f[5], &s->strategy))
		return -EINVAL;
	snprintf(s->insn, sizeof(s->insn), "%s", f[6]);
	s->slowpath = n == 8 && !strcmp(f[7], "slowpath");
	s->early = n == 8 && !strcmp(f[7], "early");
	o->nsites++;
	return 0;
}

/* PRODUCERS for the terms of E: comma-separated per term, alternatives joined by |, - for none. */
static int producers(struct parser *p, char *list, struct expr *e, const char *what)
{
	char *prod, *save = NULL;
	int i = 0;

	for (prod = strtok_r(list, ",", &save); prod; prod = strtok_r(NULL, ",", &save), i++) {
		struct term *t = &e->t[i];
		char *alt, *save2 = NULL;
		bool produced;

		if (i >= e->n)
			return fail(p, "more producers than terms in %s", what);
		produced = t->kind == TERM_REG || t->kind == TERM_MEM;
		if (!strcmp(prod, "-")) {
			if (produced)
				return fail(p, "term %d of %s is not a global but has no producer", i + 1, what);
			continue;
		}
		if (!produced)
			return fail(p, "term %d of %s is a %s: its producer must be '-'", i + 1, what,
				    t->kind == TERM_GLOBAL ? "global" : "variable");
		if (strchr(prod, '|') && p->o->format < 2)
			return fail(p, "alternative producers (A|B) need format 2");
		for (alt = strtok_r(prod, "|", &save2); alt; alt = strtok_r(NULL, "|", &save2)) {
			if (t->nfrom == OFFSETS_MAX_FROM)
				return fail(p, "term %d of %s has more than %d producers", i + 1, what, OFFSETS_MAX_FROM);
			if (code_location(p, alt, &t->from[t->nfrom++]))
				return -EINVAL;
		}
	}
	if (i != e->n)
		return fail(p, "%s has %d terms but %d producers", what, e->n, i);
	return 0;
}

static int rec_value(struct parser *p, char **f, int n)
{
	struct offsets *o = p->o;
	struct value_rec *r;
	int v;

	if (n != 7 || strcmp(f[4], "from"))
		return fail(p, "value wants: VARIABLE SITE EXPRESSION from PRODUCER[,PRODUCER...] STRATEGY");
	v = var_parse(f[1]);
	if (v < 0)
		return fail(p, "unknown variable '%s': give mem_reported, overhead, mem_used or mem_tofree", f[1]);
	r = &o->value[v];
	if (r->present)
		return fail(p, "duplicate value for %s", f[1]);
	r->present = true;
	snprintf(p->value_site[v], sizeof(p->value_site[v]), "%s", f[2]);
	p->value_line[v] = p->line;
	if (parse_expr(p, f[3], &r->e) || strategy_of(p, f[6], &r->strategy))
		return -EINVAL;
	for (int i = 0; i < r->e.n; i++)
		if (r->e.t[i].kind == TERM_CONST)
			return fail(p, "a value is no constant: term %d of %s", i + 1, f[1]);
	return producers(p, f[5], &r->e, f[1]);
}

/* One way on from an exit: "-", or the return value (a register or a constant) when the call leaves that way. */
static int exit_edge(struct parser *p, struct exit_rec *x, enum edge e, const char *word, const char *text)
{
	struct expr *r = &x->result[e];

	if (!strcmp(text, "-"))
		return 0;
	x->leaves[e] = true;
	if (parse_expr(p, text, r))
		return -EINVAL;
	if (r->n == 1 && r->t[0].kind == TERM_CONST && r->t[0].sign < 0)
		r->t[0] = (struct term){ .kind = TERM_CONST, .sign = 1, .off = -r->t[0].off };
	if (r->n != 1 || (r->t[0].kind != TERM_REG && r->t[0].kind != TERM_CONST) || r->t[0].sign < 0)
		return fail(p, "exit %s: the return value %s is a register or a constant, or - when the call "
			    "does not leave that way", x->name, word);
	return 0;
}

static int rec_exit(struct parser *p, char **f, int n)
{
	struct offsets *o = p->o;
	struct exit_rec *x;

	if (o->format < 2)
		return fail(p, "exit records need format 2");
	if (n != 11 || strcmp(f[7], "taken") || strcmp(f[9], "next"))
		return fail(p, "exit wants: NAME LOCATION FILE-OFFSET CLASS STRATEGY \"INSTRUCTION\" taken RESULT|- "
			    "next RESULT|-");
	for (int i = 0; i < o->nexits; i++)
		if (!strcmp(o->exit[i].name, f[1]))
			return fail(p, "duplicate exit '%s'", f[1]);
	if (o->nexits == OFFSETS_MAX_EXITS)
		return fail(p, "more than %d exits", OFFSETS_MAX_EXITS);
	if (strlen(f[1]) >= sizeof(x->name) || !isalpha((unsigned char)f[1][0]))
		return fail(p, "malformed exit name '%s'", f[1]);
	x = &o->exit[o->nexits];
	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", f[1]);
	if (code_location(p, f[2], &x->addr) || hex_number(p, f[3], "file offset", &x->file_offset) ||
	    class_of(p, f[4], &x->cls) || strategy_of(p, f[5], &x->strategy) ||
	    exit_edge(p, x, EDGE_TAKEN, "taken", f[8]) || exit_edge(p, x, EDGE_NEXT, "next", f[10]))
		return -EINVAL;
	snprintf(x->insn, sizeof(x->insn), "%s", f[6]);
	if (!x->leaves[EDGE_TAKEN] && !x->leaves[EDGE_NEXT])
		return fail(p, "exit %s leaves the eviction path neither way", f[1]);
	o->nexits++;
	return 0;
}

static int rec_delete(struct parser *p, char **f, int n)
{
	struct offsets *o = p->o;
	struct delete_rec *d;

	if (n != 6)
		return fail(p, "delete wants: LOCATION FILE-OFFSET CLASS STRATEGY \"INSTRUCTION\"");
	if (o->ndeletes == OFFSETS_MAX_DELETES)
		return fail(p, "more than %d delete sites", OFFSETS_MAX_DELETES);
	d = &o->del[o->ndeletes];
	memset(d, 0, sizeof(*d));
	if (code_location(p, f[1], &d->addr) || hex_number(p, f[2], "file offset", &d->file_offset) ||
	    class_of(p, f[3], &d->cls) ||
	    strategy_of(p, f[4], &d->strategy))
		return -EINVAL;
	for (int i = 0; i < o->ndeletes; i++)
		if (o->del[i].file_offset == d->file_offset)
			return fail(p, "duplicate delete site '%s'", f[1]);
	snprintf(d->insn, sizeof(d->insn), "%s", f[5]);
	o->ndeletes++;
	return 0;
}

static int rec_global(struct parser *p, char **f, int n)
{
	struct global_rec *r;
	int g;

	if (n != 4)
		return fail(p, "global wants: NAME LOCATION STRATEGY");
	g = global_parse(f[1]);
	if (g < 0)
		return fail(p, "unknown global '%s': give maxmemory, stat_numcommands, stat_evictedkeys, used_memory, "
			    "maxmemory_policy, current_client or clients_normal_memory", f[1]);
	r = &p->o->global[g];
	if (r->present)
		return fail(p, "duplicate global %s", f[1]);
	r->present = true;
	if (global_location(p, f[2], r->sym, sizeof(r->sym), &r->off, &r->addr) || strategy_of(p, f[3], &r->strategy))
		return -EINVAL;
	return 0;
}

static int rec_member(struct parser *p, char **f, int n)
{
	struct member_rec *r;
	uint64_t off;
	int m;

	if (n != 4)
		return fail(p, "member wants: NAME OFFSET STRATEGY");
	m = member_parse(f[1]);
	if (m < 0)
		return fail(p, "unknown member '%s': give client.id, client.cmd, client.name, object.ptr or "
			    "command.name", f[1]);
	r = &p->o->member[m];
	if (r->present)
		return fail(p, "duplicate member %s", f[1]);
	if (number(p, f[2], "offset", &off) || strategy_of(p, f[3], &r->strategy))
		return -EINVAL;
	/* Each is a pointer or a 64-bit id, aligned, within a struct of sane size. */
	if (off % 8 || off >= 65536)
		return fail(p, "member %s at %s: not an aligned 8-byte field of a struct", f[1], f[2]);
	r->present = true;
	r->off = (int64_t)off;
	return 0;
}

static int record(struct parser *p, char **f, int n)
{
	struct offsets *o = p->o;
	uint64_t v;

	if (!p->seen_format && strcmp(f[0], "redprof-offsets"))
		return fail(p, "not a redprof offset file: it must start with 'redprof-offsets %d'", OFFSETS_FORMAT);
	if (!strcmp(f[0], "redprof-offsets")) {
		if (p->seen_format)
			return fail(p, "duplicate redprof-offsets line");
		if (n != 2)
			return fail(p, "redprof-offsets wants: VERSION");
		if (number(p, f[1], "format version", &v))
			return -EINVAL;
		if (v < 1 || v > OFFSETS_FORMAT)
			return fail(p, "format %" PRIu64 " is not supported: this redprof reads formats 1 to %d", v,
				    OFFSETS_FORMAT);
		o->format = (int)v;
		p->seen_format = true;
	} else if (!strcmp(f[0], "build-id")) {
		size_t len = n == 2 ? strlen(f[1]) : 0;

		if (p->seen_build)
			return fail(p, "duplicate build-id");
		if (len < 2 || len % 2 || len >= sizeof(o->build_id) || strspn(f[1], "0123456789abcdef") != len)
			return fail(p, "malformed build-id: give lower-case hexadecimal");
		snprintf(o->build_id, sizeof(o->build_id), "%s", f[1]);
		p->seen_build = true;
	} else if (!strcmp(f[0], "server")) {
		if (p->seen_server)
			return fail(p, "duplicate server line");
		if (n != 3 || (strcmp(f[1], "redis") && strcmp(f[1], "valkey")))
			return fail(p, "server wants: redis|valkey VERSION|-");
		snprintf(o->flavor, sizeof(o->flavor), "%s", f[1]);
		snprintf(o->version, sizeof(o->version), "%s", strcmp(f[2], "-") ? f[2] : "");
		p->seen_server = true;
	} else if (!strcmp(f[0], "function")) {
		if (p->seen_function)
			return fail(p, "duplicate function line");
		if (n != 4)
			return fail(p, "function wants: NAME ADDRESS SIZE");
		snprintf(o->function, sizeof(o->function), "%s", f[1]);
		if (hex_number(p, f[2], "address", &o->func_addr) || number(p, f[3], "size", &o->func_size))
			return -EINVAL;
		if (strcmp(f[1], "performEvictions") && strcmp(f[1], "freeMemoryIfNeeded"))
			return fail(p, "unknown eviction function '%s'", f[1]);
		p->seen_function = true;
	} else if (!strcmp(f[0], "inlined")) {
		if (p->seen_inlined)
			return fail(p, "duplicate inlined line");
		if (n != 2 || (strcmp(f[1], "yes") && strcmp(f[1], "no")))
			return fail(p, "inlined wants: yes or no");
		o->inlined = !strcmp(f[1], "yes");
		p->seen_inlined = true;
	} else if (!strcmp(f[0], "part")) {
		struct part_rec *pr;

		if (n != 4)
			return fail(p, "part wants: NAME|- ADDRESS SIZE");
		if (o->nparts == OFFSETS_MAX_PARTS)
			return fail(p, "more than %d parts", OFFSETS_MAX_PARTS);
		pr = &o->part[o->nparts];
		if (strcmp(f[1], "-") && !symbol_name(f[1], sizeof(pr->name)))
			return fail(p, "malformed part name '%s': give a symbol name (letters, digits, _ . $) or -",
				    f[1]);
		snprintf(pr->name, sizeof(pr->name), "%s", strcmp(f[1], "-") ? f[1] : "");
		if (hex_number(p, f[2], "address", &pr->addr) || number(p, f[3], "size", &pr->size))
			return -EINVAL;
		for (int i = 0; i < o->nparts; i++)
			if (o->part[i].addr == pr->addr || (pr->name[0] && !strcmp(o->part[i].name, pr->name)))
				return fail(p, "duplicate part %s at 0x%" PRIx64, pr->name[0] ? pr->name : "-",
					    pr->addr);
		o->nparts++;
	} else if (!strcmp(f[0], "site")) {
		return rec_site(p, f, n);
	} else if (!strcmp(f[0], "value")) {
		return rec_value(p, f, n);
	} else if (!strcmp(f[0], "delete")) {
		return rec_delete(p, f, n);
	} else if (!strcmp(f[0], "exit")) {
		return rec_exit(p, f, n);
	} else if (!strcmp(f[0], "global")) {
		return rec_global(p, f, n);
	} else if (!strcmp(f[0], "member")) {
		return rec_member(p, f, n);
	} else {
		return fail(p, "unknown key '%s'", f[0]);
	}
	return 0;
}

/* A record the file lacks: it has no line to name. */
static int missing(struct parser *p, const char *what)
{
	snprintf(p->err, p->errlen, "%s: %s", p->name, what);
	return -EINVAL;
}

/* References between records: sites of values, names of code locations. */
static int finish(struct parser *p)
{
	struct offsets *o = p->o;
	int end = p->line;

	if (!p->seen_format)
		return missing(p, "empty file: no 'redprof-offsets 1' line");
	if (!p->seen_build)
		return missing(p, "missing build-id");
	if (!p->seen_server)
		return missing(p, "missing server line");
	if (!p->seen_function)
		return missing(p, "missing function line");
	if (!p->seen_inlined)
		return missing(p, "missing inlined line");
	for (int i = 0; i < p->nrefs; i++)
		if (resolve(p, &p->ref[i]))
			return -EINVAL;
	p->line = end;
	for (int v = 0; v < NVARS; v++) {
		struct value_rec *r = &o->value[v];

		if (!r->present)
			continue;
		r->site = -1;
		for (int i = 0; i < o->nsites; i++)
			if (!strcmp(o->site[i].name, p->value_site[v]))
				r->site = i;
		if (r->site < 0) {
			p->line = p->value_line[v];
			return fail(p, "%s refers to site '%s', which the file does not define", var_name((enum var)v),
				    p->value_site[v]);
		}
	}
	return 0;
}

int offsets_parse_string(const char *name, const char *text, struct offsets *o, char *err, size_t errlen)
{
	struct parser *p = xcalloc(1, sizeof(*p));
	char *copy = xstrdup(text), *line, *next;
	int rc = 0;

	memset(o, 0, sizeof(*o));
	*p = (struct parser){ .name = name, .err = err, .errlen = errlen, .o = o };
	for (line = copy; line && !rc; line = next) {
		char *field[MAX_FIELDS];
		int n;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p->line++;
		/* A file that went through a Windows editor or mail means the same. */
		if (*line && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		rc = split(p, line, field, &n);
		if (!rc && n)
			rc = record(p, field, n);
	}
	if (!rc)
		rc = finish(p);
	free(copy);
	free(p);
	return rc;
}

int offsets_parse(const char *path, struct offsets *o, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "re"), *m;
	struct stat st;
	char buf[4096];
	size_t n;
	int rc;

	if (!f || fstat(fileno(f), &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		fclose(f);
		snprintf(err, errlen, "%s is a directory: give an offset file (--offsets-dir takes a directory)", path);
		return -EISDIR;
	}
	m = open_memstream(&text, &len);
	if (!m)
		fatal("out of memory reading %s", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (fclose(m))
		fatal("out of memory reading %s", path);
	if (rc) {
		snprintf(err, errlen, "%s: cannot read it", path);
	} else if (strlen(text) != len) {
		snprintf(err, errlen, "%s: not a text file", path);
		rc = -EINVAL;
	} else {
		rc = offsets_parse_string(path, text, o, err, errlen);
	}
	free(text);
	return rc;
}
