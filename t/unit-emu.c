// SPDX-License-Identifier: BSD-3-Clause
/*
 * unit-emu.c: the interpreter's SSE model against the CPU. Functions of the
 * fixture t/fixtures/vector-sum.c run in the interpreter over the file's own
 * initialised data and must return what the program prints when it runs
 * them: a gcc-vectorised sum of 64-bit counters, a psrldq of a known
 * vector; and an unmodelled vector instruction must stop the run rather
 * than give a value.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "disasm.h"
#include "elf_image.h"
#include "emu.h"
#include "tap.h"
#include "util.h"

static const struct elf_image *image;

/* Initialised data as the file holds it. */
static uint64_t file_load(void *ctx, uint64_t addr)
{
	const uint8_t *b = elf_image__bytes(image, addr, 8);
	uint64_t v = 0;

	(void)ctx;
	if (b)
		memcpy(&v, b, 8);
	return v;
}

static int no_calls(void *ctx, struct emu *e, uint64_t target, uint64_t at)
{
	(void)ctx, (void)e, (void)target, (void)at;
	return -1;
}

/* Runs function NAME; its stop, and rax in *V when it returned. */
static enum emu_stop run(const char *name, bool *vector, uint64_t *v)
{
	struct emu_hooks hooks = { file_load, no_calls, NULL };
	struct code code = { 0 };
	struct elf_sym fn;
	struct emu e;
	enum emu_stop stop;

	if (elf_image__func(image, name, &fn) || disasm_linear(image, fn.addr, fn.size, &code))
		return EMU_LEFT;
	*vector = false;
	for (size_t i = 0; i < code.n; i++)
		*vector |= code.insns[i].cs->id == X86_INS_PADDQ;
	emu_init(&e, &code, &hooks);
	emu_set(&e, GPR_RSP, 0x7ff000000000ULL, 0);
	emu_write(&e, 0x7ff000000000ULL, 0, 8, 0);
	e.rip = fn.addr;
	stop = emu_run(&e, 10000);
	*v = e.regs.r[GPR_RAX];
	emu_free(&e);
	code_free(&code);
	return stop;
}

int main(void)
{
	const char *top = getenv("top_builddir");
	char *path = xasprintf("%s/t/fixture-vecsum", top ? top : ".");
	char *cmd = xasprintf("'%s'", path);
	unsigned long long want[3] = { 0 };
	struct elf_image *img = NULL;
	FILE *p = popen(cmd, "r");
	enum emu_stop stop;
	bool vector;
	uint64_t v = 0;

	ok(p && fscanf(p, "%llu %llu %llu", &want[0], &want[1], &want[2]) == 3, "the fixture runs and prints its sums");
	if (p)
		pclose(p);
	if (!ok(!disasm_init() && !elf_image__open(path, &img), "the fixture opens and capstone starts"))
		return 1;
	image = img;

	stop = run("sum_counters", &vector, &v);
	ok(vector, "gcc vectorised sum_counters with paddq (else this test would not test SSE)");
	ok(stop == EMU_RETURNED, "the vectorised sum runs to its return (%s)", emu_stop_name(stop));
	is_u64(v, want[0], "... and returns the CPU's sum");

	stop = run("high_lane", &vector, &v);
	is_u64(stop == EMU_RETURNED ? v : ~0ULL, want[1], "movdqu, psrldq $8, movq give the high lane");

	stop = run("unknown_lane", &vector, &v);
	ok(stop == EMU_UNSUPPORTED, "a vector the interpreter does not model stops the run (%s)", emu_stop_name(stop));

	elf_image__close(img);
	disasm_fini();
	free(cmd);
	free(path);
	return tap_done();
}
