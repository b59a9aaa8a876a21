/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bound VRFs and their interfaces' TAPs (see kernel.h): bindings follow the
 * config, TAPs are made and kept as their interfaces say, and frames cross
 * between the dataplane and the kernel through them on the control thread
 * (control-plane rates: BGP, not forwarding).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ether.h>

#include "evloop.h"
#include "fault.h"
#include "kernel_int.h"
#include "log.h"
#include "router_int.h"

struct kbind *kern_binds;
struct ktap *kern_taps;
struct evloop *kern_loop;

/*
 * The VRFs whose binding is on or failed, a bit each: kern_poll visits
 * those only. Reading a cache line of each of the FIB_MAX_VRFS bindings
 * every tick (256 KiB), with no VRF bound at all, was 1.2% of tessd's
 * samples in router-tenants and 13% of an idle control thread's.
 */
static uint64_t kern_live[FIB_MAX_VRFS / 64];

/* Records whether vrf's binding needs kern_poll, after its state changed. */
static void kern_live_update(uint16_t vrf)
{
	const struct kbind *b = &kern_binds[vrf];
	uint64_t bit = 1ull << (vrf % 64);

	if (b->on || b->failed)
		kern_live[vrf / 64] |= bit;
	else
		kern_live[vrf / 64] &= ~bit;
}

/* No binding for vrf (nor a failed one to retry). */
static void kbind_clear(uint16_t vrf)
{
	struct kbind *b = &kern_binds[vrf];

	memset(b, 0, sizeof(*b));
	b->nsfd = -1;
	kern_live_update(vrf);
}

static void on_tap(struct ev_handle *h, int fd, uint32_t events, void *arg);

void kern_attach(struct evloop *loop)
{
	kern_loop = loop;
	if (loop == NULL)
		return;
	/* What the startup config bound before the loop existed joins it now. */
	for (uint16_t id = 1; kern_taps && id < L3_MAX_IFACES; id++)
		if (kern_taps[id].fd >= 0 && kern_taps[id].ev == NULL)
			kern_taps[id].ev = ev_add(loop, kern_taps[id].fd, EPOLLIN, on_tap,
						  (void *)(uintptr_t)id);
	for (uint16_t id = 1; kern_binds && id < FIB_MAX_VRFS; id++)
		if (kern_binds[id].on && kern_binds[id].ev == NULL)
			kern_routes_watch(id);
}

static int ensure_tables(void)
{
	if (kern_binds == NULL)
		kern_binds = calloc(FIB_MAX_VRFS, sizeof(*kern_binds));
	if (kern_taps == NULL) {
		kern_taps = calloc(L3_MAX_IFACES, sizeof(*kern_taps));
		for (uint32_t i = 0; kern_taps && i < L3_MAX_IFACES; i++)
			kern_taps[i].fd = -1;
	}
	return kern_binds && kern_taps ? 0 : -ENOMEM;
}

/* ---- TAPs ---- */

/* A frame in mbufs of the control pool, chained when one is too small (jumbo MTUs). */
static struct rte_mbuf *frame_mbuf(const uint8_t *p, size_t n)
{
	struct rte_mbuf *head = rt_pool ? rte_pktmbuf_alloc(rt_pool) : NULL, *seg = head;

	while (seg && n) {
		size_t k = RTE_MIN(n, (size_t)rte_pktmbuf_tailroom(seg));
		char *dst = rte_pktmbuf_append(seg, (uint16_t)k);

		if (dst == NULL) /* never (k fits), but gcc -fanalyzer cannot tell */
			break;
		memcpy(dst, p, k);
		p += k;
		n -= k;
		if (n) {
			seg = rte_pktmbuf_alloc(rt_pool);
			if (seg == NULL || rte_pktmbuf_chain(head, seg) < 0) {
				rte_pktmbuf_free(seg);
				seg = NULL;
			}
		}
	}
	if (seg == NULL || n) {
		rte_pktmbuf_free(head);
		return NULL;
	}
	return head;
}

/* Frames the kernel sends out of a TAP leave through its interface. */
static void on_tap(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	uint16_t iface = (uint16_t)(uintptr_t)arg;
	struct ktap *t = &kern_taps[iface];
	static uint8_t buf[KERN_FRAME_MAX + 1];

	(void)h;
	(void)events;
	for (int i = 0; i < 64; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)buf;
		struct rte_mbuf *m;

		if (n <= 0)
			return;
		if (n > KERN_FRAME_MAX) { /* more than the TAP's MTU allows: never truncated */
			t->drops++;
			continue;
		}
		/* IPv4 and ARP only: the dataplane routes nothing else (IPv6 RS, LLDP...). */
		if (n < (ssize_t)RTE_ETHER_HDR_LEN ||
		    (eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) &&
		     eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_ARP))) {
			t->drops++;
			continue;
		}
		if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP) &&
		    n >= (ssize_t)(RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr))) {
			const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(eh + 1);
			if (a->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST)) {
				t->asked[t->next_asked].ip = a->arp_data.arp_tip;
				t->asked[t->next_asked].at = rte_rdtsc();
				t->next_asked = (uint8_t)((t->next_asked + 1) % KERN_ARP_ASKED);
			}
		}
		m = frame_mbuf(buf, (size_t)n);
		if (m == NULL) {
			t->drops++;
			continue;
		}
		t->from_kernel++;
		rt_inject(m, iface);
	}
}

static void tap_close(uint16_t iface)
{
	struct ktap *t = &kern_taps[iface];

	if (t->ev)
		ev_del(kern_loop, t->ev);
	if (t->fd >= 0) {
		close(t->fd); /* a TAP that is not persistent goes with its last fd */
		if (kern_binds[t->vrf].on)
			kern_binds[t->vrf].taps_changed = true;
	}
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

/* Makes (if needed) and sets up interface id's TAP (name) in its VRF's namespace. */
static void tap_sync(uint16_t id, const char *name, uint16_t vrf)
{
	struct kbind *b = &kern_binds[vrf];
	struct ktap *t = &kern_taps[id];
	const struct l3_tables *l3 = rt_tables();
	char err[256];
	int fd;

	if (t->fd >= 0 && (t->vrf != vrf || strcmp(t->name, name) != 0)) {
		/* Its routes go from the VRF it leaves (the kernel flushes them silently). */
		kern_binds[t->vrf].reload = true; /* routes through it went silently */
		tap_close(id);
		b->resync = true;
	}
	if (t->fd < 0) {
		fd = kern_tap_open(b->nsfd, name);
		if (fd < 0) {
			b->errors++;
			snprintf(b->last_error, sizeof(b->last_error), "TAP %s in netns %s: %s",
				 name, b->netns, strerror(-fd));
			/* Tried again in a few seconds (a name taken may be freed). */
			t->want = true;
			t->vrf = vrf;
			snprintf(t->name, sizeof(t->name), "%s", name);
			b->tap_retry_at = rte_rdtsc() + 5 * rte_get_tsc_hz();
			return;
		}
		t->fd = fd;
		t->vrf = vrf;
		snprintf(t->name, sizeof(t->name), "%s", name);
		t->ev = kern_loop ? ev_add(kern_loop, fd, EPOLLIN, on_tap, (void *)(uintptr_t)id)
				  : NULL;
		b->resync = true; /* routes through it can be mapped now */
		b->taps_changed = true;
	}
	if (l3 == NULL)
		return; /* set up once the interface table is published */
	int ifindex = t->ifindex;
	/* At most what a frame of the kernel's can carry back in mbufs (see on_tap). */
	uint32_t mtu = RTE_MIN(l3->iface[id].mtu, (uint32_t)(KERN_FRAME_MAX - RTE_ETHER_HDR_LEN));
	if (kern_tap_configure(b->sk, name, l3->iface[id].mac.addr_bytes, mtu, rt_ifs[id].addr,
			       rt_ifs[id].len, rt_ifs[id].n_addr, &t->ifindex, err,
			       sizeof(err)) < 0) {
		b->errors++;
		snprintf(b->last_error, sizeof(b->last_error), "%s", err);
	}
	if (t->ifindex != ifindex)
		b->taps_changed = true;
}

/* ---- bindings ---- */

static void unbind(uint16_t vrf, bool exiting)
{
	struct kbind *b = &kern_binds[vrf];

	for (uint16_t i = 1; i < L3_MAX_IFACES; i++)
		if ((kern_taps[i].fd >= 0 || kern_taps[i].want) && kern_taps[i].vrf == vrf)
			tap_close(i);
	kern_routes_stop(vrf, exiting);
	if (b->sk)
		nl_socket_free(b->sk);
	free(b->tap_ifindex);
	free(b->tap_iface);
	if (b->nsfd >= 0 && b->on)
		close(b->nsfd);
	kbind_clear(vrf);
}

/* What b is bound to (or is to be), from k. */
static void bind_params(uint16_t vrf, const struct tessd_kernel_cfg *k)
{
	struct kbind *b = &kern_binds[vrf];

	b->vrf_born = rt_vrfs[vrf].born;
	snprintf(b->netns, sizeof(b->netns), "%s", k->netns);
	b->table = k->table;
	b->buffer_kb = k->buffer_kb;
	b->batch = k->batch;
	b->max_map = k->max_map;
}

uint32_t kern_map_cap(uint16_t vrf)
{
	const struct kbind *b = &kern_binds[vrf];

	/* max_routes is at most 2^24: twice it fits. */
	return b->max_map ? b->max_map : 2 * rt_vrfs[vrf].max_routes;
}

/* A binding that failed: shown with its error, tried again in a few seconds. */
static void bind_failed(uint16_t vrf, const struct tessd_kernel_cfg *k, const char *why)
{
	struct kbind *b = &kern_binds[vrf];
	char err[sizeof(b->last_error)];

	snprintf(err, sizeof(err), "%s", why);
	kbind_clear(vrf);
	b->failed = true;
	kern_live_update(vrf);
	b->retry_at = rte_rdtsc() + 5 * rte_get_tsc_hz();
	bind_params(vrf, k);
	snprintf(b->last_error, sizeof(b->last_error), "%s", err);
}

/*
 * How a binding reads (batch, buffer_kb, max_map) changes in place:
 * rebinding would close its TAPs and reset the sessions through them for
 * no reason. A new cap takes effect at the next tick (kern_map_capped).
 */
static void bind_tune(struct kbind *b, const struct tessd_kernel_cfg *k)
{
	b->batch = k->batch;
	b->max_map = k->max_map;
	if (b->buffer_kb == k->buffer_kb)
		return;
	if (b->on && b->ev_sk) {
		/* As kern_routes_watch() sets it; queued notifications are kept. */
		int fd = nl_socket_get_fd(b->ev_sk), size = (int)k->buffer_kb << 10,
		    rc = dp_fault("kernel_rcvbuf");
		if (rc == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
			rc = -errno;
		if (rc < 0) {
			b->errors++;
			snprintf(b->last_error, sizeof(b->last_error),
				 "netlink receive buffer of %u KiB: %s", k->buffer_kb,
				 strerror(-rc));
			return; /* not in force: the next commit tries again */
		}
	}
	b->buffer_kb = k->buffer_kb;
}

static int bind_vrf(uint16_t vrf, const char *name, const struct tessd_kernel_cfg *k)
{
	struct kbind *b = &kern_binds[vrf];
	const char *netns = k->netns;
	uint32_t table = k->table;
	bool made;
	int rc;

	kbind_clear(vrf);
	bind_params(vrf, k);
	b->nsfd = kern_netns_open(netns, &made);
	if (b->nsfd < 0) {
		char why[160];
		snprintf(why, sizeof(why), "netns %s: %s", netns, strerror(-b->nsfd));
		DP_LOG_F(ERR, DP_VRF_FIELDS(&rt_vrfs[vrf]), "VRF %s: %s", name, why);
		rc = b->nsfd;
		bind_failed(vrf, k, why);
		return rc;
	}
	b->on = true;
	kern_live_update(vrf);
	if (made)
		DP_LOG_F(INFO, DP_VRF_FIELDS(&rt_vrfs[vrf]), "VRF %s: made netns %s", name, netns);
	b->sk = kern_sock_open(b->nsfd);
	rc = b->sk ? kern_routes_start(vrf) : -EIO;
	if (rc < 0) {
		char why[sizeof(b->last_error)];
		snprintf(why, sizeof(why), "%s", b->last_error[0] ? b->last_error : "netlink");
		DP_LOG_F(ERR, DP_VRF_FIELDS(&rt_vrfs[vrf]),
			 "VRF %s: cannot follow table %u of netns %s: %s", name, table, netns, why);
		unbind(vrf, false);
		bind_failed(vrf, k, why);
		return rc;
	}
	DP_LOG_F(INFO, DP_VRF_FIELDS(&rt_vrfs[vrf]), "VRF %s: follows table %u of netns %s", name,
		 table, netns);
	return 0;
}

void kern_sync(const struct tessd_router_index *ix)
{
	const struct tessd_router_cfg *r = &ix->cfg->router;

	if (ensure_tables() < 0) {
		DP_LOG(ERR, "kernel: no memory for bindings");
		return;
	}
	/* Bindings that went or changed. */
	for (uint16_t id = 1; id < FIB_MAX_VRFS; id++) {
		struct kbind *b = &kern_binds[id];
		const struct tessd_vrf_cfg *vc;
		if (!b->on && !b->failed)
			continue;
		vc = tessd_ix_vrf(ix, rt_vrfs[id].name);
		if (!rt_vrfs[id].on || vc == NULL || vc->id != id ||
		    strcmp(vc->kernel.netns, b->netns) != 0 || vc->kernel.table != b->table) {
			if (b->on)
				unbind(id, false);
			kbind_clear(id);
		} else {
			bind_tune(b, &vc->kernel);
			/*
			 * A VRF made again with the id, netns and table (renamed in one commit)
			 * has a new, empty FIB: the table mapped into it at the next tick (the
			 * TAPs and the routes through them stay).
			 */
			if (b->vrf_born != rt_vrfs[id].born) {
				b->vrf_born = rt_vrfs[id].born;
				b->resync = true;
			}
		}
	}
	for (uint32_t i = 0; i < r->n_vrfs; i++) {
		const struct tessd_vrf_cfg *vc = &r->vrfs[i];
		struct kbind *b = &kern_binds[vc->id];
		if (vc->kernel.netns[0] && !b->on && !b->failed && rt_vrfs[vc->id].on)
			bind_vrf(vc->id, vc->name, &vc->kernel);
	}
	/* TAPs: one per interface of a bound VRF, as its interface says. */
	for (uint16_t id = 1; id < L3_MAX_IFACES; id++) {
		struct ktap *t = &kern_taps[id];
		const struct tessd_iface_cfg *ic =
			rt_ifs[id].state == RT_IF_USED ? tessd_ix_iface(ix, rt_ifs[id].name) : NULL;
		uint16_t vrf = ic ? rt_ifs[id].vrf : 0;
		if (ic && kern_binds[vrf].on) {
			tap_sync(id, tessd_iface_kernel_name(ic), vrf);
		} else {
			if (t->fd >= 0) {
				kern_binds[t->vrf].reload =
					true; /* routes through it went silently */
				tap_close(id);
			}
			/* Wanted once its VRF's failed binding succeeds; else not at all. */
			t->want = ic && kern_binds[vrf].failed;
			t->vrf = t->want ? vrf : 0;
			snprintf(t->name, sizeof(t->name), "%s",
				 t->want ? tessd_iface_kernel_name(ic) : "");
		}
	}
}

/*
 * The map's cap changed (max_map, or max_routes that it follows): a lower
 * one than the map holds reads the table again, which stops at the cap; a
 * higher one reads at once what was ignored.
 */
static void kern_map_capped(uint16_t id)
{
	struct kbind *b = &kern_binds[id];
	uint32_t cap = kern_map_cap(id);

	if (cap == b->cap_seen)
		return;
	if (b->map.n > cap) {
		b->reload = true;
	} else if (b->incomplete && cap > b->cap_seen) {
		b->rescan_sec = 0;
		b->rescan_at = rte_rdtsc();
	}
	b->cap_seen = cap;
}

/* A tick of one VRF with a binding (on, or failed and waiting to be retried). */
static void kern_poll_vrf(uint16_t id)
{
	struct kbind *b = &kern_binds[id];

	if (b->failed && rte_rdtsc() > b->retry_at) {
		struct tessd_kernel_cfg k = { .table = b->table,
					      .buffer_kb = b->buffer_kb,
					      .batch = b->batch,
					      .max_map = b->max_map };
		snprintf(k.netns, sizeof(k.netns), "%s", b->netns);
		if (bind_vrf(id, rt_vrfs[id].name, &k) == 0)
			b->taps_dirty = true; /* its interfaces get their TAPs */
	}
	if (!b->on)
		return;
	if (b->tap_retry_at && rte_rdtsc() > b->tap_retry_at) {
		b->tap_retry_at = 0;
		b->taps_dirty = true;
	}
	if (b->taps_dirty) {
		b->taps_dirty = false;
		for (uint16_t i = 1; i < L3_MAX_IFACES; i++) {
			struct ktap *t = &kern_taps[i];
			if ((t->fd >= 0 || t->want) && t->vrf == id &&
			    rt_ifs[i].state == RT_IF_USED && rt_ifs[i].vrf == id) {
				char name[TESS_IFNAME_LEN];
				snprintf(name, sizeof(name), "%s", t->name);
				t->want = false;
				tap_sync(i, name, id);
			}
		}
	}
	if (b->taps_changed) {
		b->taps_changed = false;
		kern_taps_index(id);
	}
	kern_map_capped(id);
	/* Routes ignored may fit now, or a device's silent flush is to be seen. */
	if (b->rescan_at && rte_rdtsc() >= b->rescan_at) {
		b->rescan_at = 0;
		/* The next one, if this read still ignores routes, twice as far: 5, 10, 20 s... */
		b->rescan_sec = RTE_MAX(b->rescan_sec, KERN_RESCAN_FIRST_SEC);
		b->rescans += !b->reload;
		b->reload = true;
	}
	/* A whole read at most once a second: link flaps in the namespace cost no more. */
	if ((b->resync || b->reload) && rte_rdtsc() >= b->resync_after &&
	    (!b->reload || rte_rdtsc() >= b->reload_after))
		kern_routes_resync(id, b->reload);
	/* A route of the VRF went or its limits changed: routes refused may fit now. */
	if (rt_vrfs[id].room) {
		rt_vrfs[id].room = false;
		kern_routes_room(id);
	}
	if (b->retry_left)
		kern_routes_retry(id);
}

void kern_poll(void)
{
	if (kern_binds == NULL)
		return;
	for (unsigned w = 0; w < RTE_DIM(kern_live); w++) {
		/* A copy of the word: a visit changes its own VRF's bit only, if any. */
		for (uint64_t bits = kern_live[w]; bits; bits &= bits - 1)
			kern_poll_vrf((uint16_t)(w * 64 + (unsigned)__builtin_ctzll(bits)));
	}
}

void kern_fini(void)
{
	for (uint16_t id = 1; kern_binds && id < FIB_MAX_VRFS; id++)
		if (kern_binds[id].on)
			unbind(id, true);
	free(kern_binds);
	free(kern_taps);
	memset(kern_live, 0, sizeof(kern_live));
	kern_binds = NULL;
	kern_taps = NULL;
}

/* ---- frames to the kernel ---- */

static bool to_tap(const struct rte_mbuf *m, struct ktap *t)
{
	static uint8_t buf[16384];
	const void *p = rte_pktmbuf_read(m, 0, m->pkt_len <= sizeof(buf) ? m->pkt_len : 0, buf);

	if (p == NULL || m->pkt_len > sizeof(buf) || write(t->fd, p, m->pkt_len) < 0) {
		t->drops++;
		return false;
	}
	t->to_kernel++;
	return true;
}

bool kern_punt(struct rte_mbuf *m, uint16_t iface)
{
	struct ktap *t = kern_taps ? &kern_taps[iface] : NULL;

	if (t == NULL || t->fd < 0)
		return false;
	to_tap(m, t);
	rte_pktmbuf_free(m);
	return true;
}

/* Whether the kernel asked for ip lately; the question is then answered. */
static bool kern_asked_take(struct ktap *t, uint32_t ip)
{
	uint64_t now = rte_rdtsc(), old = KERN_ARP_ASKED_SEC * rte_get_tsc_hz();

	for (unsigned i = 0; i < KERN_ARP_ASKED; i++) {
		if (t->asked[i].ip == ip && ip != 0 && now - t->asked[i].at < old) {
			t->asked[i].ip = 0;
			return true;
		}
	}
	return false;
}

void kern_arp_copy(const struct rte_mbuf *m, uint16_t iface, bool accepted)
{
	struct ktap *t = kern_taps ? &kern_taps[iface] : NULL;
	const struct rte_arp_hdr *a;

	if (t == NULL || t->fd < 0 || m->data_len < RTE_ETHER_HDR_LEN + sizeof(*a))
		return;
	a = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, RTE_ETHER_HDR_LEN);
	/* tessd answers requests; the kernel learns from replies, as tessd does. */
	if (accepted || (a->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY) &&
			 kern_asked_take(t, a->arp_data.arp_sip)))
		to_tap(m, t);
}

/* ---- what the API shows ---- */

json_t *kern_vrf_json(uint16_t vrf)
{
	const struct kbind *b = kern_binds ? &kern_binds[vrf] : NULL;
	uint32_t mapped = 0;

	if (b && b->failed)
		return json_pack("{s:s, s:i, s:s, s:s, s:[]}", "netns", b->netns, "table",
				 (int)b->table, "state", "failed", "last_error", b->last_error,
				 "unmapped");
	if (b == NULL || !b->on)
		return NULL;
	mapped = b->n_mapped;
	return json_pack("{s:s, s:i, s:s, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:o}",
			 "netns", b->netns, "table", (int)b->table, "state", "bound",
			 "kernel_routes", (json_int_t)mapped, "map_entries", (json_int_t)b->map.n,
			 "max_map", (json_int_t)kern_map_cap(vrf), "ignored",
			 (json_int_t)b->ignored, "incomplete", b->incomplete, "rescans",
			 (json_int_t)b->rescans, "last_read", (json_int_t)b->last_read, "waiting",
			 (json_int_t)b->n_waiting, "room_retries", (json_int_t)b->room_retries,
			 "retry_yields", (json_int_t)b->retry_yields, "events",
			 (json_int_t)b->events, "resyncs", (json_int_t)b->resyncs, "overruns",
			 (json_int_t)b->overruns, "errors", (json_int_t)b->errors, "installed",
			 (json_int_t)b->installed, "removed", (json_int_t)b->removed, "shadowed",
			 (json_int_t)b->shadowed, "batch_yields", (json_int_t)b->batch_yields,
			 "last_error", b->last_error, "unmapped", kern_unmapped_json(b));
}

json_t *kern_iface_json(uint16_t iface)
{
	const struct ktap *t = kern_taps ? &kern_taps[iface] : NULL;

	if (t == NULL || t->fd < 0)
		return NULL;
	return json_pack("{s:s, s:i, s:I, s:I, s:I}", "tap", t->name, "ifindex", t->ifindex,
			 "punted_to_kernel", (json_int_t)t->to_kernel, "from_kernel",
			 (json_int_t)t->from_kernel, "drops", (json_int_t)t->drops);
}

/*
 * gcc 12's analyzer keeps one heap pointer stored through kern_binds[vrf]
 * (a symbolic index), not two: it reports the first as leaked when the
 * second is stored. Both are freed by the next call or by unbind().
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
void kern_taps_index(uint16_t vrf)
{
	struct kbind *b = &kern_binds[vrf];
	uint32_t n = 0;

	for (uint16_t i = 1; i < L3_MAX_IFACES; i++)
		n += kern_taps[i].fd >= 0 && kern_taps[i].vrf == vrf;
	free(b->tap_ifindex);
	free(b->tap_iface);
	b->tap_ifindex = calloc(n + 1, sizeof(*b->tap_ifindex));
	b->tap_iface = calloc(n + 1, sizeof(*b->tap_iface));
	b->n_taps = 0;
	if (b->tap_ifindex == NULL || b->tap_iface == NULL) {
		b->taps_changed = true; /* tried again; a resync meanwhile would map nothing */
		return;
	}
	for (uint16_t i = 1; b->tap_ifindex && b->tap_iface && i < L3_MAX_IFACES; i++) {
		if (kern_taps[i].fd >= 0 && kern_taps[i].vrf == vrf) {
			b->tap_ifindex[b->n_taps] = kern_taps[i].ifindex;
			b->tap_iface[b->n_taps++] = i;
		}
	}
	b->resync = true; /* next hops map differently now */
}
#pragma GCC diagnostic pop
