/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's control thread: tables, stable interface ids, the interface
 * table of each snapshot, and keeping VRFs, routes and neighbours equal to
 * the running config.
 */
#include "router.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "kernel.h"
#include "log.h"
#include "port.h"
#include "rcu.h"
#include "router_datapath.h"
#include "router_int.h"
#include "stats.h"
#include "switch.h"
#include "worker.h"

#define PUNT_BATCH 256 /* punted packets taken from each worker per tick */

struct fib l3_fib;
struct nh_table l3_nh;
struct neigh_table l3_neigh;
int l3_meta_offset = -1;

struct rt_vrf *rt_vrfs;
struct l3_vrf_punt l3_vrf_punt[FIB_MAX_VRFS];
struct rt_iface *rt_ifs;
struct rte_mempool *rt_pool;

int l3_meta_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "tess_l3_meta",
		.size = sizeof(struct l3_meta),
		.align = __alignof__(struct l3_meta),
	};

	if (l3_meta_offset < 0)
		l3_meta_offset = rte_mbuf_dynfield_register(&desc);
	return l3_meta_offset < 0 ? -rte_errno : 0;
}

static int router_init(const struct tessd_cfg *cfg)
{
	int socket = (int)rte_socket_id(), rc;

	/* Routed ports and the router interfaces of groups feed arc "ip4". */
	l3_ip4_arc = dp_arc_first("ip4");
	vsw_irb_stage = l3_irb_stage.id;
	rt_vrfs = calloc(FIB_MAX_VRFS, sizeof(*rt_vrfs));
	rt_ifs = calloc(L3_MAX_IFACES, sizeof(*rt_ifs));
	if (rt_vrfs == NULL || rt_ifs == NULL)
		return -ENOMEM;
	rc = l3_meta_register();
	if (rc == 0)
		rc = fib_init(&l3_fib, socket);
	if (rc == 0)
		rc = nh_init(&l3_nh, socket);
	if (rc == 0)
		rc = neigh_init(&l3_neigh, cfg->router.neigh_capacity, NH_MAX_GROUPS, socket);
	return rc;
}

static void router_fini(void)
{
	kern_fini();
	rt_route_index_free();
	if (l3_neigh.t.elts)
		neigh_fini(&l3_neigh);
	if (l3_nh.g)
		nh_fini(&l3_nh);
	if (l3_fib.n_chunks)
		fib_fini(&l3_fib);
	free(rt_vrfs);
	free(rt_ifs);
	rt_vrfs = NULL;
	rt_ifs = NULL;
}

/* ---- ids ---- */

uint16_t rt_iface_id(const char *name)
{
	for (uint16_t i = 1; i < L3_MAX_IFACES; i++)
		if (rt_ifs[i].state == RT_IF_USED && strcmp(rt_ifs[i].name, name) == 0)
			return i;
	return 0;
}

uint16_t rt_vrf_id(const struct tessd_cfg *cfg, const char *name)
{
	const struct tessd_vrf_cfg *v = tessd_cfg_vrf(cfg, name);

	return v ? v->id : 0;
}

static void iface_rebase(uint16_t id);

int rt_index(struct tessd_router_index *ix, const struct tessd_cfg *cfg)
{
	int rc = tessd_router_index_init(ix, cfg);

	if (rc < 0)
		return rc;
	ix->ids = calloc(cfg->router.n_interfaces + 1, sizeof(*ix->ids));
	if (ix->ids == NULL) {
		tessd_router_index_fini(ix);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cfg->router.n_interfaces; i++)
		ix->ids[i] = rt_iface_id(cfg->router.interfaces[i].name);
	return 0;
}

void rt_index_free(struct tessd_router_index *ix)
{
	free(ix->ids);
	tessd_router_index_fini(ix);
}

/* The id of interface name, a fresh one if new; 0 when all are taken. */
static uint16_t iface_alloc(const char *name)
{
	uint16_t id = rt_iface_id(name);

	if (id)
		return id;
	for (uint16_t i = 1; i < L3_MAX_IFACES; i++) {
		if (rt_ifs[i].state == RT_IF_FREE) {
			memset(&rt_ifs[i], 0, sizeof(rt_ifs[i]));
			rt_ifs[i].state = RT_IF_USED;
			rt_ifs[i].fresh = true;
			snprintf(rt_ifs[i].name, sizeof(rt_ifs[i].name), "%s", name);
			iface_rebase(i);
			return i;
		}
	}
	return 0;
}

static void iface_release(void *arg)
{
	rt_ifs[(uintptr_t)arg].state = RT_IF_FREE;
}

uint16_t rt_own_iface(uint16_t vrf, uint32_t ip)
{
	uint32_t v = fib_get(&l3_fib, vrf, ip, 32);
	const struct nh_group *g = v ? nh_group(&l3_nh, v) : NULL;

	return g && g->type == NH_LOCAL && g->origin == NH_ORIGIN_LOCAL ? g->path[0].iface : 0;
}

bool rt_on_subnet(uint16_t iface, uint32_t ip, uint32_t *addr)
{
	const struct rt_iface *r = &rt_ifs[iface];

	for (uint8_t a = 0; iface && a < r->n_addr; a++) {
		if ((ip & rt_mask(r->len[a])) == (r->addr[a] & rt_mask(r->len[a]))) {
			if (addr)
				*addr = r->addr[a];
			return true;
		}
	}
	return false;
}

uint32_t rt_src_addr(uint16_t iface, uint32_t dst)
{
	uint32_t a;

	if (rt_on_subnet(iface, dst, &a))
		return a;
	return iface && rt_ifs[iface].n_addr ? rt_ifs[iface].addr[0] : 0;
}

/* ---- the interface table of a snapshot ---- */

void router_tables_get(struct l3_tables *t)
{
	if (t)
		t->refs++;
}

void router_tables_put(struct l3_tables *t)
{
	if (t && --t->refs == 0)
		rte_free(t);
}

/* A stable locally administered MAC for a group interface: 02:7e + 32 bits of its name. */
static void derived_mac(const char *name, struct rte_ether_addr *mac)
{
	uint32_t h = 2166136261u;

	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	mac->addr_bytes[0] = 0x02;
	mac->addr_bytes[1] = 0x7e;
	memcpy(&mac->addr_bytes[2], &h, sizeof(h));
}

static void *router_snap_copy(void *part)
{
	router_tables_get(part);
	return part;
}

static void router_snap_free(void *part)
{
	router_tables_put(part);
}

/* The egress hooks of each interface (by config index), from their modules; NULL: -ENOMEM. */
static uint8_t *egress_marks(const struct tessd_cfg *cfg)
{
	uint8_t *on = calloc(cfg->router.n_interfaces, 1);

	for (unsigned k = 0; on && k < l3_n_hooks; k++)
		if (l3_hooks[k]->mark_egress &&
		    l3_hooks[k]->mark_egress(cfg, on, (uint8_t)(1u << k)) < 0) {
			free(on);
			on = NULL;
		}
	return on;
}

static int router_build(struct dp_snapshot *s, const struct tessd_cfg *cfg, struct ctl_error *err)
{
	const struct tessd_router_cfg *r = &cfg->router;
	struct l3_tables *t = NULL;
	uint8_t *svc_on = NULL; /* by config interface index */
	uint8_t *eg_on;

	router_tables_put(s->part[l3_module.id]); /* the copy's reference to the old table */
	s->part[l3_module.id] = NULL;
	/*
	 * Ids a build gave new interfaces whose commit was then refused (here or
	 * by another module's build) were never in force: free again. Kept until
	 * a commit succeeded, refused commits could take every id.
	 */
	for (uint16_t i = 1; i < L3_MAX_IFACES; i++)
		if (rt_ifs[i].state == RT_IF_USED && rt_ifs[i].fresh)
			rt_ifs[i].state = RT_IF_FREE;
	if (r->n_interfaces == 0)
		return 0;
	/* The UDP services of each interface, from their modules' config sections. */
	if (l3_n_svcs) {
		svc_on = calloc(r->n_interfaces, 1);
		for (unsigned k = 0; svc_on && k < l3_n_svcs; k++)
			if (l3_svcs[k]->mark(cfg, svc_on, (uint8_t)(1u << k)) < 0) {
				free(svc_on);
				svc_on = NULL;
			}
		if (svc_on == NULL)
			return -ENOMEM;
	}
	eg_on = egress_marks(cfg);
	t = eg_on ? rte_zmalloc("tess_l3_tables", sizeof(*t), RTE_CACHE_LINE_SIZE) : NULL;
	if (t == NULL) {
		free(svc_on);
		free(eg_on);
		return -ENOMEM;
	}
	t->refs = 1;
	unsigned n_slots = 0;
	for (uint32_t i = 0; i < r->n_interfaces; i++) {
		const struct tessd_iface_cfg *ic = &r->interfaces[i];
		uint16_t id = iface_alloc(ic->name);
		struct l3_iface *li;
		struct dp_port *p = NULL;

		if (id == 0) {
			rte_free(t);
			free(svc_on);
			free(eg_on);
			ctl_error_set(err, ENOSPC, "", "out of router interface ids");
			return -ENOSPC;
		}
		li = &t->iface[id];
		li->vrf = rt_vrf_id(cfg, ic->vrf);
		li->mtu = ic->mtu;
		if (ic->group[0]) {
			li->kind = L3_IF_GROUP;
			li->vlan = tessd_cfg_group(cfg, ic->group)->vlan;
			li->on = true;
		} else {
			p = dp_port_by_name(ic->port);
			li->kind = ic->vlan ? L3_IF_SUBIF : L3_IF_PORT;
			li->vlan = ic->vlan;
			li->on = p && !p->draining;
			li->port = p ? p->id : 0;
			if (li->on && t->port_slot[p->id] == 0) {
				if (n_slots == L3_PORT_SLOTS) {
					rte_free(t);
					free(svc_on);
					free(eg_on);
					ctl_error_set(err, ENOSPC, "",
						      "router interfaces on more than %u ports",
						      L3_PORT_SLOTS);
					return -ENOSPC;
				}
				t->port_slot[p->id] = (uint8_t)++n_slots;
			}
			if (li->on) {
				t->port_iface[t->port_slot[p->id] - 1][ic->vlan] = id;
				s->port[p->id].stage = l3_port_stage.id;
			}
		}
		if (ic->mac.b[0] | ic->mac.b[1] | ic->mac.b[2] | ic->mac.b[3] | ic->mac.b[4] |
		    ic->mac.b[5])
			memcpy(li->mac.addr_bytes, ic->mac.b, RTE_ETHER_ADDR_LEN);
		else if (p)
			rte_ether_addr_copy(&p->mac, &li->mac);
		else
			derived_mac(ic->name, &li->mac);
		li->svc = svc_on ? svc_on[i] : 0;
		li->egress = eg_on[i];
		if (li->kind == L3_IF_GROUP) {
			/* The vswitch copies the broadcasts to these ports, and only those. */
			uint16_t ports[L3_SVC_MAX];
			unsigned n = 0;

			RTE_BUILD_BUG_ON(L3_SVC_MAX > VSW_IRB_UDP_MAX);
			for (unsigned k = 0; k < l3_n_svcs; k++)
				if (li->svc & (1u << k))
					ports[n++] = l3_svcs[k]->port;
			vsw_group_set_irb(s, li->vlan, id, &li->mac, ports, n);
		}
	}
	free(svc_on);
	free(eg_on);
	s->part[l3_module.id] = t;
	return 0;
}

/* ---- keeping tables equal to the config ---- */

static uint64_t births; /* VRFs made since start (rt_vrf.born) */

/* Each VRF's interfaces and routes as indexes into cfg, grouped by VRF id (counting sort). */
struct by_vrf {
	uint32_t *start; /* [FIB_MAX_VRFS + 1] */
	uint32_t *idx;
};

static int group_by_vrf(const struct tessd_router_index *ix, uint32_t n,
			const char *(*vrf_of)(const struct tessd_cfg *, uint32_t), struct by_vrf *b)
{
	uint16_t *ids = malloc((n ? n : 1) * sizeof(*ids));
	uint32_t *pos;

	b->start = calloc(FIB_MAX_VRFS + 1, sizeof(*b->start));
	b->idx = malloc((n ? n : 1) * sizeof(*b->idx));
	pos = calloc(FIB_MAX_VRFS, sizeof(*pos));
	if (ids == NULL || b->start == NULL || b->idx == NULL || pos == NULL) {
		free(ids);
		free(pos);
		free(b->start);
		free(b->idx);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct tessd_vrf_cfg *v = tessd_ix_vrf(ix, vrf_of(ix->cfg, i));
		ids[i] = v ? v->id : 0;
		b->start[ids[i] + 1]++;
	}
	for (uint32_t v = 0; v < FIB_MAX_VRFS; v++) {
		b->start[v + 1] += b->start[v];
		pos[v] = b->start[v];
	}
	for (uint32_t i = 0; i < n; i++)
		b->idx[pos[ids[i]]++] = i;
	free(ids);
	free(pos);
	return 0;
}

static void by_vrf_free(struct by_vrf *b)
{
	free(b->start);
	free(b->idx);
}

static const char *route_vrf(const struct tessd_cfg *cfg, uint32_t i)
{
	return cfg->router.routes[i].vrf;
}

static const char *iface_vrf(const struct tessd_cfg *cfg, uint32_t i)
{
	return cfg->router.interfaces[i].vrf;
}

/* A signature of what a VRF's routes come from: its interfaces and routes. */
static uint64_t vrf_signature(const struct tessd_router_index *ix, const struct by_vrf *ifs,
			      const struct by_vrf *rts, uint16_t id)
{
	const struct tessd_cfg *cfg = ix->cfg;
	uint64_t h = RT_FNV_BASIS;

	for (uint32_t k = ifs->start[id]; k < ifs->start[id + 1]; k++) {
		const struct tessd_iface_cfg *ic = &cfg->router.interfaces[ifs->idx[k]];
		h = rt_fnv(h, ic->name, strlen(ic->name) + 1);
		for (uint32_t a = 0; a < ic->n_addresses; a++) {
			h = rt_fnv(h, &ic->addresses[a].ip, sizeof(ic->addresses[a].ip));
			h = rt_fnv(h, &ic->addresses[a].len, sizeof(ic->addresses[a].len));
		}
		h = rt_fnv(h, &ic->n_addresses, sizeof(ic->n_addresses));
	}
	for (uint32_t k = rts->start[id]; k < rts->start[id + 1]; k++) {
		const struct tessd_route_cfg *rc = &cfg->router.routes[rts->idx[k]];
		h = rt_fnv(h, &rc->prefix.ip, sizeof(rc->prefix.ip));
		h = rt_fnv(h, &rc->prefix.len, sizeof(rc->prefix.len));
		h = rt_fnv(h, &rc->type, sizeof(rc->type));
		h = rt_fnv(h, rc->target_vrf, sizeof(rc->target_vrf));
		if (rc->target_vrf[0]) {
			/* A route into a VRF whose id changed must be installed again. */
			const struct tessd_vrf_cfg *t = tessd_ix_vrf(ix, rc->target_vrf);
			uint16_t tid = t ? t->id : 0;
			h = rt_fnv(h, &tid, sizeof(tid));
		}
		h = rt_fnv(h, rc->nexthops, rc->n_nexthops * sizeof(rc->nexthops[0]));
		h = rt_fnv(h, &rc->n_nexthops, sizeof(rc->n_nexthops));
	}
	return h;
}

static void vrf_rebase(uint16_t id);

static void vrf_params(struct rt_vrf *v, const struct tessd_vrf_cfg *vc,
		       const struct tessd_vrf_limits *auto_shares)
{
	const struct tessd_vrf_limits lim = tessd_vrf_limits(auto_shares, vc);

	snprintf(v->name, sizeof(v->name), "%s", vc->name);
	snprintf(v->tenant, sizeof(v->tenant), "%s", vc->tenant);
	v->icmp_rate = vc->icmp_rate;
	__atomic_store_n(&l3_vrf_punt[vc->id].pps[L3_PC_ARP], vc->arp_pps, __ATOMIC_RELAXED);
	__atomic_store_n(&l3_vrf_punt[vc->id].pps[L3_PC_OTHER], vc->punt_pps, __ATOMIC_RELAXED);
	__atomic_store_n(&l3_vrf_punt[vc->id].pps[L3_PC_SERVICE], vc->service_pps,
			 __ATOMIC_RELAXED);
	/*
	 * Automatic shares shrink as VRFs are added: entries past a shrunk limit stay
	 * until they age out, but no new ones are learnt past it.
	 */
	v->neigh_limit = lim.neigh;
	/* Raised: kernel routes waiting for room may fit now. Lowered (an automatic share
	 * shrinks as VRFs are added): rt_vrf_fit() removes kernel routes past it. */
	v->room |= v->max_routes != vc->max_routes || v->max_groups != lim.groups ||
		   v->max_nodes != lim.nodes;
	v->max_routes = vc->max_routes;
	v->max_groups = lim.groups;
	v->max_nodes = lim.nodes;
	v->neigh_queue = vc->neigh_queue;
	v->reachable_tsc = vc->neigh_reachable_sec * dp_tsc_hz;
	v->stale_tsc = vc->neigh_stale_sec * dp_tsc_hz;
}

/* A sync ran out of memory: the next one reconciles every VRF. */
static bool resync_all;

void router_sync(const struct tessd_cfg *old, const struct tessd_cfg *cur)
{
	const struct tessd_router_cfg *r = &cur->router;
	struct by_vrf cur_ifs, cur_rts, old_ifs = { 0 }, old_rts = { 0 };
	struct tessd_router_index ix, oix;
	bool have_old;

	/* A new running config: the route index points into the old one's routes. */
	rt_route_index_reset();
	/* Its snapshot is published: the ids its build gave are in force (whatever fails below). */
	for (uint16_t i = 1; i < L3_MAX_IFACES; i++)
		rt_ifs[i].fresh = false;

	if (rt_index(&ix, cur) < 0)
		goto nomem;
	if (group_by_vrf(&ix, r->n_interfaces, iface_vrf, &cur_ifs) < 0) {
		rt_index_free(&ix);
		goto nomem;
	}
	if (group_by_vrf(&ix, r->n_routes, route_vrf, &cur_rts) < 0) {
		by_vrf_free(&cur_ifs);
		rt_index_free(&ix);
		goto nomem;
	}
	have_old = old && tessd_router_index_init(&oix, old) == 0;
	if (have_old && group_by_vrf(&oix, old->router.n_interfaces, iface_vrf, &old_ifs) < 0) {
		tessd_router_index_fini(&oix);
		have_old = false;
	}
	if (have_old && group_by_vrf(&oix, old->router.n_routes, route_vrf, &old_rts) < 0) {
		by_vrf_free(&old_ifs);
		tessd_router_index_fini(&oix);
		have_old = false;
	}

	/* VRFs that went, or changed id. */
	for (uint16_t id = 1; id < FIB_MAX_VRFS; id++) {
		const struct tessd_vrf_cfg *vc;
		if (!rt_vrfs[id].on)
			continue;
		vc = tessd_ix_vrf(&ix, rt_vrfs[id].name);
		if (vc == NULL || vc->id != id)
			rt_vrf_remove(id);
	}
	/* Interface addresses, as the slow path reads them. */
	for (uint32_t i = 0; i < r->n_interfaces; i++) {
		const struct tessd_iface_cfg *ic = &r->interfaces[i];
		struct rt_iface *ri = &rt_ifs[ix.ids[i]];
		ri->vrf = tessd_ix_vrf(&ix, ic->vrf)->id;
		ri->n_addr = (uint8_t)ic->n_addresses;
		for (uint32_t a = 0; a < ic->n_addresses; a++) {
			ri->addr[a] = ic->addresses[a].ip;
			ri->len[a] = ic->addresses[a].len;
		}
	}
	/* The automatic shares of the pools all VRFs draw on, for the VRFs whose limit is 0. */
	const struct tessd_vrf_limits auto_shares = tessd_vrf_auto_shares(r);

	for (uint32_t i = 0; i < r->n_vrfs; i++) {
		const struct tessd_vrf_cfg *vc = &r->vrfs[i];
		struct rt_vrf *v = &rt_vrfs[vc->id];
		bool dirty = !have_old;

		if (!v->on) {
			if (fib_vrf_add(&l3_fib, vc->id) < 0) {
				DP_LOG_F(ERR, DP_VRF_FIELDS(vc), "VRF %s: no memory for its FIB",
					 vc->name);
				continue;
			}
			memset(v, 0, sizeof(*v));
			v->on = true;
			v->born = ++births;
			vrf_rebase(vc->id);
			dirty = true;
		}
		vrf_params(v, vc, &auto_shares);
		/* Also when installing its routes failed last time (memory, FIB, groups). */
		dirty |= v->resync || resync_all;
		if (!dirty) {
			const struct tessd_vrf_cfg *ov = tessd_ix_vrf(&oix, vc->name);
			dirty = ov == NULL || ov->id != vc->id ||
				vrf_signature(&ix, &cur_ifs, &cur_rts, vc->id) !=
					vrf_signature(&oix, &old_ifs, &old_rts, ov->id);
		}
		if (dirty)
			rt_routes_reconcile(&ix, vc->id, cur_ifs.idx + cur_ifs.start[vc->id],
					    cur_ifs.start[vc->id + 1] - cur_ifs.start[vc->id],
					    cur_rts.idx + cur_rts.start[vc->id],
					    cur_rts.start[vc->id + 1] - cur_rts.start[vc->id]);
		/* Configured routes went in whatever kernel routes held: these make way. */
		rt_vrf_fit(vc->id);
	}
	/*
	 * Interfaces that went: their neighbours go now, their id is reused
	 * once no worker can hold it.
	 */
	for (uintptr_t i = 1; i < L3_MAX_IFACES; i++) {
		if (rt_ifs[i].state == RT_IF_USED && tessd_ix_iface(&ix, rt_ifs[i].name) == NULL) {
			rt_ifs[i].state = RT_IF_PENDING;
			dp_rcu_defer(iface_release, (void *)i);
		}
	}
	rt_neigh_sync(&ix);
	kern_sync(&ix); /* bindings and TAPs: after the interfaces' addresses are known */
	resync_all = false;
	by_vrf_free(&cur_ifs);
	by_vrf_free(&cur_rts);
	rt_index_free(&ix);
	if (have_old) {
		by_vrf_free(&old_ifs);
		by_vrf_free(&old_rts);
		tessd_router_index_fini(&oix);
	}
	return;
nomem:
	resync_all = true;
	DP_LOG(ERR, "router: no memory to apply the config's routes; retried at the next change");
}

/* ---- the control loop ---- */

/*
 * What workers punted, PUNT_BATCH from each: on a kick (a worker punted)
 * and every tick. A ring left with more kicks again rather than looping,
 * so the event loop runs the tick's timer and the control socket between
 * batches under a flood.
 */
static void router_drain(void)
{
	struct rte_mbuf *m[PUNT_BATCH];
	bool more = false;

	/* Pools exist once ports do, on their NUMA nodes: ours if there is one, else any. */
	for (int sock = -1; rt_pool == NULL && sock < RTE_MAX_NUMA_NODES; sock++)
		rt_pool = dp_mempool(sock < 0 ? (int)rte_socket_id() : sock);
	for (unsigned w = 0; w < dp_worker_count(); w++) {
		const struct l3_worker *lw = dp_worker_get(w)->mod[l3_module.id];
		unsigned left = 0;
		unsigned n = rte_ring_sc_dequeue_burst(lw->punt, (void **)m, PUNT_BATCH, &left);
		for (unsigned i = 0; i < n; i++)
			rt_punt(m[i]);
		more |= left > 0;
	}
	if (more)
		dp_kick_control();
}

static void router_poll(const struct tessd_cfg *cfg, uint64_t now)
{
	(void)cfg;
	router_drain();
	rt_neigh_timers(now);
	kern_poll();
}

/* ---- counters ---- */

void rt_count_drop(uint16_t iface, uint16_t vrf, unsigned why)
{
	if (iface)
		rt_ifs[iface].ctl.dp.drop[why]++;
	if (vrf)
		rt_vrfs[vrf].ctl.dp.drop[why]++;
	dp_ctl_drop(dp_drop_id(&l3_drops, why));
}

static const void *vrfc_of(unsigned w, unsigned id)
{
	const struct l3_worker *lw = dp_worker_get(w)->mod[l3_module.id];

	return &lw->vrfc[id];
}

static const void *vrfh_of(unsigned w, unsigned id)
{
	const struct l3_worker *lw = dp_worker_get(w)->mod[l3_module.id];

	return &lw->vrfh[id];
}

static const void *ifc_of(unsigned w, unsigned id)
{
	const struct l3_worker *lw = dp_worker_get(w)->mod[l3_module.id];

	return &lw->ifc[id];
}

static const void *ifh_of(unsigned w, unsigned id)
{
	const struct l3_worker *lw = dp_worker_get(w)->mod[l3_module.id];

	return &lw->ifh[id];
}

/* Where the workers keep one VRF's or interface's counters: drops and the forwarded. */
struct counters_of {
	const void *(*block)(unsigned w, unsigned id); /* l3_counters_t */
	const void *(*hot)(unsigned w, unsigned id);   /* struct l3_hot */
};
static const struct counters_of vrf_counters = { vrfc_of, vrfh_of };
static const struct counters_of if_counters = { ifc_of, ifh_of };

/* Workers' and the control thread's counters of one VRF or interface, since the reset. */
static void total(const struct counters_of *of, unsigned id, const struct rt_counters *ctl,
		  const struct rt_counters *base, struct rt_counters *out)
{
	struct l3_hot h;

	dp_cnt_sum(&out->dp, sizeof(out->dp), of->block, id);
	dp_cnt_sum(&h, sizeof(h), of->hot, id);
	out->dp.rx_pkts += h.rx_pkts;
	out->dp.rx_bytes += h.rx_bytes;
	out->dp.tx_pkts += h.tx_pkts;
	out->dp.tx_bytes += h.tx_bytes;
	dp_cnt_acc(&out->dp, &ctl->dp, sizeof(out->dp));
	out->icmp_sent = ctl->icmp_sent;
	out->arp_sent = ctl->arp_sent;
	out->arp_replied = ctl->arp_replied;
	out->arp_learned = ctl->arp_learned;
	if (base) {
		dp_cnt_sub(&out->dp, &base->dp, sizeof(out->dp));
		out->icmp_sent -= base->icmp_sent;
		out->arp_sent -= base->arp_sent;
		out->arp_replied -= base->arp_replied;
		out->arp_learned -= base->arp_learned;
	}
}

static void vrf_rebase(uint16_t id)
{
	total(&vrf_counters, id, &rt_vrfs[id].ctl, NULL, &rt_vrfs[id].base);
}

static void iface_rebase(uint16_t id)
{
	total(&if_counters, id, &rt_ifs[id].ctl, NULL, &rt_ifs[id].base);
}

static void router_stats_reset(void)
{
	for (uint16_t id = 1; rt_vrfs && id < FIB_MAX_VRFS; id++)
		if (rt_vrfs[id].on)
			vrf_rebase(id);
	for (uint16_t id = 1; rt_ifs && id < L3_MAX_IFACES; id++)
		if (rt_ifs[id].state == RT_IF_USED)
			iface_rebase(id);
}

/* A VRF forwards (routed packets); an interface transmits (routed and the router's own). */
static json_t *counters_json(const struct rt_counters *c, bool iface)
{
	json_t *o = json_object(), *drops;
	uint64_t sum = 0;

	drops = dp_drops_json(c->dp.drop, L3_DROP_MAX, &l3_drops, &sum);
	json_object_set_new(o, "rx_packets", json_integer((json_int_t)c->dp.rx_pkts));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)c->dp.rx_bytes));
	json_object_set_new(o, iface ? "tx_packets" : "forwarded",
			    json_integer((json_int_t)c->dp.tx_pkts));
	json_object_set_new(o, iface ? "tx_bytes" : "forwarded_bytes",
			    json_integer((json_int_t)c->dp.tx_bytes));
	json_object_set_new(o, "punted", json_integer((json_int_t)c->dp.punted));
	json_object_set_new(o, "icmp_sent", json_integer((json_int_t)c->icmp_sent));
	json_object_set_new(o, "arp_sent", json_integer((json_int_t)c->arp_sent));
	json_object_set_new(o, "arp_replied", json_integer((json_int_t)c->arp_replied));
	json_object_set_new(o, "arp_learned", json_integer((json_int_t)c->arp_learned));
	json_object_set_new(o, "drops_total", json_integer((json_int_t)sum));
	json_object_set_new(o, "drops", drops);
	return o;
}

static json_t *router_vrfs_json(const struct tessd_cfg *cfg, const char *vrf)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < cfg->router.n_vrfs; i++) {
		const struct tessd_vrf_cfg *vc = &cfg->router.vrfs[i];
		struct rt_counters c;
		json_t *o;

		if ((vrf && strcmp(vrf, vc->name) != 0) || !rt_vrfs[vc->id].on)
			continue;
		total(&vrf_counters, vc->id, &rt_vrfs[vc->id].ctl, &rt_vrfs[vc->id].base, &c);
		o = counters_json(&c, false);
		json_object_set_new(o, "name", json_string(vc->name));
		json_object_set_new(o, "id", json_integer(vc->id));
		json_object_set_new(o, "routes", json_integer(fib_count(&l3_fib, vc->id)));
		json_object_set_new(o, "nexthop_groups", json_integer(nh_owned(&l3_nh, vc->id)));
		json_object_set_new(o, "routes_refused",
				    json_integer((json_int_t)rt_vrfs[vc->id].routes_refused));
		json_object_set_new(o, "groups_refused",
				    json_integer((json_int_t)rt_vrfs[vc->id].groups_refused));
		json_object_set_new(o, "fib_nodes", json_integer(fib_nodes(&l3_fib, vc->id)));
		json_object_set_new(o, "nodes_refused",
				    json_integer((json_int_t)rt_vrfs[vc->id].nodes_refused));
		json_object_set_new(o, "neighbours", json_integer(l3_neigh.per_vrf[vc->id]));
		json_t *k = kern_vrf_json(vc->id);
		if (k)
			json_object_set_new(o, "kernel", k);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *router_ifaces_json(const struct tessd_cfg *cfg, const char *vrf)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < cfg->router.n_interfaces; i++) {
		const struct tessd_iface_cfg *ic = &cfg->router.interfaces[i];
		uint16_t id = rt_iface_id(ic->name);
		struct rt_counters c;
		json_t *o;

		if ((vrf && strcmp(vrf, ic->vrf) != 0) || id == 0)
			continue;
		total(&if_counters, id, &rt_ifs[id].ctl, &rt_ifs[id].base, &c);
		o = counters_json(&c, true);
		json_object_set_new(o, "name", json_string(ic->name));
		json_object_set_new(o, "vrf", json_string(ic->vrf));
		json_t *k = kern_iface_json(id);
		if (k)
			json_object_set_new(o, "kernel", k);
		json_array_append_new(a, o);
	}
	return a;
}

static void router_stats_json(json_t *stats, const struct tessd_cfg *cfg, const char *vrf)
{
	json_object_set_new(stats, "vrfs", router_vrfs_json(cfg, vrf));
	json_object_set_new(stats, "interfaces", router_ifaces_json(cfg, vrf));
}

static int router_worker_init(struct dp_worker *w, int socket)
{
	char name[RTE_RING_NAMESIZE];
	struct l3_worker *lw;

	lw = rte_zmalloc_socket("tess_l3_worker", sizeof(*lw), RTE_CACHE_LINE_SIZE, socket);
	if (lw == NULL)
		return -ENOMEM;
	w->mod[l3_module.id] = lw;
	lw->vrfc = rte_zmalloc_socket("tess_vrf_counters", sizeof(*lw->vrfc) * FIB_MAX_VRFS,
				      RTE_CACHE_LINE_SIZE, socket);
	lw->ifc = rte_zmalloc_socket("tess_iface_counters", sizeof(*lw->ifc) * L3_MAX_IFACES,
				     RTE_CACHE_LINE_SIZE, socket);
	lw->vrfh = rte_zmalloc_socket("tess_vrf_hot", sizeof(*lw->vrfh) * FIB_MAX_VRFS,
				      RTE_CACHE_LINE_SIZE, socket);
	lw->ifh = rte_zmalloc_socket("tess_iface_hot", sizeof(*lw->ifh) * L3_MAX_IFACES,
				     RTE_CACHE_LINE_SIZE, socket);
	lw->punt_rl = rte_zmalloc_socket("tess_punt_rl", sizeof(*lw->punt_rl) * FIB_MAX_VRFS,
					 RTE_CACHE_LINE_SIZE, socket);
	lw->svc_limited =
		rte_zmalloc_socket("tess_svc_limited", sizeof(*lw->svc_limited) * L3_MAX_IFACES,
				   RTE_CACHE_LINE_SIZE, socket);
	snprintf(name, sizeof(name), "tess_punt%u", w->idx);
	lw->punt = rte_ring_create(name, L3_PUNT_RING, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "tess_inject%u", w->idx);
	lw->inject = rte_ring_create(name, L3_PUNT_RING, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	return lw->vrfc && lw->ifc && lw->vrfh && lw->ifh && lw->punt_rl && lw->svc_limited &&
			       lw->punt && lw->inject
		       ? 0
		       : -ENOMEM;
}

static void router_worker_fini(struct dp_worker *w)
{
	struct l3_worker *lw = w->mod[l3_module.id];
	struct rte_mbuf *m;

	if (lw == NULL)
		return;
	/* Packets still in flight between the control thread and the workers. */
	while (lw->punt && rte_ring_dequeue(lw->punt, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (lw->inject && rte_ring_dequeue(lw->inject, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(lw->punt);
	rte_ring_free(lw->inject);
	rte_free(lw->vrfc);
	rte_free(lw->ifc);
	rte_free(lw->vrfh);
	rte_free(lw->ifh);
	rte_free(lw->punt_rl);
	rte_free(lw->svc_limited);
	rte_free(lw);
	w->mod[l3_module.id] = NULL;
}

static int router_port_in_use(const struct tessd_cfg *cfg, const char *name, struct ctl_error *err)
{
	for (uint32_t i = 0; i < cfg->router.n_interfaces; i++) {
		const struct tessd_iface_cfg *ic = &cfg->router.interfaces[i];
		if (strcmp(ic->port, name) == 0) {
			ctl_error_set(err, EBUSY, "/params/name",
				      "port '%s' carries router interface '%s': remove it first",
				      name, ic->name);
			return -EBUSY;
		}
	}
	return 0;
}

static const char *const router_depends[] = { "vswitch", NULL };

struct tess_module l3_module = {
	.name = "router",
	.depends = router_depends,
	.init = router_init,
	.fini = router_fini,
	.worker_init = router_worker_init,
	.worker_fini = router_worker_fini,
	.start = kern_attach,
	.validate = tessd_router_validate,
	.snap_copy = router_snap_copy,
	.snap_free = router_snap_free,
	.build = router_build,
	.sync = router_sync,
	.poll = router_poll,
	.kick = router_drain,
	.worker_poll = l3_worker_poll,
	.stats_reset = router_stats_reset,
	.stats_json = router_stats_json,
	.port_in_use = router_port_in_use,
	.methods = router_methods,
};
TESS_MODULE_REGISTER(l3_module)
