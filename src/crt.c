// SPDX-License-Identifier: BSD-3-Clause
/*
 * crt.c: the terminal layer, after htop's CRT.c.
 *
 * While curses owns the terminal, fd 2 points into a memfd; crt_done()
 * points it back and copies the memfd out, so whatever libbpf, libdw or
 * we printed meanwhile appears after the screen is gone, in order. Only
 * async-signal-safe calls (and endwin(), as htop does) run on the way out,
 * because a crash may be what takes us there.
 */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crt.h"
#include "util.h"

/* Signals whose default action would end the process with the terminal still in curses. */
static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT };

static struct {
	volatile sig_atomic_t active;
	int saved_stderr;		/* the terminal's stderr while fd 2 is captured */
	int capture_fd;			/* memfd holding what was written to fd 2 */
	bool utf8;
	int attr[CRT_NROLES];
	struct sigaction old[ARRAY_SIZE(crash_signals)];
} crt = { .saved_stderr = -1, .capture_fd = -1 };

/* ------------------------------------------------------------------ */
/* stderr capture                                                      */
/* ------------------------------------------------------------------ */

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void stderr_release(void)
{
	char buf[4096];
	ssize_t n;

	if (crt.saved_stderr >= 0) {
		dup2(crt.saved_stderr, STDERR_FILENO);
		close(crt.saved_stderr);
		crt.saved_stderr = -1;
	}
	if (crt.capture_fd < 0)
		return;
	lseek(crt.capture_fd, 0, SEEK_SET);
	while ((n = read(crt.capture_fd, buf, sizeof(buf))) > 0)
		write_all(STDERR_FILENO, buf, (size_t)n);
	close(crt.capture_fd);
	crt.capture_fd = -1;
}

static int stderr_capture(void)
{
	int err;

	crt.capture_fd = memfd_create("redprof-stderr", MFD_CLOEXEC);
	if (crt.capture_fd < 0)
		return -errno;
	crt.saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (crt.saved_stderr < 0 || dup2(crt.capture_fd, STDERR_FILENO) < 0) {
		err = -errno;
		stderr_release();
		return err;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Colours                                                             */
/* ------------------------------------------------------------------ */

static void colors_init(bool color)
{
	/* fg/bg -1: the terminal's own; MONO is the look without colours. */
	static const struct {
		short fg, bg;
		int attr, mono;
	} roles[CRT_NROLES] = {
		[CRT_NORMAL] = { -1, -1, A_NORMAL, A_NORMAL },
		[CRT_HEADER] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
		[CRT_TITLE] = { -1, -1, A_BOLD, A_BOLD },
		[CRT_FOCUS] = { COLOR_BLACK, COLOR_YELLOW, A_BOLD, A_REVERSE | A_BOLD },
		[CRT_NOOP] = { COLOR_GREEN, -1, A_NORMAL, A_NORMAL },
		[CRT_ACTIVE] = { COLOR_RED, -1, A_BOLD, A_BOLD },
		[CRT_COMMANDS] = { COLOR_CYAN, -1, A_NORMAL, A_NORMAL },
		[CRT_KEYS] = { COLOR_YELLOW, -1, A_NORMAL, A_NORMAL },
		[CRT_SHARE] = { COLOR_MAGENTA, -1, A_NORMAL, A_NORMAL },
		[CRT_ALERT] = { COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD },
		[CRT_DIM] = { -1, -1, A_DIM, A_DIM },
		[CRT_KEY] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
	};
	bool own = false;

	if (color && start_color() == OK)
		own = use_default_colors() == OK;
	else
		color = false;
	for (int r = 0; r < CRT_NROLES; r++) {
		short fg = roles[r].fg, bg = roles[r].bg;

		if (!color) {
			crt.attr[r] = roles[r].mono;
			continue;
		}
		if (fg < 0 && bg < 0) {
			crt.attr[r] = roles[r].attr;
			continue;
		}
		if (!own) {
			fg = fg < 0 ? COLOR_WHITE : fg;
			bg = bg < 0 ? COLOR_BLACK : bg;
		}
		init_pair((short)r, fg, bg);
		crt.attr[r] = (int)COLOR_PAIR(r) | roles[r].attr;
	}
}

int crt_attr(enum crt_role role)
{
	return crt.attr[role];
}

bool crt_utf8(void)
{
	return crt.utf8;
}

/* ------------------------------------------------------------------ */
/* Taking and giving back the terminal                                 */
/* ------------------------------------------------------------------ */

static void crash(int sig)
{
	crt_done();
	/* crt_done() put the previous action back: the signal now does what it would have. */
	raise(sig);
}

int crt_init(void)
{
	struct sigaction sa = { .sa_handler = crash, .sa_flags = SA_RESETHAND | SA_NODEFER };
	const char *no_color = getenv("NO_COLOR");
	int err;

	err = stderr_capture();
	if (err)
		return err;
	/* LC_CTYPE only: LC_NUMERIC would change the decimal point of the JSON we write. */
	setlocale(LC_CTYPE, "");
	crt.utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	if (!newterm(NULL, stdout, stdin)) {
		stderr_release();
		return -ENOTTY;
	}
	crt.active = 1;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(crash_signals); i++)
		sigaction(crash_signals[i], &sa, &crt.old[i]);
	util_set_fatal_hook(crt_done);

	cbreak();	/* Ctrl-C still sends SIGINT, which the capture loop reads */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	colors_init(has_colors() && !(no_color && *no_color));
	return 0;
}

void crt_done(void)
{
	if (!crt.active)
		return;
	crt.active = 0;
	endwin();
	for (size_t i = 0; i < ARRAY_SIZE(crash_signals); i++)
		sigaction(crash_signals[i], &crt.old[i], NULL);
	util_set_fatal_hook(NULL);
	stderr_release();
}

bool crt_tty_gone(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}
