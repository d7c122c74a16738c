/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tap.h: the Test Anything Protocol for the C unit tests, read by
 * automake's tap-driver.sh under `make check`.
 */
#ifndef REDPROF_TAP_H
#define REDPROF_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3)))
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2)))
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

#define is_u64(got, want, ...) \
	(ok((uint64_t)(got) == (uint64_t)(want), __VA_ARGS__) ? 1 : \
	 (diag("  got %" PRIu64 ", want %" PRIu64, (uint64_t)(got), (uint64_t)(want)), 0))

#define is_str(got, want, ...) \
	(ok(!strcmp((got), (want)), __VA_ARGS__) ? 1 : (diag("  got  '%s'\n#   want '%s'", (got), (want)), 0))

/* The plan comes last, so a test that dies early has none and fails. */
static int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif /* REDPROF_TAP_H */
