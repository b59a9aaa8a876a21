/* SPDX-License-Identifier: BSD-3-Clause */
#include "tessd_addr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char user_chars[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
static const char host_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";
/*
 * A remote socket path goes into ssh's -L local:remote, which ssh splits at ':'
 * and %-expands (%h, %u...): only characters it takes as they are.
 */
static const char ssh_path_chars[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-/";

static int bad(char *why, size_t len, const char *s, const char *what)
{
	snprintf(why, len, "tessd address '%s': %s (unix:///path or ssh://[user@]host[:port]/path)",
		 s, what);
	return -EINVAL;
}

/* An absolute socket path that fits a sockaddr_un, with no spaces or control bytes. */
static int path_of(const char *s, const char *p, char *dst, char *why, size_t len)
{
	if (p[0] != '/' || p[1] == '\0')
		return bad(why, len, s, "the socket path is not absolute");
	if (strlen(p) >= MGR_SOCK_PATH_LEN)
		return bad(why, len, s, "the socket path is longer than 107 characters");
	for (const char *c = p; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return bad(why, len, s,
				   "the socket path has a space or a control character");
	memcpy(dst, p, strlen(p) + 1);
	return 0;
}

int mgr_tessd_addr_parse(const char *s, struct mgr_tessd_addr *a, char *why, size_t len)
{
	const char *p, *slash, *at, *colon, *host;
	size_t hlen;

	memset(a, 0, sizeof(*a));
	if (s[0] == '/')
		return path_of(s, s, a->path, why, len);
	if (strncmp(s, "unix://", 7) == 0)
		return path_of(s, s + 7, a->path, why, len);
	if (strncmp(s, "ssh://", 6) != 0)
		return bad(why, len, s, "not an absolute path, unix:// or ssh:// address");
	a->ssh = true;
	p = s + 6;
	slash = strchr(p, '/');
	if (slash == NULL)
		return bad(why, len, s, "no socket path after the host");
	at = memchr(p, '@', (size_t)(slash - p));
	if (at) {
		size_t ulen = (size_t)(at - p);
		if (ulen == 0 || ulen >= sizeof(a->user) || p[0] == '-' ||
		    strspn(p, user_chars) != ulen)
			return bad(why, len, s, "bad user name");
		memcpy(a->user, p, ulen);
		p = at + 1;
	}
	if (*p == '[') { /* [IPv6] */
		const char *end = memchr(p, ']', (size_t)(slash - p));
		if (end == NULL || end == p + 1 || (size_t)(end - p - 1) >= sizeof(a->host) ||
		    strspn(p + 1, "0123456789abcdefABCDEF:.") != (size_t)(end - p - 1))
			return bad(why, len, s, "bad IPv6 address");
		memcpy(a->host, p + 1, (size_t)(end - p - 1));
		colon = end + 1 < slash ? end + 1 : NULL;
		if (colon && *colon != ':')
			return bad(why, len, s, "bad host");
	} else {
		colon = memchr(p, ':', (size_t)(slash - p));
		host = p;
		hlen = (size_t)((colon ? colon : slash) - host);
		if (hlen == 0 || hlen >= sizeof(a->host) || host[0] == '-' ||
		    strspn(host, host_chars) < hlen)
			return bad(why, len, s, "bad host name");
		memcpy(a->host, host, hlen);
	}
	if (colon) {
		char *end;
		long port;

		if (colon + 1 == slash ||
		    strspn(colon + 1, "0123456789") != (size_t)(slash - colon - 1))
			return bad(why, len, s, "bad port");
		port = strtol(colon + 1, &end, 10);
		if (port < 1 || port > 65535)
			return bad(why, len, s, "the port is not in 1..65535");
		a->port = (uint16_t)port;
	}
	if (strspn(slash, ssh_path_chars) != strlen(slash))
		return bad(why, len, s,
			   "an ssh:// socket path has only letters, digits and . _ + - /");
	return path_of(s, slash, a->path, why, len);
}

int mgr_tessd_addr_check(const void *val, char *why, size_t len)
{
	struct mgr_tessd_addr a;

	return ((const char *)val)[0] && mgr_tessd_addr_parse(val, &a, why, len) < 0 ? EINVAL : 0;
}

void mgr_tessd_addr_spell(const struct mgr_tessd_addr *a, char key[MGR_TESSD_KEY_LEN])
{
	if (a->ssh)
		snprintf(key, MGR_TESSD_KEY_LEN, "ssh://%s@[%s]:%u%s", a->user, a->host, a->port,
			 a->path);
	else
		snprintf(key, MGR_TESSD_KEY_LEN, "unix://%s", a->path);
}

int mgr_tessd_addr_key(const char *addr, char key[MGR_TESSD_KEY_LEN])
{
	struct mgr_tessd_addr a;
	char why[8]; /* not reported */

	if (mgr_tessd_addr_parse(addr, &a, why, sizeof(why)) < 0)
		return -EINVAL;
	mgr_tessd_addr_spell(&a, key);
	return 0;
}

void mgr_tessd_key_of(const char *addr, char key[MGR_TESSD_KEY_LEN])
{
	if (!addr[0] || mgr_tessd_addr_key(addr, key) < 0)
		key[0] = '\0';
}
