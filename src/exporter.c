// SPDX-License-Identifier: BSD-3-Clause
/*
 * exporter.c: export files, /metrics and snapshots around one capture.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exporter.h"
#include "http.h"
#include "openmetrics.h"
#include "util.h"

struct exporter {
	const struct env *env;
	struct capture *capture;
	struct http *http;		/* NULL without --listen */
	bool spool_warned;		/* the first interval the spool lost was reported */
};

/* The directory PATH is in ("." for a bare name). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xasprintf("%.*s", (int)(slash - path), path);
}

/* An export target must be a regular file or not exist yet; its directory must take a test byte. */
static int check_target(struct capture *c, const char *path, bool spool_here)
{
	struct stat st;
	struct spool *sp;
	char *dir;
	int err;

	if (!stat(path, &st) && !S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	dir = dir_of(path);
	if (spool_here) {
		err = capture__spool_in(c, dir);
	} else {
		err = spool__open(dir, 1, &sp);
		if (!err)
			spool__close(sp);
	}
	free(dir);
	return err;
}

int exporter__open(const struct env *env, bool snapshots, struct exporter **out, struct exporter_error *e)
{
	struct exporter *x = xcalloc(1, sizeof(*x));
	int err = 0;

	memset(e, 0, sizeof(*e));
	x->env = env;
	x->capture = capture__new();
	e->stage = EXPORTER_FILE;
	for (size_t i = 0; i < env->nexports && !err; i++) {
		e->what = env->exports[i].path;
		err = check_target(x->capture, env->exports[i].path, i == 0);
	}
	/* Without an export file, the UI's snapshots spool where they are saved; a failure waits for `s`. */
	if (!err && !env->nexports && snapshots)
		capture__spool_in(x->capture, ".");
	if (!err && env->listen) {
		e->stage = EXPORTER_LISTEN;
		e->what = env->listen;
		err = http__open(env->listen, &x->http);
	}
	if (err) {
		e->err = err;
		exporter__close(x);
		return err;
	}
	*out = x;
	return 0;
}

void exporter__close(struct exporter *x)
{
	if (!x)
		return;
	http__close(x->http);
	capture__free(x->capture);
	free(x);
}

static void publish_metrics(struct exporter *x, const struct session *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!x->http)
		return;
	f = open_memstream(&buf, &len);
	if (!f)
		fatal("out of memory rendering /metrics");
	om_page(f, s, &x->capture->all.total);
	if (fclose(f))
		fatal("out of memory rendering /metrics");
	http__publish(x->http, HTTP_METRICS, OM_CONTENT_TYPE, buf, len);
	free(buf);
}

void exporter__start(struct exporter *x, const struct session *s)
{
	char *index, when[40];

	if (!x->http)
		return;
	format_iso8601(now_real_ns(), when, sizeof(when));
	index = xasprintf("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			  "<title>redprof: %s PID %d</title></head><body>\n"
			  "<h1>redprof</h1>\n<p>Eviction profile of %s %s, PID %d (build-id %s), "
			  "attached at %s.</p>\n"
			  "<p><a href=\"/metrics\">/metrics</a>: OpenMetrics text, cumulative since then; "
			  "the metric names are in redprof(8), OPENMETRICS.</p>\n</body></html>\n",
			  s->t->flavor, (int)s->t->pid, s->t->flavor,
			  s->t->version[0] ? s->t->version : "(version unknown)", (int)s->t->pid,
			  s->t->img->build_id, when);
	http__publish(x->http, HTTP_INDEX, "text/html; charset=utf-8", index, strlen(index));
	free(index);
	publish_metrics(x, s);
}

int exporter__interval(struct exporter *x, const struct session *s, const struct sample *iv)
{
	size_t dropped = x->capture->all.dropped;

	capture__add(x->capture, iv);
	publish_metrics(x, s);
	if (x->capture->spool && x->capture->all.dropped > dropped && !x->spool_warned) {
		x->spool_warned = true;
		return x->capture->spool_err;
	}
	return 0;
}

void exporter__mark(struct exporter *x)
{
	capture__mark(x->capture);
}

static int write_export(const struct exporter *x, const struct session *s, const char *path,
			enum export_format fmt, const struct capture_run *run)
{
	struct atomic_file af;
	int err;

	err = atomic_file__open(&af, path);
	if (err)
		return err;
	err = export_write(af.f, fmt, s, x->capture, run, x->env->unit);
	if (err) {
		atomic_file__abort(&af);
		return err;
	}
	return atomic_file__commit(&af);
}

int exporter__snapshot(struct exporter *x, const struct session *s, const char *path, size_t *n)
{
	const struct capture_run *run = &x->capture->marked;

	if (!x->capture->spool)
		return x->capture->spool_err ? x->capture->spool_err : -ENOENT;
	*n = run->n - run->dropped;
	return write_export(x, s, path, EXPORT_JSON, run);
}

size_t exporter__finish(struct exporter *x, const struct session *s, struct exporter_error *errors)
{
	const struct capture_run *run = &x->capture->all;
	size_t nerr = 0;

	for (size_t i = 0; i < x->env->nexports; i++) {
		const struct export_opt *o = &x->env->exports[i];
		int err = write_export(x, s, o->path, (enum export_format)o->format, run);

		if (err)
			errors[nerr++] = (struct exporter_error){ .stage = EXPORTER_WRITE, .err = err, .what = o->path };
	}
	if (x->env->nexports && run->dropped)
		errors[nerr++] = (struct exporter_error){ .stage = EXPORTER_DROPPED, .err = x->capture->spool_err,
							  .what = x->env->exports[0].path, .dropped = run->dropped };
	return nerr;
}

const struct sample *exporter__total(const struct exporter *x)
{
	return &x->capture->all.total;
}
