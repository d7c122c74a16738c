/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * series.h: the scalar series of a sample (counters and gauges) in one
 * table. The JSON, CSV and OpenMetrics writers iterate it, so a series
 * added here appears in all three under names that agree: its JSON key
 * (a dotted path for nested objects, "probe_hits.by_site"), the same path
 * in CSV, and "redprof_" + its name as an OpenMetrics family. Histograms
 * come from measures.h the same way.
 */
#ifndef REDPROF_SERIES_H
#define REDPROF_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sample.h"
#include "session.h"

enum series_kind { SERIES_COUNTER, SERIES_GAUGE };

/* One value of a series; a labelled series has one per label value. */
struct series_value {
	char label[96];		/* the label's value ("EVICT_OK", a site's name); "" when unlabelled */
	bool real;		/* d holds it (a ratio), else u */
	uint64_t u;
	double d;
};

#define SERIES_MAX_VALUES EV_MAX_SITES

struct series {
	const char *path;	/* JSON key or dotted path: "commands", "probe_hits.by_site" */
	const char *label;	/* OpenMetrics label name of a labelled series ("site"), else NULL */
	const char *metric;	/* OpenMetrics family; NULL: not exported there */
	const char *unit;	/* OpenMetrics unit ("bytes"), "" for none */
	enum series_kind kind;
	const char *help;	/* OpenMetrics HELP: what it counts */
	/*
	 * Fills OUT with the values of S's sample SMP: none when the value is
	 * unknown or unavailable (then it is absent, never zero). Returns how many.
	 */
	size_t (*values)(const struct session *s, const struct sample *smp, struct series_value *out);
};

/* Calls by return value RETURNS, labelled as the "returns" series labels them (an episode's, too). */
size_t series_returns(const struct session *s, const uint64_t returns[EV_NRETS], struct series_value *out);

extern const struct series series_table[];
extern const size_t series_count;

#endif /* REDPROF_SERIES_H */
