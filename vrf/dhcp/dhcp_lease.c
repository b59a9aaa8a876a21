/* SPDX-License-Identifier: BSD-3-Clause */
#include "dhcp_lease.h"
#include "dhcp_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The slot of a pool address, or -1 outside the pools. */
static int64_t slot_of(const struct dhcp_leases *d, uint32_t ip)
{
	uint64_t base = 0;

	for (uint32_t i = 0; i < d->n_ranges; i++) {
		const struct tessd_dhcp_range *r = &d->ranges[i];
		if (ip >= r->start && ip <= r->end)
			return (int64_t)(base + (ip - r->start));
		base += (uint64_t)r->end - r->start + 1;
	}
	return -1;
}

static uint32_t ip_of(const struct dhcp_leases *d, uint32_t slot)
{
	for (uint32_t i = 0; i < d->n_ranges; i++) {
		const struct tessd_dhcp_range *r = &d->ranges[i];
		uint32_t n = r->end - r->start + 1;
		if (slot < n)
			return r->start + slot;
		slot -= n;
	}
	return 0;
}

static void set_slot(struct dhcp_leases *d, uint32_t ip, uint8_t v)
{
	int64_t s = slot_of(d, ip);

	if (s >= 0 && d->slot[s] != DL_BLOCKED)
		d->slot[s] = v;
}

static int cmp_resv(const void *a, const void *b)
{
	return memcmp(((const struct tessd_dhcp_resv *)a)->mac.b,
		      ((const struct tessd_dhcp_resv *)b)->mac.b, 6);
}

/* ---- the indexes ---- */

static uint32_t hash_ip(uint32_t ip)
{
	return ip * 0x9e3779b1u;
}

static uint32_t hash_mac(const uint8_t mac[6])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 16777619u;
	return h;
}

/* Where lease i's key hashes to in the table t (by_ip or by_mac). */
static uint32_t home(const struct dhcp_leases *d, const uint32_t *t, uint32_t i)
{
	return (t == d->by_ip ? hash_ip(d->l[i].ip) : hash_mac(d->l[i].mac)) & d->hmask;
}

static void tab_add(struct dhcp_leases *d, uint32_t *t, uint32_t i)
{
	uint32_t h = home(d, t, i);

	while (t[h])
		h = (h + 1) & d->hmask;
	t[h] = i + 1;
}

/* Takes lease i out of t (if there), shifting later entries back (no tombstones). */
static void tab_del(struct dhcp_leases *d, uint32_t *t, uint32_t i)
{
	uint32_t h = home(d, t, i), j;

	while (t[h] && t[h] != i + 1)
		h = (h + 1) & d->hmask;
	if (t[h] == 0)
		return;
	t[h] = 0;
	for (j = (h + 1) & d->hmask; t[j]; j = (j + 1) & d->hmask) {
		uint32_t k = home(d, t, t[j] - 1);
		/* The entry at j may move to the hole at h unless its home lies in (h, j]. */
		if (((j - k) & d->hmask) >= ((j - h) & d->hmask)) {
			t[h] = t[j];
			t[j] = 0;
			h = j;
		}
	}
}

static void idx_add(struct dhcp_leases *d, uint32_t i)
{
	tab_add(d, d->by_ip, i);
	if (d->l[i].state != DL_DECLINED)
		tab_add(d, d->by_mac, i);
}

static void idx_del(struct dhcp_leases *d, uint32_t i)
{
	tab_del(d, d->by_ip, i);
	tab_del(d, d->by_mac, i);
}

int dhcp_leases_init(struct dhcp_leases *d, const struct tessd_dhcp_server_cfg *sc)
{
	uint32_t hsize = 2;

	uint64_t n = 0;

	memset(d, 0, sizeof(*d));
	for (uint32_t i = 0; i < sc->n_pools && i < TESS_DHCP_MAX_POOLS; i++) {
		if (sc->pools[i].end < sc->pools[i].start)
			continue;
		d->ranges[d->n_ranges++] = sc->pools[i];
		n += (uint64_t)sc->pools[i].end - sc->pools[i].start + 1;
	}
	if (n > TESS_DHCP_MAX_ADDRS)
		return -EINVAL;
	d->n_addrs = (uint32_t)n;
	d->cap = sc->max_leases;
	d->slot = calloc(n ? n : 1, 1);
	d->l = calloc(d->cap ? d->cap : 1, sizeof(*d->l));
	d->resv = calloc(sc->n_reservations ? sc->n_reservations : 1, sizeof(*d->resv));
	while (hsize < 2 * (uint64_t)d->cap)
		hsize *= 2;
	d->hmask = hsize - 1;
	d->by_ip = calloc(hsize, sizeof(*d->by_ip));
	d->by_mac = calloc(hsize, sizeof(*d->by_mac));
	if (d->slot == NULL || d->l == NULL || d->resv == NULL || d->by_ip == NULL ||
	    d->by_mac == NULL) {
		dhcp_leases_fini(d);
		return -ENOMEM;
	}
	if (sc->n_reservations) /* reservations is NULL when there are none */
		memcpy(d->resv, sc->reservations, sc->n_reservations * sizeof(*d->resv));
	d->n_resv = sc->n_reservations;
	qsort(d->resv, d->n_resv, sizeof(*d->resv), cmp_resv);
	for (uint32_t i = 0; i < sc->n_exclude; i++) {
		uint32_t lo = sc->exclude[i].start;
		uint32_t hi = sc->exclude[i].end ? sc->exclude[i].end : lo;
		/* Only where it meets a pool: an exclusion may be as wide as it likes. */
		for (uint32_t r = 0; r < d->n_ranges; r++) {
			uint32_t a = lo > d->ranges[r].start ? lo : d->ranges[r].start;
			uint32_t b = hi < d->ranges[r].end ? hi : d->ranges[r].end;
			for (uint64_t ip = a; a <= b && ip <= b; ip++)
				d->slot[slot_of(d, (uint32_t)ip)] = DL_BLOCKED;
		}
	}
	for (uint32_t i = 0; i < d->n_resv; i++) {
		int64_t s = slot_of(d, d->resv[i].address);
		if (s >= 0)
			d->slot[s] = DL_BLOCKED;
	}
	return 0;
}

static bool same_mem(const void *a, const void *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

bool dhcp_leases_cfg_same(const struct tessd_dhcp_server_cfg *a,
			  const struct tessd_dhcp_server_cfg *b)
{
	return strcmp(a->interface, b->interface) == 0 && a->max_leases == b->max_leases &&
	       a->n_pools == b->n_pools && a->n_exclude == b->n_exclude &&
	       a->n_reservations == b->n_reservations &&
	       same_mem(a->pools, b->pools, a->n_pools * sizeof(*a->pools)) &&
	       same_mem(a->exclude, b->exclude, a->n_exclude * sizeof(*a->exclude)) &&
	       same_mem(a->reservations, b->reservations,
			a->n_reservations * sizeof(*a->reservations));
}

void dhcp_leases_fini(struct dhcp_leases *d)
{
	free(d->slot);
	free(d->l);
	free(d->resv);
	free(d->by_ip);
	free(d->by_mac);
	memset(d, 0, sizeof(*d));
}

const struct tessd_dhcp_resv *dhcp_reservation(const struct dhcp_leases *d, const uint8_t mac[6])
{
	uint32_t lo = 0, hi = d->n_resv;

	/* The copy is sorted by MAC (init): a lookup per message and per restored lease. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(d->resv[mid].mac.b, mac, 6);
		if (c == 0)
			return &d->resv[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint32_t dhcp_reserved_ip(const struct dhcp_leases *d, const uint8_t mac[6])
{
	const struct tessd_dhcp_resv *r = dhcp_reservation(d, mac);

	return r ? r->address : 0;
}

void dhcp_lease_remove(struct dhcp_leases *d, struct dhcp_lease *l)
{
	uint32_t i = (uint32_t)(l - d->l);

	if (l->state != DL_OFFERED)
		d->changes++;
	set_slot(d, l->ip, DL_FREE);
	idx_del(d, i);
	if (i != d->n - 1) {
		idx_del(d, d->n - 1);
		d->l[i] = d->l[d->n - 1];
		idx_add(d, i);
	}
	d->n--;
}

uint32_t dhcp_leases_expire(struct dhcp_leases *d, uint64_t now)
{
	uint32_t gone = 0;

	for (uint32_t i = 0; i < d->n;) {
		if (d->l[i].expires <= now) {
			dhcp_lease_remove(d, &d->l[i]);
			gone++;
		} else {
			i++;
		}
	}
	return gone;
}

struct dhcp_lease *dhcp_lease_by_mac(struct dhcp_leases *d, const uint8_t mac[6])
{
	for (uint32_t h = hash_mac(mac) & d->hmask; d->by_mac && d->by_mac[h];
	     h = (h + 1) & d->hmask) {
		struct dhcp_lease *l = &d->l[d->by_mac[h] - 1];
		if (l->state != DL_DECLINED && memcmp(l->mac, mac, 6) == 0)
			return l;
	}
	return NULL;
}

struct dhcp_lease *dhcp_lease_by_ip(struct dhcp_leases *d, uint32_t ip)
{
	for (uint32_t h = hash_ip(ip) & d->hmask; d->by_ip && d->by_ip[h]; h = (h + 1) & d->hmask)
		if (d->l[d->by_ip[h] - 1].ip == ip)
			return &d->l[d->by_ip[h] - 1];
	return NULL;
}

/* A new lease of ip for mac (ip known free); NULL at max_leases. */
static struct dhcp_lease *add(struct dhcp_leases *d, const uint8_t mac[6], uint32_t ip)
{
	struct dhcp_lease *l;

	if (d->n >= d->cap)
		return NULL;
	l = &d->l[d->n++];
	memset(l, 0, sizeof(*l));
	memcpy(l->mac, mac, 6);
	l->ip = ip;
	set_slot(d, ip, DL_TAKEN);
	idx_add(d, (uint32_t)(l - d->l));
	return l;
}

/* Whether a dynamic lease of ip may be made for mac: a pool address, free, not held back. */
static bool dynamic_ok(const struct dhcp_leases *d, uint32_t ip)
{
	int64_t s = slot_of(d, ip);

	return s >= 0 && d->slot[s] == DL_FREE;
}

/* The first free pool address from the cursor on (round robin: a freed one rests a while). */
static uint32_t find_free(struct dhcp_leases *d)
{
	for (uint32_t k = 0; k < d->n_addrs; k++) {
		uint32_t s = (d->cursor + k) % d->n_addrs;
		if (d->slot[s] == DL_FREE) {
			d->cursor = (s + 1) % d->n_addrs;
			return ip_of(d, s);
		}
	}
	return 0;
}

int dhcp_offer(struct dhcp_leases *d, const uint8_t mac[6], uint32_t requested, uint64_t now,
	       uint32_t offer_sec, uint32_t *ip)
{
	struct dhcp_lease *l = dhcp_lease_by_mac(d, mac);
	uint32_t rip = dhcp_reserved_ip(d, mac), want;

	if (l && rip && l->ip != rip) {
		/* A reservation made since: the old lease goes. */
		dhcp_lease_remove(d, l);
		l = NULL;
	}
	if (l) {
		if (l->state == DL_OFFERED)
			l->expires = now + offer_sec;
		*ip = l->ip;
		return 0;
	}
	if (rip) {
		struct dhcp_lease *o = dhcp_lease_by_ip(d, rip);
		if (o != NULL) {
			if (o->state != DL_DECLINED)
				dhcp_lease_remove(
					d, o); /* a dynamic lease from before the reservation */
			else
				return -ENOSPC;
		}
		want = rip;
	} else if (requested && dynamic_ok(d, requested)) {
		want = requested;
	} else {
		if (d->n >= d->cap)
			return -EDQUOT;
		want = find_free(d);
		if (want == 0)
			return -ENOSPC;
	}
	l = add(d, mac, want);
	if (l == NULL)
		return -EDQUOT;
	l->state = DL_OFFERED;
	l->expires = now + offer_sec;
	*ip = want;
	return 0;
}

int dhcp_request(struct dhcp_leases *d, const uint8_t mac[6], uint32_t ip, uint64_t now,
		 uint32_t lease_sec, const char *hostname)
{
	struct dhcp_lease *l = dhcp_lease_by_mac(d, mac), *o;
	uint32_t rip = dhcp_reserved_ip(d, mac);

	if (ip == 0 || (rip && ip != rip))
		return -EPERM;
	if (l && l->ip != ip) {
		if (l->state == DL_BOUND)
			return -EPERM; /* it holds another address: that one first (RFC 2131 4.3.2)
					*/
		dhcp_lease_remove(d, l); /* an offer it did not take */
		l = NULL;
	}
	if (l == NULL) {
		o = dhcp_lease_by_ip(d, ip);
		if (o != NULL && o->state == DL_DECLINED)
			return -EPERM;
		if (o != NULL) /* someone else's */
			return -EPERM;
		if (ip != rip && !dynamic_ok(d, ip))
			return -EPERM;
		l = add(d, mac, ip);
		if (l == NULL)
			return -EDQUOT;
	}
	l->state = DL_BOUND;
	l->expires = now + lease_sec;
	d->changes++;
	if (hostname && hostname[0])
		snprintf(l->hostname, sizeof(l->hostname), "%s", hostname);
	return 0;
}

int dhcp_request_ours(struct dhcp_leases *d, const uint8_t mac[6], uint32_t ip,
		      enum dhcp_req_state st)
{
	const struct dhcp_lease *l = dhcp_lease_by_mac(d, mac);

	switch (st) {
	case DR_SELECTING:
		return l && l->ip == ip ? 1 : -EPERM;
	case DR_INIT_REBOOT:
		return l || dhcp_reservation(d, mac) ? 1 : 0;
	default:
		return 1;
	}
}

int dhcp_release(struct dhcp_leases *d, const uint8_t mac[6], uint32_t ip)
{
	struct dhcp_lease *l = dhcp_lease_by_mac(d, mac);

	if (l == NULL || l->ip != ip)
		return -ENOENT;
	dhcp_lease_remove(d, l);
	return 0;
}

int dhcp_decline(struct dhcp_leases *d, const uint8_t mac[6], uint32_t ip, uint64_t now,
		 uint32_t decline_sec)
{
	struct dhcp_lease *l = dhcp_lease_by_mac(d, mac);

	if (l == NULL || l->ip != ip)
		return -ENOENT;
	/* The address is someone else's on the wire: held back, owned by no client. */
	tab_del(d, d->by_mac, (uint32_t)(l - d->l)); /* its address stays indexed */
	l->state = DL_DECLINED;
	d->changes++;
	memset(l->mac, 0, sizeof(l->mac));
	l->hostname[0] = '\0';
	l->expires = now + decline_sec;
	return 0;
}

int dhcp_lease_restore(struct dhcp_leases *d, const struct dhcp_lease *l, uint64_t now)
{
	struct dhcp_lease *n;
	uint32_t rip = l->state == DL_DECLINED ? 0 : dhcp_reserved_ip(d, l->mac);

	if (l->expires <= now || l->state < DL_OFFERED || l->state > DL_DECLINED)
		return -EINVAL;
	if (dhcp_lease_by_ip(d, l->ip) || (l->state != DL_DECLINED && dhcp_lease_by_mac(d, l->mac)))
		return -EEXIST;
	/* A reserved pool address is DL_BLOCKED: dynamic_ok says no to another MAC. */
	if (rip ? rip != l->ip : !dynamic_ok(d, l->ip))
		return -EINVAL;
	n = add(d, l->mac, l->ip);
	if (n == NULL)
		return -EDQUOT;
	idx_del(d, (uint32_t)(n - d->l)); /* a declined one has no MAC to be found by */
	*n = *l;
	idx_add(d, (uint32_t)(n - d->l));
	if (l->state != DL_OFFERED)
		d->changes++;
	return 0;
}

uint32_t dhcp_save_backoff(uint32_t cur_ms, uint32_t save_ms)
{
	uint64_t next = cur_ms ? 2 * (uint64_t)cur_ms : 2 * (uint64_t)save_ms;

	uint64_t max = save_ms > DHCP_SAVE_BACKOFF_MAX_MS ? save_ms : DHCP_SAVE_BACKOFF_MAX_MS;

	return next > max ? (uint32_t)max : (uint32_t)next;
}

void dhcp_lease_sanitize(struct dhcp_lease *l, uint64_t now, uint32_t max_sec)
{
	if (l->expires > now + max_sec)
		l->expires = now + max_sec;
	l->hostname[sizeof(l->hostname) - 1] = '\0';
	if (!dhcp_hostname_ok(l->hostname))
		l->hostname[0] = '\0';
}
