/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * target.h: the Redis process redprof attaches to. Its executable is
 * reached through /proc/PID/exe (the running inode, also inside a
 * container or after the file was replaced), never through a path.
 */
#ifndef REDPROF_TARGET_H
#define REDPROF_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "analysis.h"
#include "elf_image.h"

struct target {
	pid_t pid;
	char proc_exe[64];	/* "/proc/PID/exe": what we read and attach to ("" for a file) */
	char root[64];		/* "/proc/PID/root": the target's filesystem */
	char exe[PATH_MAX];	/* the executable's path as the target sees it */
	struct elf_image *img;
	const char *flavor;	/* "redis" or "valkey" */
	char version[32];	/* "7.0.15", "" when unknown */
	bool legacy;		/* Redis <= 6.0: freeMemoryIfNeeded returning C_OK/C_ERR */
	struct elf_sym evict;	/* performEvictions or freeMemoryIfNeeded */
	struct elf_sym command;	/* processCommand */
	uint64_t bias;		/* runtime address - link-time address */
	bool bias_known;
	struct analysis *an;	/* the executable's analysis, shared by everything that reads its code */
};

/*
 * Why a file is not a usable target, for target__open() and
 * target__open_binary(); the command line words the message.
 */
enum target_problem {
	TARGET_OK,
	TARGET_NOT_ELF,		/* not a 64-bit x86-64 ELF executable */
	TARGET_CORRUPT,		/* an ELF file cut short or with headers pointing outside it */
	TARGET_ZOMBIE,		/* the process has exited; its parent has not reaped it */
	TARGET_KTHREAD,		/* a kernel thread: no executable */
	TARGET_NOT_REDIS,	/* no processCommand / server: not Redis or Valkey */
	TARGET_NO_EVICT,	/* Redis, but no performEvictions or freeMemoryIfNeeded */
	TARGET_AMBIGUOUS,	/* a name maps to several functions */
};

/*
 * Opens the process PID. Returns 0, or -errno: -ESRCH no such process,
 * -EACCES/-EPERM not allowed to read it, -ENOEXEC with *PROBLEM saying
 * why the executable is not a usable Redis.
 */
int target__open(pid_t pid, struct target **out, enum target_problem *problem);

/*
 * The process that thread TID belongs to (its thread group), from
 * /proc/TID/status: TID itself for a process's main thread. -ESRCH when
 * there is no such thread.
 */
int proc_tgid(pid_t tid, pid_t *tgid);

/* The same checks for an executable file that is not running (offsets generate). */
int target__open_binary(const char *path, struct target **out, enum target_problem *problem);

void target__close(struct target *t);

/* Whether the process still exists. */
bool target__alive(const struct target *t);

/* Reads LEN bytes at link-time address VADDR from the live process (never writes). */
int target__read(const struct target *t, uint64_t vaddr, void *buf, size_t len);

/*
 * Runtime address minus link-time address of EXE (the path /proc/PID/maps
 * names) in process PID, from a mapping of it: a mapping at START of file
 * offset OFF holds link-time address p_vaddr + (OFF - p_offset).
 */
int proc_load_bias(pid_t pid, const char *exe, const struct elf_image *img, uint64_t *bias);

/* The name Redis gives the eviction function in this build. */
const char *target__evict_name(const struct target *t);

#endif /* REDPROF_TARGET_H */
