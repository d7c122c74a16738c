/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * util.h: allocation that never returns NULL, and small helpers shared by
 * every module. Out of memory is fatal: the registered hook restores the
 * terminal (when the UI owns it) before the message and abort().
 */
#ifndef REDPROF_UTIL_H
#define REDPROF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Called once before aborting on a fatal error (e.g. to leave curses mode). */
void util_set_fatal_hook(void (*hook)(void));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Lower-case hex of LEN bytes into OUT (2 * LEN + 1 bytes). */
void hex_encode(const void *bytes, size_t len, char *out);

/* Parses a decimal or 0x-hex unsigned 64-bit number filling all of S. */
int parse_u64(const char *s, uint64_t *out);
/* Parses a decimal signed 64-bit number filling all of S. */
int parse_s64(const char *s, int64_t *out);
/*
 * The longest time redprof counts: deadlines are CLOCK_MONOTONIC plus a
 * span in uint64 nanoseconds, so a span must leave room for the clock
 * itself; INT64_MAX nanoseconds (292 years) does.
 */
#define SECONDS_MAX 9223372036.0

/*
 * Parses seconds: a positive decimal such as 1, 0.5 or 2.25 filling all of
 * S. -EINVAL when S is no number, -ERANGE when it is not above 0,
 * -EOVERFLOW when it is above SECONDS_MAX.
 */
int parse_seconds(const char *s, double *out);

/* CLOCK_MONOTONIC / CLOCK_REALTIME in nanoseconds. */
/* A well-mixed 64-bit value of (SEED, X): SplitMix64's finaliser, for reproducible pseudo-random runs. */
uint64_t mix64(uint64_t seed, uint64_t x);

uint64_t now_mono_ns(void);
uint64_t now_real_ns(void);

/* Whether capability CAP (linux/capability.h's number) is in this process's effective set. */
bool cap_effective(int cap);

/* "2026-11-23T10:00:01.250Z" from a CLOCK_REALTIME ns value; BUF >= 32 bytes. */
void format_iso8601(uint64_t real_ns, char *buf, size_t len);

/* V / SCALE (a power of ten) as an exact decimal without trailing zeros: "1.999", "0.000001023", "42". */
void format_decimal(uint64_t v, uint64_t scale, char *buf, size_t len);

/*
 * A file written under a temporary name beside PATH, then flushed, fsync'd
 * and renamed over it, so readers see the old file or the whole new one. A
 * PATH that exists and is no regular file (a device, a pipe) is written
 * directly.
 */
struct atomic_file {
	FILE *f;
	char *path, *tmp;	/* tmp NULL when written directly */
};

int atomic_file__open(struct atomic_file *af, const char *path);
/* Flushes, syncs and renames; on any failure the temporary file is removed. 0 or -errno. */
int atomic_file__commit(struct atomic_file *af);
/* Gives up: the temporary file is removed, PATH left as it was. */
void atomic_file__abort(struct atomic_file *af);

/* LEN bytes to PATH through an atomic_file. */
int write_file_atomic(const char *path, const void *data, size_t len);

#endif /* REDPROF_UTIL_H */
