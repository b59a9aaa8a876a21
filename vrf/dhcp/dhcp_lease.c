/* SPDX-License-Identifier: BSD-3-Clause */
#include "dhcp_lease.h"

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

int dhcp_leases_init(struct dhcp_leases *d, const struct tessd_dhcp_server_cfg *sc)
{
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
	if (d->slot == NULL || d->l == NULL || d->resv == NULL) {
		dhcp_leases_fini(d);
		return -ENOMEM;
	}
	if (sc->n_reservations) /* reservations is NULL when there are none */
		memcpy(d->resv, sc->reservations, sc->n_reservations * sizeof(*d->resv));
	d->n_resv = sc->n_reservations;
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
	memset(d, 0, sizeof(*d));
}

const struct tessd_dhcp_resv *dhcp_reservation(const struct dhcp_leases *d, const uint8_t mac[6])
{
	for (uint32_t i = 0; i < d->n_resv; i++)
		if (memcmp(d->resv[i].mac.b, mac, 6) == 0)
			return &d->resv[i];
	return NULL;
}

uint32_t dhcp_reserved_ip(const struct dhcp_leases *d, const uint8_t mac[6])
{
	const struct tessd_dhcp_resv *r = dhcp_reservation(d, mac);

	return r ? r->address : 0;
}

/* Whether ip is reserved for a MAC other than mac. */
static bool reserved_for_other(const struct dhcp_leases *d, uint32_t ip, const uint8_t mac[6])
{
	for (uint32_t i = 0; i < d->n_resv; i++)
		if (d->resv[i].address == ip && memcmp(d->resv[i].mac.b, mac, 6) != 0)
			return true;
	return false;
}

void dhcp_lease_remove(struct dhcp_leases *d, struct dhcp_lease *l)
{
	uint32_t i = (uint32_t)(l - d->l);

	if (l->state != DL_OFFERED)
		d->changes++;
	set_slot(d, l->ip, DL_FREE);
	d->l[i] = d->l[--d->n];
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
	for (uint32_t i = 0; i < d->n; i++)
		if (d->l[i].state != DL_DECLINED && memcmp(d->l[i].mac, mac, 6) == 0)
			return &d->l[i];
	return NULL;
}

struct dhcp_lease *dhcp_lease_by_ip(struct dhcp_leases *d, uint32_t ip)
{
	for (uint32_t i = 0; i < d->n; i++)
		if (d->l[i].ip == ip)
			return &d->l[i];
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
		if (ip != rip && (!dynamic_ok(d, ip) || reserved_for_other(d, ip, mac)))
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
	if (rip ? rip != l->ip : (!dynamic_ok(d, l->ip) || reserved_for_other(d, l->ip, l->mac)))
		return -EINVAL;
	n = add(d, l->mac, l->ip);
	if (n == NULL)
		return -EDQUOT;
	*n = *l;
	if (l->state != DL_OFFERED)
		d->changes++;
	return 0;
}
