/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a DHCP relay agent does to messages (RFC 2131 4.1, RFC 1542 4,
 * RFC 3046): the relay agent information option (82) it adds to a
 * client's request and checks and strips from the server's reply. Plain C
 * over byte buffers, for unit tests and the fuzzer too.
 */
#ifndef TESS_DHCP_AGENT_H
#define TESS_DHCP_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp_proto.h"

#define DHCP_OPT_AGENT     82
#define DHCP_AGENT_CIRCUIT 1 /* sub-option: the circuit (port/VLAN) the client is on */
#define DHCP_AGENT_REMOTE  2 /* sub-option: the relay's identity */
#define DHCP_AGENT_OPT_MAX (2 + 255)
#define DHCP_HOPS_MAX      16 /* RFC 1542 4.1.1: discard above */

/*
 * Option 82 (code and length too) with sub-options 1 (circuit) and 2
 * (remote, left out when rlen is 0) into buf (DHCP_AGENT_OPT_MAX bytes):
 * its length, 0 if the ids are longer than an option holds or circuit is empty.
 */
size_t dhcp_agent_build(uint8_t *buf, const void *circuit, size_t clen, const void *remote,
			size_t rlen);

/*
 * Checks the fixed part of message p (len bytes) of BOOTP op (1 request, 2
 * reply), Ethernet addresses and the cookie, and walks its options field:
 * DHCP_OK with *end (offset of the end option) and *agent (offset of
 * option 82, 0: none), or why it is malformed.
 */
enum dhcp_bad dhcp_agent_scan(const uint8_t *p, size_t len, uint8_t op, size_t *end, size_t *agent);

/*
 * Appends option ag (agn bytes, dhcp_agent_build's) to request p of len
 * bytes, in place, as its last option (RFC 3046 2.1; padding after the end
 * option goes): the new length, 0 if it would be longer than max (p holds
 * max bytes), or -EBADMSG.
 */
long dhcp_agent_add(uint8_t *p, size_t len, size_t max, const uint8_t *ag, size_t agn);

/*
 * A server's reply p (len bytes) must echo the relay's option ag (agn
 * bytes) if it holds one: the new length with option 82 removed; len
 * unchanged if it has none; -EPERM if it holds another one; -EBADMSG.
 */
long dhcp_agent_strip(uint8_t *p, size_t len, const uint8_t *ag, size_t agn);

/* What a relay does with a client-side request (RFC 1542 4.1.1, RFC 3046 2.1, 2.1.1). */
enum dhcp_agent_req {
	DHCP_AGENT_RELAY,     /* the first relay: giaddr and option 82 are ours to set */
	DHCP_AGENT_PASS,      /* giaddr set, through a relay nearer the client: as it is */
	DHCP_AGENT_HOPS,      /* more hops than max_hops (RFC 1542 4.1.1): a relay loop */
	DHCP_AGENT_UNTRUSTED, /* giaddr 0 with option 82: the client forged it */
};

/*
 * The verdict on a request with hops, giaddr and (agent) an option 82
 * under a relay's max_hops. Option 82 is forged only where giaddr is 0: a
 * relay nearer the client sets both (RFC 3046 2.1.1).
 */
enum dhcp_agent_req dhcp_agent_request(uint8_t hops, uint32_t giaddr, bool agent, uint8_t max_hops);

#endif
