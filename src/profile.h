/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * profile.h: running a session until it should stop (Ctrl-C, SIGTERM,
 * --duration, the target exiting), with text or JSON Lines output.
 */
#ifndef REDPROF_PROFILE_H
#define REDPROF_PROFILE_H

#include "cli.h"
#include "session.h"

/* Why a capture ended. */
enum stop_reason { STOP_NONE, STOP_SIGNAL, STOP_DURATION, STOP_TARGET_EXIT, STOP_OUTPUT, STOP_QUIT };

/*
 * The event sources of a capture: interval/duration deadlines, the stop
 * signals and the target's exit, multiplexed with poll() so that the UI
 * can add its terminal.
 */
struct clock_loop {
	int timerfd, sigfd, pidfd;
	uint64_t interval_ns, end_ns;	/* end_ns 0: no duration */
	uint64_t next_ns;		/* next interval end */
	uint64_t drain_ns;		/* next drain of the heat map's ring between interval ends */
};

/*
 * Blocks the stop signals (SIGINT, SIGTERM, SIGHUP) until loop_open() reads
 * them: one that comes while the probes are being attached then stops the
 * capture as soon as it starts, cleanly, instead of being lost or cutting
 * the attach short.
 */
void loop_hold_signals(void);
int loop_open(struct clock_loop *l, const struct session *s, const struct env *env);
void loop_close(struct clock_loop *l);
/*
 * Waits for the next event; EXTRA_FD (-1 for none) is watched too.
 * Returns STOP_NONE with *tick set when an interval ended, *extra set when
 * EXTRA_FD is readable, or the reason to stop.
 */
enum stop_reason loop_wait(struct clock_loop *l, const struct session *s, int extra_fd, bool *tick,
			   bool *extra);

struct exporter;

/* The text/JSON capture, each interval also handed to X; returns an exit code. */
int profile_lines(struct session *s, const struct env *env, struct exporter *x);

#endif /* REDPROF_PROFILE_H */
