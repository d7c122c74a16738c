/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offsets_cmd.h: the `redprof offsets` subcommands.
 */
#ifndef REDPROF_OFFSETS_CMD_H
#define REDPROF_OFFSETS_CMD_H

/* argv[0] is "offsets"; returns an exit code. */
int offsets_main(int argc, char **argv);

#endif /* REDPROF_OFFSETS_CMD_H */
