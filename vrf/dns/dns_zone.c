/* SPDX-License-Identifier: BSD-3-Clause */
/* The names of a DNS server's zone (dns_zone.h). */
#include "dns_zone.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_name(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static uint32_t hash_ip(uint32_t ip)
{
	return ip * 2654435761u;
}

int dns_zone_init(struct dns_zone *z, uint32_t room, uint32_t cap)
{
	uint32_t size = 16;

	memset(z, 0, sizeof(*z));
	if (room > cap)
		room = cap;
	while (size < 2 * (room ? room : 1))
		size <<= 1;
	z->r = calloc(room ? room : 1, sizeof(*z->r));
	z->by_name = calloc(size, sizeof(*z->by_name));
	z->by_ip = calloc(size, sizeof(*z->by_ip));
	if (z->r == NULL || z->by_name == NULL || z->by_ip == NULL) {
		dns_zone_fini(z);
		return -ENOMEM;
	}
	z->hmask = size - 1;
	z->cap = cap;
	z->room = room;
	return 0;
}

void dns_zone_fini(struct dns_zone *z)
{
	free(z->below);
	free(z->r);
	free(z->by_name);
	free(z->by_ip);
	memset(z, 0, sizeof(*z));
}

const struct dns_rec *dns_zone_by_name(const struct dns_zone *z, const char *name)
{
	for (uint32_t h = hash_name(name) & z->hmask; z->by_name && z->by_name[h];
	     h = (h + 1) & z->hmask)
		if (strcmp(z->r[z->by_name[h] - 1].name, name) == 0)
			return &z->r[z->by_name[h] - 1];
	return NULL;
}

/* The name a below entry stands for (an offset fits in 8 bits: names are < 256 bytes). */
_Static_assert(DNS_NAME_MAX <= 256, "a parent's offset is 8 bits");
static const char *below_name(const struct dns_zone *z, uint32_t e)
{
	return z->r[(e - 1) >> 8].name + ((e - 1) & 0xff);
}

bool dns_zone_has_below(const struct dns_zone *z, const char *name)
{
	for (uint32_t h = hash_name(name) & z->below_mask; z->below && z->below[h];
	     h = (h + 1) & z->below_mask)
		if (strcmp(below_name(z, z->below[h]), name) == 0)
			return true;
	return false;
}

static void below_put(uint32_t *t, uint32_t mask, const char *name, uint32_t e)
{
	uint32_t h = hash_name(name) & mask;

	while (t[h])
		h = (h + 1) & mask;
	t[h] = e;
}

/* Room for more entries in the parents' index (at most half full): 0 or -ENOMEM. */
static int below_reserve(struct dns_zone *z, uint32_t more)
{
	uint32_t size = z->below ? z->below_mask + 1 : 16, *t;

	if (z->below && 2 * (z->n_below + more) <= size)
		return 0;
	while (2 * (z->n_below + more) > size)
		size <<= 1;
	t = calloc(size, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; z->below && i <= z->below_mask; i++)
		if (z->below[i])
			below_put(t, size - 1, below_name(z, z->below[i]), z->below[i]);
	free(z->below);
	z->below = t;
	z->below_mask = size - 1;
	return 0;
}

/* Record i's parents (each suffix after a dot) into the index, each name once. */
static void below_add(struct dns_zone *z, uint32_t i)
{
	const char *name = z->r[i].name;

	for (const char *p = strchr(name, '.'); p && p[1]; p = strchr(p + 1, '.'))
		if (!dns_zone_has_below(z, p + 1)) {
			below_put(z->below, z->below_mask, p + 1,
				  (i << 8 | (uint32_t)(p + 1 - name)) + 1);
			z->n_below++;
		}
}

const struct dns_rec *dns_zone_by_ip(const struct dns_zone *z, uint32_t ip)
{
	for (uint32_t h = hash_ip(ip) & z->hmask; z->by_ip && z->by_ip[h]; h = (h + 1) & z->hmask)
		if (z->r[z->by_ip[h] - 1].ip == ip)
			return &z->r[z->by_ip[h] - 1];
	return NULL;
}

int dns_zone_add(struct dns_zone *z, const char *name, uint32_t ip, enum dns_rec_kind kind)
{
	struct dns_rec *r;
	uint32_t h;
	size_t len = strlen(name);

	if (len >= DNS_NAME_MAX - 1)
		return -EINVAL;
	if (z->n == z->cap)
		return -EDQUOT;
	/* The index tables were sized for twice the room: at most half full. */
	if (z->n == z->room)
		return -ENOSPC;
	r = &z->r[z->n];
	for (size_t i = 0; i <= len; i++)
		r->name[i] = (char)tolower((unsigned char)name[i]);
	if (dns_zone_by_name(z, r->name))
		return -EEXIST;
	if (kind == DNS_REC_STATIC) {
		uint32_t dots = 0;
		for (const char *p = r->name; *p; p++)
			dots += *p == '.';
		if (below_reserve(z, dots) < 0)
			return -ENOMEM;
	}
	r->ip = ip;
	r->kind = (uint8_t)kind;
	for (h = hash_name(r->name) & z->hmask; z->by_name[h]; h = (h + 1) & z->hmask)
		;
	z->by_name[h] = z->n + 1;
	if (dns_zone_by_ip(z, ip) == NULL) {
		for (h = hash_ip(ip) & z->hmask; z->by_ip[h]; h = (h + 1) & z->hmask)
			;
		z->by_ip[h] = z->n + 1;
	}
	if (kind == DNS_REC_STATIC)
		below_add(z, z->n);
	z->n++;
	return 0;
}

void dns_host_label(const char *hostname, char *out, size_t cap)
{
	size_t n = strcspn(hostname, ".");

	if (n >= cap)
		n = cap - 1;
	memcpy(out, hostname, n);
	out[n] = '\0';
}
