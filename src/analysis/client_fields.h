/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client_fields.h: the disasm strategy for who an eviction round ran for:
 * server.current_client and the struct members followed from it, in a
 * build without debug information (client_fields.c says how).
 */
#ifndef REDPROF_CLIENT_FIELDS_H
#define REDPROF_CLIENT_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"
#include "offsets.h"

/* The link-time address of server.current_client in IMG, whose eviction function is EVICT; -errno with WHY. */
int client_current(const struct elf_image *img, const struct elf_sym *evict, uint64_t *out, char *why, size_t len);

/* The members of M from the module API's getters; -errno with WHY, M untouched. */
int client_members(const struct elf_image *img, struct member_rec m[NMEMBERS], char *why, size_t len);

#endif /* REDPROF_CLIENT_FIELDS_H */
