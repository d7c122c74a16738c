// SPDX-License-Identifier: BSD-3-Clause
/*
 * offsets_cmd.c: `redprof offsets generate` and `redprof offsets show`,
 * for the people who ship Redis builds: generate a build's file, read one
 * with the disassembly around each site and the registers it reads.
 */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "offsets_cmd.h"
#include "offsets_store.h"
#include "util.h"

struct offsets_env {
	const char *cmd;	/* "generate" or "show" */
	const char *arg;	/* BINARY or FILE */
	const char *binary;	/* show: the executable to disassemble */
	const char *out;
	const char *dir;
	int pid;
	enum strategy strategy;
};

enum { OPT_STRATEGY = 0x200, OPT_DIR };

static const struct argp_option options[] = {
	{ "pid", 'p', "PID", 0, "A running redis-server instead of a file", 0 },
	{ "output", 'o', "FILE", 0, "generate: write here (atomically) instead of standard output", 0 },
	{ "strategy", OPT_STRATEGY, "dwarf|disasm", 0, "generate: force a strategy (default: dwarf when debug "
	  "information is found, else disasm)", 0 },
	{ "offsets-dir", OPT_DIR, "DIR", 0, "show -p: look for shipped files in DIR", 0 },
	{ 0 },
};

static const char doc[] =
"Manage per-build offset files (format: redprof-offsets(5)).\n"
"\n"
"USAGE: redprof offsets generate (BINARY | -p PID) [-o FILE] [--strategy dwarf|disasm]\n"
"       redprof offsets show (FILE [BINARY] | -p PID)\n"
"\v"
"EXAMPLES:\n"
"    redprof offsets generate /usr/bin/redis-server -o redis.offsets\n"
"    redprof offsets generate -p 1234 --strategy disasm\n"
"    redprof offsets show redis.offsets /usr/bin/redis-server\n"
"    redprof offsets show -p 1234      # what redprof would use for PID 1234";

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct offsets_env *env = state->input;
	int64_t pid;
	int s;

	switch (key) {
	case 'p':
		if (parse_s64(arg, &pid) || pid <= 0 || pid > 4194304)
			argp_error(state, "invalid PID '%s'", arg);
		env->pid = (int)pid;
		break;
	case 'o':
		env->out = arg;
		break;
	case OPT_STRATEGY:
		s = strategy_parse(arg);
		if (s < 0)
			argp_error(state, "invalid strategy '%s': give dwarf or disasm", arg);
		env->strategy = (enum strategy)s;
		break;
	case OPT_DIR:
		env->dir = arg;
		break;
	case ARGP_KEY_ARG:
		if (!env->cmd) {
			if (strcmp(arg, "generate") && strcmp(arg, "show"))
				argp_error(state, "unknown command '%s': give generate or show", arg);
			env->cmd = arg;
		} else if (!env->arg) {
			env->arg = arg;
		} else if (!env->binary && !strcmp(env->cmd, "show")) {
			env->binary = arg;
		} else {
			argp_error(state, "unexpected argument '%s'", arg);
		}
		break;
	case ARGP_KEY_END:
		if (!env->cmd)
			argp_error(state, "give a command: generate or show");
		if (!env->arg == !env->pid)
			argp_error(state, "give %s or -p PID (one of them)", !strcmp(env->cmd, "show") ? "FILE" : "BINARY");
		if (env->out && strcmp(env->cmd, "generate"))
			argp_error(state, "-o is for generate");
		if (env->strategy && strcmp(env->cmd, "generate"))
			argp_error(state, "--strategy is for generate");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int open_target(const struct offsets_env *env, const char *path, struct target **t)
{
	enum target_problem problem;
	struct session_error e = { .stage = STAGE_TARGET };

	e.err = env->pid ? target__open(env->pid, t, &problem) : target__open_binary(path, t, &problem);
	if (!e.err)
		return 0;
	e.problem = problem;
	if (!env->pid) {
		if (e.err == -ENOEXEC && problem == TARGET_NOT_ELF)
			fprintf(stderr, "redprof: %s is not an x86-64 ELF executable\n", path);
		else if (e.err == -ENOEXEC && problem == TARGET_NOT_REDIS)
			fprintf(stderr, "redprof: %s is not a Redis or Valkey server (no processCommand and server "
				"symbols)\n", path);
		else if (e.err == -ENOEXEC && problem == TARGET_CORRUPT)
			fprintf(stderr, "redprof: %s is truncated or corrupted: its ELF headers point past the end "
				"of the file. Copy the executable again, whole\n", path);
		else if (e.err == -ENOEXEC && problem == TARGET_NO_EVICT)
			fprintf(stderr, "redprof: %s has no eviction function (performEvictions or freeMemoryIfNeeded)\n",
				path);
		else
			fprintf(stderr, "redprof: cannot read %s: %s\n", path, strerror(-e.err));
		return EXIT_TARGET;
	}
	return cli_session_error(&e, env->pid);
}

static int generate(const struct offsets_env *env)
{
	struct target *t;
	struct offsets o;
	struct gen_result r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc, err = 0;

	rc = open_target(env, env->arg, &t);
	if (rc)
		return rc;
	if (analysis__generate(t->an, t->flavor, t->version, env->strategy, &o, &r)) {
		fprintf(stderr, "redprof: cannot generate offsets for %s: %s\n", t->exe, r.why);
		target__close(t);
		return EXIT_TARGET;
	}
	fprintf(stderr, "redprof: %s %s, build-id %s: %s strategy\n", t->flavor, t->version[0] ? t->version : "",
		t->img->build_id, strategy_name(r.strategy));
	for (int i = 0; i < r.nnotes; i++)
		fprintf(stderr, "redprof: note: %s\n", r.notes[i]);
	f = open_memstream(&buf, &len);
	offsets_write(&o, f);
	fclose(f);
	if (env->out) {
		err = write_file_atomic(env->out, buf, len);
		if (err)
			fprintf(stderr, "redprof: cannot write %s: %s\n", env->out, strerror(-err));
	} else if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
		err = -errno;
		fprintf(stderr, "redprof: cannot write the offset file to standard output (%s): give -o FILE "
			"to write it to a file\n", strerror(errno));
	}
	free(buf);
	target__close(t);
	return err ? EXIT_RUNTIME : EXIT_OK;
}

/* --------------------------------------------------------------------
 * show
 * ------------------------------------------------------------------ */

static void show_disassembly(struct analysis *an, const struct offsets *o, uint64_t site, uint64_t marks[],
			     int nmarks)
{
	struct code_line lines[8];
	char name[128];
	int n;

	if (analysis__listing(an, site, 4, 2, lines, 8, &n))
		return;
	for (int k = 0; k < n; k++) {
		const char *mark = lines[k].addr == site ? "=>" : "  ";

		for (int m = 0; m < nmarks; m++)
			if (lines[k].addr == marks[m] && lines[k].addr != site)
				mark = " *";
		offsets_code_name(o, lines[k].addr, name, sizeof(name));
		printf("      %s %-28s %-40s %s\n", mark, name, lines[k].text,
		       lines[k].addr == site ? insn_class_name(lines[k].cls) : "");
	}
}

/* The text of the instruction at ADDR of the eviction function, "" when unknown. */
static void insn_text(struct analysis *an, const struct elf_sym *fn, uint64_t addr, char *buf, size_t len)
{
	struct code_line line;

	snprintf(buf, len, "%s", an && !analysis__site(an, fn, addr, &line) ? line.text : "");
}

static void show_term(struct analysis *an, const struct elf_sym *fn, const struct offsets *o, const struct term *t)
{
	char name[128], text[96];

	switch (t->kind) {
	case TERM_REG:
	case TERM_MEM:
		for (int k = 0; k < t->nfrom; k++) {
			const char *either = k ? "     or " : "";

			offsets_code_name(o, t->from[k], name, sizeof(name));
			insn_text(an, fn, t->from[k], text, sizeof(text));
			if (t->kind == TERM_REG)
				printf("        %s%s: set at %s%s%s%s\n", either, gpr_name(t->reg), name,
				       text[0] ? " (" : "", text, text[0] ? ")" : "");
			else
				printf("        %s[%s%+" PRId64 "]: stored at %s%s%s%s\n", either, gpr_name(t->reg), t->off,
				       name, text[0] ? " (" : "", text, text[0] ? ")" : "");
		}
		break;
	case TERM_VAR:
		printf("        %s: as read for this call%s\n", var_name(t->var),
		       o->value[t->var].present && o->site[o->value[t->var].site].early ? " at the early site" : "");
		break;
	case TERM_CONST:
		printf("        %" PRId64 ": a constant\n", t->off);
		break;
	case TERM_GLOBAL:
		if (t->sym[0])
			printf("        [%s+%" PRId64 "]: read from memory at the hit\n", t->sym, t->sym_off);
		else
			printf("        [0x%" PRIx64 "]: read from memory at the hit\n", (uint64_t)t->off);
		break;
	}
}

/* What BPF sums for GETTER's result in AN's executable, or why it cannot. */
static void show_sum(struct analysis *an, const char *label, const char *getter)
{
	struct counter_sum cs;
	char why[256];

	if (analysis__counter_sum(an, getter, &cs, why, sizeof(why))) {
		printf("  %-17s not available: %s\n", label, why);
		return;
	}
	if (!cs.count) {
		printf("  %-17s the word at 0x%" PRIx64 " (%s)\n", label, cs.base, getter);
		return;
	}
	printf("  %-17s %d-byte %s count at 0x%" PRIx64 " of counters at 0x%" PRIx64 " every %" PRIu64
	       " bytes, %s %u", label, cs.count_size, cs.count_signed ? "signed" : "unsigned", cs.count, cs.base,
	       cs.stride, cs.capped ? "clamped at" : "read up to", cs.cap);
	if (cs.extra)
		printf(", plus the word at 0x%" PRIx64 " past it", cs.extra);
	printf(" (%s)\n", getter);
}

/* O described for people; with the executable's analysis AN (NULL without one), its disassembly too. */
static void show(const struct offsets *o, struct analysis *an, const struct elf_sym *fn, const char *source)
{
	char name[128], e[128];

	printf("offsets for %s %s, build-id %s\n", o->flavor, o->version[0] ? o->version : "(version unknown)",
	       o->build_id);
	printf("  source: %s\n", source);
	printf("  function: %s at 0x%" PRIx64 ", %" PRIu64 " bytes; getMaxmemoryState %s\n", o->function,
	       o->func_addr, o->func_size, o->inlined ? "inlined into it" : "called from it (not inlined)");
	for (int i = 0; i < o->nparts; i++)
		printf("  part: %s at 0x%" PRIx64 "%s\n", o->part[i].name[0] ? o->part[i].name : "(unnamed)",
		       o->part[i].addr, o->part[i].name[0] ? "" : ", boundaries followed from a jump into it");
	if (!an)
		printf("  (give the executable to see the disassembly: redprof offsets show FILE BINARY)\n");
	for (int s = 0; s < o->nsites; s++) {
		const struct site_rec *site = &o->site[s];
		uint64_t marks[NVARS * OFFSETS_MAX_TERMS * OFFSETS_MAX_FROM];
		int nmarks = 0;

		offsets_code_name(o, site->addr, name, sizeof(name));
		printf("\nsite %s: %s, file offset 0x%" PRIx64 ", \"%s\", %s (%s)%s\n", site->name, name,
		       site->file_offset, site->insn, insn_class_name(site->cls),
		       site->cls == INSN_EMULATED ? "about 1 us a hit" : "single-stepped, 15-20 us a hit",
		       site->slowpath ? "; runs only when mem_used > maxmemory"
		       : site->early ? "; runs once on the way to the slow path, its values kept for it" : "");
		for (int v = 0; v < NVARS; v++)
			for (int i = 0; o->value[v].present && o->value[v].site == s && i < o->value[v].e.n; i++)
				for (int k = 0; k < o->value[v].e.t[i].nfrom; k++)
					marks[nmarks++] = o->value[v].e.t[i].from[k];
		if (an)
			show_disassembly(an, o, site->addr, marks, nmarks);
		for (int v = 0; v < NVARS; v++) {
			const struct value_rec *r = &o->value[v];

			if (!r->present || r->site != s)
				continue;
			expr_format(&r->e, e, sizeof(e));
			printf("    %-13s = %-30s (%s)\n", var_name((enum var)v), e, strategy_name(r->strategy));
			for (int i = 0; i < r->e.n; i++)
				show_term(an, fn, o, &r->e.t[i]);
		}
	}
	for (int v = 0; v < NVARS; v++)
		if (!o->value[v].present)
			printf("\n%s: not available for this build\n", var_name((enum var)v));
	for (int i = 0; i < o->nexits; i++) {
		const struct exit_rec *x = &o->exit[i];

		offsets_code_name(o, x->addr, name, sizeof(name));
		printf("\nexit %s: %s, file offset 0x%" PRIx64 ", \"%s\", %s\n", x->name, name, x->file_offset,
		       x->insn, insn_class_name(x->cls));
		for (int k = 0; k < NEDGES; k++) {
			const char *way = k == EDGE_TAKEN ? "taken" : "not taken";

			/* A jmp has one way on. */
			if (k == EDGE_NEXT && !strncmp(x->insn, "jmp", 3))
				continue;
			if (!x->leaves[k]) {
				printf("    %-9s: goes on along the eviction path\n", way);
				continue;
			}
			expr_format(&x->result[k], e, sizeof(e));
			printf("    %-9s: leaves it, returning %s\n", way, e);
		}
	}
	if (!o->nexits)
		printf("\nexits: none (the light plan needs them: redprof -p falls back to the full plan)\n");
	if (o->ndeletes)
		printf("\ndelete calls (keys evicted, used only without stat_evictedkeys):\n");
	for (int i = 0; i < o->ndeletes; i++) {
		offsets_code_name(o, o->del[i].addr, name, sizeof(name));
		printf("  %s \"%s\" (%s)\n", name, o->del[i].insn, insn_class_name(o->del[i].cls));
	}
	printf("\nglobals read from memory:\n");
	for (int g = 0; g < NGLOBALS; g++) {
		const struct global_rec *r = &o->global[g];

		if (!r->present)
			printf("  %-17s not known\n", global_name((enum global)g));
		else if (r->sym[0])
			printf("  %-17s %s+%" PRId64 " (0x%" PRIx64 ", %s)\n", global_name((enum global)g), r->sym,
			       r->off, r->addr, strategy_name(r->strategy));
		else
			printf("  %-17s 0x%" PRIx64 " (%s)\n", global_name((enum global)g), r->addr,
			       strategy_name(r->strategy));
	}
	printf("\nstruct members followed from current_client (who paid):\n");
	for (int m = 0; m < NMEMBERS; m++)
		if (o->member[m].present)
			printf("  %-17s %" PRId64 " (%s)\n", member_name((enum member)m), o->member[m].off,
			       strategy_name(o->member[m].strategy));
		else
			printf("  %-17s not known\n", member_name((enum member)m));
	if (!an)
		return;
	printf("\nsums read at each round's end, found by running the server's own getter:\n");
	show_sum(an, "used memory", "zmalloc_used_memory");
	show_sum(an, "lazyfree pending", "lazyfreeGetPendingObjectsCount");
}

static int show_cmd(const struct offsets_env *env)
{
	struct target *t = NULL;
	struct offsets o;
	struct offsets_choice c;
	char why[768] = "";
	int rc = EXIT_OK;

	if (env->pid || env->binary) {
		rc = open_target(env, env->binary, &t);
		if (rc)
			return rc;
	}
	if (env->pid) {
		if (offsets_for_target(t, NULL, env->dir, false, &o, &c, why, sizeof(why))) {
			fprintf(stderr, "redprof: %s\n", why);
			rc = EXIT_TARGET;
			goto out;
		}
		if (c.origin == ORIGIN_NONE) {
			fprintf(stderr, "redprof: no offsets for PID %d (build-id %s): %s\n", env->pid,
				t->img->build_id, why);
			rc = EXIT_TARGET;
			goto out;
		}
		for (int i = 0; i < c.nnotes; i++)
			fprintf(stderr, "redprof: note: %s\n", c.notes[i]);
	} else {
		if (offsets_parse(env->arg, &o, why, sizeof(why))) {
			fprintf(stderr, "redprof: %s\n", why);
			rc = EXIT_TARGET;
			goto out;
		}
		snprintf(c.source, sizeof(c.source), "%s", env->arg);
		if (t && analysis__verify(t->an, &o, why, sizeof(why))) {
			fprintf(stderr, "redprof: %s does not fit %s: %s\n", env->arg, env->binary, why);
			rc = EXIT_TARGET;
			goto out;
		}
		if (t) {
			char disagree[512];

			analysis__cross_check(t->an, &o, disagree, sizeof(disagree), c.unverified, sizeof(c.unverified));
			if (disagree[0]) {
				fprintf(stderr, "redprof: %s reads a counter elsewhere than redprof finds it in %s: %s\n",
					env->arg, env->binary, disagree);
				rc = EXIT_TARGET;
				goto out;
			}
			if (c.unverified[0])
				fprintf(stderr, "redprof: note: unverified: redprof's own analysis does not find %s in %s\n",
					c.unverified, env->binary);
		}
	}
	show(&o, t ? t->an : NULL, t ? &t->evict : NULL, c.source);
out:
	target__close(t);
	return rc;
}

int offsets_main(int argc, char **argv)
{
	static const struct argp argp = { options, parse_opt, NULL, doc, NULL, NULL, NULL };
	struct offsets_env env = { 0 };
	char name[] = "redprof offsets";
	char *saved = argv[0];
	int rc;

	/* argp names the program after argv[0] in "Try '... --help'": the command people type. */
	argv[0] = name;
	argp_err_exit_status = EXIT_USAGE;
	argp_parse(&argp, argc, argv, 0, NULL, &env);
	argv[0] = saved;
	if (env.pid)
		cli_resolve_pid(&env.pid);
	rc = !strcmp(env.cmd, "generate") ? generate(&env) : show_cmd(&env);
	if (rc == EXIT_OK && (fflush(stdout) || ferror(stdout))) {
		fprintf(stderr, "redprof: cannot write standard output (%s)\n", strerror(errno));
		rc = EXIT_RUNTIME;
	}
	return rc;
}
