// SPDX-License-Identifier: BSD-3-Clause
/*
 * unit-elf.c: symbol lookup and symbol-to-file-offset conversion, checked
 * against the running program itself: the bytes a fixture sees at its own
 * function must be the bytes the file holds at the offset we compute, and
 * its global read through the computed load bias must hold its value.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elf_image.h"
#include "target.h"
#include "tap.h"
#include "util.h"

#define MARKER 0x5245445052f0f1f2ULL

static char *fixture_path(const char *name)
{
	const char *top = getenv("top_builddir");

	return xasprintf("%s/t/%s", top ? top : ".", name);
}

/* First line the fixture prints for ARG. */
static int run_fixture(const char *path, const char *arg, char *out, size_t len)
{
	char *cmd = xasprintf("'%s' %s", path, arg);
	FILE *p = popen(cmd, "r");
	int rc = -1;

	free(cmd);
	if (!p)
		return -1;
	if (fgets(out, (int)len, p)) {
		out[strcspn(out, "\n")] = '\0';
		rc = 0;
	}
	pclose(p);
	return rc;
}

static void check_fixture(const char *name, bool pie, uint64_t text_shift)
{
	char *path = fixture_path(name);
	struct elf_image *img = NULL;
	struct elf_sym sym, marker;
	char want[64], got[64];
	uint64_t off = 0;
	int err;

	err = elf_image__open(path, &img);
	if (!ok(!err, "%s: opens as an ELF executable", name)) {
		diag("  %s: %s", path, strerror(-err));
		free(path);
		return;
	}
	ok(img->pie == pie, "%s: %s", name, pie ? "is position independent" : "is not position independent");
	ok(strlen(img->build_id) == 40, "%s: has a GNU build-id", name);
	ok(!elf_image__func(img, "probe_target", &sym), "%s: finds probe_target", name);
	ok(!elf_image__file_offset(img, sym.addr, &off), "%s: converts probe_target's address", name);
	is_u64(sym.addr - off, text_shift, "%s: address minus file offset is the segment's shift", name);
	hex_encode(img->raw + off, 16, got);
	ok(!run_fixture(path, "bytes", want, sizeof(want)), "%s: runs and reports its own code", name);
	is_str(got, want, "%s: the file bytes at the offset are the code the program runs", name);
	is_u64(elf_image__func(img, "dup_name", &sym), (uint64_t)-ENOTUNIQ,
	       "%s: a name of two static functions is refused", name);
	is_u64(elf_image__func(img, "no_such_function", &sym), (uint64_t)-ENOENT,
	       "%s: a missing function is reported missing", name);
	ok(!elf_image__object(img, "marker", &marker) && elf_image__is_data(img, marker.addr),
	   "%s: finds the data object marker in a writable segment", name);
	ok(elf_image__func_at(img, sym.addr + 1) == NULL || strcmp(elf_image__func_at(img, sym.addr + 1)->name, "dup_name"),
	   "%s: func_at does not answer with a different function's alias", name);

	/* The load bias from /proc/PID/maps, checked by reading marker from outside. */
	{
		int pfd[2];
		pid_t child;
		char ready[16] = "";
		uint64_t bias = 0, v = 0;
		char *real = realpath(path, NULL);

		if (pipe(pfd) || !real) {
			ok(0, "%s: set up the running fixture", name);
			free(real);
			goto out;
		}
		child = fork();
		if (child == 0) {
			dup2(pfd[1], 1);
			close(pfd[0]);
			execl(path, path, "wait", (char *)NULL);
			_exit(127);
		}
		close(pfd[1]);
		if (read(pfd[0], ready, sizeof(ready) - 1) <= 0)
			ready[0] = '\0';
		close(pfd[0]);
		err = proc_load_bias(child, real, img, &bias);
		ok(!err, "%s: finds its load bias in /proc/PID/maps", name);
		if (!err) {
			struct iovec l = { &v, sizeof(v) };
			struct iovec r = { (void *)(uintptr_t)(marker.addr + bias), sizeof(v) };

			process_vm_readv(child, &l, 1, &r, 1, 0);
		}
		is_u64(v, MARKER, "%s: marker read at link address + bias holds its value", name);
		if (pie)
			ok(bias != 0, "%s: a PIE is loaded at a non-zero bias", name);
		else
			is_u64(bias, 0, "%s: a fixed-address executable has no bias", name);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		free(real);
	}
out:
	elf_image__close(img);
	free(path);
}

static void check_variants(void)
{
	ok(elf_sym_is_variant("performEvictions", "performEvictions"), "the base name is a variant of itself");
	ok(elf_sym_is_variant("performEvictions.cold", "performEvictions"), ".cold is a part");
	ok(elf_sym_is_variant("freeMemoryGetNotCountedMemory.part.0", "freeMemoryGetNotCountedMemory"),
	   ".part.N is a clone");
	ok(elf_sym_is_variant("getMaxmemoryState.constprop.0.isra.0", "getMaxmemoryState"),
	   "stacked suffixes are a clone");
	ok(elf_sym_is_variant("zmalloc_used_memory.lto_priv.0", "zmalloc_used_memory"), ".lto_priv.N is a clone");
	ok(!elf_sym_is_variant("performEvictionsNow", "performEvictions"), "a longer name is another function");
	ok(!elf_sym_is_variant("performEvictions.foo", "performEvictions"), "an unknown suffix is another symbol");
}

/*
 * Copies of fixture NAME cut short: the ELF magic alone, the header
 * without what it points to, and all but the last byte (the section
 * headers end the file) are each a truncated file, not a non-executable.
 */
static void check_truncated(const char *name)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *path = fixture_path(name), *tmp = xasprintf("%s/unit-elf-cut.XXXXXX", dir);
	struct elf_image *img = NULL;
	uint8_t *bytes = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "rb");
	int fd = mkstemp(tmp);

	if (f) {
		FILE *m = open_memstream((char **)&bytes, &len);
		int c;

		while ((c = fgetc(f)) != EOF)
			fputc(c, m);
		fclose(m);
		fclose(f);
	}
	if (!ok(fd >= 0 && len > 4096, "%s: read for truncated copies (%zu bytes)", name, len))
		goto out;
	for (size_t keep = 4; keep < len; keep = keep < 64 ? 64 : keep < len - 1 ? len - 1 : len) {
		int err;

		if (ftruncate(fd, 0) || pwrite(fd, bytes, keep, 0) != (ssize_t)keep)
			break;
		err = elf_image__open(tmp, &img);
		is_u64(err, (uint64_t)-EBADMSG, "%s cut to %zu of %zu bytes: truncated (%s)", name, keep, len,
		       strerror(-err));
		if (!err)
			elf_image__close(img);
	}
	ok(!elf_image__open("/tmp", &img) ? (elf_image__close(img), 0) : 1, "a directory is not opened");
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(bytes);
	free(tmp);
	free(path);
}

int main(void)
{
	struct elf_image *img;

	check_fixture("fixture-pie", true, 0);
	check_fixture("fixture-nopie", false, 0x400000);
	check_variants();
	check_truncated("fixture-pie");
	is_u64(elf_image__open("/etc/hostname", &img), (uint64_t)-ENOEXEC, "a text file is not an executable");
	return tap_done();
}
