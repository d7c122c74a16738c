// SPDX-License-Identifier: BSD-3-Clause
/*
 * session.c: opening a target, planning and attaching the probes, and
 * cutting intervals from the kernel's cumulative counters.
 *
 * Counts are never cleared: each interval is the difference of two
 * snapshots, so events that land while user space reads are counted in the
 * next interval instead of being lost.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "offsets_store.h"
#include "session.h"
#include "used_memory.h"
#include "util.h"

static void note(struct session *s, const char *msg)
{
	if (s->nnotes < SESSION_MAX_NOTES)
		s->notes[s->nnotes++] = xstrdup(msg);
}

static int read_u64(const struct session *s, const struct plan_global *g, uint64_t *v)
{
	if (!g->known)
		return -ENOENT;
	return target__read(s->t, g->addr, v, sizeof(*v));
}

/* Commands come from server.stat_numcommands when it can be read, else from a probe. */
static int plan_commands(struct session *s)
{
	uint64_t v;

	if (!read_u64(s, &s->plan.numcommands, &v)) {
		s->commands_from_memory = true;
		return 0;
	}
	/* A generated file's notes already say when it lacks the counter. */
	if (s->plan.numcommands.known)
		note(s, "commands: server.stat_numcommands cannot be read, so a probe on processCommand counts "
			"them (one hit per command)");
	else if (s->offsets_source[0] && !s->offsets_generated)
		note(s, "commands: the offset file has no stat_numcommands, so a probe on processCommand counts "
			"them (one hit per command)");
	return plan_add_commands(&s->plan, s->t);
}

/*
 * The light plan when the offset file allows it, the server's command
 * counter can be read and --full was not given; else the full plan, and a
 * note saying why.
 */
static void choose_plan(struct session *s, const struct session_opts *o, const struct offsets *offs, bool have)
{
	char why[256] = "";
	uint64_t v;

	if (o->full)
		snprintf(why, sizeof(why), "--full was given");
	else if (!have)
		snprintf(why, sizeof(why), "there is no offset file for this build");
	else if (plan_can_be_light(offs, why, sizeof(why)) &&
		 target__read(s->t, offs->global[G_STAT_NUMCOMMANDS].addr, &v, sizeof(v)))
		snprintf(why, sizeof(why), "the server's command counter cannot be read");
	else if (!why[0])
		s->plan.light = true;
	if (s->plan.light)
		note(s, "light plan: only calls that evict are probed, at the slow path and where they leave it; "
			"calls are counted as the commands Redis ran (one call each while maxmemory is set); --full "
			"probes every call's entry and return to time calls that do not evict too");
	if (!s->plan.light && !o->full) {
		char msg[400];

		snprintf(msg, sizeof(msg), "full plan: every performEvictions call is probed at its entry and return "
			 "(2 hits per command), because %s", why);
		note(s, msg);
	}
}

/*
 * The plan: which offset file, light or full, and its sites. A file given
 * with --offsets that does not fit is an error; anything else degrades to
 * what needs only symbols, and says so.
 */
static int plan_offsets(struct session *s, const struct session_opts *o, struct session_error *e)
{
	struct offsets offs;
	struct offsets_choice c;
	char why[512] = "";
	int err;

	e->stage = STAGE_OFFSETS;
	err = offsets_for_target(s->t, o->offsets_file, o->offsets_dir, o->force_offsets, &offs, &c, why,
				 sizeof(why));
	if (err) {
		snprintf(e->detail, sizeof(e->detail), "%s", why);
		return err;
	}
	choose_plan(s, o, &offs, c.origin != ORIGIN_NONE);
	e->stage = STAGE_PLAN;
	err = plan_add_eviction(&s->plan, s->t);
	if (err)
		return err;
	if (c.origin == ORIGIN_NONE) {
		snprintf(s->plan.why_no_values, sizeof(s->plan.why_no_values),
			 "no offset file for build-id %s (%s); generate one with: redprof offsets generate -p %d "
			 "-o FILE, then pass --offsets FILE", s->t->img->build_id, why, (int)s->t->pid);
		note(s, "no offset file for this build: showing what needs only symbols (eviction latency, "
			"calls, commands)");
		note(s, s->plan.why_no_values);
		return 0;
	}
	err = plan_add_offsets(&s->plan, s->t, &offs);
	if (err)
		return err;
	if (s->plan.slowpath)
		plan_add_sums(&s->plan, s->t);
	snprintf(s->offsets_source, sizeof(s->offsets_source), "%s", c.source);
	s->offsets_generated = c.origin == ORIGIN_GENERATED;
	snprintf(s->strategy, sizeof(s->strategy), "%s", strategy_name(c.strategy));
	snprintf(s->plan.why_no_values, sizeof(s->plan.why_no_values),
		 "the offset file (%s) has no site for this in build-id %s", c.source, s->t->img->build_id);
	{
		char msg[640];

		snprintf(msg, sizeof(msg), "offsets: %s (%s strategy)", c.source, s->strategy);
		note(s, msg);
	}
	for (int i = 0; i < c.nnotes; i++)
		note(s, c.notes[i]);
	snprintf(s->offsets_forced, sizeof(s->offsets_forced), "%s", c.forced);
	snprintf(s->offsets_unverified, sizeof(s->offsets_unverified), "%s", c.unverified);
	if (c.forced[0]) {
		char msg[640];

		snprintf(msg, sizeof(msg), "FORCED (--force-offsets): %s", c.forced);
		note(s, msg);
	}
	if (c.unverified[0]) {
		char msg[400];

		snprintf(msg, sizeof(msg), "unverified: redprof's own analysis does not find %s in this executable, so "
			 "what the file reads there comes from an unverified file", c.unverified);
		note(s, msg);
	}
	/* A generated file's notes already say why; a file from disk does not. */
	if (s->plan.keys_at_deletes && !s->offsets_generated)
		note(s, "keys evicted: counted at the delete calls (one probe hit per key), as the offset file's "
			"stat_evictedkeys is missing or cannot be read");
	return 0;
}

/*
 * The light plan probes no call that does not evict: while maxmemory is
 * set, Redis calls the eviction function once per command it processes;
 * the entry and return sites it leaves detached have no hits.
 */
static void light_sample(const struct session *s, struct sample *out)
{
	if (!s->plan.light)
		return;
	out->calls = out->maxmemory ? out->commands : 0;
	for (size_t i = 0; i < s->plan.n; i++)
		if (s->plan.site[i].detached)
			out->hits[i] = 0;
}

/* The kernel's counters, and the command counter when it comes from memory: 0, or its -errno. */
static int snapshot(struct session *s, struct ev_totals *dst, uint64_t *cmds)
{
	memcpy(dst, probes__totals(s->probes), sizeof(*dst));
	return s->commands_from_memory ? read_u64(s, &s->plan.numcommands, cmds) : 0;
}

/* Marks what could not be read from the target's memory (ERR its -errno) as such in OUT. */
static void unread(struct sample *out, unsigned what, int err)
{
	out->unread |= what;
	out->target_gone |= err == -ESRCH;
}

int session__open(const struct session_opts *o, struct session **out, struct session_error *e)
{
	struct session *s = xcalloc(1, sizeof(*s));
	enum probes_stage pstage;
	size_t failed = 0;
	int err;

	memset(e, 0, sizeof(*e));
	s->pidfd = -1;
	e->stage = STAGE_TARGET;
	err = target__open(o->pid, &s->t, &e->problem);
	if (err)
		goto fail;

	e->stage = STAGE_PRIVILEGE;
	err = probes_check_privilege();
	if (err)
		goto fail;
	e->stage = STAGE_KERNEL;
	err = probes_check_kernel();
	if (err)
		goto fail;

	err = plan_offsets(s, o, e);
	if (err)
		goto fail;
	e->stage = STAGE_PLAN;
	err = plan_commands(s);
	if (err)
		goto fail;
	s->used_memory = used_memory_open(s->t, &s->plan.used_memory);

	err = probes__open(s->t, &s->plan, &s->probes, &pstage, &failed);
	if (err) {
		e->stage = pstage == PROBES_ATTACH ? STAGE_ATTACH : STAGE_LOAD;
		if (pstage == PROBES_ATTACH)
			snprintf(e->site, sizeof(e->site), "%s", s->plan.site[failed].name);
		goto fail;
	}
	s->pidfd = (int)syscall(SYS_pidfd_open, s->t->pid, 0);
	s->start_ns = s->prev_ns = s->base_ns = now_mono_ns();
	s->storm = storm__open(probes__slices(s->probes), s->probes->slice_shift_ns, s->start_ns);
	if (s->plan.payers.known)
		s->payers = payers__new(probes__payers_fd(s->probes));
	s->prev_cmds_err = s->base_cmds_err = snapshot(s, &s->prev, &s->prev_cmds);
	s->base = s->prev;
	s->base_cmds = s->prev_cmds;
	*out = s;
	return 0;
fail:
	e->err = err;
	session__close(s);
	return err;
}

void session__close(struct session *s)
{
	if (!s)
		return;
	storm__close(s->storm);
	payers__free(s->payers);
	probes__destroy(s->probes);
	used_memory_close(s->used_memory);
	target__close(s->t);
	if (s->pidfd >= 0)
		close(s->pidfd);
	for (size_t i = 0; i < s->nnotes; i++)
		free(s->notes[i]);
	free(s);
}

static void read_memory_gauges(struct session *s, struct sample *out)
{
	uint64_t v;
	int err;

	if (s->plan.maxmemory.known) {
		err = read_u64(s, &s->plan.maxmemory, &v);
		if (err)
			unread(out, UNREAD_MAXMEMORY, err);
		else
			out->maxmemory = (int64_t)v;
	}
	/* An int: the word's low half. Read like the gauges, but a reading lost is only left out. */
	if (s->plan.policy.known && !read_u64(s, &s->plan.policy, &v))
		out->policy = (int64_t)(v & 0xffffffffU);
	if (s->used_memory) {
		err = used_memory_read(s->used_memory, &v);
		if (err)
			unread(out, UNREAD_USED_MEMORY, err);
		else
			out->used_memory = (int64_t)v;
	}
	if (s->plan.clients_memory.known) {
		err = read_u64(s, &s->plan.clients_memory, &v);
		if (err)
			unread(out, UNREAD_CLIENTS_MEMORY, err);
		else
			out->clients_memory = (int64_t)v;
	}
}

/*
 * Commands between two readings of server.stat_numcommands (FROM_ERR,
 * TO_ERR: why one could not be read); unavailable when either could not,
 * never the difference to an older reading; unavailable too when the
 * counter fell in between (CONFIG RESETSTAT zeroes it) or did since the
 * span began (WENT_BACK), rather than a count that wrapped or lost its start.
 */
static void commands_between(struct session *s, struct sample *out, uint64_t from, int from_err, uint64_t to,
			     int to_err, bool went_back)
{
	if (!s->commands_from_memory)
		return;
	if (from_err || to_err) {
		unread(out, UNREAD_COMMANDS, to_err ? to_err : from_err);
	} else if (went_back || to < from) {
		unread(out, UNREAD_COMMANDS, 0);
		out->commands_went_back = true;
	} else {
		out->commands = to - from;
	}
}

void session__interval(struct session *s, struct sample *out)
{
	struct ev_extrema mm;
	struct ev_totals cur;
	uint64_t cmds = s->prev_cmds, now;
	unsigned slot;
	int err;

	now = now_mono_ns();
	err = snapshot(s, &cur, &cmds);
	slot = probes__flip_epoch(s->probes);
	mm = probes__extrema(s->probes)[slot];
	probes__reset_extrema(s->probes, slot);

	sample_delta(out, &cur, &s->prev, &mm);
	out->ns = now - s->prev_ns;
	out->end_real_ns = now_real_ns();
	commands_between(s, out, s->prev_cmds, s->prev_cmds_err, cmds, err, false);
	s->cmds_went_back |= out->commands_went_back;
	read_memory_gauges(s, out);
	light_sample(s, out);
	/* It fails only when the kernel refuses a key it has just listed: the map is gone with the probes. */
	if (s->payers)
		(void)payers__interval(s->payers, slot, &out->payers);
	storm__interval(s->storm, out, now);

	s->prev = cur;
	if (!err)
		s->prev_cmds = cmds;
	s->prev_cmds_err = err;
	s->prev_ns = now;
}

void session__total(struct session *s, struct sample *out)
{
	sample_delta(out, &s->prev, &s->base, &probes__extrema(s->probes)[EV_EPOCH_ALL]);
	out->ns = s->prev_ns - s->base_ns;
	out->end_real_ns = now_real_ns();
	commands_between(s, out, s->base_cmds, s->base_cmds_err, s->prev_cmds, s->prev_cmds_err, s->cmds_went_back);
	read_memory_gauges(s, out);
	light_sample(s, out);
	if (s->payers)
		payers__total(s->payers, &out->payers);
}

void session__reset(struct session *s)
{
	s->base = s->prev;
	s->base_cmds = s->prev_cmds;
	s->base_cmds_err = s->prev_cmds_err;
	s->base_ns = s->prev_ns;
	s->cmds_went_back = false;
	probes__reset_extrema(s->probes, EV_EPOCH_ALL);
	if (s->payers)
		payers__reset(s->payers);
}

const char *session__why_no_evictions(const struct session *s, const struct sample *smp)
{
	if (!smp->calls && smp->maxmemory == 0)
		return "maxmemory is 0: Redis does not evict";
	if (smp->calls || !smp->commands)
		return NULL;
	if (smp->maxmemory > 0)
		return s->t->legacy ? "freeMemoryIfNeeded was not called although maxmemory is set"
				    : "performEvictions was not called although maxmemory is set";
	if (smp->maxmemory == 0)
		return "maxmemory is 0: Redis does not evict";
	return "no eviction calls while commands ran: maxmemory is 0, so Redis does not evict";
}

void session__hits_by_class(const struct session *s, const struct sample *smp, uint64_t out[SITE_NCLASSES])
{
	memset(out, 0, SITE_NCLASSES * sizeof(out[0]));
	for (size_t i = 0; i < s->plan.n; i++)
		out[s->plan.site[i].cls] += smp->hits[i];
}

double session__probe_cpu_ns(const struct session *s, const struct sample *smp)
{
	uint64_t by_class[SITE_NCLASSES];
	double ns = 0;

	session__hits_by_class(s, smp, by_class);
	for (int c = 0; c < SITE_NCLASSES; c++)
		ns += (double)by_class[c] * site_class_hit_ns(c);
	return ns;
}
