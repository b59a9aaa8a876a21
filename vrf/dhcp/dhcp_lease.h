/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The leases of one DHCP server (one interface): its pools less
 * exclusions, reservations by MAC, and a table of at most max_leases
 * leases (offered, bound, or a declined address held back). Plain C, time
 * in seconds given by the caller (wall clock: leases outlive tessd).
 */
#ifndef TESS_DHCP_LEASE_H
#define TESS_DHCP_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "tessd_config.h"

enum dhcp_state { DL_OFFERED = 1, DL_BOUND, DL_DECLINED };

struct dhcp_lease {
	uint32_t ip; /* host order */
	uint8_t mac[6];
	uint8_t state; /* enum dhcp_state */
	char hostname[TESS_DHCP_TEXT_LEN];
	uint64_t expires; /* seconds (the caller's clock) */
};

/* Pool address slots. */
#define DL_FREE    0
#define DL_TAKEN   1
#define DL_BLOCKED 2 /* excluded, or reserved for a MAC */

struct dhcp_leases {
	struct tessd_dhcp_range ranges[TESS_DHCP_MAX_POOLS];
	uint32_t n_ranges;
	uint32_t n_addrs;             /* pool addresses, exclusions included */
	uint8_t *slot;                /* [n_addrs] */
	uint32_t cursor;              /* where the search for a free address starts */
	struct tessd_dhcp_resv *resv; /* a copy of the reservations */
	uint32_t n_resv;
	struct dhcp_lease *l;
	uint32_t n, cap; /* cap: max_leases */
	/*
	 * Leases by address and by MAC (declined ones have none): open
	 * addressing, a lease's index + 1 (0: empty), at most half full, so
	 * lookups, restores and a file's load are O(1) a lease.
	 */
	uint32_t *by_ip, *by_mac;
	uint32_t hmask;
	/* Changes the leases file sees (offers are not kept there): the caller saves when it moves.
	 */
	uint32_t changes;
};

/* Pools, exclusions and reservations of sc; -ENOMEM. */
int dhcp_leases_init(struct dhcp_leases *d, const struct tessd_dhcp_server_cfg *sc);
void dhcp_leases_fini(struct dhcp_leases *d);
/*
 * Whether a table made for a serves b as it is: the same pools,
 * exclusions, reservations and max_leases (a config change that leaves
 * them alone keeps the table, no rebuild).
 */
bool dhcp_leases_cfg_same(const struct tessd_dhcp_server_cfg *a,
			  const struct tessd_dhcp_server_cfg *b);

/* Leases past their time go (returns how many). */
uint32_t dhcp_leases_expire(struct dhcp_leases *d, uint64_t now);
struct dhcp_lease *dhcp_lease_by_mac(struct dhcp_leases *d, const uint8_t mac[6]);
struct dhcp_lease *dhcp_lease_by_ip(struct dhcp_leases *d, uint32_t ip);
/* The address reserved for mac, or 0. */
uint32_t dhcp_reserved_ip(const struct dhcp_leases *d, const uint8_t mac[6]);
const struct tessd_dhcp_resv *dhcp_reservation(const struct dhcp_leases *d, const uint8_t mac[6]);

/*
 * An address to offer mac (DISCOVER): its reservation, its lease, the
 * requested one if free, else a free one. 0 with *ip set, held offer_sec
 * (a bound lease keeps its time); -ENOSPC: no free address; -EDQUOT: the
 * table is at max_leases.
 */
int dhcp_offer(struct dhcp_leases *d, const uint8_t mac[6], uint32_t requested, uint64_t now,
	       uint32_t offer_sec, uint32_t *ip);
/*
 * mac asks for ip (REQUEST in any state): bound for lease_sec (0), or
 * -EPERM (NAK: not an address it may have), -EDQUOT (no room).
 */
int dhcp_request(struct dhcp_leases *d, const uint8_t mac[6], uint32_t ip, uint64_t now,
		 uint32_t lease_sec, const char *hostname);
enum dhcp_req_state { DR_SELECTING, DR_INIT_REBOOT, DR_RENEWING };
/*
 * Whether a REQUEST is the server's to answer (RFC 2131 4.3.2): 1 yes
 * (dhcp_request then says ACK or NAK), 0 stay silent (INIT-REBOOT from a
 * client it has no record of: no lease, no reservation), -EPERM NAK
 * (SELECTING this server for an address it did not offer mac).
 */
int dhcp_request_ours(struct dhcp_leases *d, const uint8_t mac[6], uint32_t ip,
		      enum dhcp_req_state st);
/* RELEASE: mac's lease of ip goes (0), -ENOENT if it has none. */
int dhcp_release(struct dhcp_leases *d, const uint8_t mac[6], uint32_t ip);
/* DECLINE: ip is in use by someone else; held back decline_sec (0), -ENOENT. */
int dhcp_decline(struct dhcp_leases *d, const uint8_t mac[6], uint32_t ip, uint64_t now,
		 uint32_t decline_sec);
/* Removes the lease at l (admin release). */
void dhcp_lease_remove(struct dhcp_leases *d, struct dhcp_lease *l);
/*
 * A lease from the file or the previous config: kept (0) if it is not
 * expired, its address is in a pool or reserved for its MAC, and neither
 * the address nor the MAC is taken; -EINVAL, -EEXIST, -EDQUOT otherwise.
 */
int dhcp_lease_restore(struct dhcp_leases *d, const struct dhcp_lease *l, uint64_t now);

/*
 * A lease read from the leases file, made trustworthy: expiry at most
 * max_sec from now (a negative or huge one is cut), a host name with other
 * than RFC 1123 characters dropped.
 */
void dhcp_lease_sanitize(struct dhcp_lease *l, uint64_t now, uint32_t max_sec);

/*
 * The wait before the next try after a failed write of the leases file:
 * doubled from save_ms at each failure in a row (cur_ms: the last wait, 0
 * after a success), at most DHCP_SAVE_BACKOFF_MAX_MS (or save_ms if longer).
 */
#define DHCP_SAVE_BACKOFF_MAX_MS 60000
uint32_t dhcp_save_backoff(uint32_t cur_ms, uint32_t save_ms);

#endif
