// SPDX-License-Identifier: BSD-3-Clause
/*
 * main.c: redprof's entry point: `redprof -p PID` profiles a Redis
 * server, in the live view on a terminal and as text or JSON lines
 * otherwise; `redprof offsets ...` manages per-build offset files.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "disasm.h"
#include "offsets_cmd.h"
#include "profile.h"
#include "session.h"
#include "tui.h"

static int profile_main(int argc, char **argv)
{
	struct session_opts so = { 0 };
	struct session_error se;
	struct session *s;
	struct env env;
	int rc;

	cli_parse(argc, argv, &env);
	cli_resolve_pid(&env.pid);
	cli_libbpf_logging(env.verbose);
	loop_hold_signals();
	so.pid = env.pid;
	so.offsets_file = env.offsets_file;
	so.offsets_dir = env.offsets_dir;
	so.verbose = env.verbose;
	if (session__open(&so, &s, &se))
		return cli_session_error(&se, env.pid);
	if (env.output == OUT_AUTO && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO)) {
		rc = tui_run(s, &env);
	} else {
		for (size_t i = 0; i < s->nnotes; i++)
			fprintf(stderr, "redprof: %s\n", s->notes[i]);
		rc = profile_lines(s, &env);
	}
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
	if (disasm_init()) {
		fprintf(stderr, "redprof: cannot initialise the capstone disassembler\n");
		return EXIT_RUNTIME;
	}
	if (argc > 1 && !strcmp(argv[1], "offsets"))
		rc = offsets_main(argc - 1, argv + 1);
	else
		rc = profile_main(argc, argv);
	disasm_fini();
	return rc;
}
