/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnels to remote tessds: per ssh:// tessd (however its address is written) one
 * `ssh -N -L <local socket>:<remote socket> host` child of tessmgrd
 * (ssh.* in its config), started on first use, restarted when it dies (the
 * wait doubling up to ssh.restart_max_sec), stopped at shutdown and killed
 * with tessmgrd (PR_SET_PDEATHSIG, its own process group). The local
 * sockets are <state_dir>/ssh/<hash>.sock. A thread of its own starts and
 * reaps the children: the parent-death signal follows the thread that
 * forked, and that one lives until mgr_tunnel_stop.
 */
#ifndef TESS_MGR_TUNNEL_H
#define TESS_MGR_TUNNEL_H

#include <stddef.h>

#include <jansson.h>

int mgr_tunnel_start(void);
/* Stops every ssh child (TERM, then KILL) and removes their sockets. */
void mgr_tunnel_stop(void);
/*
 * The local socket for a tessd address: the path itself for unix:// (or a
 * bare path); for ssh:// the tunnel's, started and waited for (at most
 * ssh.connect_timeout_sec and a little) if it is not up. A tunnel that went
 * down and waits to be restarted fails at once with why it went down. 0, or
 * -errno with err[] naming the address and what ssh said. After 0, call
 * mgr_tunnel_release(addr) when done with the socket: until then a forget
 * does not stop the tunnel.
 */
int mgr_tunnel_socket(const char *addr, char *path, size_t plen, char *err, size_t len);
/* The same without waiting: -EINPROGRESS (err says so) while the tunnel comes up. */
int mgr_tunnel_socket_now(const char *addr, char *path, size_t plen, char *err, size_t len);
void mgr_tunnel_release(const char *addr);
/*
 * No host nor router has addr any more (deleted, or given another address):
 * its tunnel, if any, is stopped once its users are done, and not restarted,
 * nor kept up by a later use (one that loaded the old address), until
 * mgr_tunnel_adopt says a host or router has it again.
 */
void mgr_tunnel_forget(const char *addr);
void mgr_tunnel_adopt(const char *addr);
/* What an operator sees of an ssh:// address's tunnel; NULL for other addresses. */
json_t *mgr_tunnel_json(const char *addr);

#endif
