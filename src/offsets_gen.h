/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offsets_gen.h: generating the offset file of one build, with the dwarf
 * strategy when debug information can be found and the disasm strategy
 * otherwise (or as forced), then proving the result with site_verify.
 */
#ifndef REDPROF_OFFSETS_GEN_H
#define REDPROF_OFFSETS_GEN_H

#include "offsets.h"
#include "target.h"

#define GEN_MAX_NOTES 8

struct gen_result {
	enum strategy strategy;		/* the one used for the values */
	char notes[GEN_MAX_NOTES][256];	/* what is missing and why, for people */
	int nnotes;
	char why[256];			/* when generation failed */
};

/*
 * Generates O for T's executable. STRATEGY forces one (STRATEGY_NONE:
 * automatic). ROOT is where debug files are looked for besides the host's
 * /usr/lib/debug ("/proc/PID/root" for a process), or NULL. 0 with notes
 * for what could not be found; -errno with r->why when nothing could be.
 */
int offsets_generate(const struct target *t, enum strategy strategy, const char *root, struct offsets *o,
		     struct gen_result *r);

#endif /* REDPROF_OFFSETS_GEN_H */
