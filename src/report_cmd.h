/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report_cmd.h: the `redprof report` subcommand.
 */
#ifndef REDPROF_REPORT_CMD_H
#define REDPROF_REPORT_CMD_H

/* argv[0] is "report"; returns an exit code. */
int report_main(int argc, char **argv);

#endif /* REDPROF_REPORT_CMD_H */
