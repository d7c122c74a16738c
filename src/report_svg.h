/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report_svg.h: the charts of `redprof report` as SVG, drawn without
 * script or fonts from anywhere: a histogram's log2 buckets as bars with
 * its percentiles marked, and timelines over a capture. Each chart is one
 * <svg> element that scales to its container in the HTML page, or sits at
 * a place of its own in the standalone chart sheet.
 */
#ifndef REDPROF_REPORT_SVG_H
#define REDPROF_REPORT_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "hist.h"

#define CHART_W 600
#define HIST_H 230
#define LINE_H 170

/* Where a chart goes: inline in the HTML page, or nested in the sheet at (x, y). */
struct svg_place {
	bool nested;
	double x, y;
};

/* What a value measures, for its words: "4.1 µs", "12 KiB", "71K/s", "23.9%". */
enum value_kind { VK_TIME, VK_BYTES, VK_KEYS, VK_RATE, VK_SHARE };

/* V (ns for time, bytes, keys, per second, a 0..1 share) for people. */
void format_value(double v, enum value_kind k, char *buf, size_t len);
/* A count with thousands separators: "1,234,567". */
void format_count(uint64_t v, char *buf, size_t len);
/* Text escaped for XML and HTML. */
void xml_text(FILE *f, const char *s);

/* A line on a histogram chart: p50 .. p99 and max, in base units. */
struct marker {
	const char *name;
	double value;
};

/*
 * H's buckets from slot LO to HI (an axis shared with another chart) as
 * bars, height in percent of H's count up to YMAX_PCT, with MARKERS. WHAT
 * names what is counted ("calls") in the bars' tooltips.
 */
void svg_hist(FILE *f, struct svg_place at, const struct hist *h, enum value_kind kind, unsigned lo, unsigned hi,
	      double ymax_pct, const struct marker *markers, size_t nmarkers, const char *what);

/* One line of a timeline: values at each time, NAN where there is none. */
struct line {
	const char *name;	/* the legend; NULL for a single line */
	const char *cls;	/* its CSS class: l1 .. l3 */
	const double *y;
};

/* Lines over T[0..N) seconds since the capture's start, up to TMAX, values up to YMAX. */
void svg_timeline(FILE *f, struct svg_place at, const double *t, size_t n, double tmax, const struct line *lines,
		  size_t nlines, enum value_kind kind, double ymax);

/* An <svg> of CSS class CLS, H high and CHART_W wide, at AT; LABEL names it when inline. */
void svg_open(FILE *f, struct svg_place at, const char *cls, int h, const char *label);

/*
 * The standalone sheet: charts in two columns, SHEET_GAP apart, each under
 * a title SHEET_TITLE high; SHEET_LINE a line of text.
 */
#define SHEET_GAP 40
#define SHEET_TITLE 22
#define SHEET_LINE 16
#define SHEET_X(col) (20 + (double)(col) * (CHART_W + SHEET_GAP))

/* "SIDE: TITLE" (TITLE alone when SIDE is NULL) at (X, Y) in the sheet; returns the y below it. */
double sheet_title(FILE *f, double x, double y, const char *side, const char *title);

/* A round number at or above V for an axis: 1, 2 or 5 times a power of ten (of 1024 for bytes). */
double nice_ceiling(double v, enum value_kind kind);

/* The charts' style, for the page's <style> and the sheet's. */
extern const char svg_css[];

#endif /* REDPROF_REPORT_SVG_H */
