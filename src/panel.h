/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * panel.h: widgets that draw into one rectangle of the screen and never
 * outside it: a panel's title rule, text, a reason wrapped to the width,
 * fields that flow over a few rows, a funclatency-style histogram scaled
 * to the width, and a bar timeline. They know nothing of Redis or of the
 * layout; tui.c decides what goes where.
 */
#ifndef REDPROF_PANEL_H
#define REDPROF_PANEL_H

#include <stdbool.h>
#include <stddef.h>

#include "hist.h"

struct rect {
	int y, x;	/* top left, screen cells */
	int h, w;	/* rows, columns; nothing is drawn when either is <= 0 */
};

/* One field of a flowing line, in its own attribute. */
struct panel_field {
	const char *text;
	int attr;
};

/* The rows of R below its first N. */
struct rect rect_below(struct rect r, int n);

/* printf into R at ROW, COL, cut at R's right edge. */
void panel_text(struct rect r, int row, int col, int attr, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A rule across R's first row with TITLE in it, in ATTR. */
void panel_title(struct rect r, const char *title, int attr);

/* Rows TEXT takes wrapped at WIDTH, and TEXT wrapped into R (the last row cut with "..."). */
int panel_wrap_rows(const char *text, int width);
void panel_wrap(struct rect r, const char *text, int attr);

/*
 * Fields one after another, SEP between them, a new row when the next one
 * does not fit; from the first field that finds no row in R on, the rest
 * are left out, so put the important ones first. Returns the rows used;
 * panel_flow_rows() the rows all fields need at WIDTH.
 */
int panel_flow(struct rect r, const struct panel_field *f, size_t n, const char *sep, int sep_attr);
int panel_flow_rows(const struct panel_field *f, size_t n, const char *sep, int width);

/*
 * A histogram in funclatency's layout: a column header naming LABEL
 * ("usecs", "bytes") and CAPTION in BAR_ATTR, then "lo -> hi : count |***|"
 * rows from the first to the last non-empty bucket, bars scaled to R's
 * width. BYTES rows name each bucket's bounds as the text output does.
 * When R has too few rows, empty rows go first, then the lowest rows are
 * merged into one (dimmed), so the costly tail stays in view.
 */
void panel_hist(struct rect r, const struct hist *h, const char *label, bool bytes,
		const char *caption, int bar_attr);
/* Rows panel_hist() wants for H: the header and every row; 1 when H is empty. */
int panel_hist_rows(const struct hist *h);

/*
 * Bars of V[0..N), oldest first, one column each and R's height tall,
 * scaled to MAX: as many of the newest as fit, left to right. A non-zero
 * value always shows, and a zero shows as a dot.
 */
void panel_bars(struct rect r, const double *v, size_t n, double max, int attr);

/*
 * A heat map: column C of V (NCOLS of them, R's height each, V[C * R.h +
 * ROW]) is drawn in R's column C, each cell a shade of its share (0..1):
 * blank for none, then a quarter, a half, three quarters and more, with
 * Unicode shades or, without UTF-8, " .:+#". A share above zero always
 * shows. As many of the newest columns as fit, left to right.
 */
void panel_heat(struct rect r, const double *v, size_t ncols, int attr);
/*
 * The legend of panel_heat's shades ("░<25% ▒<50% ▓<75% █≥75%", or its
 * ASCII form) at the right end of R's first row; returns the columns it
 * took, 0 when it does not fit.
 */
int panel_heat_legend(struct rect r, int attr);

#endif /* REDPROF_PANEL_H */
