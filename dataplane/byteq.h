/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A byte queue whose memory is bounded by what it holds unread: bytes already
 * consumed are reclaimed (moved out) before the buffer grows, so a reader that
 * never drains fully cannot make it grow. Used for event streams by tessd's
 * control server and tessmgrd's /v1/events. Not thread-safe.
 */
#ifndef TESS_BYTEQ_H
#define TESS_BYTEQ_H

#include <stddef.h>

struct byteq {
	char *buf;
	size_t cap, off, len; /* unread: buf[off, len) */
};

static inline size_t byteq_pending(const struct byteq *q)
{
	return q->len - q->off;
}

static inline const char *byteq_data(const struct byteq *q)
{
	return q->buf + q->off;
}

/* Appends n bytes, all or none: -ENOSPC if the unread bytes would pass limit
 * (SIZE_MAX: no limit), -ENOMEM. The capacity never passes max(limit, the
 * largest unread amount). */
int byteq_push(struct byteq *q, const void *data, size_t n, size_t limit);
/* As byteq_push, with '\n' after the n bytes. */
int byteq_push_line(struct byteq *q, const void *data, size_t n, size_t limit);
/* Marks n unread bytes read; a drained queue keeps a small buffer only. */
void byteq_consume(struct byteq *q, size_t n);
void byteq_free(struct byteq *q);

#endif
