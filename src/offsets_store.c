// SPDX-License-Identifier: BSD-3-Clause
/*
 * offsets_store.c: choosing a target's offset file.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "offsets_gen.h"
#include "offsets_store.h"
#include "site_verify.h"
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

int offsets_for_target(const struct target *t, const char *file, const char *dir, struct offsets *o,
		       struct offsets_choice *c, char *why, size_t len)
{
	struct gen_result r;
	char path[512];

	memset(c, 0, sizeof(*c));
	if (file) {
		if (offsets_parse(file, o, why, len))
			return -EINVAL;
		if (offsets_verify(o, t->img, why, len)) {
			char reason[512];

			snprintf(reason, sizeof(reason), "%s", why);
			snprintf(why, len, "%s does not fit PID %d: %s", file, (int)t->pid, reason);
			return -EINVAL;
		}
		c->origin = ORIGIN_GIVEN;
		snprintf(c->source, sizeof(c->source), "%s", file);
	} else if (find_shipped(dir ? dir : OFFSETS_DIR, t->img->build_id, o, path, sizeof(path))) {
		if (offsets_verify(o, t->img, why, len)) {
			char reason[512];

			/* A shipped file that does not fit is a bug of the file: say so and go on without it. */
			snprintf(reason, sizeof(reason), "%s", why);
			snprintf(why, len, "the shipped %s has this build-id but does not fit: %s", path, reason);
			return 0;
		}
		c->origin = ORIGIN_SHIPPED;
		snprintf(c->source, sizeof(c->source), "%s", path);
	} else if (!offsets_generate(t, STRATEGY_NONE, t->pid ? t->root : NULL, o, &r)) {
		c->origin = ORIGIN_GENERATED;
		snprintf(c->source, sizeof(c->source), "generated on the fly");
		for (int i = 0; i < r.nnotes && i < 8; i++)
			snprintf(c->notes[c->nnotes++], sizeof(c->notes[0]), "%s", r.notes[i]);
	} else {
		snprintf(why, len, "%s", r.why);
		return 0;
	}
	/* The values' strategy: all values share one. */
	for (int v = 0; v < NVARS; v++)
		if (o->value[v].present)
			c->strategy = o->value[v].strategy;
	return 0;
}
