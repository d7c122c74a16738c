/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export.h: a capture written as one file for the incident report, in
 * one of three formats documented in redprof(8), EXPORT FORMATS: the
 * snapshot JSON (the UI's `s` writes it too), CSV for pandas and
 * spreadsheets, and OpenMetrics text with timestamps, which Prometheus
 * tools can backfill from.
 */
#ifndef REDPROF_EXPORT_H
#define REDPROF_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "capture.h"
#include "session.h"

enum export_format { EXPORT_JSON, EXPORT_CSV, EXPORT_OPENMETRICS, EXPORT_NFORMATS };

/* Version of the CSV columns; later versions only add columns at the end. */
#define EXPORT_CSV_VERSION 1

/* "json", "csv", "openmetrics" and back; -1 when unknown. */
const char *export_format_name(enum export_format f);
int export_format_parse(const char *s);
/* The format a file name asks for by its extension (.json, .csv, .om, .openmetrics); -1 when none. */
int export_format_of_path(const char *path);

/*
 * Writes RUN of capture C to F in FMT, latency histograms in UNIT (JSON,
 * CSV; OpenMetrics always uses seconds). 0, or -errno when the capture's
 * spool cannot be read back (F's own errors are the caller's to check).
 */
int export_write(FILE *f, enum export_format fmt, const struct session *s, const struct capture *c,
		 const struct capture_run *run, int unit);

#endif /* REDPROF_EXPORT_H */
