// SPDX-License-Identifier: BSD-3-Clause
/*
 * report_text.c: the text output, in the layout of bcc's funclatency so
 * that people who know it read it at once.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "measures.h"
#include "report.h"

static void stars(FILE *f, uint64_t val, uint64_t max, int width)
{
	int n = max ? (int)((double)val * width / (double)max) : 0;
	bool more = n > width;

	if (more)
		n = width;
	for (int i = 0; i < width; i++)
		fputc(i < n ? '*' : ' ', f);
	if (more)
		fputc('+', f);
}

void text_hist(FILE *f, const struct hist *h, const char *label, bool bytes, int width)
{
	struct hist_row row[EV_SLOTS];
	size_t n = hist_rows(h, bytes, row, EV_SLOTS);
	uint64_t max = 0;

	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		max = row[i].count > max ? row[i].count : max;
	fprintf(f, "%*s%-*s : count    distribution\n", 5, "", 19, label);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%10s -> %-10s : %-8" PRIu64 " |", row[i].lo, row[i].hi, row[i].count);
		stars(f, row[i].count, max, width);
		fputs("|\n", f);
	}
}

static void hist_block(FILE *f, const struct session *s, const struct sample *smp, enum measure m,
		       int unit)
{
	const char *why = measure_unavailable(s, smp, m);
	struct hist h;

	if (why)
		return;
	measure_hist(smp, m, unit, &h);
	if (!h.count)
		return;
	fprintf(f, "\n%s\n", measure_title(s, m));
	text_hist(f, &h, measure_label(m, unit), measure_is_bytes(m), 40);
	if (measure_is_latency(m)) {
		fprintf(f, "avg = %" PRIu64 " %s, total: %" PRIu64 " %s, count: %" PRIu64 "\n",
			h.sum / h.count / h.scale, unit_label(unit), h.sum / h.scale, unit_label(unit), h.count);
	} else {
		fprintf(f, "avg = %" PRIu64 " %s, min: %" PRIu64 ", max: %" PRIu64 ", count: %" PRIu64 "\n",
			h.sum / h.count, measure_label(m, unit), h.min, h.max, h.count);
	}
}

static double per_sec(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0;
}

/* What redprof's probes cost Redis: hits, per command, and the CPU they take from its main thread. */
static void text_cost(FILE *f, const struct session *s, const struct sample *smp)
{
	uint64_t by_class[SITE_NCLASSES], hits = 0;
	double ns = session__probe_cpu_ns(s, smp);

	session__hits_by_class(s, smp, by_class);
	for (int c = 0; c < SITE_NCLASSES; c++)
		hits += by_class[c];
	fprintf(f, "redprof's probes (%s plan): %.0f hits/s", s->plan.light ? "light" : "full", per_sec(hits, smp->ns));
	if (smp->commands)
		fprintf(f, ", %.2f per command", (double)hits / (double)smp->commands);
	fprintf(f, ", about %.2f ms of Redis CPU/s (%.2f%% of its main thread)\n", per_sec((uint64_t)ns, smp->ns) / 1e6,
		smp->ns ? 100 * ns / (double)smp->ns : 0);
}

/* One pair's words: "set by setter (id 7)", "no client (the eviction timer)". */
static void payer_words(const struct payer_row *r, char *buf, size_t len)
{
	if (!r->client_id && !r->cmd)
		snprintf(buf, len, "no client (the eviction timer)");
	else
		snprintf(buf, len, "%s by %s%s(id %" PRIu64 ")", r->command[0] ? r->command : "?",
			 r->client[0] ? r->client : "", r->client[0] ? " " : "", r->client_id);
}

/* Who the rounds ran for, the pairs with most rounds first; nothing when none evicted. */
static void text_payers(FILE *f, const struct session *s, const struct sample *smp)
{
	const struct payer_top *t = &smp->payers;
	uint64_t others = t->rest.rounds + smp->outside.rounds;
	char who[128], d[32];

	if (payers_unavailable(s) || !t->n)
		return;
	fputs("rounds ran for:", f);
	for (uint32_t i = 0; i < t->n; i++) {
		if (i >= 3) {
			others += t->row[i].rounds;
			continue;
		}
		payer_words(&t->row[i], who, sizeof(who));
		format_seconds((double)t->row[i].ns / 1e9, d, sizeof(d));
		fprintf(f, "%s %s %" PRIu64 " (%s)", i ? ";" : "", who, t->row[i].rounds, d);
	}
	if (others)
		fprintf(f, "; others %" PRIu64, others);
	fputc('\n', f);
}

void text_sample(FILE *f, const struct session *s, const struct sample *smp, int unit, bool is_total)
{
	static const char *const modern[] = { "EVICT_OK", "EVICT_RUNNING", "EVICT_FAIL" };
	const char *why;
	char when[16];
	time_t sec = (time_t)(smp->end_real_ns / 1000000000ULL);
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (is_total)
		fprintf(f, "\n== total over %.1f s ==\n", (double)smp->ns / 1e9);
	else
		fprintf(f, "\n%s\n", when);
	if (s->offsets_forced[0])
		fprintf(f, "offsets FORCED with --force-offsets: %s\n", s->offsets_forced);
	if (measure_unavailable(s, smp, M_COMMANDS))
		fputs("commands: unavailable", f);
	else
		fprintf(f, "commands: %.0f/s", per_sec(smp->commands, smp->ns));
	/* The light plan counts calls as commands. */
	if (s->plan.light && measure_unavailable(s, smp, M_COMMANDS))
		fprintf(f, "   %s calls: unavailable", target__evict_name(s->t));
	else
		fprintf(f, "   %s calls: %.0f/s", target__evict_name(s->t), per_sec(smp->calls, smp->ns));
	if (!measure_unavailable(s, smp, M_EVICTING_CALLS))
		fprintf(f, "   evicting calls: %.0f/s", per_sec(smp->evicting_calls, smp->ns));
	if (!measure_unavailable(s, smp, M_KEYS_EVICTED))
		fprintf(f, "   keys evicted: %.0f/s", per_sec(smp->keys_evicted, smp->ns));
	fprintf(f, "   time in eviction: %.1f%%\n", 100 * sample_evict_share(smp));
	if (smp->calls) {
		/* The light plan sees the outcome of evicting calls only. */
		fputs(s->plan.light ? "returns of evicting calls:" : "returns:", f);
		if (s->t->legacy)
			fprintf(f, " C_OK %" PRIu64 "  C_ERR %" PRIu64, smp->returns[EV_RET_0],
				smp->returns[EV_RET_MINUS1]);
		else
			for (int i = 0; i < 3; i++)
				fprintf(f, " %s %" PRIu64, modern[i], smp->returns[i]);
		fputc('\n', f);
	}
	text_payers(f, s, smp);
	why = session__why_no_evictions(s, smp);
	if (why)
		fprintf(f, "%s\n", why);
	/* Values that were there before and are not now: say why, once per sample. */
	for (enum measure m = 0; m < M_NMEASURES; m++)
		if (measure_lost(smp, m))
			fprintf(f, "%s unavailable: %s\n", measure_name(m), measure_unavailable(s, smp, m));
	text_cost(f, s, smp);
	for (enum measure m = 0; m < M_NHISTS; m++)
		hist_block(f, s, smp, m, unit);
	fflush(f);
}
