/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stage nat44 on arc "ip4" (rank 150, between ip4-input and ip4-route).
 * A packet of an inside VRF whose destination that VRF routes into the
 * instance's outside VRF gets its source translated (a session found or
 * made); a packet in an outside VRF that matches a session, or is for a
 * static mapping, gets its destination translated back. Either way the
 * route stage then looks it up in the VRF of the tuple it became
 * (L3_ARG_VRF). A translated packet is checked again as an outside one, so
 * one tenant reaching another's (or its own) published address hairpins.
 * Worker code: no locks, logs or allocation.
 */
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "l3.h"
#include "module.h"
#include "nat.h"
#include "nat_dp.h"
#include "nat_log_dp.h"
#include "nat_xlate.h"
#include "router_int.h"
#include "stage.h"
#include "tx_datapath.h"

DP_DROPS_REGISTER(nat_drops, "nat", NAT_DROPS)

/* A packet's tuple and its conn_hash, taken before its burst's lookups (nat_prefetch). */
struct nat_memo {
	struct conn_tuple k;
	uint64_t h;
	bool valid;
};

struct nat_ctx {
	struct dp_worker *w;
	const struct nat_part *p;
	struct nat_worker *nw;
	uint64_t now;
	const struct nat_memo *memo; /* the current packet's */
};

static void nat_drop(const struct nat_ctx *x, struct rte_mbuf *m, enum nat_drop why)
{
	dp_drop(x->w, DP_PORT_NONE, dp_drop_id(&nat_drops, why), m);
}

static struct nat_wcnt *cnt(const struct nat_ctx *x, const struct nat_inst *n)
{
	return &x->nw->cnt[n->slot];
}

/* conn_lookup, with the hash nat_prefetch took if k is still the packet's tuple. */
static struct conn_entry *session_lookup(const struct nat_ctx *x, const struct conn_tuple *k,
					 int *dir)
{
	const struct nat_memo *mm = x->memo;

	if (mm && mm->valid && conn_tuple_eq(&mm->k, k))
		return conn_lookup_h(nat_conn, k, mm->h, dir);
	return conn_lookup(nat_conn, k, dir);
}

static bool is_local(uint16_t vrf, uint32_t dst)
{
	uint32_t v = fib_lookup(&l3_fib, vrf, rte_be_to_cpu_32(dst));

	return v != FIB_NO_ROUTE && nh_group(&l3_nh, v)->type == NH_LOCAL;
}

/* conn_new's failures as counters and drops. */
static enum nat_drop new_failed(const struct nat_ctx *x, const struct nat_inst *n, int err)
{
	switch (err) {
	case -EDQUOT:
		dp_cnt_add(&cnt(x, n)->limit, 1);
		return NAT_DROP_LIMIT;
	case -EEXIST: /* another worker's entry has the tuple, but it was gone again */
		dp_cnt_add(&cnt(x, n)->clash, 1);
		return NAT_DROP_CLASH;
	default:
		dp_cnt_add(&cnt(x, n)->table_full, 1);
		return NAT_DROP_TABLE_FULL;
	}
}

/*
 * Tries of a record's lookup and creation: a record found going, or a rival's creation
 * found or clashed with, is looked up again; after these the packet is a clash.
 */
#define NAT_RECORD_TRIES 3

/* The live record with tuple k with a reference taken on it; NULL: none (or going). */
static struct conn_entry *record_ref(const struct conn_tuple *k)
{
	int dir;
	struct conn_entry *e = conn_lookup(nat_conn, k, &dir);

	return e && nat_ref_take(e) ? e : NULL;
}

/* Makes a record of n with tuple k and user data user (its reference count 1: the caller's). */
static struct conn_entry *record_new(const struct nat_ctx *x, const struct nat_inst *n,
				     const struct conn_tuple *k, const uint64_t user[2], int *err)
{
	return conn_new(nat_conn, x->w->idx, nat_owner_records(n->slot), CONN_F_ONEWAY, k, NULL,
			user, 0, x->now, err);
}

static bool bit_take(uint64_t *words, uint32_t i)
{
	uint64_t bit = UINT64_C(1) << (i & 63);

	if (__atomic_load_n(&words[i >> 6], __ATOMIC_RELAXED) & bit)
		return false;
	return !(__atomic_fetch_or(&words[i >> 6], bit, __ATOMIC_ACQ_REL) & bit);
}

static void bit_give(uint64_t *words, uint32_t i)
{
	__atomic_fetch_and(&words[i >> 6], ~(UINT64_C(1) << (i & 63)), __ATOMIC_RELEASE);
}

/*
 * A free block of pool p, from the word of start on; -1: none. A word at a time (ctz of its
 * free bits): an empty /22 of 512-port blocks is 2k words, not 129k bits. A scan that finds
 * nothing is remembered until a block is given back, so that an exhausted pool costs a
 * packet two loads, not a scan.
 */
static int64_t block_scan(struct nat_pool *p, uint32_t start)
{
	uint32_t words = (p->n_blocks + 63) / 64, tail = p->n_blocks % 64;
	uint64_t gives = __atomic_load_n(&p->gives, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&p->full_at, __ATOMIC_RELAXED) == gives + 1)
		return -1;
	for (uint32_t i = 0; i < words; i++) {
		uint32_t wi = (start / 64 + i) % words;
		uint64_t valid = wi == words - 1 && tail ? (UINT64_C(1) << tail) - 1 : ~UINT64_C(0);
		uint64_t v = __atomic_load_n(&p->block_used[wi], __ATOMIC_RELAXED);

		while (~v & valid) {
			uint64_t bit = UINT64_C(1) << __builtin_ctzll(~v & valid);

			v = __atomic_fetch_or(&p->block_used[wi], bit, __ATOMIC_ACQ_REL);
			if (!(v & bit))
				return (int64_t)wi * 64 + __builtin_ctzll(bit);
			v |= bit;
		}
	}
	__atomic_store_n(&p->full_at, gives + 1, __ATOMIC_RELAXED);
	return -1;
}

/* A block of n's pool for subscriber addr (searched from a hash of it); -1: none. */
static int64_t block_take(struct nat_inst *n, uint32_t addr)
{
	struct nat_pool *p = n->pool;
	int64_t b;

	if (__atomic_fetch_add(&n->blocks, 1, __ATOMIC_RELAXED) >= n->max_blocks) {
		__atomic_fetch_sub(&n->blocks, 1, __ATOMIC_RELAXED);
		return -1;
	}
	b = block_scan(p, rte_hash_crc_4byte(addr, 0xb10c) % p->n_blocks);
	if (b < 0) {
		__atomic_fetch_sub(&n->blocks, 1, __ATOMIC_RELAXED);
		return -1;
	}
	/* Whose it is, for drops of packets to its ports (unknown_inbound). */
	__atomic_store_n(&p->block_slot[b], (uint16_t)(n->slot + 1), __ATOMIC_RELAXED);
	return b;
}

/* Gives back a block block_take gave (its subscriber record was not made). */
static void block_give(struct nat_inst *n, uint32_t b)
{
	__atomic_store_n(&n->pool->block_slot[b], 0, __ATOMIC_RELAXED);
	bit_give(n->pool->block_used, b);
	__atomic_fetch_add(&n->pool->gives, 1, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&n->blocks, 1, __ATOMIC_RELAXED);
}

/* The subscriber record of inside address pk->src (its port block), a reference taken. */
static struct conn_entry *subscriber(const struct nat_ctx *x, struct nat_inst *n,
				     const struct conn_tuple *pk, int *err)
{
	struct conn_tuple k = { .src = pk->src, .vrf = pk->vrf };

	*err = -EEXIST;
	for (int tries = 0; tries < NAT_RECORD_TRIES && *err == -EEXIST; tries++) {
		struct conn_entry *e = record_ref(&k);
		int64_t b;

		if (e)
			return e;
		b = block_take(n, pk->src);
		if (b < 0) {
			*err = -ENOBUFS;
			return NULL;
		}
		e = record_new(x, n, &k, (uint64_t[2]){ NAT_SUBSCRIBER | (uint64_t)b << 8, 1 },
			       err);
		if (e) {
			if (!nat_log_allocated(x->p->log, x->w->idx, n, (uint32_t)b, pk->src,
					       x->now))
				dp_cnt_add(&cnt(x, n)->log_lost, 1);
			return e;
		}
		block_give(n, (uint32_t)b); /* none made (another worker's may have won) */
	}
	return NULL;
}

/* A free port of block b, the inside port's place in a block first (port parity kept). */
static int32_t port_take(struct nat_pool *p, uint32_t b, uint16_t inside_port)
{
	uint64_t *words = p->port_used + (size_t)b * p->block_words;
	uint32_t size = p->cfg.block_size, start = rte_be_to_cpu_16(inside_port) % size;

	for (uint32_t i = 0; i < size; i++) {
		uint32_t j = (start + i) % size;

		if (bit_take(words, j))
			return (int32_t)j;
	}
	return -1;
}

/* Makes the mapping record k of n on a port of subscriber sub's block (its reference given). */
static struct conn_entry *mapping_new(const struct nat_ctx *x, struct nat_inst *n,
				      const struct conn_tuple *k, struct conn_entry *sub, int *err)
{
	uint32_t b = (uint32_t)(sub->user[0] >> 8), addr;
	uint64_t *ports = n->pool->port_used + (size_t)b * n->pool->block_words;
	struct conn_entry *e;
	uint16_t port;
	int32_t j = port_take(n->pool, b, k->sport);

	if (j < 0) {
		nat_ref_drop(sub);
		*err = -ENOBUFS;
		return NULL;
	}
	nat_pool_addr(n->pool, b, (uint32_t)j, &addr, &port);
	/* Its subscriber's reference goes with it: the number of the entry it was taken on. */
	e = record_new(x, n, k,
		       (uint64_t[2]){ NAT_MAPPING | (uint64_t)port << 8 | (uint64_t)addr << 24,
				      nat_entry_ref(nat_conn, sub) << 32 | 1 },
		       err);
	if (e == NULL) {
		bit_give(ports, (uint32_t)j);
		nat_ref_drop(sub);
		return NULL;
	}
	conn_hit(sub, CONN_ORIG, 0, x->now);
	return e;
}

/*
 * The mapping record of inside address:port (RFC 4787 EIM), found or made, a reference
 * taken on it for the session about to be made.
 */
static struct conn_entry *mapping(const struct nat_ctx *x, struct nat_inst *n,
				  const struct conn_tuple *pk, int *err)
{
	struct conn_tuple k = {
		.src = pk->src, .sport = pk->sport, .vrf = pk->vrf, .proto = pk->proto
	};

	*err = -EEXIST;
	for (int tries = 0; tries < NAT_RECORD_TRIES && *err == -EEXIST; tries++) {
		struct conn_entry *e = record_ref(&k), *sub;

		if (e)
			return e;
		if (n->pool == NULL) {
			*err = -ENOBUFS;
			return NULL;
		}
		sub = subscriber(x, n, pk, err);
		if (sub == NULL)
			return NULL;
		e = mapping_new(x, n, &k, sub, err);
		if (e)
			return e;
	}
	return NULL;
}

/* A 1:1 static mapping of inside address a, or NULL. */
static const struct nat_static *static_inside(const struct nat_pinst *pi, uint32_t a)
{
	uint32_t h = rte_be_to_cpu_32(a);

	for (uint32_t i = 0; i < pi->n_statics; i++)
		if (pi->statics[i].proto == 0 && pi->statics[i].inside == h)
			return &pi->statics[i];
	return NULL;
}

/* Makes the session of an outbound packet k of n: its reply tuple in *r. */
static struct conn_entry *session_out(const struct nat_ctx *x, const struct nat_pinst *pi,
				      const struct conn_tuple *k, uint8_t tcp_flags, int *err)
{
	struct nat_inst *n = pi->n;
	const struct nat_static *st = NULL;
	struct conn_tuple r = {
		.src = k->dst, .sport = k->dport, .vrf = n->out_vrf, .proto = k->proto
	};
	uint64_t user[2] = { NAT_SESSION_STATIC | x->now << NAT_BORN_SHIFT, 0 };
	struct conn_entry *map = NULL, *e;

	if (pi->n_statics &&
	    nat_addr_find(x->p, k->vrf, rte_be_to_cpu_32(k->src), NAT_ADDR_STATIC_IN))
		st = static_inside(pi, k->src);
	if (st) {
		r.dst = rte_cpu_to_be_32(st->outside);
		r.dport = k->sport;
	} else {
		map = mapping(x, n, k, err);
		if (map == NULL)
			return NULL;
		r.dst = rte_cpu_to_be_32((uint32_t)(map->user[0] >> 24));
		r.dport = rte_cpu_to_be_16((uint16_t)(map->user[0] >> 8));
		user[0] = NAT_SESSION_PAT | x->now << NAT_BORN_SHIFT;
		user[1] = nat_entry_ref(nat_conn, map); /* its reference, given back by number */
	}
	if (k->proto == IPPROTO_ICMP)
		r.sport = r.dport; /* a query id is both ports */
	e = conn_new(nat_conn, x->w->idx, nat_owner_sessions(n->slot), 0, k, &r, user, tcp_flags,
		     x->now, err);
	if (map && e == NULL)
		nat_ref_drop(map); /* no session: the reference mapping() took goes back */
	else if (map)
		conn_hit(map, CONN_ORIG, 0, x->now);
	if (e && !nat_log_created(x->p->log, x->w->idx, n, e, x->now))
		dp_cnt_add(&cnt(x, n)->log_lost, 1);
	return e;
}

/* The static mapping an inbound packet k is for, or NULL. */
static const struct nat_static *static_for(const struct nat_pinst *pi, const struct conn_tuple *k)
{
	uint32_t d = rte_be_to_cpu_32(k->dst);
	uint16_t port = rte_be_to_cpu_16(k->dport);

	for (uint32_t i = 0; i < pi->n_statics; i++) {
		const struct nat_static *st = &pi->statics[i];

		if (st->outside == d &&
		    (st->proto == 0 || (st->proto == k->proto && st->outside_port == port)))
			return st;
	}
	return NULL;
}

/* Makes the session of an inbound packet k to static mapping st of n. */
static struct conn_entry *session_in(const struct nat_ctx *x, struct nat_inst *n,
				     const struct nat_static *st, const struct conn_tuple *k,
				     uint8_t tcp_flags, int *err)
{
	struct conn_tuple r = { .src = rte_cpu_to_be_32(st->inside),
				.dst = k->src,
				.sport = k->dport,
				.dport = k->sport,
				.vrf = n->in_vrf,
				.proto = k->proto };
	uint64_t user[2] = { NAT_SESSION_STATIC | x->now << NAT_BORN_SHIFT, 0 };
	struct conn_entry *e;

	if (st->proto)
		r.sport = rte_cpu_to_be_16(st->inside_port ? st->inside_port : st->outside_port);
	if (k->proto == IPPROTO_ICMP)
		r.dport = r.sport;
	e = conn_new(nat_conn, x->w->idx, nat_owner_sessions(n->slot), 0, k, &r, user, tcp_flags,
		     x->now, err);
	if (e && !nat_log_created(x->p->log, x->w->idx, n, e, x->now))
		dp_cnt_add(&cnt(x, n)->log_lost, 1);
	return e;
}

/* Translates p (tuple k, session e in direction d) to the other side: its VRF to route in. */
static uint16_t translate(struct rte_mbuf *m, struct nat_pkt *p, struct conn_tuple *k,
			  struct conn_entry *e, int d, uint64_t now)
{
	struct conn_tuple to = conn_tuple_reverse(&e->key[1 - d]);

	conn_hit(e, d, p->tcp_flags, now);
	nat_rewrite(p, &to);
	*k = to;
	l3_meta(m)->route_vrf = to.vrf;
	return to.vrf;
}

enum verdict { PASS, TRANSLATED, DROPPED };
_Static_assert((int)DROPPED == (int)NAT_DP_DROPPED, "nat_dp.h's verdicts are these");

/*
 * The slot to charge an inbound packet k with no session to (its address a, instance n's):
 * the hairpinning sender's (from), else the instance holding the block of k's port in a
 * shared pool; -1: nobody's (a port of no block held: the drop reason alone counts it).
 */
static int unknown_slot(const struct nat_addr *a, const struct nat_inst *n,
			const struct conn_tuple *k, const struct nat_inst *from)
{
	const struct nat_pool *p = n->pool;
	uint32_t port = rte_be_to_cpu_16(k->dport), rel, b;

	if (from)
		return from->slot;
	if (a->kind != NAT_ADDR_POOL || p == NULL)
		return n->slot;
	rel = port - p->cfg.port_min;
	if (port < p->cfg.port_min || rel / p->cfg.block_size >= p->blocks_per_addr)
		return -1;
	b = (rte_be_to_cpu_32(k->dst) - p->base) * p->blocks_per_addr + rel / p->cfg.block_size;
	return (int)__atomic_load_n(&p->block_slot[b], __ATOMIC_RELAXED) - 1;
}

/*
 * An outside VRF's packet: a session's, or a static mapping's, else dropped if for a pool.
 * from: the instance whose packet it is, translated and now hairpinning (else NULL).
 */
static enum verdict inbound(const struct nat_ctx *x, struct rte_mbuf *m, struct nat_pkt *p,
			    struct conn_tuple *k, const struct nat_inst *from)
{
	int slot;

	const struct nat_addr *a;
	struct conn_entry *e;
	struct nat_inst *n;
	int d, err;

	/*
	 * The hairpin check of every translated packet: only a packet for an address
	 * published now can hairpin, and the lookup would miss the cache for nothing.
	 * Others are looked up first: a removed static's kept sessions (README) are for
	 * an address no longer published, and their replies must still come back.
	 */
	if (from && nat_public_addr(x->p, k->vrf, k->dst) == NULL)
		return PASS;
	e = session_lookup(x, k, &d);
	if (e) {
		translate(m, p, k, e, d, x->now);
		dp_cnt_add(&x->nw->cnt[e->owner / 2].translated_in, 1); /* its slot */
		return TRANSLATED;
	}
	a = nat_public_addr(x->p, k->vrf, k->dst);
	if (a == NULL)
		return PASS;
	n = x->p->pi[a->pi].n;
	if (a->kind == NAT_ADDR_STATIC_OUT) {
		const struct nat_static *st = static_for(&x->p->pi[a->pi], k);

		if (st) {
			e = session_in(x, n, st, k, p->tcp_flags, &err);
			if (e == NULL) {
				nat_drop(x, m, new_failed(x, n, err));
				return DROPPED;
			}
			dp_cnt_add(&cnt(x, n)->created, 1);
			translate(m, p, k, e, CONN_ORIG, x->now);
			dp_cnt_add(&cnt(x, n)->translated_in, 1);
			return TRANSLATED;
		}
	}
	if (is_local(k->vrf, k->dst))
		return PASS; /* the router's own address: local delivery */
	slot = unknown_slot(a, n, k, from);
	if (slot >= 0)
		dp_cnt_add(&x->nw->cnt[slot].unknown_inbound, 1);
	nat_drop(x, m, NAT_DROP_UNKNOWN_INBOUND);
	return DROPPED;
}

/* An inside VRF's packet toward n's outside VRF: its session found or made. */
static enum verdict outbound(const struct nat_ctx *x, const struct nat_pinst *pi,
			     struct rte_mbuf *m, struct nat_pkt *p, struct conn_tuple *k)
{
	struct nat_inst *n = pi->n;
	struct conn_entry *e;
	int d, err = 0;

	e = session_lookup(x, k, &d);
	if (e == NULL) {
		e = session_out(x, pi, k, p->tcp_flags, &err);
		if (e == NULL && err == -EEXIST)
			e = conn_lookup(nat_conn, k, &d); /* another worker made it */
		else if (e) {
			d = CONN_ORIG;
			dp_cnt_add(&cnt(x, n)->created, 1);
		}
	}
	if (e == NULL) {
		if (err == -ENOBUFS) {
			dp_cnt_add(&cnt(x, n)->port_exhausted, 1);
			nat_drop(x, m, NAT_DROP_PORT_EXHAUSTED);
		} else {
			nat_drop(x, m, new_failed(x, n, err));
		}
		return DROPPED;
	}
	translate(m, p, k, e, d, x->now);
	dp_cnt_add(&cnt(x, n)->translated_out, 1);
	return TRANSLATED;
}

/* One packet: PASS (untouched), TRANSLATED (route it in l3_meta's route_vrf) or DROPPED. */
static enum verdict nat_one_(const struct nat_ctx *x, struct rte_mbuf *m, uint16_t vrf,
			     struct conn_tuple *k0)
{
	struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u;
	uint32_t l4len = m->data_len - RTE_ETHER_HDR_LEN - hlen;
	uint16_t i1 = x->p->inst_of_vrf[vrf];
	const struct nat_pinst *pi = i1 ? &x->p->pi[i1 - 1] : NULL;
	struct nat_inst *n;
	struct conn_tuple k;
	struct nat_pkt p;
	enum nat_parse_rc rc;
	enum verdict v = PASS;

	if (!nat_concerns(x->p, vrf, ip->dst_addr, &n))
		return PASS; /* an inside VRF's that stays inside (or goes elsewhere): not ours */
	if (n && ip->time_to_live <= 1)
		return PASS; /* expires here: ip4-route's time exceeded goes back as it came */
	rc = nat_parse(ip, l4len, vrf, &k, &p);
	*k0 = k;
	if (rc == NAT_PARSE_UNSUPPORTED && k.proto == IPPROTO_ICMP) {
		struct nat_dp d = { .w = x->w, .p = x->p, .nw = x->nw, .now = x->now };
		enum nat_dp_verdict dv = nat_icmp_errors(&d, m, ip, l4len, vrf, n);

		if (dv != NAT_DP_NOT_MINE)
			return (enum verdict)dv;
	}
	if (rc != NAT_PARSE_OK) {
		if (n == NULL && !nat_public_addr(x->p, vrf, ip->dst_addr))
			return PASS; /* outside traffic not for us */
		if (n) {
			if (rc == NAT_PARSE_UNSUPPORTED)
				dp_cnt_add(&cnt(x, n)->unsupported, 1);
		}
		nat_drop(x, m,
			 rc == NAT_PARSE_TRUNCATED ? NAT_DROP_TRUNCATED : NAT_DROP_UNSUPPORTED);
		return DROPPED;
	}
	if (n) {
		v = outbound(x, pi, m, &p, &k);
		if (v != TRANSLATED || !x->p->outside[k.vrf])
			return v;
		/* Hairpin: the translated packet may be for an address published here. */
		v = inbound(x, m, &p, &k, n);
		if (v == DROPPED)
			return DROPPED;
		if (v == TRANSLATED)
			dp_cnt_add(&cnt(x, n)->hairpinned, 1);
		return TRANSLATED;
	}
	return inbound(x, m, &p, &k, NULL);
}

/* nat_one_, and fragments: a first one leaves a record for the later ones (nat_frag.c). */
static enum verdict nat_one(const struct nat_ctx *x, struct rte_mbuf *m, uint16_t vrf)
{
	struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	struct nat_dp d = { .w = x->w, .p = x->p, .nw = x->nw, .now = x->now };
	struct conn_tuple k0;
	enum verdict v;

	if (likely(!(ip->fragment_offset &
		     RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))))
		return nat_one_(x, m, vrf, &k0);
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) {
		struct nat_inst *n;

		if (!nat_concerns(x->p, vrf, ip->dst_addr, &n) || (n && ip->time_to_live <= 1))
			return PASS;
		return (enum verdict)nat_frag_rest(&d, m, ip, vrf, n);
	}
	v = nat_one_(x, m, vrf, &k0);
	if (v == TRANSLATED)
		nat_frag_note(&d, m, ip, &k0);
	return v;
}

/* The VRF a packet of the burst is in (an earlier stage may have chosen it). */
static uint16_t burst_vrf(const struct l3_tables *t, const struct dp_burst *b, uint16_t i)
{
	uint16_t a = b->arg[i];

	return a & L3_ARG_VRF ? l3_meta(b->pkts[i])->route_vrf : t->iface[a].vrf;
}

/*
 * The burst's session lookups, started together: each packet that will look
 * one up (a NAT instance's inside VRF, or a public address in an outside one)
 * gets its tuple hashed and both buckets prefetched. With a million sessions
 * nearly every lookup misses the cache; one after another they bounded the
 * stage, overlapped they cost about one.
 */
static void nat_prefetch(const struct nat_part *p, const struct l3_tables *t,
			 const struct dp_burst *b, struct nat_memo *memo)
{
	for (uint16_t i = 0; i < b->n; i++) {
		struct rte_mbuf *m = b->pkts[i];
		struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
		uint32_t l4len = m->data_len - RTE_ETHER_HDR_LEN - (ip->version_ihl & 0xf) * 4u;
		uint16_t vrf = burst_vrf(t, b, i);
		struct nat_memo *mm = &memo[i];
		struct nat_pkt pk;

		mm->valid = false;
		if (!p->inst_of_vrf[vrf] &&
		    (!p->outside[vrf] || !nat_public_addr(p, vrf, ip->dst_addr)))
			continue;
		if (nat_parse(ip, l4len, vrf, &mm->k, &pk) != NAT_PARSE_OK)
			continue;
		mm->h = conn_hash(nat_conn, &mm->k);
		mm->valid = true;
		conn_prefetch(nat_conn, mm->h);
	}
}

static void nat_stage_fn(struct dp_worker *w, const struct dp_snapshot *s, struct dp_burst *b)
{
	const struct l3_tables *t = l3_tables_of(s);
	struct nat_ctx x = { .w = w,
			     .p = dp_snap_part(s, &nat_module),
			     .nw = dp_worker_mod(w, &nat_module),
			     .now = b->now };
	struct nat_memo memo[DP_BURST];
	uint16_t k = 0;

	if (x.p == NULL || x.p->n_inst == 0 || t == NULL) {
		dp_stage_next(w, s, b);
		return;
	}
	nat_prefetch(x.p, t, b, memo);
	for (uint16_t i = 0; i < b->n; i++) {
		struct rte_mbuf *m = b->pkts[i];
		uint16_t a = b->arg[i];
		uint16_t vrf = burst_vrf(t, b, i);

		x.memo = &memo[i];
		switch (nat_one(&x, m, vrf)) {
		case DROPPED:
			continue;
		case TRANSLATED:
			a |= L3_ARG_VRF;
			break;
		case PASS:
			break;
		}
		b->pkts[k] = m;
		b->arg[k++] = a;
	}
	b->n = k;
	dp_stage_next(w, s, b);
}

struct dp_stage nat_stage = {
	.name = "nat44", .module = "nat", .arc = "ip4", .rank = 150, .fn = nat_stage_fn
};
DP_STAGE_REGISTER(nat_stage)
