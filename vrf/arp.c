/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (RFC 826) for the router: answers for an interface's own addresses,
 * resolves next hops while holding their packets, learns only from
 * requests addressed to us and from replies to what it asked, and ages
 * entries: incomplete -> reachable -> stale -> probe -> failed -> gone.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>

#include "ipv4.h"
#include "log.h"
#include "kernel.h"
#include "router_int.h"

#define ARP_RETRIES   3
#define ARP_RETRY_SEC 1
#define FAILED_SEC    3 /* a failed entry answers "host unreachable" this long, then goes */
#define TIMER_MS      100

static bool own_address(uint16_t iface, uint32_t ip)
{
	const struct rt_iface *r = &rt_ifs[iface];

	for (uint8_t a = 0; iface && a < r->n_addr; a++)
		if (r->addr[a] == ip)
			return true;
	return false;
}

static const struct rte_ether_addr *iface_mac(uint16_t iface)
{
	const struct l3_tables *t = rt_tables();

	return t ? &t->iface[iface].mac : NULL;
}

static void count_arp(uint16_t iface, uint16_t vrf, uint64_t *(*field)(struct rt_counters *))
{
	(*field(&rt_ifs[iface].ctl))++;
	(*field(&rt_vrfs[vrf].ctl))++;
}

static uint64_t *sent(struct rt_counters *c)
{
	return &c->arp_sent;
}

static uint64_t *replied(struct rt_counters *c)
{
	return &c->arp_replied;
}

static uint64_t *learned(struct rt_counters *c)
{
	return &c->arp_learned;
}

void rt_arp_request(uint16_t oif, uint32_t tip, const struct rte_ether_addr *mac)
{
	const struct rte_ether_addr *own = iface_mac(oif);
	uint32_t sip = rt_src_addr(oif, tip);
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *arp;
	struct rte_mbuf *m;

	if (own == NULL || sip == 0)
		return;
	m = rt_pool ? rte_pktmbuf_alloc(rt_pool) : NULL;
	/* The Ethernet minimum: some ports do not pad short frames. */
	if (m == NULL || (eh = (struct rte_ether_hdr *)rte_pktmbuf_append(
				  m, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN)) == NULL) {
		rte_pktmbuf_free(m);
		rt_count_drop(oif, rt_ifs[oif].vrf, DP_DROP_NO_MBUF);
		return;
	}
	memset(eh, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	arp = (struct rte_arp_hdr *)(eh + 1);
	if (mac)
		rte_ether_addr_copy(mac, &eh->dst_addr);
	else
		memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
	rte_ether_addr_copy(own, &eh->src_addr);
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(own, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	if (mac)
		rte_ether_addr_copy(mac, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	count_arp(oif, rt_ifs[oif].vrf, sent);
	rt_inject(m, oif);
}

/* Sends what waited for e, now that it has a MAC. */
static void release_held(struct neigh *e)
{
	struct rte_mbuf *held[NEIGH_MAX_QUEUE];
	struct rte_ether_addr mac;
	uint16_t n = neigh_unhold(&l3_neigh, e, held);

	neigh_mac(e, &mac);
	for (uint16_t i = 0; i < n; i++) {
		uint16_t oif = l3_meta(held[i])->oif;
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(held[i], struct rte_ether_hdr *);
		const struct rte_ether_addr *own = iface_mac(oif);

		if (own == NULL) {
			rte_pktmbuf_free(held[i]);
			continue;
		}
		rte_ether_addr_copy(&mac, &eh->dst_addr);
		rte_ether_addr_copy(own, &eh->src_addr);
		rt_inject(held[i], oif);
	}
}

/* Tells the senders of what waited for e that it cannot be reached. */
static void fail_held(struct neigh *e)
{
	struct rte_mbuf *held[NEIGH_MAX_QUEUE];
	uint16_t n = neigh_unhold(&l3_neigh, e, held);

	for (uint16_t i = 0; i < n; i++) {
		struct l3_meta *meta = l3_meta(held[i]);
		rt_count_drop(meta->iface, meta->vrf, L3_DROP_UNRESOLVED);
		rt_icmp_error(held[i], meta->iface, meta->vrf, IP4_ICMP_UNREACH, IP4_UNREACH_HOST,
			      0);
	}
}

/* Learns mac for e, a dynamic entry: held packets leave once it is usable. */
static void learn(struct neigh *e, const struct rte_ether_addr *mac, uint8_t state, uint64_t now)
{
	struct rte_ether_addr have;

	neigh_mac(e, &have);
	/* An answer to our question confirms; the same MAC again keeps the state it had. */
	if (e->state == NEIGH_INCOMPLETE || e->state == NEIGH_PROBE || e->state == NEIGH_FAILED ||
	    !rte_is_same_ether_addr(&have, mac) || state == NEIGH_REACHABLE)
		neigh_set_mac(e, mac, state, now);
	if (e->n_queued)
		release_held(e);
}

void rt_arp_input(struct rte_mbuf *m)
{
	const struct l3_meta *meta = l3_meta(m);
	uint16_t iif = meta->iface, vrf = meta->vrf;
	const struct rte_ether_addr *own = iface_mac(iif);
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eh + 1);
	uint64_t now = rte_rdtsc();
	struct rte_ether_addr sha;
	uint32_t sip, tip;
	uint16_t op;
	struct neigh *e;

	if (own == NULL || m->data_len < RTE_ETHER_HDR_LEN + sizeof(*arp) ||
	    arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4)
		goto ignore;
	op = rte_be_to_cpu_16(arp->arp_opcode);
	sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
	tip = rte_be_to_cpu_32(arp->arp_data.arp_tip);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &sha);
	if ((op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) ||
	    !rte_is_valid_assigned_ether_addr(&sha) || rte_is_same_ether_addr(&sha, own))
		goto ignore;
	/* Services of the interface hear who holds which address (a DHCP conflict probe). */
	if (sip)
		l3_svc_arp_seen(iif, sip, &sha);
	/* Someone claiming one of our addresses is not learned. */
	if (sip && rt_own_iface(vrf, sip))
		goto ignore;
	e = sip ? neigh_find(&l3_neigh, vrf, sip) : NULL;
	if (e && e->state == NEIGH_STATIC)
		e = NULL; /* never overridden */

	if (sip && sip == tip) {
		/* Gratuitous: updates an entry we have, creates none. */
		if (e && e->iface == iif) {
			learn(e, &sha, NEIGH_STALE, now);
			count_arp(iif, vrf, learned);
			kern_arp_copy(m, iif, true);
		}
		goto consumed;
	}
	if (op == RTE_ARP_OP_REPLY) {
		/* Only answers to our requests: to our address, for an entry we made. */
		if (!own_address(iif, tip))
			goto ignore;
		if (e == NULL || e->iface != iif) {
			/* Not ours: the kernel's, if it asked (its copy is all there is to do). */
			kern_arp_copy(m, iif, false);
			goto ignore;
		}
		learn(e, &sha, NEIGH_REACHABLE, now);
		count_arp(iif, vrf, learned);
		kern_arp_copy(m, iif, true);
		goto consumed;
	}
	if (!own_address(iif, tip))
		goto ignore;
	/* A request for us: learn the asker if it is on our subnet (not a probe from 0.0.0.0). */
	if (sip && rt_on_subnet(iif, sip, NULL)) {
		if (e == NULL && neigh_find(&l3_neigh, vrf, sip) == NULL)
			e = neigh_create(&l3_neigh, vrf, sip, iif, NEIGH_STALE,
					 rt_vrfs[vrf].neigh_limit, now);
		if (e) {
			e->iface = iif;
			learn(e, &sha, e->state == NEIGH_INCOMPLETE ? NEIGH_REACHABLE : NEIGH_STALE,
			      now);
			count_arp(iif, vrf, learned);
		}
	}
	/* The reply, made from the request in place. */
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&sha, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	rte_ether_addr_copy(own, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(tip);
	rte_ether_addr_copy(&sha, &eh->dst_addr);
	rte_ether_addr_copy(own, &eh->src_addr);
	count_arp(iif, vrf, replied);
	rt_inject(m, iif);
	return;
ignore:
	rt_count_drop(iif, vrf, L3_DROP_ARP);
consumed:
	rte_pktmbuf_free(m);
}

void rt_neigh_output(struct rte_mbuf *m, uint16_t oif, uint32_t ip)
{
	uint16_t vrf = rt_ifs[oif].vrf;
	struct neigh *e = neigh_find(&l3_neigh, vrf, ip);
	uint64_t now = rte_rdtsc();
	uint64_t mac = e ? __atomic_load_n(&e->mac, __ATOMIC_ACQUIRE) : 0;
	struct l3_meta *meta = l3_meta(m);

	meta->oif = oif;
	if (mac & NEIGH_MAC_VALID) {
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		memcpy(eh->dst_addr.addr_bytes, &mac, RTE_ETHER_ADDR_LEN);
		rte_ether_addr_copy(iface_mac(oif), &eh->src_addr);
		__atomic_store_n(&e->used, now, __ATOMIC_RELAXED);
		rt_inject(m, oif);
		return;
	}
	if (e == NULL) {
		e = neigh_create(&l3_neigh, vrf, ip, oif, NEIGH_INCOMPLETE,
				 rt_vrfs[vrf].neigh_limit, now);
		if (e == NULL) {
			rt_count_drop(meta->iface, meta->vrf, L3_DROP_UNRESOLVED);
			rte_pktmbuf_free(m);
			return;
		}
		e->tries = 1;
		rt_arp_request(oif, ip, NULL);
	}
	if (e->state == NEIGH_FAILED) {
		rt_count_drop(meta->iface, meta->vrf, L3_DROP_UNRESOLVED);
		rt_icmp_error(m, meta->iface, meta->vrf, IP4_ICMP_UNREACH, IP4_UNREACH_HOST, 0);
		return;
	}
	if (!neigh_hold(&l3_neigh, e, m, rt_vrfs[vrf].neigh_queue)) {
		rt_count_drop(meta->iface, meta->vrf, L3_DROP_UNRESOLVED);
		rte_pktmbuf_free(m);
	}
}

void rt_neigh_forget(struct neigh *e)
{
	for (uint16_t i = 0; i < e->n_queued; i++) {
		const struct l3_meta *meta = l3_meta(e->queue[i]);
		rt_count_drop(meta->iface, meta->vrf, L3_DROP_UNRESOLVED);
	}
	neigh_delete(&l3_neigh, e);
}

static void fail(struct neigh *e, uint64_t now)
{
	neigh_fail(e, now);
	l3_neigh.stats.failed++;
	fail_held(e);
}

static void tick(struct neigh *e, void *arg)
{
	uint64_t now = *(const uint64_t *)arg, hz = dp_tsc_hz, age = neigh_age(e, now);
	const struct rt_vrf *v = &rt_vrfs[e->vrf];
	struct rte_ether_addr mac;

	switch (e->state) {
	case NEIGH_INCOMPLETE:
	case NEIGH_PROBE:
		if (age < ARP_RETRY_SEC * hz)
			break;
		if (e->tries >= ARP_RETRIES) {
			fail(e, now);
			break;
		}
		neigh_mac(e, &mac);
		rt_arp_request(e->iface, e->ip, e->state == NEIGH_PROBE ? &mac : NULL);
		e->tries++;
		e->since = now;
		break;
	case NEIGH_REACHABLE:
		if (age >= v->reachable_tsc) {
			e->state = NEIGH_STALE;
			e->since = now;
		}
		break;
	case NEIGH_STALE:
		/* Used since it went stale: check it is still there, while still using it. */
		if (__atomic_load_n(&e->used, __ATOMIC_RELAXED) > e->since) {
			neigh_mac(e, &mac);
			e->state = NEIGH_PROBE;
			e->tries = 1;
			e->since = now;
			rt_arp_request(e->iface, e->ip, &mac);
		} else if (age >= v->stale_tsc) {
			l3_neigh.stats.aged++;
			rt_neigh_forget(e);
		}
		break;
	case NEIGH_FAILED:
		if (age >= FAILED_SEC * hz)
			rt_neigh_forget(e);
		break;
	default:
		break;
	}
}

void rt_neigh_timers(uint64_t now)
{
	static uint64_t last;

	if (now - last < dp_tsc_hz / (1000 / TIMER_MS))
		return;
	last = now;
	neigh_walk(&l3_neigh, tick, &now);
}

/* ---- static neighbours from the config ---- */

struct want {
	uint64_t *keys; /* neigh_key of every configured neighbour, sorted */
	uint32_t n;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void prune(struct neigh *e, void *arg)
{
	const struct want *w = arg;
	uint64_t k = neigh_key(e->vrf, e->ip);
	const struct rt_iface *ri = &rt_ifs[e->iface];

	if (e->state == NEIGH_STATIC) {
		if (!bsearch(&k, w->keys, w->n, sizeof(k), cmp_u64))
			rt_neigh_forget(e);
		return;
	}
	/* Its interface went, moved VRF, or no longer has the subnet. */
	if (ri->state != RT_IF_USED || ri->vrf != e->vrf || !rt_on_subnet(e->iface, e->ip, NULL))
		rt_neigh_forget(e);
}

void rt_neigh_sync(const struct tessd_router_index *ix)
{
	const struct tessd_router_cfg *r = &ix->cfg->router;
	struct want w = { .keys = malloc((r->n_neighbours + 1) * sizeof(uint64_t)) };
	uint64_t now = rte_rdtsc();

	if (w.keys == NULL) {
		DP_LOG(ERR, "router: no memory to apply static neighbours");
		return;
	}
	for (uint32_t i = 0; i < r->n_neighbours; i++) {
		const struct tessd_neigh_cfg *nc = &r->neighbours[i];
		const struct tessd_iface_cfg *ic;
		struct rte_ether_addr mac;
		const struct tessd_vrf_cfg *vc = tessd_ix_vrf(ix, nc->vrf);
		uint16_t vrf = vc ? vc->id : 0, ifid;
		struct neigh *e;
		uint32_t ip = nc->ip;

		memcpy(mac.addr_bytes, nc->mac.b, RTE_ETHER_ADDR_LEN);
		ic = nc->interface[0] ? tessd_ix_iface(ix, nc->interface)
				      : tessd_ix_iface_for(ix, nc->vrf, ip);
		ifid = ic ? ix->ids[ic - r->interfaces] : 0;
		if (vrf == 0 || ifid == 0)
			continue;
		w.keys[w.n++] = neigh_key(vrf, ip);
		e = neigh_find(&l3_neigh, vrf, ip);
		if (e && e->iface != ifid && e->n_queued == 0) {
			rt_neigh_forget(e);
			e = NULL;
		}
		if (e == NULL)
			e = neigh_create(&l3_neigh, vrf, ip, ifid, NEIGH_STATIC, 0, now);
		if (e == NULL) {
			char ip_s[CFG_IP4_STRLEN];
			DP_LOG_F(ERR, DP_VRF_FIELDS(&rt_vrfs[vrf]),
				 "VRF %s: no room for static neighbour %s", nc->vrf,
				 cfg_fmt_ip4(nc->ip, ip_s, sizeof(ip_s)));
			continue;
		}
		e->iface = ifid;
		neigh_set_mac(e, &mac, NEIGH_STATIC, now);
		if (e->n_queued)
			release_held(e);
	}
	qsort(w.keys, w.n, sizeof(*w.keys), cmp_u64);
	neigh_walk(&l3_neigh, prune, &w);
	free(w.keys);
}
