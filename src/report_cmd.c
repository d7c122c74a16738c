// SPDX-License-Identifier: BSD-3-Clause
/*
 * report_cmd.c: `redprof report SNAPSHOT.json [SNAPSHOT2.json] -o FILE`,
 * for whoever writes the incident report: a capture (or a before and an
 * after) as one HTML page, or its charts as one SVG.
 */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "report_cmd.h"
#include "report_html.h"
#include "snapshot.h"
#include "util.h"

struct report_env {
	const char *in[2];
	size_t nin;
	const char *out;
};

static const struct argp_option options[] = {
	{ "output", 'o', "FILE", 0, "Write here (atomically): FILE.html for the report, FILE.svg for the charts "
	  "alone (default: the HTML report on standard output)", 0 },
	{ 0 },
};

static const char doc[] =
"Make an incident report from a capture: a self-contained HTML page (inline SVG\n"
"and CSS, no script, nothing fetched) with the target, each histogram and its\n"
"percentiles, and the timelines; with two captures, before and after side by\n"
"side. A capture is a snapshot file (--export FILE.json, the live view's s key)\n"
"or the JSON Lines of --json.\n"
"\n"
"USAGE: redprof report SNAPSHOT.json [SNAPSHOT2.json] [-o FILE.html|FILE.svg]\n"
"\v"
"EXAMPLES:\n"
"    redprof report incident.json -o incident.html\n"
"    redprof report before.json after.json -o fix.html   # the change of each percentile\n"
"    redprof report incident.json -o charts.svg          # the charts alone";

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct report_env *env = state->input;

	switch (key) {
	case 'o':
		env->out = arg;
		break;
	case ARGP_KEY_ARG:
		if (env->nin == 2)
			argp_error(state, "unexpected argument '%s': give one capture, or two (before and after)", arg);
		env->in[env->nin++] = arg;
		break;
	case ARGP_KEY_END:
		if (!env->nin)
			argp_error(state, "give a capture: a snapshot file (--export FILE.json) or redprof --json lines");
		if (!env->out && isatty(STDOUT_FILENO))
			argp_error(state, "the report is an HTML page: give -o FILE.html, or redirect standard output");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static bool is_svg(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	return n > 4 && !strcmp(path + n - 4, ".svg");
}

int report_main(int argc, char **argv)
{
	static const struct argp argp = { options, parse_opt, "SNAPSHOT.json [SNAPSHOT2.json]", doc, NULL, NULL, NULL };
	struct snapshot *snap[2] = { NULL, NULL };
	struct report_env env = { 0 };
	char err[PATH_MAX + 256], *buf = NULL;
	int rc = EXIT_RUNTIME, e;
	size_t len = 0;
	FILE *f;

	argp_err_exit_status = EXIT_USAGE;
	argp_parse(&argp, argc, argv, 0, NULL, &env);
	for (size_t i = 0; i < env.nin; i++) {
		if (snapshot__read(env.in[i], &snap[i], err, sizeof(err))) {
			fprintf(stderr, "redprof: %s\n", err);
			goto cleanup;
		}
	}
	f = open_memstream(&buf, &len);
	if (!f)
		fatal("out of memory writing the report");
	report_write(f, is_svg(env.out) ? REPORT_SVG : REPORT_HTML, snap[0], snap[1]);
	if (fclose(f))
		fatal("out of memory writing the report");
	if (env.out)
		e = write_file_atomic(env.out, buf, len);
	else
		e = fwrite(buf, 1, len, stdout) == len && !fflush(stdout) ? 0 : -errno;
	if (e) {
		fprintf(stderr, "redprof: cannot write %s: %s\n", env.out ? env.out : "the report to standard output",
			strerror(-e));
		goto cleanup;
	}
	rc = EXIT_OK;
cleanup:
	free(buf);
	for (size_t i = 0; i < 2; i++)
		snapshot__free(snap[i]);
	return rc;
}
