/* SPDX-License-Identifier: BSD-3-Clause */
/* A host's tessd vswitch, through its control socket: desktops' vhost-user ports. */
#ifndef TESS_MGR_VSWITCH_H
#define TESS_MGR_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct mgr_port_req {
	const char *socket;       /* the host tessd's address (tessd_addr.h) */
	const char *port;         /* port name */
	const char *vhost_socket; /* the desktop's vhost-user NIC: QEMU serves, tessd connects */
	const char *mac;          /* the only source MAC the port accepts */
	uint32_t address;         /* the only IPv4 source (and ARP sender) it accepts; 0: any */
	uint16_t vlan;            /* the tenant's VLAN: its port group */
	const char *group;        /* the group's name if tessmgrd has to make it */
	const char *tenant;
};

/*
 * One request to the tessd at addr (tessd_addr.h: a socket path, unix:// or
 * ssh://, through its tunnel), on a fresh connection (params stolen): 0 with
 * *result, or -errno with err saying which tessd and method failed and why
 * (its address too).
 */
int mgr_tessd_call(const char *addr, const char *method, json_t *params, json_t **result, char *err,
		   size_t len);
/* The same, saying whether tessd did not answer at all (unreachable: not connected). */
int mgr_tessd_request(const char *addr, const char *method, json_t *params, json_t **result,
		      char *err, size_t len, bool *unreachable);
/*
 * Whether the tessd at socket has a port group of vlan: 1 (its name into name, unless NULL),
 * 0, or -errno with err; *unreachable (unless NULL) says the tessd did not answer.
 */
int mgr_vswitch_find_group(const char *socket, uint16_t vlan, char *name, size_t nlen, char *err,
			   size_t len, bool *unreachable);
/* Adds the port, in the group of the tenant's VLAN (made if tessd has none); err says why not. */
int mgr_vswitch_add_port(const struct mgr_port_req *r, char *err, size_t len);
/* Removes a port; one that is not there is fine. */
int mgr_vswitch_del_port(const char *socket, const char *port, char *err, size_t len);
/* The group (name) and VLAN of a port, for checks: 0, -ENOENT, or -errno. */
int mgr_vswitch_port_group(const char *socket, const char *port, char *group, size_t len,
			   uint16_t *vlan);
/*
 * The params of tessd's group.add (the group r->group of r->vlan) and
 * port.add (the desktop's vhost-user port, of tessd's vhost backend, a
 * client of the socket QEMU serves at vhost_path, in group r->group, locked
 * to r->mac and r->address), built with tessd's schemas; NULL with err filled in.
 */
json_t *mgr_vswitch_group_params(const struct mgr_port_req *r, char *err, size_t len);
json_t *mgr_vswitch_port_params(const struct mgr_port_req *r, const char *vhost_path, char *err,
				size_t len);

#endif
