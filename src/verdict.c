// SPDX-License-Identifier: BSD-3-Clause
/*
 * verdict.c: the rules of verdict.h, and their words.
 *
 * getMaxmemoryState() subtracts the overhead from the memory it compares
 * with maxmemory, so AOF and replication buffers never trigger a round
 * themselves: what they do is keep the server's used_memory, and the
 * host's memory, above maxmemory by their size, where eviction cannot
 * reach. The words say that rather than call them a cause.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report_svg.h"
#include "verdict.h"

const char *verdict_pace_name(enum verdict_pace p)
{
	return p == PACE_FALLING_BEHIND ? "falling_behind" : "keeping_up";
}

static void say(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct verdict *v, const char *fmt, ...)
{
	size_t len = strlen(v->text);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->text + len, sizeof(v->text) - len, fmt, ap);
	va_end(ap);
}

static double pct(uint64_t n, uint64_t of)
{
	return of ? 100.0 * (double)n / (double)of : 0;
}

static void pace(const struct episode *ep, bool legacy, struct verdict *v)
{
	uint64_t running = ep->returns[EV_RET_1], refused = ep->returns[EV_RET_2] + ep->returns[EV_RET_MINUS1];
	bool worst = ep->worst_rounds && (double)ep->worst_running >= VERDICT_RUNNING_SHARE * (double)ep->worst_rounds;
	char n[32], of[32];

	v->pace = refused || worst ? PACE_FALLING_BEHIND : PACE_KEEPING_UP;
	if (v->pace == PACE_KEEPING_UP)
		say(v, "eviction %s", ep->ongoing ? "is keeping up" : "kept up");
	else
		say(v, "eviction %s", ep->ongoing ? "is falling behind" : "fell behind");
	format_count(running, n, sizeof(n));
	format_count(ep->evicting_calls, of, sizeof(of));
	if (!running)
		say(v, ": no round hit its time limit");
	else if (!worst)
		say(v, ": %s of %s rounds (%.2g%%) hit the time limit, at most %.2g%% of an interval's", n, of,
		    pct(running, ep->evicting_calls), pct(ep->worst_running, ep->worst_rounds));
	else
		say(v, ": %s of %s rounds (%.2g%%) hit the time limit and left the rest to the background cycle "
		    "(EVICT_RUNNING), %.2g%% of the rounds of its worst interval", n, of,
		    pct(running, ep->evicting_calls), pct(ep->worst_running, ep->worst_rounds));
	format_count(refused, n, sizeof(n));
	if (refused)
		say(v, "; %s commands were refused with OOM (%s)", n, legacy ? "C_ERR" : "EVICT_FAIL");
	else
		say(v, "; no command was refused");
}

static void outside(const struct episode *ep, const char *no_overhead, struct verdict *v)
{
	double mean, growth, limit;
	char a[32], b[32], c[32];

	v->outside = -1;
	if (no_overhead) {
		v->outside_why = no_overhead;
		return;
	}
	if (ep->maxmemory <= 0 || !ep->overhead.count || isnan(ep->overhead_first)) {
		v->outside_why = ep->maxmemory <= 0 ? "maxmemory could not be read" : "no round read the overhead";
		return;
	}
	mean = (double)ep->overhead.sum / (double)ep->overhead.count;
	growth = ep->overhead_peak - ep->overhead_first;
	limit = VERDICT_OVERHEAD_SHARE * (double)ep->maxmemory;
	v->outside = mean >= limit || growth >= limit;
	if (!v->outside)
		return;
	format_value(mean, VK_BYTES, a, sizeof(a));
	format_value((double)ep->overhead.max, VK_BYTES, b, sizeof(b));
	say(v, "; pressure from outside the dataset: AOF and replication buffers (overhead) averaged %s a round, "
	    "%.1f%% of maxmemory, up to %s", a, 100 * mean / (double)ep->maxmemory, b);
	if (growth >= limit) {
		format_value(ep->overhead_first, VK_BYTES, a, sizeof(a));
		format_value(ep->overhead_peak, VK_BYTES, c, sizeof(c));
		say(v, ", growing from %s in its first interval to %s", a, c);
	}
	say(v, "; Redis does not count them against maxmemory, so eviction cannot free them and used_memory "
	    "runs that much above it");
}

static void backlog(const struct episode *ep, const char *no_clients, struct verdict *v)
{
	int64_t base = ep->clients_before >= 0 ? ep->clients_before : ep->clients_first;
	char a[32], b[32], c[32];
	double growth;

	v->backlog = -1;
	if (no_clients) {
		v->backlog_why = no_clients;
		return;
	}
	if (ep->maxmemory <= 0 || base < 0 || ep->clients_peak < 0) {
		v->backlog_why = ep->maxmemory <= 0 ? "maxmemory could not be read"
						    : "the clients' memory could not be read in it";
		return;
	}
	growth = (double)(ep->clients_peak - base);
	v->backlog = growth >= VERDICT_BACKLOG_SHARE * (double)ep->maxmemory;
	if (!v->backlog)
		return;
	format_value((double)base, VK_BYTES, a, sizeof(a));
	format_value((double)ep->clients_peak, VK_BYTES, b, sizeof(b));
	say(v, "; a backlog feedback loop: normal clients' buffers grew from %s to %s during the burst "
	    "(%.1f%% of maxmemory)", a, b, 100 * growth / (double)ep->maxmemory);
	if (ep->clients_after >= 0) {
		format_value((double)ep->clients_after, VK_BYTES, c, sizeof(c));
		say(v, " and were %s after it", c);
	}
	say(v, "; used_memory counts them and eviction cannot free them, so rounds evicted keys to make room for "
	    "the backlog their own cost built");
}

void verdict_of(const struct episode *ep, bool legacy, const char *no_overhead, const char *no_clients,
		struct verdict *out)
{
	memset(out, 0, sizeof(*out));
	pace(ep, legacy, out);
	outside(ep, no_overhead, out);
	backlog(ep, no_clients, out);
}
