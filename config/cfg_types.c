/* SPDX-License-Identifier: BSD-3-Clause */
/* The typed leaves' text forms: IPv4 addresses and prefixes, MAC addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_schema.h"

int cfg_parse_ip4(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

int cfg_parse_prefix4(const char *s, struct cfg_prefix4 *p)
{
	char buf[CFG_PREFIX_STRLEN], *slash, *end;
	long l;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	slash = strchr(buf, '/');
	if (slash == NULL)
		return -EINVAL;
	*slash = '\0';
	l = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || l < 0 || l > 32 || cfg_parse_ip4(buf, &p->ip) < 0)
		return -EINVAL;
	p->len = (uint8_t)l;
	return 0;
}

int cfg_parse_mac(const char *s, struct cfg_mac *m)
{
	unsigned v[6];
	char tail;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
				      &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (s[i * 3 + 2] != ':' && i < 5)
			return -EINVAL;
		m->b[i] = (uint8_t)v[i];
	}
	return 0;
}

const char *cfg_fmt_ip4(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 0xff, ip >> 8 & 0xff, ip & 0xff);
	return buf;
}

const char *cfg_fmt_prefix4(const struct cfg_prefix4 *p, char *buf, size_t len)
{
	char ip[CFG_IP4_STRLEN];

	snprintf(buf, len, "%s/%u", cfg_fmt_ip4(p->ip, ip, sizeof(ip)), p->len);
	return buf;
}

const char *cfg_fmt_mac(const struct cfg_mac *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m->b[0], m->b[1], m->b[2], m->b[3],
		 m->b[4], m->b[5]);
	return buf;
}
