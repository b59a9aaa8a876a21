/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT44 (the nat module): one instance per tenant (inside) VRF, translating
 * toward an outside VRF (the provider's internet VRF) with a pool of port
 * blocks and static mappings. Sessions are entries of the connection table
 * (vrf/conn/conn.h): original tuple as the packet arrived, reply tuple as
 * its answer arrives, so a packet matching key[d] of an entry leaves as the
 * reverse of key[1 - d] and is routed in that tuple's VRF.
 *
 * Entries of an instance (slot s): sessions under owner 2s (limited to
 * max_sessions), and its records under owner 2s + 1 (limited to twice
 * that: a session needs at most one mapping, a mapping one subscriber):
 * a subscriber
 * record (its inside address: which port block it holds) and a mapping
 * record per inside address, port and protocol (the outside port; RFC 4787
 * endpoint-independent mapping: every session from it uses that port).
 * Records stay while something uses them (the table's keep callback
 * counts references) and then for the protocol's timeout.
 */
#ifndef TESS_NAT_H
#define TESS_NAT_H

#include <stdint.h>

#include <jansson.h>

#include "conn.h"
#include "ctl_server.h"
#include "dp.h"
#include "drop.h"
#include "tessd_config.h"

#define NAT_MAX_SLOTS 8192 /* instances, those going away included */
#define NAT_MAX_VRFS  4096

/* What an entry of the table is to NAT (user[0] & NAT_KIND_MASK). */
#define NAT_SESSION_PAT    1ull /* user[0]: kind */
#define NAT_SESSION_STATIC 2ull
#define NAT_MAPPING        3ull /* user[0]: kind | port << 8 | addr << 24; user[1]: refs */
#define NAT_SUBSCRIBER     4ull /* user[0]: kind | block << 8; user[1]: refs */
#define NAT_FRAG           5ull /* user[0]: kind | vrf << 8; user[1]: src << 32 | dst (nat_frag.c) */
#define NAT_KIND_MASK      0xffull
/* A session's user[0]: its kind | the TSC it was made at << 8 (56 bits: its log's duration). */
#define NAT_BORN_SHIFT 8

/*
 * References to a record (its user[1]): its users (a mapping's sessions, a subscriber's
 * mappings) in the low 32 bits; a mapping has its subscriber's entry number + 1 in bits
 * 32-62 (a PAT session has its mapping's in user[1]). The control thread lets a record go
 * only once it sets NAT_REF_DEAD on a count of 0, and workers take a reference only on a
 * live record without it, so no reference lands on a record going or gone: a reference is
 * given back to the very entry it was taken on (by number, not by a lookup of its tuple).
 */
#define NAT_REF_DEAD  (UINT64_C(1) << 63)
#define NAT_REF_COUNT UINT64_C(0xffffffff)

/* Worker: a reference on record e; false if it is not live or going (look again). */
static inline bool nat_ref_take(struct conn_entry *e)
{
	uint64_t v;

	/* NEW: a rival's being published, which it may withdraw; DYING: going. */
	if (__atomic_load_n(&e->live, __ATOMIC_ACQUIRE) != CONN_LIVE)
		return false;
	v = __atomic_load_n(&e->user[1], __ATOMIC_ACQUIRE);
	do {
		if (v & NAT_REF_DEAD)
			return false;
	} while (!__atomic_compare_exchange_n(&e->user[1], &v, v + 1, true, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return true;
}

/* Any thread: gives back a reference taken on e. */
static inline void nat_ref_drop(struct conn_entry *e)
{
	__atomic_fetch_sub(&e->user[1], 1, __ATOMIC_RELEASE);
}

/* Control: marks record e going if nothing uses it (forced: anyway); false if in use. */
static inline bool nat_ref_kill(struct conn_entry *e, bool forced)
{
	uint64_t v = __atomic_load_n(&e->user[1], __ATOMIC_ACQUIRE);

	do {
		if ((v & NAT_REF_COUNT) && !forced)
			return false;
	} while (!__atomic_compare_exchange_n(&e->user[1], &v, v | NAT_REF_DEAD, true,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return true;
}

/* The entry number + 1 of e (0: none), and back. */
static inline uint64_t nat_entry_ref(const struct conn_table *t, const struct conn_entry *e)
{
	return (uint64_t)(e - t->e) + 1;
}

/* A pool's port blocks and ports, shared by the instances using it (lock-free bitmaps). */
struct nat_pool {
	char name[TESS_NAME_LEN];
	struct tessd_nat_pool_cfg cfg; /* as built: a pool whose config changes is a new one */
	uint32_t base;                 /* first address, host order */
	uint32_t n_addrs;
	uint32_t blocks_per_addr;
	uint32_t n_blocks;
	uint32_t block_words; /* 64-bit words of one block's port bitmap */
	uint64_t *block_used; /* a bit per block (atomic) */
	uint64_t *port_used;  /* block_words per block (atomic) */
	uint16_t *block_slot; /* the slot + 1 of the instance holding a block, 0: free (atomic) */
	uint64_t gives;       /* blocks given back so far (atomic) */
	uint64_t full_at;     /* gives + 1 when a scan last found no block free; 0: not known */
	uint32_t users;       /* instances (live or retiring) on it; control thread */
	bool live;            /* in the running config */
};

struct nat_static {
	uint32_t outside, inside; /* host order */
	uint8_t proto;            /* 0: all (1:1), IPPROTO_TCP, IPPROTO_UDP */
	uint16_t outside_port, inside_port;
};

/* Counters of an instance, per worker. */
#define NAT_COUNTERS(X)           \
	X(created)                \
	X(translated_out)         \
	X(translated_in)          \
	X(hairpinned)             \
	X(port_exhausted)         \
	X(limit)                  \
	X(table_full)             \
	X(unknown_inbound)        \
	X(unsupported)            \
	X(icmp_translated)        \
	X(icmp_bad)               \
	X(icmp_no_session)        \
	X(clash)                  \
	X(frag_translated)        \
	X(frag_unknown)           \
	X(frag_limit)             \
	X(log_lost)               \
	X(router_icmp_translated) \
	X(router_icmp_dropped)
struct nat_wcnt {
#define NAT_CNT_FIELD(n) uint64_t n;
	NAT_COUNTERS(NAT_CNT_FIELD)
#undef NAT_CNT_FIELD
};

/* An instance as workers see it; kept while it has entries, even after its config went. */
struct nat_inst {
	char name[TESS_NAME_LEN];
	uint16_t slot;
	uint16_t in_vrf, out_vrf;
	struct nat_pool *pool;   /* NULL: statics only */
	uint32_t max_blocks;     /* (atomic: a change keeps the instance) */
	uint32_t blocks;         /* held by its subscribers (atomic) */
	uint32_t frags;          /* its fragment records (atomic; nat_frag.c) */
	bool live;               /* in the running config; else going once its entries are gone */
	uint8_t log;             /* NAT_LOG_OFF/SESSIONS/BLOCKS (nat_log.h; atomic, set at sync) */
	char vrf[TESS_NAME_LEN]; /* its inside VRF's name (log lines) */
	struct nat_wcnt base;    /* at stats.reset */
};

/* Addresses workers match: pool and static outside addresses, static inside ones. */
#define NAT_ADDR_POOL       1
#define NAT_ADDR_STATIC_OUT 2
#define NAT_ADDR_STATIC_IN  3
struct nat_addr {
	uint64_t key; /* kind << 48 | vrf << 32 | address; 0: empty */
	uint16_t pi;  /* the instance (nat_part.pi) */
	uint8_t kind;
};

/* An instance in a snapshot: its state, and its static mappings of this config. */
struct nat_pinst {
	struct nat_inst *n;
	uint32_t n_statics;
	struct nat_static *statics;
};

/* The snapshot's part (immutable once published; shared by snapshots, reference counted). */
struct nat_part {
	uint32_t refs;
	uint16_t n_inst;
	struct nat_pinst *pi;
	uint16_t inst_of_vrf[NAT_MAX_VRFS]; /* inside VRF -> pi index + 1 */
	uint8_t outside[NAT_MAX_VRFS];      /* an outside VRF of some instance */
	uint32_t amask;
	struct nat_addr *amap;     /* open addressing, amask + 1 entries */
	struct nat_log_rings *log; /* workers' log rings; NULL: no logging */
};

/* The module's state: the session table and instances by slot. */
extern struct conn_table *nat_conn;
extern struct nat_inst *nat_slots[NAT_MAX_SLOTS];
extern struct tess_module nat_module;
extern struct dp_drop_set nat_drops;

#define NAT_DROPS(X)                                       \
	X(NAT_DROP_PORT_EXHAUSTED, "nat_port_exhausted")   \
	X(NAT_DROP_LIMIT, "nat_session_limit")             \
	X(NAT_DROP_TABLE_FULL, "nat_table_full")           \
	X(NAT_DROP_UNKNOWN_INBOUND, "nat_unknown_inbound") \
	X(NAT_DROP_UNSUPPORTED, "nat_unsupported")         \
	X(NAT_DROP_TRUNCATED, "nat_truncated")             \
	X(NAT_DROP_ICMP_BAD, "nat_icmp_bad")               \
	X(NAT_DROP_ICMP_NO_SESSION, "nat_icmp_no_session") \
	X(NAT_DROP_CLASH, "nat_clash")                     \
	X(NAT_DROP_FRAG_UNKNOWN, "nat_frag_unknown")       \
	X(NAT_DROP_ROUTER_ICMP, "nat_router_icmp_untranslatable")

/* Numbered after the core's reasons (drop.h). */
enum nat_drop {
	NAT_DROP_FIRST_ = DP_DROP_CORE_MAX - 1,
#define NAT_DROP_ENUM(e, s) e,
	NAT_DROPS(NAT_DROP_ENUM)
#undef NAT_DROP_ENUM
		NAT_DROP_MAX
};

/* A worker's counters: [slot]. */
struct nat_worker {
	struct nat_wcnt cnt[NAT_MAX_SLOTS];
};
/* The control thread's (the router's own ICMP errors it translates: nat_router_err.c). */
extern struct nat_worker *nat_ctl_cnt;

static inline const struct nat_addr *nat_addr_find(const struct nat_part *p, uint16_t vrf,
						   uint32_t addr, uint8_t kind)
{
	uint64_t key = (uint64_t)vrf << 32 | addr | (uint64_t)kind << 48;
	uint32_t h = rte_hash_crc_8byte(key, 0x4a7) & p->amask;

	if (p->amap == NULL)
		return NULL;
	for (uint32_t i = 0; i <= p->amask; i++) {
		const struct nat_addr *a = &p->amap[(h + i) & p->amask];

		if (a->key == key)
			return a;
		if (a->key == 0)
			return NULL;
	}
	return NULL;
}

/* The public address (a static mapping's, else a pool's) addr is in vrf; NULL: none. */
static inline const struct nat_addr *nat_public_addr(const struct nat_part *p, uint16_t vrf,
						     rte_be32_t addr)
{
	const struct nat_addr *a =
		nat_addr_find(p, vrf, rte_be_to_cpu_32(addr), NAT_ADDR_STATIC_OUT);

	return a ? a : nat_addr_find(p, vrf, rte_be_to_cpu_32(addr), NAT_ADDR_POOL);
}

/* Owners in the table of an instance slot. */
static inline uint16_t nat_owner_sessions(uint16_t slot)
{
	return (uint16_t)(2 * slot);
}

static inline uint16_t nat_owner_records(uint16_t slot)
{
	return (uint16_t)(2 * slot + 1);
}

/* Control: the pool's outside address and port of block b, port index j. */
static inline void nat_pool_addr(const struct nat_pool *p, uint32_t b, uint32_t j, uint32_t *addr,
				 uint16_t *port)
{
	*addr = p->base + b / p->blocks_per_addr;
	*port = (uint16_t)(p->cfg.port_min + (b % p->blocks_per_addr) * p->cfg.block_size + j);
}

/* nat_control.c: the keep callback of the table (records' references). */
bool nat_keep(void *arg, struct conn_entry *e, bool forced);

/* nat_api.c: the API and counters. */
extern const struct ctl_method nat_methods[];
void nat_stats_json(json_t *stats, const struct tessd_cfg *cfg, const char *vrf);
void nat_stats_reset(void);
/* The workers' sums of n's slot (base not taken off). */
void nat_inst_sum(const struct nat_inst *n, struct nat_wcnt *c);

/* nat_log.c: logging's control side (the records: nat_log.h, nat_log_dp.h). */
struct nat_log_rings;
/* Build: the rings for cfg's logging (a reference), NULL if off; -ENOMEM in *rc. */
struct nat_log_rings *nat_log_rings_get(const struct tessd_cfg *cfg, int *rc);
void nat_log_rings_put(struct nat_log_rings *r);
/* Sync: the running config's file, mode and instances' flags. */
void nat_log_sync(const struct tessd_cfg *cur);
/* What instance c logs under cfg (NAT_LOG_OFF, _SESSIONS, _BLOCKS). */
uint8_t nat_log_mode_of(const struct tessd_cfg *cfg, const struct tessd_nat_inst_cfg *c);
/* Poll: drains a bounded batch, writes what is due. now: TSC. */
void nat_log_poll(uint64_t now);
/* Drains and writes everything (before instances a record may name go). */
void nat_log_drain_all(void);
void nat_log_fini(void);
void nat_log_json(json_t *o);

#endif
