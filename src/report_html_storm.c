// SPDX-License-Identifier: BSD-3-Clause
/*
 * report_html_storm.c: episodes and the heat map in the report, on the
 * page and on the chart sheet.
 *
 * The heat map is drawn in strips of at most STRIP_S seconds, one rect per
 * run of cells of the same shade in a row, so an hour of storm stays a
 * page a browser opens at once; each rect's tooltip says when and how busy.
 * The page and the sheet draw the same strips; only the words around them
 * differ, HTML on the page, SVG text on the sheet. Every figure comes from
 * the file; what it lacks is said, never drawn as zero.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_html_storm.h"
#include "report_svg.h"
#include "util.h"

#define STRIP_S 300		/* seconds a strip */
#define ROWS 50			/* 20 ms each */
#define LEVELS 8		/* shades, by eighths of a slice */
#define HM_ML 52
#define HM_MR 10
#define HM_MT 18		/* the episodes' bars */
#define HM_MB 22
#define ROW_H 3
#define STRIP_H (HM_MT + ROWS * ROW_H + HM_MB)
#define WRAP_ALL 176		/* bytes of text a line across the sheet, about 7 px each */
#define WRAP_COL 84		/* in one of its columns */

const char storm_css[] =
	".eps td,.eps th{padding:3px 12px 3px 0;text-align:left;vertical-align:top;font-variant-numeric:tabular-nums}\n"
	".eps thead th{font-size:.85em;color:#444;border-bottom:1px solid #ddd}\n"
	".eps td.v{max-width:46ch}\n"
	".behind{color:#9b2c2c;font-weight:600}\n";

const char heat_css[] = ".heat .ep{fill:#2b6cb0}.heat text.ep{fill:#2b6cb0;font-weight:600}\n";

/* Pale to dark: the share of the main thread evicting, by eighths. */
static const char *const shades[LEVELS] = {
	"#fee8c8", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#b30000", "#7f0000",
};

static void time_words(double s, char *buf, size_t len)
{
	long v = lround(s);

	snprintf(buf, len, "%ld:%02ld", v / 60, v % 60);
}

/* WHY (words, not markup) as the page's paragraph of reasons. */
static void why_paragraph(FILE *f, const char *why)
{
	fputs("<p class=\"why\">", f);
	xml_text(f, why);
	fputs("</p>\n", f);
}

/* ------------------------------------------------------------------ */
/* Episodes                                                             */
/* ------------------------------------------------------------------ */

static void cell_value(FILE *f, double v, enum value_kind kind)
{
	char w[48];

	format_value(v, kind, w, sizeof(w));
	fputs(w, f);
}

static void cycle_cell(FILE *f, const struct snap_episode *ep)
{
	char w[32];

	format_seconds(ep->growth, w, sizeof(w));
	fprintf(f, "growth %s%s", ep->growth_before_capture ? "≥ " : "", isnan(ep->growth) ? "unknown" : w);
	if (ep->reclaim == 0) {
		fputs("<br>no reclaim", f);
	} else if (!isnan(ep->reclaim)) {
		format_seconds(ep->reclaim, w, sizeof(w));
		fprintf(f, "<br>reclaim %s", w);
	}
	if (!isnan(ep->period)) {
		format_seconds(ep->period, w, sizeof(w));
		fprintf(f, "<br>period %s", w);
	}
}

static void episode_row(FILE *f, const struct snap_episode *ep)
{
	char w[48];

	fprintf(f, "<tr data-episode=\"%u\"><td>#%u</td><td>%.19s%s</td><td>", ep->id, ep->id, ep->start_ts,
		ep->ongoing ? " (going on at the end)" : "");
	format_seconds(ep->duration, w, sizeof(w));
	fprintf(f, "%s</td><td>", w);
	if (ep->has_keys) {
		format_count(ep->keys, w, sizeof(w));
		fputs(w, f);
	} else {
		fputs("n/a", f);
	}
	fputs("</td><td>", f);
	cell_value(f, ep->evict_time * 1e9, VK_TIME);
	fputs(" (", f);
	cell_value(f, ep->share, VK_SHARE);
	fputs(")</td><td>", f);
	for (int i = 0; i < 3; i++) {
		fputs(i ? " → " : "", f);
		cell_value(f, ep->cmds[i], VK_RATE);
	}
	format_count(ep->running, w, sizeof(w));
	fprintf(f, "</td><td>%s", w);
	format_count(ep->refused, w, sizeof(w));
	fprintf(f, " / %s</td><td>", w);
	cell_value(f, ep->tofree[0], VK_BYTES);
	fputs(" / ", f);
	cell_value(f, ep->tofree[2], VK_BYTES);
	fputs("</td><td>", f);
	cell_value(f, ep->latency_ns[2], VK_TIME);
	fputs("</td><td>", f);
	cycle_cell(f, ep);
	fprintf(f, "</td><td class=\"v%s\">", strcmp(ep->pace, "falling_behind") ? "" : " behind");
	xml_text(f, ep->verdict);
	fputs("</td></tr>\n", f);
}

/* Why S has no episode, in words; the caller frees them. */
static char *episodes_why(const struct snapshot *s)
{
	if (s->storm_why)
		return xasprintf("Not available: %s", s->storm_why);
	return xstrdup("No episode in this capture: an episode begins when at least 10% of calls evict for a second, "
		       "and ends after a second with under 1% (redprof(8), STORM EPISODES).");
}

static void episodes_table(FILE *f, const struct snapshot *s)
{
	if (!s->nepisodes) {
		char *why = episodes_why(s);

		why_paragraph(f, why);
		free(why);
		return;
	}
	fputs("<div class=\"scroll\"><table class=\"eps\"><thead><tr><th>#</th><th>start (UTC)</th><th>duration</th>"
	      "<th>keys evicted</th><th>time evicting</th><th>commands/s before → during → after</th>"
	      "<th>time limit / OOM</th><th>mem_tofree p50 / p99</th><th>round p99</th><th>cycle</th>"
	      "<th>verdict</th></tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < s->nepisodes; i++)
		episode_row(f, &s->episodes[i]);
	fputs("</tbody></table></div>\n", f);
	if (s->episodes[0].backlog_why) {
		fputs("<p class=\"sub n\">Backlog feedback (client buffers growing during a burst): not available: ", f);
		xml_text(f, s->episodes[0].backlog_why);
		fputs(".</p>\n", f);
	}
}

/* ------------------------------------------------------------------ */
/* The heat map                                                         */
/* ------------------------------------------------------------------ */

/* The share of row ROW (ROWS to a second) of column C. */
static double row_share(const struct heat_column *c, int row)
{
	return heat_cell(c, (unsigned)row, ROWS, NULL);
}

static int level_of(double share)
{
	int l = (int)ceil(share * LEVELS);

	return l < 1 ? 1 : l > LEVELS ? LEVELS : l;
}

/* Columns of the strip [FROM, FROM + LEN) seconds since the start: NULL where the file has none. */
static void strip_columns(const struct snap_heat *h, double from, size_t len, const struct heat_column **col)
{
	double t0 = floor(h->capture_start);

	memset(col, 0, len * sizeof(*col));
	for (size_t i = 0; i < h->n; i++) {
		double at = (double)h->col[i].second - t0 - from;

		if (at >= 0 && at < (double)len)
			col[(size_t)at] = &h->col[i];
	}
}

static void strip_cells(FILE *f, const struct heat_column **col, size_t len, double from, double cw)
{
	for (int row = 0; row < ROWS; row++) {
		for (size_t c = 0; c < len;) {
			double share = col[c] ? row_share(col[c], row) : 0;
			size_t run = 1;
			int level;
			char a[48], b[48];

			if (!(share > 0)) {
				c++;
				continue;
			}
			level = level_of(share);
			while (c + run < len && col[c + run] && row_share(col[c + run], row) > 0 &&
			       level_of(row_share(col[c + run], row)) == level)
				run++;
			time_words(from + (double)c, a, sizeof(a));
			time_words(from + (double)(c + run), b, sizeof(b));
			fprintf(f, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\"><title>%s to %s, "
				"+%d to %d ms: %d to %d%% evicting</title></rect>\n", HM_ML + (double)c * cw,
				HM_MT + row * ROW_H, (double)run * cw, ROW_H, shades[level - 1], a, b, row * 1000 / ROWS,
				(row + 1) * 1000 / ROWS, (level - 1) * 100 / LEVELS, level * 100 / LEVELS);
			c += run;
		}
	}
}

/* Episodes over the strip, as bars above it. */
static void strip_episodes(FILE *f, const struct snapshot *s, double from, size_t len, double cw)
{
	double t0 = floor(s->heat.capture_start), start_frac = s->heat.capture_start - t0;

	for (size_t i = 0; i < s->nepisodes; i++) {
		const struct snap_episode *ep = &s->episodes[i];
		double a = ep->start + start_frac - from, b = ep->end + start_frac - from;

		if (b <= 0 || a >= (double)len)
			continue;
		a = a < 0 ? 0 : a;
		b = b > (double)len ? (double)len : b;
		fprintf(f, "<rect class=\"ep\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"4\"><title>episode #%u</title>"
			"</rect><text class=\"ep small\" x=\"%.2f\" y=\"%d\">#%u</text>\n", HM_ML + a * cw, HM_MT - 6,
			(b - a) * cw > 1 ? (b - a) * cw : 1, ep->id, HM_ML + a * cw, HM_MT - 8, ep->id);
	}
}

/* The seconds [FROM, FROM + LEN) of S's heat map as one chart at AT, STRIP_H high. */
static void strip(FILE *f, struct svg_place at, const struct snapshot *s, double from, size_t len)
{
	const struct heat_column *col[STRIP_S];
	int plot_h = ROWS * ROW_H;
	double cw = (double)(CHART_W - HM_ML - HM_MR) / (double)len;
	size_t step = len > 120 ? 60 : len > 40 ? 10 : len > 12 ? 5 : 1;

	strip_columns(&s->heat, from, len, col);
	svg_open(f, at, "chart heat", STRIP_H, "heat map");
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"#fafafa\" stroke=\"#ddd\"/>\n", HM_ML,
		HM_MT, (double)len * cw, plot_h);
	for (int row = 0; row <= ROWS; row += ROWS / 5)
		fprintf(f, "<text x=\"%d\" y=\"%d\" dy=\"0.32em\" text-anchor=\"end\" class=\"small\">%d ms</text>\n",
			HM_ML - 4, HM_MT + row * ROW_H, row * 1000 / ROWS);
	for (size_t t = 0; t <= len; t += step) {
		char w[48];

		time_words(from + (double)t, w, sizeof(w));
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" dy=\"1em\" text-anchor=\"%s\" class=\"small\">%s</text>\n",
			HM_ML + (double)t * cw, HM_MT + plot_h + 3, t ? t + step > len ? "end" : "middle" : "start", w);
	}
	strip_cells(f, col, len, from, cw);
	strip_episodes(f, s, from, len, cw);
	fputs("</svg>\n", f);
}

/* The strip that starts at FROM, of a map ending at END: STRIP_S seconds, or what is left. */
static size_t strip_len(double from, double end)
{
	return end - from < STRIP_S ? (size_t)ceil(end - from) : STRIP_S;
}

static void legend(FILE *f)
{
	fputs("<p class=\"sub n\">Each column is a second since the capture began, each row 20 ms of it; the shade is the "
	      "share of those 20 ms the main thread spent in evicting calls: ", f);
	for (int l = 0; l < LEVELS; l++)
		fprintf(f, "<span style=\"background:%s\">&nbsp;&nbsp;&nbsp;</span>%s", shades[l],
			l == 0 ? " up to 12.5%, " : l == LEVELS - 1 ? " over 87.5%." : " ");
	fputs(" Bars above are the episodes.</p>\n", f);
}

/*
 * The seconds to draw, since the capture's start: all of it, or the last
 * HEAT_KEEP_S seconds the file can hold, ending with the later of the last
 * column and the capture's end. False when the file has no start time.
 */
static bool heat_range(const struct snapshot *s, double *begin, double *end)
{
	const struct snap_heat *h = &s->heat;
	double t0 = floor(h->capture_start), cap_end = ceil(s->total.len + h->capture_start - t0);

	if (!isfinite(t0) || !h->n)
		return false;
	*end = (double)h->col[h->n - 1].second - t0 + 1;
	if (isfinite(cap_end) && cap_end > *end)
		*end = cap_end;
	*begin = *end > HEAT_KEEP_S ? *end - HEAT_KEEP_S : 0;
	return *end > 0;
}

/* Why S's heat map has nothing to draw (heat_range is false), in words; the caller frees them. */
static char *heat_why(const struct snapshot *s)
{
	if (s->heat.present)
		return xstrdup("No second of this capture had eviction in it.");
	if (s->lines)
		return xstrdup("Not available: the heat map is in snapshot files (--export FILE.json, or the view's s), "
			       "not in --json lines");
	return xasprintf("Not available: %s", s->storm_why ? s->storm_why : "this file has no heat map");
}

static const char kept_words[] = "The file keeps the last hour of the heat map.";

static void lost_words(const struct snapshot *s, char *buf, size_t len)
{
	snprintf(buf, len, "%llu slices (10 ms each) were lost: the interval was longer than the kernel's ring of "
		 "81.92 s.", (unsigned long long)s->heat.lost);
}

static void heat_map(FILE *f, const struct snapshot *s)
{
	double begin, end;
	char lost[160];

	if (!heat_range(s, &begin, &end)) {
		char *why = heat_why(s);

		why_paragraph(f, why);
		free(why);
		return;
	}
	if (begin > 0)
		fprintf(f, "<p class=\"sub n\">%s</p>\n", kept_words);
	for (double from = begin; from < end; from += STRIP_S)
		strip(f, (struct svg_place){ 0 }, s, from, strip_len(from, end));
	legend(f);
	if (s->heat.lost) {
		lost_words(s, lost, sizeof(lost));
		fprintf(f, "<p class=\"sub n\">%s</p>\n", lost);
	}
}

void storm_html(FILE *f, const struct snapshot *const *s, const char *const *names, size_t n)
{
	fputs("<section id=\"episodes\">\n<h2>Storm episodes</h2>\n", f);
	for (size_t i = 0; i < n; i++) {
		if (names[i])
			fprintf(f, "<h3>%s</h3>\n", names[i]);
		episodes_table(f, s[i]);
	}
	fputs("</section>\n<section id=\"heatmap\">\n<h2>Sub-second heat map of eviction</h2>\n", f);
	for (size_t i = 0; i < n; i++) {
		if (names[i])
			fprintf(f, "<h3>%s</h3>\n", names[i]);
		heat_map(f, s[i]);
	}
	fputs("</section>\n", f);
}

/* ------------------------------------------------------------------ */
/* The chart sheet                                                      */
/* ------------------------------------------------------------------ */

/*
 * TEXT (words, not markup) from (X, Y) down, in lines of at most WRAP
 * bytes broken at spaces, since SVG text does not wrap; returns the y
 * below it.
 */
static double sheet_text(FILE *f, double x, double y, size_t wrap, const char *cls, const char *text)
{
	char line[WRAP_ALL + 1];

	wrap = wrap < WRAP_ALL ? wrap : WRAP_ALL;
	while (*text) {
		size_t n = strlen(text);

		if (n > wrap) {
			for (n = wrap; n && text[n] != ' '; n--)
				;
			/* A word longer than a line is cut, but not inside a UTF-8 sequence. */
			if (!n)
				for (n = wrap; n > 1 && (text[n] & 0xc0) == 0x80; n--)
					;
		}
		snprintf(line, sizeof(line), "%.*s", (int)n, text);
		fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"%s\">", x, y + 12, cls);
		xml_text(f, line);
		fputs("</text>\n", f);
		for (text += n; *text == ' '; text++)
			;
		y += SHEET_LINE;
	}
	return y;
}

/* EP on the sheet: its figures on a line, its verdict below; returns the y below it. */
static double sheet_episode(FILE *f, double y, const struct snap_episode *ep)
{
	char line[320], dur[32], keys[32], busy[48], share[48], p99[48];

	format_seconds(ep->duration, dur, sizeof(dur));
	if (ep->has_keys)
		format_count(ep->keys, keys, sizeof(keys));
	else
		snprintf(keys, sizeof(keys), "n/a");
	format_value(ep->evict_time * 1e9, VK_TIME, busy, sizeof(busy));
	format_value(ep->share, VK_SHARE, share, sizeof(share));
	format_value(ep->latency_ns[2], VK_TIME, p99, sizeof(p99));
	snprintf(line, sizeof(line), "#%u  %.19s UTC%s, %s: %s keys evicted, %s evicting (%s), round p99 %s", ep->id,
		 ep->start_ts, ep->ongoing ? " (going on at the end)" : "", dur, keys, busy, share, p99);
	y = sheet_text(f, SHEET_X(0), y, WRAP_ALL, "t", line);
	return sheet_text(f, SHEET_X(0) + 16, y, WRAP_ALL - 4, strcmp(ep->pace, "falling_behind") ? "t" : "t behind",
			  ep->verdict);
}

/* The episodes of S[0..N) across the sheet from Y, when there are any; returns the y below them. */
static double sheet_episodes(FILE *f, const struct snapshot *const *s, const char *const *names, size_t n, double y)
{
	size_t any = 0;

	for (size_t i = 0; i < n; i++)
		any += s[i]->nepisodes;
	/* The sheet is for pictures: a capture without episodes says why on the page. */
	if (!any)
		return y;
	for (size_t i = 0; i < n; i++) {
		y = sheet_title(f, SHEET_X(0), y, names[i], "Storm episodes");
		if (!s[i]->nepisodes) {
			char *why = episodes_why(s[i]);

			y = sheet_text(f, SHEET_X(0), y, WRAP_ALL, "why", why);
			free(why);
		}
		for (size_t e = 0; e < s[i]->nepisodes; e++)
			y = sheet_episode(f, y, &s[i]->episodes[e]);
		y += SHEET_LINE;
	}
	return y;
}

/* The shades' key below the strips, at (X, Y); returns the y below it. */
static double sheet_legend(FILE *f, double x, double y)
{
	for (int l = 0; l < LEVELS; l++)
		fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"14\" height=\"10\" fill=\"%s\"/>", x + 14 * l, y + 3,
			shades[l]);
	fprintf(f, "\n<text x=\"%.0f\" y=\"%.0f\" class=\"t\">share of each 20 ms spent evicting, 0 to 100%%; "
		"bars above: episodes</text>\n", x + 14 * LEVELS + 6, y + 12);
	return y + SHEET_LINE;
}

/*
 * S's heat map on the sheet from Y, its strips in columns COL .. COL +
 * NCOLS - 1, row by row; returns the y below it.
 */
static double sheet_heat(FILE *f, const struct snapshot *s, const char *name, size_t col, size_t ncols, double y)
{
	double begin, end, x = SHEET_X(col);
	size_t i = 0, wrap = ncols > 1 ? WRAP_ALL : WRAP_COL;
	char lost[160];

	y = sheet_title(f, x, y, name, "Sub-second heat map of eviction");
	if (!heat_range(s, &begin, &end)) {
		char *why = heat_why(s);

		y = sheet_text(f, x, y, wrap, "why", why);
		free(why);
		return y;
	}
	for (double from = begin; from < end; from += STRIP_S, i++) {
		struct svg_place at = { true, SHEET_X(col + i % ncols), y + (double)(i / ncols * STRIP_H) };

		strip(f, at, s, from, strip_len(from, end));
	}
	y = sheet_legend(f, x, y + (double)((i + ncols - 1) / ncols * STRIP_H));
	if (begin > 0)
		y = sheet_text(f, x, y, wrap, "t", kept_words);
	if (s->heat.lost) {
		lost_words(s, lost, sizeof(lost));
		y = sheet_text(f, x, y, wrap, "t", lost);
	}
	return y;
}

double storm_sheet(FILE *f, const struct snapshot *const *s, const char *const *names, size_t n, double y)
{
	double bottom;

	y = sheet_episodes(f, s, names, n, y);
	bottom = y;
	/* Alone, the strips fill both columns; before and after, a side a column. */
	for (size_t k = 0; k < n; k++)
		bottom = fmax(bottom, sheet_heat(f, s[k], names[k], k, n == 1 ? 2 : 1, y));
	return bottom + SHEET_LINE;
}
