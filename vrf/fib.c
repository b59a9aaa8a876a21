/* SPDX-License-Identifier: BSD-3-Clause */
#include "fib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "rcu.h"

#define NODES_PER_CHUNK (1u << FIB_CHUNK_SHIFT)
#define RIB_EMPTY       0
#define RIB_TOMB        UINT64_MAX

_Static_assert((FIB_MAX_CHUNKS << FIB_CHUNK_SHIFT) - 1 <= FIB_IDX_MASK,
	       "node indexes fit the root word");

/* ---- the routes of a VRF: (prefix, length) -> value, open addressing ---- */

struct rib_slot {
	uint64_t key; /* 1 << 40 | prefix << 8 | length; 0 empty; all ones: deleted */
	uint32_t value;
};

struct fib_rib {
	struct rib_slot *slots;
	uint32_t cap, used, tombs;
	uint32_t per_len[33];
};

static uint64_t rib_key(uint32_t ip, uint8_t len)
{
	return UINT64_C(1) << 40 | (uint64_t)ip << 8 | len;
}

static uint32_t rib_hash(uint64_t key)
{
	return (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32);
}

static struct rib_slot *rib_find(const struct fib_rib *r, uint64_t key)
{
	for (uint32_t i = rib_hash(key) & (r->cap - 1);; i = (i + 1) & (r->cap - 1)) {
		if (r->slots[i].key == key)
			return &r->slots[i];
		if (r->slots[i].key == RIB_EMPTY)
			return NULL;
	}
}

static int rib_grow(struct fib_rib *r)
{
	uint32_t ncap = r->cap * 2;
	struct rib_slot *old = r->slots, *ns = calloc(ncap, sizeof(*ns));

	if (ns == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->cap; i++) {
		if (old[i].key == RIB_EMPTY || old[i].key == RIB_TOMB)
			continue;
		uint32_t j = rib_hash(old[i].key) & (ncap - 1);
		while (ns[j].key != RIB_EMPTY)
			j = (j + 1) & (ncap - 1);
		ns[j] = old[i];
	}
	free(old);
	r->slots = ns;
	r->cap = ncap;
	r->tombs = 0;
	return 0;
}

static int rib_put(struct fib_rib *r, uint32_t ip, uint8_t len, uint32_t value)
{
	uint64_t key = rib_key(ip, len);
	struct rib_slot *s = rib_find(r, key);
	uint32_t i;

	if (s) {
		s->value = value;
		return 0;
	}
	if ((r->used + r->tombs + 1) * 4 > r->cap * 3 && rib_grow(r) < 0)
		return -ENOMEM;
	for (i = rib_hash(key) & (r->cap - 1);
	     r->slots[i].key != RIB_EMPTY && r->slots[i].key != RIB_TOMB;
	     i = (i + 1) & (r->cap - 1))
		;
	if (r->slots[i].key == RIB_TOMB)
		r->tombs--;
	r->slots[i] = (struct rib_slot){ key, value };
	r->used++;
	r->per_len[len]++;
	return 0;
}

static void rib_drop(struct fib_rib *r, struct rib_slot *s)
{
	r->per_len[s->key & 0xff]--;
	s->key = RIB_TOMB;
	r->used--;
	r->tombs++;
}

static uint32_t mask_of(uint8_t len)
{
	return len ? UINT32_MAX << (32 - len) : 0;
}

/* The longest route strictly shorter than len covering ip: its value and length. */
static void rib_cover(const struct fib_rib *r, uint32_t ip, uint8_t len, uint32_t *value,
		      uint8_t *clen)
{
	for (int l = len - 1; l >= 0; l--) {
		if (r->per_len[l] == 0)
			continue;
		const struct rib_slot *s =
			rib_find(r, rib_key(ip & mask_of((uint8_t)l), (uint8_t)l));
		if (s) {
			*value = s->value;
			*clen = (uint8_t)l;
			return;
		}
	}
	*value = FIB_NO_ROUTE;
	*clen = 0;
}

/* ---- nodes ---- */

static fib_entry_t *node_w(struct fib *f, uint32_t idx)
{
	return (fib_entry_t *)fib_node(f, idx);
}

static uint8_t *node_d(struct fib *f, uint32_t idx)
{
	return f->depth_chunks[idx >> FIB_CHUNK_SHIFT] +
	       (size_t)(idx & (NODES_PER_CHUNK - 1)) * FIB_NODE_ENTRIES;
}

static uint32_t alloc_node(struct fib *f, uint16_t vrf)
{
	uint32_t idx;

	if (f->n_free) {
		idx = f->free_nodes[--f->n_free];
	} else {
		idx = f->next_fresh; /* never reused: freed nodes wait out the grace period */
		if ((idx >> FIB_CHUNK_SHIFT) >= f->n_chunks) {
			uint32_t c = f->n_chunks;
			if (c == FIB_MAX_CHUNKS)
				return 0;
			fib_entry_t *nodes = rte_malloc_socket(
				"tess_fib_nodes",
				sizeof(fib_entry_t) * FIB_NODE_ENTRIES * NODES_PER_CHUNK,
				RTE_CACHE_LINE_SIZE, f->socket);
			uint8_t *depth = malloc((size_t)FIB_NODE_ENTRIES * NODES_PER_CHUNK);
			if (nodes == NULL || depth == NULL) {
				rte_free(nodes);
				free(depth);
				return 0;
			}
			f->depth_chunks[c] = depth;
			/* Published before any entry can name a node in it. */
			__atomic_store_n(&f->chunks[c], nodes, __ATOMIC_RELEASE);
			f->n_chunks++;
		}
		f->next_fresh++;
	}
	f->nodes_used++;
	f->vrf_nodes[vrf]++;
	return idx;
}

struct deferred_node {
	struct fib *f;
	uint32_t idx;
};

static void release_node(void *arg)
{
	struct deferred_node *d = arg;
	struct fib *f = d->f;

	if (f->n_free == f->free_cap) {
		uint32_t ncap = f->free_cap ? f->free_cap * 2 : 1024;
		uint32_t *n = realloc(f->free_nodes, ncap * sizeof(*n));
		if (n == NULL) {
			free(d); /* the node is lost to reuse, nothing worse */
			return;
		}
		f->free_nodes = n;
		f->free_cap = ncap;
	}
	f->free_nodes[f->n_free++] = d->idx;
	free(d);
}

/* A node no reader can reach any more: reusable after the grace period. */
static void free_node(struct fib *f, uint16_t vrf, uint32_t idx)
{
	struct deferred_node *d = malloc(sizeof(*d));

	f->nodes_used--;
	f->vrf_nodes[vrf]--;
	if (d == NULL)
		return;
	*d = (struct deferred_node){ f, idx };
	dp_rcu_defer(release_node, d);
}

static void set(fib_entry_t *e, uint8_t *d, fib_entry_t v, uint8_t depth)
{
	__atomic_store_n(e, v, __ATOMIC_RELEASE);
	*d = depth;
}

/* ---- homes ---- */

/* The node of /24s of /16 k (prefix >> 16) under root, 0: none. */
static uint32_t node_of_16(struct fib *f, uint32_t root, uint32_t k)
{
	fib_entry_t e = node_w(f, root)[k >> 8];

	if (!(e & FIB_CHILD))
		return 0;
	e = node_w(f, e & ~FIB_CHILD)[k & 0xff];
	return e & FIB_CHILD ? e & ~FIB_CHILD : 0;
}

static void home_set(struct fib *f, uint16_t vrf, uint32_t node, uint32_t k)
{
	__atomic_store_n(&f->roots[vrf],
			 fib_root_word(fib_root_node(f->roots[vrf]), node, node ? k : 0),
			 __ATOMIC_RELEASE);
}

/*
 * A VRF whose home went takes its first /16 that has a node of /24s, if
 * any: a VRF has a home exactly when it has such a node.
 */
static void home_pick(struct fib *f, uint16_t vrf)
{
	uint32_t root = fib_root_node(f->roots[vrf]);

	for (uint32_t a = 0; a < FIB_NODE_ENTRIES; a++) {
		fib_entry_t e = node_w(f, root)[a];
		const fib_entry_t *mid;

		if (!(e & FIB_CHILD))
			continue;
		mid = node_w(f, e & ~FIB_CHILD); /* the /8's node of /16s */
		for (uint32_t b = 0; b < FIB_NODE_ENTRIES; b++) {
			if (mid[b] & FIB_CHILD) {
				home_set(f, vrf, mid[b] & ~FIB_CHILD, a << 8 | b);
				return;
			}
		}
	}
}

/* ---- the trie ---- */

/* Entry i of node idx lies wholly inside a route of length len: push it down. */
static void cover_add(struct fib *f, uint32_t idx, unsigned i, uint8_t len, uint32_t value)
{
	fib_entry_t *e = node_w(f, idx) + i;
	uint8_t *d = node_d(f, idx) + i;

	if (*d > len)
		return; /* a longer route owns all of it */
	if (*e & FIB_CHILD) {
		*d = len;
		for (unsigned j = 0; j < FIB_NODE_ENTRIES; j++)
			cover_add(f, *e & ~FIB_CHILD, j, len, value);
		return;
	}
	set(e, d, value, len);
}

static int add_rec(struct fib *f, uint16_t vrf, uint32_t idx, unsigned level, uint32_t ip,
		   uint8_t len, uint32_t value)
{
	unsigned byte = (ip >> (24 - 8 * level)) & 0xff, top = 8 * (level + 1);
	fib_entry_t *e;

	if (len <= top) {
		unsigned span = 1u << (top - len), start = byte & ~(span - 1);
		for (unsigned i = start; i < start + span; i++)
			cover_add(f, idx, i, len, value);
		return 0;
	}
	e = node_w(f, idx) + byte;
	if (!(*e & FIB_CHILD)) {
		uint32_t child = alloc_node(f, vrf);
		uint8_t d = node_d(f, idx)[byte];
		if (child == 0)
			return -ENOSPC;
		/* Complete before it is linked: readers only ever see a full node. */
		fib_entry_t *c = node_w(f, child);
		for (unsigned j = 0; j < FIB_NODE_ENTRIES; j++)
			c[j] = *e;
		memset(node_d(f, child), d, FIB_NODE_ENTRIES);
		__atomic_store_n(e, FIB_CHILD | child, __ATOMIC_RELEASE);
	}
	return add_rec(f, vrf, *e & ~FIB_CHILD, level + 1, ip, len, value);
}

/* Folds child node of entry i back into it when no route inside it is longer than the entry. */
static void try_collapse(struct fib *f, uint16_t vrf, uint32_t idx, unsigned level, unsigned i)
{
	fib_entry_t *e = node_w(f, idx) + i;
	uint32_t child = *e & ~FIB_CHILD;
	const fib_entry_t *c = node_w(f, child);
	const uint8_t *cd = node_d(f, child);
	unsigned top = 8 * (level + 1);

	for (unsigned j = 0; j < FIB_NODE_ENTRIES; j++)
		if ((c[j] & FIB_CHILD) || cd[j] > top)
			return;
	set(e, node_d(f, idx) + i, c[0], cd[0]);
	/* No lookup may start at it once it can be reused. */
	if (fib_home_node(f->roots[vrf]) == child)
		home_set(f, vrf, 0, 0);
	free_node(f, vrf, child);
}

/* Entry i lies wholly inside the deleted route (len): what it owned goes to the cover. */
static void cover_del(struct fib *f, uint16_t vrf, uint32_t idx, unsigned level, unsigned i,
		      uint8_t len, uint32_t rvalue, uint8_t rlen)
{
	fib_entry_t *e = node_w(f, idx) + i;
	uint8_t *d = node_d(f, idx) + i;

	if (*d != len)
		return; /* owned by a longer route (or never by this one) */
	if (*e & FIB_CHILD) {
		*d = rlen;
		for (unsigned j = 0; j < FIB_NODE_ENTRIES; j++)
			cover_del(f, vrf, *e & ~FIB_CHILD, level + 1, j, len, rvalue, rlen);
		try_collapse(f, vrf, idx, level, i);
		return;
	}
	set(e, d, rvalue, rlen);
}

static void del_rec(struct fib *f, uint16_t vrf, uint32_t idx, unsigned level, uint32_t ip,
		    uint8_t len, uint32_t rvalue, uint8_t rlen)
{
	unsigned byte = (ip >> (24 - 8 * level)) & 0xff, top = 8 * (level + 1);
	fib_entry_t *e;

	if (len <= top) {
		unsigned span = 1u << (top - len), start = byte & ~(span - 1);
		for (unsigned i = start; i < start + span; i++)
			cover_del(f, vrf, idx, level, i, len, rvalue, rlen);
		return;
	}
	e = node_w(f, idx) + byte;
	if (!(*e & FIB_CHILD))
		return;
	del_rec(f, vrf, *e & ~FIB_CHILD, level + 1, ip, len, rvalue, rlen);
	try_collapse(f, vrf, idx, level, byte);
}

/* ---- API ---- */

int fib_init(struct fib *f, int socket)
{
	memset(f, 0, sizeof(*f));
	f->socket = socket;
	f->next_fresh = 1; /* node 0 means "none" */
	return 0;
}

static void free_tree(struct fib *f, uint16_t vrf, uint32_t idx)
{
	const fib_entry_t *n = node_w(f, idx);

	for (unsigned i = 0; i < FIB_NODE_ENTRIES; i++)
		if (n[i] & FIB_CHILD)
			free_tree(f, vrf, n[i] & ~FIB_CHILD);
	free_node(f, vrf, idx);
}

int fib_vrf_add(struct fib *f, uint16_t vrf)
{
	struct fib_rib *r;
	uint32_t root;

	if (vrf == 0 || vrf >= FIB_MAX_VRFS)
		return -EINVAL;
	if (f->roots[vrf])
		return -EEXIST;
	r = calloc(1, sizeof(*r));
	if (r)
		r->slots = calloc(16, sizeof(*r->slots));
	root = r && r->slots ? alloc_node(f, vrf) : 0;
	if (root == 0) {
		if (r)
			free(r->slots);
		free(r);
		return -ENOMEM;
	}
	r->cap = 16;
	memset(node_w(f, root), 0, sizeof(fib_entry_t) * FIB_NODE_ENTRIES);
	memset(node_d(f, root), 0, FIB_NODE_ENTRIES);
	f->rib[vrf] = r;
	__atomic_store_n(&f->roots[vrf], fib_root_word(root, 0, 0), __ATOMIC_RELEASE);
	return 0;
}

void fib_vrf_del(struct fib *f, uint16_t vrf)
{
	uint32_t root;

	if (vrf == 0 || vrf >= FIB_MAX_VRFS || f->roots[vrf] == 0)
		return;
	root = fib_root_node(f->roots[vrf]);
	__atomic_store_n(&f->roots[vrf], 0, __ATOMIC_RELEASE);
	free_tree(f, vrf, root);
	free(f->rib[vrf]->slots);
	free(f->rib[vrf]);
	f->rib[vrf] = NULL;
}

int fib_add(struct fib *f, uint16_t vrf, uint32_t ip, uint8_t len, uint32_t value)
{
	struct fib_rib *r;
	int rc;

	if (vrf == 0 || vrf >= FIB_MAX_VRFS || f->roots[vrf] == 0)
		return -ENOENT;
	if (len > 32 || value == FIB_NO_ROUTE || value > FIB_VALUE_MAX)
		return -EINVAL;
	ip &= mask_of(len);
	r = f->rib[vrf];
	/* Room in the route hash first: the trie change cannot be half undone. */
	if ((r->used + r->tombs + 1) * 4 > r->cap * 3 && rib_grow(r) < 0)
		return -ENOMEM;
	rc = add_rec(f, vrf, fib_root_node(f->roots[vrf]), 0, ip, len, value);
	/* Even an add that ran out of nodes may have linked the /16's node of /24s. */
	if (len > 16 && !fib_home_node(f->roots[vrf]))
		home_set(f, vrf, node_of_16(f, fib_root_node(f->roots[vrf]), ip >> 16), ip >> 16);
	if (rc < 0)
		return rc; /* nothing changed but spare nodes holding the old results */
	return rib_put(r, ip, len, value);
}

int fib_del(struct fib *f, uint16_t vrf, uint32_t ip, uint8_t len, uint32_t *old)
{
	struct fib_rib *r;
	struct rib_slot *s;
	uint32_t rvalue;
	uint8_t rlen;
	bool had_home;

	if (vrf == 0 || vrf >= FIB_MAX_VRFS || f->roots[vrf] == 0 || len > 32)
		return -ENOENT;
	ip &= mask_of(len);
	r = f->rib[vrf];
	s = rib_find(r, rib_key(ip, len));
	if (s == NULL)
		return -ENOENT;
	if (old)
		*old = s->value;
	rib_drop(r, s);
	rib_cover(r, ip, len, &rvalue, &rlen);
	had_home = fib_home_node(f->roots[vrf]) != 0;
	del_rec(f, vrf, fib_root_node(f->roots[vrf]), 0, ip, len, rvalue, rlen);
	if (had_home && !fib_home_node(f->roots[vrf]))
		home_pick(f, vrf);
	return 0;
}

uint32_t fib_get(const struct fib *f, uint16_t vrf, uint32_t ip, uint8_t len)
{
	const struct rib_slot *s;

	if (vrf == 0 || vrf >= FIB_MAX_VRFS || f->rib[vrf] == NULL || len > 32)
		return FIB_NO_ROUTE;
	s = rib_find(f->rib[vrf], rib_key(ip & mask_of(len), len));
	return s ? s->value : FIB_NO_ROUTE;
}

int32_t fib_home(const struct fib *f, uint16_t vrf)
{
	fib_root_t r = vrf < FIB_MAX_VRFS ? f->roots[vrf] : 0;

	return fib_home_node(r) ? (int32_t)fib_home_16(r) : -1;
}

uint32_t fib_count(const struct fib *f, uint16_t vrf)
{
	return vrf < FIB_MAX_VRFS && f->rib[vrf] ? f->rib[vrf]->used : 0;
}

uint32_t fib_nodes(const struct fib *f, uint16_t vrf)
{
	return vrf < FIB_MAX_VRFS ? f->vrf_nodes[vrf] : 0;
}

uint32_t fib_nodes_needed(const struct fib *f, uint16_t vrf, uint32_t ip, uint8_t len)
{
	fib_root_t r = vrf < FIB_MAX_VRFS ? f->roots[vrf] : 0;
	uint32_t idx = fib_root_node(r);
	unsigned level = 0;

	if (r == 0 || len > 32)
		return 0;
	/* As add_rec walks: a node below each level the prefix is longer than, made if absent. */
	for (; len > 8 * (level + 1); level++) {
		fib_entry_t e = fib_node(f, idx)[(ip >> (24 - 8 * level)) & 0xff];
		if (!(e & FIB_CHILD))
			return (uint32_t)((len - 1) / 8 - level);
		idx = e & ~FIB_CHILD;
	}
	return 0;
}

void fib_walk(const struct fib *f, uint16_t vrf,
	      void (*fn)(uint32_t ip, uint8_t len, uint32_t value, void *arg), void *arg)
{
	const struct fib_rib *r = vrf < FIB_MAX_VRFS ? f->rib[vrf] : NULL;

	for (uint32_t i = 0; r && i < r->cap; i++) {
		uint64_t k = r->slots[i].key;
		if (k != RIB_EMPTY && k != RIB_TOMB)
			fn((uint32_t)(k >> 8), (uint8_t)k, r->slots[i].value, arg);
	}
}

void fib_memory(const struct fib *f, struct fib_mem *m)
{
	memset(m, 0, sizeof(*m));
	m->nodes = f->nodes_used;
	m->node_bytes = (uint64_t)f->nodes_used * sizeof(fib_entry_t) * FIB_NODE_ENTRIES;
	m->chunk_bytes =
		(uint64_t)f->n_chunks * NODES_PER_CHUNK * sizeof(fib_entry_t) * FIB_NODE_ENTRIES;
	m->control_bytes = (uint64_t)f->n_chunks * NODES_PER_CHUNK * FIB_NODE_ENTRIES +
			   (uint64_t)f->free_cap * sizeof(uint32_t);
	for (unsigned v = 0; v < FIB_MAX_VRFS; v++) {
		if (f->rib[v]) {
			m->control_bytes +=
				sizeof(*f->rib[v]) + f->rib[v]->cap * sizeof(struct rib_slot);
			m->routes += f->rib[v]->used;
		}
	}
}

void fib_fini(struct fib *f)
{
	for (unsigned v = 0; v < FIB_MAX_VRFS; v++) {
		if (f->rib[v]) {
			free(f->rib[v]->slots);
			free(f->rib[v]);
		}
	}
	if (dp_rcu_qsv && dp_rcu_pending()) {
		dp_rcu_synchronize();
		dp_rcu_reclaim();
	}
	for (uint32_t c = 0; c < f->n_chunks; c++) {
		rte_free(f->chunks[c]);
		free(f->depth_chunks[c]);
	}
	free(f->free_nodes);
	memset(f, 0, sizeof(*f));
}
