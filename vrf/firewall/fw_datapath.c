/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's worker code: stage fw-in on arc "ip4" (after ip4-input's
 * checks, before routing), the router's egress hook (after the route
 * lookup chose the interface out) and the groups' hook (the frames a
 * vswitch group receives from its ports, their tag popped). A burst is
 * classified together, one rte_acl_classify per context it holds; each
 * packet is accepted, dropped, or rejected (punted: the control thread
 * answers); first, the connection table accepts established and related
 * packets, and records what the rules accept. Per-rule counters are the worker's own row. No
 * syscalls, locks, logs or allocation here.
 */
#include "fw.h"
#include "fw_acl.h"
#include "fw_conn.h"
#include "fw_int.h"
#include "router_datapath.h"

static inline void fw_count(struct dp_worker *w, struct fw_ctx *c, uint32_t slot,
			    const struct rte_mbuf *m)
{
	struct fw_cnt *rc = &c->cnt[(size_t)w->idx * c->stride + slot];

	dp_cnt_add(&rc->pkts, 1);
	dp_cnt_add(&rc->bytes, m->pkt_len);
}

/* What the connection table knows of a packet, before and after the rules. */
struct fw_state {
	struct conn_tuple t;
	uint64_t h;           /* t's conn_hash */
	struct conn_entry *e; /* its entry, in the original direction, no reply yet */
	uint8_t flags;        /* TCP's */
	bool track;           /* t holds its tuple */
};

/*
 * m's tuple in VRF vrf into st (st->track: it has one), its hash taken and
 * both its buckets prefetched: a burst's lookups, started together, overlap
 * their cache misses (a large table misses on nearly every one).
 */
static void fw_state_key(const struct rte_mbuf *m, uint16_t vrf, struct fw_state *st)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint32_t avail = RTE_MIN((uint32_t)m->data_len - RTE_ETHER_HDR_LEN,
				 (uint32_t)rte_be_to_cpu_16(ip->total_length));

	st->e = NULL;
	st->track = fw_tuple_at(ip, avail, vrf, &st->t, &st->flags);
	if (st->track) {
		st->h = conn_hash(fw_conn, &st->t);
		conn_prefetch(fw_conn, st->h);
	}
}

/*
 * Whether the connection table accepts m, seen in VRF vrf, st from
 * fw_state_key: a packet of a connection going the reply way, or either
 * way once a reply was seen (established), or an ICMP error quoting one
 * (related). Else st says what to record if the rules accept it.
 */
static bool fw_state_ok(struct dp_worker *w, struct fw_ctx *c, const struct rte_mbuf *m,
			uint16_t vrf, uint64_t now, struct fw_state *st)
{
	struct conn_tuple rt;
	struct conn_entry *re;
	uint8_t seen;
	int dir;

	if (!st->track) {
		if (!fw_related_tuple(m, vrf, &rt) ||
		    (re = conn_lookup(fw_conn, &rt, &dir)) == NULL ||
		    (__atomic_load_n(&re->seen, __ATOMIC_RELAXED) & CONN_SEEN_KILL))
			return false;
		fw_count(w, c, c->n_rules + FW_CNT_RELATED, m);
		return true;
	}
	st->e = conn_lookup_h(fw_conn, &st->t, st->h, &dir);
	/* Killed (a set dropped its first packet): a stranger until the expiry takes it. */
	if (st->e == NULL ||
	    (seen = __atomic_load_n(&st->e->seen, __ATOMIC_RELAXED)) & CONN_SEEN_KILL) {
		if (st->e && dir != CONN_ORIG)
			st->e = NULL;
		return false;
	}
	if (dir == CONN_ORIG && !(seen & CONN_SEEN_REPLY))
		return false;
	conn_hit(st->e, dir, st->flags, now);
	fw_count(w, c, c->n_rules + FW_CNT_ESTABLISHED, m);
	return true;
}

/* A packet the rules accepted: its connection recorded (a new entry, or the known one hit). */
static void fw_track(struct dp_worker *w, uint16_t vrf, uint64_t now, struct fw_state *st)
{
	struct conn_tuple rev;
	uint64_t user[2] = { 0, 0 };
	int err;

	if (!st->track)
		return;
	if (st->e) {
		conn_hit(st->e, CONN_ORIG, st->flags, now);
		return;
	}
	rev = conn_tuple_reverse(&st->t);
	/* Full or at the tenant's limit: forwarded untracked (counted in the table's stats). */
	conn_new(fw_conn, w->idx, vrf, 0, &st->t, &rev, user, st->flags, now, &err);
}

/*
 * A packet a set refused whose connection had no reply yet: the entry the
 * other direction's set recorded for it goes, so the far side's answer is
 * not taken as established; a connection lives only if both sets accept it.
 */
static inline void fw_untrack(struct conn_entry *e)
{
	if (!(__atomic_load_n(&e->seen, __ATOMIC_RELAXED) & CONN_SEEN_KILL))
		conn_kill(e);
}

/* Where a packet is classified: its connections' domain (a VRF, a group's), its key's fields. */
struct fw_where {
	uint16_t dom, iface, vlan;
};

/*
 * The action (enum tess_fw_action) for each of n packets, pkts[i] seen at
 * at[i] and meeting context cx[i] (NULL: none, accepted): the connection
 * table's, else the rules' (then recorded if accepted).
 */
static void fw_classify(struct dp_worker *w, struct fw_ctx *const *cx, struct rte_mbuf *const *pkts,
			const struct fw_where *at, uint16_t n, uint64_t now, uint8_t *act)
{
	struct fw_key keys[DP_BURST];
	struct fw_state st[DP_BURST];
	const uint8_t *data[DP_BURST];
	uint32_t res[DP_BURST];
	uint16_t idx[DP_BURST];
	bool done[DP_BURST];

	for (uint16_t i = 0; i < n; i++) {
		st[i].track = false;
		if (cx[i] && fw_conn)
			fw_state_key(pkts[i], at[i].dom, &st[i]);
	}
	for (uint16_t i = 0; i < n; i++) {
		act[i] = TESS_FW_ACCEPT;
		done[i] = cx[i] == NULL ||
			  (fw_conn && fw_state_ok(w, cx[i], pkts[i], at[i].dom, now, &st[i]));
		if (!done[i])
			fw_key_of(pkts[i], at[i].iface, at[i].vlan, &keys[i]);
	}
	/* The packets of each context together (a burst mostly holds one or two). */
	for (uint16_t i = 0; i < n; i++) {
		struct fw_ctx *c = cx[i];
		uint16_t k = 0;

		if (done[i])
			continue;
		for (uint16_t j = i; j < n; j++) {
			if (done[j] || cx[j] != c)
				continue;
			data[k] = (const uint8_t *)&keys[j];
			idx[k++] = j;
			done[j] = true;
		}
		if (c->acl == NULL || rte_acl_classify(c->acl, data, res, k, 1) != 0)
			memset(res, 0, k * sizeof(res[0]));
		for (uint16_t q = 0; q < k; q++) {
			uint32_t r = res[q];
			uint16_t p = idx[q];
			act[p] = r ? c->action[r - 1] : c->dflt;
			fw_count(w, c, r ? r - 1 : c->n_rules + FW_CNT_DEFAULT, pkts[p]);
			if (act[p] == TESS_FW_ACCEPT && fw_conn)
				fw_track(w, at[p].dom, now, &st[p]);
			else if (st[p].track && st[p].e)
				fw_untrack(st[p].e);
		}
	}
}

/* What the router's packets are classified at: their interface's VRF, the interface, its VLAN. */
static inline void fw_at_iface(const struct l3_tables *lt, const uint16_t *iif, uint16_t n,
			       struct fw_where *at)
{
	for (uint16_t i = 0; i < n; i++)
		at[i] = (struct fw_where){ lt->iface[iif[i]].vrf, iif[i], lt->iface[iif[i]].vlan };
}

/* A packet a rule refused: dropped, or for reject handed to the control thread to answer. */
static void fw_refuse(const struct l3_ctx *x, struct rte_mbuf *m, uint16_t iif, uint8_t act,
		      uint64_t now)
{
	if (act == TESS_FW_REJECT) {
		dp_count_drops(x->w, DP_PORT_NONE, dp_drop_id(&fw_drops, FW_DROP_REJECT), 1);
		l3_hook_punt(x, m, iif, x->t->iface[iif].vrf, fw_hook.idx, now);
		return;
	}
	dp_drop(x->w, DP_PORT_NONE, dp_drop_id(&fw_drops, FW_DROP_DROP), m);
}

static void fw_in_stage(struct dp_worker *w, const struct dp_snapshot *s, struct dp_burst *b)
{
	const struct fw_tables *t = fw_tables_of(s);
	struct fw_ctx *cx[DP_BURST];
	struct fw_where at[DP_BURST];
	uint16_t iif[DP_BURST];
	uint8_t act[DP_BURST];
	struct l3_ctx x;
	uint16_t k = 0;

	if (t == NULL) {
		dp_stage_next(w, s, b);
		return;
	}
	l3_ctx_init(&x, w, s);
	for (uint16_t i = 0; i < b->n; i++) {
		/* The interface only: a stage before (NAT) may have flagged another VRF to route
		 * in. */
		uint16_t c = t->ctx[FW_IN][iif[i] = L3_ARG_IFACE(b->arg[i])];
		cx[i] = c ? t->ctxs[c - 1] : NULL;
	}
	fw_at_iface(x.t, iif, b->n, at);
	fw_classify(w, cx, b->pkts, at, b->n, b->now, act);
	for (uint16_t i = 0; i < b->n; i++) {
		if (act[i] != TESS_FW_ACCEPT) {
			fw_refuse(&x, b->pkts[i], iif[i], act[i], b->now);
			continue;
		}
		b->pkts[k] = b->pkts[i];
		b->arg[k++] = b->arg[i];
	}
	b->n = k;
	dp_stage_next(w, s, b);
}

static void fw_egress(struct dp_worker *w, const struct dp_snapshot *s, struct l3_egress_burst *b)
{
	const struct fw_tables *t = fw_tables_of(s);
	struct fw_ctx *cx[DP_BURST];
	struct fw_where at[DP_BURST];
	uint8_t act[DP_BURST];
	struct l3_ctx x;

	if (t == NULL)
		return;
	l3_ctx_init(&x, w, s);
	for (uint16_t i = 0; i < b->n; i++) {
		uint16_t c = t->ctx[FW_OUT][b->oif[i]];
		cx[i] = c ? t->ctxs[c - 1] : NULL;
	}
	fw_at_iface(x.t, b->iif, b->n, at);
	fw_classify(w, cx, b->pkts, at, b->n, b->now, act);
	for (uint16_t i = 0; i < b->n; i++) {
		if (act[i] == TESS_FW_ACCEPT)
			continue;
		b->keep[i] = false;
		fw_refuse(&x, b->pkts[i], b->iif[i], act[i], b->now);
	}
}

/*
 * A frame a group received (Ethernet first, its tag popped): 1 if it is
 * IPv4 its set classifies, 0 if it passes unfiltered (not IPv4; DHCP
 * between client port 68 and server port 67, which a desktop needs before
 * it has an address), -1 if an IPv4 header that cannot be trusted.
 */
static inline int fw_group_ipv4(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
	const uint8_t *l4;
	uint32_t hlen, tot;

	if (eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return 0;
	if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*ip))
		return -1;
	hlen = (ip->version_ihl & 0xfu) * 4u;
	tot = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || hlen < sizeof(*ip) ||
	    m->data_len < RTE_ETHER_HDR_LEN + hlen || tot < hlen ||
	    tot > m->pkt_len - RTE_ETHER_HDR_LEN)
		return -1;
	l4 = (const uint8_t *)ip + hlen;
	if (ip->next_proto_id == IPPROTO_UDP &&
	    !(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) && tot >= hlen + 4 &&
	    m->data_len >= RTE_ETHER_HDR_LEN + hlen + 4 &&
	    ((l4[1] == 68 && l4[3] == 67) || (l4[1] == 67 && l4[3] == 68)) && l4[0] == 0 &&
	    l4[2] == 0)
		return 0;
	return 1;
}

/*
 * The router's frames into a group (its "out" hook from l3_send_group, port
 * DP_PORT_NONE): not filtered (the router's interface sets did), but their
 * connections recorded in the group's domain, so that the desktops' answers
 * are established rather than meeting the group's rules. The switch's own
 * frames (from a port) were seen on the way in: nothing to do.
 */
static void fw_group_record(struct dp_worker *w, uint16_t vlan, uint16_t port,
			    struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct fw_state st;
	int dir;

	if (port != DP_PORT_NONE || fw_conn == NULL)
		return;
	for (uint16_t i = 0; i < n; i++) {
		if (fw_group_ipv4(pkts[i]) != 1)
			continue;
		fw_state_key(pkts[i], FW_GROUP_DOM(vlan), &st);
		if (!st.track)
			continue;
		st.e = conn_lookup_h(fw_conn, &st.t, st.h, &dir);
		if (st.e == NULL)
			fw_track(w, FW_GROUP_DOM(vlan), now, &st);
		else if (!(__atomic_load_n(&st.e->seen, __ATOMIC_RELAXED) & CONN_SEEN_KILL))
			conn_hit(st.e, dir, st.flags, now);
	}
}

/*
 * The groups' "in" hook: the frames group vlan received from port, its
 * set's context on the IPv4 ones (in the group's connection domain, the
 * key's interface 0 and the group's VLAN); the refused ones dropped. Its
 * "out" hook: fw_group_record.
 */
static uint32_t fw_group_hook_fn(struct dp_worker *w, const struct dp_snapshot *s, unsigned kind,
				 unsigned dir, uint16_t vlan, uint16_t port, struct rte_mbuf **pkts,
				 uint16_t n, uint64_t now)
{
	const struct fw_tables *t = fw_tables_of(s);
	struct fw_gcnt *gc = &((struct fw_worker *)dp_worker_mod(w, &fw_module))->grp[vlan];
	struct fw_ctx *cx[DP_BURST];
	struct fw_where at[DP_BURST];
	struct rte_mbuf *ip[DP_BURST];
	uint8_t pos[DP_BURST], act[DP_BURST];
	uint32_t gone = 0, bad = 0, refused = 0;
	uint16_t k = 0;
	struct fw_ctx *c;

	(void)kind;
	if (dir == DP_HOOK_OUT) {
		fw_group_record(w, vlan, port, pkts, n, now);
		return 0;
	}
	if (t == NULL || vlan >= RTE_DIM(t->gctx) || t->gctx[vlan] == 0)
		return 0;
	c = t->ctxs[t->gctx[vlan] - 1];
	for (uint16_t i = 0; i < n; i++) {
		int v = fw_group_ipv4(pkts[i]);

		if (v == 0)
			continue;
		if (v < 0) {
			gone |= UINT32_C(1) << i;
			bad++;
			dp_drop(w, port, dp_drop_id(&fw_drops, FW_DROP_GROUP_BAD), pkts[i]);
			continue;
		}
		cx[k] = c;
		at[k] = (struct fw_where){ FW_GROUP_DOM(vlan), 0, vlan };
		ip[k] = pkts[i];
		pos[k++] = (uint8_t)i;
	}
	if (k == 0) {
		if (n - bad)
			dp_cnt_add(&gc->passed, n - bad);
		if (bad)
			dp_cnt_add(&gc->dropped, bad);
		return gone;
	}
	fw_classify(w, cx, ip, at, k, now, act);
	for (uint16_t j = 0; j < k; j++) {
		if (act[j] == TESS_FW_ACCEPT)
			continue;
		gone |= UINT32_C(1) << pos[j];
		refused++;
		dp_drop(w, port, dp_drop_id(&fw_drops, FW_DROP_GROUP), ip[j]);
	}
	/* Once per run of frames, not per frame. */
	if (k)
		dp_cnt_add(&gc->ipv4, k);
	if (n - k - bad)
		dp_cnt_add(&gc->passed, n - k - bad);
	if (refused + bad)
		dp_cnt_add(&gc->dropped, refused + bad);
	return gone;
}

/* After ip4-input (100), before ip4-route (200): NAT's stages take ranks of their own. */
static struct dp_stage fw_in = {
	.name = "fw-in", .module = "firewall", .arc = "ip4", .rank = 160, .fn = fw_in_stage
};
DP_STAGE_REGISTER(fw_in)

struct l3_hook fw_hook = {
	.name = "firewall",
	.mark_egress = fw_mark_egress,
	.egress = fw_egress,
	.punted = fw_punted,
};
L3_HOOK_REGISTER(fw_hook)

/* Before the policer's (200): a policer meters only what the set lets through. */
struct dp_hook fw_group_hook = { .name = "firewall", .rank = 100, .fn = fw_group_hook_fn };
DP_HOOK_REGISTER(fw_group_hook)

DP_DROPS_REGISTER(fw_drops, "firewall", FW_DROPS)
