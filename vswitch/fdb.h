/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forwarding database: (VLAN, MAC) -> port, for every group at once.
 *
 * Workers only read it (lf_table: lock-free readers), and refresh an
 * entry's "seen" time at most once a second. Only the control thread writes:
 * it learns from the workers' learn events, ages, flushes and enforces the
 * MAC limits. An entry is published once filled, so no reader sees a
 * half-made one; a deleted entry is reused only after every worker has
 * passed a quiescent state (dp_rcu).
 */
#ifndef TESS_FDB_H
#define TESS_FDB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>

#include "dp.h"
#include "lf_table.h"

#define FDB_F_STATIC 0x1
#define FDB_NO_LIMIT 0
#define FDB_VLANS    4096

/*
 * Its MAC and VLAN are its key's (fdb_entry_key), kept in the table's
 * header before it: 16 bytes here make a slot 32, two to a cache line.
 */
struct fdb_entry {
	uint16_t port; /* changed in place on a move: readers see the old or the new */
	uint8_t flags;
	bool live;     /* in the table (not deleted, not waiting for RCU) */
	uint64_t seen; /* TSC of the last frame from this MAC (workers refresh it) */
};
_Static_assert(LF_ELT_OFF + sizeof(struct fdb_entry) <= 32, "an FDB slot: half a cache line");

struct fdb_stats {
	uint64_t learned, moved, aged, flushed, refused_port, refused_group, refused_full,
		static_conflict;
};

struct fdb {
	struct lf_table t; /* n_live: live entries, static ones included */
	/* Dynamic (learned) entries per port and per VLAN, for the MAC limits. */
	uint32_t per_port[DP_MAX_PORTS];
	uint32_t per_vlan[FDB_VLANS];
	/*
	 * A port whose MAC limit is per group (a trunk: one group's MACs must
	 * not use up what the others learn over it): its entries per VLAN. NULL
	 * for the others (fdb_port_per_group).
	 */
	uint32_t *per_group[DP_MAX_PORTS];
	uint32_t learned_port[DP_MAX_PORTS]; /* learns on a port since start */
	uint32_t refused_port_count[DP_MAX_PORTS];
	uint32_t learned_vlan[FDB_VLANS];
	uint32_t refused_vlan_count[FDB_VLANS];
	struct fdb_stats stats;
};

static inline uint64_t fdb_key(uint16_t vlan, const struct rte_ether_addr *mac)
{
	uint64_t k = 0;

	memcpy(&k, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	return k | (uint64_t)vlan << 48;
}

static inline uint16_t fdb_key_vlan(uint64_t key)
{
	return (uint16_t)(key >> 48);
}

static inline struct rte_ether_addr fdb_key_mac(uint64_t key)
{
	struct rte_ether_addr a;

	memcpy(a.addr_bytes, &key, RTE_ETHER_ADDR_LEN);
	return a;
}

/* The key, VLAN and MAC of an entry in the table. */
static inline uint64_t fdb_entry_key(const struct fdb_entry *e)
{
	return lf_key(e);
}

static inline uint16_t fdb_entry_vlan(const struct fdb_entry *e)
{
	return fdb_key_vlan(lf_key(e));
}

static inline struct rte_ether_addr fdb_entry_mac(const struct fdb_entry *e)
{
	return fdb_key_mac(lf_key(e));
}

/* Datapath: entries for n keys (NULL where absent); n <= LF_BULK_MAX. */
static inline void fdb_lookup_bulk(const struct fdb *f, const uint64_t *keys, uint32_t n,
				   struct fdb_entry **out)
{
	lf_find_bulk(&f->t, keys, n, (void **)out);
}

/* Datapath: a frame from this entry's MAC was seen now. */
static inline void fdb_touch(struct fdb_entry *e, uint64_t now, uint64_t hz)
{
	if (unlikely(now - e->seen > hz))
		__atomic_store_n(&e->seen, now, __ATOMIC_RELAXED);
}

/* ---- control thread ---- */

enum fdb_learn_result {
	FDB_LEARNED,
	FDB_REFRESHED,
	FDB_MOVED,
	FDB_REFUSED_PORT_LIMIT,
	FDB_REFUSED_GROUP_LIMIT,
	FDB_REFUSED_FULL,
	FDB_STATIC_CONFLICT,
};

int fdb_init(struct fdb *f, uint32_t capacity, int socket);
void fdb_fini(struct fdb *f);

/*
 * Learns (or refreshes, or moves) key on port. Limits (0: none) bound the
 * dynamic entries of the port (of the port in the key's VLAN, for a port
 * counted per group) and of the key's VLAN; a move counts against the new
 * port's limit.
 */
enum fdb_learn_result fdb_learn(struct fdb *f, uint64_t key, uint16_t port, uint64_t now,
				uint32_t port_limit, uint32_t vlan_limit);
/*
 * Counts port's learned entries per group (on; its limit then bounds each
 * group's) or not (off). -ENOMEM: still counted as before.
 */
int fdb_port_per_group(struct fdb *f, uint16_t port, bool on);
/*
 * Adds or re-points a static entry (never aged, never moved by learning).
 * A full table gives up a learned entry for it (waiting for readers).
 */
int fdb_add_static(struct fdb *f, uint64_t key, uint16_t port, uint64_t now);
/* Deletes key (static or not); -ENOENT if absent. */
int fdb_del(struct fdb *f, uint64_t key);
/* Deletes a live entry found by a walk. */
void fdb_remove(struct fdb *f, struct fdb_entry *e);
struct fdb_entry *fdb_find(const struct fdb *f, uint64_t key);

/* Deletes dynamic entries not seen for max_age TSC cycles; returns how many. */
unsigned fdb_age(struct fdb *f, uint64_t now, uint64_t max_age);

/* Which entries a flush or a walk takes: port/vlan -1 for any. */
struct fdb_filter {
	int port;
	int vlan;
	bool statics;  /* static entries too */
	bool dynamics; /* learned entries */
};
unsigned fdb_flush(struct fdb *f, const struct fdb_filter *flt);
/* Deletes the live entries for which drop() says so; returns how many. */
unsigned fdb_prune(struct fdb *f, bool (*drop)(const struct fdb_entry *e, void *arg), void *arg);
/* Calls fn for every live entry matching flt, in no particular order. */
void fdb_walk(const struct fdb *f, const struct fdb_filter *flt,
	      void (*fn)(const struct fdb_entry *e, void *arg), void *arg);

#endif
