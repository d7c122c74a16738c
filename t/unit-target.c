// SPDX-License-Identifier: BSD-3-Clause
/*
 * unit-target.c: a model build (t/model/) as a file and as a running
 * process of the same user, without BPF or root:
 *
 *  - target: recognised by its symbols, with its version; files that are
 *    not ELF, not Redis, or Redis without an eviction function refused
 *    with the reason; a process found by PID, with its load bias;
 *  - used_memory: the server's used memory read from the process, from
 *    the one-word counter the offset file names and by running
 *    zmalloc_used_memory over per-thread counters, against the driver's
 *    own truth_used_memory;
 *  - probe_plan: the sites and globals of a verified offset file, for the
 *    process (globals at runtime addresses) and for the file (no bias:
 *    what needs a global is left out, keys counted at the delete calls);
 *  - offsets_store: a given file that fits or not, a shipped one found by
 *    build-id, one that does not fit replaced by one generated, and none.
 *
 * The process is the model's driver reading commands on a pipe: after
 * each command it prints a line and waits for the next.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis.h"
#include "offsets_store.h"
#include "probe_plan.h"
#include "tap.h"
#include "target.h"
#include "used_memory.h"
#include "util.h"

#define KEY_SIZE 4096

static const char *top;

static char *model(const char *name)
{
	return xasprintf("%s/t/model/evict-model-%s", top, name);
}

/* The model running NAME, fed on a pipe. */
struct proc {
	pid_t pid;
	FILE *in, *out;
};

static int proc_start(struct proc *p, const char *name)
{
	char *path = model(name);
	int to[2], from[2];

	if (pipe(to) || pipe(from))
		return -errno;
	p->pid = fork();
	if (p->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	free(path);
	close(to[0]);
	close(from[1]);
	p->in = fdopen(to[1], "w");
	p->out = fdopen(from[0], "r");
	return p->pid > 0 && p->in && p->out ? 0 : -EIO;
}

/* Runs one command; its line of output in LINE. */
static int proc_command(struct proc *p, const char *scenario, char *line, size_t len)
{
	fprintf(p->in, "%s\n", scenario);
	fflush(p->in);
	return fgets(line, (int)len, p->out) ? 0 : -EIO;
}

static void proc_stop(struct proc *p)
{
	fclose(p->in);
	fclose(p->out);
	kill(p->pid, SIGTERM);
	waitpid(p->pid, NULL, 0);
}

/* The offset file redprof generates for T, verified as any file is. */
static int offsets_of(const struct target *t, struct offsets *o)
{
	struct gen_result r;

	return analysis__generate(t->an, t->flavor, t->version, STRATEGY_NONE, o, &r);
}

static char *write_offsets(const char *dir, const char *name, const struct offsets *o)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f) {
		offsets_write(o, f);
		fclose(f);
	}
	return path;
}

/* --------------------------------------------------------------------
 * target
 * ------------------------------------------------------------------ */

static void refused_file(const char *path, enum target_problem want, const char *what)
{
	enum target_problem problem;
	struct target *t = NULL;
	int err = target__open_binary(path, &t, &problem);

	ok(err == -ENOEXEC && problem == want && !t, "%s: refused (problem %d)", what, (int)problem);
}

static void files(void)
{
	char *path = model("gcc-O2-redis7-g"), *pie = xasprintf("%s/t/fixture-pie", top);
	char *noevict = xasprintf("%s/t/fixture-noevict", top), *text = xasprintf("%s/t/model/builds", top);
	enum target_problem problem;
	struct target *t;

	if (ok(!target__open_binary(path, &t, &problem), "a model build opens as a Redis server")) {
		is_str(t->flavor, "redis", "its flavor");
		is_str(t->version, "0.1.0", "its version, from RM_GetServerVersion's mov $imm, %%eax");
		is_str(target__evict_name(t), "performEvictions", "its eviction function");
		ok(!t->legacy && !t->bias_known && t->pid == 0, "a file: no PID, no load bias");
		is_u64(target__read(t, t->evict.addr, &(uint64_t){ 0 }, 8), (uint64_t)-ENOENT,
		       "a file's memory cannot be read");
		target__close(t);
	}
	refused_file(text, TARGET_NOT_ELF, "a text file");
	refused_file(pie, TARGET_NOT_REDIS, "an ELF program without processCommand and server");
	refused_file(noevict, TARGET_NO_EVICT, "a Redis-like program without an eviction function");
	free(path);
	free(pie);
	free(noevict);
	free(text);
}

/* --------------------------------------------------------------------
 * A running model: target, used_memory, probe_plan
 * ------------------------------------------------------------------ */

/* Reads the driver's global NAME from the process. */
static uint64_t truth(const struct target *t, const char *name)
{
	struct elf_sym sym;
	uint64_t v = ~0ULL;

	if (elf_image__object(t->img, name, &sym) || target__read(t, sym.addr, &v, sizeof(v)))
		diag("  cannot read %s", name);
	return v;
}

static void used_memory(const struct target *t, const struct offsets *o, const char *name)
{
	struct plan_global word = { .known = o->global[G_USED_MEMORY].present, .addr = o->global[G_USED_MEMORY].addr };
	struct used_memory *u = used_memory_open(t, &word);
	uint64_t v = 0;

	if (!ok(u != NULL, "%s: used memory can be read (%s)", name, word.known ? "one word" : "running zmalloc_used_memory"))
		return;
	if (!ok(!used_memory_read(u, &v) && v == truth(t, "truth_used_memory") && v == 5000000 - 3 * KEY_SIZE,
		"%s: used memory is the driver's after the command", name))
		diag("  read %llu", (unsigned long long)v);
	used_memory_close(u);
}

static bool has_site(const struct probe_plan *p, int kind, uint64_t addr, size_t *at)
{
	for (size_t i = 0; i < p->n; i++)
		if ((int)p->site[i].spec.kind == kind && (!addr || p->site[i].addr == addr)) {
			*at = i;
			return true;
		}
	return false;
}

static void plan(const struct target *t, const struct offsets *o, const char *name, bool live)
{
	struct probe_plan p = { 0 };
	const struct site_rec *sr = &o->site[0];
	uint64_t off;
	size_t i = 0, deletes = 0;
	unsigned globals_in = 0, all = (1U << NVARS) - 1;

	for (int v = 0; v < NVARS; v++)
		for (int k = 0; o->value[v].present && k < o->value[v].e.n; k++)
			if (o->value[v].e.t[k].kind == TERM_GLOBAL)
				globals_in |= 1U << v;
	ok(!plan_add_eviction(&p, t) && !plan_add_offsets(&p, t, o) && !plan_add_commands(&p, t),
	   "%s: a plan from the verified file", name);
	ok(p.n >= 4 && !strcmp(p.site[0].name, "performEvictions") && p.site[0].spec.kind == EV_SITE_ENTRY &&
	   p.site[1].retprobe && p.site[1].cls == SITE_RETURN && !strcmp(p.site[1].name, "performEvictions (return)"),
	   "%s: the entry and the return probe come first", name);
	is_u64(plan_add_eviction(&p, t), (uint64_t)-EINVAL, "%s: the entry probe only first", name);
	if (ok(has_site(&p, EV_SITE_VALUES, sr->addr, &i), "%s: the file's site %s is planned", name, sr->name)) {
		ok(p.site[i].spec.flags & EV_SITE_SLOWPATH, "%s: ... marking evicting calls", name);
		ok(!elf_image__file_offset(t->img, sr->addr, &off) && p.site[i].file_offset == off &&
		   p.site[i].file_offset == sr->file_offset, "%s: ... at its file offset", name);
		is_str(site_class_name(p.site[i].cls), insn_class_name(sr->cls), "%s: ... of its class", name);
	}
	/* Without the load bias a global cannot be read: those values are left out. */
	is_u64(p.var_mask, live ? all : all & ~globals_in, "%s: the values read %s", name,
	       live ? "are all four" : "are those without a global");
	for (size_t k = 0; k < p.n; k++)
		deletes += p.site[k].spec.kind == EV_SITE_DELETE;
	if (live)
		ok(p.keys && !p.keys_at_deletes && !deletes && p.evictedkeys.known && p.numcommands.known,
		   "%s: keys and commands come from the server's counters", name);
	else
		ok(p.keys && p.keys_at_deletes && deletes == (size_t)o->ndeletes && deletes > 0,
		   "%s: keys are counted at the %zu delete calls", name, deletes);
	ok(has_site(&p, EV_SITE_COMMAND, 0, &i) && p.site[i].fn.addr == t->command.addr &&
	   p.site[i].cls == SITE_EMULATED && !strncmp(p.site[i].name, "processCommand", 14),
	   "%s: commands at an emulated instruction of processCommand", name);
	while (p.n < EV_MAX_SITES)
		p.n++;
	is_u64(plan_add_commands(&p, t), (uint64_t)-E2BIG, "%s: no more sites than the kernel side has cookies", name);
}

/* The live process's globals and its plan's absolute terms point at the driver's counters. */
static void live_globals(const struct target *t, const struct offsets *o, const char *name)
{
	uint64_t v;

	ok(!target__read(t, o->global[G_MAXMEMORY].addr, &v, 8) && v == truth(t, "truth_maxmemory") && v == 4840000,
	   "%s: server.maxmemory read from the process is the driver's", name);
	ok(!target__read(t, o->global[G_STAT_EVICTEDKEYS].addr, &v, 8) && v == 3,
	   "%s: server.stat_evictedkeys read from the process: 3 keys", name);
}

static void running(const char *name, struct offsets *file_o)
{
	char *path = model(name), line[256];
	enum target_problem problem;
	struct target *t = NULL, *ft = NULL;
	struct offsets o;
	struct proc p;

	if (!ok(!proc_start(&p, name) && !proc_command(&p, "5000000,150000,4840000", line, sizeof(line)) &&
		strstr(line, "3 keys evicted"), "%s: the model runs a command that evicts 3 keys", name))
		return;
	if (ok(!target__open(p.pid, &t, &problem), "%s: the process opens by PID", name)) {
		ok(t->bias_known && t->pid == p.pid && target__alive(t), "%s: alive, with its load bias", name);
		ok(!offsets_of(t, &o), "%s: its offset file is generated", name);
		used_memory(t, &o, name);
		live_globals(t, &o, name);
		plan(t, &o, name, true);
		*file_o = o;
	}
	if (t && !target__open_binary(path, &ft, &problem)) {
		char file_name[64];

		snprintf(file_name, sizeof(file_name), "%s (file)", name);
		plan(ft, &o, file_name, false);
		ok(used_memory_open(ft, &(struct plan_global){ 0 }) == NULL,
		   "%s (file): no used memory without a process", name);
		target__close(ft);
	}
	proc_stop(&p);
	if (t)
		ok(!target__alive(t), "%s: gone once stopped", name);
	target__close(t);
	free(path);
}

/* --------------------------------------------------------------------
 * offsets_store
 * ------------------------------------------------------------------ */

static void store(const struct offsets *redis7, const struct offsets *valkey8)
{
	char dir[] = "/tmp/unit-target.XXXXXX", line[256], why[768];
	char *fits, *other, *bad, *shipped;
	struct offsets_choice c;
	struct target *t;
	struct offsets o, unfit = *redis7;
	enum target_problem problem;
	struct proc p;

	if (!ok(mkdtemp(dir) && !proc_start(&p, "gcc-O2-redis7") &&
		!proc_command(&p, "5000000,100000,0", line, sizeof(line)) && !target__open(p.pid, &t, &problem),
		"a running model for the offset store"))
		return;
	fits = write_offsets(dir, "given.offsets", redis7);
	other = write_offsets(dir, "other.offsets", valkey8);
	bad = xasprintf("%s/bad.offsets", dir);
	write_file_atomic(bad, "redprof-offsets 1\nbuild-id xyz\n", strlen("redprof-offsets 1\nbuild-id xyz\n"));

	ok(!offsets_for_target(t, fits, NULL, false, &o, &c, why, sizeof(why)) && c.origin == ORIGIN_GIVEN &&
	   !strcmp(c.source, fits) && c.strategy == STRATEGY_DISASM, "a given file that fits is used");
	ok(offsets_for_target(t, other, NULL, false, &o, &c, why, sizeof(why)) == -EINVAL &&
	   strstr(why, "does not fit PID") && strstr(why, "the file is for build-id"),
	   "a given file of another build is refused, saying why");
	ok(offsets_for_target(t, bad, NULL, false, &o, &c, why, sizeof(why)) == -EINVAL && strstr(why, "bad.offsets:2:"),
	   "a given file that does not parse is refused with FILE:LINE");

	/* The directory: only the other build's file and a broken one. */
	unlink(fits);
	ok(!offsets_for_target(t, NULL, dir, false, &o, &c, why, sizeof(why)) && c.origin == ORIGIN_GENERATED &&
	   !strcmp(c.source, "generated on the fly"), "no shipped file for this build: one is generated");
	shipped = write_offsets(dir, "shipped.offsets", redis7);
	ok(!offsets_for_target(t, NULL, dir, false, &o, &c, why, sizeof(why)) && c.origin == ORIGIN_SHIPPED &&
	   !strcmp(c.source, shipped), "a shipped file is found by build-id");
	unfit.site[0].file_offset++;
	free(write_offsets(dir, "shipped.offsets", &unfit));
	ok(!offsets_for_target(t, NULL, dir, false, &o, &c, why, sizeof(why)) && c.origin == ORIGIN_GENERATED &&
	   c.nnotes >= 1 && strstr(c.notes[0], "has this build-id but does not fit") &&
	   strstr(c.notes[0], "using one generated on the fly"),
	   "a shipped file that does not fit: one is generated, and a note says why");
	unlink(shipped);
	unlink(other);
	unlink(bad);
	rmdir(dir);
	proc_stop(&p);
	target__close(t);
	free(fits);
	free(other);
	free(bad);
	free(shipped);
}

int main(void)
{
	struct offsets redis7, valkey8;

	top = getenv("top_builddir");
	top = top ? top : ".";
	signal(SIGPIPE, SIG_IGN);
	if (!ok(!analysis_init(), "capstone starts"))
		return tap_done();
	files();
	running("gcc-O2-redis7", &redis7);
	running("gcc-O2-valkey8", &valkey8);
	store(&redis7, &valkey8);
	analysis_fini();
	return tap_done();
}
