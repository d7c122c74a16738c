/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tui.h: the live full-screen view of a session, what `redprof -p PID`
 * shows on a terminal: a header, panels for performEvictions latency,
 * mem_tofree, throughput and time in eviction, and single-key commands.
 */
#ifndef REDPROF_TUI_H
#define REDPROF_TUI_H

#include "cli.h"
#include "session.h"

/*
 * Runs the view until q, a stop signal, --duration or the target's exit,
 * then restores the terminal and prints what it held back. Falls back to
 * text lines when curses cannot drive the terminal. Every interval goes to
 * X, which writes the snapshots of `s` and the exports. Returns an exit code.
 */
struct exporter;

int tui_run(struct session *s, const struct env *env, struct exporter *x);

#endif /* REDPROF_TUI_H */
