/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 FIBs of every VRF: a multibit trie per VRF with 8-bit strides
 * (8-8-8-8) and leaf pushing, all VRFs drawing 1 KiB nodes from one pool.
 * A VRF costs one node plus what its routes need, so thousands of small
 * VRFs and one with a million routes fit side by side (DIR-24-8 would cost
 * 64 MiB per VRF).
 *
 * Workers only read (fib_lookup, fib_lookup_bulk). The control thread
 * changes entries in place, each with one atomic 32-bit store, so a lookup
 * sees either the old or the new result for its address, never a mix; a
 * new node is filled before it is linked, and an unlinked node is reused
 * only after an RCU grace period (dp_rcu). DPDK 22.11's rte_fib has no RCU
 * of its own, which is why this is Tessera's.
 *
 * Each VRF also has a home: the /16 of its first route longer than /16 (a
 * tenant's own address space, as a rule). Its root word names the node of
 * that /16's /24s too, so that a lookup into the home reads one node where
 * it would read three; with leaf pushing the result depends only on the
 * deepest node, so starting there gives what the walk from the root gives.
 *
 * The control thread keeps each VRF's routes in a hash of (prefix, length)
 * to find the route that covers a deleted one.
 */
#ifndef TESS_FIB_H
#define TESS_FIB_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_prefetch.h>

#define FIB_MAX_VRFS     4096 /* VRF ids 1..4095 */
#define FIB_NO_ROUTE     0
#define FIB_VALUE_MAX    0x7fffffffu /* route values are 1..FIB_VALUE_MAX */
#define FIB_CHILD        0x80000000u /* entry: index of a child node */
#define FIB_NODE_ENTRIES 256
#define FIB_CHUNK_SHIFT  12 /* nodes per chunk: 4096 (4 MiB) */
#define FIB_MAX_CHUNKS   4096

typedef uint32_t fib_entry_t;

/*
 * A VRF's root word, read by a lookup in one load: its root node, its
 * home's node of /24s (0: none) and the home /16. Node indexes fit in 24
 * bits (FIB_MAX_CHUNKS << FIB_CHUNK_SHIFT).
 */
typedef uint64_t fib_root_t;
#define FIB_IDX_MASK 0xffffffu

static inline uint32_t fib_root_node(fib_root_t r)
{
	return (uint32_t)(r & FIB_IDX_MASK);
}

static inline uint32_t fib_home_node(fib_root_t r)
{
	return (uint32_t)(r >> 24 & FIB_IDX_MASK);
}

static inline uint32_t fib_home_16(fib_root_t r)
{
	return (uint32_t)(r >> 48);
}

static inline fib_root_t fib_root_word(uint32_t root, uint32_t home_node, uint32_t home_16)
{
	return (uint64_t)root | (uint64_t)home_node << 24 | (uint64_t)home_16 << 48;
}

struct fib_rib;

struct fib {
	/* Read by workers. */
	fib_entry_t *chunks[FIB_MAX_CHUNKS];
	fib_root_t roots[FIB_MAX_VRFS]; /* each VRF's root word, 0: no VRF */
	/* Control thread only. */
	uint8_t *depth_chunks[FIB_MAX_CHUNKS]; /* prefix length behind each entry */
	uint32_t n_chunks;
	uint32_t next_fresh; /* first never-used node */
	uint32_t *free_nodes;
	uint32_t n_free, free_cap;
	uint32_t nodes_used;
	uint32_t vrf_nodes[FIB_MAX_VRFS]; /* each VRF's, its root too (per-VRF shares) */
	int socket;
	struct fib_rib *rib[FIB_MAX_VRFS];
};

static inline const fib_entry_t *fib_node(const struct fib *f, uint32_t idx)
{
	return f->chunks[idx >> FIB_CHUNK_SHIFT] +
	       (size_t)(idx & ((1u << FIB_CHUNK_SHIFT) - 1)) * FIB_NODE_ENTRIES;
}

static inline fib_entry_t fib_load(const fib_entry_t *e)
{
	return __atomic_load_n(e, __ATOMIC_ACQUIRE);
}

/*
 * The first entry a lookup of ip reads in the VRF of root word r, NULL if
 * there is no VRF; *shift: where the byte of its child's entry is in ip.
 */
static inline const fib_entry_t *fib_first(const struct fib *f, fib_root_t r, uint32_t ip,
					   int *shift)
{
	if (fib_home_node(r) && fib_home_16(r) == ip >> 16) {
		*shift = 0;
		return fib_node(f, fib_home_node(r)) + ((ip >> 8) & 0xff);
	}
	*shift = 16;
	return r ? fib_node(f, fib_root_node(r)) + (ip >> 24) : NULL;
}

/* The route value for ip (host order) in vrf, FIB_NO_ROUTE if none. */
static inline uint32_t fib_lookup(const struct fib *f, uint16_t vrf, uint32_t ip)
{
	int shift;
	const fib_entry_t *p =
		fib_first(f, __atomic_load_n(&f->roots[vrf], __ATOMIC_ACQUIRE), ip, &shift);
	fib_entry_t e;

	if (p == NULL)
		return FIB_NO_ROUTE;
	e = fib_load(p);
	for (; (e & FIB_CHILD) && shift >= 0; shift -= 8)
		e = fib_load(fib_node(f, e & ~FIB_CHILD) + ((ip >> shift) & 0xff));
	return e;
}

/*
 * n lookups at once, level by level, prefetching the next level of all of
 * them before reading any: the misses of a large table overlap.
 */
/* The most lookups fib_lookup_bulk takes at once (its callers' bursts). */
#define FIB_BULK_MAX 64

static inline void fib_lookup_bulk(const struct fib *f, const uint16_t *vrf, const uint32_t *ip,
				   uint32_t *out, unsigned n)
{
	const fib_entry_t *p[FIB_BULK_MAX];
	int shift[FIB_BULK_MAX];

	/* The first level too: with every packet in another VRF, its roots' lines are all apart. */
	for (unsigned i = 0; i < n; i++) {
		p[i] = fib_first(f, __atomic_load_n(&f->roots[vrf[i]], __ATOMIC_ACQUIRE), ip[i],
				 &shift[i]);
		if (p[i])
			rte_prefetch0(p[i]);
	}
	for (unsigned i = 0; i < n; i++)
		out[i] = p[i] ? fib_load(p[i]) : FIB_NO_ROUTE;
	/* Lookups from the root and from a home are levels apart: each at its own. */
	for (;;) {
		bool more = false;
		for (unsigned i = 0; i < n; i++) {
			if (out[i] & FIB_CHILD) {
				p[i] = fib_node(f, out[i] & ~FIB_CHILD) +
				       ((ip[i] >> shift[i]) & 0xff);
				shift[i] -= 8;
				rte_prefetch0(p[i]);
				more = true;
			}
		}
		if (!more)
			break;
		for (unsigned i = 0; i < n; i++)
			if (out[i] & FIB_CHILD)
				out[i] = fib_load(p[i]);
	}
}

/* ---- control thread ---- */

int fib_init(struct fib *f, int socket);
void fib_fini(struct fib *f);
int fib_vrf_add(struct fib *f, uint16_t vrf);
/* Removes a VRF and all its routes (nodes freed after the grace period). */
void fib_vrf_del(struct fib *f, uint16_t vrf);
/* Adds or replaces prefix/len -> value (1..FIB_VALUE_MAX); ip in host order. */
int fib_add(struct fib *f, uint16_t vrf, uint32_t ip, uint8_t len, uint32_t value);
/* Removes prefix/len; -ENOENT if absent. Returns its value in *old if given. */
int fib_del(struct fib *f, uint16_t vrf, uint32_t ip, uint8_t len, uint32_t *old);
/* The value of exactly prefix/len, or FIB_NO_ROUTE. */
uint32_t fib_get(const struct fib *f, uint16_t vrf, uint32_t ip, uint8_t len);
uint32_t fib_count(const struct fib *f, uint16_t vrf);
/* The nodes a VRF holds, its root included (0: no VRF). */
uint32_t fib_nodes(const struct fib *f, uint16_t vrf);
/* How many nodes adding prefix/len to vrf would take now: 0 to 3 (a walk, nothing changed). */
uint32_t fib_nodes_needed(const struct fib *f, uint16_t vrf, uint32_t ip, uint8_t len);
/* The VRF's home /16 (its prefix >> 16), -1 if it has none. */
int32_t fib_home(const struct fib *f, uint16_t vrf);
/* Calls fn for every route of a VRF. */
void fib_walk(const struct fib *f, uint16_t vrf,
	      void (*fn)(uint32_t ip, uint8_t len, uint32_t value, void *arg), void *arg);

/* Memory: hugepage bytes of nodes, and control-side bytes (shadow, route hashes). */
struct fib_mem {
	uint64_t nodes, node_bytes, chunk_bytes, control_bytes, routes;
};
void fib_memory(const struct fib *f, struct fib_mem *m);

#endif
