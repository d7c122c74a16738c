// SPDX-License-Identifier: BSD-3-Clause
/*
 * probes.c: loading evict.bpf.c and attaching it.
 *
 * Sites are attached by explicit file offset through perf-event uprobes
 * limited to the target's PID; the kernel removes them when redprof's
 * descriptors close, even if redprof is killed. Every site is re-checked
 * here to be an instruction boundary of its function before attaching.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>

#include "evict.h"
#include "evict.skel.h"
#include "probes.h"
#include "sample.h"
#include "util.h"

int probes_check_kernel(void)
{
	return access("/sys/bus/event_source/devices/uprobe/type", R_OK) ? -ENOTSUP : 0;
}

int probes_check_privilege(void)
{
	return cap_effective(CAP_SYS_ADMIN) || (cap_effective(CAP_PERFMON) && cap_effective(CAP_BPF)) ? 0 : -EPERM;
}

/*
 * A site is attachable only on an instruction boundary of its function
 * (or of a part of it reached by a jump), whatever produced the plan.
 */
static int check_boundary(const struct target *t, const struct plan_site *s)
{
	struct code_line line;
	uint64_t off;
	int err;

	err = elf_image__file_offset(t->img, s->addr, &off);
	if (!err && off != s->file_offset)
		err = -EFAULT;
	if (!err)
		err = analysis__site(t->an, &s->fn, s->addr, &line);
	return err == -ERANGE ? -EFAULT : err;
}

static struct bpf_program *program_for(struct evict_bpf *skel, const struct plan_site *s)
{
	switch (s->spec.kind) {
	case EV_SITE_ENTRY: return skel->progs.ev_entry;
	case EV_SITE_RETURN: return skel->progs.ev_return;
	default: return skel->progs.ev_site;
	}
}

int probes__open(const struct target *t, const struct probe_plan *plan, struct probes **out,
		 enum probes_stage *stage, size_t *failed_site)
{
	struct probes *p = xcalloc(1, sizeof(*p));
	int err;

	*out = NULL;
	*stage = PROBES_OPEN;
	p->skel = evict_bpf__open();
	if (!p->skel) {
		err = -errno;
		goto fail;
	}
	p->skel->rodata->targ_tgid = (__u32)t->pid;
	p->skel->rodata->light = plan->light;
	if (plan->evictedkeys.known && t->bias_known)
		p->skel->rodata->evictedkeys_addr = plan->evictedkeys.addr + t->bias;
	for (size_t i = 0; i < plan->n; i++)
		p->skel->rodata->sites[i] = plan->site[i].spec;
	for (int i = 0; i < EV_NSUMS; i++)
		if (plan->sum[i].known)
			p->skel->rodata->sums[i] = plan->sum[i].spec;
	if (plan->payers.known)
		p->skel->rodata->payer_spec = plan->payers.spec;
	/* Slices then start where wall-clock seconds do, so a second of the heat map is one of the clock's. */
	p->slice_shift_ns = (now_real_ns() - now_mono_ns()) % 1000000000ULL;
	p->skel->rodata->slice_shift_ns = p->slice_shift_ns;
	for (int i = 0; i < EV_EPOCHS; i++)
		sample_extrema_init(&p->skel->bss->extrema[i]);

	*stage = PROBES_LOAD;
	err = evict_bpf__load(p->skel);
	if (err)
		goto fail;

	*stage = PROBES_ATTACH;
	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_site *s = &plan->site[i];
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = s->retprobe, .bpf_cookie = i);

		*failed_site = i;
		p->nlinks = i + 1;
		if (s->detached)
			continue;
		err = check_boundary(t, s);
		if (err)
			goto fail;
		p->links[i] = bpf_program__attach_uprobe_opts(program_for(p->skel, s), t->pid, t->proc_exe,
							      s->file_offset, &opts);
		if (!p->links[i]) {
			err = -errno;
			goto fail;
		}
	}
	*out = p;
	return 0;
fail:
	probes__destroy(p);
	return err < 0 ? err : -EINVAL;
}

void probes__destroy(struct probes *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	evict_bpf__destroy(p->skel);
	free(p);
}

struct ev_totals *probes__totals(struct probes *p)
{
	return &p->skel->bss->totals;
}

struct ev_extrema *probes__extrema(struct probes *p)
{
	return p->skel->bss->extrema;
}

unsigned probes__flip_epoch(struct probes *p)
{
	volatile __u32 *epoch = &p->skel->bss->epoch;
	unsigned ended = *epoch & 1;

	*epoch = *epoch + 1;
	return ended;
}

void probes__reset_extrema(struct probes *p, unsigned slot)
{
	sample_extrema_init(&p->skel->bss->extrema[slot]);
}

const struct ev_slice *probes__slices(struct probes *p)
{
	return p->skel->bss->slices;
}

int probes__payers_fd(struct probes *p)
{
	return bpf_map__fd(p->skel->maps.payers);
}
