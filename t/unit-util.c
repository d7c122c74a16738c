// SPDX-License-Identifier: BSD-3-Clause
/*
 * unit-util.c: the helpers every module leans on: numbers are parsed
 * strictly (all of the string, no sign where none belongs, no overflow),
 * times print as ISO 8601, and a file is written whole or not at all,
 * while a device such as /dev/null is written in place.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static void numbers(void)
{
	uint64_t u = 0;
	int64_t s = 0;
	double d = 0;

	ok(!parse_u64("18446744073709551615", &u) && u == UINT64_MAX, "parse_u64: the largest 64-bit value");
	ok(!parse_u64("0x25c798", &u) && u == 0x25c798, "parse_u64: hexadecimal with 0x");
	is_u64(parse_u64("18446744073709551616", &u), (uint64_t)-ERANGE, "parse_u64: one more overflows (-ERANGE)");
	is_u64(parse_u64("-1", &u), (uint64_t)-EINVAL, "parse_u64: no sign");
	is_u64(parse_u64(" 1", &u), (uint64_t)-EINVAL, "parse_u64: no leading blank");
	is_u64(parse_u64("12x", &u), (uint64_t)-EINVAL, "parse_u64: all of the string");
	is_u64(parse_u64("", &u), (uint64_t)-EINVAL, "parse_u64: not empty");
	ok(!parse_s64("-42", &s) && s == -42, "parse_s64: a negative number");
	is_u64(parse_s64("9223372036854775808", &s), (uint64_t)-ERANGE, "parse_s64: overflow (-ERANGE)");
	is_u64(parse_s64("0x10", &s), (uint64_t)-EINVAL, "parse_s64: decimal only");
	ok(!parse_seconds("0.25", &d) && d == 0.25, "parse_seconds: a fraction");
	is_u64(parse_seconds("0", &d), (uint64_t)-ERANGE, "parse_seconds: 0 is no duration (-ERANGE)");
	is_u64(parse_seconds("-1", &d), (uint64_t)-ERANGE, "parse_seconds: nor a negative one");
	is_u64(parse_seconds("inf", &d), (uint64_t)-EOVERFLOW, "parse_seconds: infinity is too long (-EOVERFLOW)");
	is_u64(parse_seconds("1e999", &d), (uint64_t)-EOVERFLOW, "parse_seconds: too large (-EOVERFLOW)");
	is_u64(parse_seconds("1s", &d), (uint64_t)-EINVAL, "parse_seconds: no unit");
}

static void text(void)
{
	static const unsigned char id[] = { 0xa5, 0x0d, 0x68, 0x25 };
	char hex[9], ts[40];
	char *s = xasprintf("%s+%d", "performEvictions", 222);

	hex_encode(id, sizeof(id), hex);
	is_str(hex, "a50d6825", "hex_encode: lower-case, two digits a byte");
	is_str(s, "performEvictions+222", "xasprintf");
	free(s);
	format_iso8601(1795428001250000000ULL, ts, sizeof(ts));
	is_str(ts, "2026-11-23T10:00:01.250Z", "format_iso8601: UTC with milliseconds");
	ok(now_mono_ns() > 0 && now_real_ns() > 1700000000ULL * 1000000000ULL, "the clocks read");
}

/* The contents of PATH, up to LEN-1 bytes. */
static const char *slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

static void files(void)
{
	char dir[] = "/tmp/unit-util.XXXXXX", buf[64];
	char *path, *sub, *tmp;
	struct stat st;

	if (!ok(mkdtemp(dir) != NULL, "a scratch directory"))
		return;
	path = xasprintf("%s/out", dir);
	sub = xasprintf("%s/missing/out", dir);
	tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	ok(!write_file_atomic(path, "first\n", 6), "write_file_atomic: a new file");
	ok(!write_file_atomic(path, "second\n", 7), "write_file_atomic: over an existing one");
	is_str(slurp(path, buf, sizeof(buf)), "second\n", "the file holds the second write, whole");
	ok(stat(tmp, &st) && errno == ENOENT, "no temporary file is left behind");
	ok(!stat(path, &st) && (st.st_mode & 0777) == 0644, "the file is mode 0644");
	is_u64(write_file_atomic(sub, "x", 1), (uint64_t)-ENOENT, "write_file_atomic: a missing directory is -ENOENT");
	ok(!write_file_atomic("/dev/null", "x", 1), "write_file_atomic: /dev/null is written in place");
	ok(!stat("/dev/null", &st) && S_ISCHR(st.st_mode), "and stays a device");
	unlink(path);
	rmdir(dir);
	free(path);
	free(sub);
	free(tmp);
}

int main(void)
{
	numbers();
	text();
	files();
	return tap_done();
}
