/* SPDX-License-Identifier: BSD-3-Clause */
/* /v1/sites: the provider's sites (data centers), provider admins only. */
#include <string.h>

#include "api_crud.h"

API_ARRAY_OPS(site, sites, n_sites)

static void site_derive(void *o)
{
	mgr_site_derive_locked(o);
}
/* Nothing may stand on a deleted site. */
static bool site_del_check(const void *obj, struct mgr_err *e)
{
	const struct mgr_site *s = obj;

	for (uint32_t i = 0; i < mgr.n_hosts; i++)
		if (mgr.hosts[i]->site_id == s->id) {
			mgr_err_set(e, 409, "", "site %s has host %s: remove it first",
				    s->spec.name, mgr.hosts[i]->spec.name);
			return false;
		}
	for (uint32_t i = 0; i < mgr.n_routers; i++)
		if (strcmp(mgr.routers[i].spec.site, s->spec.name) == 0) {
			mgr_err_set(e, 409, "", "site %s has router %s: remove it first",
				    s->spec.name, mgr.routers[i].spec.name);
			return false;
		}
	for (uint32_t i = 0; i < mgr.n_tenants; i++)
		if (mgr.tenants[i].site_id == s->id) {
			mgr_err_set(e, 409, "", "site %s is the data center of tenant %s",
				    s->spec.name, mgr.tenants[i].spec.name);
			return false;
		}
	return true;
}

static const struct api_kind sites = {
	API_ARRAY_FIELDS(site, MGR_SITE),
	.derive = site_derive,
	.del_check = site_del_check,
};

void api_sites(struct api_ctx *c)
{
	const char *from = http_query(c->r, "from");

	if (from && c->provider && c->n_seg == 1 && strcmp(c->r->method, "GET") == 0)
		api_sites_from(c, from);
	else
		api_crud(c, &sites);
}
