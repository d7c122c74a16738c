// SPDX-License-Identifier: BSD-3-Clause
/*
 * x86.c: the names of register families and instruction classes, as the
 * offset files spell them.
 */
#include "config.h"

#include <string.h>

#include "x86.h"

static const char *const gpr_names[GPR_N] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

const char *gpr_name(enum gpr r)
{
	return r >= 0 && r < GPR_N ? gpr_names[r] : "?";
}

enum gpr gpr_parse(const char *name)
{
	for (int i = 0; i < GPR_N; i++)
		if (!strcmp(name, gpr_names[i]))
			return (enum gpr)i;
	return GPR_NONE;
}

const char *insn_class_name(enum insn_class cls)
{
	return cls == INSN_EMULATED ? "emulated" : "single-stepped";
}
