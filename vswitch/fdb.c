/* SPDX-License-Identifier: BSD-3-Clause */
#include "fdb.h"

#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "rcu.h"

int fdb_init(struct fdb *f, uint32_t capacity, int socket)
{
	static unsigned seq;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = {
		.name = name,
		.entries = capacity,
		.key_len = sizeof(uint64_t),
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		/* Lock-free readers, one writer; extendable buckets so capacity is exact. */
		.extra_flag =
			RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	memset(f, 0, sizeof(*f));
	snprintf(name, sizeof(name), "tess_fdb%u", seq++);
	f->h = rte_hash_create(&p);
	if (f->h == NULL)
		return -rte_errno;
	f->capacity = capacity;
	f->entries = rte_zmalloc_socket("tess_fdb_entries", sizeof(*f->entries) * capacity,
					RTE_CACHE_LINE_SIZE, socket);
	f->free_idx =
		rte_malloc_socket("tess_fdb_free", sizeof(*f->free_idx) * capacity, 0, socket);
	if (f->entries == NULL || f->free_idx == NULL) {
		fdb_fini(f);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < capacity; i++) {
		f->free_idx[i] = capacity - 1 - i;
		f->entries[i].index = i;
		f->entries[i].owner = f;
	}
	f->n_free = capacity;
	return 0;
}

void fdb_fini(struct fdb *f)
{
	/* Deferred releases of its entries must run while the table still exists. */
	if (dp_rcu_qsv && dp_rcu_pending()) {
		dp_rcu_synchronize();
		dp_rcu_reclaim();
	}
	rte_hash_free(f->h);
	rte_free(f->entries);
	rte_free(f->free_idx);
	memset(f, 0, sizeof(*f));
}

struct fdb_entry *fdb_find(const struct fdb *f, uint64_t key)
{
	void *data;

	return rte_hash_lookup_data(f->h, &key, &data) >= 0 ? data : NULL;
}

static void count(struct fdb *f, const struct fdb_entry *e, int delta)
{
	if (e->flags & FDB_F_STATIC)
		return;
	f->per_port[e->port] += (uint32_t)delta;
	f->per_vlan[e->vlan] += (uint32_t)delta;
}

static struct fdb_entry *insert(struct fdb *f, uint64_t key, uint16_t port, uint8_t flags,
				uint64_t now)
{
	struct fdb_entry *e;
	int rc;

	if (f->n_free == 0)
		return NULL;
	e = &f->entries[f->free_idx[f->n_free - 1]];
	e->port = port;
	e->vlan = fdb_key_vlan(key);
	e->flags = flags;
	memcpy(e->mac.addr_bytes, &key, RTE_ETHER_ADDR_LEN);
	e->seen = now;
	/* The entry is complete before the key makes it visible. */
	rc = rte_hash_add_key_data(f->h, &key, e);
	if (rc < 0)
		return NULL;
	e->pos = -1; /* add_key_data does not say where; delete does */
	e->live = true;
	f->n_free--;
	f->n_live++;
	count(f, e, +1);
	return e;
}

/* Runs once no worker can hold e (after an RCU grace period). */
static void release(void *arg)
{
	struct fdb_entry *e = arg;
	struct fdb *f = e->owner;

	if (e->pos >= 0)
		rte_hash_free_key_with_position(f->h, e->pos);
	f->free_idx[f->n_free++] = e->index;
}

static void remove_entry(struct fdb *f, struct fdb_entry *e)
{
	uint64_t key = fdb_key(e->vlan, &e->mac);

	/* The key slot to free after the grace period (readers may still compare it). */
	e->pos = rte_hash_del_key(f->h, &key);
	count(f, e, -1);
	e->live = false;
	f->n_live--;
	dp_rcu_defer(release, e);
}

enum fdb_learn_result fdb_learn(struct fdb *f, uint64_t key, uint16_t port, uint64_t now,
				uint32_t port_limit, uint32_t vlan_limit)
{
	struct fdb_entry *e = fdb_find(f, key);
	uint16_t vlan = fdb_key_vlan(key);

	if (e && (e->flags & FDB_F_STATIC)) {
		if (e->port == port)
			return FDB_REFRESHED;
		f->stats.static_conflict++;
		return FDB_STATIC_CONFLICT;
	}
	if (e && e->port == port) {
		e->seen = now;
		return FDB_REFRESHED;
	}
	if (port_limit && f->per_port[port] >= port_limit) {
		f->stats.refused_port++;
		f->refused_port_count[port]++;
		f->refused_vlan_count[vlan]++;
		return FDB_REFUSED_PORT_LIMIT;
	}
	if (e) {
		/* A move keeps the VLAN's count; the ports trade one. */
		f->per_port[e->port]--;
		f->per_port[port]++;
		__atomic_store_n(&e->port, port, __ATOMIC_RELEASE);
		e->seen = now;
		f->stats.moved++;
		f->learned_port[port]++;
		return FDB_MOVED;
	}
	if (vlan_limit && f->per_vlan[vlan] >= vlan_limit) {
		f->stats.refused_group++;
		f->refused_port_count[port]++;
		f->refused_vlan_count[vlan]++;
		return FDB_REFUSED_GROUP_LIMIT;
	}
	if (insert(f, key, port, 0, now) == NULL) {
		f->stats.refused_full++;
		f->refused_port_count[port]++;
		f->refused_vlan_count[vlan]++;
		return FDB_REFUSED_FULL;
	}
	f->stats.learned++;
	f->learned_port[port]++;
	f->learned_vlan[vlan]++;
	return FDB_LEARNED;
}

int fdb_add_static(struct fdb *f, uint64_t key, uint16_t port, uint64_t now)
{
	struct fdb_entry *e = fdb_find(f, key);

	if (e && (e->flags & FDB_F_STATIC)) {
		__atomic_store_n(&e->port, port, __ATOMIC_RELEASE);
		return 0;
	}
	if (e)
		remove_entry(f, e); /* a learned entry gives way */
	if (f->n_free == 0) {
		/* Full of entries: a learned one makes room for the static one. */
		for (uint32_t i = 0; i < f->capacity && !e; i++)
			if (f->entries[i].live && !(f->entries[i].flags & FDB_F_STATIC))
				e = &f->entries[i];
		if (e)
			remove_entry(f, e);
		if (f->n_free == 0) {
			dp_rcu_synchronize();
			dp_rcu_reclaim();
		}
	}
	return insert(f, key, port, FDB_F_STATIC, now) ? 0 : -ENOSPC;
}

void fdb_remove(struct fdb *f, struct fdb_entry *e)
{
	if (e->live)
		remove_entry(f, e);
}

int fdb_del(struct fdb *f, uint64_t key)
{
	struct fdb_entry *e = fdb_find(f, key);

	if (e == NULL)
		return -ENOENT;
	remove_entry(f, e);
	return 0;
}

static bool matches(const struct fdb_entry *e, const struct fdb_filter *flt)
{
	bool st = e->flags & FDB_F_STATIC;

	return e->live && (flt->port < 0 || e->port == flt->port) &&
	       (flt->vlan < 0 || e->vlan == flt->vlan) && (st ? flt->statics : flt->dynamics);
}

unsigned fdb_age(struct fdb *f, uint64_t now, uint64_t max_age)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < f->capacity && f->n_live; i++) {
		struct fdb_entry *e = &f->entries[i];

		/* Signed: a worker may have touched it after "now" was read. */
		if (e->live && !(e->flags & FDB_F_STATIC) &&
		    (int64_t)(now - __atomic_load_n(&e->seen, __ATOMIC_RELAXED)) >
			    (int64_t)max_age) {
			remove_entry(f, e);
			n++;
		}
	}
	f->stats.aged += n;
	return n;
}

unsigned fdb_flush(struct fdb *f, const struct fdb_filter *flt)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < f->capacity && f->n_live; i++) {
		if (matches(&f->entries[i], flt)) {
			remove_entry(f, &f->entries[i]);
			n++;
		}
	}
	f->stats.flushed += n;
	return n;
}

unsigned fdb_prune(struct fdb *f, bool (*drop)(const struct fdb_entry *e, void *arg), void *arg)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < f->capacity && f->n_live; i++) {
		struct fdb_entry *e = &f->entries[i];
		if (e->live && drop(e, arg)) {
			remove_entry(f, e);
			n++;
		}
	}
	return n;
}

void fdb_walk(const struct fdb *f, const struct fdb_filter *flt,
	      void (*fn)(const struct fdb_entry *e, void *arg), void *arg)
{
	for (uint32_t i = 0; i < f->capacity; i++)
		if (matches(&f->entries[i], flt))
			fn(&f->entries[i], arg);
}
