/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * elf_image.h: one ELF executable opened with libelf: its function symbols
 * (.symtab and .dynsym), GNU build-id, loadable segments and bytes. Every
 * probe site is resolved and checked against this view of the file.
 */
#ifndef REDPROF_ELF_IMAGE_H
#define REDPROF_ELF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gelf.h>

#define BUILD_ID_MAX 64		/* bytes; SHA-1 ids are 20 */

struct elf_sym {
	const char *name;	/* owned by libelf, valid while the image is open */
	uint64_t addr;		/* link-time virtual address */
	uint64_t size;
	bool dynamic;		/* found in .dynsym */
};

struct elf_image {
	char *path;
	int fd;
	Elf *elf;
	const uint8_t *raw;	/* the whole file, read into memory by libelf */
	size_t raw_size;
	bool pie;		/* ET_DYN: loaded at a bias */
	GElf_Phdr *load;	/* PT_LOAD headers */
	size_t nload;
	struct elf_sym *funcs;	/* STT_FUNC symbols with a size, sorted by addr */
	size_t nfuncs;
	struct elf_sym *objects;	/* STT_OBJECT symbols, sorted by addr */
	size_t nobjects;
	bool has_symtab;	/* not stripped */
	bool has_debug_info;	/* .debug_info present in the file itself */
	char build_id[2 * BUILD_ID_MAX + 1];	/* hex, "" when absent */
};

/*
 * Opens PATH; -ENOEXEC when it is not a 64-bit x86-64 ELF executable,
 * -EBADMSG when it is an ELF file cut short or whose headers point outside
 * it (a truncated copy, a corrupted file).
 */
int elf_image__open(const char *path, struct elf_image **out);
void elf_image__close(struct elf_image *img);

/*
 * The function called NAME. -ENOENT when there is none, -ENOTUNIQ when the
 * name maps to functions at different addresses (say, two static functions
 * of that name): refusing beats picking one.
 */
int elf_image__func(const struct elf_image *img, const char *name, struct elf_sym *out);

/* The data object called NAME (e.g. the `server` global); same errors. */
int elf_image__object(const struct elf_image *img, const char *name, struct elf_sym *out);

/* The function symbol whose extent holds ADDR, or NULL. */
const struct elf_sym *elf_image__func_at(const struct elf_image *img, uint64_t addr);

/* The object symbol whose extent holds ADDR, or NULL. */
const struct elf_sym *elf_image__object_at(const struct elf_image *img, uint64_t addr);

/* Every function symbol starting exactly at ADDR, in *first..*first+n. */
size_t elf_image__funcs_at(const struct elf_image *img, uint64_t addr, const struct elf_sym **first);

/*
 * Whether NAME is BASE or one of the compiler's variants of it:
 * BASE.cold, BASE.part.N, BASE.constprop.N, BASE.isra.N, BASE.lto_priv.N
 * and combinations of those suffixes.
 */
bool elf_sym_is_variant(const char *name, const char *base);

/* File offset of link-time address VADDR (what a uprobe is placed at); -ERANGE outside the file. */
int elf_image__file_offset(const struct elf_image *img, uint64_t vaddr, uint64_t *off);

/* LEN bytes of the file at link-time address VADDR, or NULL when not all in the file. */
const uint8_t *elf_image__bytes(const struct elf_image *img, uint64_t vaddr, size_t len);

/* Whether VADDR lies in a writable loadable segment (a global variable). */
bool elf_image__is_data(const struct elf_image *img, uint64_t vaddr);

/* Whether VADDR lies in an executable loadable segment. */
bool elf_image__is_text(const struct elf_image *img, uint64_t vaddr);

/*
 * The function the dynamic loader puts in the GOT slot at link-time
 * address SLOT (a PLT stub or a -fno-plt call jumps through it), or NULL.
 */
const char *elf_image__import_at(const struct elf_image *img, uint64_t slot);

#endif /* REDPROF_ELF_IMAGE_H */
