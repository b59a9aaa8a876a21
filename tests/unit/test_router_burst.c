/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip4-route on a whole burst against the same packets routed one at a time:
 * random VRFs, routes (via gateways, connected, ECMP, into another VRF,
 * local, blackhole, reject), neighbours (resolved, incomplete, missing),
 * TTLs, options and MTUs, bursts mixing all of them. Every packet must leave
 * by the same port with the same bytes, or be punted for the same reason,
 * and every counter move the same: the burst-level work (bulk FIB lookup,
 * neighbour hints and bulk lookup, next-hop memo, counter runs,
 * prefetches, and the shortcuts of a burst of one interface) changes
 * nothing but the cost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "rcu.h"
#include "router_datapath.h"
#include "unit_dp.h"

#define TEST_RAND_SEED 0x3c6ef372fe94f82bull /* this file's own sequence */
#include "test_rand.h"

#define VRFS    12
#define IFACES  60
#define PORTS   4
#define ROUTES  24 /* per VRF */
#define GWS     8
#define ROUNDS  1500
#define MAX_OUT (ROUNDS * DP_BURST) /* frames one run may send or punt */

struct env {
	struct dp_worker *w;
	struct l3_worker *lw;
	struct dp_snapshot *s;
	struct l3_tables *t;
	struct rte_mempool *mp;
	struct l3_ctx x;
};

/* What a run did with its packets: frames per port and punts, in order, and the counters. */
struct outcome {
	unsigned n;
	struct {
		int port; /* -1: punted */
		uint8_t reason;
		uint16_t iface, vrf, route_vrf;
		uint32_t mtu, len;
		uint8_t bytes[64]; /* headers: Ethernet, tag, IPv4, UDP */
	} f[MAX_OUT];
	l3_counters_t vrfc[VRFS + 1], ifc[IFACES + 1];
	struct l3_hot vrfh[VRFS + 1], ifh[IFACES + 1];
	uint64_t drops;
};

static uint32_t prefixes[VRFS + 1][ROUTES], gws[GWS];

static void env_init(struct env *e)
{
	e->w = rte_zmalloc(NULL, sizeof(*e->w), RTE_CACHE_LINE_SIZE);
	e->lw = rte_zmalloc(NULL, sizeof(*e->lw), RTE_CACHE_LINE_SIZE);
	e->s = rte_zmalloc(NULL, sizeof(*e->s), RTE_CACHE_LINE_SIZE);
	e->t = rte_zmalloc(NULL, sizeof(*e->t), RTE_CACHE_LINE_SIZE);
	assert_true(e->w && e->lw && e->s && e->t);
	e->lw->vrfc = rte_zmalloc(NULL, sizeof(*e->lw->vrfc) * FIB_MAX_VRFS, 0);
	e->lw->ifc = rte_zmalloc(NULL, sizeof(*e->lw->ifc) * L3_MAX_IFACES, 0);
	e->lw->vrfh = rte_zmalloc(NULL, sizeof(*e->lw->vrfh) * FIB_MAX_VRFS, 0);
	e->lw->ifh = rte_zmalloc(NULL, sizeof(*e->lw->ifh) * L3_MAX_IFACES, 0);
	e->lw->punt_rl = rte_zmalloc(NULL, sizeof(*e->lw->punt_rl) * FIB_MAX_VRFS, 0);
	e->lw->svc_limited = rte_zmalloc(NULL, sizeof(*e->lw->svc_limited) * L3_MAX_IFACES, 0);
	e->lw->punt = rte_ring_create("burst_punt", 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	e->w->drop_total = rte_zmalloc(NULL, sizeof(uint64_t) * dp_n_drops, 0);
	e->w->port_drop = rte_zmalloc(NULL, sizeof(uint64_t) * dp_n_drops * DP_MAX_PORTS, 0);
	e->mp = rte_pktmbuf_pool_create("burst", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	assert_true(e->lw->vrfc && e->lw->ifc && e->lw->vrfh && e->lw->ifh);
	assert_true(e->lw->punt_rl && e->lw->svc_limited);
	assert_true(e->lw->punt && e->w->drop_total && e->w->port_drop && e->mp);
	for (uint16_t p = 0; p <= PORTS; p++)
		e->s->port[p].mtu = 1500;
	e->x = (struct l3_ctx){ .w = e->w, .lw = e->lw, .s = e->s, .t = e->t };
}

static void env_fini(struct env *e)
{
	rte_mempool_free(e->mp);
	rte_ring_free(e->lw->punt);
	rte_free(e->lw->vrfc);
	rte_free(e->lw->ifc);
	rte_free(e->lw->vrfh);
	rte_free(e->lw->ifh);
	rte_free(e->lw->punt_rl);
	rte_free(e->lw->svc_limited);
	rte_free(e->w->drop_total);
	rte_free(e->w->port_drop);
	rte_free(e->lw);
	rte_free(e->w);
	rte_free(e->s);
	rte_free(e->t);
}

/* A random group: mostly one path via a gateway or connected, some ECMP, the other kinds. */
static uint32_t random_group(uint16_t vrf)
{
	struct nh_group g = { .type = NH_UNICAST, .n = 1 };
	unsigned kind = rnd() % 12;

	if (kind == 0)
		g = (struct nh_group){ .type = NH_LOCAL, .n = 1, .origin = NH_ORIGIN_LOCAL };
	else if (kind == 1)
		g = (struct nh_group){ .type = NH_BLACKHOLE };
	else if (kind == 2)
		g = (struct nh_group){ .type = NH_REJECT };
	else if (kind == 3)
		g = (struct nh_group){ .type = NH_VRF, .target_vrf = (uint16_t)(1 + rnd() % VRFS) };
	else if (kind == 4)
		g.n = 2;
	for (unsigned p = 0; p < g.n; p++)
		g.path[p] = (struct nh_path){ .iface = (uint16_t)(1 + rnd() % IFACES),
					      .gw = rnd() % 4 ? gws[rnd() % GWS] : 0 };
	return nh_get_for(&l3_nh, &g, vrf);
}

static void tables_init(struct env *e)
{
	assert_int_equal(fib_init(&l3_fib, 0), 0);
	assert_int_equal(nh_init(&l3_nh, 0), 0);
	assert_int_equal(neigh_init(&l3_neigh, 8192, NH_MAX_GROUPS, 0), 0);
	for (uint16_t i = 1; i <= IFACES; i++) {
		bool sub = rnd() % 2;
		e->t->iface[i] = (struct l3_iface){
			.kind = sub ? L3_IF_SUBIF : L3_IF_PORT,
			.on = rnd() % 16 != 0,
			.vrf = (uint16_t)(1 + rnd() % VRFS),
			.port = (uint16_t)(1 + rnd() % PORTS),
			.vlan = sub ? i : 0,
			.mtu = rnd() % 8 ? 1500 : 100,
			.mac = { { 0x02, 0, 0, 0, 1, (uint8_t)i } },
		};
	}
	for (unsigned k = 0; k < GWS; k++)
		gws[k] = 0xc6336400 | (k + 1);
	for (uint16_t v = 1; v <= VRFS; v++) {
		assert_int_equal(fib_vrf_add(&l3_fib, v), 0);
		l3_vrf_punt[v] = (struct l3_vrf_punt){ { 10000000, 10000000, 10000000 } };
		for (unsigned r = 0; r < ROUTES; r++) {
			uint8_t len = rnd() % 3 ? 24 : 16;
			uint32_t ip = (0x0a000000 | (rnd() & 0xffffff)) & ~((1u << (32 - len)) - 1);
			prefixes[v][r] = ip;
			assert_int_equal(fib_add(&l3_fib, v, ip, len, random_group(v)), 0);
		}
	}
	/*
	 * Neighbours in every VRF (an egress interface's may be any): the gateways
	 * and host .1 of every prefix, mostly resolved, some incomplete, some none.
	 */
	for (uint16_t v = 1; v <= VRFS; v++) {
		for (unsigned k = 0; k < GWS + VRFS * ROUTES; k++) {
			uint32_t ip =
				k < GWS ? gws[k]
					: prefixes[1 + (k - GWS) / ROUTES][(k - GWS) % ROUTES] | 1;
			struct rte_ether_addr mac = { { 0x02, 0, (uint8_t)(k >> 8), 2, (uint8_t)v,
							(uint8_t)k } };
			struct neigh *n;

			if (rnd() % 10 == 0 || neigh_find(&l3_neigh, v, ip))
				continue;
			n = neigh_create(&l3_neigh, v, ip, 1, NEIGH_INCOMPLETE, 0, 1);
			assert_non_null(n);
			if (rnd() % 8)
				neigh_set_mac(n, &mac, NEIGH_REACHABLE, 1);
		}
	}
}

static void tables_fini(void)
{
	neigh_fini(&l3_neigh);
	nh_fini(&l3_nh);
	fib_fini(&l3_fib);
	memset(l3_vrf_punt, 0, sizeof(l3_vrf_punt[0]) * (VRFS + 1));
}

/* One packet of a round: its interface and header fields. */
struct spec {
	uint16_t iface;
	uint32_t dst, src;
	uint8_t ttl, ihl;
	uint16_t len, frag;
};

static struct spec random_spec(const struct l3_tables *t)
{
	uint16_t v;
	struct spec p = {
		.iface = (uint16_t)(1 + rnd() % IFACES),
		.src = 0xac100000 | (rnd() & 0xffff),
		.ttl = rnd() % 10 == 0 ? 1 : (uint8_t)(2 + rnd() % 63),
		.ihl = rnd() % 20 == 0 ? 6 : 5,
		.len = rnd() % 6 == 0 ? 200 : 60,
		.frag = rnd() % 2 ? RTE_BE16(RTE_IPV4_HDR_DF_FLAG) : 0,
	};

	v = rnd() % 8 ? t->iface[p.iface].vrf : (uint16_t)(1 + rnd() % VRFS);
	/* Mostly a route of its interface's VRF, the same host often; another's, or none. */
	p.dst = rnd() % 8 ? prefixes[v][rnd() % ROUTES] | (rnd() % 4 ? 1 : (rnd() & 0xff))
			  : 0x0b000000 | (rnd() & 0xffffff);
	return p;
}

static struct rte_mbuf *make(struct rte_mempool *mp, const struct spec *p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	uint32_t hl = p->ihl * 4u;

	assert_non_null(m);
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN + p->len));
	assert_non_null(eh);
	memset(eh, 0xab, RTE_ETHER_HDR_LEN + p->len);
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	memset(ip, 0, hl);
	if (hl > sizeof(*ip))
		memset(ip + 1, IP4_OPT_NOP, hl - sizeof(*ip));
	ip->version_ihl = (uint8_t)(0x40 | p->ihl);
	ip->total_length = rte_cpu_to_be_16(p->len);
	ip->fragment_offset = p->frag;
	ip->time_to_live = p->ttl;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(p->src);
	ip->dst_addr = rte_cpu_to_be_32(p->dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

static void record(struct outcome *o, int port, struct rte_mbuf *m)
{
	const struct l3_meta *meta = l3_meta(m);

	assert_true(o->n < MAX_OUT);
	o->f[o->n].port = port;
	o->f[o->n].len = m->pkt_len;
	memcpy(o->f[o->n].bytes, rte_pktmbuf_mtod(m, void *),
	       RTE_MIN(m->data_len, sizeof(o->f[o->n].bytes)));
	if (port < 0) {
		o->f[o->n].reason = meta->reason;
		o->f[o->n].iface = meta->iface;
		o->f[o->n].vrf = meta->vrf;
		o->f[o->n].route_vrf = meta->route_vrf;
		o->f[o->n].mtu = meta->mtu;
	}
	o->n++;
	rte_pktmbuf_free(m);
}

/* Takes what the worker buffered for its ports (never flushed: no real ports) and punted. */
static void collect(struct env *e, struct outcome *o)
{
	struct rte_mbuf *m;

	for (uint16_t p = 0; p <= PORTS; p++) {
		struct dp_txbuf *b = &e->w->txb[p];
		for (uint16_t i = 0; i < b->n; i++)
			record(o, p, b->pkts[i]);
		b->n = 0;
		b->bytes = 0;
		b->pending = false;
	}
	e->w->n_pending = 0;
	while (rte_ring_sc_dequeue(e->lw->punt, (void **)&m) == 0)
		record(o, -1, m);
}

/* Routes the specs' packets in bursts (whole: the burst at once, else one by one). */
static void run(struct env *e, const struct spec *sp, const uint16_t *sizes, unsigned rounds,
		bool whole, uint64_t now, struct outcome *o)
{
	unsigned k = 0;

	memset(o, 0, sizeof(*o));
	memset(e->lw->vrfc, 0, sizeof(*e->lw->vrfc) * (VRFS + 1));
	memset(e->lw->ifc, 0, sizeof(*e->lw->ifc) * (IFACES + 1));
	memset(e->lw->vrfh, 0, sizeof(*e->lw->vrfh) * (VRFS + 1));
	memset(e->lw->ifh, 0, sizeof(*e->lw->ifh) * (IFACES + 1));
	memset(e->lw->punt_rl, 0, sizeof(*e->lw->punt_rl) * (VRFS + 1));
	memset(e->w->drop_total, 0, sizeof(uint64_t) * dp_n_drops);
	for (unsigned r = 0; r < rounds; r++) {
		struct dp_burst bu = { .now = now };
		for (uint16_t i = 0; i < sizes[r]; i++, k++) {
			bu.pkts[bu.n] = make(e->mp, &sp[k]);
			bu.arg[bu.n++] = sp[k].iface;
			if (!whole) {
				l3_route(&e->x, &bu);
				bu.n = 0;
			}
		}
		if (whole)
			l3_route(&e->x, &bu);
		collect(e, o);
		e->lw->punted = false;
	}
	memcpy(o->vrfc, e->lw->vrfc, sizeof(o->vrfc));
	memcpy(o->ifc, e->lw->ifc, sizeof(o->ifc));
	memcpy(o->vrfh, e->lw->vrfh, sizeof(o->vrfh));
	memcpy(o->ifh, e->lw->ifh, sizeof(o->ifh));
	for (unsigned d = 0; d < dp_n_drops; d++)
		o->drops += e->w->drop_total[d];
}

static void test_route_burst_matches_one_by_one(void **state)
{
	struct outcome *whole = calloc(1, sizeof(*whole)), *single = calloc(1, sizeof(*single));
	struct spec *sp = calloc(ROUNDS * DP_BURST, sizeof(*sp));
	uint16_t sizes[ROUNDS];
	unsigned n = 0, sent = 0, punted = 0, hinted = 0;
	uint64_t now = rte_rdtsc();
	struct env e;

	(void)state;
	assert_true(sp && whole && single);
	assert_int_equal(l3_meta_register(), 0);
	env_init(&e);
	tables_init(&e);
	for (unsigned r = 0; r < ROUNDS; r++) {
		/* Fewer than a burst: no port's buffer fills (there is no real port to flush to).
		 */
		sizes[r] = (uint16_t)(1 + rnd() % (DP_BURST - 1));
		/* A quarter of the bursts one tenant and destination throughout, as flowgen sends.
		 */
		for (uint16_t i = 0; i < sizes[r]; i++)
			sp[n + i] = r % 4 == 0 && i ? sp[n] : random_spec(e.t);
		n += sizes[r];
	}
	run(&e, sp, sizes, ROUNDS, false, now, single);
	run(&e, sp, sizes, ROUNDS, true, now, whole);
	/* Set by the mixed bursts' bulk lookups (not by a burst of one interface). */
	for (uint32_t g = 0; g < NH_MAX_GROUPS; g++)
		hinted += l3_neigh.hint[g] != NULL;
	assert_int_equal(whole->n, single->n);
	for (unsigned i = 0; i < whole->n; i++) {
		assert_int_equal(whole->f[i].port, single->f[i].port);
		assert_int_equal(whole->f[i].len, single->f[i].len);
		assert_memory_equal(whole->f[i].bytes, single->f[i].bytes,
				    RTE_MIN(whole->f[i].len, sizeof(whole->f[i].bytes)));
		assert_int_equal(whole->f[i].reason, single->f[i].reason);
		assert_int_equal(whole->f[i].iface, single->f[i].iface);
		assert_int_equal(whole->f[i].vrf, single->f[i].vrf);
		assert_int_equal(whole->f[i].route_vrf, single->f[i].route_vrf);
		assert_int_equal(whole->f[i].mtu, single->f[i].mtu);
		sent += whole->f[i].port >= 0;
		punted += whole->f[i].port < 0;
	}
	assert_memory_equal(whole->vrfc, single->vrfc, sizeof(whole->vrfc));
	assert_memory_equal(whole->ifc, single->ifc, sizeof(whole->ifc));
	assert_memory_equal(whole->vrfh, single->vrfh, sizeof(whole->vrfh));
	assert_memory_equal(whole->ifh, single->ifh, sizeof(whole->ifh));
	assert_int_equal(whole->drops, single->drops);
	/* Every fate was met, often, and hints were in use. */
	assert_true(sent > 5000 && punted > 2000 && whole->drops > 100 && hinted > 50);
	tables_fini();
	env_fini(&e);
	free(whole);
	free(single);
	free(sp);
}

/* A frame the control thread built for interface oif (untagged), of len bytes. */
static struct rte_mbuf *injected(struct rte_mempool *mp, uint16_t oif, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	assert_non_null(m);
	assert_non_null(rte_pktmbuf_append(m, len));
	memset(rte_pktmbuf_mtod(m, void *), 0, len);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	l3_meta(m)->oif = oif;
	return m;
}

/*
 * What the control thread sends is counted once: as sent when it leaves, as
 * a drop (and not also as sent) when it could not be tagged, is longer than
 * its port's MTU, or its interface went away.
 */
static void test_inject_counts_a_frame_once(void **state)
{
	struct rte_mbuf *m[4];
	struct outcome *o = calloc(1, sizeof(*o));
	uint64_t drops = 0;
	struct env e;

	(void)state;
	assert_non_null(o);
	assert_int_equal(l3_meta_register(), 0);
	env_init(&e);
	e.lw->inject = rte_ring_create("burst_inject", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(e.lw->inject);
	e.t->iface[1] = (struct l3_iface){
		.kind = L3_IF_SUBIF, .on = true, .vrf = 1, .port = 1, .vlan = 100, .mtu = 1500
	};
	e.t->iface[2] = (struct l3_iface){
		.kind = L3_IF_PORT, .on = true, .vrf = 1, .port = 2, .mtu = 1500
	};
	m[0] = injected(e.mp, 1, 60);
	m[0]->data_off = 0; /* no headroom: the tag cannot go in */
	m[1] = injected(e.mp, 2, 1500 + RTE_ETHER_HDR_LEN + 1);
	m[2] = injected(e.mp, 3, 60); /* interface 3 is not (any more) */
	m[3] = injected(e.mp, 2, 60);
	assert_int_equal(rte_ring_sp_enqueue_burst(e.lw->inject, (void **)m, 4, NULL), 4);
	l3_inject(&e.x);
	collect(&e, o);
	assert_int_equal(o->n, 1);
	assert_int_equal(o->f[0].port, 2);
	assert_int_equal(e.lw->ifh[1].tx_pkts, 0);
	assert_int_equal(e.lw->ifh[2].tx_pkts, 1);
	assert_int_equal(e.lw->ifh[2].tx_bytes, 60);
	assert_int_equal(e.lw->ifc[1].drop[DP_DROP_NO_MBUF], 1);
	assert_int_equal(e.w->drop_total[DP_DROP_MTU_EXCEEDED], 1);
	assert_int_equal(e.w->drop_total[dp_drop_id(&l3_drops, L3_DROP_NO_INTERFACE)], 1);
	for (unsigned d = 0; d < dp_n_drops; d++)
		drops += e.w->drop_total[d];
	assert_int_equal(drops, 3);
	assert_int_equal(rte_mempool_in_use_count(e.mp), 0);
	rte_ring_free(e.lw->inject);
	env_fini(&e);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_burst_matches_one_by_one),
		cmocka_unit_test(test_inject_counts_a_frame_once),
	};

	return cmocka_run_group_tests(tests, unit_dp_setup, unit_dp_teardown);
}
