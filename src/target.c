// SPDX-License-Identifier: BSD-3-Clause
/*
 * target.c: recognising a Redis or Valkey server and finding its load bias.
 *
 * A server is recognised by its symbols, not its file name (Debian's
 * redis-server is a link to redis-check-rdb): processCommand, the `server`
 * global, and the eviction function (performEvictions since 6.2,
 * freeMemoryIfNeeded before). Redis links with -rdynamic, so these are in
 * .dynsym even when the binary is stripped.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "target.h"
#include "util.h"

#define PF_KTHREAD 0x00200000	/* the kernel's include/linux/sched.h; not in its uapi */

static enum target_problem sym_problem(int err)
{
	return err == -ENOTUNIQ ? TARGET_AMBIGUOUS : TARGET_NOT_REDIS;
}

/* REDIS_VERSION_NUM (0x00MMmmpp) as returned by the module API. */
static void read_version(struct target *t)
{
	static const char *const getters[] = { "RM_GetServerVersion", "VM_GetServerVersion" };
	struct elf_sym sym;
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(getters); i++) {
		if (elf_image__func(t->img, getters[i], &sym))
			continue;
		if (i == 1)
			t->flavor = "valkey";
		if (!analysis_server_version(t->img, getters[i], &v) && v && v < 0x01000000) {
			snprintf(t->version, sizeof(t->version), "%u.%u.%u", (unsigned)(v >> 16) & 0xff,
				 (unsigned)(v >> 8) & 0xff, (unsigned)v & 0xff);
			return;
		}
	}
}

/* Checks the symbols that make an executable a Redis server we can profile. */
static int recognise(struct target *t, enum target_problem *problem)
{
	struct elf_sym server;
	int err;

	t->flavor = "redis";
	err = elf_image__func(t->img, "processCommand", &t->command);
	if (!err)
		err = elf_image__object(t->img, "server", &server);
	if (err) {
		*problem = sym_problem(err);
		return -ENOEXEC;
	}
	err = elf_image__func(t->img, "performEvictions", &t->evict);
	if (err == -ENOENT) {
		err = elf_image__func(t->img, "freeMemoryIfNeeded", &t->evict);
		t->legacy = !err;
	}
	if (err) {
		*problem = err == -ENOTUNIQ ? TARGET_AMBIGUOUS : TARGET_NO_EVICT;
		return -ENOEXEC;
	}
	read_version(t);
	/* Debug files of a process are looked for in its own filesystem first. */
	t->an = analysis__new(t->img, &t->evict, t->pid ? t->root : NULL);
	return 0;
}

static int open_image(struct target *t, const char *path, enum target_problem *problem)
{
	int err = elf_image__open(path, &t->img);

	if (err == -ENOEXEC)
		*problem = TARGET_NOT_ELF;
	if (err == -EBADMSG) {
		*problem = TARGET_CORRUPT;
		err = -ENOEXEC;
	}
	if (err)
		return err;
	return recognise(t, problem);
}

int proc_load_bias(pid_t pid, const char *exe, const struct elf_image *img, uint64_t *bias)
{
	char path[64], line[PATH_MAX + 128];
	FILE *f;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char perms[8];
		int pos = 0;
		char *name, *nl;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &off, &pos) < 4 || !pos)
			continue;
		name = line + pos;
		nl = strchr(name, '\n');
		if (nl)
			*nl = '\0';
		if (strcmp(name, exe))
			continue;
		for (size_t i = 0; i < img->nload; i++) {
			const GElf_Phdr *ph = &img->load[i];
			uint64_t pstart = ph->p_offset & ~(uint64_t)(ph->p_align ? ph->p_align - 1 : 0);

			if (off >= pstart && off < ph->p_offset + ph->p_filesz) {
				*bias = start - (ph->p_vaddr + off - ph->p_offset);
				err = 0;
				break;
			}
		}
	}
	fclose(f);
	return err;
}

static bool target_exists(pid_t pid);

int proc_tgid(pid_t tid, pid_t *tgid)
{
	char path[64], line[256];
	FILE *f;
	int v, err = -ESRCH;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (err && fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &v) == 1 && v > 0) {
			*tgid = v;
			err = 0;
		}
	fclose(f);
	return err;
}

/*
 * Why a process that exists has no executable to read: it has exited and
 * waits to be reaped, or it is a kernel thread (PF_KTHREAD in the flags of
 * /proc/PID/stat), or neither.
 */
static enum target_problem no_exe_problem(pid_t pid)
{
	char path[64], buf[1024], state;
	unsigned long flags;
	const char *after_comm;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return TARGET_NOT_ELF;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name is in parentheses and may hold anything, ')' too. */
	after_comm = strrchr(buf, ')');
	if (!after_comm || sscanf(after_comm + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return TARGET_NOT_ELF;
	if (state == 'Z' || state == 'X')
		return TARGET_ZOMBIE;
	return flags & PF_KTHREAD ? TARGET_KTHREAD : TARGET_NOT_ELF;
}

int target__open(pid_t pid, struct target **out, enum target_problem *problem)
{
	struct target *t = xcalloc(1, sizeof(*t));
	ssize_t n;
	int err;

	*problem = TARGET_OK;
	t->pid = pid;
	snprintf(t->proc_exe, sizeof(t->proc_exe), "/proc/%d/exe", (int)pid);
	snprintf(t->root, sizeof(t->root), "/proc/%d/root", (int)pid);
	if (pid <= 0 || (kill(pid, 0) && errno == ESRCH)) {
		err = -ESRCH;
		goto fail;
	}
	n = readlink(t->proc_exe, t->exe, sizeof(t->exe) - 1);
	if (n < 0 && errno == ENOENT && target_exists(pid)) {
		*problem = no_exe_problem(pid);
		err = -ENOEXEC;
		goto fail;
	}
	if (n < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto fail;
	}
	t->exe[n] = '\0';
	err = open_image(t, t->proc_exe, problem);
	if (err)
		goto fail;
	/* A target without a readable map still gets latency; memory reads need the bias. */
	t->bias_known = !proc_load_bias(pid, t->exe, t->img, &t->bias);
	*out = t;
	return 0;
fail:
	target__close(t);
	return err;
}

int target__open_binary(const char *path, struct target **out, enum target_problem *problem)
{
	struct target *t = xcalloc(1, sizeof(*t));
	int err;

	*problem = TARGET_OK;
	snprintf(t->exe, sizeof(t->exe), "%s", path);
	err = open_image(t, path, problem);
	if (err) {
		target__close(t);
		return err;
	}
	*out = t;
	return 0;
}

void target__close(struct target *t)
{
	if (!t)
		return;
	analysis__free(t->an);
	elf_image__close(t->img);
	free(t);
}

static bool target_exists(pid_t pid)
{
	return !kill(pid, 0) || errno != ESRCH;
}

bool target__alive(const struct target *t)
{
	return target_exists(t->pid);
}

int target__read(const struct target *t, uint64_t vaddr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)(vaddr + t->bias), .iov_len = len };
	ssize_t n;

	if (!t->bias_known || !t->pid)
		return -ENOENT;
	n = process_vm_readv(t->pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

const char *target__evict_name(const struct target *t)
{
	return t->legacy ? "freeMemoryIfNeeded" : "performEvictions";
}
