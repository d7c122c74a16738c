// SPDX-License-Identifier: BSD-3-Clause
/*
 * main.c: redprof's entry point: `redprof -p PID` profiles a Redis
 * server, in the live view on a terminal and as text or JSON lines
 * otherwise; `redprof offsets ...` manages per-build offset files;
 * `redprof report ...` makes an incident report from a capture.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "analysis.h"
#include "exporter.h"
#include "offsets_cmd.h"
#include "profile.h"
#include "report_cmd.h"
#include "session.h"
#include "tui.h"

static int profile_main(int argc, char **argv)
{
	struct session_opts so = { 0 };
	struct exporter_error xe;
	struct session_error se;
	struct exporter *x;
	struct session *s;
	struct env env;
	bool tui;
	int rc;

	cli_parse(argc, argv, &env);
	cli_resolve_pid(&env.pid);
	cli_libbpf_logging(env.verbose);
	loop_hold_signals();
	tui = env.output == OUT_AUTO && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	/* Export paths and --listen are checked before any probe is attached. */
	if (exporter__open(&env, tui, &x, &xe))
		return cli_exporter_error(&xe);
	cli_listen_note(env.listen);
	so.pid = env.pid;
	so.offsets_file = env.offsets_file;
	so.offsets_dir = env.offsets_dir;
	so.full = env.full;
	so.force_offsets = env.force_offsets;
	so.verbose = env.verbose;
	if (session__open(&so, &s, &se)) {
		exporter__close(x);
		return cli_session_error(&se, env.pid);
	}
	exporter__start(x, s);
	if (tui) {
		rc = tui_run(s, &env, x);
	} else {
		for (size_t i = 0; i < s->nnotes; i++)
			fprintf(stderr, "redprof: %s\n", s->notes[i]);
		rc = profile_lines(s, &env, x);
	}
	exporter__close(x);
	session__close(s);
	return rc;
}

/*
 * A closed descriptor 0-2 would be handed to the next file redprof opens,
 * and what it writes to standard output would land there: /dev/null keeps
 * each one taken. Returns whether standard output was closed.
 */
static bool hold_std_fds(void)
{
	bool out_closed = fcntl(STDOUT_FILENO, F_GETFD) < 0;

	/* open() takes the lowest free descriptor: the one found closed. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
			return true;
	return out_closed;
}

int main(int argc, char **argv)
{
	int rc;

	if (hold_std_fds()) {
		fprintf(stderr, "redprof: standard output is closed: give redprof a file or a pipe to write to "
			"(e.g. > capture.jsonl)\n");
		return EXIT_RUNTIME;
	}
	if (analysis_init()) {
		fprintf(stderr, "redprof: cannot initialise the capstone disassembler\n");
		return EXIT_RUNTIME;
	}
	if (argc > 1 && !strcmp(argv[1], "offsets"))
		rc = offsets_main(argc - 1, argv + 1);
	else if (argc > 1 && !strcmp(argv[1], "report"))
		rc = report_main(argc - 1, argv + 1);
	else
		rc = profile_main(argc, argv);
	analysis_fini();
	return rc;
}
