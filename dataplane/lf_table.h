/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A table of fixed-size elements keyed by 64 bits, read by workers without
 * locks and written by the control thread alone. The FDB and the neighbour
 * table are built on it.
 *
 * A hash of chains: a bucket is the index of its first element, and each
 * element carries its key and the index of the next. A lookup thus waits
 * for two lines, the bucket's and the element's (which the caller reads
 * anyway), where rte_hash waited for three (bucket, key slot, element); a
 * bucket is 4 bytes, so sixteen share a line. There are at least as many
 * buckets as elements, so a chain is short. A key's bucket is the CRC32
 * of its product with a random odd multiplier chosen per table: a guest
 * cannot pick MACs that all fall into one chain without knowing it, as it
 * could with the CRC alone, whose collisions no seed changes (it is
 * linear); the CRC spreads the products of sequential keys evenly.
 *
 * Readers follow the chains with acquire loads; the writer fills an element
 * before it publishes it at the head of its chain, and unlinks a removed
 * one without touching its own link, so a reader standing on it still
 * reaches the rest of the chain. A removed element is reused only after an
 * RCU grace period (dp_rcu), so a reader holding one never sees it change
 * owner.
 */
#ifndef TESS_LF_TABLE_H
#define TESS_LF_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#define LF_NIL      UINT32_MAX
#define LF_BULK_MAX 64 /* keys of one lf_find_bulk */

/* Before each element: its key and the next element of its chain. */
struct lf_hdr {
	uint64_t key;
	uint32_t next;
};

struct lf_table {
	uint32_t *bucket; /* first element of each chain, or LF_NIL */
	uint64_t mult;    /* random, odd: x -> x * mult is one-to-one */
	uint32_t mask;    /* buckets - 1 */
	uint8_t *elts;    /* cap slots of stride bytes: an lf_hdr, then the element */
	size_t stride;
	uint32_t cap;
	/* Elements below it were ever in use: walks stop there (handed out from 0 up). */
	uint32_t span;
	uint32_t *free_idx; /* stack of unused elements */
	uint32_t n_free;
	uint32_t n_live;
};

/* Offset of an element in its slot. */
#define LF_ELT_OFF RTE_ALIGN_CEIL(sizeof(struct lf_hdr), sizeof(uint64_t))

int lf_init(struct lf_table *t, const char *name, uint32_t cap, size_t esize, int socket);
/* Runs what is deferred first: releases must find the table alive. */
void lf_fini(struct lf_table *t);

static inline struct lf_hdr *lf_hdr(const struct lf_table *t, uint32_t i)
{
	return (struct lf_hdr *)(t->elts + (size_t)i * t->stride);
}

/* The key element e was inserted under (control, or a reader of an element it found). */
static inline uint64_t lf_key(const void *e)
{
	return ((const struct lf_hdr *)((const uint8_t *)e - LF_ELT_OFF))->key;
}

/* Element i (0 <= i < span), live or not: for walks over the whole table. */
static inline void *lf_elt(const struct lf_table *t, uint32_t i)
{
	return (uint8_t *)lf_hdr(t, i) + LF_ELT_OFF;
}

static inline uint32_t lf_bucket(const struct lf_table *t, uint64_t key)
{
	return rte_hash_crc_8byte(key * t->mult, 0) & t->mask;
}

/* The element of key in the chain starting at i, or NULL. */
static inline void *lf_chain_find(const struct lf_table *t, uint32_t i, uint64_t key)
{
	while (i != LF_NIL) {
		const struct lf_hdr *h = lf_hdr(t, i);

		if (h->key == key)
			return (uint8_t *)h + LF_ELT_OFF;
		i = __atomic_load_n(&h->next, __ATOMIC_ACQUIRE);
	}
	return NULL;
}

/* Datapath or control: the element of key, or NULL. */
static inline void *lf_find(const struct lf_table *t, uint64_t key)
{
	return lf_chain_find(t, __atomic_load_n(&t->bucket[lf_bucket(t, key)], __ATOMIC_ACQUIRE),
			     key);
}

/*
 * Datapath: elements of n keys (NULL where absent), n <= LF_BULK_MAX. In
 * three passes, so that the n buckets' lines and then the n first
 * elements' lines load together instead of one after another.
 */
static inline void lf_find_bulk(const struct lf_table *t, const uint64_t *keys, uint32_t n,
				void **out)
{
	uint32_t at[LF_BULK_MAX];

	for (uint32_t i = 0; i < n; i++) {
		at[i] = lf_bucket(t, keys[i]);
		rte_prefetch0(&t->bucket[at[i]]);
	}
	for (uint32_t i = 0; i < n; i++) {
		at[i] = __atomic_load_n(&t->bucket[at[i]], __ATOMIC_ACQUIRE);
		if (at[i] != LF_NIL)
			rte_prefetch0(lf_hdr(t, at[i]));
	}
	for (uint32_t i = 0; i < n; i++)
		out[i] = lf_chain_find(t, at[i], keys[i]);
}

/* Control: a free element to fill (zeroed), or NULL when all are taken. */
void *lf_reserve(struct lf_table *t);
/*
 * Control: makes the element lf_reserve gave, now filled, visible under
 * key. -EEXIST if key has one already (the table is unchanged).
 */
int lf_insert(struct lf_table *t, uint64_t key, void *e);
/* Control: removes key's element e; reused after the grace period. */
void lf_remove(struct lf_table *t, uint64_t key, void *e);

#endif
