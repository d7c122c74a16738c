// SPDX-License-Identifier: BSD-3-Clause
/*
 * spool.c: records on disk, zero runs squeezed out.
 *
 * A record is stored as a header (magic, length of what follows) and
 * tokens: a count of zero bytes, a count of literal bytes, the literal
 * bytes. A zero run shorter than ZERO_RUN_MIN stays inside a literal, so a
 * lone counter costs a few bytes, not a token. An interval of redprof is
 * about 7.8 KB in memory and a few hundred bytes here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "util.h"

#define SPOOL_MAGIC 0x31535052u	/* "RPS1" */
#define ZERO_RUN_MIN 8
#define TOKEN_MAX 0xffff
#define READ_CHUNK 65536

struct spool {
	int fd;
	size_t rec_size;
	struct spool_pos end;
	uint8_t *enc;		/* encoding buffer: the worst case of one record */
	size_t enc_cap;
};

struct rec_header {
	uint32_t magic;
	uint32_t len;		/* bytes of tokens after the header */
};

static int test_write(int fd)
{
	if (write(fd, "x", 1) != 1 || fsync(fd))
		return errno ? -errno : -EIO;
	return ftruncate(fd, 0) ? -errno : 0;
}

int spool__open(const char *dir, size_t rec_size, struct spool **out)
{
	char *path = xasprintf("%s/.redprof-spool-XXXXXX", dir);
	struct spool *sp;
	int fd, err;

	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(path);
		return err;
	}
	/* Nameless from now on: the space is given back when redprof exits, however it exits. */
	unlink(path);
	free(path);
	errno = 0;
	err = test_write(fd);
	if (err) {
		close(fd);
		return err;
	}
	sp = xcalloc(1, sizeof(*sp));
	sp->fd = fd;
	sp->rec_size = rec_size;
	/* Worst case: every byte a literal, one token header per TOKEN_MAX bytes. */
	sp->enc_cap = sizeof(struct rec_header) + rec_size + 4 * (rec_size / TOKEN_MAX + 2);
	sp->enc = xmalloc(sp->enc_cap);
	*out = sp;
	return 0;
}

void spool__close(struct spool *sp)
{
	if (!sp)
		return;
	close(sp->fd);
	free(sp->enc);
	free(sp);
}

static size_t zeros_at(const uint8_t *b, size_t n, size_t max)
{
	size_t z = 0;

	while (z < n && z < max && !b[z])
		z++;
	return z;
}

static void put_u16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)(v >> 8);
}

static size_t get_u16(const uint8_t *p)
{
	return (size_t)p[0] | (size_t)p[1] << 8;
}

/* Tokens of REC into OUT; returns their length. */
static size_t encode(const uint8_t *rec, size_t n, uint8_t *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		size_t z = zeros_at(rec + i, n - i, TOKEN_MAX), j;

		i += z;
		/* The literal ends where a long zero run, or the record, begins. */
		for (j = i; j < n && j - i < TOKEN_MAX;) {
			size_t k = rec[j] ? 0 : zeros_at(rec + j, n - j, ZERO_RUN_MIN);

			if (k >= ZERO_RUN_MIN || j + k == n)
				break;
			j += k ? k : 1;
		}
		if (j - i > TOKEN_MAX)
			j = i + TOKEN_MAX;
		put_u16(out + o, z);
		put_u16(out + o + 2, j - i);
		memcpy(out + o + 4, rec + i, j - i);
		o += 4 + (j - i);
		i = j;
	}
	return o;
}

static int decode(const uint8_t *in, size_t len, uint8_t *rec, size_t n)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t z, l;

		if (len - i < 4)
			return -EIO;
		z = get_u16(in + i);
		l = get_u16(in + i + 2);
		i += 4;
		if (z + l > n - o || l > len - i)
			return -EIO;
		memset(rec + o, 0, z);
		memcpy(rec + o + z, in + i, l);
		o += z + l;
		i += l;
	}
	return o == n ? 0 : -EIO;
}

int spool__append(struct spool *sp, const void *rec)
{
	struct rec_header h = { .magic = SPOOL_MAGIC };
	size_t len, done = 0;

	len = encode(rec, sp->rec_size, sp->enc + sizeof(h));
	h.len = (uint32_t)len;
	memcpy(sp->enc, &h, sizeof(h));
	len += sizeof(h);
	while (done < len) {
		ssize_t n = pwrite(sp->fd, sp->enc + done, len - done, sp->end.off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		/* Half a record is overwritten by the next one; readers stop at end.index anyway. */
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	sp->end.off += (off_t)len;
	sp->end.index++;
	return 0;
}

struct spool_pos spool__end(const struct spool *sp)
{
	return sp->end;
}

void spool_reader__init(struct spool_reader *r, const struct spool *sp, struct spool_pos from)
{
	memset(r, 0, sizeof(*r));
	r->sp = sp;
	r->pos = from;
	r->buf_off = from.off;
	r->buf = xmalloc(sp->enc_cap > READ_CHUNK ? sp->enc_cap : READ_CHUNK);
}

/* Makes N bytes from the reader's position available in its buffer. */
static int fill(struct spool_reader *r, size_t n)
{
	size_t cap = r->sp->enc_cap > READ_CHUNK ? r->sp->enc_cap : READ_CHUNK;

	if (r->len - r->at >= n)
		return 0;
	memmove(r->buf, r->buf + r->at, r->len - r->at);
	r->buf_off += (off_t)r->at;
	r->len -= r->at;
	r->at = 0;
	while (r->len < n) {
		ssize_t got = pread(r->sp->fd, r->buf + r->len, cap - r->len, r->buf_off + (off_t)r->len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (!got)
			return -EIO;
		r->len += (size_t)got;
	}
	return 0;
}

int spool_reader__next(struct spool_reader *r, void *rec)
{
	struct rec_header h;
	int err;

	if (r->pos.index >= r->sp->end.index)
		return 0;
	err = fill(r, sizeof(h));
	if (err)
		return err;
	memcpy(&h, r->buf + r->at, sizeof(h));
	if (h.magic != SPOOL_MAGIC || sizeof(h) + h.len > r->sp->enc_cap)
		return -EIO;
	err = fill(r, sizeof(h) + h.len);
	if (!err)
		err = decode(r->buf + r->at + sizeof(h), h.len, rec, r->sp->rec_size);
	if (err)
		return err;
	r->at += sizeof(h) + h.len;
	r->pos.off += (off_t)(sizeof(h) + h.len);
	r->pos.index++;
	return 1;
}

void spool_reader__fini(struct spool_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}
