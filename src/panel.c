// SPDX-License-Identifier: BSD-3-Clause
/*
 * panel.c: drawing widgets. Every write goes through a clip to its
 * rectangle, so a resize to a small terminal can cut a panel short but
 * never leave characters where another panel is.
 */
#include "config.h"

#include <curses.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crt.h"
#include "panel.h"
#include "report.h"

struct rect rect_below(struct rect r, int n)
{
	r.y += n;
	r.h -= n;
	return r;
}

void panel_text(struct rect r, int row, int col, int attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (row < 0 || row >= r.h || col < 0 || col >= r.w)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	attrset(attr);
	mvaddnstr(r.y + row, r.x + col, buf, r.w - col);
	attrset(A_NORMAL);
}

/* N copies of CH at ROW, COL of R, cut at its edge. */
static void fill(struct rect r, int row, int col, int n, chtype ch, int attr)
{
	if (row < 0 || row >= r.h || col < 0 || col >= r.w || n <= 0)
		return;
	if (n > r.w - col)
		n = r.w - col;
	mvhline(r.y + row, r.x + col, ch | (chtype)attr, n);
}

void panel_title(struct rect r, const char *title, int attr)
{
	if (r.h <= 0)
		return;
	fill(r, 0, 0, r.w, ACS_HLINE, A_NORMAL);
	panel_text(r, 0, 1, attr, " %s ", title);
}

/* ------------------------------------------------------------------ */
/* Wrapped and flowing text                                            */
/* ------------------------------------------------------------------ */

/* Draws (R non-NULL) or counts the rows of TEXT wrapped at WIDTH, at most MAX of them. */
static int wrap(const struct rect *r, const char *text, int width, int max, int attr)
{
	const char *p = text;
	int rows = 0;

	if (width <= 0)
		return 0;
	while (*p == ' ')
		p++;
	while (*p && rows < max) {
		int len = (int)strlen(p), cut = len;

		if (len > width) {
			cut = width;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (!cut)
				cut = width;	/* a word longer than the row */
		}
		if (r && rows == max - 1 && cut < len)
			panel_text(*r, rows, 0, attr, "%.*s...", cut < width - 3 ? cut : width - 3, p);
		else if (r)
			panel_text(*r, rows, 0, attr, "%.*s", cut, p);
		rows++;
		p += cut;
		while (*p == ' ')
			p++;
	}
	return rows;
}

int panel_wrap_rows(const char *text, int width)
{
	return wrap(NULL, text, width, INT_MAX, 0);
}

void panel_wrap(struct rect r, const char *text, int attr)
{
	wrap(&r, text, r.w, r.h, attr);
}

static int flow(const struct rect *r, const struct panel_field *f, size_t n, const char *sep,
		int sep_attr, int width, int max)
{
	int row = 0, col = 0, seplen = (int)strlen(sep);

	if (width <= 0 || !n || max <= 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int len = (int)strlen(f[i].text), at = col ? col + seplen : 0;

		if (col && at + len > width) {
			if (row + 1 >= max)
				break;
			row++;
			at = 0;
		}
		if (r && at)
			panel_text(*r, row, col, sep_attr, "%s", sep);
		if (r)
			panel_text(*r, row, at, f[i].attr, "%s", f[i].text);
		col = at + len;
	}
	return row + 1;
}

int panel_flow(struct rect r, const struct panel_field *f, size_t n, const char *sep, int sep_attr)
{
	return flow(&r, f, n, sep, sep_attr, r.w, r.h);
}

int panel_flow_rows(const struct panel_field *f, size_t n, const char *sep, int width)
{
	return flow(NULL, f, n, sep, 0, width, INT_MAX);
}

/* ------------------------------------------------------------------ */
/* Histograms                                                          */
/* ------------------------------------------------------------------ */

int panel_hist_rows(const struct hist *h)
{
	unsigned first, last;

	if (!hist_range(h, &first, &last))
		return 1;
	return (int)(last - first) + 2;
}

void panel_hist(struct rect r, const struct hist *h, const char *label, bool bytes,
		const char *caption, int bar_attr)
{
	struct hist_row row[EV_SLOTS];
	int wlo = 0, whi = 0, wcount = 5, range, bar, caption_x;
	uint64_t max = 0;
	size_t n;

	if (r.h <= 0 || r.w <= 0)
		return;
	n = hist_rows(h, bytes, row, (size_t)(r.h - 1));
	for (size_t i = 0; i < n; i++) {
		char count[24];

		snprintf(count, sizeof(count), "%" PRIu64, row[i].count);
		wlo = (int)strlen(row[i].lo) > wlo ? (int)strlen(row[i].lo) : wlo;
		whi = (int)strlen(row[i].hi) > whi ? (int)strlen(row[i].hi) : whi;
		wcount = (int)strlen(count) > wcount ? (int)strlen(count) : wcount;
		max = row[i].count > max ? row[i].count : max;
	}
	range = wlo + 4 + whi;
	if (range < (int)strlen(label)) {
		wlo += (int)strlen(label) - range;
		range = (int)strlen(label);
	}
	/* The caption says which histogram this is: it wins over the column names. */
	caption_x = range + wcount + 4;
	if (caption_x + (int)strlen(caption) <= r.w)
		panel_text(r, 0, 0, A_NORMAL, "%*s : %-*s ", range, label, wcount, "count");
	else if ((caption_x = range + 3) + (int)strlen(caption) <= r.w)
		panel_text(r, 0, 0, A_NORMAL, "%*s : ", range, label);
	else
		caption_x = 0;
	panel_text(r, 0, caption_x, bar_attr, "%s", caption);
	bar = r.w - (range + 3 + wcount + 2) - 1;
	for (size_t i = 0; i < n; i++) {
		int y = (int)i + 1, x = range + 3 + wcount + 1;
		int stars = max && bar > 0 ? (int)((double)row[i].count * bar / (double)max) : 0;

		panel_text(r, y, 0, crt_attr(row[i].merged ? CRT_DIM : CRT_NORMAL), "%*s -> %-*s : %-*" PRIu64,
			   wlo, row[i].lo, whi, row[i].hi, wcount, row[i].count);
		if (bar < 1)
			continue;
		panel_text(r, y, x, A_NORMAL, "|");
		fill(r, y, x + 1, stars, '*', bar_attr);
		panel_text(r, y, x + 1 + bar, A_NORMAL, "|");
	}
}

/* ------------------------------------------------------------------ */
/* Timelines                                                           */
/* ------------------------------------------------------------------ */

void panel_bars(struct rect r, const double *v, size_t n, double max, int attr)
{
	static const char *const eighths[] = { "", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	const double *newest;
	size_t k;

	if (r.h <= 0 || r.w <= 0)
		return;
	k = n < (size_t)r.w ? n : (size_t)r.w;
	newest = v + (n - k);
	attrset(attr);
	for (size_t c = 0; c < k; c++) {
		long level = max > 0 ? lround(newest[c] / max * r.h * 8) : 0;

		if (newest[c] > 0 && level < 1)
			level = 1;
		if (!level)	/* measured, and zero: unlike a column not measured yet */
			mvaddstr(r.y + r.h - 1, r.x + (int)c, crt_utf8() ? "·" : ".");
		for (int row = r.h - 1; row >= 0 && level > 0; row--, level -= 8) {
			int y = r.y + row, x = r.x + (int)c;

			if (crt_utf8())
				mvaddstr(y, x, eighths[level > 8 ? 8 : level]);
			else if (level >= 4)
				mvaddch(y, x, '#');
			else if (row == r.h - 1)
				mvaddch(y, x, '_');	/* small, but not nothing */
		}
	}
	attrset(A_NORMAL);
}

/* ------------------------------------------------------------------ */
/* Heat maps                                                           */
/* ------------------------------------------------------------------ */

static int heat_level(double share)
{
	if (!(share > 0))
		return 0;
	return share < 0.25 ? 1 : share < 0.5 ? 2 : share < 0.75 ? 3 : 4;
}

void panel_heat(struct rect r, const double *v, size_t ncols, int attr)
{
	static const char *const utf8[] = { " ", "░", "▒", "▓", "█" };
	static const char ascii[] = " .:+#";
	size_t k, first;

	if (r.h <= 0 || r.w <= 0)
		return;
	k = ncols < (size_t)r.w ? ncols : (size_t)r.w;
	first = ncols - k;
	attrset(attr);
	for (size_t c = 0; c < k; c++) {
		for (int row = 0; row < r.h; row++) {
			int level = heat_level(v[(first + c) * (size_t)r.h + (size_t)row]);

			if (crt_utf8())
				mvaddstr(r.y + row, r.x + (int)c, utf8[level]);
			else
				mvaddch(r.y + row, r.x + (int)c, (chtype)ascii[level]);
		}
	}
	attrset(A_NORMAL);
}

int panel_heat_legend(struct rect r, int attr)
{
	/* Display width 23 in UTF-8: the shades and the sign are one column each. */
	const char *legend = crt_utf8() ? "░<25% ▒<50% ▓<75% █≥75%" : ".<25% :<50% +<75% #>=75%";
	int w = crt_utf8() ? 23 : (int)strlen(legend);

	if (r.h <= 0 || w > r.w)
		return 0;
	attrset(attr);
	mvaddstr(r.y, r.x + r.w - w, legend);
	attrset(A_NORMAL);
	return w;
}
