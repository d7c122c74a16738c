// SPDX-License-Identifier: BSD-3-Clause
/*
 * profile.c: the capture loop for line outputs.
 *
 * One poll() over a timerfd (interval ends and --duration), a signalfd
 * (SIGINT, SIGTERM, and SIGHUP unless nohup ignores it) and a pidfd (the
 * target's exit). Every stop
 * path prints the last, possibly partial, interval and then the total.
 *
 * Standard output is written a record (an interval, the total) at a time,
 * and only when poll() says it takes more, so that a reader that stops
 * reading cannot keep a stop signal out. When it cannot be written (a full
 * disk, a closed pipe) the capture stops, a regular file keeps only whole
 * records, and the total goes to standard error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "exporter.h"
#include "json.h"
#include "profile.h"
#include "report.h"
#include "util.h"

static int arm(struct clock_loop *l)
{
	uint64_t at = l->next_ns < l->drain_ns ? l->next_ns : l->drain_ns;
	struct itimerspec its = { 0 };

	if (l->end_ns && l->end_ns < at)
		at = l->end_ns;
	its.it_value.tv_sec = (time_t)(at / 1000000000ULL);
	its.it_value.tv_nsec = (long)(at % 1000000000ULL);
	return timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL) ? -errno : 0;
}

/*
 * The signals that stop a capture. SIGHUP only when it is not ignored: under
 * nohup a capture outlives the session that started it. (SIGINT is caught
 * even when ignored: a script's background jobs ignore it, and kill -INT
 * is how scripts stop them.)
 */
static void stop_signals(sigset_t *mask)
{
	struct sigaction hup;

	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	if (sigaction(SIGHUP, NULL, &hup) || hup.sa_handler != SIG_IGN)
		sigaddset(mask, SIGHUP);
}

void loop_hold_signals(void)
{
	sigset_t mask;

	stop_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);	/* fails only for a bad HOW */
}

int loop_open(struct clock_loop *l, const struct session *s, const struct env *env)
{
	sigset_t mask;
	int err;

	/* The command line keeps both in range; a span of 0 ns would never advance. */
	if (!(env->interval * 1e9 >= 1 && env->interval <= SECONDS_MAX && env->duration <= SECONDS_MAX))
		return -ERANGE;
	memset(l, 0, sizeof(*l));
	l->sigfd = l->timerfd = -1;
	l->pidfd = s->pidfd;
	stop_signals(&mask);
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
	l->drain_ns = s->start_ns + STORM_DRAIN_EVERY_NS;
	if (env->duration > 0)
		l->end_ns = s->start_ns + (uint64_t)(env->duration * 1e9);
	err = arm(l);
	if (err)
		loop_close(l);
	return err;
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
			/* An interval longer than the ring would otherwise lose its first slices. */
			if (now >= l->drain_ns) {
				storm__drain(s->storm, now);
				l->drain_ns = now + STORM_DRAIN_EVERY_NS;
			}
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
	int fd;			/* standard output */
	int stop_fd;		/* the stop signals' signalfd: a blocked write gives way to it */
	bool json;
	int unit;
	struct jw w;
	int err;		/* the first write error (-errno), or -EINTR: stopped while blocked */
};

/* The JSON object W holds as one line. The caller frees it. */
static char *json_line(const struct jw *w, size_t *len)
{
	char *buf = xmalloc(w->len + 2);

	memcpy(buf, w->buf, w->len);
	buf[w->len] = '\n';
	buf[w->len + 1] = '\0';
	*len = w->len + 1;
	return buf;
}

/* One record: a JSON line, or a text block. The caller frees it. */
static char *render(struct line_out *o, const struct session *s, const struct sample *smp, bool total,
		    size_t *len)
{
	char *buf = NULL;
	FILE *f;

	if (o->json) {
		jw_reset(&o->w);
		json_sample(&o->w, s, smp, o->unit, total ? "total" : "interval");
		return json_line(&o->w, len);
	}
	f = open_memstream(&buf, len);
	if (!f)
		fatal("out of memory rendering an interval");
	text_sample(f, s, smp, o->unit, total);
	if (fclose(f))
		fatal("out of memory rendering an interval");
	return buf;
}

/*
 * Writes LEN bytes to FD in pieces a pipe takes whole (PIPE_BUF), each once
 * poll() says there is room, so that a signal on STOP_FD ends the wait.
 * 0, -errno, or -EINTR when a stop signal came first.
 */
static int write_record(int fd, int stop_fd, const char *buf, size_t len)
{
	while (len) {
		struct pollfd fds[2] = { { .fd = fd, .events = POLLOUT }, { .fd = stop_fd, .events = POLLIN } };
		ssize_t n;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!(fds[0].revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL)) && (fds[1].revents & POLLIN))
			return -EINTR;
		n = write(fd, buf, len < PIPE_BUF ? len : PIPE_BUF);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Where the next record will start in FD: its end when opened for appending (>>), whatever lseek says. */
static off_t record_start(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	struct stat st;

	if (flags >= 0 && (flags & O_APPEND))
		return fstat(fd, &st) ? -1 : st.st_size;
	return lseek(fd, 0, SEEK_CUR);
}

/* Writes record BUF (LEN bytes; freed here) to standard output; false once it cannot (o->err says why). */
static bool write_out(struct line_out *o, char *buf, size_t len)
{
	off_t start = record_start(o->fd);
	struct stat st;

	o->err = write_record(o->fd, o->stop_fd, buf, len);
	/* A regular file keeps whole records only: jq and friends choke on half a line. */
	if (o->err && start >= 0 && !fstat(o->fd, &st) && S_ISREG(st.st_mode) && st.st_size > start)
		o->err = ftruncate(o->fd, start) ? -errno : o->err;
	free(buf);
	return !o->err;
}

static bool emit(struct line_out *o, const struct session *s, const struct sample *smp, bool total)
{
	size_t len;
	char *buf = render(o, s, smp, total, &len);

	return write_out(o, buf, len);
}

/* When standard output failed: the total, in the same format, on standard error. */
static void total_to_stderr(struct line_out *o, const struct session *s, const struct sample *smp)
{
	size_t len;
	char *buf = render(o, s, smp, true, &len);

	fflush(stderr);
	fwrite(buf, 1, len, stderr);
	free(buf);
}

/* An episode that ended: a JSON line or a text block, written as the intervals are. */
static bool emit_episode(struct line_out *o, const struct session *s, const struct episode *ep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (o->json) {
		jw_reset(&o->w);
		json_episode(&o->w, s, ep);
		buf = json_line(&o->w, &len);
		return write_out(o, buf, len);
	}
	f = open_memstream(&buf, &len);
	if (!f)
		fatal("out of memory rendering an episode");
	text_episode(f, s, ep);
	if (fclose(f))
		fatal("out of memory rendering an episode");
	return write_out(o, buf, len);
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
		if (!emit_episode(o, s, episodes__at(e, i)))
			return false;
	}
	return !(final && e && episodes__current(e, &now)) || emit_episode(o, s, &now);
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

static void say_output_error(int err)
{
	if (err == -EINTR)
		fprintf(stderr, "redprof: stopped while standard output was not being read (a full pipe); "
			"the total follows here\n");
	else if (err == -EPIPE)
		fprintf(stderr, "redprof: standard output was closed (its reader exited): stopping; "
			"the total follows here\n");
	else
		fprintf(stderr, "redprof: cannot write standard output (%s): stopping; what was written "
			"ends with the last whole interval, and the total follows here\n", strerror(-err));
}

int profile_lines(struct session *s, const struct env *env, struct exporter *x)
{
	struct line_out o = { .fd = STDOUT_FILENO, .json = env->output == OUT_JSON, .unit = env->unit };
	enum stop_reason why = STOP_NONE;
	struct clock_loop loop;
	struct sample smp;
	unsigned episodes_seen = 0;
	int err, rc;

	signal(SIGPIPE, SIG_IGN);
	err = loop_open(&loop, s, env);
	if (err) {
		fprintf(stderr, "redprof: cannot set up timers and signals: %s\n", strerror(-err));
		return EXIT_RUNTIME;
	}
	o.stop_fd = loop.sigfd;
	jw_init(&o.w);
	if (!o.json) {
		char *head = xasprintf("Tracing %s in PID %d (%s %s, build-id %s). Hit Ctrl-C to end.\n",
				       target__evict_name(s->t), s->t->pid, s->t->flavor,
				       s->t->version[0] ? s->t->version : "version unknown", s->t->img->build_id);

		o.err = write_record(o.fd, o.stop_fd, head, strlen(head));
		why = o.err ? STOP_OUTPUT : STOP_NONE;
		free(head);
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
	/*
	 * The last, partial interval (unless it is empty of time or there is no
	 * output left), the episode going on, then always the total, which
	 * counts that interval too.
	 */
	session__interval(s, &smp);
	if (smp.ns > 1000000)
		keep(x, s, &smp);
	if (why != STOP_OUTPUT && smp.ns > 1000000)
		emit(&o, s, &smp, false);
	if (why != STOP_OUTPUT && !o.err)
		emit_episodes(&o, s, &episodes_seen, true);
	session__total(s, &smp);
	if (o.err || !emit(&o, s, &smp, true)) {
		say_output_error(o.err);
		total_to_stderr(&o, s, &smp);
	}
	if (why == STOP_TARGET_EXIT)
		fprintf(stderr, "redprof: PID %d exited; stopping\n", s->t->pid);
	else if (env->verbose)
		fprintf(stderr, "redprof: %s\n", stop_words(why));
	jw_free(&o.w);
	loop_close(&loop);
	rc = cli_exports_finish(x, s, env->unit);
	return o.err ? EXIT_RUNTIME : rc;
}
