/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A table of fixed-size elements keyed by 64 bits, read by workers without
 * locks and written by the control thread alone (rte_hash with lock-free
 * readers). An element is filled before its key makes it visible, and a
 * removed element (and its key slot) is reused only after an RCU grace
 * period, so a reader holding one never sees it change owner. The FDB and
 * the neighbour table are built on it.
 */
#ifndef TESS_LF_TABLE_H
#define TESS_LF_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <rte_hash.h>

struct lf_table {
	struct rte_hash *h;
	uint8_t *elts;
	size_t esize;
	uint32_t cap;
	uint32_t *free_idx; /* stack of unused elements */
	uint32_t n_free;
	uint32_t n_live;
};

int lf_init(struct lf_table *t, const char *name, uint32_t cap, size_t esize, int socket);
/* Runs what is deferred first: releases must find the table alive. */
void lf_fini(struct lf_table *t);

static inline void *lf_elt(const struct lf_table *t, uint32_t i)
{
	return t->elts + (size_t)i * t->esize;
}

/* Datapath or control: the element of key, or NULL. */
static inline void *lf_find(const struct lf_table *t, uint64_t key)
{
	void *data;

	return rte_hash_lookup_data(t->h, &key, &data) >= 0 ? data : NULL;
}

/* Datapath: elements of n keys (NULL where absent), n <= RTE_HASH_LOOKUP_BULK_MAX. */
static inline void lf_find_bulk(const struct lf_table *t, const void **keys, uint32_t n, void **out)
{
	uint64_t hits = 0;

	rte_hash_lookup_bulk_data(t->h, keys, n, &hits, out);
	for (uint32_t i = 0; i < n; i++)
		if (!(hits & (UINT64_C(1) << i)))
			out[i] = NULL;
}

/* Control: a free element to fill (zeroed), or NULL when all are taken. */
void *lf_reserve(struct lf_table *t);
/* Control: makes the element lf_reserve gave, now filled, visible under key. */
int lf_insert(struct lf_table *t, uint64_t key, void *e);
/* Control: removes key's element e; reused after the grace period. */
void lf_remove(struct lf_table *t, uint64_t key, void *e);

#endif
