/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report_html_storm.h: the report's storm sections: the episodes with
 * their cycle and verdict, and the sub-second heat map as SVG
 * (flamescope's picture: a column a second, 20 ms rows, colour the share
 * of each the main thread spent evicting), for one capture or for a
 * before and an after; on the HTML page, or on the chart sheet.
 */
#ifndef REDPROF_REPORT_HTML_STORM_H
#define REDPROF_REPORT_HTML_STORM_H

#include <stddef.h>
#include <stdio.h>

#include "snapshot.h"

/* The sections' own style, for the page's <style>; the heat map's, for the page's and the sheet's. */
extern const char storm_css[];
extern const char heat_css[];

/* The episodes and heat-map sections of snapshots S[0..N), named NAMES[i] (NULL alone). */
void storm_html(FILE *f, const struct snapshot *const *s, const char *const *names, size_t n);

/*
 * The same on the chart sheet from Y down (the episodes only when there
 * are any); returns the y below them.
 */
double storm_sheet(FILE *f, const struct snapshot *const *s, const char *const *names, size_t n, double y);

#endif /* REDPROF_REPORT_HTML_STORM_H */
