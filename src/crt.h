/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crt.h: the terminal while the UI owns it. Curses set-up and teardown,
 * colours by role (none under NO_COLOR or on a monochrome terminal), and
 * stderr held back while the screen is drawn so that library messages
 * (libbpf, libdw) cannot scribble over it; they are shown after exit.
 * The terminal is restored on every way out: a normal exit, fatal() and
 * the signals that would kill the process with the screen still in curses.
 */
#ifndef REDPROF_CRT_H
#define REDPROF_CRT_H

#include <stdbool.h>

/* What a piece of the screen is; crt_attr() says how it looks. */
enum crt_role {
	CRT_NORMAL,
	CRT_HEADER,	/* the header bar */
	CRT_TITLE,	/* a panel's title */
	CRT_FOCUS,	/* the focused panel's title */
	CRT_NOOP,	/* calls that did not evict */
	CRT_ACTIVE,	/* calls that evicted, mem_tofree */
	CRT_COMMANDS,	/* commands/s */
	CRT_KEYS,	/* keys evicted/s */
	CRT_SHARE,	/* time in eviction */
	CRT_ALERT,	/* EVICTING, PAUSED */
	CRT_DIM,	/* rows merged to fit, reasons */
	CRT_KEY,	/* a key in the footer */
	CRT_NROLES
};

/*
 * Takes the terminal: captures stderr, enters curses (alternate screen,
 * no echo, keys without waiting) and installs the restoring hooks.
 * Returns 0, or -errno (-ENOTTY when curses cannot drive this terminal,
 * e.g. an unknown TERM); nothing is left changed on failure.
 */
int crt_init(void);

/*
 * Gives the terminal back and replays what was written to stderr. Safe to
 * call more than once and from the fatal-signal handler.
 */
void crt_done(void);

int crt_attr(enum crt_role role);

/* Whether the locale can show UTF-8 block characters. */
bool crt_utf8(void);

/* Whether the terminal is gone (hung up), so no key will ever come. */
bool crt_tty_gone(void);

#endif /* REDPROF_CRT_H */
