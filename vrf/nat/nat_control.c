/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT44's control side: the session table, instances and pools kept across
 * config changes, the snapshot part, expiry, and the records' references
 * (the table's keep callback). Control thread.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "ctl_server.h"
#include "log.h"
#include "module.h"
#include "nat.h"
#include "nat_log_dp.h"
#include "rcu.h"
#include "tessd.h"

struct conn_table *nat_conn;
struct nat_inst *nat_slots[NAT_MAX_SLOTS];
static struct nat_pool *pools[1024 * 2]; /* live and going */
static uint64_t expire_errors;

/* ---- pools ---- */

static void pool_free(struct nat_pool *p)
{
	rte_free(p->block_used);
	rte_free(p->port_used);
	rte_free(p->block_slot);
	rte_free(p);
}

/* Field by field: decoded configs leave their padding as it was. */
static bool pool_cfg_eq(const struct tessd_nat_pool_cfg *a, const struct tessd_nat_pool_cfg *b)
{
	return strcmp(a->name, b->name) == 0 && a->prefix.ip == b->prefix.ip &&
	       a->prefix.len == b->prefix.len && a->port_min == b->port_min &&
	       a->port_max == b->port_max && a->block_size == b->block_size;
}

static struct nat_pool *pool_get(const struct tessd_nat_pool_cfg *c)
{
	struct nat_pool *p;
	int free_at = -1;

	for (unsigned i = 0; i < RTE_DIM(pools); i++) {
		if (pools[i] == NULL) {
			if (free_at < 0)
				free_at = (int)i;
			continue;
		}
		if (pool_cfg_eq(&pools[i]->cfg, c))
			return pools[i];
	}
	if (free_at < 0)
		return NULL;
	p = rte_zmalloc("nat_pool", sizeof(*p), RTE_CACHE_LINE_SIZE);
	if (p == NULL)
		return NULL;
	p->cfg = *c;
	p->base = c->prefix.ip;
	p->n_addrs = 1u << (32 - c->prefix.len);
	p->blocks_per_addr = (c->port_max - c->port_min + 1) / c->block_size;
	p->n_blocks = p->n_addrs * p->blocks_per_addr;
	p->block_words = (c->block_size + 63) / 64;
	p->block_used = rte_zmalloc("nat_blocks", ((p->n_blocks + 63) / 64) * 8, 64);
	p->port_used = rte_zmalloc("nat_ports", (size_t)p->n_blocks * p->block_words * 8, 64);
	p->block_slot = rte_zmalloc("nat_block_slot", (size_t)p->n_blocks * 2, 64);
	if (p->block_used == NULL || p->port_used == NULL || p->block_slot == NULL) {
		pool_free(p);
		return NULL;
	}
	pools[free_at] = p;
	return p;
}

/* ---- the records' references: what a going entry held goes back ---- */

/* The entry whose number + 1 is ref (0: none) gets a reference back. */
static void unref(uint64_t ref)
{
	if (ref)
		nat_ref_drop(&nat_conn->e[ref - 1]);
}

bool nat_keep(void *arg, struct conn_entry *e, bool forced)
{
	struct nat_inst *n = nat_slots[e->owner / 2];
	uint64_t kind = e->user[0] & NAT_KIND_MASK;

	(void)arg;
	if ((kind == NAT_MAPPING || kind == NAT_SUBSCRIBER) && !nat_ref_kill(e, forced))
		return true; /* sessions (mappings) still use it */
	if (n == NULL)
		return false;
	switch (kind) {
	case NAT_SESSION_PAT:
		nat_log_deleted(n, e);
		unref(e->user[1]); /* its mapping */
		break;
	case NAT_SESSION_STATIC:
		nat_log_deleted(n, e);
		break;
	case NAT_MAPPING: {
		struct nat_pool *p = n->pool;
		uint32_t addr = (uint32_t)(e->user[0] >> 24);
		uint32_t port = (uint32_t)((e->user[0] >> 8) & 0xffff);
		uint32_t rel = port - p->cfg.port_min;
		uint32_t b = (addr - p->base) * p->blocks_per_addr + rel / p->cfg.block_size;
		uint32_t j = rel % p->cfg.block_size;

		__atomic_fetch_and(&p->port_used[(size_t)b * p->block_words + j / 64],
				   ~(UINT64_C(1) << (j % 64)), __ATOMIC_RELEASE);
		unref((e->user[1] & ~NAT_REF_DEAD) >> 32); /* its subscriber */
		break;
	}
	case NAT_SUBSCRIBER: {
		uint32_t b = (uint32_t)(e->user[0] >> 8);

		nat_log_freed(n, e, b);
		__atomic_store_n(&n->pool->block_slot[b], 0, __ATOMIC_RELAXED);
		__atomic_fetch_and(&n->pool->block_used[b / 64], ~(UINT64_C(1) << (b % 64)),
				   __ATOMIC_RELEASE);
		__atomic_fetch_add(&n->pool->gives, 1, __ATOMIC_RELEASE);
		__atomic_fetch_sub(&n->blocks, 1, __ATOMIC_RELAXED);
		break;
	}
	case NAT_FRAG:
		__atomic_fetch_sub(&n->frags, 1, __ATOMIC_RELAXED);
		break;
	default:
		break;
	}
	return false;
}

/* ---- instances ---- */

static uint16_t vrf_id(const struct tessd_cfg *cfg, const char *name)
{
	const struct tessd_vrf_cfg *v = tessd_cfg_vrf(cfg, name);

	return v ? v->id : 0;
}

static void timeouts_of(const struct tessd_nat_inst_cfg *c, struct conn_timeouts *to, bool rec)
{
	conn_timeouts_default(to);
	to->sec[CONN_TCP_SYN] = c->tcp_transitory;
	to->sec[CONN_TCP_CLOSING] = c->tcp_transitory;
	to->sec[CONN_TCP_EST] = c->tcp_established;
	to->sec[CONN_UDP_SINGLE] = c->udp_single;
	to->sec[CONN_UDP_BOTH] = c->udp;
	to->sec[CONN_ICMP] = c->icmp;
	/* A subscriber (protocol 0) keeps its block a little after its last mapping. */
	to->sec[CONN_OTHER] = rec ? c->udp_single : 600;
}

static void inst_limits(struct nat_inst *n, const struct tessd_nat_inst_cfg *c)
{
	struct conn_timeouts to;

	timeouts_of(c, &to, false);
	conn_owner_set(nat_conn, nat_owner_sessions(n->slot), c->max_sessions, &to);
	timeouts_of(c, &to, true);
	conn_owner_set(nat_conn, nat_owner_records(n->slot), 2 * c->max_sessions, &to);
	__atomic_store_n(&n->max_blocks, c->max_blocks, __ATOMIC_RELAXED);
}

/* The instance for config c: the running one if what it translates is the same, else a new one. */
static struct nat_inst *inst_get(const struct tessd_cfg *cfg, const struct tessd_nat_inst_cfg *c)
{
	const struct tessd_nat_pool_cfg *pc = c->pool[0] ? tessd_cfg_nat_pool(cfg, c->pool) : NULL;
	struct nat_pool *p = NULL;
	uint16_t in = vrf_id(cfg, c->inside_vrf), out = vrf_id(cfg, c->outside_vrf);
	struct nat_inst *n;
	int free_at = -1;

	for (unsigned i = 0; i < NAT_MAX_SLOTS; i++) {
		n = nat_slots[i];
		if (n == NULL) {
			if (free_at < 0)
				free_at = (int)i;
			continue;
		}
		if (n->live && strcmp(n->name, c->name) == 0 && n->in_vrf == in &&
		    n->out_vrf == out &&
		    (pc ? n->pool && pool_cfg_eq(&n->pool->cfg, pc) : !n->pool))
			return n;
	}
	if (free_at < 0 || (pc && (p = pool_get(pc)) == NULL))
		return NULL;
	n = rte_zmalloc("nat_inst", sizeof(*n), RTE_CACHE_LINE_SIZE);
	if (n == NULL)
		return NULL;
	snprintf(n->name, sizeof(n->name), "%s", c->name);
	snprintf(n->vrf, sizeof(n->vrf), "%s", c->inside_vrf);
	n->slot = (uint16_t)free_at;
	n->in_vrf = in;
	n->out_vrf = out;
	n->pool = p;
	if (p)
		p->users++;
	inst_limits(n, c);
	/* Workers' counters of the slot still hold the sums of the instance it had before. */
	nat_inst_sum(n, &n->base);
	nat_slots[free_at] = n; /* not live (no flush at sync) until a commit names it */
	return n;
}

/* ---- the snapshot part ---- */

static void part_put(struct nat_part *p)
{
	if (p == NULL || --p->refs)
		return;
	for (uint16_t i = 0; i < p->n_inst; i++)
		rte_free(p->pi[i].statics);
	rte_free(p->pi);
	rte_free(p->amap);
	nat_log_rings_put(p->log);
	rte_free(p);
}

static void *nat_snap_copy(void *part)
{
	((struct nat_part *)part)->refs++;
	return part;
}

static void nat_snap_free(void *part)
{
	part_put(part);
}

static void amap_add(struct nat_part *p, uint16_t vrf, uint32_t addr, uint8_t kind, uint16_t pi)
{
	uint64_t key = (uint64_t)vrf << 32 | addr | (uint64_t)kind << 48;
	uint32_t h = rte_hash_crc_8byte(key, 0x4a7) & p->amask;

	for (uint32_t i = 0; i <= p->amask; i++) {
		struct nat_addr *a = &p->amap[(h + i) & p->amask];

		if (a->key == key)
			return; /* a port forward's address again */
		if (a->key == 0) {
			*a = (struct nat_addr){ .key = key, .pi = pi, .kind = kind };
			return;
		}
	}
}

static int part_statics(struct nat_pinst *pi, const struct tessd_nat_inst_cfg *c)
{
	static const uint8_t proto[] = {
		[TESS_NAT_ALL] = 0, [TESS_NAT_TCP] = IPPROTO_TCP, [TESS_NAT_UDP] = IPPROTO_UDP
	};

	pi->n_statics = c->n_statics;
	if (c->n_statics == 0)
		return 0;
	pi->statics = rte_zmalloc("nat_statics", sizeof(*pi->statics) * c->n_statics, 0);
	if (pi->statics == NULL)
		return -ENOMEM;
	for (uint32_t k = 0; k < c->n_statics; k++) {
		const struct tessd_nat_static_cfg *s = &c->statics[k];

		pi->statics[k] = (struct nat_static){
			.outside = s->outside,
			.inside = s->inside,
			.proto = proto[s->proto],
			.outside_port = (uint16_t)s->outside_port,
			.inside_port = (uint16_t)s->inside_port,
		};
	}
	return 0;
}

static uint32_t amap_size(const struct tessd_cfg *cfg)
{
	uint64_t n = 0;
	uint32_t sz = 64;

	for (uint32_t i = 0; i < cfg->nat.n_instances; i++) {
		const struct tessd_nat_inst_cfg *c = &cfg->nat.instances[i];
		const struct tessd_nat_pool_cfg *pc = tessd_cfg_nat_pool(cfg, c->pool);

		n += 2 * (uint64_t)c->n_statics + (pc ? 1u << (32 - pc->prefix.len) : 0);
	}
	while (sz < 2 * n)
		sz <<= 1;
	return sz;
}

static int part_fill(struct nat_part *p, const struct tessd_cfg *cfg, struct ctl_error *err)
{
	p->amask = amap_size(cfg) - 1;
	p->amap = rte_zmalloc("nat_amap", sizeof(*p->amap) * (p->amask + 1), 64);
	p->pi = rte_zmalloc("nat_pinst", sizeof(*p->pi) * (cfg->nat.n_instances + 1), 64);
	if (p->amap == NULL || p->pi == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < cfg->nat.n_instances; i++) {
		const struct tessd_nat_inst_cfg *c = &cfg->nat.instances[i];
		struct nat_pinst *pi = &p->pi[i];
		struct nat_inst *n = inst_get(cfg, c);

		if (n == NULL) {
			ctl_error_set(err, ENOMEM, "/nat/instances", "no room for NAT instance %s",
				      c->name);
			return -ENOMEM;
		}
		pi->n = n;
		p->n_inst = (uint16_t)(i + 1);
		/* A new instance logs from its first session (a running one's flag: nat_sync). */
		if (!n->live)
			__atomic_store_n(&n->log, nat_log_mode_of(cfg, c), __ATOMIC_RELAXED);
		if (part_statics(pi, c) < 0)
			return -ENOMEM;
		p->inst_of_vrf[n->in_vrf] = (uint16_t)(i + 1);
		p->outside[n->out_vrf] = 1;
		for (uint32_t a = 0; n->pool && a < n->pool->n_addrs; a++)
			amap_add(p, n->out_vrf, n->pool->base + a, NAT_ADDR_POOL, (uint16_t)i);
		for (uint32_t k = 0; k < pi->n_statics; k++) {
			amap_add(p, n->out_vrf, pi->statics[k].outside, NAT_ADDR_STATIC_OUT,
				 (uint16_t)i);
			if (pi->statics[k].proto == 0)
				amap_add(p, n->in_vrf, pi->statics[k].inside, NAT_ADDR_STATIC_IN,
					 (uint16_t)i);
		}
	}
	return 0;
}

static int nat_build(struct dp_snapshot *s, const struct tessd_cfg *cfg, struct ctl_error *err)
{
	struct nat_part *p;
	int rc;

	part_put(s->part[nat_module.id]); /* the copy's reference to the old part */
	s->part[nat_module.id] = NULL;
	p = rte_zmalloc("nat_part", sizeof(*p), 64);
	if (p == NULL)
		return -ENOMEM;
	p->refs = 1;
	p->log = nat_log_rings_get(cfg, &rc);
	if (rc < 0) {
		ctl_error_set(err, ENOMEM, "/nat/logging/ring_size", "no memory for log rings");
		part_put(p);
		return rc;
	}
	rc = part_fill(p, cfg, err);
	if (rc < 0) {
		part_put(p);
		return rc;
	}
	s->part[nat_module.id] = p;
	return 0;
}

/* After the publish: instances the config names are live (limits set), others go. */
static void nat_sync(const struct tessd_cfg *old, const struct tessd_cfg *cur)
{
	const struct nat_part *p = dp_snap_part(dp_snap, &nat_module);
	bool keep[NAT_MAX_SLOTS] = { false };

	(void)old;
	for (uint16_t i = 0; p && i < p->n_inst; i++) {
		struct nat_inst *n = p->pi[i].n;

		keep[n->slot] = true;
		n->live = true;
		inst_limits(n, &cur->nat.instances[i]);
		__atomic_store_n(&n->log, nat_log_mode_of(cur, &cur->nat.instances[i]),
				 __ATOMIC_RELAXED);
	}
	for (unsigned i = 0; i < NAT_MAX_SLOTS; i++) {
		struct nat_inst *n = nat_slots[i];

		if (n == NULL || keep[i] || !n->live)
			continue;
		/* Its config went or changed what it translates: its sessions go now. */
		n->live = false;
		conn_owner_set(nat_conn, nat_owner_sessions(n->slot), 0, NULL);
		conn_owner_set(nat_conn, nat_owner_records(n->slot), 0, NULL);
		conn_flush_owner(nat_conn, nat_owner_sessions(n->slot));
		conn_flush_owner(nat_conn, nat_owner_records(n->slot));
		DP_LOG_F(INFO, TLOG_F(.vrf = n->vrf[0] ? n->vrf : NULL),
			 "nat: instance %s removed or changed: its sessions flushed", n->name);
	}
	nat_log_sync(cur);
}

static void inst_free(void *arg)
{
	struct nat_inst *n = arg;

	if (n->pool && --n->pool->users == 0) {
		for (unsigned i = 0; i < RTE_DIM(pools); i++)
			if (pools[i] == n->pool)
				pools[i] = NULL;
		pool_free(n->pool);
	}
	rte_free(n);
}

/* Instances neither live nor in a snapshot, with no entry left, go after a grace period. */
static void retire(void)
{
	const struct nat_part *p = dp_snap_part(dp_snap, &nat_module);
	bool used[NAT_MAX_SLOTS] = { false }, drained = false;

	for (uint16_t i = 0; p && i < p->n_inst; i++)
		used[p->pi[i].n->slot] = true;
	for (unsigned i = 0; i < NAT_MAX_SLOTS; i++) {
		struct nat_inst *n = nat_slots[i];

		if (n == NULL || n->live || used[i] ||
		    conn_owner_count(nat_conn, nat_owner_sessions(n->slot)) ||
		    conn_owner_count(nat_conn, nat_owner_records(n->slot)))
			continue;
		if (!drained)
			nat_log_drain_all(); /* log records name it: written first */
		drained = true;
		nat_slots[i] = NULL;
		dp_rcu_defer(inst_free, n);
	}
}

static void nat_poll(const struct tessd_cfg *cfg, uint64_t now)
{
	static uint64_t ticks;

	(void)cfg;
	(void)now;
	if (nat_conn == NULL)
		return;
	/* The whole table once a second, in slices of a tick. */
	conn_expire(nat_conn, rte_rdtsc(), nat_conn->capacity / 100 + 1);
	nat_log_poll(rte_rdtsc());
	if (++ticks % 100 == 0)
		retire();
}

static int nat_init(const struct tessd_cfg *cfg)
{
	unsigned workers = rte_lcore_count() > 1 ? rte_lcore_count() - 1 : 1;
	struct conn_params p = {
		.name = "nat_sessions",
		.capacity = cfg->nat.session_capacity,
		.workers = workers,
		.owners = 2 * NAT_MAX_SLOTS,
		.socket = (int)rte_socket_id(),
		.keep = nat_keep,
	};

	nat_conn = conn_create(&p);
	nat_ctl_cnt = rte_zmalloc("nat_ctl", sizeof(*nat_ctl_cnt), 64);
	if (nat_conn == NULL || nat_ctl_cnt == NULL) {
		DP_LOG(ERR, "nat: no memory for %u sessions", cfg->nat.session_capacity);
		return -ENOMEM;
	}
	return 0;
}

static void nat_fini(void)
{
	rte_free(nat_ctl_cnt);
	nat_ctl_cnt = NULL;
	if (nat_conn == NULL)
		return;
	nat_log_fini();
	/* Instances retired meanwhile are freed first: their pools go below. */
	if (dp_rcu_qsv && dp_rcu_pending()) {
		dp_rcu_synchronize();
		dp_rcu_reclaim();
	}
	for (unsigned i = 0; i < NAT_MAX_SLOTS; i++)
		if (nat_slots[i]) {
			nat_slots[i]->pool = NULL; /* the pools go below, once */
			rte_free(nat_slots[i]);
			nat_slots[i] = NULL;
		}
	for (unsigned i = 0; i < RTE_DIM(pools); i++)
		if (pools[i]) {
			pool_free(pools[i]);
			pools[i] = NULL;
		}
	conn_destroy(nat_conn);
	nat_conn = NULL;
	(void)expire_errors;
}

static int nat_worker_init(struct dp_worker *w, int socket)
{
	w->mod[nat_module.id] =
		rte_zmalloc_socket("nat_worker", sizeof(struct nat_worker), 64, socket);
	return w->mod[nat_module.id] ? 0 : -ENOMEM;
}

static void nat_worker_fini(struct dp_worker *w)
{
	rte_free(w->mod[nat_module.id]);
	w->mod[nat_module.id] = NULL;
}

static const char *const nat_depends[] = { "router", NULL };

struct tess_module nat_module = {
	.name = "nat",
	.depends = nat_depends,
	.validate = tessd_nat_validate,
	.init = nat_init,
	.fini = nat_fini,
	.worker_init = nat_worker_init,
	.worker_fini = nat_worker_fini,
	.snap_copy = nat_snap_copy,
	.snap_free = nat_snap_free,
	.build = nat_build,
	.sync = nat_sync,
	.poll = nat_poll,
	.stats_reset = nat_stats_reset,
	.stats_json = nat_stats_json,
	.methods = nat_methods,
};
TESS_MODULE_REGISTER(nat_module)
