// SPDX-License-Identifier: BSD-3-Clause
/*
 * hist.c: log2 histogram arithmetic. The kernel only ever adds; user space
 * takes cumulative snapshots and subtracts, so no count is lost between a
 * read and a reset.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hist.h"

unsigned hist_slot(uint64_t v)
{
	return v < 2 ? 0 : 63 - (unsigned)__builtin_clzll(v);
}

uint64_t hist_slot_lo(unsigned slot)
{
	return slot ? 1ULL << slot : 0;
}

uint64_t hist_slot_hi(unsigned slot)
{
	return slot >= 63 ? UINT64_MAX : 1ULL << (slot + 1);
}

uint64_t hist_slot_max(unsigned slot)
{
	return slot >= 63 ? UINT64_MAX : hist_slot_hi(slot) - 1;
}

void hist_init(struct hist *h, uint64_t scale)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
	h->scale = scale ? scale : 1;
}

void hist_add(struct hist *h, uint64_t v)
{
	h->slots[hist_slot(v / h->scale)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

static void set_extremes(uint64_t count, const struct ev_minmax *mm, uint64_t *min, uint64_t *max)
{
	if (!count || !mm || mm->min > mm->max) {
		*min = UINT64_MAX;
		*max = 0;
		return;
	}
	*min = mm->min;
	*max = mm->max;
}

void hist_delta(struct hist *h, const struct ev_hist *cur, const struct ev_hist *prev,
		const struct ev_minmax *mm)
{
	hist_init(h, 1);
	for (unsigned i = 0; i < EV_SLOTS; i++) {
		h->slots[i] = cur->slots[i] - (prev ? prev->slots[i] : 0);
		h->count += h->slots[i];
	}
	h->sum = cur->sum - (prev ? prev->sum : 0);
	set_extremes(h->count, mm, &h->min, &h->max);
}

void lat_delta(struct lat_hist *h, const struct ev_lat_hist *cur, const struct ev_lat_hist *prev,
	       const struct ev_minmax *mm)
{
	memset(h, 0, sizeof(*h));
	for (unsigned u = 0; u < EV_NUNITS; u++)
		for (unsigned i = 0; i < EV_SLOTS; i++)
			h->slots[u][i] = cur->slots[u][i] - (prev ? prev->slots[u][i] : 0);
	for (unsigned i = 0; i < EV_SLOTS; i++)
		h->count += h->slots[EV_NSEC][i];
	h->sum_ns = cur->sum_ns - (prev ? prev->sum_ns : 0);
	set_extremes(h->count, mm, &h->min_ns, &h->max_ns);
}

void hist_merge(struct hist *dst, const struct hist *a, const struct hist *b)
{
	struct hist r = *a;

	for (unsigned i = 0; i < EV_SLOTS; i++)
		r.slots[i] += b->slots[i];
	r.count += b->count;
	r.sum += b->sum;
	r.min = a->min < b->min ? a->min : b->min;
	r.max = a->max > b->max ? a->max : b->max;
	*dst = r;
}

void lat_merge(struct lat_hist *dst, const struct lat_hist *a, const struct lat_hist *b)
{
	struct lat_hist r;

	for (unsigned u = 0; u < EV_NUNITS; u++)
		for (unsigned i = 0; i < EV_SLOTS; i++)
			r.slots[u][i] = a->slots[u][i] + b->slots[u][i];
	r.count = a->count + b->count;
	r.sum_ns = a->sum_ns + b->sum_ns;
	r.min_ns = a->min_ns < b->min_ns ? a->min_ns : b->min_ns;
	r.max_ns = a->max_ns > b->max_ns ? a->max_ns : b->max_ns;
	*dst = r;
}

void lat_view(const struct lat_hist *l, int unit, struct hist *out)
{
	hist_init(out, unit_scale(unit));
	memcpy(out->slots, l->slots[unit], sizeof(out->slots));
	out->count = l->count;
	out->sum = l->sum_ns;
	out->min = l->min_ns;
	out->max = l->max_ns;
}

/* Bucket I's le in base units: its largest value. */
static double bucket_le(const struct hist *h, unsigned i)
{
	return (double)hist_slot_max(i) * (double)h->scale + (double)(h->scale - 1);
}

double hist_quantile(const struct hist *h, double q)
{
	uint64_t total = 0, below = 0;
	double rank;

	for (unsigned i = 0; i < EV_SLOTS; i++)
		total += h->slots[i];
	if (!total || q < 0 || q > 1)
		return NAN;
	rank = q * (double)total;
	for (unsigned i = 0; i < EV_SLOTS; i++) {
		double start = i ? bucket_le(h, i - 1) : 0;

		if ((double)(below + h->slots[i]) < rank) {
			below += h->slots[i];
			continue;
		}
		if (!h->slots[i])
			return start;
		return start + (bucket_le(h, i) - start) * ((rank - (double)below) / (double)h->slots[i]);
	}
	return bucket_le(h, EV_SLOTS - 1);
}

void format_bytes(uint64_t v, char *buf, size_t len)
{
	static const char suffix[] = "KMGTPE";
	int i = -1;

	while (v && v % 1024 == 0 && i < 5) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 "%c", v, suffix[i]);
}

size_t hist_rows(const struct hist *h, bool bytes, struct hist_row *row, size_t max)
{
	uint64_t lo[EV_SLOTS], hi[EV_SLOTS];
	unsigned first, last;
	size_t n = 0, k = 0, cut;

	if (!max || !hist_range(h, &first, &last))
		return 0;
	for (unsigned i = first; i <= last; i++) {
		lo[n] = hist_slot_lo(i);
		hi[n] = hist_slot_hi(i);
		row[n++] = (struct hist_row){ .count = h->slots[i] };
	}
	if (n > max) {
		for (size_t i = 0; i < n; i++)
			if (row[i].count) {
				lo[k] = lo[i];
				hi[k] = hi[i];
				row[k++] = row[i];
			}
		n = k;
	}
	if (n > max) {
		cut = n - max + 1;
		for (size_t i = 1; i < cut; i++)
			row[0].count += row[i].count;
		hi[0] = hi[cut - 1];
		row[0].merged = true;
		memmove(row + 1, row + cut, (n - cut) * sizeof(*row));
		memmove(lo + 1, lo + cut, (n - cut) * sizeof(*lo));
		memmove(hi + 1, hi + cut, (n - cut) * sizeof(*hi));
		n = max;
	}
	for (size_t i = 0; i < n; i++) {
		if (bytes) {
			/* Byte rows name the bucket's bounds; the upper one belongs to the next row. */
			format_bytes(lo[i], row[i].lo, sizeof(row[i].lo));
			format_bytes(hi[i], row[i].hi, sizeof(row[i].hi));
		} else {
			snprintf(row[i].lo, sizeof(row[i].lo), "%" PRIu64, lo[i]);
			snprintf(row[i].hi, sizeof(row[i].hi), "%" PRIu64, hi[i] - 1);
		}
	}
	return n;
}

double hist_percentile(const struct hist *h, double q)
{
	double v = hist_quantile(h, q);

	if (!isnan(v) && v > (double)h->max)
		v = (double)h->max;
	if (!isnan(v) && v < (double)h->min)
		v = (double)h->min;
	return v;
}

bool hist_range(const struct hist *h, unsigned *lo, unsigned *hi)
{
	int first = -1, last = -1;

	for (int i = 0; i < EV_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
	}
	if (first < 0)
		return false;
	*lo = (unsigned)first;
	*hi = (unsigned)last;
	return true;
}

static const char *const unit_names[EV_NUNITS] = { "ns", "us", "ms" };
static const char *const unit_labels[EV_NUNITS] = { "nsecs", "usecs", "msecs" };
static const uint64_t unit_scales[EV_NUNITS] = { 1, 1000, 1000000 };

const char *unit_name(int unit)
{
	return unit_names[unit];
}

const char *unit_label(int unit)
{
	return unit_labels[unit];
}

uint64_t unit_scale(int unit)
{
	return unit_scales[unit];
}

int unit_parse(const char *s)
{
	for (int i = 0; i < EV_NUNITS; i++)
		if (!strcmp(s, unit_names[i]))
			return i;
	return -1;
}
