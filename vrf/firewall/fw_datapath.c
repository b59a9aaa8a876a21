/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's worker code: stage fw-in on arc "ip4" (after ip4-input's
 * checks, before routing) and the router's egress hook (after the route
 * lookup chose the interface out). A burst is classified together, one
 * rte_acl_classify per context it holds; each packet is accepted, dropped,
 * or rejected (punted: the control thread answers); first, the connection
 * table accepts established and related packets, and records what the rules
 * accept. Per-rule counters are the worker's own row. No syscalls, locks, logs or allocation here.
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

/*
 * The action (enum tess_fw_action) for each of n packets, pkts[i] having
 * come in by iif[i] and met context cx[i] (NULL: none, accepted): the
 * connection table's, else the rules' (then recorded if accepted).
 */
static void fw_classify(struct dp_worker *w, const struct l3_tables *lt, struct fw_ctx *const *cx,
			struct rte_mbuf *const *pkts, const uint16_t *iif, uint16_t n, uint64_t now,
			uint8_t *act)
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
			fw_state_key(pkts[i], lt->iface[iif[i]].vrf, &st[i]);
	}
	for (uint16_t i = 0; i < n; i++) {
		act[i] = TESS_FW_ACCEPT;
		done[i] = cx[i] == NULL ||
			  (fw_conn &&
			   fw_state_ok(w, cx[i], pkts[i], lt->iface[iif[i]].vrf, now, &st[i]));
		if (!done[i])
			fw_key_of(pkts[i], iif[i], lt->iface[iif[i]].vlan, &keys[i]);
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
				fw_track(w, lt->iface[iif[p]].vrf, now, &st[p]);
			else if (st[p].track && st[p].e)
				fw_untrack(st[p].e);
		}
	}
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
	fw_classify(w, x.t, cx, b->pkts, iif, b->n, b->now, act);
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
	uint8_t act[DP_BURST];
	struct l3_ctx x;

	if (t == NULL)
		return;
	l3_ctx_init(&x, w, s);
	for (uint16_t i = 0; i < b->n; i++) {
		uint16_t c = t->ctx[FW_OUT][b->oif[i]];
		cx[i] = c ? t->ctxs[c - 1] : NULL;
	}
	fw_classify(w, x.t, cx, b->pkts, b->iif, b->n, b->now, act);
	for (uint16_t i = 0; i < b->n; i++) {
		if (act[i] == TESS_FW_ACCEPT)
			continue;
		b->keep[i] = false;
		fw_refuse(&x, b->pkts[i], b->iif[i], act[i], b->now);
	}
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

DP_DROPS_REGISTER(fw_drops, "firewall", FW_DROPS)
