// SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0)
/*
 * evict.bpf.c: uprobes on Redis's eviction function.
 *
 * Everything is aggregated here, in the kernel: call counts, log2
 * histograms of performEvictions() latency (split by whether the call
 * reached the eviction path) and of getMaxmemoryState()'s variables read
 * at instruction-offset sites. Nothing per event goes to user space; it
 * snapshots `totals` each interval and subtracts the previous snapshot.
 *
 * Every attachment carries a BPF cookie: the index of its site in `sites`,
 * which says what a hit there means and how to compute values from the
 * registers and memory of the traced thread.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "evict.h"

/* Set by user space between open and load: the verifier sees constants. */
const volatile __u32 targ_tgid = 0;
const volatile __u64 evictedkeys_addr = 0;	/* &server.stat_evictedkeys, 0 if unknown */
const volatile struct ev_site sites[EV_MAX_SITES] = {};

struct ev_totals totals = {};
struct ev_extrema extrema[EV_EPOCHS] = {};	/* user space resets slots */
__u32 epoch = 0;				/* user space advances it each interval */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct ev_call);
} calls SEC(".maps");

/*
 * Slot of V in a log2 histogram: floor(log2(V)), 0 for 0 and 1. A global
 * function, so the verifier checks it once instead of on every path.
 */
__noinline __u32 log2_slot(__u64 v)
{
	__u32 r, shift;

	r = (v > 0xFFFFFFFFULL) << 5; v >>= r;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* The caller's view of a global function's result is unbounded: bound it here. */
static __always_inline __u32 slot_of(__u64 v)
{
	return log2_slot(v) & (EV_SLOTS - 1);
}

static __always_inline void minmax_add(struct ev_minmax *m, __u64 v)
{
	if (v < m->min)
		m->min = v;
	if (v > m->max)
		m->max = v;
}

/* The interval slot being filled; user space flips `epoch` and then reads the other. */
static __always_inline struct ev_extrema *extrema_now(void)
{
	__u32 e = *(volatile __u32 *)&epoch & 1;

	return &extrema[e];
}

static __always_inline void hist_add(struct ev_hist *h, __u64 v)
{
	__sync_fetch_and_add(&h->slots[slot_of(v)], 1);
	__sync_fetch_and_add(&h->sum, v);
}

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

static __always_inline __u32 site_index(struct pt_regs *ctx)
{
	return bpf_get_attach_cookie(ctx) & 0xffffffff;
}

static __always_inline void count_hit(__u32 idx)
{
	if (idx < EV_MAX_SITES)
		__sync_fetch_and_add(&totals.hits[idx], 1);
}

/*
 * The registers as an array indexed by enum ev_reg. The verifier forbids
 * reading the context at a variable offset, so expressions read a copy.
 */
struct regs_copy {
	__u64 r[EV_NREGS];
};
_Static_assert(sizeof(struct pt_regs) == sizeof(struct regs_copy), "enum ev_reg must follow struct pt_regs");

static __always_inline __u64 reg_value(const struct regs_copy *regs, __u8 reg)
{
	return reg < EV_NREGS ? regs->r[reg] : 0;
}

/* Evaluates one expression; false when a memory term cannot be read. */
static __always_inline bool expr_eval(const struct regs_copy *regs, const volatile struct ev_expr *e,
				      __u64 *out)
{
	__u64 sum = 0, v, addr;

#pragma unroll
	for (int i = 0; i < EV_MAX_TERMS; i++) {
		const volatile struct ev_term *t = &e->t[i];
		__u8 kind = t->kind;

		if (kind == EV_TERM_REG) {
			v = reg_value(regs, t->reg);
		} else if (kind == EV_TERM_MEM_REG || kind == EV_TERM_MEM_ABS) {
			addr = t->off;
			if (kind == EV_TERM_MEM_REG)
				addr += reg_value(regs, t->reg);
			if (bpf_probe_read_user(&v, sizeof(v), (const void *)addr))
				return false;
		} else {
			continue;
		}
		sum += t->sign < 0 ? -v : v;
	}
	*out = sum;
	return true;
}

static __always_inline __u64 evicted_keys_now(void)
{
	__u64 v;

	if (!evictedkeys_addr || bpf_probe_read_user(&v, sizeof(v), (const void *)evictedkeys_addr))
		return ~0ULL;
	return v;
}

SEC("uprobe")
int ev_entry(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ev_call c = { .start_ns = bpf_ktime_get_ns() };

	if (!is_target())
		return 0;
	count_hit(site_index(ctx));
	__sync_fetch_and_add(&totals.calls, 1);
	if (bpf_map_update_elem(&calls, &tid, &c, BPF_ANY))
		__sync_fetch_and_add(&totals.dropped, 1);
	return 0;
}

SEC("uretprobe")
int ev_return(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ev_extrema *now = extrema_now();
	struct ev_extrema *all = &extrema[EV_EPOCH_ALL];
	struct ev_lat_hist *lh;
	struct ev_call *c;
	__u64 delta, keys, nk;
	__u32 phase, ret;
	int rv;

	if (!is_target())
		return 0;
	count_hit(site_index(ctx));
	c = bpf_map_lookup_elem(&calls, &tid);
	if (!c) {
		__sync_fetch_and_add(&totals.orphan_returns, 1);
		return 0;
	}
	delta = bpf_ktime_get_ns() - c->start_ns;
	phase = c->evicting ? EV_ACTIVE : EV_NOOP;

	rv = (int)PT_REGS_RC(ctx);
	ret = rv == -1 ? EV_RET_MINUS1 : (rv >= 0 && rv <= 2) ? (__u32)rv : EV_RET_OTHER;
	__sync_fetch_and_add(&totals.returns[ret], 1);

	lh = &totals.lat[phase];
	__sync_fetch_and_add(&lh->slots[EV_NSEC][slot_of(delta)], 1);
	__sync_fetch_and_add(&lh->slots[EV_USEC][slot_of(delta / 1000)], 1);
	__sync_fetch_and_add(&lh->slots[EV_MSEC][slot_of(delta / 1000000)], 1);
	__sync_fetch_and_add(&lh->sum_ns, delta);
	minmax_add(&now->lat[phase], delta);
	minmax_add(&all->lat[phase], delta);

	if (c->evicting) {
		keys = c->deletes;
		if (evictedkeys_addr) {
			nk = evicted_keys_now();
			keys = (nk == ~0ULL || c->evicted_at_start == ~0ULL) ? 0 : nk - c->evicted_at_start;
		}
		hist_add(&totals.keys_per_evict, keys);
		minmax_add(&now->keys_per_evict, keys);
		minmax_add(&all->keys_per_evict, keys);
		__sync_fetch_and_add(&totals.keys_evicted, keys);
	}
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

/* Every site other than entry and return: commands, values, deletes. */
SEC("uprobe")
int ev_site(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 idx = site_index(ctx);
	const volatile struct ev_site *s;
	struct ev_extrema *now, *all;
	struct regs_copy regs = {};
	struct ev_call *c;
	__u64 v;

	if (!is_target() || idx >= EV_MAX_SITES)
		return 0;
	count_hit(idx);
	s = &sites[idx];

	switch (s->kind) {
	case EV_SITE_COMMAND:
		__sync_fetch_and_add(&totals.commands, 1);
		return 0;
	case EV_SITE_DELETE:
		c = bpf_map_lookup_elem(&calls, &tid);
		if (c)
			c->deletes++;
		return 0;
	case EV_SITE_VALUES:
		break;
	default:
		return 0;
	}

	if (bpf_probe_read_kernel(&regs, sizeof(struct pt_regs), ctx))
		return 0;
	now = extrema_now();
	all = &extrema[EV_EPOCH_ALL];
#pragma unroll
	for (int i = 0; i < EV_NVARS; i++) {
		if (!(s->vars & (1U << i)))
			continue;
		if (!expr_eval(&regs, &s->expr[i], &v)) {
			__sync_fetch_and_add(&totals.read_errors, 1);
			continue;
		}
		hist_add(&totals.var[i], v);
		minmax_add(&now->var[i], v);
		minmax_add(&all->var[i], v);
	}

	if (s->flags & EV_SITE_SLOWPATH) {
		c = bpf_map_lookup_elem(&calls, &tid);
		if (c && !c->evicting) {
			c->evicting = 1;
			c->evicted_at_start = evicted_keys_now();
			__sync_fetch_and_add(&totals.evicting_calls, 1);
		}
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
