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
 *
 * Two plans. The full plan times every call from the entry probe to the
 * uretprobe. The light plan probes nothing a call that does not evict
 * runs: an evicting call is timed from the slow-path site to the exit
 * site it leaves the eviction path by, and calls are counted by user
 * space from the server's own command counter.
 *
 * Evicting calls are also added to the slice of the ring `slices` they
 * end in (10 ms of wall clock): the heat map and the storm episodes are
 * drawn from it, still without an event per call crossing to user space.
 *
 * Redis runs commands and evictions on its main thread only (its thread id
 * is the process id). A hit from any other thread is counted and ignored,
 * so everything below is updated by one thread, one program at a time: the
 * call in flight is one global, and counters need no atomic operations.
 * These programs run on every command; each instruction here is paid for
 * by the traced server.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "evict.h"

/* Set by user space between open and load: the verifier sees constants. */
const volatile __u32 targ_tgid = 0;
const volatile bool light = false;		/* the light plan: no entry or return probe */
const volatile __u64 evictedkeys_addr = 0;	/* &server.stat_evictedkeys, 0 if unknown */
const volatile struct ev_site sites[EV_MAX_SITES] = {};
const volatile struct ev_sum sums[EV_NSUMS] = {};
const volatile struct ev_payer_spec payer_spec = {};
/* Added to CLOCK_MONOTONIC so that slices start on wall-clock multiples of 10 ms. */
const volatile __u64 slice_shift_ns = 0;

struct ev_totals totals = {};
struct ev_extrema extrema[EV_EPOCHS] = {};	/* user space resets slots */
__u32 epoch = 0;				/* user space advances it each interval */
struct ev_slice slices[EV_SLICES] = {};		/* user space reads slices that have ended */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EV_PAYERS);
	__type(key, struct ev_payer_key);
	__type(value, struct ev_payer);
} payers SEC(".maps");

/* The main thread's performEvictions() call in flight. */
static struct {
	__u64 start_ns;
	__u64 deletes;		/* delete-site hits, when the counter is unknown */
	__u64 val[EV_NVARS];	/* this call's values so far (an early site keeps them for the slow path) */
	__u32 val_mask;		/* which of val are this call's */
	__u64 client;		/* server.current_client then, 0: none */
	__u64 client_id, cmd;
	bool payer_known;
	__u64 used_start;	/* used memory when it reached the eviction path (mem_reported) */
	__u64 tofree;		/* its mem_tofree */
	bool used_known, tofree_known;
	bool active;		/* entered since attach (light: reached the slow path), not yet left */
	bool evicting;		/* reached the eviction path */
} cur;

/* server.stat_evictedkeys at the end of the last evicting call (~0: not read yet). */
static __u64 evicted_before = ~0ULL;

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

/*
 * V, hidden from the compiler so that a mask applied to it stays: one the
 * compiler proves redundant it drops, and leaves the verifier an index it
 * cannot bound.
 */
static __always_inline __u32 opaque(__u32 v)
{
	asm volatile("" : "+r"(v));
	return v;
}

/* The caller's view of a global function's result is unbounded: bound it here. */
static __always_inline __u32 slot_of(__u64 v)
{
	return opaque(log2_slot(v)) & (EV_SLOTS - 1);
}

/*
 * The slot of V / DIV from the slot K of V, for DIV = 1000 (SHIFT 10) or
 * 10^6 (SHIFT 20): DIV is just under 2^SHIFT, so the answer is K - SHIFT
 * or one more. One comparison instead of a division and a log2.
 */
static __always_inline __u32 slot_div(__u64 v, __u32 k, __u64 div, __u32 shift)
{
	__u32 j = k > shift ? k - shift : 0;

	if (j + 1 < EV_SLOTS && v >= div << (j + 1))
		j++;
	return opaque(j) & (EV_SLOTS - 1);
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

/*
 * An evicting call that took DELTA ns ends at NOW: into its slice, which
 * is started afresh when it last held a slice EV_SLICES ago. A call longer
 * than a slice is counted whole in the one it ends in; user space spreads
 * it back over the slices it covered.
 */
static __always_inline void slice_add(__u64 now, __u64 delta)
{
	__u64 n = (now + slice_shift_ns) / EV_SLICE_NS;
	struct ev_slice *s = &slices[n & (EV_SLICES - 1)];

	if (s->slice != n) {
		s->slice = n;
		s->busy_ns = 0;
		s->calls = 0;
	}
	s->busy_ns += delta;
	s->calls++;
}

static __always_inline void hist_add(struct ev_hist *h, __u64 v)
{
	h->slots[slot_of(v)]++;
	h->sum += v;
}

/* Whether this hit is the target's main thread; others are counted and ignored. */
static __always_inline bool main_thread(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (id == ((__u64)targ_tgid << 32 | targ_tgid))
		return true;
	if ((id >> 32) == targ_tgid)
		__sync_fetch_and_add(&totals.other_threads, 1);
	return false;
}

static __always_inline __u32 site_index(struct pt_regs *ctx)
{
	return bpf_get_attach_cookie(ctx) & 0xffffffff;
}

static __always_inline void count_hit(__u32 idx)
{
	if (idx < EV_MAX_SITES)
		totals.hits[idx]++;
}

/* The registers as an array indexed by enum ev_reg (struct pt_regs order). */
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
		} else if (kind == EV_TERM_VAR) {
			if (!(cur.val_mask >> (t->reg & (EV_NVARS - 1)) & 1))
				return false;
			v = cur.val[t->reg & (EV_NVARS - 1)];
		} else if (kind == EV_TERM_CONST) {
			v = t->off;
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

/*
 * The sum WHICH now, as the server's getter computes it; ~0 when it
 * cannot be read. A global function: verified once, not in every caller,
 * for its loop.
 */
__noinline __u64 sum_now(__u32 which)
{
	const volatile struct ev_sum *s = &sums[opaque(which) & (EV_NSUMS - 1)];
	__u64 n = 1, v = 0, sum = 0, sign;

	if (!s->base)
		return ~0ULL;
	if (s->count) {
		n = 0;
		if (bpf_probe_read_user(&n, s->count_size == 4 ? 4 : 8, (const void *)s->count))
			return ~0ULL;
		sign = s->count_size == 4 ? 1ULL << 31 : 1ULL << 63;
		if (s->count_signed && (n & sign))
			n = 0;
		if (n > s->cap) {
			if (!s->capped)
				return ~0ULL;
			if (s->extra && bpf_probe_read_user(&sum, sizeof(sum), (const void *)s->extra))
				return ~0ULL;
			n = s->cap;
		}
	}
	for (__u32 i = 0; i < EV_SUM_MAX; i++) {
		if (i >= n)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), (const void *)(s->base + i * s->stride)))
			return ~0ULL;
		sum += v;
	}
	return sum;
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
	/* Hits here are `calls`; at the return, returns plus orphan returns. */
	if (!main_thread())
		return 0;
	totals.calls++;
	cur.start_ns = bpf_ktime_get_ns();
	cur.deletes = 0;
	cur.val_mask = 0;
	cur.evicting = false;
	cur.active = true;
	return 0;
}

/*
 * Keys the call that is returning evicted: the counter's growth since the
 * last evicting call; when it fell (CONFIG RESETSTAT zeroes it, and only
 * eviction calls evict), its value since.
 */
static __always_inline __u64 keys_evicted(void)
{
	__u64 now, keys;

	if (!evictedkeys_addr)
		return cur.deletes;
	now = evicted_keys_now();
	if (now == ~0ULL || evicted_before == ~0ULL)
		keys = 0;
	else
		keys = now >= evicted_before ? now - evicted_before : now;
	evicted_before = now;
	return keys;
}

static __always_inline bool read_word(__u64 addr, __u64 *v)
{
	return !bpf_probe_read_user(v, sizeof(*v), (const void *)addr);
}

/* The round's client and command, at the slow-path site. */
static __always_inline void payer_start(void)
{
	__u64 c = 0;

	cur.payer_known = false;
	if (!payer_spec.current_client)
		return;
	cur.client_id = cur.cmd = 0;
	if (!read_word(payer_spec.current_client, &c) ||
	    (c && (!read_word(c + payer_spec.id_off, &cur.client_id) || !read_word(c + payer_spec.cmd_off, &cur.cmd)))) {
		totals.payer_unread++;
		return;
	}
	cur.client = c;
	cur.payer_known = true;
}

/*
 * A round of client CLIENT_ID (at CLIENT) running command CMD took DELTA
 * ns and evicted KEYS: into its pair's entry, made with the names read
 * now when the pair is new. A global function, verified once.
 */
__noinline int payer_add(__u64 client_id, __u64 cmd, __u64 client, __u64 delta, __u64 keys)
{
	struct ev_payer_key k = { client_id, cmd, *(volatile __u32 *)&epoch & 1, 0 };
	struct ev_payer *p, fresh = {};
	__u64 obj = 0, str = 0;

	p = bpf_map_lookup_elem(&payers, &k);
	if (!p) {
		if (client && read_word(client + payer_spec.name_off, &obj) && obj &&
		    read_word(obj + payer_spec.ptr_off, &str) && str)
			bpf_probe_read_user_str(fresh.client, sizeof(fresh.client), (const void *)str);
		if (cmd && read_word(cmd + payer_spec.cmdname_off, &str) && str)
			bpf_probe_read_user_str(fresh.command, sizeof(fresh.command), (const void *)str);
		bpf_map_update_elem(&payers, &k, &fresh, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&payers, &k);
	}
	if (!p) {
		totals.outside_rounds++;
		totals.outside_ns += delta;
		totals.outside_keys += keys;
		return 0;
	}
	p->rounds++;
	p->ns += delta;
	p->keys += keys;
	return 0;
}

static __always_inline void round_add(__u32 r, __u64 v, struct ev_extrema *now, struct ev_extrema *all)
{
	r &= EV_NROUNDS - 1;
	hist_add(&totals.round[r], v);
	minmax_add(&now->round[r], v);
	minmax_add(&all->round[r], v);
}

/* What the evicting call that is ending did to memory. */
static __always_inline void round_end(struct ev_extrema *now, struct ev_extrema *all)
{
	__u64 used, pending;
	__s64 freed, beyond;

	if (cur.used_known) {
		used = sum_now(EV_SUM_USED_MEMORY);
		if (used == ~0ULL) {
			totals.read_errors++;
		} else {
			freed = (__s64)(cur.used_start - used);
			if (freed >= 0) {
				round_add(EV_FREED, freed, now, all);
			} else {
				totals.rounds_grew++;
				totals.grew_bytes += -freed;
			}
			if (cur.tofree_known) {
				beyond = freed - (__s64)cur.tofree;
				if (beyond >= 0)
					round_add(EV_OVERSHOOT, beyond, now, all);
				else
					round_add(EV_SHORTFALL, -beyond, now, all);
			}
		}
	}
	if (sums[EV_SUM_LAZYFREE_PENDING].base) {
		pending = sum_now(EV_SUM_LAZYFREE_PENDING);
		if (pending == ~0ULL)
			totals.read_errors++;
		else
			round_add(EV_LAZYFREE_PENDING, pending, now, all);
	}
}

/*
 * The call in flight leaves performEvictions (full plan: its return) or
 * the eviction path (light plan: an exit site), returning RV.
 */
static __always_inline void finish(int rv)
{
	struct ev_extrema *now, *all = &extrema[EV_EPOCH_ALL];
	struct ev_lat_hist *lh;
	__u64 end_ns, delta, keys;
	__u32 phase, ret, k;

	cur.active = false;
	end_ns = bpf_ktime_get_ns();
	delta = end_ns - cur.start_ns;
	phase = opaque(cur.evicting ? EV_ACTIVE : EV_NOOP) & (EV_NPHASES - 1);
	ret = rv == -1 ? EV_RET_MINUS1 : (rv >= 0 && rv <= 2) ? (__u32)rv : EV_RET_OTHER;
	totals.returns[ret & 7]++;

	lh = &totals.lat[phase];
	k = slot_of(delta);
	lh->slots[EV_NSEC][k]++;
	lh->slots[EV_USEC][slot_div(delta, k, 1000, 10)]++;
	lh->slots[EV_MSEC][slot_div(delta, k, 1000000, 20)]++;
	lh->sum_ns += delta;
	now = extrema_now();
	minmax_add(&now->lat[phase], delta);
	minmax_add(&all->lat[phase], delta);

	if (cur.evicting) {
		keys = keys_evicted();
		hist_add(&totals.keys_per_evict, keys);
		minmax_add(&now->keys_per_evict, keys);
		minmax_add(&all->keys_per_evict, keys);
		totals.keys_evicted += keys;
		slice_add(end_ns, delta);
		round_end(now, all);
		if (cur.payer_known)
			payer_add(cur.client_id, cur.cmd, cur.client, delta, keys);
	}
}

SEC("uretprobe")
int ev_return(struct pt_regs *ctx)
{
	if (!main_thread())
		return 0;
	if (!cur.active) {
		totals.orphan_returns++;
		return 0;
	}
	finish((int)PT_REGS_RC(ctx));
	return 0;
}

/*
 * The call reaches the eviction path: counted once; the light plan's clock
 * starts here. Whether this hit starts a round (the full plan ignores a
 * call entered before attach, or a second hit).
 */
static __always_inline bool reached_slow_path(void)
{
	if (light) {
		cur.start_ns = bpf_ktime_get_ns();
		cur.deletes = 0;
		cur.active = true;
	} else if (!cur.active || cur.evicting) {
		return false;
	}
	cur.evicting = true;
	totals.evicting_calls++;
	/* The counter before the first evicting call; later ones continue from the last. */
	if (evicted_before == ~0ULL)
		evicted_before = evicted_keys_now();
	return true;
}

/*
 * The round's start, at the slow-path site: mem_reported is the getter's
 * sum when the call began; read it here only where the site lacks it.
 */
static __always_inline void round_start(void)
{
	cur.tofree_known = cur.val_mask >> EV_MEM_TOFREE & 1;
	cur.tofree = cur.val[EV_MEM_TOFREE];
	cur.used_known = false;
	if (!sums[EV_SUM_USED_MEMORY].base)
		return;
	if (cur.val_mask >> EV_MEM_REPORTED & 1)
		cur.used_start = cur.val[EV_MEM_REPORTED];
	else
		cur.used_start = sum_now(EV_SUM_USED_MEMORY);
	if (cur.used_start == ~0ULL)
		totals.read_errors++;
	else
		cur.used_known = true;
}

/*
 * Whether the jump with condition CC goes to its target, from the flags
 * the kernel saved before running it (CF bit 0, PF 2, ZF 6, SF 7, OF 11).
 */
static __always_inline bool jump_taken(__u32 cc, __u64 fl)
{
	bool cf = fl & 1, pf = fl >> 2 & 1, zf = fl >> 6 & 1, sf = fl >> 7 & 1, of = fl >> 11 & 1, t;

	if (cc >= EV_CC_ALWAYS)
		return true;
	switch (cc >> 1) {
	case 0: t = of; break;
	case 1: t = cf; break;
	case 2: t = zf; break;
	case 3: t = cf || zf; break;
	case 4: t = sf; break;
	case 5: t = pf; break;
	case 6: t = sf != of; break;
	default: t = zf || sf != of; break;
	}
	/* Odd conditions are the even ones negated. */
	return t != (cc & 1);
}

/* An exit (light plan): the call leaves the eviction path if the jump goes a way that leaves it. */
static __always_inline void leave(const volatile struct ev_site *s, const struct regs_copy *regs)
{
	__u32 way = jump_taken(s->cc, regs->r[EV_EFLAGS]) ? EV_WAY_TAKEN : EV_WAY_NEXT;
	__u64 v;

	if (!(s->leaves >> way & 1))
		return;
	if (!cur.active || !cur.evicting) {
		totals.orphan_exits++;
		return;
	}
	finish(expr_eval(regs, &s->result[way & 1], &v) ? (int)v : 0x7fffffff);
}

/* The values site S computes, into cur.val: those over registers and memory first, then those over them. */
static __always_inline void compute_values(const volatile struct ev_site *s, const struct regs_copy *regs)
{
	__u64 v;

#pragma unroll
	for (int pass = 0; pass < 2; pass++) {
#pragma unroll
		for (int i = 0; i < EV_NVARS; i++) {
			if (!(s->vars >> i & 1) || (s->derived >> i & 1) != (__u32)pass)
				continue;
			if (!expr_eval(regs, &s->expr[i], &v)) {
				totals.read_errors++;
				cur.val_mask &= ~(1U << i);
				continue;
			}
			cur.val[i] = v;
			cur.val_mask |= 1U << i;
		}
	}
}

/* Every site other than entry and return: commands, values, deletes, exits. */
SEC("uprobe")
int ev_site(struct pt_regs *ctx)
{
	__u32 idx = site_index(ctx);
	const volatile struct ev_site *s;
	struct ev_extrema *now, *all;
	struct regs_copy regs;
	bool round;
	__u64 v;

	if (!main_thread() || idx >= EV_MAX_SITES)
		return 0;
	count_hit(idx);
	s = &sites[idx];

	switch (s->kind) {
	case EV_SITE_COMMAND:
		totals.commands++;
		return 0;
	case EV_SITE_DELETE:
		cur.deletes++;
		return 0;
	case EV_SITE_VALUES:
	case EV_SITE_EXIT:
		break;
	default:
		return 0;
	}

	/* Constant-offset loads from the context: cheaper than a helper copying it. */
#pragma unroll
	for (int i = 0; i < EV_NREGS; i++)
		regs.r[i] = ((const __u64 *)ctx)[i];

	if (s->kind == EV_SITE_EXIT) {
		leave(s, &regs);
		return 0;
	}

	round = (s->flags & EV_SITE_SLOWPATH) && reached_slow_path();
	compute_values(s, &regs);
	if (round) {
		round_start();
		payer_start();
	}
	if (s->flags & EV_SITE_EARLY)
		return 0;
	now = extrema_now();
	all = &extrema[EV_EPOCH_ALL];
#pragma unroll
	for (int i = 0; i < EV_NVARS; i++) {
		if (!(s->vars >> i & 1) || !(cur.val_mask >> i & 1))
			continue;
		v = cur.val[i];
		hist_add(&totals.var[i], v);
		minmax_add(&now->var[i], v);
		minmax_add(&all->var[i], v);
	}
	/* What was kept for this call is spent. */
	cur.val_mask = 0;
	/* A slow-path site may be an exit too: noeviction calls leave right there. */
	if (s->leaves)
		leave(s, &regs);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
