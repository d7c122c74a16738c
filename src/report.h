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
 * added start, end, target.maxmemory, probe_plan, notes and unavailable;
 * 3 episodes and heat_map.
 */
#define REPORT_SCHEMA 3

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

/* ------------------------------------------------------------------ */
/* Storm episodes and the heat map (report_storm.c)                     */
/* ------------------------------------------------------------------ */

struct episode;
struct episode_cycle;
struct verdict;

/* Why S has no episodes and no heat map (nothing tells evicting calls apart); NULL when it has them. */
const char *storm_unavailable(const struct session *s);
/* The verdict on EP, for S's target. */
void storm_verdict(const struct session *s, const struct episode *ep, struct verdict *v);

/* Seconds for people: "14.6 s", "2m10s", "1h05m"; "?" for NAN. */
void format_seconds(double s, char *buf, size_t len);
/* "growth 2m10s (from 12 MiB), burst 14.6 s, reclaim 35.0 s (to 9 MiB); period 3m00s", what is known of it. */
void cycle_words(const struct episode_cycle *c, double burst_s, char *buf, size_t len);

/* The text block of an episode, printed when it ends. */
void text_episode(FILE *f, const struct session *s, const struct episode *ep);
/* Its JSON object: a line of --json (type "episode") and an item of a snapshot's episodes. */
void json_episode(struct jw *w, const struct session *s, const struct episode *ep);

/* "payers": who rounds ran for (T), what the kernel's table could not hold, rounds whose client was unreadable. */
void json_payers(struct jw *w, const struct payer_top *t, const struct payer_sums *outside, uint64_t unread,
		 bool keys);
/* Why S cannot say who rounds ran for; NULL when it can. */
const char *payers_unavailable(const struct session *s);
/* Every episode that ended at or after FROM_REAL_NS, and the one going on, as an array. */
void json_episodes(struct jw *w, const struct session *s, uint64_t from_real_ns);
/* The heat map's seconds from FROM_REAL_NS on (those with eviction), as an object; null without one. */
void json_heat_map(struct jw *w, const struct session *s, uint64_t from_real_ns);

#endif /* REDPROF_REPORT_H */
