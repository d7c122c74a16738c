// SPDX-License-Identifier: BSD-3-Clause
/*
 * profile.c: the capture loop for line outputs.
 *
 * One poll() over a timerfd (interval ends and --duration), a signalfd
 * (SIGINT, SIGTERM, SIGHUP) and a pidfd (the target's exit). Every stop
 * path prints the last, possibly partial, interval and then the total.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "exporter.h"
#include "json.h"
#include "profile.h"
#include "report.h"
#include "util.h"

static void arm(struct clock_loop *l)
{
	uint64_t at = l->next_ns;
	struct itimerspec its = { 0 };

	if (l->end_ns && l->end_ns < at)
		at = l->end_ns;
	its.it_value.tv_sec = (time_t)(at / 1000000000ULL);
	its.it_value.tv_nsec = (long)(at % 1000000000ULL);
	timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int loop_open(struct clock_loop *l, const struct session *s, const struct env *env)
{
	sigset_t mask;

	memset(l, 0, sizeof(*l));
	l->sigfd = l->timerfd = -1;
	l->pidfd = s->pidfd;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	l->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->sigfd < 0 || l->timerfd < 0) {
		loop_close(l);
		return -errno;
	}
	l->interval_ns = (uint64_t)(env->interval * 1e9);
	l->next_ns = s->start_ns + l->interval_ns;
	if (env->duration > 0)
		l->end_ns = s->start_ns + (uint64_t)(env->duration * 1e9);
	arm(l);
	return 0;
}

void loop_close(struct clock_loop *l)
{
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->timerfd >= 0)
		close(l->timerfd);
	l->sigfd = l->timerfd = -1;
}

enum stop_reason loop_wait(struct clock_loop *l, const struct session *s, int extra_fd, bool *tick,
			   bool *extra)
{
	struct pollfd fds[4] = {
		{ .fd = l->timerfd, .events = POLLIN },
		{ .fd = l->sigfd, .events = POLLIN },
		{ .fd = l->pidfd, .events = POLLIN },
		{ .fd = extra_fd, .events = POLLIN },
	};
	uint64_t now;

	*tick = *extra = false;
	for (;;) {
		int n = poll(fds, 4, l->pidfd < 0 ? 1000 : -1);

		if (n < 0 && errno == EINTR) {
			if (extra_fd >= 0) {
				*extra = true;	/* e.g. SIGWINCH: let the UI look */
				return STOP_NONE;
			}
			continue;
		}
		if (n < 0)
			return STOP_SIGNAL;
		if (fds[1].revents & POLLIN)
			return STOP_SIGNAL;
		if ((fds[2].revents & POLLIN) || (l->pidfd < 0 && !target__alive(s->t)))
			return STOP_TARGET_EXIT;
		if (fds[3].revents & (POLLIN | POLLHUP))
			*extra = true;
		if (fds[0].revents & POLLIN) {
			uint64_t expirations;

			if (read(l->timerfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				return STOP_SIGNAL;
			now = now_mono_ns();
			if (l->end_ns && now >= l->end_ns)
				return STOP_DURATION;
			if (now >= l->next_ns) {
				while (l->next_ns <= now)
					l->next_ns += l->interval_ns;
				*tick = true;
			}
			arm(l);
		}
		if (*tick || *extra)
			return STOP_NONE;
	}
}

struct line_out {
	FILE *f;
	bool json;
	int unit;
	struct jw w;
};

static bool emit(struct line_out *o, const struct session *s, const struct sample *smp, bool total)
{
	if (o->json) {
		jw_reset(&o->w);
		json_sample(&o->w, s, smp, o->unit, total ? "total" : "interval");
		fputs(o->w.buf, o->f);
		fputc('\n', o->f);
		fflush(o->f);
	} else {
		text_sample(o->f, s, smp, o->unit, total);
	}
	return !ferror(o->f);
}

static void emit_episode(struct line_out *o, const struct session *s, const struct episode *ep)
{
	if (!o->json) {
		text_episode(o->f, s, ep);
		return;
	}
	jw_reset(&o->w);
	json_episode(&o->w, s, ep);
	fputs(o->w.buf, o->f);
	fputc('\n', o->f);
	fflush(o->f);
}

/*
 * The episodes that ended since the last call (ids above *SEEN); at the
 * end of the capture (FINAL), the one still going on too.
 */
static bool emit_episodes(struct line_out *o, const struct session *s, unsigned *seen, bool final)
{
	const struct episodes *e = s->storm ? s->storm->episodes : NULL;
	struct episode now;

	for (size_t i = 0; e && i < e->n; i++) {
		if (episodes__at(e, i)->id <= *seen)
			continue;
		*seen = episodes__at(e, i)->id;
		emit_episode(o, s, episodes__at(e, i));
	}
	if (final && e && episodes__current(e, &now))
		emit_episode(o, s, &now);
	return !ferror(o->f);
}

static const char *stop_words(enum stop_reason r)
{
	switch (r) {
	case STOP_SIGNAL: return "stopped by signal";
	case STOP_DURATION: return "duration reached";
	case STOP_TARGET_EXIT: return "the target process exited";
	case STOP_OUTPUT: return "output closed";
	default: return "stopped";
	}
}

/* Hands an interval to the exports and /metrics; says so once if the export spool lost one. */
static void keep(struct exporter *x, const struct session *s, const struct sample *smp)
{
	int err = exporter__interval(x, s, smp);

	if (err)
		cli_spool_lost(err);
}

int profile_lines(struct session *s, const struct env *env, struct exporter *x)
{
	struct line_out o = { .f = stdout, .json = env->output == OUT_JSON, .unit = env->unit };
	enum stop_reason why = STOP_NONE;
	struct clock_loop loop;
	struct sample smp;
	unsigned episodes_seen = 0;
	int err;

	signal(SIGPIPE, SIG_IGN);
	err = loop_open(&loop, s, env);
	if (err) {
		fprintf(stderr, "redprof: cannot set up timers and signals: %s\n", strerror(-err));
		return EXIT_RUNTIME;
	}
	jw_init(&o.w);
	if (!o.json) {
		printf("Tracing %s in PID %d (%s %s, build-id %s). Hit Ctrl-C to end.\n",
		       target__evict_name(s->t), s->t->pid, s->t->flavor,
		       s->t->version[0] ? s->t->version : "version unknown", s->t->img->build_id);
		fflush(stdout);
	}
	while (why == STOP_NONE) {
		bool tick, extra;

		why = loop_wait(&loop, s, -1, &tick, &extra);
		if (why != STOP_NONE || !tick)
			continue;
		session__interval(s, &smp);
		keep(x, s, &smp);
		if (!emit(&o, s, &smp, false) || !emit_episodes(&o, s, &episodes_seen, false))
			why = STOP_OUTPUT;
	}
	if (why != STOP_OUTPUT) {
		/* The last, partial interval (unless it is empty of time), then always the total. */
		session__interval(s, &smp);
		if (smp.ns > 1000000)
			keep(x, s, &smp);
		if ((smp.ns <= 1000000 || emit(&o, s, &smp, false)) && emit_episodes(&o, s, &episodes_seen, true)) {
			session__total(s, &smp);
			emit(&o, s, &smp, true);
		}
	}
	if (why == STOP_TARGET_EXIT)
		fprintf(stderr, "redprof: PID %d exited; stopping\n", s->t->pid);
	else if (env->verbose)
		fprintf(stderr, "redprof: %s\n", stop_words(why));
	jw_free(&o.w);
	loop_close(&loop);
	return cli_exports_finish(x, s, env->unit);
}
