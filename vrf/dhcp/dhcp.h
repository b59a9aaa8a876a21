/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What other modules (the DNS responder's dynamic names) may read of the
 * DHCP servers: their bound leases' host names. Control thread only.
 */
#ifndef TESS_DHCP_H
#define TESS_DHCP_H

#include <stdint.h>

/*
 * A number that moves whenever a bound lease of the server on router
 * interface ifid may have come, gone, or changed its host name (0: no
 * server there): a reader compares it to the one it last saw.
 */
uint64_t dhcp_bound_version(uint16_t ifid);

/*
 * Calls fn for each bound lease of the server on ifid that has a host name:
 * its reservation's, else the one the client sent (option 12). Host order.
 */
typedef void (*dhcp_bound_fn)(void *arg, uint32_t ip, const char *hostname);
void dhcp_bound_each(uint16_t ifid, dhcp_bound_fn fn, void *arg);

#endif
