/* SPDX-License-Identifier: BSD-3-Clause */
#include "vswitch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl_client.h"

#define TIMEOUT_MS 10000

/* One request on a fresh connection (tessmgrd's calls are rare; tessd may restart). */
static int call(const char *socket, const char *method, json_t *params, json_t **result, char *err,
		size_t len)
{
	struct ctl_client c;
	struct ctl_error e = { 0 };
	int rc = ctl_client_open(&c, socket, TIMEOUT_MS, &e);

	if (rc == 0) {
		rc = ctl_client_call(&c, method, params, result, &e);
		params = NULL;
		ctl_client_close(&c);
	}
	json_decref(params);
	if (rc < 0)
		snprintf(err, len, "tessd %s: %s: %s%s%s", socket, method, e.message,
			 e.path[0] ? " at " : "", e.path);
	return rc < 0 ? (e.code ? -e.code : rc) : 0;
}

/* The name of the group of vlan in tessd, made if missing. */
static int group_of(const struct mgr_port_req *r, char *name, size_t nlen, char *err, size_t len)
{
	json_t *groups = NULL, *g, *res = NULL;
	size_t i;
	int rc = call(r->socket, "group.list", NULL, &groups, err, len);

	if (rc < 0)
		return rc;
	json_array_foreach (groups, i, g) {
		if (json_integer_value(json_object_get(g, "vlan")) == r->vlan) {
			snprintf(name, nlen, "%s", json_string_value(json_object_get(g, "name")));
			json_decref(groups);
			return 0;
		}
	}
	json_decref(groups);
	rc = call(r->socket, "group.add",
		  json_pack("{s:s, s:s, s:i}", "name", r->group, "tenant", r->tenant, "vlan",
			    (int)r->vlan),
		  &res, err, len);
	json_decref(res);
	if (rc == 0)
		snprintf(name, nlen, "%s", r->group);
	return rc;
}

int mgr_vswitch_add_port(const struct mgr_port_req *r, char *err, size_t len)
{
	json_t *status = NULL, *res = NULL;
	char group[64], devargs[512];
	json_int_t workers;
	int rc = call(r->socket, "status", NULL, &status, err, len);

	if (rc < 0)
		return rc;
	/* net_vhost needs a queue per tessd worker. */
	workers = json_integer_value(json_object_get(status, "workers"));
	json_decref(status);
	if ((rc = group_of(r, group, sizeof(group), err, len)) < 0)
		return rc;
	snprintf(devargs, sizeof(devargs), "net_vhost_%s,iface=%s,queues=%lld", r->port,
		 r->vhost_socket, (long long)(workers > 0 ? workers : 1));
	rc = call(r->socket, "port.add",
		  json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "name", r->port, "devargs", devargs,
			    "mode", "access", "group", group, "allowed_macs", r->mac),
		  &res, err, len);
	json_decref(res);
	return rc;
}

int mgr_vswitch_del_port(const char *socket, const char *port, char *err, size_t len)
{
	json_t *res = NULL;
	int rc = call(socket, "port.del", json_pack("{s:s}", "name", port), &res, err, len);

	json_decref(res);
	return rc == -ENOENT ? 0 : rc;
}

int mgr_vswitch_port_group(const char *socket, const char *port, char *group, size_t len,
			   uint16_t *vlan)
{
	json_t *ports = NULL, *groups = NULL, *p;
	char err[256];
	size_t i;
	int rc = call(socket, "port.list", NULL, &ports, err, sizeof(err));

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
	if (rc < 0 || call(socket, "group.list", NULL, &groups, err, sizeof(err)) < 0)
		return rc < 0 ? rc : -EIO;
	json_array_foreach (groups, i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")) ?: "", group) == 0)
			*vlan = (uint16_t)json_integer_value(json_object_get(p, "vlan"));
	json_decref(groups);
	return 0;
}
