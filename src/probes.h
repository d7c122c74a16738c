/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * probes.h: the BPF side's lifecycle: open the skeleton, hand it the plan
 * as read-only data, load, attach every site as a perf-event uprobe
 * limited to the target PID, and destroy it all on every exit path.
 */
#ifndef REDPROF_PROBES_H
#define REDPROF_PROBES_H

#include <stddef.h>
#include <stdint.h>

#include "probe_plan.h"
#include "target.h"

struct evict_bpf;
struct bpf_link;

struct probes {
	struct evict_bpf *skel;
	struct bpf_link *links[EV_MAX_SITES];
	size_t nlinks;
	uint64_t slice_shift_ns;	/* what the kernel adds to CLOCK_MONOTONIC before cutting slices */
};

/*
 * 0 when the kernel has the uprobe PMU (perf-event uprobes, removed when
 * their descriptors close). Without it libbpf would fall back to tracefs
 * uprobe_events, which outlive redprof: -ENOTSUP, and we refuse.
 */
int probes_check_kernel(void);

/*
 * 0 when this process may load BPF and open uprobes: CAP_BPF and
 * CAP_PERFMON, or CAP_SYS_ADMIN. -EPERM otherwise.
 */
int probes_check_privilege(void);

/*
 * Loads the programs and attaches every site of PLAN to T. -EPERM/-EACCES
 * when not privileged, another -errno when the kernel refuses the programs
 * (load) or a site (attach: *out is NULL, failed_site in STAGE).
 */
enum probes_stage { PROBES_OPEN, PROBES_LOAD, PROBES_ATTACH };
int probes__open(const struct target *t, const struct probe_plan *plan, struct probes **out,
		 enum probes_stage *stage, size_t *failed_site);
void probes__destroy(struct probes *p);

/* The kernel's cumulative counters and extremes (mmap'd .bss). */
struct ev_totals *probes__totals(struct probes *p);
struct ev_extrema *probes__extrema(struct probes *p);
/* Starts a new interval for the extremes; returns the slot of the one just ended. */
unsigned probes__flip_epoch(struct probes *p);
void probes__reset_extrema(struct probes *p, unsigned slot);
/* The kernel's ring of the last EV_SLICES slices (mmap'd .bss); read only slices that have ended. */
const struct ev_slice *probes__slices(struct probes *p);
/* The kernel's table of rounds by client and command (a BPF hash map of EV_PAYERS entries). */
int probes__payers_fd(struct probes *p);

#endif /* REDPROF_PROBES_H */
