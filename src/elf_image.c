// SPDX-License-Identifier: BSD-3-Clause
/*
 * elf_image.c: the ELF view of a Redis executable.
 *
 * Redis links with -rdynamic, so even a stripped distro build keeps its
 * functions and the `server` global in .dynsym; an unstripped build adds
 * .symtab with static functions and compiler-made parts (.cold, .part.N).
 * Both tables are merged here, deduplicated by (name, address).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elfutils/libdwelf.h>

#include "elf_image.h"
#include "util.h"

static int sym_cmp_addr(const void *a, const void *b)
{
	const struct elf_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Appends the named, sized symbols of TYPE from one symbol table section. */
static int collect_syms(struct elf_image *img, Elf_Scn *scn, GElf_Shdr *sh, int type,
			struct elf_sym **arr, size_t *n, size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	if (!data)
		return -EINVAL;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		if (GELF_ST_TYPE(sym.st_info) != type || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		name = elf_strptr(img->elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 1024;
			*arr = xreallocarray(*arr, *cap, sizeof(**arr));
		}
		(*arr)[(*n)++] = (struct elf_sym){
			.name = name,
			.addr = sym.st_value,
			.size = sym.st_size,
			.dynamic = sh->sh_type == SHT_DYNSYM,
		};
	}
	return 0;
}

/* Sorts by address and folds the .symtab/.dynsym copies of one symbol. */
static void sort_dedup(struct elf_sym *arr, size_t *n)
{
	size_t out = 0;

	if (!*n)
		return;	/* ARR is NULL: qsort() must not see it */
	qsort(arr, *n, sizeof(*arr), sym_cmp_addr);
	for (size_t i = 0; i < *n; i++) {
		if (out && arr[out - 1].addr == arr[i].addr && !strcmp(arr[out - 1].name, arr[i].name)) {
			arr[out - 1].dynamic |= arr[i].dynamic;
			if (!arr[out - 1].size)
				arr[out - 1].size = arr[i].size;
			continue;
		}
		arr[out++] = arr[i];
	}
	*n = out;
}

static int read_tables(struct elf_image *img)
{
	size_t shstrndx, fcap = 0, ocap = 0;
	Elf_Scn *scn = NULL;
	int err;

	if (elf_getshdrstrndx(img->elf, &shstrndx))
		return -ENOEXEC;
	while ((scn = elf_nextscn(img->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			return -ENOEXEC;
		name = elf_strptr(img->elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".debug_info"))
			img->has_debug_info = true;
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			img->has_symtab = true;
		err = collect_syms(img, scn, &sh, STT_FUNC, &img->funcs, &img->nfuncs, &fcap);
		if (!err)
			err = collect_syms(img, scn, &sh, STT_OBJECT, &img->objects, &img->nobjects, &ocap);
		if (err)
			return err;
	}
	sort_dedup(img->funcs, &img->nfuncs);
	sort_dedup(img->objects, &img->nobjects);
	return 0;
}

static int read_segments(struct elf_image *img)
{
	size_t nph;

	if (elf_getphdrnum(img->elf, &nph))
		return -ENOEXEC;
	img->load = xcalloc(nph ? nph : 1, sizeof(*img->load));
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(img->elf, (int)i, &ph))
			return -ENOEXEC;
		if (ph.p_type == PT_LOAD)
			img->load[img->nload++] = ph;
	}
	return img->nload ? 0 : -ENOEXEC;
}

static void read_build_id(struct elf_image *img)
{
	const void *id;
	ssize_t len = dwelf_elf_gnu_build_id(img->elf, &id);

	if (len <= 0 || len > BUILD_ID_MAX)
		return;
	hex_encode(id, (size_t)len, img->build_id);
}

/* Whether END = OFF + LEN (LEN as COUNT entries of SIZE) lies within a file of FILE_SIZE bytes. */
static bool fits(uint64_t off, uint64_t count, uint64_t size, uint64_t file_size)
{
	uint64_t len;

	return !__builtin_mul_overflow(count, size, &len) && off <= file_size && len <= file_size - off;
}

/*
 * Whether every header table, section and loadable segment the headers
 * name lies within the file: a truncated copy otherwise reads as a
 * program without symbols.
 */
static bool whole_file(const struct elf_image *img, const GElf_Ehdr *eh)
{
	Elf_Scn *scn = NULL;
	size_t nph, nsh;

	/* The header's own counts first: libelf counts no sections when their table is cut off. */
	if (!fits(eh->e_phoff, eh->e_phnum, eh->e_phentsize, img->raw_size) ||
	    !fits(eh->e_shoff, eh->e_shnum ? eh->e_shnum : eh->e_shoff != 0, eh->e_shentsize, img->raw_size) ||
	    elf_getphdrnum(img->elf, &nph) || elf_getshdrnum(img->elf, &nsh) ||
	    !fits(eh->e_phoff, nph, eh->e_phentsize, img->raw_size) ||
	    !fits(eh->e_shoff, nsh, eh->e_shentsize, img->raw_size))
		return false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(img->elf, (int)i, &ph) ||
		    (ph.p_type == PT_LOAD && !fits(ph.p_offset, 1, ph.p_filesz, img->raw_size)))
			return false;
	}
	while ((scn = elf_nextscn(img->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_NOBITS && !fits(sh.sh_offset, 1, sh.sh_size, img->raw_size)))
			return false;
	}
	return true;
}

int elf_image__open(const char *path, struct elf_image **out)
{
	struct elf_image *img = xcalloc(1, sizeof(*img));
	struct stat st;
	GElf_Ehdr eh;
	int err;

	img->fd = -1;
	img->path = xstrdup(path);
	if (elf_version(EV_CURRENT) == EV_NONE) {
		err = -ENOSYS;
		goto fail;
	}
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0 || fstat(img->fd, &st)) {
		err = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto fail;
	}
	/*
	 * Read, not mmap: the kernel plants uprobe breakpoints into every new
	 * mapping of a file that has system-wide uprobes (another tracer), so a
	 * mapping could show int3 where the file has the real instruction.
	 */
	img->elf = elf_begin(img->fd, ELF_C_READ, NULL);
	if (img->elf)
		img->raw = (const uint8_t *)elf_rawfile(img->elf, &img->raw_size);
	if (!img->raw) {
		err = -ENOEXEC;
		goto fail;
	}
	if (elf_kind(img->elf) != ELF_K_ELF || !gelf_getehdr(img->elf, &eh)) {
		/* The ELF magic, then too few bytes for a header: a truncated copy. */
		err = img->raw_size >= SELFMAG && !memcmp(img->raw, ELFMAG, SELFMAG) ? -EBADMSG : -ENOEXEC;
		goto fail;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)) {
		err = -ENOEXEC;
		goto fail;
	}
	img->pie = eh.e_type == ET_DYN;
	if (!whole_file(img, &eh)) {
		err = -EBADMSG;
		goto fail;
	}
	err = read_segments(img);
	if (!err)
		err = read_tables(img);
	if (err)
		goto fail;
	read_build_id(img);
	*out = img;
	return 0;
fail:
	elf_image__close(img);
	return err;
}

void elf_image__close(struct elf_image *img)
{
	if (!img)
		return;
	if (img->elf)
		elf_end(img->elf);
	if (img->fd >= 0)
		close(img->fd);
	free(img->funcs);
	free(img->objects);
	free(img->load);
	free(img->path);
	free(img);
}

const char *elf_image__import_at(const struct elf_image *img, uint64_t slot)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(img->elf, scn))) {
		Elf_Data *data, *syms;
		Elf_Scn *symscn;
		GElf_Shdr sh, symsh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize ||
		    !(symscn = elf_getscn(img->elf, sh.sh_link)) || !gelf_getshdr(symscn, &symsh) ||
		    symsh.sh_type != SHT_DYNSYM || !(data = elf_getdata(scn, NULL)) || !(syms = elf_getdata(symscn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			GElf_Sym sym;
			int type;

			if (!gelf_getrela(data, (int)i, &r) || r.r_offset != slot)
				continue;
			type = (int)GELF_R_TYPE(r.r_info);
			if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) ||
			    !gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym))
				return NULL;
			return elf_strptr(img->elf, symsh.sh_link, sym.st_name);
		}
	}
	return NULL;
}

static int find_unique(const struct elf_sym *arr, size_t n, const char *name, struct elf_sym *out)
{
	const struct elf_sym *found = NULL;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(arr[i].name, name))
			continue;
		if (found && found->addr != arr[i].addr)
			return -ENOTUNIQ;
		found = &arr[i];
	}
	if (!found)
		return -ENOENT;
	*out = *found;
	return 0;
}

int elf_image__func(const struct elf_image *img, const char *name, struct elf_sym *out)
{
	return find_unique(img->funcs, img->nfuncs, name, out);
}

int elf_image__object(const struct elf_image *img, const char *name, struct elf_sym *out)
{
	return find_unique(img->objects, img->nobjects, name, out);
}

/* Index of the last symbol starting at or before ADDR, or -1. */
static ssize_t last_at_or_before(const struct elf_sym *arr, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (arr[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ssize_t)lo - 1;
}

static const struct elf_sym *sym_at(const struct elf_sym *arr, size_t n, uint64_t addr)
{
	/* Aliases share an address; any of them with an extent covering ADDR will do. */
	for (ssize_t i = last_at_or_before(arr, n, addr); i >= 0; i--) {
		if (addr < arr[i].addr + arr[i].size)
			return &arr[i];
		if (i > 0 && arr[i - 1].addr != arr[i].addr)
			break;
	}
	return NULL;
}

const struct elf_sym *elf_image__func_at(const struct elf_image *img, uint64_t addr)
{
	return sym_at(img->funcs, img->nfuncs, addr);
}

const struct elf_sym *elf_image__object_at(const struct elf_image *img, uint64_t addr)
{
	return sym_at(img->objects, img->nobjects, addr);
}

size_t elf_image__funcs_at(const struct elf_image *img, uint64_t addr, const struct elf_sym **first)
{
	ssize_t last = last_at_or_before(img->funcs, img->nfuncs, addr);
	ssize_t i = last;

	while (i >= 0 && img->funcs[i].addr == addr)
		i--;
	*first = &img->funcs[i + 1];
	return (size_t)(last - i);
}

bool elf_sym_is_variant(const char *name, const char *base)
{
	static const char *const suffixes[] = { "cold", "part", "constprop", "isra", "lto_priv", "localalias" };
	size_t blen = strlen(base);
	const char *p;

	if (strncmp(name, base, blen))
		return false;
	p = name + blen;
	while (*p == '.') {
		size_t i, n = 0;

		p++;
		for (i = 0; i < ARRAY_SIZE(suffixes); i++) {
			n = strlen(suffixes[i]);
			if (!strncmp(p, suffixes[i], n))
				break;
		}
		if (i == ARRAY_SIZE(suffixes))
			return false;
		p += n;
		/* .part.N, .cold.N, ... : a numbered clone */
		if (p[0] == '.' && p[1] >= '0' && p[1] <= '9') {
			p++;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	return *p == '\0';
}

int elf_image__file_offset(const struct elf_image *img, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < img->nload; i++) {
		const GElf_Phdr *ph = &img->load[i];

		if (vaddr >= ph->p_vaddr && vaddr < ph->p_vaddr + ph->p_filesz) {
			*off = vaddr - ph->p_vaddr + ph->p_offset;
			return 0;
		}
	}
	return -ERANGE;
}

const uint8_t *elf_image__bytes(const struct elf_image *img, uint64_t vaddr, size_t len)
{
	uint64_t off, end;

	if (elf_image__file_offset(img, vaddr, &off))
		return NULL;
	if (len && elf_image__file_offset(img, vaddr + len - 1, &end))
		return NULL;
	if (off + len > img->raw_size)
		return NULL;
	return img->raw + off;
}

static bool in_segment(const struct elf_image *img, uint64_t vaddr, GElf_Word flag)
{
	for (size_t i = 0; i < img->nload; i++) {
		const GElf_Phdr *ph = &img->load[i];

		if ((ph->p_flags & flag) && vaddr >= ph->p_vaddr && vaddr < ph->p_vaddr + ph->p_memsz)
			return true;
	}
	return false;
}

bool elf_image__is_data(const struct elf_image *img, uint64_t vaddr)
{
	return in_segment(img, vaddr, PF_W);
}

bool elf_image__is_text(const struct elf_image *img, uint64_t vaddr)
{
	return in_segment(img, vaddr, PF_X);
}
