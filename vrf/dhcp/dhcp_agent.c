/* SPDX-License-Identifier: BSD-3-Clause */
#include "dhcp_agent.h"

#include <errno.h>
#include <string.h>

#define OPT_PAD 0
#define OPT_END 255

size_t dhcp_agent_build(uint8_t *buf, const void *circuit, size_t clen, const void *remote,
			size_t rlen)
{
	size_t n = 2 + clen + (rlen ? 2 + rlen : 0);

	if (clen == 0 || clen > 255 || rlen > 255 || n > 255)
		return 0;
	buf[0] = DHCP_OPT_AGENT;
	buf[1] = (uint8_t)n;
	buf[2] = DHCP_AGENT_CIRCUIT;
	buf[3] = (uint8_t)clen;
	memcpy(buf + 4, circuit, clen);
	if (rlen) {
		buf[4 + clen] = DHCP_AGENT_REMOTE;
		buf[5 + clen] = (uint8_t)rlen;
		memcpy(buf + 6 + clen, remote, rlen);
	}
	return 2 + n;
}

enum dhcp_bad dhcp_agent_scan(const uint8_t *p, size_t len, uint8_t op, size_t *end, size_t *agent)
{
	size_t i = DHCP_MIN_LEN;

	*agent = 0;
	if (len < DHCP_MIN_LEN)
		return DHCP_BAD_SHORT;
	if (p[0] != op || p[1] != 1 || p[2] != 6)
		return DHCP_BAD_HEADER;
	if (((uint32_t)p[236] << 24 | (uint32_t)p[237] << 16 | (uint32_t)p[238] << 8 | p[239]) !=
	    DHCP_MAGIC)
		return DHCP_BAD_COOKIE;
	while (i < len) {
		if (p[i] == OPT_PAD) {
			i++;
			continue;
		}
		if (p[i] == OPT_END) {
			*end = i;
			return DHCP_OK;
		}
		if (i + 2 > len || i + 2 + p[i + 1] > len)
			return DHCP_BAD_OPTION;
		if (p[i] == DHCP_OPT_AGENT) {
			if (*agent)
				return DHCP_BAD_OPTION; /* twice: which one would count? */
			*agent = i;
		}
		i += 2u + p[i + 1];
	}
	return DHCP_BAD_OPTION; /* no end option */
}

long dhcp_agent_add(uint8_t *p, size_t len, size_t max, const uint8_t *ag, size_t agn)
{
	size_t end, at;

	if (dhcp_agent_scan(p, len, 1, &end, &at) != DHCP_OK || at)
		return -EBADMSG;
	if (end + agn + 1 > max)
		return 0;
	memcpy(p + end, ag, agn);
	p[end + agn] = OPT_END;
	return (long)(end + agn + 1);
}

long dhcp_agent_strip(uint8_t *p, size_t len, const uint8_t *ag, size_t agn)
{
	size_t end, at, n;

	if (dhcp_agent_scan(p, len, 2, &end, &at) != DHCP_OK)
		return -EBADMSG;
	if (at == 0)
		return (long)len;
	n = 2u + p[at + 1];
	if (n != agn || memcmp(p + at, ag, agn) != 0)
		return -EPERM;
	memmove(p + at, p + at + n, len - at - n);
	return (long)(len - n);
}

enum dhcp_agent_req dhcp_agent_request(uint8_t hops, uint32_t giaddr, bool agent, uint8_t max_hops)
{
	if (hops > max_hops)
		return DHCP_AGENT_HOPS; /* RFC 1542 4.1.1: more than the limit, a loop */
	if (giaddr)
		return DHCP_AGENT_PASS;
	return agent ? DHCP_AGENT_UNTRUSTED : DHCP_AGENT_RELAY;
}
