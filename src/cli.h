/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli.h: the command line: options in bcc's spelling, exit codes, and the
 * words of every message a person reads when something fails.
 */
#ifndef REDPROF_CLI_H
#define REDPROF_CLI_H

#include <stdbool.h>

#include "session.h"

/* Exit codes, documented in redprof(8). */
enum exit_code {
	EXIT_OK = 0,		/* done, including when the target exited */
	EXIT_RUNTIME = 1,	/* failed while running (BPF refused, I/O error) */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_TARGET = 3,	/* no such process, not Redis, unusable binary or offset file */
	EXIT_PRIVILEGE = 4,	/* not allowed, or the kernel lacks what is needed */
};

enum output_mode { OUT_AUTO, OUT_TEXT, OUT_JSON };

#define CLI_MAX_EXPORTS 4

/* An --export file and its format (enum export_format). */
struct export_opt {
	const char *path;
	int format;
};

struct env {
	int pid;
	double interval;	/* seconds */
	double duration;	/* seconds, 0: until stopped */
	int unit;		/* enum ev_unit */
	enum output_mode output;
	const char *offsets_file;
	const char *offsets_dir;
	bool full;		/* --full: probe every call, not only evicting ones */
	bool force_offsets;	/* --force-offsets */
	int verbose;
	struct export_opt exports[CLI_MAX_EXPORTS];
	size_t nexports;
	const char *listen;	/* --listen [ADDR:]PORT */
};

/* Parses the profiling command line; exits with EXIT_USAGE after one message on bad input. */
void cli_parse(int argc, char **argv, struct env *env);

/*
 * A thread ID given for a process (top -H shows threads): *PID becomes its
 * process, which redprof says on standard error. Uprobes follow a process,
 * and Redis runs every command on its main thread.
 */
void cli_resolve_pid(int *pid);

/* Prints what went wrong opening a session and returns the exit code. */
int cli_session_error(const struct session_error *e, int pid);

struct exporter;
struct exporter_error;
struct sample;

/* Prints why an export file or --listen cannot be used or was not written; returns the exit code. */
int cli_exporter_error(const struct exporter_error *e);
/* Says on stderr where /metrics is served, and whether other hosts can reach it. */
void cli_listen_note(const char *listen);
/* Says on stderr that the export spool lost an interval (ERR), once. */
void cli_spool_lost(int err);
/*
 * Writes the --export files at the end of a capture; when one fails, says
 * why and prints the capture's total to stderr. Returns the exit code.
 */
int cli_exports_finish(struct exporter *x, const struct session *s, int unit);

/* libbpf's messages: with -v, and its debug output with -vv. */
void cli_libbpf_logging(int verbose);

#endif /* REDPROF_CLI_H */
