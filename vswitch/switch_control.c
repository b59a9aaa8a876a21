/* SPDX-License-Identifier: BSD-3-Clause */
#include "switch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ring_elem.h>

#include <rte_malloc.h>

#include "event.h"
#include "kick.h"
#include "log.h"
#include "stats.h"
#include "switch_datapath.h"
#include "tessd.h"
#include "worker.h"

#define LEARN_BATCH 256

struct fdb vsw_fdb;
struct vsw_port_state vsw_port_state[DP_MAX_PORTS];

static uint32_t port_limit[DP_MAX_PORTS];
static bool port_trunk[DP_MAX_PORTS]; /* its MAC limit counted per group */
static uint32_t vlan_limit[DP_VLANS];
static uint64_t last_age;
static vsw_counters_t grp_base[DP_VLANS];

static int vsw_init(const struct tessd_cfg *cfg)
{
	return fdb_init(&vsw_fdb, cfg->sw.fdb_size, (int)rte_socket_id());
}

static void vsw_fini(void)
{
	if (vsw_fdb.t.elts)
		fdb_fini(&vsw_fdb);
}

static int vsw_worker_init(struct dp_worker *w, int socket)
{
	char name[RTE_RING_NAMESIZE];
	struct vsw_worker *vw;

	vw = rte_zmalloc_socket("tess_vsw_worker", sizeof(*vw), RTE_CACHE_LINE_SIZE, socket);
	if (vw == NULL)
		return -ENOMEM;
	w->mod[vsw_module.id] = vw;
	vw->grp = rte_zmalloc_socket("tess_group_counters", sizeof(*vw->grp) * DP_VLANS,
				     RTE_CACHE_LINE_SIZE, socket);
	snprintf(name, sizeof(name), "tess_learn%u", w->idx);
	vw->learn = rte_ring_create_elem(name, sizeof(struct vsw_learn_event), VSW_LEARN_RING,
					 socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	return vw->grp && vw->learn ? 0 : -ENOMEM;
}

static void vsw_worker_fini(struct dp_worker *w)
{
	struct vsw_worker *vw = w->mod[vsw_module.id];

	if (vw == NULL)
		return;
	rte_ring_free(vw->learn);
	rte_free(vw->grp);
	rte_free(vw);
	w->mod[vsw_module.id] = NULL;
}

/* Each worker's learn counters at the last reset: reported values are "now - base". */
static struct {
	uint64_t lost, limited;
} learn_base[DP_MAX_WORKERS];

static void vsw_worker_json(unsigned idx, json_t *o)
{
	const struct vsw_worker *vw = dp_worker_get(idx)->mod[vsw_module.id];

	json_object_set_new(
		o, "learn_lost",
		json_integer((json_int_t)(dp_cnt_read(&vw->learn_lost) - learn_base[idx].lost)));
	json_object_set_new(o, "learn_limited",
			    json_integer((json_int_t)(dp_cnt_read(&vw->learn_limited) -
						      learn_base[idx].limited)));
}

static void build_access(struct vsw_port *pf, const struct tessd_cfg *cfg,
			 const struct tessd_port_cfg *pc, const struct dp_port *p)
{
	const struct tessd_group_cfg *g = tessd_cfg_group(cfg, pc->group);

	pf->mode = VSW_PORT_ACCESS;
	pf->vlan = g->vlan;
	/* The group's guard, copied: a port has one group, and its check needs no group line. */
	pf->ipv4_only = g->ipv4_only;
	pf->dhcp_guard = g->dhcp_guard;
	pf->n_protected = (uint8_t)g->n_protected_ips;
	for (uint32_t i = 0; i < g->n_protected_ips; i++)
		pf->protected_ips[i] = rte_cpu_to_be_32(g->protected_ips[i]);
	pf->group_guard = pf->ipv4_only || pf->dhcp_guard || pf->n_protected;
	pf->anti_spoof = tessd_port_anti_spoof(pc);
	pf->n_macs = (uint8_t)pc->n_allowed_macs;
	for (uint32_t i = 0; i < pc->n_allowed_macs; i++)
		memcpy(pf->macs[i].addr_bytes, pc->allowed_macs[i].b, RTE_ETHER_ADDR_LEN);
	pf->n_ips = (uint8_t)pc->n_allowed_ips;
	for (uint32_t i = 0; i < pc->n_allowed_ips; i++)
		pf->ips[i] = rte_cpu_to_be_32(pc->allowed_ips[i]);
	/* Each RX queue gets its share of the limit (workers keep a bucket per queue). */
	pf->storm_pps = pc->storm_pps ? (pc->storm_pps + p->n_rxq - 1) / p->n_rxq : 0;
}

/* The switch part of a snapshot (ports' VLAN rules, groups' members) from cfg, afresh. */
static int vsw_build(struct dp_snapshot *s, const struct tessd_cfg *cfg, struct ctl_error *err)
{
	struct vsw_part *vp = s->part[vsw_module.id];

	(void)err;
	for (uint32_t i = 0; i < cfg->sw.n_groups; i++) {
		const struct tessd_group_cfg *g = &cfg->sw.groups[i];
		vp->group[g->vlan].flags = VSW_GROUP_ON |
					   (g->flood_unknown_unicast ? VSW_GROUP_FLOOD_UU : 0) |
					   (g->flood_multicast ? VSW_GROUP_FLOOD_MC : 0);
	}
	for (uint32_t i = 0; i < cfg->n_ports; i++) {
		const struct tessd_port_cfg *pc = &cfg->ports[i];
		struct dp_port *p = dp_port_by_name(pc->name);
		struct vsw_port *pf;

		if (p == NULL || p->draining || pc->mode == TESS_PORT_NONE)
			continue;
		pf = &vp->port[p->id];
		s->port[p->id].stage = vsw_stage.id;
		if (pc->mode == TESS_PORT_ACCESS) {
			build_access(pf, cfg, pc, p);
			vsw_group_add(&vp->group[pf->vlan], VSW_ACCESS, p->id);
			continue;
		}
		pf->mode = VSW_PORT_TRUNK;
		if (pc->native_group[0]) {
			pf->vlan = tessd_cfg_group(cfg, pc->native_group)->vlan;
			vsw_group_add(&vp->group[pf->vlan], VSW_NATIVE, p->id);
		}
		for (uint32_t k = 0; k < cfg->sw.n_groups; k++) {
			const struct tessd_group_cfg *g = &cfg->sw.groups[k];
			if (tessd_port_in_group(pc, g)) {
				dp_bit_set(pf->vlans, g->vlan);
				vsw_group_add(&vp->group[g->vlan], VSW_TRUNK, p->id);
			}
		}
	}
	return 0;
}

void vsw_group_set_irb(struct dp_snapshot *s, uint16_t vlan, uint16_t arg,
		       const struct rte_ether_addr *mac, const uint16_t *udp, unsigned n_udp)
{
	struct vsw_group *g = &((struct vsw_part *)s->part[vsw_module.id])->group[vlan];

	g->irb_arg = arg;
	rte_ether_addr_copy(mac, &g->irb_mac);
	g->n_irb_udp = 0;
	for (unsigned i = 0; i < n_udp && g->n_irb_udp < VSW_IRB_UDP_MAX; i++) {
		rte_be16_t p = rte_cpu_to_be_16(udp[i]);
		unsigned k = 0;

		while (k < g->n_irb_udp && g->irb_udp[k] != p)
			k++;
		if (k == g->n_irb_udp)
			g->irb_udp[g->n_irb_udp++] = p;
	}
}

static const struct vsw_group *group_now(uint16_t vlan)
{
	return &((const struct vsw_part *)dp_snap->part[vsw_module.id])->group[vlan];
}

/* Whether a port's switching rules differ, so that its anti-spoof lock must go. */
static bool rules_changed(const struct tessd_port_cfg *a, const struct tessd_port_cfg *b)
{
	json_t *ja = cfg_encode(&tessd_port_schema, a), *jb = cfg_encode(&tessd_port_schema, b);
	bool diff;

	/* Limits do not touch what a port may send as. */
	json_object_del(ja, "mac_limit");
	json_object_del(jb, "mac_limit");
	json_object_del(ja, "storm_pps");
	json_object_del(jb, "storm_pps");
	diff = !json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	return diff;
}

/* The static MACs of a config, sorted, for the FDB reconcile. */
struct static_mac {
	uint64_t key;
	uint16_t port;
};

static int cmp_static(const void *a, const void *b)
{
	const struct static_mac *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

struct statics {
	struct static_mac *v;
	size_t n;
};

static int statics_of(const struct tessd_cfg *cfg, struct statics *st)
{
	size_t cap = 0;

	for (uint32_t i = 0; i < cfg->sw.n_groups; i++)
		cap += cfg->sw.groups[i].n_static_macs;
	st->n = 0;
	st->v = NULL;
	if (cap == 0)
		return 0; /* qsort and bsearch take no NULL array, even an empty one */
	st->v = malloc(cap * sizeof(*st->v));
	if (st->v == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < cfg->sw.n_groups; i++) {
		const struct tessd_group_cfg *g = &cfg->sw.groups[i];
		for (uint32_t k = 0; k < g->n_static_macs; k++) {
			const struct dp_port *p = dp_port_by_name(g->static_macs[k].port);
			struct rte_ether_addr a;
			if (p == NULL || p->draining)
				continue;
			memcpy(a.addr_bytes, g->static_macs[k].mac.b, RTE_ETHER_ADDR_LEN);
			st->v[st->n++] = (struct static_mac){ fdb_key(g->vlan, &a), p->id };
		}
	}
	qsort(st->v, st->n, sizeof(*st->v), cmp_static);
	return 0;
}

/* An entry to drop: its port left its group, its group is gone, or it is an unlisted static. */
static bool stale(const struct fdb_entry *e, void *arg)
{
	const struct statics *st = arg;
	const struct vsw_group *g = group_now(fdb_entry_vlan(e));
	struct static_mac want = { fdb_entry_key(e), e->port };
	const struct static_mac *found;

	if (!(g->flags & VSW_GROUP_ON) || !vsw_member(g, e->port))
		return true;
	if (!(e->flags & FDB_F_STATIC))
		return false;
	if (st->n == 0)
		return true;
	found = bsearch(&want, st->v, st->n, sizeof(want), cmp_static);
	return found == NULL || found->port != e->port;
}

/* The group of a VLAN (for a log line's fields), or NULL. */
static const struct tessd_group_cfg *group_of_vlan(const struct tessd_cfg *cfg, uint16_t vlan)
{
	for (uint32_t i = 0; i < cfg->sw.n_groups; i++)
		if (cfg->sw.groups[i].vlan == vlan)
			return &cfg->sw.groups[i];
	return NULL;
}

static void vsw_sync(const struct tessd_cfg *old, const struct tessd_cfg *cur)
{
	struct statics st;
	uint64_t now = rte_rdtsc();

	if (statics_of(cur, &st) < 0) {
		DP_LOG(ERR, "out of memory: FDB not reconciled with the config");
		return;
	}
	fdb_prune(&vsw_fdb, stale, &st);
	for (size_t i = 0; i < st.n; i++)
		if (fdb_add_static(&vsw_fdb, st.v[i].key, st.v[i].port, now) < 0) {
			const struct tessd_group_cfg *g =
				group_of_vlan(cur, fdb_key_vlan(st.v[i].key));
			DP_LOG_F(ERR,
				 TLOG_F(.group = g ? g->name : NULL,
					.tenant_name = g && g->tenant[0] ? g->tenant : NULL),
				 "FDB full: a static MAC of VLAN %u not installed",
				 fdb_key_vlan(st.v[i].key));
		}
	free(st.v);

	memset(vlan_limit, 0, sizeof(vlan_limit));
	for (uint32_t i = 0; i < cur->sw.n_groups; i++)
		vlan_limit[cur->sw.groups[i].vlan] = cur->sw.groups[i].mac_limit
							     ? cur->sw.groups[i].mac_limit
							     : cur->sw.fdb_size / VSW_GROUP_SHARE;
	memset(port_limit, 0, sizeof(port_limit));
	memset(port_trunk, 0, sizeof(port_trunk));
	for (uint32_t i = 0; i < cur->n_ports; i++) {
		const struct tessd_port_cfg *pc = &cur->ports[i];
		const struct tessd_port_cfg *was = old ? tessd_cfg_port(old, pc->name) : NULL;
		const struct dp_port *p = dp_port_by_name(pc->name);

		if (p == NULL)
			continue;
		port_limit[p->id] =
			pc->mac_limit ? pc->mac_limit : cur->sw.fdb_size / VSW_PORT_SHARE;
		port_trunk[p->id] = pc->mode == TESS_PORT_TRUNK;
		if (was && rules_changed(was, pc))
			__atomic_store_n(&vsw_port_state[p->id].locked_mac, 0, __ATOMIC_RELEASE);
		/* A trunk's limit is each group's: one tenant's MACs leave the others room. */
		if (fdb_port_per_group(&vsw_fdb, p->id, port_trunk[p->id]) < 0)
			DP_LOG(ERR,
			       "out of memory: the MAC limit of trunk %s counts its groups "
			       "together",
			       pc->name);
	}
	for (uint16_t id = 0; id < DP_MAX_PORTS; id++)
		if (!port_trunk[id])
			fdb_port_per_group(&vsw_fdb, id, false);
}

const char *vsw_group_name(uint16_t vlan)
{
	for (uint32_t i = 0; i < tessd.cfg.sw.n_groups; i++)
		if (tessd.cfg.sw.groups[i].vlan == vlan)
			return tessd.cfg.sw.groups[i].name;
	return "?";
}

/* fdb.learn, fdb.move: for tessctl monitor (a refresh is no event). */
static void learn_event(const struct vsw_learn_event *ev, uint16_t vlan, uint16_t from)
{
	const struct rte_ether_addr mac = fdb_key_mac(ev->key);
	char text[RTE_ETHER_ADDR_FMT_SIZE];
	const struct dp_port *p = dp_port_by_id(ev->port), *f = NULL;
	json_t *o;

	rte_ether_format_addr(text, sizeof(text), &mac);
	o = json_pack("{s:s, s:s, s:i, s:s}", "mac", text, "group", vsw_group_name(vlan), "vlan",
		      vlan, "port", p ? p->cfg.name : "?");
	if (from != UINT16_MAX && (f = dp_port_by_id(from)) != NULL)
		json_object_set_new(o, "from_port", json_string(f->cfg.name));
	tess_event_emit(from != UINT16_MAX ? "fdb.move" : "fdb.learn", o);
}

static void learn(const struct vsw_learn_event *ev, uint64_t now)
{
	uint16_t vlan = fdb_key_vlan(ev->key);
	const struct vsw_group *g = group_now(vlan);

	/* The port may have left the group since the worker saw the frame. */
	if (ev->port >= DP_MAX_PORTS || !(g->flags & VSW_GROUP_ON) || !vsw_member(g, ev->port))
		return;
	const struct fdb_entry *e = fdb_find(&vsw_fdb, ev->key);
	uint16_t was = e ? e->port : UINT16_MAX;
	enum fdb_learn_result r =
		fdb_learn(&vsw_fdb, ev->key, ev->port, now, port_limit[ev->port], vlan_limit[vlan]);

	if ((r == FDB_LEARNED || r == FDB_MOVED) && tess_event_wanted())
		learn_event(ev, vlan, r == FDB_MOVED ? was : UINT16_MAX);
}

/* The workers' learn events; whether some are left (a full ring's worth was taken). */
static bool drain_learns(uint64_t now)
{
	struct vsw_learn_event ev[LEARN_BATCH];
	bool more = false;

	for (unsigned w = 0; w < dp_worker_count(); w++) {
		const struct vsw_worker *vw = dp_worker_get(w)->mod[vsw_module.id];
		struct rte_ring *r = vw->learn;
		unsigned n = 0;

		/* At most one ring's worth per call: the control loop must come back. */
		for (unsigned done = 0; done < VSW_LEARN_RING; done += n) {
			n = rte_ring_sc_dequeue_burst_elem(r, ev, sizeof(ev[0]), LEARN_BATCH, NULL);
			for (unsigned i = 0; i < n; i++)
				learn(&ev[i], now);
			if (n < LEARN_BATCH)
				break;
		}
		more |= n == LEARN_BATCH;
	}
	return more;
}

/* A worker queued learn events (kick.h): learnt now. */
static void vsw_kick(void)
{
	if (drain_learns(rte_rdtsc()))
		dp_kick_control();
}

static void vsw_poll(const struct tessd_cfg *cfg, uint64_t now)
{
	drain_learns(now);
	if (cfg->sw.aging_sec && now - last_age > dp_tsc_hz) {
		last_age = now;
		fdb_age(&vsw_fdb, now, (uint64_t)cfg->sw.aging_sec * dp_tsc_hz);
	}
}

static const void *group_of(unsigned w, unsigned vlan)
{
	const struct vsw_worker *vw = dp_worker_get(w)->mod[vsw_module.id];

	return &vw->grp[vlan];
}

static void sum_group(uint16_t vlan, vsw_counters_t *out)
{
	dp_cnt_sum(out, sizeof(*out), group_of, vlan);
}

void vsw_group_rebase(uint16_t vlan)
{
	sum_group(vlan, &grp_base[vlan]);
	vsw_fdb.learned_vlan[vlan] = 0;
	vsw_fdb.refused_vlan_count[vlan] = 0;
}

static void vsw_port_reset(uint16_t port)
{
	vsw_fdb.learned_port[port] = 0;
	vsw_fdb.refused_port_count[port] = 0;
	__atomic_store_n(&vsw_port_state[port].locked_mac, 0, __ATOMIC_RELEASE);
}

static void vsw_stats_reset(void)
{
	for (unsigned v = 0; v < DP_VLANS; v++)
		vsw_group_rebase((uint16_t)v);
	for (unsigned w = 0; w < dp_worker_count(); w++) {
		const struct vsw_worker *vw = dp_worker_get(w)->mod[vsw_module.id];
		learn_base[w].lost = dp_cnt_read(&vw->learn_lost);
		learn_base[w].limited = dp_cnt_read(&vw->learn_limited);
	}
}

static void vsw_stats_json(json_t *stats, const struct tessd_cfg *cfg, const char *vrf)
{
	json_t *a = json_array();

	(void)vrf;
	for (uint32_t i = 0; i < cfg->sw.n_groups; i++) {
		const struct tessd_group_cfg *g = &cfg->sw.groups[i];
		json_t *o = json_object(), *drops;
		vsw_counters_t c;
		uint64_t total = 0;

		sum_group(g->vlan, &c);
		dp_cnt_sub(&c, &grp_base[g->vlan], sizeof(c));
		drops = dp_drops_json(c.drop, VSW_DROP_MAX, &vsw_drops, &total);
		json_object_set_new(o, "name", json_string(g->name));
		json_object_set_new(o, "tenant", json_string(g->tenant));
		json_object_set_new(o, "vlan", json_integer(g->vlan));
		json_object_set_new(o, "rx_packets", json_integer((json_int_t)c.rx_pkts));
		json_object_set_new(o, "rx_bytes", json_integer((json_int_t)c.rx_bytes));
		json_object_set_new(o, "tx_packets", json_integer((json_int_t)c.tx_pkts));
		json_object_set_new(o, "tx_bytes", json_integer((json_int_t)c.tx_bytes));
		json_object_set_new(o, "flooded", json_integer((json_int_t)c.flooded));
		json_object_set_new(o, "drops_total", json_integer((json_int_t)total));
		json_object_set_new(o, "drops", drops);
		json_object_set_new(o, "fdb_learned", json_integer(vsw_fdb.per_vlan[g->vlan]));
		json_object_set_new(o, "learned", json_integer(vsw_fdb.learned_vlan[g->vlan]));
		json_object_set_new(o, "learn_refused",
				    json_integer(vsw_fdb.refused_vlan_count[g->vlan]));
		json_array_append_new(a, o);
	}
	json_object_set_new(stats, "groups", a);
}

static void vsw_port_json(const struct dp_port *p, const struct tessd_cfg *cfg, json_t *o)
{
	const struct tessd_port_cfg *pc = tessd_cfg_port(cfg, p->cfg.name);
	json_t *groups = json_array();
	uint64_t lock = __atomic_load_n(&vsw_port_state[p->id].locked_mac, __ATOMIC_ACQUIRE);

	if (pc == NULL) {
		json_decref(groups);
		return;
	}
	json_object_set_new(o, "mode", json_string(tess_port_modes[pc->mode]));
	for (uint32_t i = 0; i < cfg->sw.n_groups; i++)
		if (tessd_port_in_group(pc, &cfg->sw.groups[i]))
			json_array_append_new(groups, json_string(cfg->sw.groups[i].name));
	json_object_set_new(o, "groups", groups);
	json_object_set_new(o, "anti_spoof", json_boolean(tessd_port_anti_spoof(pc)));
	if (pc->mode == TESS_PORT_NONE)
		return;

	json_object_set_new(o, "fdb_learned", json_integer(vsw_fdb.per_port[p->id]));
	json_object_set_new(o, "learned", json_integer(vsw_fdb.learned_port[p->id]));
	json_object_set_new(o, "learn_refused", json_integer(vsw_fdb.refused_port_count[p->id]));
	if (lock) {
		struct rte_ether_addr a;
		char mac[RTE_ETHER_ADDR_FMT_SIZE];
		memcpy(a.addr_bytes, &lock, RTE_ETHER_ADDR_LEN);
		rte_ether_format_addr(mac, sizeof(mac), &a);
		json_object_set_new(o, "locked_mac", json_string(mac));
	}
}

static int vsw_port_in_use(const struct tessd_cfg *cfg, const char *name, struct ctl_error *err)
{
	for (uint32_t i = 0; i < cfg->sw.n_groups; i++) {
		const struct tessd_group_cfg *g = &cfg->sw.groups[i];
		for (uint32_t k = 0; k < g->n_static_macs; k++) {
			if (strcmp(g->static_macs[k].port, name) == 0) {
				char mac[CFG_MAC_STRLEN];
				ctl_error_set(
					err, EBUSY, "/params/name",
					"port '%s' holds static MAC %s of group %s: remove it "
					"first",
					name, cfg_fmt_mac(&g->static_macs[k].mac, mac, sizeof(mac)),
					g->name);
				return -EBUSY;
			}
		}
	}
	return 0;
}

struct tess_module vsw_module = {
	.name = "vswitch",
	.init = vsw_init,
	.fini = vsw_fini,
	.worker_init = vsw_worker_init,
	.worker_fini = vsw_worker_fini,
	.validate = vsw_validate,
	.part_size = sizeof(struct vsw_part),
	.build = vsw_build,
	.sync = vsw_sync,
	.poll = vsw_poll,
	.kick = vsw_kick,
	.stats_reset = vsw_stats_reset,
	.stats_json = vsw_stats_json,
	.worker_json = vsw_worker_json,
	.port_reset = vsw_port_reset,
	.port_json = vsw_port_json,
	.port_in_use = vsw_port_in_use,
	.methods = vsw_methods,
};
TESS_MODULE_REGISTER(vsw_module)
