/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A host's tessd address: "unix:///path" (or a bare absolute path, the old
 * form) or "ssh://[user@]host[:port]/path", the remote tessd's control socket
 * reached through an OpenSSH Unix-socket forward (tunnel.h).
 */
#ifndef TESS_MGR_TESSD_ADDR_H
#define TESS_MGR_TESSD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MGR_SOCK_PATH_LEN 108 /* sizeof(sockaddr_un.sun_path) */
#define MGR_TESSD_KEY_LEN 512 /* ssh://user@[host]:port/path, each at its longest */

struct mgr_tessd_addr {
	bool ssh;
	char user[33];  /* "": ssh's default (its config, or the local user) */
	char host[256]; /* a name, an IPv4 address or an IPv6 one (without brackets) */
	uint16_t port;  /* 0: ssh's default */
	char path[MGR_SOCK_PATH_LEN]; /* the control socket, on that host */
};

/* Parses s (not ""): 0, or -EINVAL with why[] saying what is wrong. */
int mgr_tessd_addr_parse(const char *s, struct mgr_tessd_addr *a, char *why, size_t len);
/*
 * addr's tessd in one spelling, key[] ("/p" and "unix:///p" are one; an ssh host's user,
 * port and brackets always written, "" and 0 for ssh's defaults): 0, or -EINVAL for one
 * that does not parse. A key names a tessd (two are one tessd when equal as strings); it is
 * not itself an address to use.
 */
int mgr_tessd_addr_key(const char *addr, char key[MGR_TESSD_KEY_LEN]);
/* The same, of an address already parsed. */
void mgr_tessd_addr_spell(const struct mgr_tessd_addr *a, char key[MGR_TESSD_KEY_LEN]);
/* A host's or router's tessd as its key: "" for none (or one that does not parse: the
 * schema refused it before anything asks). */
void mgr_tessd_key_of(const char *addr, char key[MGR_TESSD_KEY_LEN]);
/* A schema check: "" (no vswitch) or an address mgr_tessd_addr_parse takes. */
int mgr_tessd_addr_check(const void *val, char *why, size_t len);

#endif
