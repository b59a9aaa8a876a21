/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config's "listen": an IPv4 or IPv6 address, optionally with a port
 * ("127.0.0.1", "127.0.0.1:8470", "::1", "[::1]", "[::]:8443").
 */
#ifndef TESS_MGR_LISTEN_H
#define TESS_MGR_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct mgr_listen {
	struct sockaddr_storage sa; /* the address; its port is 0 (set by the caller) */
	socklen_t len;
	bool has_port; /* the text named a port: it takes the place of the "port" key */
	uint16_t port;
};

/* 0, or -EINVAL with why[] filled. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is read
 * as the IPv4 address a.b.c.d. */
int mgr_listen_parse(const char *text, struct mgr_listen *out, char *why, size_t len);
/* 127.0.0.0/8 (::ffff:127.0.0.0/104 too, read as such) and ::1. */
bool mgr_listen_is_loopback(const struct mgr_listen *l);
/* "127.0.0.1:8470" or "[::1]:8470", for messages and URLs. */
void mgr_listen_format(const struct mgr_listen *l, uint16_t port, char *buf, size_t len);

#endif
