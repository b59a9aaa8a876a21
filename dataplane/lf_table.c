/* SPDX-License-Identifier: BSD-3-Clause */
#include "lf_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_malloc.h>
#include <rte_random.h>

#include "rcu.h"

int lf_init(struct lf_table *t, const char *name, uint32_t cap, size_t esize, int socket)
{
	uint32_t buckets;

	memset(t, 0, sizeof(*t));
	if (cap == 0 || cap > (UINT32_C(1) << 31))
		return -EINVAL;
	buckets = rte_align32pow2(cap);
	t->stride = LF_ELT_OFF + RTE_ALIGN_CEIL(esize, sizeof(uint64_t));
	/* A slot within one cache line never straddles two: one miss per element. */
	t->stride = t->stride <= RTE_CACHE_LINE_SIZE
			    ? rte_align64pow2(t->stride)
			    : RTE_ALIGN_CEIL(t->stride, RTE_CACHE_LINE_SIZE);
	/* From the kernel, not DPDK's TSC-seeded generator: nothing outside can guess it. */
	if (getrandom(&t->mult, sizeof(t->mult), GRND_NONBLOCK) != sizeof(t->mult))
		t->mult = rte_rand();
	t->mult |= 1;
	t->mask = buckets - 1;
	t->cap = cap;
	t->bucket =
		rte_malloc_socket(name, sizeof(*t->bucket) * buckets, RTE_CACHE_LINE_SIZE, socket);
	t->elts = rte_zmalloc_socket(name, t->stride * cap, RTE_CACHE_LINE_SIZE, socket);
	t->free_idx = malloc(sizeof(*t->free_idx) * cap);
	if (t->bucket == NULL || t->elts == NULL || t->free_idx == NULL) {
		lf_fini(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < buckets; i++)
		t->bucket[i] = LF_NIL;
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
	rte_free(t->bucket);
	rte_free(t->elts);
	free(t->free_idx);
	memset(t, 0, sizeof(*t));
}

static uint32_t index_of(const struct lf_table *t, const void *e)
{
	return (uint32_t)(((const uint8_t *)e - LF_ELT_OFF - t->elts) / t->stride);
}

void *lf_reserve(struct lf_table *t)
{
	void *e;

	if (t->n_free == 0)
		return NULL;
	e = lf_elt(t, t->free_idx[t->n_free - 1]);
	memset(e, 0, t->stride - LF_ELT_OFF);
	return e;
}

int lf_insert(struct lf_table *t, uint64_t key, void *e)
{
	uint32_t i = index_of(t, e), b = lf_bucket(t, key);
	struct lf_hdr *h = lf_hdr(t, i);

	if (t->n_free == 0 || t->free_idx[t->n_free - 1] != i)
		return -EINVAL; /* not the element lf_reserve gave */
	if (lf_find(t, key) != NULL)
		return -EEXIST;
	h->key = key;
	h->next = t->bucket[b];
	/* Release: a reader that finds i at the head sees its key, link and contents. */
	__atomic_store_n(&t->bucket[b], i, __ATOMIC_RELEASE);
	if (i >= t->span)
		t->span = i + 1;
	t->n_free--;
	t->n_live++;
	return 0;
}

struct deferred {
	struct lf_table *t;
	uint32_t idx;
};

/* Runs once no worker can hold the element (after the grace period). */
static void release(void *arg)
{
	struct deferred *d = arg;

	d->t->free_idx[d->t->n_free++] = d->idx;
	free(d);
}

void lf_remove(struct lf_table *t, uint64_t key, void *e)
{
	uint32_t i = index_of(t, e);
	uint32_t *link = &t->bucket[lf_bucket(t, key)];
	struct deferred *d;

	while (*link != LF_NIL && *link != i)
		link = &lf_hdr(t, *link)->next;
	if (*link != i)
		return; /* not in the table */
	/* Its own link stays: a reader on it goes on to the rest of the chain. */
	__atomic_store_n(link, lf_hdr(t, i)->next, __ATOMIC_RELEASE);
	t->n_live--;
	d = malloc(sizeof(*d));
	if (d == NULL)
		return; /* the element is lost to reuse, nothing worse */
	*d = (struct deferred){ t, i };
	dp_rcu_defer(release, d);
}
