/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall module on the control thread: its part of each snapshot
 * (the context of each interface and direction), contexts built with
 * rte_acl and shared by every snapshot and interface whose rules are the
 * same (a change rebuilds only the sets it touches, so a set replaced is
 * swapped in whole with the snapshot and the others keep their counters),
 * the answers to rejected packets, and its counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_tcp.h>

#include "fw.h"
#include "fw_acl.h"
#include "fw_conn.h"
#include "fw_int.h"
#include "ipv4.h"
#include "log.h"
#include "tessd.h"
#include "worker.h"

struct conn_table *fw_conn;
static struct fw_ctx *live; /* every context some snapshot holds */
static uint32_t ctx_serial; /* rte_acl contexts need unique names */

/* ---- contexts ---- */

static void ctx_free(struct fw_ctx *c)
{
	if (c->acl)
		rte_acl_free(c->acl);
	rte_free(c->cnt);
	rte_free(c->action);
	rte_free(c->base);
	rte_free(c);
}

static void ctx_put(struct fw_ctx *c)
{
	if (--c->refs)
		return;
	for (struct fw_ctx **p = &live; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	ctx_free(c);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * UINT64_C(0x100000001b3);
	return h;
}

/* The rules a context of set s in direction d holds: the baseline's first. */
static void ctx_rules(const struct tessd_cfg *cfg, const struct tessd_fw_ruleset *s, uint8_t d,
		      const struct tessd_fw_rule **base, uint32_t *n_base)
{
	*base = d == FW_IN ? cfg->firewall.baseline.in : cfg->firewall.baseline.out;
	*n_base = d == FW_IN ? cfg->firewall.baseline.n_in : cfg->firewall.baseline.n_out;
	(void)s;
}

/* What a context is made of: its rules (decoded, zero-padded), default, interfaces' ids. */
static uint64_t ctx_sig(const struct tessd_cfg *cfg, const struct tessd_fw_ruleset *s, uint8_t d)
{
	const struct tessd_fw_rule *base;
	uint32_t nb;
	uint8_t dflt = d == FW_IN ? s->default_in : s->default_out;
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	ctx_rules(cfg, s, d, &base, &nb);
	h = fnv(h, &nb, sizeof(nb));
	h = fnv(h, base, nb * sizeof(*base));
	h = fnv(h, &s->n_rules, sizeof(s->n_rules));
	h = fnv(h, s->rules, s->n_rules * sizeof(*s->rules));
	h = fnv(h, &dflt, sizeof(dflt));
	for (uint32_t i = 0; i < nb + s->n_rules; i++) {
		const struct tessd_fw_rule *r = i < nb ? &base[i] : &s->rules[i - nb];
		uint16_t id = r->interface[0] ? l3_hook_iface(r->interface) : 0;
		h = fnv(h, &id, sizeof(id));
	}
	return h;
}

static size_t heap_used(void)
{
	struct rte_malloc_socket_stats st;
	size_t n = 0;

	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats(s, &st) == 0)
			n += st.heap_allocsz_bytes;
	return n;
}

static int ctx_acl(struct fw_ctx *c, const struct tessd_cfg *cfg, const struct tessd_fw_ruleset *s)
{
	const struct tessd_fw_rule *base;
	struct fw_acl_rule *rules;
	char name[RTE_ACL_NAMESIZE];
	uint32_t nb, n;
	uint64_t t0;
	size_t mem0;

	ctx_rules(cfg, s, c->dir, &base, &nb);
	n = nb + s->n_rules;
	c->n_rules = n;
	c->n_base = nb;
	c->action = rte_zmalloc("tess_fw_action", n ? n : 1, 0);
	if (c->action == NULL)
		return -ENOMEM;
	if (n == 0)
		return 0;
	rules = rte_malloc("tess_fw_rules", n * sizeof(*rules), 0);
	if (rules == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct tessd_fw_rule *r = i < nb ? &base[i] : &s->rules[i - nb];
		struct tessd_fw_match m;
		tessd_fw_match(r, &m);
		fw_rule_to_acl(&m, r->interface[0] ? l3_hook_iface(r->interface) : 0, i, n,
			       &rules[i]);
		c->action[i] = r->action;
	}
	snprintf(name, sizeof(name), "tess_fw%u", ctx_serial++);
	mem0 = heap_used();
	t0 = rte_rdtsc();
	c->acl = fw_acl_build(name, rules, n, SOCKET_ID_ANY);
	c->build_us = (rte_rdtsc() - t0) * 1000000 / rte_get_tsc_hz();
	/* rte_acl tells no size: what its build took from the heap (the control thread's only). */
	c->mem = heap_used() - mem0;
	rte_free(rules);
	return c->acl ? 0 : -rte_errno;
}

/* A new context of set s in direction d; NULL with *rc. */
static struct fw_ctx *ctx_new(const struct tessd_cfg *cfg, const struct tessd_fw_ruleset *s,
			      uint8_t d, uint64_t sig, int *rc)
{
	struct fw_ctx *c = rte_zmalloc("tess_fw_ctx", sizeof(*c), RTE_CACHE_LINE_SIZE);
	unsigned workers = dp_worker_count() ? dp_worker_count() : 1;

	*rc = -ENOMEM;
	if (c == NULL)
		return NULL;
	c->dir = d;
	c->sig = sig;
	c->dflt = d == FW_IN ? s->default_in : s->default_out;
	snprintf(c->set, sizeof(c->set), "%s", s->name);
	*rc = ctx_acl(c, cfg, s);
	/* Each worker's row on cache lines of its own: no line written by two. */
	c->stride = RTE_ALIGN_CEIL(c->n_rules + FW_CNT_EXTRA,
				   RTE_CACHE_LINE_SIZE / sizeof(struct fw_cnt));
	if (*rc == 0) {
		c->cnt = rte_zmalloc("tess_fw_cnt", (size_t)workers * c->stride * sizeof(*c->cnt),
				     RTE_CACHE_LINE_SIZE);
		c->base = rte_zmalloc("tess_fw_base", c->stride * sizeof(*c->base), 0);
		if (c->cnt == NULL || c->base == NULL)
			*rc = -ENOMEM;
	}
	if (*rc < 0) {
		ctx_free(c);
		return NULL;
	}
	c->refs = 1;
	c->next = live;
	live = c;
	return c;
}

/* ---- the snapshot part ---- */

static void tables_put(struct fw_tables *t)
{
	if (t == NULL || --t->refs)
		return;
	for (uint32_t i = 0; i < t->n_ctx; i++)
		ctx_put(t->ctxs[i]);
	free(t->ctxs);
	rte_free(t);
}

static void *fw_snap_copy(void *part)
{
	struct fw_tables *t = part;

	if (t)
		t->refs++;
	return t;
}

static void fw_snap_free(void *part)
{
	tables_put(part);
}

/* The index + 1 in t of set s's context in direction d: shared, reused or built. */
static int ctx_index(struct fw_tables *t, const struct tessd_cfg *cfg,
		     const struct tessd_fw_ruleset *s, uint8_t d, struct ctl_error *err)
{
	uint64_t sig;
	struct fw_ctx *c;
	int rc;

	for (uint32_t i = 0; i < t->n_ctx; i++)
		if (t->ctxs[i]->dir == d && strcmp(t->ctxs[i]->set, s->name) == 0)
			return (int)i + 1;
	sig = ctx_sig(cfg, s, d);
	for (c = live; c; c = c->next)
		if (c->dir == d && c->sig == sig && strcmp(c->set, s->name) == 0)
			break;
	if (c) {
		c->refs++;
	} else if ((c = ctx_new(cfg, s, d, sig, &rc)) == NULL) {
		ctl_error_set(err, -rc, "", "firewall: rule set %s (%s): rte_acl: %s", s->name,
			      d == FW_IN ? "in" : "out", rte_strerror(-rc));
		return rc;
	}
	t->ctxs[t->n_ctx++] = c;
	return (int)t->n_ctx;
}

/*
 * The connection table, made at the first build with rule sets (workers
 * exist by then): its capacity is fixed until tessd restarts. Owners are
 * VRFs and groups (FW_GROUP_DOM), each limited to conn_vrf_limit entries.
 */
static int fw_conn_start(const struct tessd_fw_cfg *f, struct ctl_error *err)
{
	struct conn_params p = { .name = "fw",
				 .capacity = f->conn_capacity,
				 .workers = dp_worker_count() ? dp_worker_count() : 1,
				 .owners = FW_CONN_OWNERS,
				 .socket = SOCKET_ID_ANY };

	if (fw_conn || f->conn_capacity == 0)
		return 0;
	fw_conn = conn_create(&p);
	if (fw_conn == NULL) {
		ctl_error_set(err, ENOMEM, "/firewall/conn_capacity",
			      "no memory for a connection table of %u entries", f->conn_capacity);
		return -ENOMEM;
	}
	return 0;
}

/* Whether a router interface is group's (frames routed into it take its "out" hook). */
static bool group_has_irb(const struct tessd_cfg *cfg, const char *group)
{
	for (uint32_t i = 0; i < cfg->router.n_interfaces; i++)
		if (strcmp(cfg->router.interfaces[i].group, group) == 0)
			return true;
	return false;
}

/*
 * Each group's set: the context of its "in" direction (the baseline's "in"
 * rules, the set's, default_in), shared with interfaces attaching it "in",
 * and the group marked for the hook.
 */
static int build_groups(struct dp_snapshot *s, struct fw_tables *t, const struct tessd_cfg *cfg,
			struct ctl_error *err)
{
	const struct tessd_fw_cfg *f = &cfg->firewall;

	for (uint32_t i = 0; i < f->n_groups; i++) {
		const struct tessd_group_cfg *g = tessd_cfg_group(cfg, f->groups[i].group);
		int k;

		if (g == NULL || g->vlan == 0 || g->vlan >= RTE_DIM(t->gctx))
			continue; /* validated: not reached */
		k = ctx_index(t, cfg, tessd_cfg_fw_ruleset(cfg, f->groups[i].set), FW_IN, err);
		if (k < 0)
			return k;
		t->gctx[g->vlan] = (uint16_t)k;
		dp_hook_mark(s, &fw_group_hook, DP_HOOK_GROUP, DP_HOOK_IN, g->vlan);
		/* The router's frames into the group: their connections recorded. */
		if (group_has_irb(cfg, g->name))
			dp_hook_mark(s, &fw_group_hook, DP_HOOK_GROUP, DP_HOOK_OUT, g->vlan);
	}
	return 0;
}

static int fw_build(struct dp_snapshot *s, const struct tessd_cfg *cfg, struct ctl_error *err)
{
	const struct tessd_fw_cfg *f = &cfg->firewall;
	struct fw_tables *t;
	int rc;

	tables_put(s->part[fw_module.id]); /* the copy's reference to the old tables */
	s->part[fw_module.id] = NULL;
	if (f->n_attach == 0 && f->n_groups == 0)
		return 0;
	if (fw_conn_start(f, err) < 0)
		return -ENOMEM;
	t = rte_zmalloc("tess_fw_tables", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (t == NULL ||
	    (t->ctxs = calloc(2 * f->n_attach + f->n_groups, sizeof(*t->ctxs))) == NULL) {
		rte_free(t);
		return -ENOMEM;
	}
	t->refs = 1;
	for (uint32_t i = 0; i < f->n_attach; i++) {
		const struct tessd_fw_attach *a = &f->attach[i];
		const char *names[FW_DIRS] = { a->in, a->out };
		uint16_t ifc = l3_hook_iface(a->interface);
		for (uint8_t d = 0; d < FW_DIRS && ifc; d++) {
			int k = names[d][0] ? ctx_index(t, cfg, tessd_cfg_fw_ruleset(cfg, names[d]),
							d, err)
					    : 0;
			if (k < 0) {
				tables_put(t);
				return k;
			}
			t->ctx[d][ifc] = (uint16_t)k;
		}
	}
	rc = build_groups(s, t, cfg, err);
	if (rc < 0) {
		tables_put(t);
		return rc;
	}
	s->part[fw_module.id] = t;
	return 0;
}

int fw_mark_egress(const struct tessd_cfg *cfg, uint8_t *on, uint8_t bit)
{
	int rc;
	uint32_t *order = tessd_cfg_iface_order(cfg, &rc);

	for (uint32_t i = 0; order && i < cfg->firewall.n_attach; i++) {
		int64_t k = tessd_cfg_iface_find(cfg, order, cfg->firewall.attach[i].interface);
		if (k >= 0 && cfg->firewall.attach[i].out[0])
			on[k] |= bit;
	}
	free(order);
	return rc;
}

/*
 * A VRF's connections go with it: a VRF gone, or its id now another VRF's
 * (another tenant's, whose addresses may be the same), leaves none that a
 * later VRF of that id would take as established.
 */
static void flush_vrfs(const struct tessd_cfg *old, const struct tessd_cfg *cur)
{
	for (uint32_t i = 0; old && i < old->router.n_vrfs; i++) {
		const struct tessd_vrf_cfg *o = &old->router.vrfs[i];
		const struct tessd_vrf_cfg *n = tessd_cfg_vrf(cur, o->name);
		if (n == NULL || n->id != o->id)
			conn_flush_owner(fw_conn, o->id);
	}
}

/*
 * A group's connections go with it: a group gone, or its VLAN now another
 * group's, leaves none that a later group of that VLAN would take as its own.
 */
static void flush_groups(const struct tessd_cfg *old, const struct tessd_cfg *cur)
{
	for (uint32_t i = 0; old && i < old->sw.n_groups; i++) {
		const struct tessd_group_cfg *o = &old->sw.groups[i];
		const struct tessd_group_cfg *n = tessd_cfg_group(cur, o->name);
		if (n == NULL || n->vlan != o->vlan)
			conn_flush_owner(fw_conn, FW_GROUP_DOM(o->vlan));
	}
}

/* After a change: each VRF's and group's share of the connection table. */
static void fw_sync(const struct tessd_cfg *old, const struct tessd_cfg *cur)
{
	static uint32_t said; /* the capacity a change asked for, logged once */

	if (fw_conn == NULL)
		return;
	flush_vrfs(old, cur);
	for (uint32_t i = 0; i < cur->router.n_vrfs; i++)
		conn_owner_set(fw_conn, cur->router.vrfs[i].id, cur->firewall.conn_vrf_limit, NULL);
	flush_groups(old, cur);
	for (uint32_t i = 0; i < cur->sw.n_groups; i++)
		if (cur->sw.groups[i].vlan < 4096)
			conn_owner_set(fw_conn, FW_GROUP_DOM(cur->sw.groups[i].vlan),
				       cur->firewall.conn_vrf_limit, NULL);
	if (cur->firewall.conn_capacity != fw_conn->capacity &&
	    said != cur->firewall.conn_capacity) {
		said = cur->firewall.conn_capacity;
		DP_LOG(WARNING,
		       "firewall: conn_capacity %u takes effect at the next start (%u now)", said,
		       fw_conn->capacity);
	}
}

/* A slice of the table's expiry each tick: a full scan in capacity / 4096 ticks. */
static void fw_poll(const struct tessd_cfg *cfg, uint64_t now)
{
	(void)cfg;
	if (fw_conn)
		conn_expire(fw_conn, now, 4096);
}

static int fw_worker_init(struct dp_worker *w, int socket)
{
	w->mod[fw_module.id] = rte_zmalloc_socket("tess_fw_worker", sizeof(struct fw_worker),
						  RTE_CACHE_LINE_SIZE, socket);
	return w->mod[fw_module.id] ? 0 : -ENOMEM;
}

static void fw_worker_fini(struct dp_worker *w)
{
	rte_free(w->mod[fw_module.id]);
	w->mod[fw_module.id] = NULL;
}

static void fw_fini(void)
{
	if (fw_conn) {
		conn_destroy(fw_conn);
		fw_conn = NULL;
	}
	/* Snapshots are gone: what is left had no holder. */
	while (live) {
		struct fw_ctx *c = live;
		live = c->next;
		ctx_free(c);
	}
}

/* ---- answers to rejected packets ---- */

/* A TCP reset for segment m (RFC 793 3.4: its ack if it had one, else seq + length). */
static struct rte_mbuf *tcp_reset(const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *oip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint32_t hlen = (oip->version_ihl & 0xf) * 4u, tot = rte_be_to_cpu_16(oip->total_length);
	const struct rte_tcp_hdr *ot = (const struct rte_tcp_hdr *)((const uint8_t *)oip + hlen);
	struct rte_mbuf *r;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint32_t seg;
	char *p;

	if (m->data_len < RTE_ETHER_HDR_LEN + hlen + sizeof(*ot) || tot < hlen + sizeof(*ot) ||
	    (ot->tcp_flags & RTE_TCP_RST_FLAG) ||
	    (oip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)))
		return NULL; /* never a reset for a reset, nor for what we cannot read */
	r = l3_hook_alloc();
	p = r ? rte_pktmbuf_append(r, RTE_ETHER_HDR_LEN + sizeof(*ip) + sizeof(*th)) : NULL;
	if (p == NULL) {
		rte_pktmbuf_free(r);
		return NULL;
	}
	memset(p, 0, RTE_ETHER_HDR_LEN);
	((struct rte_ether_hdr *)p)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	th = (struct rte_tcp_hdr *)(ip + 1);
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*th)),
		.time_to_live = 64,
		.next_proto_id = IPPROTO_TCP,
		.src_addr = oip->dst_addr,
		.dst_addr = oip->src_addr,
	};
	memset(th, 0, sizeof(*th));
	th->src_port = ot->dst_port;
	th->dst_port = ot->src_port;
	th->data_off = (sizeof(*th) / 4) << 4;
	if (ot->tcp_flags & RTE_TCP_ACK_FLAG) {
		th->sent_seq = ot->recv_ack;
		th->tcp_flags = RTE_TCP_RST_FLAG;
	} else {
		seg = tot - hlen - ((ot->data_off >> 4) * 4u) +
		      !!(ot->tcp_flags & RTE_TCP_SYN_FLAG) + !!(ot->tcp_flags & RTE_TCP_FIN_FLAG);
		th->recv_ack = rte_cpu_to_be_32(rte_be_to_cpu_32(ot->sent_seq) + seg);
		th->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	ip4_set_cksum(ip);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	return r;
}

/* A rejected packet (punted by a worker): a TCP reset, else ICMP port or admin unreachable. */
void fw_punted(struct rte_mbuf *m, uint16_t iface, uint16_t vrf)
{
	const struct rte_ipv4_hdr *ip = ip4_hdr(m);
	struct rte_mbuf *r;

	if (ip->next_proto_id == IPPROTO_TCP) {
		r = tcp_reset(m);
		rte_pktmbuf_free(m);
		if (r && l3_hook_originate(r, vrf))
			fw_resets_sent++;
		return;
	}
	l3_hook_icmp_error(m, iface, vrf, IP4_ICMP_UNREACH,
			   ip->next_proto_id == IPPROTO_UDP ? IP4_UNREACH_PORT : IP4_UNREACH_ADMIN);
}

static const char *const fw_depends[] = { "router", NULL };

struct tess_module fw_module = {
	.name = "firewall",
	.depends = fw_depends,
	.validate = tessd_fw_validate,
	.fini = fw_fini,
	.worker_init = fw_worker_init,
	.worker_fini = fw_worker_fini,
	.sync = fw_sync,
	.poll = fw_poll,
	.snap_copy = fw_snap_copy,
	.snap_free = fw_snap_free,
	.build = fw_build,
	.stats_reset = fw_stats_reset,
	.stats_json = fw_stats_json,
	.methods = fw_methods,
};
TESS_MODULE_REGISTER(fw_module)
