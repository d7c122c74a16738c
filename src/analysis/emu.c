// SPDX-License-Identifier: BSD-3-Clause
/*
 * emu.c: the interpreter. Only what it models is run; everything else
 * stops the run with EMU_UNSUPPORTED, so an analysis built on it sees a
 * shorter trace, never a wrong one. The SSE moves and 64-bit lane
 * arithmetic of a vectorised sum are modelled; any other instruction that
 * only touches vector registers is skipped, leaving the vector registers
 * it writes unknown (moving an unknown one to an integer register stops
 * the run); ones that only set flags make the flags unknown, and a branch
 * on unknown flags stops the run.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "util.h"

/* --------------------------------------------------------------------
 * Memory: 8-byte words written by the run, the rest from the hook
 * ------------------------------------------------------------------ */

static struct emu_mem_entry *mem_find(const struct emu *e, uint64_t w)
{
	size_t mask = e->mem_cap - 1, i;

	if (!e->mem_cap)
		return NULL;
	for (i = (size_t)(w * 0x9E3779B97F4A7C15ULL >> 17) & mask; e->mem[i].addr; i = (i + 1) & mask)
		if (e->mem[i].addr == w)
			return &e->mem[i];
	return NULL;
}

static struct emu_mem_entry *mem_insert(struct emu *e, uint64_t w)
{
	struct emu_mem_entry *m = mem_find(e, w);
	size_t mask, i;

	if (m)
		return m;
	if ((e->mem_n + 1) * 2 > e->mem_cap) {
		struct emu_mem_entry *old = e->mem;
		size_t oldcap = e->mem_cap;

		e->mem_cap = oldcap ? oldcap * 2 : 256;
		e->mem = xcalloc(e->mem_cap, sizeof(*e->mem));
		e->mem_n = 0;
		for (size_t k = 0; k < oldcap; k++)
			if (old[k].addr)
				*mem_insert(e, old[k].addr) = old[k];
		free(old);
	}
	mask = e->mem_cap - 1;
	for (i = (size_t)(w * 0x9E3779B97F4A7C15ULL >> 17) & mask; e->mem[i].addr; i = (i + 1) & mask)
		;
	e->mem[i].addr = w;
	e->mem_n++;
	return &e->mem[i];
}

/* Memory as the run sees it: bytes it wrote, else the hook's word, asked once per word. */
uint64_t emu_read(struct emu *e, uint64_t addr, int size)
{
	uint64_t v = 0;
	int i = 0;

	while (i < size) {
		uint64_t a = addr + (uint64_t)i, w = a & ~7ULL, word = 0;
		const struct emu_mem_entry *m = mem_find(e, w);
		bool loaded = false;

		for (unsigned b = (unsigned)(a & 7); b < 8 && i < size; b++, i++) {
			uint64_t from = m && (m->mask >> b & 1) ? m->val : word;

			if (!(m && (m->mask >> b & 1)) && !loaded) {
				from = word = e->hooks.load(e->hooks.ctx, w);
				loaded = true;
			}
			v |= (from >> (8 * b) & 0xff) << (8 * i);
		}
	}
	return v;
}

void emu_write(struct emu *e, uint64_t addr, uint64_t val, int size, uint64_t writer)
{
	for (int i = 0; i < size; i++) {
		uint64_t a = addr + (uint64_t)i;
		struct emu_mem_entry *m = mem_insert(e, a & ~7ULL);
		unsigned b = (unsigned)(a & 7);

		m->val = (m->val & ~(0xffULL << (8 * b))) | ((val >> (8 * i) & 0xff) << (8 * b));
		m->mask |= (uint8_t)(1U << b);
		m->writer = writer;
	}
}

uint64_t emu_mem_writer(const struct emu *e, uint64_t addr)
{
	const struct emu_mem_entry *m = mem_find(e, addr & ~7ULL);

	return m ? m->writer : 0;
}

/* --------------------------------------------------------------------
 * Registers
 * ------------------------------------------------------------------ */

static uint64_t size_mask(int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static bool high_byte(unsigned reg)
{
	return reg == X86_REG_AH || reg == X86_REG_BH || reg == X86_REG_CH || reg == X86_REG_DH;
}

void emu_set(struct emu *e, enum gpr r, uint64_t v, uint64_t at)
{
	e->regs.r[r] = v;
	e->regs.writer[r] = at;
	e->regs.load_from[r] = 0;
}

static uint64_t get_reg(const struct emu *e, const struct insn *in, unsigned reg, int size)
{
	enum gpr g;

	if (reg == X86_REG_RIP)
		return in->addr + in->size;
	g = gpr_of(reg);
	if (g == GPR_NONE)
		return 0;
	if (high_byte(reg))
		return e->regs.r[g] >> 8 & 0xff;
	return e->regs.r[g] & size_mask(size);
}

/* Writes SIZE bytes of V to REG with x86-64's rules: 32-bit writes zero-extend. */
static void set_reg(struct emu *e, const struct insn *in, unsigned reg, int size, uint64_t v)
{
	enum gpr g = gpr_of(reg);
	uint64_t old;

	if (g == GPR_NONE)
		return;
	old = e->regs.r[g];
	if (high_byte(reg))
		v = (old & ~0xff00ULL) | ((v & 0xff) << 8);
	else if (size == 4)
		v &= 0xffffffffULL;
	else if (size < 8)
		v = (old & ~size_mask(size)) | (v & size_mask(size));
	emu_set(e, g, v, in->addr);
}

static bool mem_addr(const struct emu *e, const struct insn *in, const cs_x86_op *op, uint64_t *addr)
{
	uint64_t a = (uint64_t)op->mem.disp;

	/* Thread-local storage (the stack protector's canary): a fixed stand-in base. */
	if (op->mem.segment == X86_REG_FS)
		a += 0x7ffe00000000ULL;
	else if (op->mem.segment == X86_REG_GS)
		a += 0x7ffd00000000ULL;
	else if (op->mem.segment != X86_REG_INVALID)
		return false;
	if (op->mem.base != X86_REG_INVALID)
		a += get_reg(e, in, op->mem.base, 8);
	if (op->mem.index != X86_REG_INVALID)
		a += get_reg(e, in, op->mem.index, 8) * (uint64_t)op->mem.scale;
	*addr = a;
	return true;
}

static bool op_value(struct emu *e, const struct insn *in, const cs_x86_op *op, uint64_t *v)
{
	uint64_t a;

	switch (op->type) {
	case X86_OP_REG:
		*v = get_reg(e, in, op->reg, op->size);
		return true;
	case X86_OP_IMM:
		*v = (uint64_t)op->imm;
		return true;
	case X86_OP_MEM:
		if (!mem_addr(e, in, op, &a))
			return false;
		*v = emu_read(e, a, op->size);
		return true;
	default:
		return false;
	}
}

static bool op_write(struct emu *e, const struct insn *in, const cs_x86_op *op, uint64_t v)
{
	uint64_t a;

	if (op->type == X86_OP_REG) {
		set_reg(e, in, op->reg, op->size, v);
		return true;
	}
	if (op->type == X86_OP_MEM && mem_addr(e, in, op, &a)) {
		emu_write(e, a, v, op->size, in->addr);
		return true;
	}
	return false;
}

bool emu_operand(struct emu *e, const struct insn *in, int i, uint64_t *value, uint64_t *from)
{
	const cs_x86 *x = &in->cs->detail->x86;
	const cs_x86_op *op;

	if (i >= x->op_count)
		return false;
	op = &x->operands[i];
	*from = 0;
	if (op->type == X86_OP_REG && op->size == 8 && gpr_of(op->reg) != GPR_NONE)
		*from = e->regs.load_from[gpr_of(op->reg)];
	else if (op->type == X86_OP_MEM && !mem_addr(e, in, op, from))
		return false;
	return op_value(e, in, op, value);
}

/* --------------------------------------------------------------------
 * SSE: the moves and 64-bit lane arithmetic of a vectorised sum
 * ------------------------------------------------------------------ */

static int xmm_of(const cs_x86_op *op)
{
	if (op->type != X86_OP_REG || op->reg < X86_REG_XMM0 || op->reg > X86_REG_XMM15)
		return -1;
	return (int)(op->reg - X86_REG_XMM0);
}

/* The 128 bits OP holds (an xmm register or memory); false when unknown or not one of those. */
static bool vec_value(struct emu *e, const struct insn *in, const cs_x86_op *op, uint64_t v[2])
{
	int x = xmm_of(op);
	uint64_t a;

	if (x >= 0) {
		if (!(e->xmm_known >> x & 1))
			return false;
		v[0] = e->xmm[x][0];
		v[1] = e->xmm[x][1];
		return true;
	}
	if (op->type != X86_OP_MEM || !mem_addr(e, in, op, &a))
		return false;
	v[0] = emu_read(e, a, 8);
	v[1] = op->size == 16 ? emu_read(e, a + 8, 8) : 0;
	return true;
}

static void xmm_set(struct emu *e, int x, uint64_t lo, uint64_t hi)
{
	e->xmm[x][0] = lo;
	e->xmm[x][1] = hi;
	e->xmm_known |= (uint16_t)(1U << x);
}

/* 1 when IN is a modelled SSE instruction and ran, 0 when it is not one, -1 to stop. */
static int exec_vector(struct emu *e, const struct insn *in)
{
	const cs_x86 *x = &in->cs->detail->x86;
	const cs_x86_op *d = &x->operands[0], *s = &x->operands[1];
	int xd = xmm_of(d);
	uint64_t a[2], b[2];

	switch (in->cs->id) {
	case X86_INS_PXOR:
		if (xd < 0 || x->op_count != 2)
			return 0;
		if (xmm_of(s) == xd)
			xmm_set(e, xd, 0, 0);	/* the zeroing idiom, whatever it held */
		else if (vec_value(e, in, d, a) && vec_value(e, in, s, b))
			xmm_set(e, xd, a[0] ^ b[0], a[1] ^ b[1]);
		else
			e->xmm_known &= (uint16_t)~(1U << xd);
		return 1;
	case X86_INS_PADDQ:
		if (xd < 0 || x->op_count != 2)
			return 0;
		if (vec_value(e, in, d, a) && vec_value(e, in, s, b))
			xmm_set(e, xd, a[0] + b[0], a[1] + b[1]);
		else
			e->xmm_known &= (uint16_t)~(1U << xd);
		return 1;
	case X86_INS_PSRLDQ:
		if (xd < 0 || x->op_count != 2 || s->type != X86_OP_IMM)
			return 0;
		if (!vec_value(e, in, d, a)) {
			e->xmm_known &= (uint16_t)~(1U << xd);
		} else if (s->imm >= 16) {
			xmm_set(e, xd, 0, 0);
		} else if (s->imm >= 8) {
			xmm_set(e, xd, s->imm == 8 ? a[1] : a[1] >> (8 * (s->imm - 8)), 0);
		} else if (s->imm > 0) {
			xmm_set(e, xd, a[0] >> (8 * s->imm) | a[1] << (64 - 8 * s->imm), a[1] >> (8 * s->imm));
		}
		return 1;
	case X86_INS_PSHUFD:
		/* Dword I of the result is dword (IMM >> 2I) & 3 of the source (clang's reduction). */
		if (xd < 0 || x->op_count != 3 || x->operands[2].type != X86_OP_IMM)
			return 0;
		if (!vec_value(e, in, s, a)) {
			e->xmm_known &= (uint16_t)~(1U << xd);
		} else {
			uint32_t w[4] = { (uint32_t)a[0], (uint32_t)(a[0] >> 32), (uint32_t)a[1], (uint32_t)(a[1] >> 32) };
			uint64_t imm = (uint64_t)x->operands[2].imm;
			uint32_t o[4];

			for (int i = 0; i < 4; i++)
				o[i] = w[imm >> (2 * i) & 3];
			xmm_set(e, xd, o[0] | (uint64_t)o[1] << 32, o[2] | (uint64_t)o[3] << 32);
		}
		return 1;
	case X86_INS_PUNPCKHQDQ:
		/* The high quadwords of both: a reduction's other idiom. */
		if (xd < 0 || x->op_count != 2)
			return 0;
		if (vec_value(e, in, d, a) && vec_value(e, in, s, b))
			xmm_set(e, xd, a[1], b[1]);
		else
			e->xmm_known &= (uint16_t)~(1U << xd);
		return 1;
	case X86_INS_MOVDQU:
	case X86_INS_MOVDQA:
	case X86_INS_MOVQ:
	case X86_INS_MOVD:
		if (x->op_count != 2)
			return 0;
		if (xd >= 0) {
			bool whole = in->cs->id == X86_INS_MOVDQU || in->cs->id == X86_INS_MOVDQA;
			uint64_t v;

			if (whole || xmm_of(s) >= 0) {
				if (!vec_value(e, in, s, a)) {
					e->xmm_known &= (uint16_t)~(1U << xd);
					return 1;
				}
				/* movq/movd between vector registers keep the low 64/32 bits, zero the rest. */
				if (!whole) {
					a[0] &= in->cs->id == X86_INS_MOVD ? 0xffffffffULL : ~0ULL;
					a[1] = 0;
				}
				xmm_set(e, xd, a[0], a[1]);
				return 1;
			}
			if (!op_value(e, in, s, &v))
				return -1;
			xmm_set(e, xd, v & size_mask(s->size), 0);
			return 1;
		}
		if (xmm_of(s) < 0)
			return 0;
		/* To an integer register or memory: only a value the run knows. */
		if (!vec_value(e, in, s, a))
			return -1;
		if (d->type == X86_OP_MEM && d->size == 16) {
			uint64_t addr;

			if (!mem_addr(e, in, d, &addr))
				return -1;
			emu_write(e, addr, a[0], 8, in->addr);
			emu_write(e, addr + 8, a[1], 8, in->addr);
			return 1;
		}
		return op_write(e, in, d, a[0]) ? 1 : -1;
	default:
		return 0;
	}
}

/*
 * A vector instruction the interpreter does not model: every vector
 * register it names becomes unknown, written or not (capstone's access
 * flags are not relied on), and ymm/zmm names count as their xmm.
 */
static void forget_vectors(struct emu *e, const struct insn *in)
{
	const cs_x86 *x = &in->cs->detail->x86;

	for (int i = 0; i < x->op_count; i++) {
		unsigned reg = x->operands[i].type == X86_OP_REG ? x->operands[i].reg : X86_REG_INVALID;
		int r = -1;

		if (reg >= X86_REG_XMM0 && reg <= X86_REG_XMM15)
			r = (int)(reg - X86_REG_XMM0);
		else if (reg >= X86_REG_YMM0 && reg <= X86_REG_YMM15)
			r = (int)(reg - X86_REG_YMM0);
		else if (reg >= X86_REG_ZMM0 && reg <= X86_REG_ZMM15)
			r = (int)(reg - X86_REG_ZMM0);
		if (r >= 0)
			e->xmm_known &= (uint16_t)~(1U << r);
	}
}

/* --------------------------------------------------------------------
 * Flags and conditions
 * ------------------------------------------------------------------ */

static bool msb(uint64_t v, int size)
{
	return v >> (8 * size - 1) & 1;
}

static void flags_logic(struct emu *e, uint64_t res, int size)
{
	res &= size_mask(size);
	e->cf = e->of = false;
	e->zf = res == 0;
	e->sf = msb(res, size);
	e->flags_known = true;
}

static uint64_t flags_add(struct emu *e, uint64_t a, uint64_t b, uint64_t carry, int size)
{
	uint64_t m = size_mask(size), res = (a + b + carry) & m;

	a &= m;
	b &= m;
	e->cf = size == 8 ? (res < a || (carry && res == a)) : ((a + b + carry) >> (8 * size)) & 1;
	e->of = msb((a ^ res) & (b ^ res), size);
	e->zf = res == 0;
	e->sf = msb(res, size);
	e->flags_known = true;
	return res;
}

static uint64_t flags_sub(struct emu *e, uint64_t a, uint64_t b, uint64_t borrow, int size)
{
	uint64_t m = size_mask(size), res = (a - b - borrow) & m;

	a &= m;
	b &= m;
	e->cf = a < b || (borrow && a == b);
	e->of = msb((a ^ b) & (a ^ res), size);
	e->zf = res == 0;
	e->sf = msb(res, size);
	e->flags_known = true;
	return res;
}

/* 1 true, 0 false, -1 unknown (parity is not tracked). */
static int cond_holds(const struct emu *e, enum x86_cc c)
{
	if (!e->flags_known)
		return -1;
	switch (c) {
	case X86_CC_O: return e->of;
	case X86_CC_NO: return !e->of;
	case X86_CC_B: return e->cf;
	case X86_CC_AE: return !e->cf;
	case X86_CC_E: return e->zf;
	case X86_CC_NE: return !e->zf;
	case X86_CC_BE: return e->cf || e->zf;
	case X86_CC_A: return !e->cf && !e->zf;
	case X86_CC_S: return e->sf;
	case X86_CC_NS: return !e->sf;
	case X86_CC_L: return e->sf != e->of;
	case X86_CC_GE: return e->sf == e->of;
	case X86_CC_LE: return e->zf || e->sf != e->of;
	case X86_CC_G: return !e->zf && e->sf == e->of;
	default: return -1;
	}
}

/* --------------------------------------------------------------------
 * Instructions
 * ------------------------------------------------------------------ */

static uint64_t sign_extend(uint64_t v, int from)
{
	int shift = 64 - 8 * from;

	return from >= 8 ? v : (uint64_t)((int64_t)(v << shift) >> shift);
}

static void push(struct emu *e, uint64_t v, uint64_t at)
{
	e->regs.r[GPR_RSP] -= 8;
	e->regs.writer[GPR_RSP] = at;
	emu_write(e, e->regs.r[GPR_RSP], v, 8, at);
}

/* The address control goes to after a branch: forced along a path, or by the flags. */
static int branch_next(struct emu *e, const struct insn *in, int taken, uint64_t *next)
{
	uint64_t fall = in->addr + in->size;

	if (e->forced && e->forced_pos + 1 < e->nforced && e->forced[e->forced_pos] == in->addr) {
		*next = e->forced[e->forced_pos + 1];
		return *next == in->target || *next == fall ? 0 : -1;
	}
	if (taken < 0)
		return -1;
	*next = taken ? in->target : fall;
	if (e->dead_end) {
		long to = code_index(e->code, *next), other = code_index(e->code, taken ? fall : in->target);

		if (to >= 0 && other >= 0 && e->dead_end[to] && !e->dead_end[other])
			*next = taken ? fall : in->target;
	}
	return 0;
}

/*
 * The instruction groups below each return 1 when IN is theirs and ran, 0
 * when it is not theirs, and -1 when it is theirs but cannot be run as
 * modelled (the run stops).
 */

/* Moves, sign and zero extensions, lea, xchg. */
static int exec_move(struct emu *e, const struct insn *in)
{
	const cs_x86 *x = &in->cs->detail->x86;
	const cs_x86_op *d = &x->operands[0], *s = &x->operands[1];
	uint64_t a, b;

	switch (in->cs->id) {
	case X86_INS_MOV:
	case X86_INS_MOVABS:
		if (!op_value(e, in, s, &a) || !op_write(e, in, d, a))
			return -1;
		if (d->type == X86_OP_REG && s->type == X86_OP_MEM && d->size == 8 && mem_addr(e, in, s, &b))
			e->regs.load_from[gpr_of(d->reg)] = b;
		return 1;
	case X86_INS_MOVZX:
		return op_value(e, in, s, &a) && op_write(e, in, d, a) ? 1 : -1;
	case X86_INS_MOVSX:
	case X86_INS_MOVSXD:
		return op_value(e, in, s, &a) && op_write(e, in, d, sign_extend(a, s->size)) ? 1 : -1;
	case X86_INS_LEA:
		return mem_addr(e, in, s, &a) && op_write(e, in, d, a) ? 1 : -1;
	case X86_INS_XCHG:
		if (d->type != X86_OP_REG || s->type != X86_OP_REG)
			return -1;
		a = get_reg(e, in, d->reg, d->size);
		b = get_reg(e, in, s->reg, d->size);
		set_reg(e, in, d->reg, d->size, b);
		set_reg(e, in, s->reg, d->size, a);
		return 1;
	case X86_INS_CDQE:
		emu_set(e, GPR_RAX, sign_extend(e->regs.r[GPR_RAX], 4), in->addr);
		return 1;
	case X86_INS_CDQ:
		emu_set(e, GPR_RDX, (e->regs.r[GPR_RAX] >> 31 & 1) ? 0xffffffffULL : 0, in->addr);
		return 1;
	case X86_INS_CQO:
		emu_set(e, GPR_RDX, (e->regs.r[GPR_RAX] >> 63) ? ~0ULL : 0, in->addr);
		return 1;
	default:
		return 0;
	}
}

static int exec_shift(struct emu *e, const struct insn *in)
{
	const cs_x86 *x = &in->cs->detail->x86;
	const cs_x86_op *d = &x->operands[0], *s = &x->operands[1];
	unsigned id = in->cs->id;
	int size = d->size, count;
	uint64_t a, b = 1, r;

	if (!op_value(e, in, d, &a) || (x->op_count > 1 && !op_value(e, in, s, &b)))
		return -1;
	count = (int)(b & (size == 8 ? 63 : 31));
	if (!count)
		return 1;
	a &= size_mask(size);
	if (id == X86_INS_SHR) {
		e->cf = a >> (count - 1) & 1;
		r = a >> count;
	} else if (id == X86_INS_SAR) {
		e->cf = sign_extend(a, size) >> (count - 1) & 1;
		r = (uint64_t)((int64_t)sign_extend(a, size) >> count);
	} else {
		e->cf = count <= 8 * size && (a >> (8 * size - count) & 1);
		r = a << count;
	}
	r &= size_mask(size);
	e->zf = r == 0;
	e->sf = msb(r, size);
	e->of = false;
	e->flags_known = true;
	return op_write(e, in, d, r) ? 1 : -1;
}

/* Integer arithmetic and logic, with the flags they set. */
static int exec_arith(struct emu *e, const struct insn *in)
{
	const cs_x86 *x = &in->cs->detail->x86;
	const cs_x86_op *d = &x->operands[0], *s = &x->operands[1];
	unsigned id = in->cs->id;
	int size = d->size;
	uint64_t a, b, r;
	bool cf;

	switch (id) {
	case X86_INS_ADD:
	case X86_INS_ADC:
	case X86_INS_SUB:
	case X86_INS_SBB:
	case X86_INS_CMP:
		if (!op_value(e, in, d, &a) || !op_value(e, in, s, &b))
			return -1;
		if ((id == X86_INS_ADC || id == X86_INS_SBB) && !e->flags_known)
			return -1;
		if (id == X86_INS_ADD || id == X86_INS_ADC)
			r = flags_add(e, a, b, id == X86_INS_ADC && e->cf, size);
		else
			r = flags_sub(e, a, b, id == X86_INS_SBB && e->cf, size);
		return id == X86_INS_CMP || op_write(e, in, d, r) ? 1 : -1;
	case X86_INS_AND:
	case X86_INS_OR:
	case X86_INS_XOR:
	case X86_INS_TEST:
		if (!op_value(e, in, d, &a) || !op_value(e, in, s, &b))
			return -1;
		r = id == X86_INS_OR ? a | b : id == X86_INS_XOR ? a ^ b : a & b;
		flags_logic(e, r, size);
		return id == X86_INS_TEST || op_write(e, in, d, r) ? 1 : -1;
	case X86_INS_INC:
	case X86_INS_DEC:
		if (!op_value(e, in, d, &a))
			return -1;
		cf = e->cf;
		r = id == X86_INS_INC ? flags_add(e, a, 1, 0, size) : flags_sub(e, a, 1, 0, size);
		e->cf = cf;	/* inc/dec leave CF alone */
		return op_write(e, in, d, r) ? 1 : -1;
	case X86_INS_NEG:
		if (!op_value(e, in, d, &a))
			return -1;
		return op_write(e, in, d, flags_sub(e, 0, a, 0, size)) ? 1 : -1;
	case X86_INS_NOT:
		return op_value(e, in, d, &a) && op_write(e, in, d, ~a) ? 1 : -1;
	case X86_INS_SHL:
	case X86_INS_SAL:
	case X86_INS_SHR:
	case X86_INS_SAR:
		return exec_shift(e, in);
	case X86_INS_IMUL:
		if (x->op_count == 2) {
			if (!op_value(e, in, d, &a) || !op_value(e, in, s, &b))
				return -1;
		} else if (x->op_count == 3) {
			if (!op_value(e, in, s, &a) || !op_value(e, in, &x->operands[2], &b))
				return -1;
		} else {
			return -1;
		}
		e->flags_known = false;
		return op_write(e, in, d, a * b) ? 1 : -1;
	default:
		return 0;
	}
}

/* push, pop, leave. */
static int exec_stack(struct emu *e, const struct insn *in)
{
	const cs_x86_op *d = &in->cs->detail->x86.operands[0];
	uint64_t a;

	switch (in->cs->id) {
	case X86_INS_PUSH:
		if (!op_value(e, in, d, &a))
			return -1;
		push(e, a, in->addr);
		return 1;
	case X86_INS_POP:
		a = emu_read(e, e->regs.r[GPR_RSP], 8);
		e->regs.r[GPR_RSP] += 8;
		e->regs.writer[GPR_RSP] = in->addr;
		return op_write(e, in, d, a) ? 1 : -1;
	case X86_INS_LEAVE:
		emu_set(e, GPR_RSP, e->regs.r[GPR_RBP], in->addr);
		emu_set(e, GPR_RBP, emu_read(e, e->regs.r[GPR_RSP], 8), in->addr);
		e->regs.r[GPR_RSP] += 8;
		return 1;
	default:
		return 0;
	}
}

/* cmovcc and setcc: a flag condition chooses the value. */
static int exec_conditional(struct emu *e, const struct insn *in)
{
	const cs_x86 *x = &in->cs->detail->x86;
	const cs_x86_op *d = &x->operands[0], *s = &x->operands[1];
	unsigned id = in->cs->id;
	uint64_t a, b;
	int taken;

	if (x86_cc_of(id) == X86_CC_NONE || in->flow != FLOW_NEXT)
		return 0;
	taken = cond_holds(e, x86_cc_of(id));
	if (id >= X86_INS_CMOVA && id <= X86_INS_CMOVS) {
		if (taken < 0 || !op_value(e, in, d, &a) || !op_value(e, in, s, &b))
			return -1;
		/* A 32-bit cmov zero-extends its destination whether or not it moves. */
		return op_write(e, in, d, taken ? b : a) ? 1 : -1;
	}
	if (x->op_count == 1 && d->type != X86_OP_IMM)	/* setcc */
		return taken >= 0 && op_write(e, in, d, (uint64_t)taken) ? 1 : -1;
	return 0;
}

/* Jumps, calls, returns; *NEXT is where control goes. */
static int exec_control(struct emu *e, const struct insn *in, uint64_t *next)
{
	const cs_x86_op *d = &in->cs->detail->x86.operands[0];
	uint64_t a = 0;

	switch (in->cs->id) {
	case X86_INS_JMP:
		if (in->flow == FLOW_JUMP)
			*next = in->target;
		else if (!op_value(e, in, d, next))
			return -1;
		return 1;
	case X86_INS_CALL:
		if (in->flow == FLOW_CALL)
			a = in->target;
		else if (!op_value(e, in, d, &a))
			a = 0;
		if (e->hooks.call(e->hooks.ctx, e, a, in->addr)) {
			e->stop = EMU_HOOK;
			return -1;
		}
		e->flags_known = false;
		return 1;
	case X86_INS_RET:
		e->stop = EMU_RETURNED;
		return -1;
	default:
		if (in->flow != FLOW_CJUMP)
			return 0;
		return branch_next(e, in, cond_holds(e, x86_cc_of(in->cs->id)), next) ? -1 : 1;
	}
}

/* A vector-only instruction the interpreter does not model cannot change an integer value. */
static bool skip_vector_only(struct emu *e, const struct insn *in)
{
	const cs_x86 *x = &in->cs->detail->x86;

	if (in->writes || in->flow != FLOW_NEXT)
		return false;
	for (int i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && (x->operands[i].access & CS_AC_WRITE))
			return false;
	forget_vectors(e, in);
	if (x->eflags)
		e->flags_known = false;
	return true;
}

/* Executes one instruction; returns false when the run must stop (e->stop set). */
static bool exec(struct emu *e, const struct insn *in)
{
	uint64_t next = in->addr + in->size;
	int r = 0;

	if (in->cs->id != X86_INS_NOP && in->cs->id != X86_INS_ENDBR64) {
		r = exec_move(e, in);
		if (!r)
			r = exec_arith(e, in);
		if (!r)
			r = exec_stack(e, in);
		if (!r)
			r = exec_conditional(e, in);
		if (!r)
			r = exec_control(e, in, &next);
		if (!r)
			r = exec_vector(e, in);
		if (!r)
			r = skip_vector_only(e, in) ? 1 : -1;
	}
	if (r < 0) {
		if (e->stop == EMU_RUNNING)
			e->stop = EMU_UNSUPPORTED;
		return false;
	}
	/* Forced paths also steer unconditional control flow checks. */
	if (e->forced && e->forced_pos + 1 < e->nforced && e->forced[e->forced_pos] == in->addr)
		e->forced_pos++;
	e->rip = next;
	return true;
}

void emu_init(struct emu *e, const struct code *code, const struct emu_hooks *hooks)
{
	memset(e, 0, sizeof(*e));
	e->code = code;
	e->hooks = *hooks;
}

void emu_free(struct emu *e)
{
	free(e->mem);
	free(e->trace);
	e->mem = NULL;
	e->trace = NULL;
}

static void record(struct emu *e, const struct insn *in)
{
	if (e->ntrace == e->trace_cap) {
		e->trace_cap = e->trace_cap ? e->trace_cap * 2 : 256;
		e->trace = xreallocarray(e->trace, e->trace_cap, sizeof(*e->trace));
	}
	e->trace[e->ntrace].addr = in->addr;
	e->trace[e->ntrace].regs = e->regs;
	e->ntrace++;
}

enum emu_stop emu_run(struct emu *e, size_t max_steps)
{
	e->stop = EMU_RUNNING;
	for (size_t n = 0; n < max_steps; n++) {
		const struct insn *in = code_at(e->code, e->rip);

		if (!in) {
			e->stop = EMU_LEFT;
			break;
		}
		/* A forced path ends at its last address: the caller resumes from there. */
		if (e->forced && e->forced_pos + 1 == e->nforced && e->forced[e->forced_pos] == e->rip) {
			e->forced = NULL;
			e->stop = EMU_HOOK;
			break;
		}
		if (e->stop_at == e->rip && n) {
			e->stop = EMU_HOOK;
			break;
		}
		if (e->record)
			record(e, in);
		if (!exec(e, in))
			break;
	}
	if (e->stop == EMU_RUNNING)
		e->stop = EMU_LIMIT;
	e->stop_addr = e->rip;
	return e->stop;
}

const char *emu_stop_name(enum emu_stop s)
{
	switch (s) {
	case EMU_RETURNED: return "returned";
	case EMU_LEFT: return "left the function";
	case EMU_UNSUPPORTED: return "unsupported instruction";
	case EMU_LIMIT: return "step limit";
	case EMU_HOOK: return "stopped";
	default: return "running";
	}
}
