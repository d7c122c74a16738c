/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * site_verify.h: the checks every offset file passes against the actual
 * executable before a single probe is placed, whatever the file says:
 *
 *  - its build-id is the executable's;
 *  - the eviction function is where and as large as the file says;
 *  - every site lies in that function or one of its parts, on an
 *    instruction boundary (a linear sweep of a sized symbol, or following a
 *    known jump target into an unnamed part), at the recorded file offset,
 *    with the recorded instruction and class;
 *  - every register a value reads is defined, on every path reaching the
 *    site, by the recorded instruction and nothing after it; every stack
 *    slot is untouched since it was written; every global is a field of a
 *    named object or a writable address;
 *  - a site marked slowpath runs only when mem_used > maxmemory.
 */
#ifndef REDPROF_SITE_VERIFY_H
#define REDPROF_SITE_VERIFY_H

#include <stddef.h>

#include "elf_image.h"
#include "offsets.h"

/*
 * 0 when O fits IMG; it also resolves O's globals (object+offset) to
 * link-time addresses. -EINVAL with the first problem in WHY.
 */
int offsets_verify(struct offsets *o, const struct elf_image *img, char *why, size_t len);

#endif /* REDPROF_SITE_VERIFY_H */
