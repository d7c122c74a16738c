// SPDX-License-Identifier: BSD-3-Clause
/*
 * json.c: JSON output for --json lines and snapshot files.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

void jw_init(struct jw *w)
{
	memset(w, 0, sizeof(*w));
	w->first[0] = true;
}

void jw_free(struct jw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void jw_reset(struct jw *w)
{
	w->len = 0;
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
	if (w->buf)
		w->buf[0] = '\0';
}

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->len + n + 1 > w->cap) {
		while (w->len + n + 1 > w->cap)
			w->cap = w->cap ? w->cap * 2 : 1024;
		w->buf = xreallocarray(w->buf, w->cap, 1);
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void puts_(struct jw *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Separator before a value or key at the current depth. */
static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		put(w, ",", 1);
	w->first[w->depth] = false;
}

static void open_(struct jw *w, const char *c)
{
	sep(w);
	puts_(w, c);
	if (w->depth + 1 >= JW_MAX_DEPTH)
		fatal("JSON nesting deeper than %d", JW_MAX_DEPTH);
	w->first[++w->depth] = true;
}

static void close_(struct jw *w, const char *c)
{
	w->depth--;
	puts_(w, c);
}

void jw_obj_begin(struct jw *w) { open_(w, "{"); }
void jw_obj_end(struct jw *w) { close_(w, "}"); }
void jw_arr_begin(struct jw *w) { open_(w, "["); }
void jw_arr_end(struct jw *w) { close_(w, "]"); }

static void quoted(struct jw *w, const char *s)
{
	put(w, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];

		switch (*p) {
		case '"': puts_(w, "\\\""); break;
		case '\\': puts_(w, "\\\\"); break;
		case '\n': puts_(w, "\\n"); break;
		case '\r': puts_(w, "\\r"); break;
		case '\t': puts_(w, "\\t"); break;
		default:
			if (*p < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				puts_(w, esc);
			} else {
				put(w, (const char *)p, 1);
			}
		}
	}
	put(w, "\"", 1);
}

void jw_key(struct jw *w, const char *key)
{
	sep(w);
	quoted(w, key);
	put(w, ":", 1);
	w->after_key = true;
}

void jw_str(struct jw *w, const char *s)
{
	sep(w);
	quoted(w, s);
}

void jw_u64(struct jw *w, uint64_t v)
{
	char b[32];

	sep(w);
	snprintf(b, sizeof(b), "%" PRIu64, v);
	puts_(w, b);
}

void jw_i64(struct jw *w, int64_t v)
{
	char b[32];

	sep(w);
	snprintf(b, sizeof(b), "%" PRId64, v);
	puts_(w, b);
}

void jw_null(struct jw *w)
{
	sep(w);
	puts_(w, "null");
}

void jw_bool(struct jw *w, bool v)
{
	sep(w);
	puts_(w, v ? "true" : "false");
}

void jw_double(struct jw *w, double v, int digits)
{
	char b[64];
	char *end;

	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	sep(w);
	snprintf(b, sizeof(b), "%.*f", digits, v);
	if (strchr(b, '.')) {
		end = b + strlen(b) - 1;
		while (*end == '0')
			*end-- = '\0';
		if (*end == '.')
			*end = '\0';
	}
	if (!strcmp(b, "-0"))
		strcpy(b, "0");
	puts_(w, b);
}

void jw_scaled(struct jw *w, uint64_t v, uint64_t scale)
{
	char b[64];

	sep(w);
	format_decimal(v, scale, b, sizeof(b));
	puts_(w, b);
}

void jw_raw(struct jw *w, const char *json, size_t len)
{
	sep(w);
	put(w, json, len);
}
