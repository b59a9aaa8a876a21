/* SPDX-License-Identifier: BSD-3-Clause */
#include "vswitch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_client.h"
#include "tessd_addr.h"
#include "tunnel.h"
#include "tessd_config.h"

#define TIMEOUT_MS 10000

/*
 * One request on a fresh connection (tessmgrd's calls are rare; tessd may restart), to the
 * tessd at addr (tessd_addr.h): its socket, or the local end of its ssh tunnel (tunnel.h).
 */
int mgr_tessd_request(const char *addr, const char *method, json_t *params, json_t **result,
		      char *err, size_t len, bool *unreachable)
{
	struct ctl_client c;
	struct ctl_error e = { 0 };
	char path[MGR_SOCK_PATH_LEN];
	int rc = mgr_tunnel_socket(addr, path, sizeof(path), err, len);

	if (unreachable)
		*unreachable = rc < 0;
	if (rc < 0) {
		json_decref(params);
		return rc;
	}
	rc = ctl_client_open(&c, path, TIMEOUT_MS, &e);
	if (unreachable)
		*unreachable = rc < 0;
	if (rc == 0) {
		rc = ctl_client_call(&c, method, params, result, &e);
		params = NULL;
		ctl_client_close(&c);
		/* Connected, but no answer (hung, gone mid-call): down, as if it refused us. */
		if (unreachable && rc < 0)
			*unreachable =
				e.code == ETIMEDOUT || e.code == ECONNRESET || e.code == EPIPE;
	}
	mgr_tunnel_release(addr);
	json_decref(params);
	if (rc < 0 && (e.code == ECONNRESET || e.code == EPIPE) && strncmp(addr, "ssh://", 6) == 0)
		/* The tunnel took the connection but ssh could not open the remote socket. */
		snprintf(err, len,
			 "tessd %s: %s: %s (the ssh tunnel is up: is tessd running there, with its "
			 "control socket at that path?)",
			 addr, method, e.message);
	else if (rc < 0)
		snprintf(err, len, "tessd %s: %s: %s%s%s", addr, method, e.message,
			 e.path[0] ? " at " : "", e.path);
	return rc < 0 ? (e.code ? -e.code : rc) : 0;
}

int mgr_tessd_call(const char *addr, const char *method, json_t *params, json_t **result, char *err,
		   size_t len)
{
	return mgr_tessd_request(addr, method, params, result, err, len, NULL);
}

/* Copies a value into its config field, or says which key it does not fit. */
static int put(char *dst, size_t size, const char *src, const char *key, char *err, size_t len)
{
	if (snprintf(dst, size, "%s", src ? src : "") >= (int)size) {
		snprintf(err, len, "tessd %s: '%s' is longer than %zu characters", key, src,
			 size - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}

/*
 * Requests are tessd's own config structs, started from the schema's
 * defaults and encoded by it: a renamed key or field breaks the build or
 * the unit test, and the keys tessmgrd does not set mean what tessd's
 * defaults mean.
 */
json_t *mgr_vswitch_group_params(const struct mgr_port_req *r, char *err, size_t len)
{
	struct tessd_group_cfg g;
	json_t *params = NULL;

	if (cfg_defaults(&tessd_group_schema, &g) < 0) {
		snprintf(err, len, "tessd group schema: defaults do not decode");
		return NULL;
	}
	g.vlan = r->vlan;
	if (put(g.name, sizeof(g.name), r->group, "group name", err, len) == 0 &&
	    put(g.tenant, sizeof(g.tenant), r->tenant, "group tenant", err, len) == 0)
		params = cfg_encode(&tessd_group_schema, &g);
	cfg_free(&tessd_group_schema, &g);
	return params;
}

json_t *mgr_vswitch_port_params(const struct mgr_port_req *r, const char *vhost_path, char *err,
				size_t len)
{
	struct tessd_port_cfg p;
	json_t *params = NULL;

	if (cfg_defaults(&tessd_port_schema, &p) < 0) {
		snprintf(err, len, "tessd port schema: defaults do not decode");
		return NULL;
	}
	/* Only the desktop's MAC may send (anti-spoofing is on for vhost-user ports), and from
	 * its address only: no claim of a neighbour's (DHCP's 0.0.0.0 and ARP probes pass). */
	free(p.allowed_macs);
	p.allowed_macs = calloc(1, sizeof(*p.allowed_macs));
	p.n_allowed_macs = p.allowed_macs ? 1 : 0;
	if (r->address) {
		free(p.allowed_ips);
		p.allowed_ips = calloc(1, sizeof(*p.allowed_ips));
		p.n_allowed_ips = p.allowed_ips ? 1 : 0;
	}
	if (p.allowed_macs == NULL || (r->address && p.allowed_ips == NULL))
		snprintf(err, len, "out of memory");
	else if (cfg_parse_mac(r->mac, &p.allowed_macs[0]) < 0)
		snprintf(err, len, "port MAC '%s' is not a MAC address", r->mac);
	else if (put(p.name, sizeof(p.name), r->port, "port name", err, len) == 0 &&
		 put(p.vhost.path, sizeof(p.vhost.path), vhost_path, "vhost-user socket path", err,
		     len) == 0 &&
		 put(p.group, sizeof(p.group), r->group, "port group", err, len) == 0) {
		p.mode = TESS_PORT_ACCESS;
		if (r->address)
			p.allowed_ips[0] = r->address;
		/*
		 * tessd connects, QEMU serves the socket (as OVS's dpdkvhostuserclient): in
		 * the vhost library's 1024-fd poll set a server port holds a listening and a
		 * connected fd, a client port only the connected one, so 1024 running
		 * desktops fit, not 511. Both sides reconnect when the other restarts.
		 */
		p.vhost.client = true;
		params = cfg_encode(&tessd_port_schema, &p);
	}
	cfg_free(&tessd_port_schema, &p);
	return params;
}

int mgr_vswitch_find_group(const char *socket, uint16_t vlan, char *name, size_t nlen, char *err,
			   size_t len, bool *unreachable)
{
	json_t *groups = NULL, *g;
	size_t i;
	int rc = mgr_tessd_request(socket, "group.list", NULL, &groups, err, len, unreachable);

	if (rc < 0)
		return rc;
	json_array_foreach (groups, i, g)
		if (json_integer_value(json_object_get(g, "vlan")) == vlan) {
			if (name)
				snprintf(name, nlen, "%s",
					 json_string_value(json_object_get(g, "name")) ?: "");
			rc = 1;
		}
	json_decref(groups);
	return rc;
}

/* The name of the group of vlan in tessd, made if missing. */
static int group_of(const struct mgr_port_req *r, char *name, size_t nlen, char *err, size_t len)
{
	json_t *res = NULL;
	char why[256];
	int rc = mgr_vswitch_find_group(r->socket, r->vlan, name, nlen, err, len, NULL);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	json_t *params = mgr_vswitch_group_params(r, err, len);
	if (params == NULL)
		return -EINVAL;
	rc = mgr_tessd_call(r->socket, "group.add", params, &res, err, len);
	json_decref(res);
	if (rc == 0)
		snprintf(name, nlen, "%s", r->group);
	/* A tenant change (or another job) made the VLAN's group since we looked: use it. */
	else if (rc == -EEXIST && mgr_vswitch_find_group(r->socket, r->vlan, name, nlen, why,
							 sizeof(why), NULL) == 1)
		rc = 0;
	return rc;
}

int mgr_vswitch_add_port(const struct mgr_port_req *r, char *err, size_t len)
{
	json_t *res = NULL;
	char group[64];
	int rc;

	if ((rc = group_of(r, group, sizeof(group), err, len)) < 0)
		return rc;
	struct mgr_port_req in_group = *r;
	in_group.group = group; /* tessd's group of the VLAN may have another name */
	/* A port of tessd's vhost backend, not an ethdev: a host takes ~1000 desktops, not ~30. */
	json_t *params = mgr_vswitch_port_params(&in_group, r->vhost_socket, err, len);
	if (params == NULL)
		return -EINVAL;
	rc = mgr_tessd_call(r->socket, "port.add", params, &res, err, len);
	json_decref(res);
	return rc;
}

int mgr_vswitch_del_port(const char *socket, const char *port, char *err, size_t len)
{
	json_t *res = NULL;
	struct tessd_name_params p;
	int rc;

	if (put(p.name, sizeof(p.name), port, "port name", err, len) < 0)
		return -EINVAL;
	rc = mgr_tessd_call(socket, "port.del", cfg_encode(&tessd_name_params_schema, &p), &res,
			    err, len);

	json_decref(res);
	return rc == -ENOENT ? 0 : rc;
}

int mgr_vswitch_port_group(const char *socket, const char *port, char *group, size_t len,
			   uint16_t *vlan)
{
	json_t *ports = NULL, *groups = NULL, *p;
	char err[256];
	size_t i;
	int rc = mgr_tessd_call(socket, "port.list", NULL, &ports, err, sizeof(err));

	if (rc < 0)
		return rc;
	rc = -ENOENT;
	json_array_foreach (ports, i, p) {
		if (strcmp(json_string_value(json_object_get(p, "name")) ?: "", port) == 0) {
			snprintf(group, len, "%s",
				 json_string_value(json_array_get(json_object_get(p, "groups"), 0))
					 ?: "");
			rc = 0;
		}
	}
	json_decref(ports);
	if (rc < 0 || mgr_tessd_call(socket, "group.list", NULL, &groups, err, sizeof(err)) < 0)
		return rc < 0 ? rc : -EIO;
	json_array_foreach (groups, i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")) ?: "", group) == 0)
			*vlan = (uint16_t)json_integer_value(json_object_get(p, "vlan"));
	json_decref(groups);
	return 0;
}
