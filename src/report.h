/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report.h: line outputs of a session: funclatency-style text and JSON
 * Lines (schema in redprof(8)), plus the snapshot file both the UI and
 * exports write.
 */
#ifndef REDPROF_REPORT_H
#define REDPROF_REPORT_H

#include <stdio.h>

#include "json.h"
#include "sample.h"
#include "session.h"

/* Version of the JSON schema; later versions only add keys. */
#define REPORT_SCHEMA 1

/* One funclatency-style histogram: "     usecs : count distribution" rows with star bars. */
void text_hist(FILE *f, const struct hist *h, const char *label, bool bytes, int stars);
/* Byte count with a K/M/G/T suffix when it is a whole multiple ("16K", "3M", "1500"). */
void format_bytes(uint64_t v, char *buf, size_t len);

/* Text: INTERVAL or TOTAL (is_total) block. */
void text_sample(FILE *f, const struct session *s, const struct sample *smp, int unit, bool is_total);

/* JSON object of one sample, type "interval" or "total". */
void json_sample(struct jw *w, const struct session *s, const struct sample *smp, int unit,
		 const char *type);

/* The snapshot file: {"schema", "redprof", "target", "intervals", "total"}. */
void json_snapshot(struct jw *w, const struct session *s, const char *const *intervals,
		   size_t nintervals, size_t dropped, const struct sample *total, int unit);

#endif /* REDPROF_REPORT_H */
