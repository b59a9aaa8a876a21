/* SPDX-License-Identifier: BSD-3-Clause */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

int mgr_listen_parse(const char *text, struct mgr_listen *out, char *why, size_t len)
{
	char host[64];
	const char *colon = strchr(text, ':'), *port = NULL;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || (close[1] && close[1] != ':')) {
			snprintf(why, len,
				 "'%s': an IPv6 address in brackets is [ADDR] or [ADDR]:PORT",
				 text);
			return -EINVAL;
		}
		n = (size_t)(close - text - 1);
		if (n >= sizeof(host))
			goto bad;
		memcpy(host, text + 1, n);
		host[n] = '\0';
		port = close[1] ? close + 2 : NULL;
	} else if (colon && strchr(colon + 1, ':') == NULL) {
		n = (size_t)(colon - text); /* one colon: IPv4:PORT */
		if (n >= sizeof(host))
			goto bad;
		memcpy(host, text, n);
		host[n] = '\0';
		port = colon + 1;
	} else {
		snprintf(host, sizeof(host), "%s", text); /* IPv4, or IPv6 without a port */
	}
	if (port) {
		if (!parse_port(port, &out->port)) {
			snprintf(why, len, "'%s': the port '%s' is not a number from 0 to 65535",
				 text, port);
			return -EINVAL;
		}
		out->has_port = true;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)&out->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->sa;
	if (text[0] == '[' && strchr(host, ':') == NULL) {
		snprintf(why, len, "'%s': brackets hold an IPv6 address (an IPv4 one goes without)",
			 text);
		return -EINVAL;
	}
	if (strchr(host, ':') == NULL && inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		out->len = sizeof(*in);
		return 0;
	}
	if (strchr(host, ':') && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			/*
			 * libmicrohttpd binds an IPv6 socket IPv6-only, where a mapped address
			 * cannot be bound: the IPv4 address it stands for is served instead.
			 */
			struct in_addr a4;
			memcpy(&a4, &in6->sin6_addr.s6_addr[12], sizeof(a4));
			memset(&out->sa, 0, sizeof(out->sa));
			in->sin_family = AF_INET;
			in->sin_addr = a4;
			out->len = sizeof(*in);
			return 0;
		}
		in6->sin6_family = AF_INET6;
		out->len = sizeof(*in6);
		return 0;
	}
bad:
	snprintf(why, len,
		 "'%s' is not an IPv4 or IPv6 address, optionally with a port "
		 "(127.0.0.1, 127.0.0.1:8470, ::1, [::1]:8470, [::]:8443)",
		 text);
	return -EINVAL;
}

bool mgr_listen_is_loopback(const struct mgr_listen *l)
{
	if (l->sa.ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)&l->sa)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&l->sa)->sin6_addr);
}

void mgr_listen_format(const struct mgr_listen *l, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (l->sa.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&l->sa)->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, port);
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&l->sa)->sin6_addr, a,
			  sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, port);
	}
}
