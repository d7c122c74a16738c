// SPDX-License-Identifier: BSD-3-Clause
/*
 * tui_storm.c: the storm screen: heat map on top (periodic bursts and
 * their phase show at a glance), the episodes under it, then what the
 * selected one was: its figures, its place in the cycle and the verdict.
 * The verdict gets its rows first, the heat map as many as are left: the
 * words are the answer, the picture the evidence.
 */
#include "config.h"

#include <curses.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crt.h"
#include "report.h"
#include "report_svg.h"
#include "series.h"
#include "tui_storm.h"
#include "util.h"
#include "verdict.h"

#define ROW_LABEL_W 7		/* " 200ms " */
#define AXIS_EVERY 15		/* seconds between time labels */
#define DETAIL_LINES 10
#define DETAIL_LEN 1024
#define MAX_ROWS 10		/* of the map: 100 ms each */

/* ------------------------------------------------------------------ */
/* The copy                                                             */
/* ------------------------------------------------------------------ */

void storm_view_show(struct storm_view *v, const struct session *s)
{
	const struct storm *st = s->storm;
	uint64_t oldest, newest;
	struct episode now;

	v->why = storm_unavailable(s);
	v->ncol = v->nep = v->older = 0;
	if (v->why)
		return;
	if (heat__span(st->heat, &oldest, &newest)) {
		if (newest - oldest >= STORM_VIEW_SECONDS)
			oldest = newest - STORM_VIEW_SECONDS + 1;
		for (uint64_t sec = oldest; sec <= newest; sec++)
			v->col[v->ncol++] = *heat__column(st->heat, sec);
	}
	if (episodes__current(st->episodes, &now))
		v->ep[v->nep++] = now;
	for (size_t i = st->episodes->n; i-- > 0 && v->nep < STORM_VIEW_EPISODES;)
		v->ep[v->nep++] = *episodes__at(st->episodes, i);
	v->older = st->episodes->next_id - 1 - v->nep;
}

const struct episode *storm_view_ongoing(const struct storm_view *v)
{
	return v->nep && v->ep[0].ongoing ? &v->ep[0] : NULL;
}

/* ------------------------------------------------------------------ */
/* Selection                                                            */
/* ------------------------------------------------------------------ */

static size_t selected_index(const struct storm_view *v)
{
	for (size_t i = 0; i < v->nep; i++)
		if (v->ep[i].id == v->selected)
			return i;
	return 0;
}

bool storm_view_key(struct storm_view *v, int ch)
{
	size_t i = selected_index(v);

	switch (ch) {
	case KEY_DOWN:
	case 'j':
		if (i + 1 < v->nep)
			v->selected = v->ep[i + 1].id;
		return true;
	case KEY_UP:
	case 'k':
		/* Back at the top, the selection follows the newest again. */
		v->selected = i > 1 ? v->ep[i - 1].id : 0;
		return true;
	case KEY_HOME:
		v->selected = 0;
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------ */
/* The heat map                                                         */
/* ------------------------------------------------------------------ */

static void clock_words(uint64_t real_ns, bool millis, char *buf, size_t len)
{
	time_t sec = (time_t)(real_ns / 1000000000ULL);
	struct tm tm;
	size_t n;

	localtime_r(&sec, &tm);
	n = strftime(buf, len, "%H:%M:%S", &tm);
	if (millis)
		snprintf(buf + n, len - n, ".%03u", (unsigned)(real_ns / 1000000ULL % 1000));
}

/* Rows of the map for a panel of H rows in all: 10 (100 ms each) down to 2. */
static unsigned heat_rows(int h)
{
	static const unsigned choices[] = { MAX_ROWS, 5, 4, 2 };

	for (size_t i = 0; i < ARRAY_SIZE(choices); i++)
		if ((int)choices[i] + 2 <= h)
			return choices[i];
	return 1;
}

/* Time labels under the columns, every AXIS_EVERY seconds, and the legend at the right. */
static void heat_axis(const struct storm_view *v, struct rect r, size_t first, size_t k)
{
	int stop = r.w - panel_heat_legend(r, crt_attr(CRT_DIM)) - 1, next = 0;
	for (size_t c = 0; c < k; c++) {
		const struct heat_column *col = &v->col[first + c];
		int x = ROW_LABEL_W + (int)c;
		char at[16];

		/* The first column, then every AXIS_EVERY seconds where there is room. */
		if ((c && col->second % AXIS_EVERY) || x < next || x + 8 > stop)
			continue;
		clock_words(col->second * 1000000000ULL, false, at, sizeof(at));
		panel_text(r, 0, x, crt_attr(CRT_DIM), "%s", at);
		next = x + 9;
	}
}

static void draw_heat(const struct storm_view *v, struct rect r, int title_attr)
{
	unsigned rows = heat_rows(r.h);
	struct rect grid = { r.y + 1, r.x + ROW_LABEL_W, (int)rows, r.w - ROW_LABEL_W };
	double cells[STORM_VIEW_SECONDS * MAX_ROWS];
	size_t k = grid.w > 0 && v->ncol > (size_t)grid.w ? (size_t)grid.w : v->ncol, first = v->ncol - k;
	char title[128];

	snprintf(title, sizeof(title), "heat map: share of each %u ms spent evicting, a column a second",
		 1000 / rows);
	panel_title(r, title, title_attr);
	for (unsigned row = 0; row < rows; row++)
		panel_text(rect_below(r, 1), (int)row, 0, crt_attr(CRT_DIM), "%4ums", row * 1000 / rows);
	if (!v->ncol) {
		panel_text(grid, 0, 1, crt_attr(CRT_DIM), "nothing drained yet: the map fills a second at a time");
		return;
	}
	for (size_t c = 0; c < k; c++)
		for (unsigned row = 0; row < rows; row++)
			cells[c * rows + row] = heat_cell(&v->col[first + c], row, rows, NULL);
	panel_heat(grid, cells, k, crt_attr(CRT_SHARE));
	heat_axis(v, rect_below(r, 1 + (int)rows), first, k);
}

/* ------------------------------------------------------------------ */
/* The episodes                                                         */
/* ------------------------------------------------------------------ */

static const char *pace_words(const struct verdict *vd, bool ongoing)
{
	if (vd->pace == PACE_FALLING_BEHIND)
		return ongoing ? "falling behind" : "fell behind";
	return ongoing ? "keeping up" : "kept up";
}

/* The cycle's period, averaged over the episodes listed; NAN before two. */
static double mean_period(const struct storm_view *v)
{
	double sum = 0;
	size_t n = 0;

	for (size_t i = 0; i < v->nep; i++) {
		if (isnan(v->ep[i].cycle.period_s))
			continue;
		sum += v->ep[i].cycle.period_s;
		n++;
	}
	return n ? sum / (double)n : NAN;
}

static void draw_list(const struct storm_view *v, const struct session *s, struct rect r, int title_attr)
{
	size_t sel = selected_index(v), top = 0, shown = r.h > 1 ? (size_t)(r.h - 1) : 0;
	char title[96];

	snprintf(title, sizeof(title), "storm episodes, newest first (%zu; up/down selects)", v->nep + v->older);
	if (!isnan(mean_period(v))) {
		char p[32];

		format_seconds(mean_period(v), p, sizeof(p));
		snprintf(title, sizeof(title), "storm episodes, newest first (%zu, one every %s; up/down selects)",
			 v->nep + v->older, p);
	}
	panel_title(r, title, title_attr);
	if (!v->nep) {
		panel_wrap(rect_below(r, 1), "none yet: an episode begins when at least 10% of calls evict for a "
			   "second, and ends after a second with under 1% (redprof(8), STORM EPISODES)",
			   crt_attr(CRT_DIM));
		return;
	}
	if (sel >= shown && shown)
		top = sel - shown + 1;
	for (size_t i = top; i < v->nep && i - top < shown; i++) {
		const struct episode *ep = &v->ep[i];
		char at[16], d[32], keys[32];
		struct verdict vd;
		int attr = i == sel ? A_REVERSE : A_NORMAL;

		storm_verdict(s, ep, &vd);
		clock_words(ep->start_real_ns, false, at, sizeof(at));
		format_seconds(episode_duration_s(ep), d, sizeof(d));
		if (s->plan.keys)
			format_value((double)ep->keys_evicted, VK_RATE, keys, sizeof(keys));
		else
			snprintf(keys, sizeof(keys), "n/a");
		panel_text(r, 1 + (int)(i - top), 0, attr, "%c#%-3u %s %8s%s  keys %-5s %4.0f%% evicting  %s%*s",
			   i == sel ? '>' : ' ', ep->id, at, d, ep->ongoing ? " going" : "      ", keys,
			   100 * episode_evict_share(ep), pace_words(&vd, ep->ongoing), r.w, "");
	}
}

/* The selected episode's lines: figures, cycle, verdict; their attributes in ATTR. */
static size_t detail_lines(const struct episode *ep, const struct session *s, char lines[DETAIL_LINES][DETAIL_LEN],
			   int attr[DETAIL_LINES])
{
	struct series_value rv[SERIES_MAX_VALUES];
	size_t nrv = series_returns(s, ep->returns, rv), n = 0, len = 0;
	char a[32], b[32], c[32], d[32], cyc[256];
	const struct hist *hs[2] = { &ep->tofree, &ep->latency };
	const char *names[2] = { "mem_tofree", "round latency" };
	struct verdict vd;

	for (size_t i = 0; i < DETAIL_LINES; i++)
		attr[i] = A_NORMAL;
	/* The answer first: what is cut on a small screen is the figures at the end. */
	storm_verdict(s, ep, &vd);
	attr[n] = vd.pace == PACE_FALLING_BEHIND ? crt_attr(CRT_ALERT) : (int)A_BOLD;
	snprintf(lines[n++], DETAIL_LEN, "verdict: %s", vd.text);
	if (vd.backlog < 0) {
		attr[n] = crt_attr(CRT_DIM);
		snprintf(lines[n++], DETAIL_LEN, "backlog feedback: unavailable: %s", vd.backlog_why);
	}
	cycle_words(&ep->cycle, episode_duration_s(ep), cyc, sizeof(cyc));
	snprintf(lines[n++], DETAIL_LEN, "cycle: %s", cyc);
	format_count(ep->evicting_calls, a, sizeof(a));
	format_count(ep->keys_evicted, b, sizeof(b));
	format_value((double)ep->evict_ns, VK_TIME, c, sizeof(c));
	snprintf(lines[n++], DETAIL_LEN, "evicting calls %s  keys evicted %s  time evicting %s, %.1f%% of the main thread",
		 a, s->plan.keys ? b : "n/a", c, 100 * episode_evict_share(ep));
	format_value(ep->cmds_before, VK_RATE, a, sizeof(a));
	format_value(ep->cmds_during, VK_RATE, b, sizeof(b));
	format_value(ep->cmds_after, VK_RATE, c, sizeof(c));
	snprintf(lines[n++], DETAIL_LEN, "commands/s  before %s  during %s  after %s", a, b, ep->ongoing ? "-" : c);
	len = (size_t)snprintf(lines[n], DETAIL_LEN, "returns");
	for (size_t i = 0; i < nrv && len < DETAIL_LEN; i++)
		len += (size_t)snprintf(lines[n] + len, DETAIL_LEN - len, "  %s %" PRIu64, rv[i].label, rv[i].u);
	n++;
	/* mem_tofree only when a site reads it. */
	for (int h = (s->plan.var_mask & (1U << EV_MEM_TOFREE)) ? 0 : 1; h < 2; h++) {
		enum value_kind kind = h ? VK_TIME : VK_BYTES;

		format_value(hist_percentile(hs[h], 0.5), kind, a, sizeof(a));
		format_value(hist_percentile(hs[h], 0.9), kind, b, sizeof(b));
		format_value(hist_percentile(hs[h], 0.99), kind, c, sizeof(c));
		format_value(hs[h]->count ? (double)hs[h]->max : NAN, kind, d, sizeof(d));
		snprintf(lines[n++], DETAIL_LEN, "%s  p50 %s  p90 %s  p99 %s  max %s", names[h], a, b, c, d);
	}
	return n;
}

static int details_rows(const struct storm_view *v, const struct session *s, int w)
{
	char lines[DETAIL_LINES][DETAIL_LEN];
	int attr[DETAIL_LINES], rows = 1;
	size_t n;

	if (!v->nep)
		return 0;
	n = detail_lines(&v->ep[selected_index(v)], s, lines, attr);
	for (size_t i = 0; i < n; i++)
		rows += panel_wrap_rows(lines[i], w);
	return rows;
}

static void draw_details(const struct storm_view *v, const struct session *s, struct rect r, int title_attr)
{
	const struct episode *ep = &v->ep[selected_index(v)];
	char lines[DETAIL_LINES][DETAIL_LEN], title[128], from[24], to[24], d[32];
	int attr[DETAIL_LINES], y = 1;
	size_t n = detail_lines(ep, s, lines, attr);

	clock_words(ep->start_real_ns, true, from, sizeof(from));
	clock_words(ep->end_real_ns, true, to, sizeof(to));
	format_seconds(episode_duration_s(ep), d, sizeof(d));
	snprintf(title, sizeof(title), "episode #%u: %s to %s, %s%s", ep->id, from, to, d,
		 ep->ongoing ? ", going on" : "");
	panel_title(r, title, title_attr);
	for (size_t i = 0; i < n && y < r.h; i++) {
		struct rect line = rect_below(r, y);

		line.h = panel_wrap_rows(lines[i], r.w);
		line.h = line.h < r.h - y ? line.h : r.h - y;
		panel_wrap(line, lines[i], attr[i]);
		y += line.h;
	}
}

/* ------------------------------------------------------------------ */
/* The screen                                                           */
/* ------------------------------------------------------------------ */

void storm_view_draw(const struct storm_view *v, const struct session *s, struct rect body, int title_attr)
{
	int list_want = v->nep ? (int)v->nep + 1 : 3, list, heat, details, spare;

	if (v->why) {
		panel_title(body, "storm episodes and heat map", title_attr);
		panel_wrap(rect_below(body, 1), v->why, crt_attr(CRT_DIM));
		return;
	}
	/* The map by the screen's height, a few rows of the list, the selected episode in the rest. */
	heat = (int)heat_rows(body.h >= 34 ? 12 : body.h >= 18 ? 7 : body.h >= 14 ? 6 : 4) + 2;
	list = list_want < 3 ? list_want : 3;
	details = body.h - heat - list;
	spare = details - details_rows(v, s, body.w);
	if (spare > 0) {
		list += spare < list_want - list ? spare : list_want - list;
		details = body.h - heat - list;
	}
	draw_heat(v, (struct rect){ body.y, body.x, heat, body.w }, title_attr);
	draw_list(v, s, (struct rect){ body.y + heat, body.x, list, body.w }, title_attr);
	if (details > 1)
		draw_details(v, s, (struct rect){ body.y + heat + list, body.x, details, body.w }, title_attr);
}
