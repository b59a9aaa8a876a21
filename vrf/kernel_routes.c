/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A bound VRF's kernel routes: a netlink socket inside its namespace
 * subscribes to IPv4 route, link and address notifications, parsed by
 * libnl-3 into route objects; tessd keeps each prefix's kernel routes (one
 * per metric) in its own map, and the best one, mapped to a next-hop group
 * (devices to tessd interfaces by their TAPs), is what the FIB gets. The
 * whole table is read again (a dump) at bind, after a netlink overrun, and
 * when the kernel may have flushed routes without a word; it is mapped
 * again when TAPs come or go. (libnl's own route cache hashes into a fixed
 * 4096 buckets: its chains made 100,000 routes take seconds.)
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <rte_cycles.h>
#include <netlink/msg.h>
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

	free(e->alt);

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
	for (uint32_t i = 0; i < m->cap; i++)
		if (m->slot[i].key)
			free(m->slot[i].alt);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

/* ---- kernel routes ---- */

static uint16_t iface_of_ifindex(uint16_t vrf, int ifindex)
{
	const struct kbind *b = &kern_binds[vrf];

	for (uint32_t i = 0; ifindex > 0 && i < b->n_taps; i++)
		if (b->tap_ifindex[i] == ifindex)
			return b->tap_iface[i];
	return 0;
}

enum { NOT_OURS, OURS, OURS_IGNORED };

/*
 * Whether r is an IPv4 route of the table (its key then), and one tessd
 * mirrors: not a type it has no use for (throw, multicast, local...), nor
 * the kernel's own route for an address (proto kernel: tessd has its own).
 * An ignored route that replaces one of the same metric takes it away.
 */
static int classify(const struct kbind *b, struct rtnl_route *r, uint64_t *key)
{
	struct nl_addr *dst = rtnl_route_get_dst(r);
	uint8_t type = rtnl_route_get_type(r), len;
	uint32_t ip = 0;

	/* TOS routes live next to the plain ones (tessd routes without TOS): not ours. */
	if (rtnl_route_get_family(r) != AF_INET || rtnl_route_get_table(r) != b->table ||
	    dst == NULL || (rtnl_route_get_flags(r) & RTM_F_CLONED) || rtnl_route_get_tos(r))
		return NOT_OURS;
	if (nl_addr_get_len(dst) == 4) {
		memcpy(&ip, nl_addr_get_binary_addr(dst), 4);
		ip = ntohl(ip);
	}
	/* rtm_dst_len is a byte: past 32 it is no IPv4 prefix (and would overflow the mask). */
	if (nl_addr_get_prefixlen(dst) > 32)
		return NOT_OURS;
	len = (uint8_t)nl_addr_get_prefixlen(dst);
	*key = KERN_KEY(ip & rt_mask(len), len);
	if (rtnl_route_get_protocol(r) == RTPROT_KERNEL ||
	    (type != RTN_UNICAST && type != RTN_BLACKHOLE && type != RTN_UNREACHABLE &&
	     type != RTN_PROHIBIT))
		return OURS_IGNORED;
	return OURS;
}

static void raw_path(struct rtnl_nexthop *nh, void *arg)
{
	struct kalt *a = arg;
	struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);
	uint32_t ip = 0;

	if (a->bad || a->n >= NH_MAX_PATHS)
		return; /* more paths than tessd keeps: the first ones */
	/* RTA_VIA (an IPv6 next hop for an IPv4 route, BGP unnumbered) is not tessd's. */
	if (rtnl_route_nh_get_via(nh) ||
	    (gw && (nl_addr_get_family(gw) != AF_INET || nl_addr_get_len(gw) != 4))) {
		a->bad = KU_FAMILY;
		return;
	}
	if (gw) {
		memcpy(&ip, nl_addr_get_binary_addr(gw), 4);
		ip = ntohl(ip);
	}
	a->nh[a->n].gw = ip;
	a->nh[a->n].ifindex = rtnl_route_nh_get_ifindex(nh);
	a->n++;
}

/* The route as the kernel gave it. */
static void raw_route(struct rtnl_route *r, struct kalt *a)
{
	memset(a, 0, sizeof(*a));
	a->prio = rtnl_route_get_priority(r);
	switch (rtnl_route_get_type(r)) {
	case RTN_BLACKHOLE:
		a->type = NH_BLACKHOLE;
		break;
	case RTN_UNREACHABLE:
	case RTN_PROHIBIT:
		a->type = NH_REJECT;
		break;
	default:
		a->type = NH_UNICAST;
		rtnl_route_foreach_nexthop(r, raw_path, a);
		if (!a->bad && a->n == 0)
			a->bad = KU_NO_NH; /* e.g. a nexthop object (RTA_NH_ID) libnl cannot read */
		break;
	}
}

/* e's best route (lowest metric) into its next-hop group, devices to interfaces now. */
static void map_best(uint16_t vrf, struct kroute *e)
{
	const struct kalt *a = &e->alt[0];

	if (e->n_alt == 0) { /* never kept so (see change()), but never read either */
		e->mapped = false;
		e->why = KU_NO_NH;
		return;
	}
	for (uint32_t i = 1; i < e->n_alt; i++)
		if (e->alt[i].prio < a->prio)
			a = &e->alt[i];
	memset(&e->g, 0, sizeof(e->g));
	e->g.origin = NH_ORIGIN_KERNEL;
	e->g.type = a->type;
	e->why = a->bad;
	e->ifindex = 0;
	for (uint8_t i = 0; a->type == NH_UNICAST && !e->why && i < a->n; i++) {
		uint16_t iface = iface_of_ifindex(vrf, a->nh[i].ifindex);
		if (iface == 0) {
			e->why = KU_DEVICE;
			e->ifindex = a->nh[i].ifindex;
			break;
		}
		e->g.path[e->g.n].iface = iface;
		e->g.path[e->g.n].gw = a->nh[i].gw;
		e->g.n++;
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

/* e's key in b's list of waiting routes; without memory, listed later (wait_unlisted). */
static void wait_list(struct kbind *b, struct kroute *e)
{
	if (b->n_wait_keys == b->wait_cap) {
		uint32_t cap = b->wait_cap ? 2 * b->wait_cap : 64;
		uint64_t *k = realloc(b->wait_keys, cap * sizeof(*k));
		if (k == NULL) {
			e->wait_ix = KERN_UNLISTED;
			b->wait_unlisted = true;
			return;
		}
		b->wait_keys = k;
		b->wait_cap = cap;
	}
	e->wait_ix = b->n_wait_keys;
	b->wait_keys[b->n_wait_keys++] = e->key;
}

/* e's key out of the list: the last one takes its place. */
static void wait_unlist(struct kbind *b, struct kroute *e)
{
	uint32_t i = e->wait_ix;

	e->wait_ix = KERN_UNLISTED;
	if (i >= b->n_wait_keys)
		return;
	if (i != --b->n_wait_keys) {
		struct kroute *last = kern_map_find(&b->map, b->wait_keys[b->n_wait_keys]);
		b->wait_keys[i] = b->wait_keys[b->n_wait_keys];
		if (last)
			last->wait_ix = i;
	}
}

static void set_waiting(struct kbind *b, struct kroute *e, bool waiting)
{
	if (waiting == e->waiting)
		return;
	if (waiting)
		wait_list(b, e);
	else
		wait_unlist(b, e);
	b->n_waiting += (uint32_t)waiting - (uint32_t)e->waiting;
	e->waiting = waiting;
}

/* The waiting list emptied: every entry of the map waits no more (counted again by install). */
static void wait_clear(struct kbind *b)
{
	b->n_waiting = b->n_wait_keys = b->wait_pos = b->retry_left = 0;
	b->wait_unlisted = false;
}

static void install(struct kbind *b, uint16_t vrf, struct kroute *e)
{
	uint32_t ip = (uint32_t)(e->key >> 8);
	uint8_t len = (uint8_t)e->key;
	bool empty, owned = kernel_owned(vrf, ip, len, &empty);
	int rc;

	set_waiting(b, e, false);
	if (!owned && !empty) {
		b->shadowed++; /* tessd's own route for the prefix wins */
		return;
	}
	if (!e->mapped) {
		if (owned && rt_route_unset(vrf, ip, len) == 0)
			b->removed++;
		return;
	}
	rc = rt_route_set(vrf, ip, len, &e->g);
	if (rc == -EDQUOT) {
		/*
		 * Counted in the VRF, and kept: installed when one of its routes goes or its
		 * limits are raised (kern_routes_retry). Never the whole table read again for
		 * it: a feed bigger than the limit would be dumped for ever (review 3.2).
		 */
		char why[128];
		snprintf(b->last_error, sizeof(b->last_error), "installing a route: %s",
			 rt_limit_text(vrf, why, sizeof(why)));
		/* A route it replaces is the kernel's no longer: never left forwarding. */
		if (owned && rt_route_unset(vrf, ip, len) == 0)
			b->removed++;
		set_waiting(b, e, true);
		return;
	}
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
	int rc;

	if (e == NULL || !e->mapped)
		return false;
	rc = rt_route_set(vrf, ip, len, &e->g);
	set_waiting(b, e, rc == -EDQUOT); /* its group does not fit: when room appears */
	if (rc < 0) {
		b->errors += rc != -EDQUOT;
		return false;
	}
	b->installed++;
	return true;
}

void kern_route_evicted(uint16_t vrf, uint32_t ip, uint8_t len)
{
	struct kbind *b = kern_binds ? &kern_binds[vrf] : NULL;
	struct kroute *e = b && b->on ? kern_map_find(&b->map, KERN_KEY(ip, len)) : NULL;

	if (e && e->mapped)
		set_waiting(b, e, true);
}

void kern_routes_room(uint16_t vrf)
{
	struct kbind *b = &kern_binds[vrf];

	if (b->n_waiting == 0)
		return;
	b->room_retries++;
	if (b->wait_unlisted) {
		/* Rare (no memory when one was refused): the map walked once to list them. */
		b->wait_unlisted = false;
		for (uint32_t i = 0; i < b->map.cap; i++) {
			struct kroute *e = &b->map.slot[i];
			if (e->key && e->waiting && e->wait_ix == KERN_UNLISTED)
				wait_list(b, e);
		}
	}
	b->retry_left = b->n_wait_keys; /* each of them once, from where the last pass stopped */
}

void kern_routes_retry(uint16_t vrf)
{
	struct kbind *b = &kern_binds[vrf];
	const struct rt_vrf *v = &rt_vrfs[vrf];
	uint32_t budget = b->batch ? b->batch : 64;

	while (b->retry_left && b->n_wait_keys) {
		struct kroute *e;
		uint32_t ip, i;
		uint8_t len;

		/*
		 * Full: nothing waiting goes in (a waiting prefix is not in the FIB, unless a
		 * configured route holds it, which it would not replace). Room comes again.
		 */
		if (v->max_routes && fib_count(&l3_fib, vrf) >= v->max_routes) {
			b->retry_left = 0;
			break;
		}
		if (budget-- == 0) {
			b->retry_yields++; /* the rest next turn: the control thread serves first */
			break;
		}
		b->retry_left--;
		if (b->wait_pos >= b->n_wait_keys)
			b->wait_pos = 0;
		i = b->wait_pos;
		e = kern_map_find(&b->map, b->wait_keys[i]);
		if (e == NULL || !e->waiting || e->wait_ix != i) {
			/* Never so (set_waiting keeps the list), but then dropped, not tried. */
			struct kroute stale = { .wait_ix = i };
			wait_unlist(b, &stale);
			continue;
		}
		ip = (uint32_t)(e->key >> 8);
		len = (uint8_t)e->key;
		if (rt_kernel_fits(vrf, ip, len, &e->g))
			install(b, vrf, e); /* unlisted, the last key now at i: looked at next */
		else
			b->wait_pos++;
	}
}

/* The whole table read again in a while (kern_poll), not at once: a tenant's churn costs little. */
static void rescan_later(struct kbind *b, uint32_t sec)
{
	uint64_t at = rte_rdtsc() + (uint64_t)sec * rte_get_tsc_hz();

	if (b->rescan_at == 0 || b->rescan_at > at)
		b->rescan_at = at;
}

/*
 * A kernel route not mirrored for the caps (kernel.max_map, KERN_ALT_MAX):
 * counted, the binding incomplete until a read of the whole table finds
 * room, and said once in the log.
 */
static void ignore(uint16_t vrf, struct kbind *b, const char *why)
{
	b->ignored++;
	if (!b->incomplete) /* not at each one: other errors stay seen */
		snprintf(b->last_error, sizeof(b->last_error), "routes ignored: %s", why);
	rescan_later(b, RTE_MAX(b->rescan_sec, KERN_RESCAN_FIRST_SEC));
	b->incomplete = true;
	if (!b->warned) {
		b->warned = true;
		DP_LOG_F(WARNING, DP_VRF_FIELDS(&rt_vrfs[vrf]),
			 "VRF %s: kernel routes ignored (%s): the table is read again later",
			 rt_vrfs[vrf].name, why);
	}
}

/* The slot of e's highest metric, which a lower one takes when e has KERN_ALT_MAX. */
static uint32_t worst_alt(const struct kroute *e)
{
	uint32_t w = 0;

	for (uint32_t i = 1; i < e->n_alt; i++)
		if (e->alt[i].prio > e->alt[w].prio)
			w = i;
	return w;
}

/*
 * One kernel route came (add) or went: the prefix's routes change, and its
 * best one is what the FIB gets (apply: false while reading a whole table).
 */
static void change(uint16_t vrf, struct kbind *b, struct rtnl_route *r, bool add, bool replace,
		   bool apply)
{
	struct kroute *e;
	struct kalt a;
	uint64_t key;
	uint32_t i;
	int c = classify(b, r, &key);

	if (c == NOT_OURS)
		return;
	if (c == OURS_IGNORED) {
		/* Only a replacement by an ignored route takes the metric's route away. */
		if (!add || !replace)
			return;
		add = false;
	}
	raw_route(r, &a);
	e = kern_map_find(&b->map, key);
	for (i = 0; e && i < e->n_alt && e->alt[i].prio != a.prio; i++)
		;
	if (!add) {
		if (e == NULL || i == e->n_alt)
			return;
		e->alt[i] = e->alt[--e->n_alt];
		if (e->n_alt == 0) {
			b->n_mapped -= e->mapped;
			set_waiting(b, e, false);
			kern_map_del(&b->map, e);
			if (apply)
				uninstall(b, vrf, key);
			return;
		}
	} else {
		if (e == NULL && b->map.n >= kern_map_cap(vrf)) {
			char why[64];
			snprintf(why, sizeof(why), "the map holds its max_map, %u prefixes",
				 kern_map_cap(vrf));
			ignore(vrf, b, why);
			/* A read stops here: a prefix's routes come together, the rest is new. */
			b->map_full = !apply;
			return;
		}
		if (e && i == e->n_alt && e->n_alt >= KERN_ALT_MAX) {
			uint32_t w = worst_alt(e);
			ignore(vrf, b, "a prefix with more than 8 metrics");
			if (a.prio > e->alt[w].prio)
				return;
			i = w; /* the lowest metrics kept */
		}
		e = e ? e : kern_map_get(&b->map, key);
		if (e && i == e->n_alt) {
			struct kalt *more = realloc(e->alt, (e->n_alt + 1) * sizeof(*more));
			if (more == NULL) {
				e = NULL;
			} else {
				e->alt = more;
				e->n_alt++;
			}
		}
		if (e == NULL) {
			struct kroute *half = kern_map_find(&b->map, key);
			if (half && half->n_alt == 0)
				kern_map_del(&b->map, half); /* made just now, holding nothing */
			b->errors++;
			b->short_of_memory = true;
			snprintf(b->last_error, sizeof(b->last_error),
				 "no memory for the route map");
			b->reload = true;
			return;
		}
		e->alt[i] = a;
	}
	b->n_mapped -= e->mapped;
	map_best(vrf, e);
	b->n_mapped += e->mapped;
	if (apply)
		install(b, vrf, e);
}

/* ---- notifications ---- */

struct parsed {
	uint16_t vrf;
	int type;       /* the message's: RTM_NEWROUTE, RTM_DELLINK, ... */
	uint16_t flags; /* and its flags (NLM_F_REPLACE) */
	bool apply;
};

/*
 * A device down or gone, an address gone: the kernel flushed routes through
 * it without telling. A TAP's: the table is read again at once (at most once
 * a second) and the TAP set up again. Another device's routes are not in the
 * FIB (KU_DEVICE), but an address's removal also takes routes with it as
 * source: read again in a while, so that a tenant flapping its own links
 * cannot keep the control thread reading its table.
 */
static void link_changed(uint16_t vrf, struct nl_object *obj, bool gone)
{
	struct kbind *b = &kern_binds[vrf];
	bool link = strcmp(nl_object_get_type(obj), "route/link") == 0;
	int ifindex = link ? rtnl_link_get_ifindex((struct rtnl_link *)obj)
			   : rtnl_addr_get_ifindex((struct rtnl_addr *)obj);
	bool tap = iface_of_ifindex(vrf, ifindex) != 0;

	if (gone || (link && !(rtnl_link_get_flags((struct rtnl_link *)obj) & IFF_UP))) {
		if (tap)
			b->reload = true;
		else
			rescan_later(b, KERN_RESCAN_FIRST_SEC);
	}
	if (tap)
		b->taps_dirty = true;
}

static void on_object(struct nl_object *obj, void *arg)
{
	const struct parsed *p = arg;
	struct kbind *b = &kern_binds[p->vrf];
	const char *type = nl_object_get_type(obj);

	if (strcmp(type, "route/route") == 0)
		change(p->vrf, b, (struct rtnl_route *)obj, p->type == RTM_NEWROUTE,
		       p->flags & NLM_F_REPLACE, p->apply);
	else if (p->apply && (strcmp(type, "route/link") == 0 || strcmp(type, "route/addr") == 0))
		link_changed(p->vrf, obj, p->type == RTM_DELLINK || p->type == RTM_DELADDR);
}

/*
 * Whether an RTA_VIA among len bytes of attributes holds at least its
 * family: libnl (3.7) copies its address with a length of the payload less
 * the family's two bytes, negative for a shorter one.
 */
static bool via_ok(struct nlattr *attrs, int len)
{
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, attrs, len, rem)
	{
		if (nla_type(a) == RTA_VIA && nla_len(a) < (int)sizeof(struct rtvia))
			return false;
	}
	return true;
}

/*
 * Whether libnl may parse a route message: its parser (3.7) loops for ever,
 * allocating, on a multipath next hop shorter than its own header (a length
 * of 0 never advances), and copies a negative length for an RTA_VIA without
 * its family (at the top or in a next hop). The kernel sends neither; a
 * message with one is refused.
 */
static bool route_msg_ok(struct nlmsghdr *h)
{
	struct nlattr *a;
	int rem;

	/* Every route message type libnl parses as a route: new, del and get. */
	if (h->nlmsg_type < RTM_NEWROUTE || h->nlmsg_type > RTM_GETROUTE ||
	    !nlmsg_valid_hdr(h, sizeof(struct rtmsg)))
		return true; /* not a route, or one libnl refuses itself */
	if (!via_ok(nlmsg_attrdata(h, sizeof(struct rtmsg)),
		    nlmsg_attrlen(h, sizeof(struct rtmsg))))
		return false;
	nlmsg_for_each_attr(a, h, sizeof(struct rtmsg), rem)
	{
		const struct rtnexthop *nh = nla_data(a);
		int len = nla_len(a);

		if (nla_type(a) != RTA_MULTIPATH)
			continue;
		while (len >= (int)sizeof(*nh)) {
			/* Its attributes, within both its length and the multipath's. */
			int data = (nh->rtnh_len < len ? nh->rtnh_len : len) -
				   (int)RTNH_ALIGN(sizeof(*nh));

			if (nh->rtnh_len < sizeof(*nh) ||
			    !via_ok((struct nlattr *)RTNH_DATA(nh), data))
				return false;
			len -= RTNH_ALIGN(nh->rtnh_len);
			nh = RTNH_NEXT(nh);
		}
	}
	return true;
}

static int on_message(struct nl_msg *msg, void *arg)
{
	struct parsed p = *(struct parsed *)arg;
	struct kbind *b = &kern_binds[p.vrf];

	if (p.apply && b->discarding)
		return NL_OK; /* older than the dump that follows */
	if (!p.apply && b->map_full)
		return NL_STOP; /* the rest of the table is not read (see change()) */
	if (!route_msg_ok(nlmsg_hdr(msg))) {
		b->errors++;
		snprintf(b->last_error, sizeof(b->last_error),
			 "netlink: a route message with a malformed next hop, ignored");
		return NL_OK;
	}
	p.type = nlmsg_hdr(msg)->nlmsg_type;
	p.flags = nlmsg_hdr(msg)->nlmsg_flags;
	b->events += p.apply;
	b->last_read += !p.apply;
	nl_msg_parse(msg, on_object, &p);
	return NL_OK;
}

void kern_routes_feed(uint16_t vrf, const void *buf, size_t len)
{
	struct parsed p = { .vrf = vrf, .apply = true };
	int rem = len > INT_MAX ? INT_MAX : (int)len;

	/* libnl takes no const header; nothing here writes to it. */
	for (struct nlmsghdr *h = (struct nlmsghdr *)(uintptr_t)buf; nlmsg_ok(h, rem);
	     h = nlmsg_next(h, &rem)) {
		struct nl_msg *msg = nlmsg_convert(h);
		if (msg == NULL)
			return;
		nlmsg_set_proto(msg, NETLINK_ROUTE); /* as a route socket's messages have it */
		on_message(msg, &p);
		nlmsg_free(msg);
	}
}

/* Reads the notification socket empty, applying nothing. */
static void drain(struct kbind *b)
{
	struct nl_cb *cb = b->ev_sk ? nl_socket_get_cb(b->ev_sk) : NULL;
	int rc, rounds = 0;

	b->discarding = true;
	while (cb && rounds++ < 100000) {
		rc = nl_recvmsgs_report(b->ev_sk, cb);
		if (rc == 0 || rc == -NLE_AGAIN)
			break; /* another overrun (-NLE_NOMEM) just goes on */
	}
	b->discarding = false;
	nl_cb_put(cb);
}

static void on_netlink(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	uint16_t vrf = (uint16_t)(uintptr_t)arg;
	struct kbind *b = &kern_binds[vrf];
	uint32_t n = 0;
	int rc = 0;

	(void)h;
	(void)fd;
	(void)events;
	struct nl_cb *cb = nl_socket_get_cb(b->ev_sk); /* a reference of ours */

	/*
	 * Each call reads one datagram of messages. At most kernel.batch of them per turn: a
	 * route storm must not starve the control socket, ARP and punts (review 3.6); the
	 * socket is watched level-triggered, so the rest is read on the next turn.
	 */
	while (n++ < (b->batch ? b->batch : 1) && (rc = nl_recvmsgs_report(b->ev_sk, cb)) > 0)
		;
	nl_cb_put(cb);
	if (rc > 0) {
		b->batch_yields++;
		return;
	}
	if (rc == 0 || rc == -NLE_AGAIN)
		return;
	/* Overrun (ENOBUFS) or worse: what was missed is read again whole. */
	b->overruns++;
	snprintf(b->last_error, sizeof(b->last_error), "netlink: %s", nl_geterror(rc));
	b->reload = true;
	b->taps_dirty = true;
	drain(b); /* what is still queued is older than the dump to come */
}

/* ---- whole tables ---- */

struct find_stale {
	struct kroutes *map; /* NULL: every kernel route is stale */
	uint64_t *gone;
	uint32_t n, cap;
	bool short_of_memory;
};

static void find_stale(uint32_t ip, uint8_t len, uint32_t value, void *arg)
{
	struct find_stale *s = arg;
	uint64_t key = KERN_KEY(ip, len);
	struct kroute *e;

	if (nh_group(&l3_nh, value)->origin != NH_ORIGIN_KERNEL)
		return;
	e = s->map ? kern_map_find(s->map, key) : NULL;
	if (e && e->mapped)
		return;
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 256;
		uint64_t *g = realloc(s->gone, cap * sizeof(*g));
		if (g == NULL) {
			s->short_of_memory = true; /* found again at the next resync */
			return;
		}
		s->gone = g;
		s->cap = cap;
	}
	s->gone[s->n++] = key;
}

struct dump {
	struct nl_sock *sk;
	int rc;
};

static int dump_here(void *arg)
{
	struct dump *d = arg;

	d->sk = nl_socket_alloc();
	if (d->sk == NULL)
		return -ENOMEM;
	d->rc = nl_connect(d->sk, NETLINK_ROUTE);
	if (d->rc < 0) {
		nl_socket_free(d->sk);
		d->sk = NULL;
		return -EIO;
	}
	return 0;
}

/*
 * The end of a dump carries its error, which libnl (3.7) does not read: a
 * table that does not exist yet (ENOENT, strict checks) reads as empty, any
 * other error fails the read rather than empty the FIB.
 */
static int on_done(struct nl_msg *msg, void *arg)
{
	const struct nlmsghdr *h = nlmsg_hdr(msg);
	int *err = arg, e;

	if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(e))) {
		memcpy(&e, nlmsg_data(h), sizeof(e));
		if (e < 0 && e != -ENOENT)
			*err = e;
	}
	return NL_STOP;
}

/* The whole table, read from the kernel into a fresh map that replaces b's on success. */
static int reload(uint16_t vrf, struct kbind *b)
{
	struct rtmsg rtm = { .rtm_family = AF_INET };
	struct parsed p = { .vrf = vrf, .apply = false };
	struct dump d = { NULL, 0 };
	struct kroutes old = b->map;
	struct nl_cb *cb = NULL;
	int rc = kern_in_netns(b->nsfd, dump_here, &d), nlrc = 0, one = 1, done = 0;
	bool incomplete = b->incomplete;

	/* Notifications queued now are older than the dump: they go unread. */
	drain(b);
	memset(&b->map, 0, sizeof(b->map));
	b->short_of_memory = false;
	b->incomplete = b->map_full = false;
	b->last_read = 0;
	if (rc == 0) {
		/*
		 * The bound table only, where the kernel can filter (strict checks, Linux
		 * 4.20): a tenant's other tables cost the read nothing. Else all of them,
		 * classify() keeping the table's.
		 */
		rtm.rtm_table = (unsigned char)b->table;
		if (setsockopt(nl_socket_get_fd(d.sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
			       sizeof(one)) < 0)
			rtm.rtm_table = 0;
		nlrc = nl_send_simple(d.sk, RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));
		if (nlrc >= 0) {
			cb = nl_cb_alloc(NL_CB_DEFAULT);
			nlrc = cb ? nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_message, &p)
				  : -NLE_NOMEM;
		}
		if (nlrc >= 0)
			nlrc = nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, &done);
		if (nlrc >= 0)
			nlrc = nl_recvmsgs(d.sk, cb);
		if (nlrc >= 0 && done < 0)
			nlrc = -nl_syserr2nlerr(done);
		if (nlrc >= 0 && b->short_of_memory)
			nlrc = -NLE_NOMEM;
	}
	nl_cb_put(cb);
	if (d.sk)
		nl_socket_free(d.sk);
	if (rc < 0 || nlrc < 0) {
		/* The map stays what it was (the FIB still has it): tried again in a second. */
		kern_map_free(&b->map);
		b->map = old;
		b->incomplete = incomplete;
		b->errors++;
		snprintf(b->last_error, sizeof(b->last_error), "reading the table: %s",
			 nlrc < 0   ? nl_geterror(nlrc)
			 : d.rc < 0 ? nl_geterror(d.rc)
				    : strerror(-rc));
		return -EIO;
	}
	kern_map_free(&old);
	/* Read again while routes stay ignored: 5 s, then twice as long each time, to 5 min. */
	b->rescan_at = 0;
	if (b->incomplete) {
		b->rescan_sec = b->rescan_sec ? RTE_MIN(2 * b->rescan_sec, KERN_RESCAN_MAX_SEC)
					      : KERN_RESCAN_FIRST_SEC;
		rescan_later(b, b->rescan_sec);
	} else {
		b->rescan_sec = 0;
		b->warned = false;
	}
	return 0;
}

void kern_routes_resync(uint16_t vrf, bool whole)
{
	struct kbind *b = &kern_binds[vrf];
	struct find_stale st = { &b->map, NULL, 0, 0, false };

	b->resync = false;
	if (whole) {
		b->reload = false;
		b->reload_after = rte_rdtsc() + rte_get_tsc_hz();
		if (reload(vrf, b) < 0) {
			b->reload = true; /* tried again in a second */
			b->resync_after = rte_rdtsc() + rte_get_tsc_hz();
			return;
		}
	}
	b->resyncs++;
	b->n_mapped = 0;
	wait_clear(b); /* counted again by install() */
	for (uint32_t i = 0; i < b->map.cap; i++) {
		struct kroute *e = &b->map.slot[i];
		if (e->key == 0)
			continue;
		e->waiting = false;
		e->wait_ix = KERN_UNLISTED;
		map_best(vrf, e);
		b->n_mapped += e->mapped;
		install(b, vrf, e);
	}
	fib_walk(&l3_fib, vrf, find_stale, &st);
	for (uint32_t i = 0; i < st.n; i++)
		uninstall(b, vrf, st.gone[i]);
	free(st.gone);
	if (st.short_of_memory) {
		b->resync = true;
		b->resync_after = rte_rdtsc() + rte_get_tsc_hz();
	}
}

/* Every kernel route of the VRF leaves its FIB (whatever the map says). */
static void uninstall_all(uint16_t vrf, struct kbind *b)
{
	struct find_stale st = { NULL, NULL, 0, 0, false };

	fib_walk(&l3_fib, vrf, find_stale, &st);
	for (uint32_t i = 0; i < st.n; i++)
		uninstall(b, vrf, st.gone[i]);
	free(st.gone);
}

/* ---- the notification socket ---- */

struct sub {
	uint16_t vrf;
	struct nl_sock *sk;
	int rc;
};

static int subscribe_here(void *arg)
{
	struct sub *s = arg;
	static struct parsed ctx[FIB_MAX_VRFS]; /* what each VRF's callback is given */

	s->sk = nl_socket_alloc();
	if (s->sk == NULL)
		return -ENOMEM;
	ctx[s->vrf] = (struct parsed){ .vrf = s->vrf, .apply = true };
	nl_socket_disable_seq_check(s->sk);
	nl_socket_modify_cb(s->sk, NL_CB_VALID, NL_CB_CUSTOM, on_message, &ctx[s->vrf]);
	s->rc = nl_connect(s->sk, NETLINK_ROUTE);
	if (s->rc == 0)
		s->rc = nl_socket_add_memberships(s->sk, RTNLGRP_IPV4_ROUTE, RTNLGRP_LINK,
						  RTNLGRP_IPV4_IFADDR, 0);
	if (s->rc == 0)
		s->rc = nl_socket_set_nonblocking(s->sk);
	return s->rc < 0 ? -EIO : 0;
}

int kern_routes_watch(uint16_t vrf)
{
	struct kbind *b = &kern_binds[vrf];
	int fd = nl_socket_get_fd(b->ev_sk), size = (int)b->buffer_kb << 10;

	/* A big receive buffer: a routing daemon's burst of changes is not an overrun. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	b->ev = ev_add(kern_loop, fd, EPOLLIN, on_netlink, (void *)(uintptr_t)vrf);
	return b->ev ? 0 : -ENOMEM;
}

int kern_routes_start(uint16_t vrf)
{
	struct kbind *b = &kern_binds[vrf];
	struct sub s = { vrf, NULL, 0 };
	int rc = kern_in_netns(b->nsfd, subscribe_here, &s);

	b->ev_sk = s.sk;
	if (rc < 0) {
		snprintf(b->last_error, sizeof(b->last_error), "netlink subscription: %s",
			 s.rc ? nl_geterror(s.rc) : strerror(-rc));
		kern_routes_stop(vrf, false);
		return -EIO;
	}
	if (kern_loop && kern_routes_watch(vrf) < 0) {
		kern_routes_stop(vrf, false);
		return -ENOMEM;
	}
	/* Subscribed first, then the dump: nothing falls between the two. */
	b->reload = true;
	return 0;
}

void kern_routes_stop(uint16_t vrf, bool keep_fib)
{
	struct kbind *b = &kern_binds[vrf];

	if (b->ev)
		ev_del(kern_loop, b->ev);
	b->ev = NULL;
	if (b->ev_sk)
		nl_socket_free(b->ev_sk);
	b->ev_sk = NULL;
	/* The kernel's routes leave the FIB with the binding (not at exit: it goes whole). */
	if (!keep_fib)
		uninstall_all(vrf, b);
	kern_map_free(&b->map);
	b->n_mapped = 0;
	wait_clear(b);
	free(b->wait_keys);
	b->wait_keys = NULL;
	b->wait_cap = 0;
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
