/* SPDX-License-Identifier: BSD-3-Clause */
#include "fdb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "rcu.h"

int fdb_init(struct fdb *f, uint32_t capacity, int socket)
{
	memset(f, 0, sizeof(*f));
	return lf_init(&f->t, "tess_fdb", capacity, sizeof(struct fdb_entry), socket);
}

void fdb_fini(struct fdb *f)
{
	for (uint32_t p = 0; p < DP_MAX_PORTS; p++)
		free(f->per_group[p]);
	lf_fini(&f->t);
	memset(f, 0, sizeof(*f));
}

static struct fdb_entry *entry(const struct fdb *f, uint32_t i)
{
	return lf_elt(&f->t, i);
}

struct fdb_entry *fdb_find(const struct fdb *f, uint64_t key)
{
	return lf_find(&f->t, key);
}

static void count(struct fdb *f, const struct fdb_entry *e, int delta)
{
	if (e->flags & FDB_F_STATIC)
		return;
	f->per_port[e->port] += (uint32_t)delta;
	f->per_vlan[fdb_entry_vlan(e)] += (uint32_t)delta;
	if (f->per_group[e->port])
		f->per_group[e->port][fdb_entry_vlan(e)] += (uint32_t)delta;
}

static struct fdb_entry *insert(struct fdb *f, uint64_t key, uint16_t port, uint8_t flags,
				uint64_t now)
{
	struct fdb_entry *e = lf_reserve(&f->t);

	if (e == NULL)
		return NULL;
	e->port = port;
	e->flags = flags;
	e->seen = now;
	if (lf_insert(&f->t, key, e) < 0)
		return NULL;
	e->live = true;
	count(f, e, +1);
	return e;
}

static void remove_entry(struct fdb *f, struct fdb_entry *e)
{
	count(f, e, -1);
	e->live = false;
	lf_remove(&f->t, fdb_entry_key(e), e);
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
	if (port_limit &&
	    (f->per_group[port] ? f->per_group[port][vlan] : f->per_port[port]) >= port_limit) {
		f->stats.refused_port++;
		f->refused_port_count[port]++;
		f->refused_vlan_count[vlan]++;
		return FDB_REFUSED_PORT_LIMIT;
	}
	if (e) {
		/* A move keeps the VLAN's count; the ports trade one. */
		f->per_port[e->port]--;
		f->per_port[port]++;
		if (f->per_group[e->port])
			f->per_group[e->port][vlan]--;
		if (f->per_group[port])
			f->per_group[port][vlan]++;
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

int fdb_port_per_group(struct fdb *f, uint16_t port, bool on)
{
	uint32_t *n;

	if (!on || f->per_group[port]) {
		if (!on) {
			free(f->per_group[port]);
			f->per_group[port] = NULL;
		}
		return 0;
	}
	n = calloc(FDB_VLANS, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	/* The port's entries so far (once, when it becomes a trunk). */
	for (uint32_t i = 0; i < f->t.span; i++) {
		const struct fdb_entry *e = entry(f, i);
		if (e->live && e->port == port && !(e->flags & FDB_F_STATIC))
			n[fdb_entry_vlan(e)]++;
	}
	f->per_group[port] = n;
	return 0;
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
	if (f->t.n_free == 0) {
		/* Full of entries: a learned one makes room for the static one, the key's own if
		 * it had one (its slot is free only once readers are done with it, below): it is
		 * not removed, nor its port's and group's counts lowered, a second time. */
		for (uint32_t i = 0; i < f->t.span && !e; i++)
			if (entry(f, i)->live && !(entry(f, i)->flags & FDB_F_STATIC))
				e = entry(f, i);
		if (e && e->live)
			remove_entry(f, e);
		if (f->t.n_free == 0) {
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
	       (flt->vlan < 0 || fdb_entry_vlan(e) == flt->vlan) &&
	       (st ? flt->statics : flt->dynamics);
}

unsigned fdb_age(struct fdb *f, uint64_t now, uint64_t max_age)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < f->t.span && f->t.n_live; i++) {
		struct fdb_entry *e = entry(f, i);

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

	for (uint32_t i = 0; i < f->t.span && f->t.n_live; i++) {
		if (matches(entry(f, i), flt)) {
			remove_entry(f, entry(f, i));
			n++;
		}
	}
	f->stats.flushed += n;
	return n;
}

unsigned fdb_prune(struct fdb *f, bool (*drop)(const struct fdb_entry *e, void *arg), void *arg)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < f->t.span && f->t.n_live; i++) {
		struct fdb_entry *e = entry(f, i);
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
	for (uint32_t i = 0; i < f->t.span; i++)
		if (matches(entry(f, i), flt))
			fn(entry(f, i), arg);
}
