/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A bound VRF's kernel routes: a libnl-3 cache manager inside its namespace
 * keeps the route, link and address caches and calls back on each change;
 * the table's IPv4 routes are mapped to next-hop groups (their devices to
 * tessd interfaces by their TAPs) and kept in a map of the best route per
 * prefix, which is what the FIB gets. A full resync maps the whole cache
 * again: at bind, after a netlink overrun, and when TAPs come or go.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <rte_cycles.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "evloop.h"
#include "kernel_int.h"
#include "log.h"
#include "router_int.h"

/* ---- the map: open addressing, linear probing ---- */

static uint32_t slot_of(const struct kroutes *m, uint64_t key)
{
	key *= UINT64_C(0x9e3779b97f4a7c15);
	return (uint32_t)(key >> 32) & (m->cap - 1);
}

struct kroute *kern_map_find(struct kroutes *m, uint64_t key)
{
	for (uint32_t i = m->cap ? slot_of(m, key) : 0; m->cap; i = (i + 1) & (m->cap - 1)) {
		if (m->slot[i].key == key)
			return &m->slot[i];
		if (m->slot[i].key == 0)
			return NULL;
	}
	return NULL;
}

static int map_grow(struct kroutes *m)
{
	struct kroutes bigger = { .cap = m->cap ? m->cap * 2 : 1024 };

	bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
	if (bigger.slot == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->cap; i++) {
		if (m->slot[i].key == 0)
			continue;
		uint32_t j = slot_of(&bigger, m->slot[i].key);
		while (bigger.slot[j].key)
			j = (j + 1) & (bigger.cap - 1);
		bigger.slot[j] = m->slot[i];
	}
	bigger.n = m->n;
	free(m->slot);
	*m = bigger;
	return 0;
}

struct kroute *kern_map_get(struct kroutes *m, uint64_t key)
{
	struct kroute *e = kern_map_find(m, key);
	uint32_t i;

	if (e)
		return e;
	if ((m->n + 1) * 4 > m->cap * 3 && map_grow(m) < 0)
		return NULL;
	for (i = slot_of(m, key); m->slot[i].key; i = (i + 1) & (m->cap - 1))
		;
	memset(&m->slot[i], 0, sizeof(m->slot[i]));
	m->slot[i].key = key;
	m->n++;
	return &m->slot[i];
}

void kern_map_del(struct kroutes *m, struct kroute *e)
{
	uint32_t i = (uint32_t)(e - m->slot), j = i;

	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (m->slot[j].key == 0)
			break;
		uint32_t home = slot_of(m, m->slot[j].key);
		/* j may move to i if its home is not in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->slot[i] = m->slot[j];
			i = j;
		}
	}
	m->slot[i].key = 0;
	m->n--;
}

void kern_map_free(struct kroutes *m)
{
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

/* ---- routes into next-hop groups ---- */

static uint16_t iface_of_ifindex(uint16_t vrf, int ifindex)
{
	const struct kbind *b = &kern_binds[vrf];

	for (uint32_t i = 0; ifindex > 0 && i < b->n_taps; i++)
		if (b->tap_ifindex[i] == ifindex)
			return b->tap_iface[i];
	return 0;
}

struct nh_walk {
	uint16_t vrf;
	struct kroute *e;
};

static void add_path(struct rtnl_nexthop *nh, void *arg)
{
	struct nh_walk *w = arg;
	struct kroute *e = w->e;
	struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);
	int ifindex = rtnl_route_nh_get_ifindex(nh);
	uint16_t iface = iface_of_ifindex(w->vrf, ifindex);
	uint32_t ip = 0;

	if (e->why != KU_NONE || e->g.n >= NH_MAX_PATHS)
		return; /* more paths than tessd keeps: the first ones */
	/* RTA_VIA (an IPv6 next hop for an IPv4 route, BGP unnumbered) is not tessd's. */
	if (rtnl_route_nh_get_via(nh) ||
	    (gw && (nl_addr_get_family(gw) != AF_INET || nl_addr_get_len(gw) != 4))) {
		e->why = KU_FAMILY;
		return;
	}
	if (iface == 0) {
		e->why = KU_DEVICE;
		e->ifindex = ifindex;
		return;
	}
	if (gw) {
		memcpy(&ip, nl_addr_get_binary_addr(gw), 4);
		ip = ntohl(ip);
	}
	e->g.path[e->g.n].iface = iface;
	e->g.path[e->g.n].gw = ip;
	e->g.n++;
}

enum { NOT_OURS, OURS, OURS_IGNORED };

/*
 * Whether r is an IPv4 route of the table (its key then), and one tessd
 * mirrors: not a type it has no use for (throw, multicast, local...), nor
 * the kernel's own route for an address (proto kernel: tessd has its own).
 * An ignored route counts as absent for its prefix.
 */
static int classify(const struct kbind *b, struct rtnl_route *r, uint64_t *key)
{
	struct nl_addr *dst = rtnl_route_get_dst(r);
	uint8_t type = rtnl_route_get_type(r), len;
	uint32_t ip = 0;

	if (rtnl_route_get_family(r) != AF_INET || rtnl_route_get_table(r) != b->table ||
	    dst == NULL || (rtnl_route_get_flags(r) & RTM_F_CLONED))
		return NOT_OURS;
	if (nl_addr_get_len(dst) == 4) {
		memcpy(&ip, nl_addr_get_binary_addr(dst), 4);
		ip = ntohl(ip);
	}
	len = (uint8_t)nl_addr_get_prefixlen(dst);
	*key = KERN_KEY(ip & rt_mask(len), len);
	if (rtnl_route_get_protocol(r) == RTPROT_KERNEL ||
	    (type != RTN_UNICAST && type != RTN_BLACKHOLE && type != RTN_UNREACHABLE &&
	     type != RTN_PROHIBIT))
		return OURS_IGNORED;
	return OURS;
}

/* What r leads to, into e (mapped, or why not). */
static void map_route(uint16_t vrf, struct rtnl_route *r, struct kroute *e)
{
	struct nh_walk w = { vrf, e };

	memset(&e->g, 0, sizeof(e->g));
	e->g.origin = NH_ORIGIN_KERNEL;
	e->why = KU_NONE;
	e->ifindex = 0;
	e->prio = rtnl_route_get_priority(r);
	switch (rtnl_route_get_type(r)) {
	case RTN_BLACKHOLE:
		e->g.type = NH_BLACKHOLE;
		break;
	case RTN_UNREACHABLE:
	case RTN_PROHIBIT:
		e->g.type = NH_REJECT;
		break;
	default:
		e->g.type = NH_UNICAST;
		rtnl_route_foreach_nexthop(r, add_path, &w);
		if (e->why == KU_NONE && e->g.n == 0)
			e->why = KU_NO_NH;
		break;
	}
	e->mapped = e->why == KU_NONE;
}

/* ---- the FIB: kernel routes under tessd's own ---- */

static bool kernel_owned(uint16_t vrf, uint32_t ip, uint8_t len, bool *empty)
{
	uint32_t cur = fib_get(&l3_fib, vrf, ip, len);

	*empty = cur == 0;
	return cur && nh_group(&l3_nh, cur)->origin == NH_ORIGIN_KERNEL;
}

static void install(struct kbind *b, uint16_t vrf, const struct kroute *e)
{
	uint32_t ip = (uint32_t)(e->key >> 8);
	uint8_t len = (uint8_t)e->key;
	bool empty;
	int rc;

	if (!kernel_owned(vrf, ip, len, &empty) && !empty) {
		b->shadowed++; /* tessd's own route for the prefix wins */
		return;
	}
	if (!e->mapped) {
		if (!empty && rt_route_unset(vrf, ip, len) == 0)
			b->removed++;
		return;
	}
	rc = rt_route_set(vrf, ip, len, &e->g);
	if (rc < 0) {
		b->errors++;
		snprintf(b->last_error, sizeof(b->last_error), "installing a route: %s",
			 strerror(-rc));
		b->resync = true; /* tried again, in a second */
		b->resync_after = rte_rdtsc() + rte_get_tsc_hz();
		return;
	}
	b->installed++;
}

static void uninstall(struct kbind *b, uint16_t vrf, uint64_t key)
{
	uint32_t ip = (uint32_t)(key >> 8);
	uint8_t len = (uint8_t)key;
	bool empty;

	if (kernel_owned(vrf, ip, len, &empty) && rt_route_unset(vrf, ip, len) == 0)
		b->removed++;
}

bool kern_route_fallback(uint16_t vrf, uint32_t ip, uint8_t len)
{
	struct kbind *b = kern_binds ? &kern_binds[vrf] : NULL;
	struct kroute *e = b && b->on ? kern_map_find(&b->map, KERN_KEY(ip, len)) : NULL;

	if (e == NULL || !e->mapped)
		return false;
	if (rt_route_set(vrf, ip, len, &e->g) < 0) {
		b->errors++;
		return false;
	}
	b->installed++;
	return true;
}

/* ---- cache changes ---- */

struct best {
	const struct kbind *b;
	uint64_t key;
	struct rtnl_route *r;
	uint32_t count;
};

static void find_best(struct nl_object *obj, void *arg)
{
	struct best *f = arg;
	struct rtnl_route *r = (struct rtnl_route *)obj;
	uint64_t key;

	if (classify(f->b, r, &key) != OURS || key != f->key)
		return;
	f->count++;
	if (f->r == NULL || rtnl_route_get_priority(r) < rtnl_route_get_priority(f->r))
		f->r = r;
}

/* The prefix of r changed: its best route in the cache is what the FIB gets. */
static void refresh(uint16_t vrf, struct kbind *b, uint64_t key, struct rtnl_route *changed,
		    int action)
{
	struct kroute *e = kern_map_find(&b->map, key);
	struct best f = { b, key, NULL, 0 };

	if (e == NULL || e->count <= 1) {
		/* One route for the prefix (the usual case): no scan. */
		if (action == NL_ACT_DEL) {
			f.r = NULL;
		} else if (e == NULL || e->prio == rtnl_route_get_priority(changed)) {
			f.r = changed;
			f.count = 1;
		} else {
			nl_cache_foreach(b->routes, find_best, &f); /* a second metric */
		}
	} else {
		/* Several metrics: the cache says which is best now. */
		nl_cache_foreach(b->routes, find_best, &f);
	}
	if (f.r == NULL) {
		if (e) {
			b->n_mapped -= e->mapped;
			kern_map_del(&b->map, e);
		}
		uninstall(b, vrf, key);
		return;
	}
	b->n_mapped -= e ? e->mapped : 0;
	e = kern_map_get(&b->map, key);
	if (e == NULL) {
		b->errors++;
		snprintf(b->last_error, sizeof(b->last_error), "no memory for the route map");
		b->resync = true;
		return;
	}
	map_route(vrf, f.r, e);
	e->count = f.count;
	b->n_mapped += e->mapped;
	install(b, vrf, e);
}

static void route_changed(struct nl_cache *cache, struct nl_object *obj, int action, void *arg)
{
	uint16_t vrf = (uint16_t)(uintptr_t)arg;
	struct kbind *b = &kern_binds[vrf];
	uint64_t key;
	int c = classify(b, (struct rtnl_route *)obj, &key);

	(void)cache;
	b->events++;
	/* A route replaced by one tessd ignores is gone for tessd. */
	if (c != NOT_OURS)
		refresh(vrf, b, key, (struct rtnl_route *)obj, c == OURS ? action : NL_ACT_DEL);
}

/* A TAP's link or addresses changed under tessd: they are set up again at the next tick. */
static void link_changed(struct nl_cache *cache, struct nl_object *obj, int action, void *arg)
{
	uint16_t vrf = (uint16_t)(uintptr_t)arg;
	int ifindex = strcmp(nl_object_get_type(obj), "route/link") == 0
			      ? rtnl_link_get_ifindex((struct rtnl_link *)obj)
			      : rtnl_addr_get_ifindex((struct rtnl_addr *)obj);

	(void)cache;
	kern_binds[vrf].events++;
	if (iface_of_ifindex(vrf, ifindex) == 0)
		return;
	kern_binds[vrf].taps_dirty = true;
	/* A TAP down or gone: the kernel flushed its routes through it without telling. */
	if (strcmp(nl_object_get_type(obj), "route/link") == 0 &&
	    (action == NL_ACT_DEL || !(rtnl_link_get_flags((struct rtnl_link *)obj) & IFF_UP)))
		kern_binds[vrf].refill = true;
}

/* ---- whole tables ---- */

struct resync {
	uint16_t vrf;
	struct kbind *b;
	bool oom;
};

static void collect(struct nl_object *obj, void *arg)
{
	struct resync *s = arg;
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct kroute *e, tmp;
	uint64_t key;

	if (classify(s->b, r, &key) != OURS)
		return;
	e = kern_map_get(&s->b->map, key);
	if (e == NULL) {
		s->oom = true;
		return;
	}
	if (e->count++ && rtnl_route_get_priority(r) >= e->prio)
		return;
	tmp = *e;
	map_route(s->vrf, r, &tmp);
	tmp.count = e->count;
	*e = tmp;
}

struct stale_kernel {
	struct kroutes *map;
	uint64_t *gone;
	uint32_t n, cap;
};

static void find_stale(uint32_t ip, uint8_t len, uint32_t value, void *arg)
{
	struct stale_kernel *s = arg;
	uint64_t key = KERN_KEY(ip, len);
	struct kroute *e;

	if (nh_group(&l3_nh, value)->origin != NH_ORIGIN_KERNEL)
		return;
	e = kern_map_find(s->map, key);
	if (e && e->mapped)
		return;
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 256;
		uint64_t *g = realloc(s->gone, cap * sizeof(*g));
		if (g == NULL)
			return; /* found again at the next resync */
		s->gone = g;
		s->cap = cap;
	}
	s->gone[s->n++] = key;
}

void kern_routes_resync(uint16_t vrf)
{
	struct kbind *b = &kern_binds[vrf];
	struct resync s = { vrf, b, false };
	struct stale_kernel st = { &b->map, NULL, 0, 0 };

	b->resync = false;
	b->resyncs++;
	b->n_mapped = 0;
	kern_map_free(&b->map);
	nl_cache_foreach(b->routes, collect, &s);
	if (s.oom) {
		b->errors++;
		snprintf(b->last_error, sizeof(b->last_error), "no memory for the route map");
		b->resync = true;
		return;
	}
	b->n_mapped = 0;
	for (uint32_t i = 0; i < b->map.cap; i++) {
		if (b->map.slot[i].key) {
			b->n_mapped += b->map.slot[i].mapped;
			install(b, vrf, &b->map.slot[i]);
		}
	}
	fib_walk(&l3_fib, vrf, find_stale, &st);
	for (uint32_t i = 0; i < st.n; i++)
		uninstall(b, vrf, st.gone[i]);
	free(st.gone);
}

/* ---- the manager's socket ---- */

static void on_netlink(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	uint16_t vrf = (uint16_t)(uintptr_t)arg;
	struct kbind *b = &kern_binds[vrf];
	int rc;

	(void)h;
	(void)fd;
	(void)events;
	rc = nl_cache_mngr_data_ready(b->mngr);
	if (rc >= 0)
		return;
	/* Overrun (ENOBUFS) or worse: what was missed is read again whole. */
	b->overruns++;
	snprintf(b->last_error, sizeof(b->last_error), "netlink: %s", nl_geterror(rc));
	if (nl_cache_refill(b->sk, b->routes) < 0 || nl_cache_refill(b->sk, b->links) < 0 ||
	    nl_cache_refill(b->sk, b->addrs) < 0)
		b->errors++;
	b->resync = true;
	b->taps_dirty = true;
}

struct mngr_open {
	uint16_t vrf;
	struct kbind *b;
	int rc;
};

static int mngr_open_here(void *arg)
{
	struct mngr_open *o = arg;
	struct kbind *b = o->b;
	void *cookie = (void *)(uintptr_t)o->vrf;
	int rc;

	/* Not provided to libnl's global caches: each VRF's belong to their namespace. */
	rc = nl_cache_mngr_alloc(NULL, NETLINK_ROUTE, 0, &b->mngr);
	if (rc == 0)
		rc = nl_cache_mngr_add(b->mngr, "route/route", route_changed, cookie, &b->routes);
	if (rc == 0)
		rc = nl_cache_mngr_add(b->mngr, "route/link", link_changed, cookie, &b->links);
	if (rc == 0)
		rc = nl_cache_mngr_add(b->mngr, "route/addr", link_changed, cookie, &b->addrs);
	o->rc = rc;
	return rc < 0 ? -EIO : 0;
}

int kern_routes_watch(uint16_t vrf)
{
	struct kbind *b = &kern_binds[vrf];
	int fd = nl_cache_mngr_get_fd(b->mngr), size = 8 << 20;

	/* A big receive buffer: a routing daemon's burst of changes is not an overrun. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	b->ev = ev_add(kern_loop, fd, EPOLLIN, on_netlink, (void *)(uintptr_t)vrf);
	return b->ev ? 0 : -ENOMEM;
}

int kern_routes_start(uint16_t vrf)
{
	struct kbind *b = &kern_binds[vrf];
	struct mngr_open o = { vrf, b, 0 };

	int rc = kern_in_netns(b->nsfd, mngr_open_here, &o);
	if (rc < 0) {
		snprintf(b->last_error, sizeof(b->last_error), "netlink caches: %s",
			 o.rc ? nl_geterror(o.rc) : strerror(-rc));
		kern_routes_stop(vrf, false);
		return -EIO;
	}
	if (kern_loop && kern_routes_watch(vrf) < 0) {
		kern_routes_stop(vrf, false);
		return -ENOMEM;
	}
	b->resync = true;
	return 0;
}

void kern_routes_stop(uint16_t vrf, bool keep_fib)
{
	struct kbind *b = &kern_binds[vrf];

	if (b->ev)
		ev_del(kern_loop, b->ev);
	b->ev = NULL;
	if (b->mngr)
		nl_cache_mngr_free(b->mngr); /* its caches with it */
	b->mngr = NULL;
	b->routes = b->links = b->addrs = NULL;
	/* The kernel's routes leave the FIB with the binding (not at exit: it goes whole). */
	for (uint32_t i = 0; !keep_fib && i < b->map.cap; i++)
		if (b->map.slot[i].key)
			uninstall(b, vrf, b->map.slot[i].key);
	kern_map_free(&b->map);
}

static const char *const why_names[KU_MAX] = {
	[KU_DEVICE] = "its next hop's device is no tessd interface",
	[KU_NO_NH] = "no next hop (a nexthop object?)",
	[KU_FAMILY] = "a next hop of another family",
};

json_t *kern_unmapped_json(const struct kbind *b)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < b->map.cap && json_array_size(a) < 1000; i++) {
		const struct kroute *e = &b->map.slot[i];
		char text[24];
		uint32_t ip = (uint32_t)(e->key >> 8);
		if (e->key == 0 || e->mapped)
			continue;
		snprintf(text, sizeof(text), "%u.%u.%u.%u/%u", ip >> 24, ip >> 16 & 255,
			 ip >> 8 & 255, ip & 255, (unsigned)(uint8_t)e->key);
		json_array_append_new(a, json_pack("{s:s, s:s, s:i}", "prefix", text, "why",
						   why_names[e->why], "ifindex", e->ifindex));
	}
	return a;
}
