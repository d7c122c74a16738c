// SPDX-License-Identifier: BSD-3-Clause
/*
 * unit-storm.c: the episode detector, the cycle's phases, the verdict and
 * the heat map, on synthetic sequences built here (no BPF): intervals of
 * known shares, counts and used_memory, and a kernel slice ring filled by
 * hand. Each episode must begin, end and sum exactly as redprof(8) says;
 * blips and short lulls must not make or split one; each phase of a cycle
 * must have the length the sequence gave it; each verdict must follow its
 * rule and say why; and the heat map must keep every nanosecond it drains,
 * spreading long calls back over the slices they covered.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "episode.h"
#include "heatmap.h"
#include "measures.h"
#include "storm.h"
#include "tap.h"
#include "verdict.h"

#define SEC 1000000000ULL
#define HALF (SEC / 2)
#define MB (1024 * 1024LL)
#define MAXMEM (20 * MB)
/* CLOCK_REALTIME - CLOCK_MONOTONIC: a quarter of a second past a whole second. */
#define REAL_MINUS_MONO (1795428000ULL * SEC + 250000000ULL)
#define T0 (1000 * SEC)		/* CLOCK_MONOTONIC when the sequences start */

/* What one synthetic interval holds. */
struct iv_spec {
	uint64_t ns;
	uint64_t commands, evicting;	/* calls are the commands (the light plan) */
	uint64_t running, failed;	/* returns of evicting calls other than EVICT_OK */
	uint64_t round_ns;		/* each evicting call's latency */
	uint64_t overhead;		/* bytes, read by each evicting call */
	int64_t used;			/* used_memory at its end */
	int64_t clients;		/* normal clients' memory at its end */
};

static void make_interval(struct sample *iv, const struct iv_spec *sp, uint64_t end_mono)
{
	sample_init(iv);
	iv->ns = sp->ns;
	iv->end_real_ns = end_mono + REAL_MINUS_MONO;
	iv->calls = iv->commands = sp->commands;
	iv->evicting_calls = sp->evicting;
	iv->keys_evicted = sp->evicting + sp->evicting / 2;
	iv->returns[EV_RET_0] = sp->evicting - sp->running - sp->failed;
	iv->returns[EV_RET_1] = sp->running;
	iv->returns[EV_RET_2] = sp->failed;
	iv->lat[EV_ACTIVE].count = sp->evicting;
	iv->lat[EV_ACTIVE].sum_ns = sp->evicting * sp->round_ns;
	iv->lat[EV_ACTIVE].slots[EV_NSEC][hist_slot(sp->round_ns)] = sp->evicting;
	iv->lat[EV_ACTIVE].min_ns = iv->lat[EV_ACTIVE].max_ns = sp->round_ns;
	for (uint64_t i = 0; i < sp->evicting; i++) {
		hist_add(&iv->var[EV_MEM_TOFREE], 500 + i % 400);
		hist_add(&iv->var[EV_OVERHEAD], sp->overhead);
	}
	iv->maxmemory = MAXMEM;
	iv->used_memory = sp->used;
	iv->clients_memory = sp->clients;
}

/* A sequence being fed: the detector and where its clock is. */
struct seq {
	struct episodes *e;
	uint64_t now;			/* CLOCK_MONOTONIC end of the last interval */
	uint64_t keys, evict_ns, evicting, commands;	/* sums over the intervals marked counted */
};

static void feed(struct seq *q, struct iv_spec sp, bool counted)
{
	struct sample iv;

	q->now += sp.ns;
	make_interval(&iv, &sp, q->now);
	episodes__add(q->e, &iv, q->now);
	if (!counted)
		return;
	q->keys += iv.keys_evicted;
	q->evict_ns += iv.lat[EV_ACTIVE].sum_ns;
	q->evicting += iv.evicting_calls;
	q->commands += iv.commands;
}

static struct iv_spec cold(int64_t used)
{
	return (struct iv_spec){ HALF, 20000, 0, 0, 0, 0, 0, used };
}

static struct iv_spec hot(void)
{
	return (struct iv_spec){ HALF, 10000, 9000, 0, 0, 4000, 0, MAXMEM };
}

/* ------------------------------------------------------------------ */

static void test_episode_bounds_and_sums(void)
{
	struct seq q = { episodes__new(NULL), T0, 0, 0, 0, 0 };
	struct iv_spec warm = { HALF, 10000, 500, 0, 0, 4000, 0, MAXMEM };
	const struct episode *ep;
	uint64_t start, end;

	for (int i = 0; i < 4; i++)
		feed(&q, cold(10 * MB + i * 2 * MB), false);
	start = q.now;
	for (int i = 0; i < 6; i++)
		feed(&q, hot(), true);
	feed(&q, warm, true);
	for (int i = 0; i < 2; i++)
		feed(&q, hot(), true);
	end = q.now;
	feed(&q, cold(MAXMEM), false);
	is_u64(q.e->n, 0, "half a second of quiet does not end an episode");
	feed(&q, cold(MAXMEM), false);
	is_u64(q.e->n, 1, "a second of quiet ends it");
	ep = episodes__at(q.e, 0);
	is_u64(ep->id, 1, "the first episode is #1");
	is_u64(ep->start_ns, start, "without a heat map it starts where its first hot interval began");
	is_u64(ep->end_ns, end, "... and ends where its last busy interval ended (the warm one inside it too)");
	is_u64(ep->start_real_ns, start + REAL_MINUS_MONO, "its start in wall-clock time");
	is_u64(ep->intervals, 9, "it is the sum of 9 intervals, the warm one included, the quiet ones not");
	is_u64(ep->keys_evicted, q.keys, "its keys are the sum of its intervals' keys");
	is_u64(ep->evict_ns, q.evict_ns, "its time evicting is the sum of its intervals' latency sums");
	is_u64(ep->evicting_calls, q.evicting, "its evicting calls are the sum of its intervals'");
	is_u64(ep->latency.count, q.evicting, "its latency histogram holds every evicting call");
	is_u64(ep->returns[EV_RET_0], q.evicting, "... and its returns too");
	ok(fabs(ep->cmds_before - 40000) < 1e-6, "commands/s before: the quiet intervals before it (%.0f)",
	   ep->cmds_before);
	ok(fabs(ep->cmds_during - 20000) < 1e-6, "commands/s during (%.0f)", ep->cmds_during);
	ok(fabs(ep->cmds_after - 40000) < 1e-6, "commands/s after: the quiet second that ended it (%.0f)",
	   ep->cmds_after);
	ok(fabs(episode_duration_s(ep) - 4.5) < 1e-9, "it lasted 4.5 s");
	ok(fabs(episode_evict_share(ep) - (double)q.evict_ns / 4.5e9) < 1e-9,
	   "its share of the main thread is its time evicting over its duration (%.3f)", episode_evict_share(ep));
	ok(!ep->ongoing, "an ended episode is not ongoing");
	episodes__free(q.e);
}

static void test_blips_and_lulls(void)
{
	struct seq q = { episodes__new(NULL), T0, 0, 0, 0, 0 };
	struct episode now;

	feed(&q, hot(), false);
	ok(!episodes__current(q.e, &now), "half a second of eviction is not an episode yet");
	feed(&q, cold(MAXMEM), false);
	feed(&q, cold(MAXMEM), false);
	is_u64(q.e->n, 0, "a blip shorter than a second that ends makes no episode");
	is_u64(q.e->next_id, 1, "... and uses no id");

	for (int i = 0; i < 3; i++)
		feed(&q, hot(), true);
	ok(episodes__current(q.e, &now) && now.ongoing && now.id == 1,
	   "a second of eviction is an episode going on, #1");
	feed(&q, cold(MAXMEM), true);
	for (int i = 0; i < 3; i++)
		feed(&q, hot(), true);
	now.intervals = 0;
	episodes__current(q.e, &now);
	is_u64(now.intervals, 7, "a lull shorter than a second stays inside the episode");
	is_u64(now.keys_evicted, q.keys, "... and its keys are counted in it");
	ok(isnan(now.cmds_after), "an ongoing episode has no 'after' yet");
	episodes__free(q.e);

	q = (struct seq){ episodes__new(NULL), T0, 0, 0, 0, 0 };
	feed(&q, (struct iv_spec){ SEC, 1000, 900, 0, 0, 4000, 0, MAXMEM }, false);
	ok(episodes__current(q.e, &now), "with 1 s intervals one hot interval is an episode");
	episodes__free(q.e);
}

/* Hot intervals with ENTER's and LEAVE's shares exactly: the thresholds are inclusive as documented. */
static void test_thresholds(void)
{
	struct seq q = { episodes__new(NULL), T0, 0, 0, 0, 0 };
	struct iv_spec enter = { SEC, 1000, 100, 0, 0, 4000, 0, MAXMEM };
	struct iv_spec below = { SEC, 1000, 99, 0, 0, 4000, 0, MAXMEM };
	struct iv_spec leave = { SEC, 1000, 10, 0, 0, 4000, 0, MAXMEM };
	struct iv_spec under = { SEC, 1000, 9, 0, 0, 4000, 0, MAXMEM };
	struct episode now;

	feed(&q, below, false);
	ok(!episodes__current(q.e, &now), "9.9%% of calls evicting does not begin an episode");
	feed(&q, enter, false);
	ok(episodes__current(q.e, &now), "10%% does");
	feed(&q, leave, false);
	feed(&q, leave, false);
	ok(episodes__current(q.e, &now), "1%% keeps it going");
	feed(&q, under, false);
	is_u64(q.e->n, 1, "0.9%% for a second ends it");
	ok(fabs(sample_evicting_share(&(struct sample){ .calls = 10, .evicting_calls = 30 }) - 1) < 1e-12,
	   "evicting calls from the eviction timer, beyond the commands, count as a share of 1");
	episodes__free(q.e);
}

static void test_cycle(void)
{
	struct seq q = { episodes__new(NULL), T0, 0, 0, 0, 0 };
	const struct episode *a, *b;
	uint64_t low_first, low_last;

	/* Growth from the capture's start: memory rising from 8 MiB. */
	for (int i = 0; i < 4; i++)
		feed(&q, cold(8 * MB + i * 3 * MB), false);
	for (int i = 0; i < 4; i++)
		feed(&q, hot(), false);
	/* The reclaim: two quiet intervals at maxmemory, then a fall to 5 MiB, noise on the plateau. */
	feed(&q, cold(MAXMEM), false);
	feed(&q, cold(MAXMEM - MB / 8), false);
	feed(&q, cold(12 * MB), false);
	feed(&q, cold(5 * MB + MB / 10), false);
	low_first = q.now;
	feed(&q, cold(5 * MB), false);
	feed(&q, cold(5 * MB + MB / 20), false);
	low_last = q.now;
	a = episodes__at(q.e, 0);
	ok(fabs(a->cycle.reclaim_s - (double)(low_first - a->end_ns) / 1e9) < 1e-9,
	   "the reclaim runs from the burst's end to the first reading on the low plateau (%.1f s)",
	   a->cycle.reclaim_s);
	is_u64(a->cycle.low_after, 5 * MB, "... whose lowest reading it names");
	/* The growth: back to maxmemory in four intervals, then the next burst. */
	for (int i = 1; i <= 4; i++)
		feed(&q, cold(5 * MB + i * (MAXMEM - 5 * MB) / 4), false);
	for (int i = 0; i < 3; i++)
		feed(&q, hot(), false);
	feed(&q, cold(MAXMEM), false);
	feed(&q, cold(MAXMEM), false);
	is_u64(q.e->n, 2, "two episodes");
	a = episodes__at(q.e, 0);
	b = episodes__at(q.e, 1);
	ok(a->cycle.growth_before_capture && fabs(a->cycle.growth_s - 1.5) < 1e-9 && a->cycle.low_before == 8 * MB,
	   "the first growth began with the capture: at least %.1f s, from 8 MiB", a->cycle.growth_s);
	ok(isnan(a->cycle.period_s), "the first episode has no period");
	ok(fabs(b->cycle.growth_s - (double)(b->start_ns - low_last) / 1e9) < 1e-9 && !b->cycle.growth_before_capture,
	   "the second growth runs from the last reading on the plateau to the burst (%.1f s)", b->cycle.growth_s);
	is_u64(b->cycle.low_before, 5 * MB, "... from the plateau's lowest reading");
	ok(fabs(b->cycle.period_s - (double)(b->start_ns - a->start_ns) / 1e9) < 1e-9,
	   "the period is from one burst's start to the next (%.1f s)", b->cycle.period_s);
	ok(fabs(a->cycle.reclaim_s - (double)(low_first - a->end_ns) / 1e9) < 1e-9,
	   "the first reclaim stays fixed once the next episode began");
	ok(b->cycle.reclaim_s == 0, "after the second, memory stayed at maxmemory: no reclaim (0)");
	episodes__free(q.e);
}

/* ------------------------------------------------------------------ */

static struct episode episode_of(const struct iv_spec *sp, size_t n)
{
	struct seq q = { episodes__new(NULL), T0, 0, 0, 0, 0 };
	struct episode ep;

	for (size_t i = 0; i < n; i++)
		feed(&q, sp[i], false);
	feed(&q, cold(MAXMEM), false);
	feed(&q, cold(MAXMEM), false);
	ep = *episodes__at(q.e, 0);
	episodes__free(q.e);
	return ep;
}

static void test_verdict(void)
{
	struct iv_spec sp[3] = { hot(), hot(), hot() };
	struct episode ep;
	struct verdict v;

	ep = episode_of(sp, 3);
	verdict_of(&ep, false, NULL, NULL, &v);
	ok(v.pace == PACE_KEEPING_UP && strstr(v.text, "eviction kept up: no round hit its time limit"),
	   "no round at the time limit, nothing refused: kept up (%s)", v.text);
	ok(v.outside == 0, "no overhead: no pressure from outside the dataset");
	ok(v.backlog == 0 && !strstr(v.text, "backlog"), "clients' memory flat: no backlog feedback");
	verdict_of(&ep, false, NULL, MEASURE_NO_CLIENTS_MEMORY, &v);
	ok(v.backlog == -1 && strstr(v.backlog_why, "client-memory accounting"),
	   "without the clients' memory the backlog finding is unavailable, with the reason");
	sp[1].clients = (int64_t)MAXMEM * 6 / 100;
	sp[2].clients = (int64_t)MAXMEM * 8 / 100;
	ep = episode_of(sp, 3);
	verdict_of(&ep, false, NULL, NULL, &v);
	ok(v.backlog == 1 && strstr(v.text, "a backlog feedback loop: normal clients' buffers grew from 0 B to") &&
	   strstr(v.text, "(8.0% of maxmemory) and were 0 B after it"),
	   "clients' memory up 8%% of maxmemory in the burst and released after it: the backlog (%s)", v.text);
	sp[2].clients = (int64_t)MAXMEM * 4 / 100;
	sp[1].clients = 0;
	ep = episode_of(sp, 3);
	verdict_of(&ep, false, NULL, NULL, &v);
	ok(v.backlog == 0, "up 4%% only: no backlog (%s)", v.text);
	sp[2].clients = (int64_t)MAXMEM * 5 / 100;
	ep = episode_of(sp, 3);
	verdict_of(&ep, false, NULL, NULL, &v);
	ok(v.backlog == 1, "up 5%% of maxmemory, the bound: the backlog");
	ok(ep.clients_before == -1 && ep.clients_first == 0,
	   "with no interval before it, the growth is from its first interval's reading");
	sp[0].clients = sp[1].clients = sp[2].clients = -1;
	ep = episode_of(sp, 3);
	verdict_of(&ep, false, NULL, NULL, &v);
	ok(v.backlog == -1 && !strcmp(v.backlog_why, "the clients' memory could not be read in it"),
	   "no reading of the clients' memory in it: cannot tell, and says why");
	sp[0].clients = sp[1].clients = sp[2].clients = 0;

	sp[1].running = 90;	/* 1% of the interval's 9000 rounds */
	ep = episode_of(sp, 3);
	verdict_of(&ep, false, NULL, NULL, &v);
	ok(v.pace == PACE_FALLING_BEHIND && strstr(v.text, "fell behind") && strstr(v.text, "EVICT_RUNNING") &&
	   strstr(v.text, "time limit"), "1%% of an interval's rounds at the time limit: fell behind (%s)", v.text);
	sp[1].running = 89;
	ep = episode_of(sp, 3);
	verdict_of(&ep, false, NULL, NULL, &v);
	ok(v.pace == PACE_KEEPING_UP && strstr(v.text, "89 of 27,000 rounds"),
	   "just under 1%%: kept up, and it says how many did (%s)", v.text);

	sp[1].running = 0;
	sp[2].failed = 3;
	ep = episode_of(sp, 3);
	verdict_of(&ep, false, NULL, NULL, &v);
	ok(v.pace == PACE_FALLING_BEHIND && strstr(v.text, "3 commands were refused with OOM (EVICT_FAIL)"),
	   "a command refused: fell behind (%s)", v.text);
	verdict_of(&ep, true, NULL, NULL, &v);
	ok(strstr(v.text, "(C_ERR)") != NULL, "Redis 6.0's refusals are named C_ERR");
	sp[2].failed = 0;

	for (int i = 0; i < 3; i++)
		sp[i].overhead = (uint64_t)MAXMEM * 3 / 100;
	ep = episode_of(sp, 3);
	verdict_of(&ep, false, NULL, NULL, &v);
	ok(v.outside == 1 && strstr(v.text, "pressure from outside the dataset") && strstr(v.text, "overhead") &&
	   strstr(v.text, "3.0% of maxmemory"), "overhead at 3%% of maxmemory names it (%s)", v.text);
	for (int i = 0; i < 3; i++)
		sp[i].overhead = (uint64_t)MAXMEM / 1000 * (i ? 15 : 1);
	ep = episode_of(sp, 3);
	verdict_of(&ep, false, NULL, NULL, &v);
	ok(v.outside == 1 && strstr(v.text, "growing from"), "overhead growing by 1.4%% of maxmemory names it (%s)",
	   v.text);
	for (int i = 0; i < 3; i++)
		sp[i].overhead = (uint64_t)MAXMEM / 1000;
	ep = episode_of(sp, 3);
	verdict_of(&ep, false, NULL, NULL, &v);
	ok(v.outside == 0 && !strstr(v.text, "outside"), "steady overhead at 0.1%% does not");
	verdict_of(&ep, false, "the offset file reads no overhead", NULL, &v);
	ok(v.outside == -1 && !strcmp(v.outside_why, "the offset file reads no overhead"),
	   "without the overhead it cannot tell, and says why");
}

/* ------------------------------------------------------------------ */

#define SHIFT (REAL_MINUS_MONO % SEC)

static uint64_t slice_of(uint64_t mono)
{
	return (mono + SHIFT) / EV_SLICE_NS;
}

static void put(struct ev_slice *ring, uint64_t n, uint64_t busy, uint64_t calls)
{
	ring[n & (EV_SLICES - 1)] = (struct ev_slice){ n, busy, calls };
}

static uint64_t cells_sum(const struct heat *h)
{
	uint64_t oldest, newest, sum = 0;

	if (!heat__span(h, &oldest, &newest))
		return 0;
	for (uint64_t s = oldest; s <= newest; s++)
		for (unsigned i = 0; i < HEAT_SLICES_PER_S; i++)
			sum += heat__column(h, s)->busy_ns[i];
	return sum;
}

static void test_heat(void)
{
	static struct ev_slice ring[EV_SLICES];
	struct heat *h = heat__new(T0, SHIFT, (int64_t)REAL_MINUS_MONO);
	uint64_t n0 = slice_of(T0), at, calls, oldest, newest;
	const struct heat_column *c;

	put(ring, n0 + 5, 3000000, 10);
	put(ring, n0 + 150, 25000000, 1);	/* a 25 ms round: it covered the two slices before */
	put(ring, n0 + 300, 4000000, 2);	/* not ended before the drain: left for the next */
	heat__drain(h, ring, T0 + 3 * SEC - 1);
	ok(heat__span(h, &oldest, &newest), "slices drained");
	is_u64(oldest, 1795429000, "the columns are wall-clock seconds");
	is_u64(h->busy_ns, 28000000, "what was drained is counted once");
	is_u64(cells_sum(h), 28000000, "the cells hold every nanosecond of it");
	c = heat__column(h, (n0 + 150) / HEAT_SLICES_PER_S + 1795428000);
	ok(c && c->busy_ns[(n0 + 150) % 100] == EV_SLICE_NS && c->busy_ns[(n0 + 149) % 100] == EV_SLICE_NS &&
	   c->busy_ns[(n0 + 148) % 100] == 5000000 && c->calls[(n0 + 150) % 100] == 1,
	   "a call longer than a slice fills the slices before the one it ended in");
	ok(fabs(heat_cell(c, ((n0 + 150) % 100) / 10, 10, &calls) - 0.25) < 1e-12 && calls == 1,
	   "a 100 ms cell holding 25 ms is 25%% busy, with its call");
	ok(heat__first_busy(h, T0, T0 + SEC, &at) && at == n0 * EV_SLICE_NS + 5 * EV_SLICE_NS - SHIFT,
	   "the first busy slice is found from its start");
	ok(heat__last_busy(h, T0, T0 + 2 * SEC, &at) && at == (n0 + 151) * EV_SLICE_NS - SHIFT,
	   "the last busy slice is found at its end");
	ok(!heat__first_busy(h, T0 + 2 * SEC, T0 + 3 * SEC, &at), "a stretch without eviction has no busy slice");

	/* An hour and more later: the ring went round many times. */
	put(ring, slice_of(T0 + 3700 * SEC) - 5, 1000000, 1);
	heat__drain(h, ring, T0 + 3700 * SEC);
	is_u64(h->lost_slices, slice_of(T0 + 3700 * SEC) - EV_SLICES - slice_of(T0 + 3 * SEC - 1),
	       "slices the ring overwrote before a drain are counted as lost");
	is_u64(h->busy_ns, 29000000, "... and the newer ones are still drained");
	ok(!heat__column(h, 1795429000) && heat__column(h, 1795428000 + 3699),
	   "seconds older than HEAT_KEEP_S are let go, the newer held");
	heat__free(h);

	/* A round that began before the capture: what cannot be placed is counted, not lost. */
	memset(ring, 0, sizeof(ring));
	h = heat__new(T0, SHIFT, (int64_t)REAL_MINUS_MONO);
	put(ring, n0 + 1, 50000000, 1);
	heat__drain(h, ring, T0 + SEC);
	is_u64(cells_sum(h) + h->unplaced_ns, 50000000, "time placed plus time unplaced is all the time drained");
	is_u64(h->unplaced_ns, 30000000, "... the 30 ms before the capture's first slice unplaced");
	heat__free(h);
}

/*
 * A 200 s interval, one evicting call a second written as time goes on:
 * drained every STORM_DRAIN_EVERY_NS as the capture loop does, no slice is
 * lost; drained once at its end, all but the ring's last 81.92 s are.
 */
static void test_long_interval(void)
{
	static struct ev_slice ring[EV_SLICES];
	struct storm *st = storm__open(ring, SHIFT, T0);
	struct heat *once = heat__new(T0, SHIFT, (int64_t)REAL_MINUS_MONO);
	uint64_t drain = T0 + STORM_DRAIN_EVERY_NS;

	ok(STORM_DRAIN_EVERY_NS + 2 * STORM_DRAIN_GUARD_NS < EV_SLICES * EV_SLICE_NS,
	   "the drain period is shorter than the ring");
	for (uint64_t sec = 0; sec < 200; sec++) {
		uint64_t now = T0 + sec * SEC + SEC / 2;

		put(ring, slice_of(now), 1000000, 1);
		if (now >= drain) {
			storm__drain(st, now);
			drain = now + STORM_DRAIN_EVERY_NS;
		}
	}
	storm__drain(st, T0 + 200 * SEC);
	heat__drain(once, ring, T0 + 200 * SEC);
	is_u64(st->heat->lost_slices, 0, "drained every 30 s, a 200 s interval loses no slice");
	is_u64(st->heat->busy_ns, 200 * 1000000ULL, "... and every call's time is in the heat map");
	ok(once->lost_slices > 0 && once->busy_ns < 100 * 1000000ULL,
	   "drained once at its end, the slices the ring overwrote are lost (and counted)");
	heat__free(once);
	storm__close(st);
}

/* With a heat map, an episode starts and ends on the slices where the main thread evicted. */
static void test_refined_bounds(void)
{
	static struct ev_slice ring[EV_SLICES];
	struct heat *h = heat__new(T0, SHIFT, (int64_t)REAL_MINUS_MONO);
	struct seq q = { episodes__new(h), T0, 0, 0, 0, 0 };
	uint64_t first = slice_of(T0 + HALF) + 23, last = slice_of(T0 + 3 * HALF) + 41;
	const struct episode *ep;

	memset(ring, 0, sizeof(ring));
	for (uint64_t n = first; n <= last; n++)
		put(ring, n, 1000000, 1);
	feed(&q, cold(MAXMEM), false);
	for (int i = 0; i < 3; i++) {
		heat__drain(h, ring, q.now + HALF);
		feed(&q, hot(), false);
	}
	for (int i = 0; i < 2; i++) {
		heat__drain(h, ring, q.now + HALF);
		feed(&q, cold(MAXMEM), false);
	}
	ep = episodes__at(q.e, 0);
	is_u64(ep->start_ns, first * EV_SLICE_NS - SHIFT, "it starts at the first slice with eviction");
	is_u64(ep->end_ns, (last + 1) * EV_SLICE_NS - SHIFT, "it ends at the last one's end");
	episodes__free(q.e);
	heat__free(h);
}

int main(void)
{
	test_episode_bounds_and_sums();
	test_blips_and_lulls();
	test_thresholds();
	test_cycle();
	test_verdict();
	test_heat();
	test_long_interval();
	test_refined_bounds();
	return tap_done();
}
