// SPDX-License-Identifier: BSD-3-Clause
/*
 * binary-analysis.c: libFuzzer harness for everything redprof does with an
 * executable it did not build, through analysis__generate() as `redprof
 * offsets generate` runs it: reading the ELF file (elf_image), recognising
 * a server (target), disassembly and control flow (disasm, flow), the
 * interpreter (emu), the generator's searches (evict_analysis,
 * site_disasm, site_dwarf, server_fields) and the checks every file passes
 * (site_verify). Whatever the bytes, it must return: an offset file that
 * passes the checks, or a reason.
 *
 * An input that starts with the ELF magic is the executable itself (seeds:
 * the small programs make check builds for the tests). Any other input is
 * a list of patches to the server named by $REDPROF_FUZZ_BASE (t/fuzz.t
 * gives Debian's redis-server), each aimed at what the analysis reads: the
 * ELF and program headers, the section headers, the dynamic symbols and
 * their names, or the code of performEvictions and of the functions it
 * inspects. Either way the executable is written to a memfd and opened by
 * path, as redprof opens /proc/PID/exe.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analysis.h"
#include "offsets.h"
#include "target.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PATCHES 64
#define MAX_PATCH 32

struct region {
	uint64_t off, size;	/* in the base file */
};

static int memfd = -1;
static char memfd_path[64];
static uint8_t *base;		/* $REDPROF_FUZZ_BASE, NULL without one */
static size_t base_size;
static struct region regions[16];
static size_t nregions;

static void add_region(uint64_t off, uint64_t size)
{
	if (size && off < base_size && size <= base_size - off && nregions < ARRAY_SIZE(regions))
		regions[nregions++] = (struct region){ off, size };
}

static void add_function(const struct elf_image *img, const char *name)
{
	struct elf_sym sym;
	uint64_t off;

	if (!elf_image__func(img, name, &sym) && !elf_image__file_offset(img, sym.addr, &off))
		add_region(off, sym.size);
}

/* The parts of the base file the analysis reads, for patches to aim at. */
static void find_regions(const char *path)
{
	static const char *const funcs[] = { "performEvictions", "zmalloc_used_memory",
					     "freeMemoryGetNotCountedMemory", "getMaxmemoryState", "call",
					     "processCommand", "RM_GetServerVersion" };
	struct elf_image *img;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;

	if (elf_image__open(path, &img) || !gelf_getehdr(img->elf, &eh))
		fatal("REDPROF_FUZZ_BASE=%s is not an executable redprof reads", path);
	add_region(0, eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize);
	add_region(eh.e_shoff, (uint64_t)eh.e_shnum * eh.e_shentsize);
	while ((scn = elf_nextscn(img->elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_DYNSYM || sh.sh_type == SHT_SYMTAB))
			add_region(sh.sh_offset, sh.sh_size);
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_STRTAB && sh.sh_flags & SHF_ALLOC)
			add_region(sh.sh_offset, sh.sh_size);
	}
	for (size_t i = 0; i < ARRAY_SIZE(funcs); i++)
		add_function(img, funcs[i]);
	add_region(0, base_size);
	elf_image__close(img);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("REDPROF_FUZZ_BASE");

	(void)argc, (void)argv;
	if (analysis_init())
		fatal("cannot initialise capstone");
	memfd = memfd_create("redprof-fuzz", MFD_CLOEXEC);
	if (memfd < 0)
		fatal("memfd_create: %m");
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	if (path) {
		FILE *f = fopen(path, "rb");
		long n;

		if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET))
			fatal("cannot read REDPROF_FUZZ_BASE=%s", path);
		base_size = (size_t)n;
		base = xmalloc(base_size);
		if (fread(base, 1, base_size, f) != base_size)
			fatal("cannot read REDPROF_FUZZ_BASE=%s", path);
		fclose(f);
		find_regions(path);
	}
	return 0;
}

/* DATA as patches to the base: region, 32-bit offset in it, length, bytes. */
static uint8_t *patched(const uint8_t *data, size_t size)
{
	uint8_t *out = xmalloc(base_size);

	memcpy(out, base, base_size);
	for (int n = 0; n < MAX_PATCHES && size >= 6; n++) {
		const struct region *r = &regions[data[0] % nregions];
		uint32_t off = data[1] | data[2] << 8 | data[3] << 16 | (uint32_t)data[4] << 24;
		uint64_t at = r->off + off % r->size;
		size_t len = data[5] % (MAX_PATCH + 1);

		data += 6;
		size -= 6;
		if (len > size)
			len = size;
		if (len > r->off + r->size - at)
			len = r->off + r->size - at;
		memcpy(out + at, data, len);
		data += len;
		size -= len;
	}
	return out;
}

static void analyse(const uint8_t *bytes, size_t size)
{
	enum target_problem problem;
	struct gen_result *r = xcalloc(1, sizeof(*r));
	struct offsets *o = xcalloc(1, sizeof(*o));
	struct target *t;

	if (ftruncate(memfd, 0) || pwrite(memfd, bytes, size, 0) != (ssize_t)size)
		fatal("cannot write the memfd: %m");
	if (!target__open_binary(memfd_path, &t, &problem)) {
		analysis__generate(t->an, t->flavor, t->version, STRATEGY_NONE, o, r);
		target__close(t);
	}
	free(o);
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size >= SELFMAG && !memcmp(data, ELFMAG, SELFMAG)) {
		analyse(data, size);
	} else if (base) {
		copy = patched(data, size);
		analyse(copy, base_size);
		free(copy);
	}
	return 0;
}
