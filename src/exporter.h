/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exporter.h: what leaves redprof besides its line output and its screen:
 * the --export files written when the capture ends, /metrics served while
 * it runs (--listen), and the snapshots the UI saves. The capture loop
 * hands it each interval; it owns the capture, the HTTP server and the
 * files, and says what failed so that the command line can word it.
 */
#ifndef REDPROF_EXPORTER_H
#define REDPROF_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>

#include "capture.h"
#include "cli.h"
#include "export.h"
#include "session.h"

/* What failed, for cli_exporter_error(). */
enum exporter_stage {
	EXPORTER_FILE,		/* an export file's directory cannot be written (at start) */
	EXPORTER_LISTEN,	/* --listen cannot bind or serve */
	EXPORTER_WRITE,		/* an export file could not be written at the end */
	EXPORTER_DROPPED,	/* intervals the spool could not keep are missing from a file */
};

struct exporter_error {
	enum exporter_stage stage;
	int err;		/* -errno */
	const char *what;	/* the file or the address */
	size_t dropped;		/* EXPORTER_DROPPED: how many */
};

struct exporter;

/*
 * Checks every --export file's directory (a test byte written and synced)
 * and keeps the capture's intervals in a spool beside the first; binds
 * --listen. SNAPSHOTS: the UI may save snapshots in the current directory,
 * which holds the spool when there is no export file (the UI's `s` then
 * says why when it cannot be written). 0, or -errno with E filled.
 */
int exporter__open(const struct env *env, bool snapshots, struct exporter **out, struct exporter_error *e);
void exporter__close(struct exporter *x);

/* The session is open: / and a first /metrics are published. */
void exporter__start(struct exporter *x, const struct session *s);

/*
 * One more interval: spooled, added to the totals, /metrics republished.
 * Returns the error of the first interval the spool could not keep (once),
 * else 0.
 */
int exporter__interval(struct exporter *x, const struct session *s, const struct sample *iv);

/* The UI's reset: snapshots hold the intervals from here on. */
void exporter__mark(struct exporter *x);

/*
 * The UI's `s`: the intervals since the last mark as a snapshot JSON at
 * PATH, written under a temporary name and renamed; *N says how many.
 * 0 or -errno (the spool's own error when there is none).
 */
int exporter__snapshot(struct exporter *x, const struct session *s, const char *path, size_t *n);

/*
 * The capture ended: writes every --export file. Returns how many failed,
 * each in ERRORS (room for CLI_MAX_EXPORTS + 1: a file can fail and miss
 * intervals).
 */
size_t exporter__finish(struct exporter *x, const struct session *s, struct exporter_error *errors);

/* The capture's total: what is printed when an export cannot be written. */
const struct sample *exporter__total(const struct exporter *x);

#endif /* REDPROF_EXPORTER_H */
