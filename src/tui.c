// SPDX-License-Identifier: BSD-3-Clause
/*
 * tui.c: the live view: what is collected each interval, what is shown,
 * the layout of the screen, the keys and the event loop.
 *
 * Collecting and showing are kept apart: every interval is cut, added to
 * the timelines and handed to the exporter (which keeps it on disk for
 * snapshot files) whether or not the screen is paused; a paused screen
 * draws a frozen copy. Every name and
 * every "not available because" comes from measures.h, so the screen says
 * what the text and JSON outputs say.
 */
#include "config.h"

#include <curses.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crt.h"
#include "exporter.h"
#include "measures.h"
#include "panel.h"
#include "profile.h"
#include "report.h"
#include "tui.h"
#include "tui_storm.h"
#include "util.h"

#define TIMELINE_CAP 1024	/* intervals the timelines remember: wider than a screen */
#define HALF_MIN_WIDTH 36	/* below this, the two latency histograms stack */
#define LABEL_WIDTH 26		/* a timeline's name, value and peak column */

enum panel_id { P_LATENCY, P_TOFREE, P_THROUGHPUT, P_SHARE, P_N };

/* One interval as the timelines draw it. */
struct point {
	double commands, keys;	/* per second */
	double share;		/* evict_time_share, 0..1 */
};

struct timeline {
	struct point p[TIMELINE_CAP];	/* a ring */
	size_t n, next;
};

/* What the screen draws: a copy, so that pausing freezes it. */
struct view {
	bool have;			/* an interval has ended */
	struct sample interval, total;
	struct timeline tl;
};

struct tui {
	struct session *s;
	const struct env *env;

	struct exporter *x;		/* keeps the intervals for snapshots */
	struct sample last;		/* the newest interval */
	struct timeline tl;

	struct view shown;
	int unit;			/* of the latency panel; JSON keeps --units */
	bool cumulative, paused, help;
	bool storm;			/* the storm screen (e) instead of the panels */
	bool payers;			/* who rounds ran for (w) instead of mem_tofree */
	struct storm_view storm_view;
	enum panel_id focus;
	char message[PATH_MAX + 128];	/* the last save or reset, on its own row */
	char **saved;			/* snapshot files, repeated after exit */
	size_t nsaved;
};

/* Up to a dozen formatted fields for panel_flow(). */
struct fields {
	struct panel_field f[12];
	char text[12][128];
	size_t n;
};

static void field_add(struct fields *fs, int attr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void field_add(struct fields *fs, int attr, const char *fmt, ...)
{
	va_list ap;

	if (fs->n == ARRAY_SIZE(fs->f))
		return;
	va_start(ap, fmt);
	vsnprintf(fs->text[fs->n], sizeof(fs->text[0]), fmt, ap);
	va_end(ap);
	fs->f[fs->n].text = fs->text[fs->n];
	fs->f[fs->n].attr = attr;
	fs->n++;
}

static double per_sec(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0;
}

/* "20.0M"; "?" when unknown (-1), "0" for no limit. */
static void mem_format(int64_t v, char *buf, size_t len)
{
	static const char suffix[] = "KMGTPE";
	double d = (double)v;
	int i = -1;

	if (v <= 0) {
		snprintf(buf, len, v ? "?" : "0");
		return;
	}
	while (d >= 1024 && i < 5) {
		d /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%" PRId64 "B", v);
	else
		snprintf(buf, len, "%.1f%c", d, suffix[i]);
}

/* ------------------------------------------------------------------ */
/* Collecting                                                          */
/* ------------------------------------------------------------------ */

static void timeline_push(struct timeline *tl, const struct point *p)
{
	tl->p[tl->next] = *p;
	tl->next = (tl->next + 1) % TIMELINE_CAP;
	if (tl->n < TIMELINE_CAP)
		tl->n++;
}

/* The I-th of the newest K points, oldest first. */
static const struct point *timeline_at(const struct timeline *tl, size_t k, size_t i)
{
	return &tl->p[(tl->next + TIMELINE_CAP - k + i) % TIMELINE_CAP];
}

static void show(struct tui *t)
{
	t->shown.have = true;
	t->shown.interval = t->last;
	session__total(t->s, &t->shown.total);
	t->shown.tl = t->tl;
	storm_view_show(&t->storm_view, t->s);
}

static void collect(struct tui *t)
{
	struct sample *smp = &t->last;
	struct point p;
	int err;

	session__interval(t->s, smp);
	p.commands = per_sec(smp->commands, smp->ns);
	p.keys = per_sec(smp->keys_evicted, smp->ns);
	p.share = sample_evict_share(smp);
	timeline_push(&t->tl, &p);
	err = exporter__interval(t->x, t->s, smp);
	if (err)
		snprintf(t->message, sizeof(t->message), "an interval could not be kept for export and snapshots "
			 "(%s): they will lack it", strerror(-err));
	if (!t->paused)
		show(t);
}

/* The cumulative view, the timelines and the snapshot's intervals all start again. */
static void reset(struct tui *t)
{
	char when[16];
	time_t now = time(NULL);
	struct tm tm;

	session__reset(t->s);
	t->tl.n = t->tl.next = 0;
	exporter__mark(t->x);
	if (t->shown.have)
		show(t);
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	snprintf(t->message, sizeof(t->message), "reset at %s: cumulative view, timelines and "
		 "snapshot start from here", when);
}

/* The snapshot file of redprof(8), written under a temporary name and renamed. */
static void save(struct tui *t)
{
	time_t now = time(NULL);
	char name[64], cwd[PATH_MAX];
	size_t n = 0;
	struct tm tm;
	char *path;
	int err;

	gmtime_r(&now, &tm);
	snprintf(name, sizeof(name), "redprof-%d-", (int)t->s->t->pid);
	strftime(name + strlen(name), sizeof(name) - strlen(name), "%Y%m%dT%H%M%SZ.json", &tm);
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), ".");
	path = xasprintf("%s/%s", cwd, name);
	err = exporter__snapshot(t->x, t->s, path, &n);
	if (err) {
		snprintf(t->message, sizeof(t->message), "cannot save %s: %s; start redprof in a "
			 "directory it can write to", path, strerror(-err));
		free(path);
	} else {
		/* The name first: on a narrow screen the directory is what gets cut. */
		snprintf(t->message, sizeof(t->message), "snapshot saved: %s (%zu intervals) in %s", name, n, cwd);
		t->saved = xreallocarray(t->saved, t->nsaved + 1, sizeof(*t->saved));
		t->saved[t->nsaved++] = path;
	}
}

/* ------------------------------------------------------------------ */
/* Header, status line and footer                                      */
/* ------------------------------------------------------------------ */

/* What the probes cost Redis over the last interval: SREs are asked. */
static void cost_field(const struct tui *t, struct fields *fs, int a)
{
	const struct sample *smp = &t->shown.interval;
	uint64_t by_class[SITE_NCLASSES], hits = 0;

	if (!t->shown.have || !smp->ns) {
		field_add(fs, a, "probes %s", t->s->plan.light ? "light" : "full");
		return;
	}
	session__hits_by_class(t->s, smp, by_class);
	for (int c = 0; c < SITE_NCLASSES; c++)
		hits += by_class[c];
	field_add(fs, a, "probes %s %.2f/cmd %.1f%% CPU", t->s->plan.light ? "light" : "full",
		  smp->commands ? (double)hits / (double)smp->commands : 0,
		  100 * session__probe_cpu_ns(t->s, smp) / (double)smp->ns);
}

static int draw_header(const struct tui *t, struct rect screen)
{
	const struct session *s = t->s;
	const struct sample *smp = &t->shown.interval;
	uint64_t up = (now_mono_ns() - s->start_ns) / 1000000000ULL;
	int a = crt_attr(CRT_HEADER), rows;
	struct fields fs = { 0 };
	char max[24], used[24];
	struct rect r;

	mem_format(t->shown.have ? smp->maxmemory : -1, max, sizeof(max));
	mem_format(t->shown.have ? smp->used_memory : -1, used, sizeof(used));
	field_add(&fs, a | A_BOLD, "redprof");
	field_add(&fs, a, "PID %d", (int)s->t->pid);
	field_add(&fs, a, "%s %s", s->t->flavor, s->t->version[0] ? s->t->version : "(version unknown)");
	field_add(&fs, a, "build %.12s", s->t->img->build_id);
	field_add(&fs, a, "offsets: %s", s->offsets_source[0] ? s->strategy : "none, symbols only");
	if (s->offsets_forced[0])
		field_add(&fs, crt_attr(CRT_ALERT), " FORCED offsets (--force-offsets) ");
	else if (s->offsets_unverified[0])
		field_add(&fs, a | A_BOLD, "unverified: %s", s->offsets_unverified);
	if (t->shown.have && smp->policy >= 0 && maxmemory_policy_name(smp->policy))
		field_add(&fs, a, "maxmemory %s %s", max, maxmemory_policy_name(smp->policy));
	else
		field_add(&fs, a, "maxmemory %s", max);
	if (t->shown.have && smp->maxmemory > 0 && smp->used_memory >= 0)
		field_add(&fs, a, "used %s (%.0f%%)", used, 100.0 * (double)smp->used_memory /
			  (double)smp->maxmemory);
	else
		field_add(&fs, a, "used %s", used);
	/* Before the uptime and interval, which give way first on a narrow screen. */
	cost_field(t, &fs, a);
	field_add(&fs, a, "up %" PRIu64 ":%02" PRIu64 ":%02" PRIu64, up / 3600, up / 60 % 60, up % 60);
	field_add(&fs, a, "interval %gs", t->env->interval);

	rows = panel_flow_rows(fs.f, fs.n, "  ", screen.w - 1);
	rows = rows > 2 ? 2 : rows;
	r = (struct rect){ screen.y, screen.x, rows, screen.w };
	for (int i = 0; i < rows; i++)
		panel_text(r, i, 0, a, "%*s", screen.w, "");
	r.x++;
	r.w--;
	panel_flow(r, fs.f, fs.n, "  ", a);
	return rows;
}

/* The answer first: is Redis evicting, and at what rate. */
static void draw_status(const struct tui *t, const struct sample *smp, struct rect r)
{
	const struct session *s = t->s;
	const char *why = session__why_no_evictions(s, smp);
	struct fields fs = { 0 };
	char mode[48];
	int w;

	if (t->cumulative)
		snprintf(mode, sizeof(mode), "cumulative, %.0f s", (double)smp->ns / 1e9);
	else
		snprintf(mode, sizeof(mode), "per interval");
	w = (int)strlen(mode);
	panel_text(r, 0, r.w - w - 1, crt_attr(CRT_TITLE), "%s", mode);
	if (t->paused) {
		w += 10;
		panel_text(r, 0, r.w - w, crt_attr(CRT_ALERT), " PAUSED ");
	}
	r.x++;
	r.w -= w + 3;
	if (!t->shown.have) {
		panel_text(r, 0, 0, crt_attr(CRT_DIM), "attached; the first interval ends in %gs",
			   t->env->interval);
		return;
	}
	if (why) {
		field_add(&fs, A_BOLD, "%s", why);
	} else if (!smp->calls && !smp->evicting_calls) {
		field_add(&fs, A_NORMAL, "no %s calls: no commands", target__evict_name(s->t));
	} else if (!measure_unavailable(s, smp, M_EVICTING_CALLS)) {
		if (smp->evicting_calls) {
			const struct episode *storm = storm_view_ongoing(&t->storm_view);

			field_add(&fs, crt_attr(CRT_ALERT), " EVICTING ");
			field_add(&fs, A_BOLD, "%.0f%% of calls evict",
				  100.0 * sample_evicting_share(smp));
			if (storm)
				field_add(&fs, A_BOLD, "storm #%u, %.0f s", storm->id, episode_duration_s(storm));
		} else {
			field_add(&fs, crt_attr(CRT_NOOP), "not evicting: memory is under maxmemory");
		}
	} else {
		field_add(&fs, A_BOLD, "%s calls: %.0f/s", target__evict_name(s->t),
			  per_sec(smp->calls, smp->ns));
	}
	field_add(&fs, A_NORMAL, "commands: %.0f/s", per_sec(smp->commands, smp->ns));
	if (!measure_unavailable(s, smp, M_KEYS_EVICTED))
		field_add(&fs, A_NORMAL, "keys evicted: %.0f/s", per_sec(smp->keys_evicted, smp->ns));
	field_add(&fs, A_NORMAL, "time in eviction: %.1f%%", 100 * sample_evict_share(smp));
	panel_flow(r, fs.f, fs.n, "  ", A_NORMAL);
}

static void draw_footer(const struct tui *t, struct rect r)
{
	const struct {
		const char *key, *what;
	} keys[] = {
		{ "q", "quit" },
		{ "p", t->paused ? "resume" : "pause" },
		{ "r", "reset" },
		{ "c", t->cumulative ? "per interval" : "cumulative" },
		{ "u", "units" },
		{ "s", "save" },
		{ "e", t->storm ? "histograms" : "storm" },
		{ "?", "help" },
	};
	int x = 0;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		panel_text(r, 0, x, crt_attr(CRT_KEY), "%s", keys[i].key);
		x += (int)strlen(keys[i].key);
		panel_text(r, 0, x, A_NORMAL, " %s  ", keys[i].what);
		x += (int)strlen(keys[i].what) + 3;
	}
}

static void draw_help(const struct tui *t)
{
	const char *fn = target__evict_name(t->s->t);
	char latency[96], share[96];
	const char *const lines[] = {
		"redprof: what you see",
		latency,
		"              evicted apart from calls that returned at once",
		"  mem_tofree  bytes each eviction round must free",
		"  throughput  commands/s and keys evicted/s, one bar per interval",
		share,
		"  storm (e)   a heat map of eviction, the episodes and their verdict",
		"",
		"keys",
		"  q           quit; the terminal is restored (Ctrl-C too)",
		"  p           pause or resume the display; data is still collected",
		"  r           reset: cumulative view, timelines and snapshot start afresh",
		"  c           per-interval or cumulative histograms",
		"  u           latency units: nsecs, usecs, msecs",
		"  s           save a snapshot (JSON, see redprof(8)) in this directory",
		"  tab, arrows move the focus; the focused panel gets the spare rows",
		"  e           the storm screen and back; up/down select an episode",
		"  w           who paid (client and command of each round) or mem_tofree",
		"  ?           this help; any key closes it",
	};
	int w = 0, h = (int)ARRAY_SIZE(lines) + 2;
	WINDOW *win;

	snprintf(latency, sizeof(latency), "  latency     time per %s call, log2 buckets; calls that", fn);
	snprintf(share, sizeof(share), "  time in eviction  share of the main thread inside %s", fn);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		w = (int)strlen(lines[i]) > w ? (int)strlen(lines[i]) : w;
	w += 4;
	w = w > COLS ? COLS : w;
	h = h > LINES ? LINES : h;
	win = newwin(h, w, (LINES - h) / 2, (COLS - w) / 2);
	if (!win)
		return;
	box(win, 0, 0);
	for (int i = 0; i < (int)ARRAY_SIZE(lines) && i < h - 2; i++)
		mvwaddnstr(win, i + 1, 2, lines[i], w - 4);
	wnoutrefresh(win);
	delwin(win);
}

/* ------------------------------------------------------------------ */
/* Panels                                                              */
/* ------------------------------------------------------------------ */

/* Rows of a histogram with its summary line, or of its caption and "none" line. */
static int hist_block_rows(const struct hist *h)
{
	return h->count ? panel_hist_rows(h) + 1 : 2;
}

/* Histogram M of H in R: funclatency's rows, then the text output's summary. */
static void hist_block(const struct tui *t, struct rect r, const struct hist *h, enum measure m,
		       const char *caption, int bar_attr, const char *empty)
{
	const char *label = measure_label(m, t->unit);
	struct fields fs = { 0 };
	struct rect rows = r;
	int drawn;

	if (!h->count) {
		panel_text(r, 0, 0, bar_attr, "%s", caption);
		panel_text(r, 1, 0, crt_attr(CRT_DIM), "%s", empty);
		return;
	}
	rows.h = r.h - 1;
	panel_hist(rows, h, label, measure_is_bytes(m), caption, bar_attr);
	if (measure_is_latency(m)) {
		field_add(&fs, A_NORMAL, "avg = %" PRIu64 " %s", h->sum / h->count / h->scale, label);
		field_add(&fs, A_NORMAL, "max: %" PRIu64 " %s", h->max / h->scale, label);
		field_add(&fs, A_NORMAL, "count: %" PRIu64, h->count);
		field_add(&fs, A_NORMAL, "total: %" PRIu64 " %s", h->sum / h->scale, label);
	} else {
		field_add(&fs, A_NORMAL, "avg = %" PRIu64 " %s", h->sum / h->count, label);
		field_add(&fs, A_NORMAL, "min: %" PRIu64, h->min);
		field_add(&fs, A_NORMAL, "max: %" PRIu64, h->max);
		field_add(&fs, A_NORMAL, "count: %" PRIu64, h->count);
	}
	drawn = panel_hist_rows(h) < rows.h ? panel_hist_rows(h) : rows.h;
	panel_flow((struct rect){ r.y + drawn, r.x, 1, r.w }, fs.f, fs.n, ", ", A_NORMAL);
}

/* "calls that evicted": a phase's title without the all-calls title in front. */
static void phase_caption(const struct session *s, enum measure m, char *buf, size_t len)
{
	char all[128];
	const char *title;

	snprintf(all, sizeof(all), "%s, ", measure_title(s, M_EVICT_LATENCY));
	title = measure_title(s, m);
	snprintf(buf, len, "%s", strncmp(title, all, strlen(all)) ? title : title + strlen(all));
}

static bool latency_side_by_side(int w)
{
	return w >= 2 * HALF_MIN_WIDTH + 1;
}

static const char *period(const struct tui *t)
{
	return t->cumulative ? "so far" : "in this interval";
}

static void draw_latency(const struct tui *t, const struct sample *smp, struct rect r, int title_attr)
{
	const struct session *s = t->s;
	const char *why = measure_unavailable(s, smp, M_EVICT_LATENCY);
	const char *split = measure_unavailable(s, smp, M_EVICT_LATENCY_ACTIVE);
	struct rect body = rect_below(r, 1), a = body, b = body;
	char title[160], empty[96], noop_cap[96], active_cap[96];
	struct hist all, noop, active;

	snprintf(title, sizeof(title), "%s (%s)", measure_title(s, M_EVICT_LATENCY), unit_label(t->unit));
	panel_title(r, title, title_attr);
	snprintf(empty, sizeof(empty), "none %s", period(t));
	/* The light plan times evicting calls only. */
	if (s->plan.light && !split) {
		measure_hist(smp, M_EVICT_LATENCY_ACTIVE, t->unit, &active);
		phase_caption(s, M_EVICT_LATENCY_ACTIVE, active_cap, sizeof(active_cap));
		a.h--;
		hist_block(t, a, &active, M_EVICT_LATENCY_ACTIVE, active_cap, crt_attr(CRT_ACTIVE), empty);
		panel_text(body, body.h - 1, 0, crt_attr(CRT_DIM),
			   "calls that did not evict: not timed by the light plan (--full times them)");
		return;
	}
	if (why) {
		panel_wrap(body, why, crt_attr(CRT_DIM));
		return;
	}
	if (split) {
		measure_hist(smp, M_EVICT_LATENCY, t->unit, &all);
		a.h--;
		hist_block(t, a, &all, M_EVICT_LATENCY, "all calls", crt_attr(CRT_NOOP), empty);
		panel_text(body, body.h - 1, 0, crt_attr(CRT_DIM),
			   "evicting and no-op calls not told apart: %s", split);
		return;
	}
	measure_hist(smp, M_EVICT_LATENCY_NOOP, t->unit, &noop);
	measure_hist(smp, M_EVICT_LATENCY_ACTIVE, t->unit, &active);
	phase_caption(s, M_EVICT_LATENCY_NOOP, noop_cap, sizeof(noop_cap));
	phase_caption(s, M_EVICT_LATENCY_ACTIVE, active_cap, sizeof(active_cap));
	if (latency_side_by_side(body.w)) {
		a.w = (body.w - 1) / 2;
		b.x = a.x + a.w + 1;
		b.w = body.w - a.w - 1;
	} else {
		int want = hist_block_rows(&noop) + hist_block_rows(&active);

		a.h = want ? body.h * hist_block_rows(&noop) / want : body.h / 2;
		b.y = a.y + a.h;
		b.h = body.h - a.h;
	}
	hist_block(t, a, &noop, M_EVICT_LATENCY_NOOP, noop_cap, crt_attr(CRT_NOOP), empty);
	hist_block(t, b, &active, M_EVICT_LATENCY_ACTIVE, active_cap, crt_attr(CRT_ACTIVE), empty);
}

/*
 * What the rounds freed against what they had to, in one line above the
 * mem_tofree histogram; false (nothing drawn) when it is not measured or
 * no round ended.
 */
static bool freed_line(const struct tui *t, const struct sample *smp, struct rect r)
{
	const struct hist *fr = &smp->round[EV_FREED], *sh = &smp->round[EV_SHORTFALL];
	const struct hist *lz = &smp->round[EV_LAZYFREE_PENDING];
	uint64_t rounds = fr->count + smp->rounds_grew;
	char p50[32], p99[32], line[160];
	int n;

	if (measure_unavailable(t->s, smp, M_FREED) || !rounds)
		return false;
	if (fr->count) {
		mem_format((int64_t)hist_percentile(fr, 0.5), p50, sizeof(p50));
		mem_format((int64_t)hist_percentile(fr, 0.99), p99, sizeof(p99));
		n = snprintf(line, sizeof(line), "freed per round p50 %s p99 %s", p50, p99);
	} else {
		n = snprintf(line, sizeof(line), "used memory rose in every round");
	}
	if (!measure_unavailable(t->s, smp, M_SHORTFALL))
		n += snprintf(line + n, sizeof(line) - (size_t)n, ", short of mem_tofree %.1f%%",
			      100.0 * (double)sh->count / (double)rounds);
	if (!measure_unavailable(t->s, smp, M_LAZYFREE_PENDING) && lz->count && lz->max)
		snprintf(line + n, sizeof(line) - (size_t)n, ", lazyfree queue up to %" PRIu64, lz->max);
	panel_text(r, 0, 0, crt_attr(CRT_DIM), "%s", line);
	return true;
}

/* Who the rounds ran for: a row per client and command, most rounds first. */
static void draw_payers(const struct tui *t, const struct sample *smp, struct rect r, int title_attr)
{
	const struct payer_top *top = &smp->payers;
	const char *why = payers_unavailable(t->s);
	uint64_t rest = top->rest.rounds + smp->outside.rounds;
	char ms[32];
	int row = 2;

	panel_title(r, "who paid: the client and command each eviction round ran for", title_attr);
	if (why) {
		panel_wrap(rect_below(r, 1), why, crt_attr(CRT_DIM));
		return;
	}
	if (!top->n) {
		panel_text(r, 1, 0, crt_attr(CRT_DIM), "no eviction round %s", period(t));
		return;
	}
	panel_text(r, 1, 0, crt_attr(CRT_DIM), "%-16s %-20s %8s %10s %12s", "command", "client", "id", "rounds",
		   "time");
	for (uint32_t i = 0; i < top->n && row < r.h; i++, row++) {
		const struct payer_row *p = &top->row[i];

		snprintf(ms, sizeof(ms), "%.3f ms", (double)p->ns / 1e6);
		if (!p->client_id && !p->cmd)
			panel_text(r, row, 0, A_NORMAL, "%-37s %8s %10" PRIu64 " %12s", "(eviction timer: no client)", "-",
				   p->rounds, ms);
		else
			panel_text(r, row, 0, A_NORMAL, "%-16.16s %-20.20s %8" PRIu64 " %10" PRIu64 " %12s",
				   p->command[0] ? p->command : "?", p->client[0] ? p->client : "(no name)", p->client_id,
				   p->rounds, ms);
	}
	if (rest && row < r.h)
		panel_text(r, row, 0, crt_attr(CRT_DIM), "%-46s %10" PRIu64, "others (beyond the top 8 or the table)",
			   rest);
}

static void draw_tofree_hist(const struct tui *t, const struct sample *smp, struct rect r, int title_attr)
{
	const char *why = measure_unavailable(t->s, smp, M_MEM_TOFREE);
	char empty[96];
	struct hist h;

	panel_title(r, "mem_tofree: bytes each eviction round must free", title_attr);
	if (why) {
		panel_wrap(rect_below(r, 1), why, crt_attr(CRT_DIM));
		return;
	}
	measure_hist(smp, M_MEM_TOFREE, t->unit, &h);
	snprintf(empty, sizeof(empty), "no eviction round %s", period(t));
	if (freed_line(t, smp, rect_below(r, 1)))
		r = rect_below(r, 1);
	hist_block(t, rect_below(r, 1), &h, M_MEM_TOFREE, "distribution", crt_attr(CRT_ACTIVE), empty);
}

static void draw_tofree(const struct tui *t, const struct sample *smp, struct rect r, int title_attr)
{
	if (t->payers) {
		draw_payers(t, smp, r, title_attr);
		return;
	}
	draw_tofree_hist(t, smp, r, title_attr);
}

/* One timeline: NAME with the newest value and the peak in a label column, then bars to the peak. */
static void series(struct rect r, const char *name, const double *v, size_t n, bool percent, int attr)
{
	size_t k = r.w > LABEL_WIDTH ? (size_t)(r.w - LABEL_WIDTH) : 0;
	const char *fmt = percent ? "%9.1f%%" : "%10.0f";
	double scale = percent ? 100 : 1, peak = 0;

	k = n < k ? n : k;
	for (size_t i = n - k; i < n; i++)
		peak = v[i] > peak ? v[i] : peak;
	panel_text(r, 0, 0, attr, "%s", name);
	panel_text(r, 0, 14, A_BOLD, fmt, n ? v[n - 1] * scale : 0);
	panel_text(r, 1, 0, crt_attr(CRT_DIM), "%14s", "peak");
	panel_text(r, 1, 14, crt_attr(CRT_DIM), fmt, peak * scale);
	panel_bars((struct rect){ r.y, r.x + LABEL_WIDTH, r.h, r.w - LABEL_WIDTH }, v + n - k, k, peak, attr);
}

static size_t timeline_shown(const struct timeline *tl, int w)
{
	size_t room = w > LABEL_WIDTH ? (size_t)(w - LABEL_WIDTH) : 0;

	return tl->n < room ? tl->n : room;
}

static void draw_throughput(const struct tui *t, const struct sample *smp, struct rect r, int title_attr)
{
	const struct timeline *tl = &t->shown.tl;
	double commands[TIMELINE_CAP], keys[TIMELINE_CAP];
	struct rect body = rect_below(r, 1), top = body, bottom = body;
	const char *why;
	char title[96];

	snprintf(title, sizeof(title), "throughput, last %zu intervals of %gs", timeline_shown(tl, r.w),
		 t->env->interval);
	panel_title(r, title, title_attr);
	for (size_t i = 0; i < tl->n; i++) {
		commands[i] = timeline_at(tl, tl->n, i)->commands;
		keys[i] = timeline_at(tl, tl->n, i)->keys;
	}
	top.h = (body.h + 1) / 2;
	bottom.y += top.h;
	bottom.h -= top.h;
	series(top, "commands/s", commands, tl->n, false, crt_attr(CRT_COMMANDS));
	why = measure_unavailable(t->s, smp, M_KEYS_EVICTED);
	if (why)
		panel_text(bottom, 0, 0, crt_attr(CRT_DIM), "keys evicted/s: %s", why);
	else
		series(bottom, "keys evicted/s", keys, tl->n, false, crt_attr(CRT_KEYS));
}

static void draw_share(const struct tui *t, const struct sample *smp, struct rect r, int title_attr)
{
	const struct timeline *tl = &t->shown.tl;
	/* The light plan's share is the time in evicting calls: it does not time the others. */
	const char *why = measure_unavailable(t->s, smp, t->s->plan.light ? M_EVICT_LATENCY_ACTIVE : M_EVICT_LATENCY);
	double share[TIMELINE_CAP];
	char title[96];

	snprintf(title, sizeof(title), "time in eviction (evict_time_share), last %zu intervals",
		 timeline_shown(tl, r.w));
	panel_title(r, title, title_attr);
	if (why) {
		panel_wrap(rect_below(r, 1), why, crt_attr(CRT_DIM));
		return;
	}
	for (size_t i = 0; i < tl->n; i++)
		share[i] = timeline_at(tl, tl->n, i)->share;
	series(rect_below(r, 1), "in eviction", share, tl->n, true, crt_attr(CRT_SHARE));
}

/* ------------------------------------------------------------------ */
/* Layout                                                              */
/* ------------------------------------------------------------------ */

/* Content rows (below the title) panel P needs at the least and would like, at width W. */
static void panel_need(const struct tui *t, const struct sample *smp, enum panel_id p, int w,
		       int *least, int *want)
{
	const struct session *s = t->s;
	const char *why = NULL;
	struct hist a, b;
	int rows_a, rows_b;

	switch (p) {
	case P_LATENCY:
		if (s->plan.light && !measure_unavailable(s, smp, M_EVICT_LATENCY_ACTIVE)) {
			measure_hist(smp, M_EVICT_LATENCY_ACTIVE, t->unit, &a);
			*least = 3;
			*want = hist_block_rows(&a) + 1;
			break;
		}
		why = measure_unavailable(s, smp, M_EVICT_LATENCY);
		if (why)
			break;
		*least = 3;
		if (measure_unavailable(s, smp, M_EVICT_LATENCY_ACTIVE)) {
			measure_hist(smp, M_EVICT_LATENCY, t->unit, &a);
			*want = hist_block_rows(&a) + 1;
			break;
		}
		measure_hist(smp, M_EVICT_LATENCY_NOOP, t->unit, &a);
		measure_hist(smp, M_EVICT_LATENCY_ACTIVE, t->unit, &b);
		rows_a = hist_block_rows(&a);
		rows_b = hist_block_rows(&b);
		if (latency_side_by_side(w)) {
			*want = rows_a > rows_b ? rows_a : rows_b;
		} else {
			*least = 6;
			*want = rows_a + rows_b;
		}
		break;
	case P_TOFREE:
		if (t->payers) {
			why = payers_unavailable(s);
			*want = 2 + (int)smp->payers.n + (smp->payers.rest.rounds + smp->outside.rounds > 0);
			*least = 3;
			break;
		}
		why = measure_unavailable(s, smp, M_MEM_TOFREE);
		if (why)
			break;
		measure_hist(smp, M_MEM_TOFREE, t->unit, &a);
		*want = hist_block_rows(&a) + (!measure_unavailable(s, smp, M_FREED) &&
					       smp->round[EV_FREED].count + smp->rounds_grew);
		*least = 3;
		break;
	case P_THROUGHPUT:
		*least = 2;
		*want = 6;
		break;
	default:
		*least = 1;
		*want = 3;
		break;
	}
	if (why) {
		/* A reason is read whole when there is room, else its first lines. */
		*want = panel_wrap_rows(why, w);
		*least = 3;
	}
	*least = *least > *want ? *want : *least;
}

/*
 * Every panel gets its title and least rows; the rest is dealt out a row
 * at a time, the focused panel first and twice as fast, until each has
 * what it wants. Timelines want only their least unless focused, so the
 * histograms come first; what is left makes the timelines taller.
 */
static void layout(const struct tui *t, const struct sample *smp, struct rect body, struct rect *out)
{
	int least[P_N], want[P_N], h[P_N], left = body.h, y = body.y;
	bool dealt = true;

	for (int p = 0; p < P_N; p++) {
		panel_need(t, smp, p, body.w, &least[p], &want[p]);
		if (p >= P_THROUGHPUT && p != (int)t->focus)
			want[p] = least[p];
		h[p] = 1 + least[p] < left ? 1 + least[p] : left;
		h[p] = h[p] < 0 ? 0 : h[p];
		left -= h[p];
	}
	while (left > 0 && dealt) {
		dealt = false;
		for (int i = 0; i < P_N && left > 0; i++) {
			int p = (t->focus + i) % P_N, more = p == (int)t->focus ? 2 : 1;

			more = more > 1 + want[p] - h[p] ? 1 + want[p] - h[p] : more;
			more = more > left ? left : more;
			if (more > 0) {
				h[p] += more;
				left -= more;
				dealt = true;
			}
		}
	}
	if (left > 0) {
		h[P_THROUGHPUT] += left - left / 3;
		h[P_SHARE] += left / 3;
	}
	for (int p = 0; p < P_N; p++) {
		out[p] = (struct rect){ y, body.x, h[p], body.w };
		y += h[p];
	}
}

static void draw(const struct tui *t)
{
	static void (*const panels[P_N])(const struct tui *, const struct sample *, struct rect, int) = {
		[P_LATENCY] = draw_latency,
		[P_TOFREE] = draw_tofree,
		[P_THROUGHPUT] = draw_throughput,
		[P_SHARE] = draw_share,
	};
	const struct sample *smp = t->cumulative ? &t->shown.total : &t->shown.interval;
	struct rect screen = { 0, 0, LINES, COLS }, body, r[P_N];
	int y;

	erase();
	y = draw_header(t, screen);
	draw_status(t, smp, rect_below(screen, y++));
	if (t->message[0])
		panel_text(rect_below(screen, y++), 0, 1, A_NORMAL, "%s", t->message);
	body = rect_below(screen, y);
	body.h--;
	if (t->shown.have && t->storm) {
		storm_view_draw(&t->storm_view, t->s, body, crt_attr(CRT_TITLE));
	} else if (t->shown.have) {
		layout(t, smp, body, r);
		for (int p = 0; p < P_N; p++)
			panels[p](t, smp, r[p], crt_attr((int)t->focus == p ? CRT_FOCUS : CRT_TITLE));
	}
	draw_footer(t, rect_below(screen, screen.h - 1));
	wnoutrefresh(stdscr);
	if (t->help)
		draw_help(t);
	doupdate();
}

/* ------------------------------------------------------------------ */
/* Keys and the event loop                                             */
/* ------------------------------------------------------------------ */

/* Acts on key CH; false when it asks to quit. */
static bool key(struct tui *t, int ch)
{
	if (ch == KEY_RESIZE)
		return true;	/* the redraw that follows fits the new size */
	if (t->help) {
		t->help = false;
		return ch != 'q';
	}
	if (t->storm && storm_view_key(&t->storm_view, ch))
		return true;
	switch (ch) {
	case 'q':
		return false;
	case 'p':
		t->paused = !t->paused;
		if (!t->paused && t->shown.have)
			show(t);
		break;
	case 'r':
		reset(t);
		break;
	case 'c':
		t->cumulative = !t->cumulative;
		break;
	case 'u':
		t->unit = (t->unit + 1) % EV_NUNITS;
		break;
	case 's':
		save(t);
		break;
	case 'e':
		t->storm = !t->storm;
		break;
	case 'w':
		t->payers = !t->payers;
		break;
	case '\t':
	case KEY_RIGHT:
	case KEY_DOWN:
		t->focus = (t->focus + 1) % P_N;
		break;
	case KEY_BTAB:
	case KEY_LEFT:
	case KEY_UP:
		t->focus = (t->focus + P_N - 1) % P_N;
		break;
	case '?':
		t->help = true;
		break;
	default:
		break;
	}
	return true;
}

static enum stop_reason read_keys(struct tui *t)
{
	int ch, n = 0;

	while ((ch = getch()) != ERR) {
		n++;
		if (!key(t, ch))
			return STOP_QUIT;
	}
	/* Readable with nothing to read: the terminal hung up. */
	if (!n && crt_tty_gone())
		return STOP_OUTPUT;
	return STOP_NONE;
}

static void tui__free(struct tui *t)
{
	for (size_t i = 0; i < t->nsaved; i++)
		free(t->saved[i]);
	free(t->saved);
	free(t);
}

int tui_run(struct session *s, const struct env *env, struct exporter *x)
{
	enum stop_reason why = STOP_NONE;
	struct clock_loop loop;
	struct tui *t;
	int err;

	err = loop_open(&loop, s, env);
	if (err) {
		fprintf(stderr, "redprof: cannot set up timers and signals: %s\n", strerror(-err));
		return EXIT_RUNTIME;
	}
	err = crt_init();
	if (err) {
		const char *term = getenv("TERM");

		loop_close(&loop);
		fprintf(stderr, "redprof: cannot drive this terminal (TERM=%s): showing text output; "
			"--text asks for it directly\n", term ? term : "unset");
		for (size_t i = 0; i < s->nnotes; i++)
			fprintf(stderr, "redprof: %s\n", s->notes[i]);
		return profile_lines(s, env, x);
	}
	/* Held back with the rest of stderr: they are read after the screen is gone. */
	for (size_t i = 0; i < s->nnotes; i++)
		fprintf(stderr, "redprof: %s\n", s->notes[i]);

	t = xcalloc(1, sizeof(*t));
	t->s = s;
	t->env = env;
	t->x = x;
	t->unit = env->unit;
	while (why == STOP_NONE) {
		bool tick, input;

		draw(t);
		why = loop_wait(&loop, s, STDIN_FILENO, &tick, &input);
		if (tick)
			collect(t);
		if (input && why == STOP_NONE)
			why = read_keys(t);
	}
	crt_done();

	for (size_t i = 0; i < t->nsaved; i++)
		fprintf(stderr, "redprof: snapshot saved to %s\n", t->saved[i]);
	if (why == STOP_TARGET_EXIT)
		fprintf(stderr, "redprof: PID %d exited; stopping\n", s->t->pid);
	tui__free(t);
	loop_close(&loop);
	return cli_exports_finish(x, s, env->unit);
}
