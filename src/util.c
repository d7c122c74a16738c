// SPDX-License-Identifier: BSD-3-Clause
/*
 * util.c: allocation wrappers, number parsing and time formatting.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void (*fatal_hook)(void);

void util_set_fatal_hook(void (*hook)(void))
{
	fatal_hook = hook;
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	if (fatal_hook) {
		void (*hook)(void) = fatal_hook;

		fatal_hook = NULL;
		hook();
	}
	fputs("redprof: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		fatal("out of memory allocating %zu bytes", size);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		fatal("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	void *q = reallocarray(p, n ? n : 1, size ? size : 1);

	if (!q)
		fatal("out of memory allocating %zu x %zu bytes", n, size);
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		fatal("out of memory copying a string");
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("out of memory formatting a string");
	return s;
}

void hex_encode(const void *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = bytes;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_s64(const char *s, int64_t *out)
{
	long long v;
	char *end;

	if (!s || !*s || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_seconds(const char *s, double *out)
{
	double v;
	char *end;

	if (!s || !*s || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end || end == s || isnan(v))
		return -EINVAL;
	if (v > SECONDS_MAX)
		return -EOVERFLOW;
	if (errno == ERANGE || v <= 0)
		return -ERANGE;
	*out = v;
	return 0;
}

bool cap_effective(int cap)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return cap >= 0 && cap < 64 && (eff >> cap & 1);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t now_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t now_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

void format_iso8601(uint64_t real_ns, char *buf, size_t len)
{
	time_t sec = (time_t)(real_ns / 1000000000ULL);
	unsigned ms = (unsigned)(real_ns % 1000000000ULL / 1000000ULL);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void format_decimal(uint64_t v, uint64_t scale, char *buf, size_t len)
{
	int digits = 0;

	if (scale <= 1) {
		snprintf(buf, len, "%" PRIu64, v);
		return;
	}
	for (uint64_t s = scale; s > 1 && digits < 19; s /= 10)
		digits++;
	snprintf(buf, len, "%" PRIu64 ".%0*" PRIu64, v / scale, digits, v % scale);
	/* Drop trailing zeros and a bare point. */
	for (char *e = buf + strlen(buf) - 1; e > buf && (*e == '0' || *e == '.'); e--) {
		char c = *e;

		*e = '\0';
		if (c == '.')
			break;
	}
}

int atomic_file__open(struct atomic_file *af, const char *path)
{
	struct stat st;
	int fd, err;

	memset(af, 0, sizeof(*af));
	af->path = xstrdup(path);
	/* A device or a pipe (-o /dev/null, -o /dev/stdout) is written, never renamed over. */
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
	} else {
		af->tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
		fd = open(af->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0 || !(af->f = fdopen(fd, "w"))) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		atomic_file__abort(af);
		return err;
	}
	return 0;
}

static void atomic_file__free(struct atomic_file *af)
{
	free(af->path);
	free(af->tmp);
	memset(af, 0, sizeof(*af));
}

int atomic_file__commit(struct atomic_file *af)
{
	int err = 0;

	errno = 0;
	if (fflush(af->f) || ferror(af->f))
		err = errno ? -errno : -EIO;
	if (!err && af->tmp && fsync(fileno(af->f)))
		err = -errno;
	if (fclose(af->f) && !err)
		err = -errno;
	af->f = NULL;
	if (!err && af->tmp && rename(af->tmp, af->path))
		err = -errno;
	if (err && af->tmp)
		unlink(af->tmp);
	atomic_file__free(af);
	return err;
}

void atomic_file__abort(struct atomic_file *af)
{
	if (af->f)
		fclose(af->f);
	if (af->tmp)
		unlink(af->tmp);
	atomic_file__free(af);
}

int write_file_atomic(const char *path, const void *data, size_t len)
{
	struct atomic_file af;
	int err;

	err = atomic_file__open(&af, path);
	if (err)
		return err;
	if (len && fwrite(data, 1, len, af.f) != len) {
		err = errno ? -errno : -EIO;
		atomic_file__abort(&af);
		return err;
	}
	return atomic_file__commit(&af);
}

uint64_t mix64(uint64_t seed, uint64_t x)
{
	uint64_t z = seed * 0x9E3779B97F4A7C15ULL ^ x;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}
