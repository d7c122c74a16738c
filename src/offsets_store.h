/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offsets_store.h: which offset file a target gets: the one given with
 * --offsets, a shipped one whose build-id matches (in --offsets-dir or the
 * installed directory), or one generated on the fly from the binary. Every
 * file is verified against the executable before it is used.
 */
#ifndef REDPROF_OFFSETS_STORE_H
#define REDPROF_OFFSETS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "offsets.h"
#include "target.h"

enum offsets_origin { ORIGIN_NONE, ORIGIN_GIVEN, ORIGIN_SHIPPED, ORIGIN_GENERATED };

struct offsets_choice {
	enum offsets_origin origin;
	char source[512];	/* the file's path, or "generated on the fly" */
	enum strategy strategy;	/* of the values */
	char notes[8][256];	/* what is missing, for people */
	int nnotes;
	/* Given and shipped files, against redprof's own analysis (analysis__cross_check). */
	char forced[512];	/* entries read elsewhere, used anyway: --force-offsets */
	char unverified[256];	/* entries redprof's analysis does not find, so cannot confirm */
};

/*
 * Finds T's offsets. A given file that does not parse or fit is an error
 * (-EINVAL, the reason in WHY), and so is one that reads a counter
 * elsewhere than redprof's own analysis of the executable, unless FORCE.
 * A shipped file that does either is passed over for one generated on the
 * fly. Otherwise 0, and with origin NONE when no file exists and none
 * could be generated (WHY says why).
 */
int offsets_for_target(const struct target *t, const char *file, const char *dir, bool force, struct offsets *o,
		       struct offsets_choice *c, char *why, size_t len);

#endif /* REDPROF_OFFSETS_STORE_H */
