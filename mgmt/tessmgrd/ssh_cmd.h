/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's OpenSSH client runs (ssh.* of its config): the tunnels to remote
 * tessds (tunnel.c) and a remote desktop's VNC console (console_relay.c) take
 * the same options: no prompt (BatchMode), host keys always checked,
 * keepalives, the connect timeout, ssh.identity_file and ssh.known_hosts.
 */
#ifndef TESS_MGR_SSH_CMD_H
#define TESS_MGR_SSH_CMD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tessd_addr.h"

struct mgr_ssh_cmd {
	char *argv[48];
	unsigned n;
	char alive[48], timeout[48], port[8], idf[PATH_MAX + 16], khf[PATH_MAX + 24];
	const struct mgr_tessd_addr *a;
};

/* ssh's command line to a's host (its user and port) with tessmgrd's options. */
void mgr_ssh_cmd_init(struct mgr_ssh_cmd *c, const struct mgr_tessd_addr *a);
/* One more argument before the host (the caller's own options: -N, -L, -W ...). */
void mgr_ssh_cmd_arg(struct mgr_ssh_cmd *c, const char *arg);
/* The whole command line, "--" and the host last, NULL-ended. */
char *const *mgr_ssh_cmd_argv(struct mgr_ssh_cmd *c);

/*
 * Runs argv (vfork and exec, in a process group of its own that dies with the
 * calling thread: PR_SET_PDEATHSIG) with in, out and err as its standard
 * descriptors (-1: /dev/null): its pid, or -1.
 */
pid_t mgr_ssh_spawn(char *const argv[], int in, int out, int err);

/*
 * Whether libvirt's uri is qemu+ssh:// (the host's daemon reached through ssh):
 * then its user, host and port into a. False for any other URI, or one whose
 * authority ssh would not take as it is.
 */
bool mgr_ssh_of_libvirt_uri(const char *uri, struct mgr_tessd_addr *a);

#endif
