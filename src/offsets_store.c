// SPDX-License-Identifier: BSD-3-Clause
/*
 * offsets_store.c: choosing a target's offset file.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "offsets_store.h"
#include "util.h"

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

/* The file in DIR whose build-id is BUILD_ID; files that do not parse are skipped. */
static bool find_shipped(const char *dir, const char *build_id, struct offsets *o, char *path, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char err[256];

		if (!has_suffix(e->d_name, ".offsets"))
			continue;
		snprintf(path, len, "%s/%s", dir, e->d_name);
		found = !offsets_parse(path, o, err, sizeof(err)) && !strcmp(o->build_id, build_id);
	}
	closedir(d);
	return found;
}

/*
 * A file made on the fly. UNFIT names a shipped file that did not fit, WHY
 * saying why: a bug of that file, reported as a note. 0, or -ENOENT with
 * WHY saying why no file can be made.
 */
static int generate(const struct target *t, const char *unfit, struct offsets *o, struct offsets_choice *c,
		    char *why, size_t len)
{
	struct gen_result r;
	char was[256] = "";

	if (unfit)
		snprintf(was, sizeof(was), "the shipped %.80s has this build-id but does not fit (%.90s)", unfit,
			 why);
	if (analysis__generate(t->an, t->flavor, t->version, STRATEGY_NONE, o, &r)) {
		snprintf(why, len, "%s%s%s", was, was[0] ? "; and no file can be generated: " : "", r.why);
		return -ENOENT;
	}
	c->origin = ORIGIN_GENERATED;
	c->unverified[0] = '\0';
	snprintf(c->source, sizeof(c->source), "generated on the fly");
	if (was[0])
		snprintf(c->notes[c->nnotes++], sizeof(c->notes[0]), "%s: using one generated on the fly", was);
	for (int i = 0; i < r.nnotes && c->nnotes < 8; i++)
		snprintf(c->notes[c->nnotes++], sizeof(c->notes[0]), "%s", r.notes[i]);
	return 0;
}

/* A file that passed the checks, against redprof's own analysis: 0, or -EINVAL with WHY naming both readings. */
static int cross_check(const struct target *t, const struct offsets *o, struct offsets_choice *c, char *why,
		       size_t len)
{
	char disagree[512];

	analysis__cross_check(t->an, o, disagree, sizeof(disagree), c->unverified, sizeof(c->unverified));
	if (!disagree[0])
		return 0;
	snprintf(why, len, "%s", disagree);
	return -EINVAL;
}

int offsets_for_target(const struct target *t, const char *file, const char *dir, bool force, struct offsets *o,
		       struct offsets_choice *c, char *why, size_t len)
{
	char path[512], reason[512];

	memset(c, 0, sizeof(*c));
	if (file) {
		if (offsets_parse(file, o, why, len))
			return -EINVAL;
		if (analysis__verify(t->an, o, why, len)) {
			snprintf(reason, sizeof(reason), "%s", why);
			snprintf(why, len, "%s does not fit PID %d: %s", file, (int)t->pid, reason);
			return -EINVAL;
		}
		if (cross_check(t, o, c, reason, sizeof(reason))) {
			if (!force) {
				snprintf(why, len, "%s reads a counter elsewhere than redprof finds it in PID %d's "
					 "executable: %s; --force-offsets uses the file anyway", file, (int)t->pid, reason);
				return -EINVAL;
			}
			snprintf(c->forced, sizeof(c->forced), "%s", reason);
		}
		c->origin = ORIGIN_GIVEN;
		snprintf(c->source, sizeof(c->source), "%s", file);
	} else {
		bool shipped = find_shipped(dir ? dir : OFFSETS_DIR, t->img->build_id, o, path, sizeof(path));

		if (shipped && !analysis__verify(t->an, o, why, len) && !cross_check(t, o, c, why, len)) {
			c->origin = ORIGIN_SHIPPED;
			snprintf(c->source, sizeof(c->source), "%s", path);
		} else if (generate(t, shipped ? path : NULL, o, c, why, len)) {
			return 0;
		}
	}
	/* The values' strategy: all values share one. */
	for (int v = 0; v < NVARS; v++)
		if (o->value[v].present)
			c->strategy = o->value[v].strategy;
	return 0;
}
