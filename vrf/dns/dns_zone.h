/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The names of one DNS server's zone: its configured records and its
 * DHCP clients' host names, at most cap of them, indexed by name
 * (case-insensitive) and by address (PTR). Made afresh whenever they
 * change, never edited in place; a client's name stays its own while its
 * lease lasts (a second client asking for it is refused, as dnsmasq does).
 * Plain C.
 */
#ifndef TESS_DNS_ZONE_H
#define TESS_DNS_ZONE_H

#include <stdbool.h>
#include <stdint.h>

#include "dns_proto.h"

enum dns_rec_kind { DNS_REC_STATIC, DNS_REC_DHCP };

struct dns_rec {
	uint32_t ip; /* host order */
	uint8_t kind;
	char name[DNS_NAME_MAX]; /* full, lower case */
};

struct dns_zone {
	struct dns_rec *r;
	uint32_t n, cap;           /* cap: max_records */
	uint32_t room;             /* what the arrays hold (the builder's count, at most cap) */
	uint32_t *by_name, *by_ip; /* open addressing: index + 1, 0 empty, at most half full */
	uint32_t hmask;
	/* The parents of the configured names (their suffixes after a dot), for
	 * dns_zone_has_below: (record << 8 | offset) + 1, open addressing, at most half full. */
	uint32_t *below;
	uint32_t n_below, below_mask;
};

/* A zone for room records (at most cap); -ENOMEM. */
int dns_zone_init(struct dns_zone *z, uint32_t room, uint32_t cap);
void dns_zone_fini(struct dns_zone *z);
/*
 * Adds name (full; lower-cased here) at ip: 0, -EEXIST (the name is
 * taken), -EDQUOT (at cap), -ENOSPC (past room), -EINVAL (too long),
 * -ENOMEM (no room for a configured name's parents: not added).
 */
int dns_zone_add(struct dns_zone *z, const char *name, uint32_t ip, enum dns_rec_kind kind);
const struct dns_rec *dns_zone_by_name(const struct dns_zone *z, const char *name);
/* The first record added at ip. */
/*
 * Whether a configured name of the zone lies below name (an empty
 * non-terminal: NODATA, not NXDOMAIN, RFC 8020): one lookup in the index
 * of their parents (only they have dots below the zone: a lease's name is
 * one label).
 */
bool dns_zone_has_below(const struct dns_zone *z, const char *name);
const struct dns_rec *dns_zone_by_ip(const struct dns_zone *z, uint32_t ip);

/* A DHCP client's host name: its first label (a client may send a full name). */
void dns_host_label(const char *hostname, char *out, size_t cap);

#endif
