/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's worker code: stage fw-in on arc "ip4" (after ip4-input's
 * checks, before routing) and the router's egress hook (after the route
 * lookup chose the interface out). A burst is classified together, one
 * rte_acl_classify per context it holds; each packet is accepted, dropped,
 * or rejected (punted: the control thread answers). Per-rule counters are
 * the worker's own row. No syscalls, locks, logs or allocation here.
 */
#include "fw.h"
#include "fw_acl.h"
#include "fw_int.h"
#include "router_datapath.h"

/*
 * The action (enum tess_fw_action) for each of n packets, pkts[i] having
 * come in by iif[i] and met context cx[i] (NULL: none, accepted).
 */
static void fw_classify(struct dp_worker *w, const struct l3_tables *lt, struct fw_ctx *const *cx,
			struct rte_mbuf *const *pkts, const uint16_t *iif, uint16_t n, uint8_t *act)
{
	struct fw_key keys[DP_BURST];
	const uint8_t *data[DP_BURST];
	uint32_t res[DP_BURST];
	uint16_t idx[DP_BURST];
	bool done[DP_BURST];

	for (uint16_t i = 0; i < n; i++) {
		act[i] = TESS_FW_ACCEPT;
		done[i] = cx[i] == NULL;
		if (!done[i])
			fw_key_of(pkts[i], iif[i], lt->iface[iif[i]].vlan, &keys[i]);
	}
	/* The packets of each context together (a burst mostly holds one or two). */
	for (uint16_t i = 0; i < n; i++) {
		struct fw_ctx *c = cx[i];
		struct fw_cnt *cnt;
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
		cnt = c->cnt + (size_t)w->idx * c->stride;
		for (uint16_t q = 0; q < k; q++) {
			uint32_t r = res[q];
			struct fw_cnt *rc = &cnt[r ? r - 1 : c->n_rules];
			act[idx[q]] = r ? c->action[r - 1] : c->dflt;
			dp_cnt_add(&rc->pkts, 1);
			dp_cnt_add(&rc->bytes, pkts[idx[q]]->pkt_len);
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
	uint8_t act[DP_BURST];
	struct l3_ctx x;
	uint16_t k = 0;

	if (t == NULL) {
		dp_stage_next(w, s, b);
		return;
	}
	l3_ctx_init(&x, w, s);
	for (uint16_t i = 0; i < b->n; i++) {
		uint16_t c = t->ctx[FW_IN][b->arg[i]];
		cx[i] = c ? t->ctxs[c - 1] : NULL;
	}
	fw_classify(w, x.t, cx, b->pkts, b->arg, b->n, act);
	for (uint16_t i = 0; i < b->n; i++) {
		if (act[i] != TESS_FW_ACCEPT) {
			fw_refuse(&x, b->pkts[i], b->arg[i], act[i], b->now);
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
	fw_classify(w, x.t, cx, b->pkts, b->iif, b->n, act);
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
