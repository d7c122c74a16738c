// SPDX-License-Identifier: BSD-3-Clause
/*
 * report_svg.c: bar charts of log2 histograms and timelines, in SVG.
 *
 * A histogram's x axis has one band per log2 bucket, so the axis is
 * logarithmic: a percentile is placed inside its bucket's band by the
 * logarithm of its value, and each band is labelled at its edges. Bars are
 * percentages of the histogram's count, so two captures of different
 * lengths compare on one scale; a bucket that holds anything is at least
 * one pixel high, so a lone outlier never disappears.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "report.h"
#include "report_svg.h"

/* Plot area inside a chart. */
#define ML 58
#define MR 16
#define HIST_MT 52
#define HIST_MB 38
#define LINE_MT 14
#define LINE_MB 28
#define PLOT_W (CHART_W - ML - MR)

const char svg_css[] =
	".chart{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",Arial,sans-serif;"
	"font-size:11px}\n"
	".chart text{fill:#444}\n"
	".chart .grid{stroke:#e6e6e6;stroke-width:1}\n"
	".chart .axis{stroke:#999;stroke-width:1}\n"
	".chart .bar{fill:#4c72b0}\n"
	".chart .pct{stroke:#c05621;stroke-width:1.5;stroke-dasharray:4 3}\n"
	".chart .max{stroke:#9b2c2c;stroke-width:1.5}\n"
	".chart text.pct{fill:#c05621;stroke:none;font-weight:600}\n"
	".chart text.max{fill:#9b2c2c;stroke:none;font-weight:600}\n"
	".chart .l1{fill:none;stroke:#4c72b0;stroke-width:1.8}\n"
	".chart .l2{fill:none;stroke:#c44e52;stroke-width:1.8;stroke-dasharray:5 3}\n"
	".chart .l3{fill:none;stroke:#2f855a;stroke-width:1.8}\n"
	".chart circle.l1{fill:#4c72b0}.chart circle.l2{fill:#c44e52}.chart circle.l3{fill:#2f855a}\n"
	".chart .small{font-size:10px}\n"
	/* On a phone a chart shrinks to about 60%: larger text keeps it readable. Labels are spaced for it. */
	"@media (max-width:760px){.chart{font-size:16px}.chart .small{font-size:15px}}\n";

/* ------------------------------------------------------------------ */
/* Words and numbers                                                    */
/* ------------------------------------------------------------------ */

/* Three significant digits at most, trailing zeros dropped: 4.1, 41.2, 412. */
static void sig3(double v, const char *suffix, char *buf, size_t len)
{
	int decimals = v >= 99.95 ? 0 : v >= 9.995 ? 1 : 2;
	char num[48];

	snprintf(num, sizeof(num), "%.*f", decimals, v);
	if (strchr(num, '.')) {
		char *e = num + strlen(num) - 1;

		while (*e == '0')
			*e-- = '\0';
		if (*e == '.')
			*e = '\0';
	}
	snprintf(buf, len, "%s%s", num, suffix);
}

void format_value(double v, enum value_kind k, char *buf, size_t len)
{
	static const char *const time_units[] = { " ns", " µs", " ms", " s" };
	static const char *const byte_units[] = { " B", " KiB", " MiB", " GiB", " TiB" };
	static const char *const rate_units[] = { "", "K", "M", "G" };
	int i = 0;

	if (isnan(v)) {
		snprintf(buf, len, "n/a");
		return;
	}
	switch (k) {
	case VK_TIME:
		for (; v >= 999.5 && i < 3; i++)
			v /= 1000;
		sig3(v, time_units[i], buf, len);
		break;
	case VK_BYTES:
		if (v < 1024) {
			snprintf(buf, len, "%.0f B", v);
			break;
		}
		for (; v >= 1023.5 && i < 4; i++)
			v /= 1024;
		sig3(v, byte_units[i], buf, len);
		break;
	case VK_KEYS:
		snprintf(buf, len, v == floor(v) ? "%.0f" : "%.2f", v);
		break;
	case VK_RATE:
		for (; v >= 999.5 && i < 3; i++)
			v /= 1000;
		if (!i)
			snprintf(buf, len, "%.0f", v);
		else
			sig3(v, rate_units[i], buf, len);
		break;
	case VK_SHARE:
		snprintf(buf, len, "%.1f%%", 100 * v);
		break;
	}
}

void format_count(uint64_t v, char *buf, size_t len)
{
	char digits[32];
	size_t n, o = 0;

	snprintf(digits, sizeof(digits), "%" PRIu64, v);
	n = strlen(digits);
	for (size_t i = 0; i < n && o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		/* Control characters are not allowed in XML, not even as references, and a file may hold them. */
		case '\t': case '\n': case '\r': fputc(*s, f); break;
		default: fputc((unsigned char)*s < 0x20 ? '?' : *s, f); break;
		}
	}
}

double nice_ceiling(double v, enum value_kind kind)
{
	double base = kind == VK_BYTES ? 1024 : 10, p = 1;
	static const double steps[] = { 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 };

	if (!(v > 0))
		return 1;
	while (p * base <= v)
		p *= base;
	while (p > v)
		p /= base;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i] * p >= v)
			return steps[i] * p;
	return base * p;
}

/* ------------------------------------------------------------------ */
/* Frames                                                               */
/* ------------------------------------------------------------------ */

void svg_open(FILE *f, struct svg_place at, const char *cls, int h, const char *label)
{
	if (at.nested)
		fprintf(f, "<svg class=\"%s\" x=\"%.0f\" y=\"%.0f\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
			cls, at.x, at.y, CHART_W, h, CHART_W, h);
	else
		fprintf(f, "<svg class=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", cls, CHART_W, h);
	if (!at.nested) {
		xml_text(f, label);
		fputs("\">", f);
	}
	fputc('\n', f);
}

double sheet_title(FILE *f, double x, double y, const char *side, const char *title)
{
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"st\">", x, y + 15);
	if (side) {
		xml_text(f, side);
		fputs(": ", f);
	}
	xml_text(f, title);
	fputs("</text>\n", f);
	return y + SHEET_TITLE;
}

/* Horizontal grid lines and their labels: 0 .. YMAX in four steps. */
static void y_grid(FILE *f, int top, int plot_h, double ymax, enum value_kind kind, bool pct)
{
	for (int i = 0; i <= 4; i++) {
		double v = ymax * i / 4, y = top + plot_h - plot_h * (double)i / 4;
		char label[32];

		if (pct)
			snprintf(label, sizeof(label), "%g%%", v);
		else
			format_value(v, kind, label, sizeof(label));
		fprintf(f, "<line class=\"%s\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", i ? "grid" : "axis", ML, y,
			CHART_W - MR, y);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" dy=\"0.32em\" text-anchor=\"end\" class=\"small\">%s</text>\n",
			ML - 4, y, label);
	}
}

/* ------------------------------------------------------------------ */
/* Histograms                                                           */
/* ------------------------------------------------------------------ */

/* A bucket edge for an axis label: time to two significant digits, bytes and keys exactly. */
static void edge_label(uint64_t v, uint64_t scale, enum value_kind kind, char *buf, size_t len)
{
	static const char *const units[] = { "ns", "µs", "ms", "s" };
	double t = (double)v * (double)scale;
	int i = 0;

	if (kind != VK_TIME) {
		format_bytes(v, buf, len);
		return;
	}
	for (; t >= 999.5 && i < 3; i++)
		t /= 1000;
	/* 4.1 µs, 16 µs, 131 µs; 1 µs rather than 1.0 µs. */
	if (t >= 9.95 || fabs(t - round(t)) < 0.05)
		snprintf(buf, len, "%.0f %s", t, units[i]);
	else
		snprintf(buf, len, "%.1f %s", t, units[i]);
}

/* Tooltip bounds: exact in the histogram's unit. */
static void exact_edge(uint64_t v, uint64_t scale, enum value_kind kind, char *buf, size_t len)
{
	if (kind == VK_TIME)
		format_value((double)v * (double)scale, VK_TIME, buf, len);
	else
		format_bytes(v, buf, len);
}

/* Where base value V falls on the axis of bands LO..HI, each BW wide. */
static double value_x(double v, const struct hist *h, unsigned lo, unsigned hi, double bw)
{
	double u = v / (double)h->scale, frac;
	unsigned slot = u < 1 ? 0 : hist_slot((uint64_t)u);

	if (slot < lo)
		return ML;
	if (slot > hi)
		return ML + PLOT_W;
	frac = slot ? log2(u / (double)hist_slot_lo(slot)) : u / 2;
	return ML + ((double)(slot - lo) + frac) * bw;
}

static void hist_markers(FILE *f, const struct hist *h, unsigned lo, unsigned hi, double bw,
			 const struct marker *markers, size_t n)
{
	double last[3] = { -1e9, -1e9, -1e9 };
	int plot_h = HIST_H - HIST_MT - HIST_MB;

	for (size_t i = 0; i < n; i++) {
		const char *cls = strcmp(markers[i].name, "max") ? "pct" : "max";
		double x = value_x(markers[i].value, h, lo, hi, bw);
		int row = 0;

		if (isnan(markers[i].value))
			continue;
		/* Labels that would overlap go up a row. */
		while (row < 2 && x - last[row] < 40)
			row++;
		last[row] = x;
		fprintf(f, "<line class=\"%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", cls, x, HIST_MT - 2, x,
			HIST_MT + plot_h);
		fprintf(f, "<text class=\"%s\" x=\"%.1f\" y=\"%d\" dy=\"%.2fem\" text-anchor=\"middle\">%s</text>\n",
			cls, x, HIST_MT - 5, -1.05 * row, markers[i].name);
	}
}

void svg_hist(FILE *f, struct svg_place at, const struct hist *h, enum value_kind kind, unsigned lo, unsigned hi,
	      double ymax_pct, const struct marker *markers, size_t nmarkers, const char *what)
{
	int plot_h = HIST_H - HIST_MT - HIST_MB, skip;
	unsigned nb = hi - lo + 1;
	double bw = (double)PLOT_W / nb;

	svg_open(f, at, "chart", HIST_H, what);
	y_grid(f, HIST_MT, plot_h, ymax_pct, kind, true);
	for (unsigned i = lo; i <= hi; i++) {
		double pct = h->count ? 100.0 * (double)h->slots[i] / (double)h->count : 0;
		double bh = plot_h * pct / ymax_pct;
		char a[32], b[32], n[32];

		if (!h->slots[i])
			continue;
		if (bh < 1)
			bh = 1;
		exact_edge(hist_slot_lo(i), h->scale, kind, a, sizeof(a));
		exact_edge(hist_slot_hi(i), h->scale, kind, b, sizeof(b));
		format_count(h->slots[i], n, sizeof(n));
		fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
			"<title>%s to %s: %s %s (%.1f%%)</title></rect>\n",
			ML + (i - lo) * bw + bw * 0.1, HIST_MT + plot_h - bh, bw * 0.8, bh, a, b, n, what, pct);
	}
	/* Edge labels far enough apart for the phone's larger text; the last one ends at the edge. */
	skip = (int)ceil(76 / bw);
	for (unsigned j = 0; j <= nb; j++) {
		char label[32];

		if (j % (unsigned)skip)
			continue;
		edge_label(hist_slot_lo(lo + j), h->scale, kind, label, sizeof(label));
		fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", ML + j * bw,
			HIST_MT + plot_h, ML + j * bw, HIST_MT + plot_h + 4);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" dy=\"1em\" text-anchor=\"%s\" class=\"small\">%s</text>\n",
			ML + j * bw, HIST_MT + plot_h + 4, j == nb ? "end" : j ? "middle" : "start", label);
	}
	hist_markers(f, h, lo, hi, bw, markers, nmarkers);
	fputs("</svg>\n", f);
}

/* ------------------------------------------------------------------ */
/* Timelines                                                            */
/* ------------------------------------------------------------------ */

static void time_label(double s, double tmax, char *buf, size_t len)
{
	long v = lround(s);

	if (tmax >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
	else
		snprintf(buf, len, "%ld:%02ld", v / 60, v % 60);
}

static void x_grid(FILE *f, double tmax, int plot_h)
{
	static const double steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400,
					21600, 43200, 86400 };
	double step = steps[0];

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && tmax / step > 6; i++)
		step = steps[i];
	for (double t = 0; t <= tmax + 1e-9; t += step) {
		double x = ML + PLOT_W * t / tmax;
		char label[32];

		time_label(t, tmax, label, sizeof(label));
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, LINE_MT, x,
			LINE_MT + plot_h);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" dy=\"1em\" text-anchor=\"%s\" class=\"small\">%s</text>\n", x,
			LINE_MT + plot_h + 3, t + step > tmax + 1e-9 && t > 0 ? "end" : t > 0 ? "middle" : "start", label);
	}
}

static void draw_line(FILE *f, const struct line *l, const double *t, size_t n, double tmax, double ymax,
		      int plot_h)
{
	size_t run = 0;

	for (size_t i = 0; i <= n; i++) {
		bool have = i < n && !isnan(l->y[i]);

		if (have) {
			double x = ML + PLOT_W * t[i] / tmax, y = l->y[i] > ymax ? ymax : l->y[i];

			if (!run)
				fprintf(f, "<polyline class=\"%s\" points=\"", l->cls);
			fprintf(f, "%s%.1f,%.1f", run ? " " : "", x, LINE_MT + plot_h - plot_h * y / ymax);
			run++;
			continue;
		}
		if (run)
			fputs("\"/>\n", f);
		/* A point alone would be an invisible line: a dot instead. */
		if (run == 1) {
			double x = ML + PLOT_W * t[i - 1] / tmax, y = l->y[i - 1] > ymax ? ymax : l->y[i - 1];

			fprintf(f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>\n", l->cls, x,
				LINE_MT + plot_h - plot_h * y / ymax);
		}
		run = 0;
	}
}

void svg_timeline(FILE *f, struct svg_place at, const double *t, size_t n, double tmax, const struct line *lines,
		  size_t nlines, enum value_kind kind, double ymax)
{
	int plot_h = LINE_H - LINE_MT - LINE_MB;
	double lx = CHART_W - MR - 8;

	if (!(tmax > 0))
		tmax = 1;
	svg_open(f, at, "chart", LINE_H, lines[0].name ? lines[0].name : "timeline");
	y_grid(f, LINE_MT, plot_h, ymax, kind, false);
	x_grid(f, tmax, plot_h);
	for (size_t i = 0; i < nlines; i++)
		draw_line(f, &lines[i], t, n, tmax, ymax, plot_h);
	/* The legend, right to left along the top. */
	for (size_t i = nlines; i-- > 0;) {
		if (!lines[i].name || nlines < 2)
			continue;
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" class=\"small\">%s</text>", lx, LINE_MT + 10,
			lines[i].name);
		lx -= 9.0 * (double)strlen(lines[i].name) + 6;
		fprintf(f, "<line class=\"%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", lines[i].cls, lx - 18,
			LINE_MT + 6, lx - 2, LINE_MT + 6);
		lx -= 30;
	}
	fputs("</svg>\n", f);
}
