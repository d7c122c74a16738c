/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report_html.h: the incident report of `redprof report`: one
 * self-contained HTML page (inline SVG and CSS, no script, nothing fetched)
 * with the target's facts, each histogram with its percentiles, and the
 * timelines of the capture; given two captures, before and after side by
 * side with the change of each percentile. Or the charts alone, as one
 * SVG sheet.
 */
#ifndef REDPROF_REPORT_HTML_H
#define REDPROF_REPORT_HTML_H

#include <stdio.h>

#include "snapshot.h"

enum report_output { REPORT_HTML, REPORT_SVG };

/* The report of A, or of A (before) against B (after) when B is not NULL. */
void report_write(FILE *f, enum report_output out, const struct snapshot *a, const struct snapshot *b);

#endif /* REDPROF_REPORT_HTML_H */
