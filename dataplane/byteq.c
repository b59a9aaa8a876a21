/* SPDX-License-Identifier: BSD-3-Clause */
#include "byteq.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A drained queue keeps a buffer this small, so a steady stream of small
 * events does not allocate for each one. */
#define BYTEQ_KEEP 4096

/* Makes room for need bytes after the unread ones. */
static int byteq_reserve(struct byteq *q, size_t need, size_t limit)
{
	size_t pend = byteq_pending(q), cap;
	char *b;

	if (q->len + need <= q->cap)
		return 0;
	if (q->off > 0) {
		memmove(q->buf, q->buf + q->off, pend);
		q->off = 0;
		q->len = pend;
		if (pend + need <= q->cap)
			return 0;
	}
	cap = q->cap ? q->cap * 2 : 1024;
	if (cap < pend + need)
		cap = pend + need;
	if (cap > limit && limit >= pend + need)
		cap = limit;
	b = realloc(q->buf, cap);
	if (b == NULL)
		return -ENOMEM;
	q->buf = b;
	q->cap = cap;
	return 0;
}

static int byteq_add(struct byteq *q, const void *data, size_t n, size_t extra, size_t limit)
{
	int rc;

	if (n > SIZE_MAX - extra || n + extra > limit || byteq_pending(q) > limit - (n + extra))
		return -ENOSPC;
	rc = byteq_reserve(q, n + extra, limit);
	if (rc < 0)
		return rc;
	memcpy(q->buf + q->len, data, n);
	q->len += n;
	if (extra)
		q->buf[q->len++] = '\n';
	return 0;
}

int byteq_push(struct byteq *q, const void *data, size_t n, size_t limit)
{
	return byteq_add(q, data, n, 0, limit);
}

int byteq_push_line(struct byteq *q, const void *data, size_t n, size_t limit)
{
	return byteq_add(q, data, n, 1, limit);
}

void byteq_consume(struct byteq *q, size_t n)
{
	q->off += n < byteq_pending(q) ? n : byteq_pending(q);
	if (q->off < q->len)
		return;
	q->off = q->len = 0;
	if (q->cap > BYTEQ_KEEP)
		byteq_free(q);
}

void byteq_free(struct byteq *q)
{
	free(q->buf);
	q->buf = NULL;
	q->cap = q->off = q->len = 0;
}
