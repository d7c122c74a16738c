/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spool.h: fixed-size records (the intervals of a capture) kept on disk
 * rather than in memory, so that redprof's memory stays flat however long
 * it runs. The file is created in a given directory and unlinked at once:
 * it takes space there while redprof runs and vanishes when it exits, even
 * when it is killed. Records are mostly zero bytes (empty histogram
 * buckets) and are stored with runs of zeros squeezed out.
 */
#ifndef REDPROF_SPOOL_H
#define REDPROF_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct spool;

/* A place in the spool: where a record starts. */
struct spool_pos {
	off_t off;
	size_t index;
};

/*
 * Creates the spool for records of REC_SIZE bytes in DIR, after writing
 * and syncing a test byte there. 0, or -errno: the directory cannot be
 * written (-EACCES, -EROFS, -ENOENT) or is full (-ENOSPC, -EDQUOT).
 */
int spool__open(const char *dir, size_t rec_size, struct spool **out);
void spool__close(struct spool *sp);

/* Appends one record. 0 or -errno (nothing appended then). */
int spool__append(struct spool *sp, const void *rec);

/* Where the next record will go. */
struct spool_pos spool__end(const struct spool *sp);

/* Reads records in order from a position, through a buffer of its own. */
struct spool_reader {
	const struct spool *sp;
	struct spool_pos pos;
	uint8_t *buf;
	size_t len, at;		/* bytes in buf, bytes consumed */
	off_t buf_off;		/* file offset of buf[0] */
};

void spool_reader__init(struct spool_reader *r, const struct spool *sp, struct spool_pos from);
/* The next record into REC: 1, 0 at the end, or -errno (-EIO when a record is damaged). */
int spool_reader__next(struct spool_reader *r, void *rec);
void spool_reader__fini(struct spool_reader *r);

#endif /* REDPROF_SPOOL_H */
