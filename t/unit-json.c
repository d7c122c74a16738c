// SPDX-License-Identifier: BSD-3-Clause
/*
 * unit-json.c: the JSON writer: commas, escapes, exact scaled decimals.
 */
#include "config.h"

#include "json.h"
#include "tap.h"

int main(void)
{
	struct jw w;

	jw_init(&w);
	jw_obj_begin(&w);
	jw_key(&w, "a");
	jw_u64(&w, 1);
	jw_key(&w, "b");
	jw_arr_begin(&w);
	jw_u64(&w, 2);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_null(&w);
	jw_arr_end(&w);
	jw_key(&w, "c");
	jw_str(&w, "x");
	jw_obj_end(&w);
	is_str(w.buf, "{\"a\":1,\"b\":[2,{},null],\"c\":\"x\"}", "commas between members and elements only");

	jw_reset(&w);
	jw_str(&w, "q\"b\\n\n\x01");
	is_str(w.buf, "\"q\\\"b\\\\n\\n\\u0001\"", "quotes, backslashes and control characters are escaped");

	jw_reset(&w);
	jw_scaled(&w, 1999, 1000);
	is_str(w.buf, "1.999", "1999 ns is exactly 1.999 us");
	jw_reset(&w);
	jw_scaled(&w, 2000, 1000);
	is_str(w.buf, "2", "whole values drop the point");
	jw_reset(&w);
	jw_scaled(&w, 1500000, 1000000);
	is_str(w.buf, "1.5", "trailing zeros are dropped");
	jw_reset(&w);
	jw_scaled(&w, 42, 1);
	is_str(w.buf, "42", "scale 1 is an integer");
	jw_reset(&w);
	jw_double(&w, 0.125, 6);
	is_str(w.buf, "0.125", "doubles print without trailing zeros");
	jw_reset(&w);
	jw_double(&w, 1.0 / 0.0, 6);
	is_str(w.buf, "null", "non-finite doubles are null");
	jw_free(&w);
	return tap_done();
}
