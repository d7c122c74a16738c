/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json.h: a small JSON writer into a growable buffer. It tracks commas
 * itself, so callers only say what comes next.
 */
#ifndef REDPROF_JSON_H
#define REDPROF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 32

struct jw {
	char *buf;
	size_t len, cap;
	int depth;
	bool first[JW_MAX_DEPTH];	/* nothing written yet at this depth */
	bool after_key;
};

void jw_init(struct jw *w);
void jw_free(struct jw *w);
/* Forgets the contents, keeps the buffer. */
void jw_reset(struct jw *w);

void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);
void jw_u64(struct jw *w, uint64_t v);
void jw_i64(struct jw *w, int64_t v);
void jw_null(struct jw *w);
void jw_bool(struct jw *w, bool v);
/* A double with up to DIGITS decimals (trailing zeros dropped). */
void jw_double(struct jw *w, double v, int digits);
/* V / SCALE exactly, as a decimal (SCALE a power of ten). */
void jw_scaled(struct jw *w, uint64_t v, uint64_t scale);
/* An already serialized JSON value. */
void jw_raw(struct jw *w, const char *json, size_t len);

#endif /* REDPROF_JSON_H */
