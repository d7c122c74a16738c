/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * openmetrics.h: a capture in OpenMetrics text 1.0.0, as /metrics serves
 * it and as `--export FILE --format openmetrics` writes it. Each histogram
 * of measures.h is a classic histogram and each series of series.h a
 * counter or gauge, every sample labelled with the target's pid, build_id
 * and redis_version. Values are cumulative since redprof attached.
 *
 * redprof's log2 buckets hold integers in [lo, hi); Prometheus's le is
 * inclusive, so a bucket's le is its largest value, hi - 1, in base units
 * (seconds, bytes): a value on a power of two lands in the same bucket on
 * both sides.
 */
#ifndef REDPROF_OPENMETRICS_H
#define REDPROF_OPENMETRICS_H

#include <stdint.h>
#include <stdio.h>

#include "sample.h"
#include "session.h"

#define OM_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Families are numbered 0 .. om_families() - 1; each is written as its metadata, then its points. */
size_t om_families(void);

/* A family's # TYPE, # UNIT and # HELP lines (none for a family not exported). */
void om_family_meta(FILE *f, const struct session *s, size_t fam);

/*
 * The family's samples for the cumulative sample CUM, stamped with its end
 * time when STAMPED (an export file; /metrics leaves the time to the scraper).
 */
void om_family_points(FILE *f, const struct session *s, size_t fam, const struct sample *cum, bool stamped);

/* Every family at one point, then # EOF: the /metrics page. */
void om_page(FILE *f, const struct session *s, const struct sample *cum);

/* The largest value of log2 bucket SLOT in base units, as le: "1023", or "0.000001023" for ns in seconds. */
void om_le(unsigned slot, bool ns_in_seconds, char *buf, size_t len);

#endif /* REDPROF_OPENMETRICS_H */
