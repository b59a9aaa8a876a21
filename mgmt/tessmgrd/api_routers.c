/* SPDX-License-Identifier: BSD-3-Clause */
/* /v1/routers: the provider-edge routers tenants' networks use (network_*.c), provider
 * admins only. */
#include <stdio.h>
#include <string.h>

#include "api_crud.h"
#include "network.h"
#include "tessd_addr.h"

API_ARRAY_OPS(router, routers, n_routers)

static bool router_check(const void *spec, const void *old, struct mgr_err *e)
{
	const struct mgr_router_spec *r = spec;
	const struct mgr_router *o = old;
	const char *user = o ? mgr_net_router_user_locked(o->spec.name) : NULL;
	char path[32], key[MGR_TESSD_KEY_LEN];

	if (!api_site_named(r->site, "/site", e))
		return false;
	for (uint32_t i = 0; i < r->n_trunk_ports; i++)
		for (uint32_t k = 0; k < i; k++)
			if (strcmp(r->trunk_ports[i], r->trunk_ports[k]) == 0) {
				snprintf(path, sizeof(path), "/trunk_ports/%u", i);
				mgr_err_set(e, 400, path, "port %s is listed twice",
					    r->trunk_ports[i]);
				return false;
			}
	/* What tenants have on it stays where it is (reprogramming a PE is a tenant's change);
	 * its trunks may change: the tenants' groups are on every trunk of all groups. */
	mgr_tessd_key_of(r->tessd, key);
	if (user &&
	    (strcmp(o->tessd_key, key) != 0 || strcmp(o->spec.internet_vrf, r->internet_vrf))) {
		mgr_err_set(e, 409, "",
			    "router %s serves tenant %s: its tessd and internet VRF stay",
			    o->spec.name, user);
		return false;
	}
	for (uint32_t i = 0; o && i < mgr.n_tenants; i++) {
		const struct mgr_network_spec *n = &mgr.tenants[i].spec.network;
		for (uint32_t k = 0; k < n->n_routers; k++)
			if (strcmp(n->routers[k], o->spec.name) == 0 &&
			    mgr_net_is_trunk(r, n->enterprise.port)) {
				mgr_err_set(e, 409, "/trunk_ports",
					    "port %s is tenant %s's enterprise port on this router",
					    n->enterprise.port, mgr.tenants[i].spec.name);
				return false;
			}
	}
	return true;
}
static int router_remote_check(const void *spec, struct mgr_err *e)
{
	return mgr_net_router_probe(spec, e);
}
/* A router in use by a tenant's network stays (its tessd has the tenant's VRF). */
static bool router_del_check(const void *obj, struct mgr_err *e)
{
	const struct mgr_router *r = obj;
	const char *user = mgr_net_router_user_locked(r->spec.name);

	if (user) {
		mgr_err_set(e, 409, "", "router %s serves tenant %s", r->spec.name, user);
		return false;
	}
	return true;
}

static void router_derive(void *o)
{
	mgr_router_derive_locked(o);
}

static const struct api_kind routers = {
	API_ARRAY_FIELDS(router, MGR_ROUTER),
	.tessd_at = offsetof(struct mgr_router, spec.tessd),
	.derive = router_derive,
	.check = router_check,
	.del_check = router_del_check,
	.serialize = true,
	.remote_check = router_remote_check,
};

void api_routers(struct api_ctx *c)
{
	api_crud(c, &routers);
}
