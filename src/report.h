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

/*
 * Version of the snapshot file's schema; later versions only add keys. 2
 * added start, end, target.maxmemory, probe_plan, notes and unavailable.
 */
#define REPORT_SCHEMA 2

/* One funclatency-style histogram: "     usecs : count distribution" rows with star bars. */
void text_hist(FILE *f, const struct hist *h, const char *label, bool bytes, int stars);
/* Byte count with a K/M/G/T suffix when it is a whole multiple ("16K", "3M", "1500"). */

/* Text: INTERVAL or TOTAL (is_total) block. */
void text_sample(FILE *f, const struct session *s, const struct sample *smp, int unit, bool is_total);

/* JSON object of one sample, type "interval" or "total". */
void json_sample(struct jw *w, const struct session *s, const struct sample *smp, int unit,
		 const char *type);

/*
 * The snapshot file's header, from {"schema" to the key "intervals"; the
 * caller writes the intervals, the key "total" and the total, and closes
 * the object. TOTAL is the sum of the intervals, which began at START_REAL_NS.
 */
void json_snapshot_head(struct jw *w, const struct session *s, const struct sample *total,
			uint64_t start_real_ns, size_t dropped);

#endif /* REDPROF_REPORT_H */
