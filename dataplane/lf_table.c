/* SPDX-License-Identifier: BSD-3-Clause */
#include "lf_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "rcu.h"

/*
 * The hash and compare of a 64-bit key. rte_hash's own are generic: its
 * CRC loops over the length, and it compares keys of 8 bytes with memcmp
 * through the PLT (3.4% of tessd's samples in vswitch-tenants). Same CRC.
 */
static uint32_t lf_hash(const void *key, uint32_t len, uint32_t init)
{
	uint64_t k;

	(void)len;
	memcpy(&k, key, sizeof(k));
	return rte_hash_crc_8byte(k, init);
}

static int lf_cmp(const void *a, const void *b, size_t len)
{
	uint64_t x, y;

	(void)len;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x != y;
}

int lf_init(struct lf_table *t, const char *name, uint32_t cap, size_t esize, int socket)
{
	static unsigned seq;
	char hname[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = {
		.name = hname,
		.entries = cap,
		.key_len = sizeof(uint64_t),
		.hash_func = lf_hash,
		.socket_id = socket,
		/* Lock-free readers, one writer; extendable buckets so capacity is exact. */
		.extra_flag =
			RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	memset(t, 0, sizeof(*t));
	snprintf(hname, sizeof(hname), "%.16s%u", name, seq++);
	t->h = rte_hash_create(&p);
	if (t->h == NULL)
		return -rte_errno;
	rte_hash_set_cmp_func(t->h, lf_cmp);
	t->esize = RTE_ALIGN_CEIL(esize, sizeof(uint64_t));
	t->cap = cap;
	t->elts = rte_zmalloc_socket(name, t->esize * cap, RTE_CACHE_LINE_SIZE, socket);
	t->free_idx = malloc(sizeof(*t->free_idx) * cap);
	if (t->elts == NULL || t->free_idx == NULL) {
		lf_fini(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cap; i++)
		t->free_idx[i] = cap - 1 - i;
	t->n_free = cap;
	return 0;
}

void lf_fini(struct lf_table *t)
{
	if (dp_rcu_qsv && dp_rcu_pending()) {
		dp_rcu_synchronize();
		dp_rcu_reclaim();
	}
	rte_hash_free(t->h);
	rte_free(t->elts);
	free(t->free_idx);
	memset(t, 0, sizeof(*t));
}

void *lf_reserve(struct lf_table *t)
{
	void *e;

	if (t->n_free == 0)
		return NULL;
	e = lf_elt(t, t->free_idx[t->n_free - 1]);
	memset(e, 0, t->esize);
	return e;
}

int lf_insert(struct lf_table *t, uint64_t key, void *e)
{
	/* add_key_data publishes the pointer with the key: readers see a full element. */
	int rc = rte_hash_add_key_data(t->h, &key, e);

	if (rc < 0)
		return rc;
	t->n_free--;
	t->n_live++;
	return 0;
}

struct deferred {
	struct lf_table *t;
	uint32_t idx;
	int32_t pos;
};

/* Runs once no worker can hold the element (after the grace period). */
static void release(void *arg)
{
	struct deferred *d = arg;

	if (d->pos >= 0)
		rte_hash_free_key_with_position(d->t->h, d->pos);
	d->t->free_idx[d->t->n_free++] = d->idx;
	free(d);
}

void lf_remove(struct lf_table *t, uint64_t key, void *e)
{
	struct deferred *d = malloc(sizeof(*d));
	/* The key slot to free after the grace period (readers may still compare it). */
	int32_t pos = rte_hash_del_key(t->h, &key);

	t->n_live--;
	if (d == NULL)
		return; /* the element and slot are lost to reuse, nothing worse */
	*d = (struct deferred){ t, (uint32_t)(((uint8_t *)e - t->elts) / t->esize), pos };
	dp_rcu_defer(release, d);
}
