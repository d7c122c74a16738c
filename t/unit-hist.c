// SPDX-License-Identifier: BSD-3-Clause
/*
 * unit-hist.c: log2 bucketing, snapshot-and-subtract, and the
 * funclatency-style rendering of histograms.
 */
#include "config.h"

#include <stdlib.h>

#include "hist.h"
#include "report.h"
#include "sample.h"
#include "tap.h"

static void test_slots(void)
{
	is_u64(hist_slot(0), 0, "0 is in slot 0");
	is_u64(hist_slot(1), 0, "1 is in slot 0");
	is_u64(hist_slot(2), 1, "2 starts slot 1");
	is_u64(hist_slot(3), 1, "3 is in slot 1");
	is_u64(hist_slot(1023), 9, "1023 is in slot 9");
	is_u64(hist_slot(1024), 10, "1024 starts slot 10");
	is_u64(hist_slot(UINT64_MAX), 63, "the largest value is in slot 63");
	is_u64(hist_slot_lo(0), 0, "slot 0 starts at 0");
	is_u64(hist_slot_hi(0), 2, "slot 0 ends before 2");
	is_u64(hist_slot_lo(10), 1024, "slot 10 starts at 1024");
	is_u64(hist_slot_hi(10), 2048, "slot 10 ends before 2048: twice the previous range");
	is_u64(hist_slot_hi(63), UINT64_MAX, "the top slot's high bound saturates");

	/* Every value lies in [lo, hi) of its slot. */
	int bad = 0;
	for (uint64_t v = 0; v < 100000; v += 7)
		if (v < hist_slot_lo(hist_slot(v)) || v >= hist_slot_hi(hist_slot(v)))
			bad++;
	ok(!bad, "every value lies within its slot's bounds");
}

static void test_delta(void)
{
	struct ev_totals prev = { 0 }, cur = { 0 };
	struct ev_extrema mm;
	struct sample s;

	sample_extrema_init(&mm);

	prev.calls = 100;
	prev.lat[EV_NOOP].slots[EV_NSEC][11] = 90;
	prev.lat[EV_NOOP].sum_ns = 90 * 3000;
	prev.var[EV_MEM_TOFREE].slots[15] = 4;
	prev.var[EV_MEM_TOFREE].sum = 4 * 40000;
	cur = prev;
	/* Counts that arrived after the previous snapshot. */
	cur.calls = 130;
	cur.lat[EV_NOOP].slots[EV_NSEC][11] = 110;
	cur.lat[EV_NOOP].sum_ns += 20 * 3000;
	cur.lat[EV_ACTIVE].slots[EV_NSEC][19] = 10;
	cur.lat[EV_ACTIVE].sum_ns = 10 * 600000;
	mm.lat[EV_NOOP].min = 2500;
	mm.lat[EV_NOOP].max = 3900;
	mm.lat[EV_ACTIVE].min = 550000;
	mm.lat[EV_ACTIVE].max = 700000;

	sample_delta(&s, &cur, &prev, &mm);
	is_u64(s.calls, 30, "calls are the difference of two snapshots");
	is_u64(s.lat[EV_NOOP].count, 20, "no-op latency counts only the new calls");
	is_u64(s.lat[EV_ACTIVE].count, 10, "evicting latency counts the new calls");
	is_u64(s.lat_all.count, 30, "overall latency merges both phases");
	is_u64(s.lat_all.sum_ns, 20 * 3000 + 10 * 600000, "overall sum adds both phases");
	is_u64(s.lat_all.min_ns, 2500, "overall min is the smaller min");
	is_u64(s.lat_all.max_ns, 700000, "overall max is the larger max");
	is_u64(s.var[EV_MEM_TOFREE].count, 0, "an unchanged histogram has no new counts");
	ok(s.lat_all.min_ns * s.lat_all.count <= s.lat_all.sum_ns &&
	   s.lat_all.sum_ns <= s.lat_all.max_ns * s.lat_all.count, "mean lies between min and max");

	struct hist h;
	lat_view(&s.lat_all, EV_USEC, &h);
	is_u64(h.scale, 1000, "a microsecond view has 1000 ns per unit");
}

static char *render(const struct hist *h, const char *label, bool bytes)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	text_hist(f, h, label, bytes, 40);
	fclose(f);
	return buf;
}

static void test_render(void)
{
	struct hist h;
	char *out, b[32];

	hist_init(&h, 1);
	for (int i = 0; i < 30; i++)
		hist_add(&h, 3);
	for (int i = 0; i < 15; i++)
		hist_add(&h, 300);
	out = render(&h, "usecs", false);
	is_str(out,
	       "     usecs               : count    distribution\n"
	       "         2 -> 3          : 30       |****************************************|\n"
	       "         4 -> 7          : 0        |                                        |\n"
	       "         8 -> 15         : 0        |                                        |\n"
	       "        16 -> 31         : 0        |                                        |\n"
	       "        32 -> 63         : 0        |                                        |\n"
	       "        64 -> 127        : 0        |                                        |\n"
	       "       128 -> 255        : 0        |                                        |\n"
	       "       256 -> 511        : 15       |********************                    |\n",
	       "time rows: funclatency's inclusive ranges, empty rows inside the range kept");
	free(out);

	hist_init(&h, 1);
	hist_add(&h, 20000);
	hist_add(&h, 40000);
	hist_add(&h, 50000);
	out = render(&h, "bytes", true);
	is_str(out,
	       "     bytes               : count    distribution\n"
	       "       16K -> 32K        : 1        |********************                    |\n"
	       "       32K -> 64K        : 2        |****************************************|\n",
	       "byte rows carry K/M/G labels");
	free(out);

	hist_init(&h, 1);
	out = render(&h, "bytes", true);
	is_str(out, "", "an empty histogram prints nothing");
	free(out);

	format_bytes(1536, b, sizeof(b));
	is_str(b, "1536", "a non-multiple of 1024 stays in bytes");
	format_bytes(3ULL << 30, b, sizeof(b));
	is_str(b, "3G", "3 GiB prints as 3G");
	format_bytes(0, b, sizeof(b));
	is_str(b, "0", "zero prints as 0");
}

int main(void)
{
	test_slots();
	test_delta();
	test_render();
	return tap_done();
}
