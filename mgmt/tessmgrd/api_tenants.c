/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /v1/tenants: the provider's tenants, managed by provider admins; a tenant admin reads its
 * own. A tenant's network is programmed on the tessds as part of each change (network_*.c).
 */
#include <string.h>

#include "api_crud.h"
#include "events.h"
#include "network.h"

API_ARRAY_OPS(tenant, tenants, n_tenants)

static bool tenant_visible(const struct api_ctx *c, const void *o)
{
	return ((const struct mgr_tenant *)o)->id == c->tenant_id;
}
static bool tenant_check(const void *spec, const void *old, struct mgr_err *e)
{
	const struct mgr_tenant_spec *t = spec;
	const struct mgr_tenant *o = old;

	if (!api_site_named(t->datacenter, "/datacenter", e))
		return false;
	for (uint32_t i = 0; i < mgr.n_tenants; i++) {
		if (&mgr.tenants[i] != o && mgr.tenants[i].spec.vlan == t->vlan) {
			mgr_err_set(e, 409, "/vlan", "VLAN %u is tenant %s's", t->vlan,
				    mgr.tenants[i].spec.name);
			return false;
		}
		/* A tessd group and the usage view are named by vlan_name: shared, two tenants
		 * would see each other's usage and the second's group.add fails (review 1.13). */
		if (&mgr.tenants[i] != o &&
		    strcmp(mgr.tenants[i].spec.vlan_name, t->vlan_name) == 0) {
			mgr_err_set(e, 409, "/vlan_name", "vlan_name %s is tenant %s's",
				    t->vlan_name, mgr.tenants[i].spec.name);
			return false;
		}
	}
	if (o && api_desktops_name(offsetof(struct mgr_desktop, tenant_id), o->id) &&
	    (o->spec.vlan != t->vlan || strcmp(o->spec.datacenter, t->datacenter) ||
	     strcmp(o->spec.vlan_name, t->vlan_name))) {
		mgr_err_set(e, 409, "", "tenant %s has desktops: its VLAN and data center stay",
			    o->spec.name);
		return false;
	}
	return mgr_net_check_locked(t, e);
}
static void tenant_derive(void *o)
{
	mgr_tenant_derive_locked(o);
}
static const struct api_used tenant_used = {
	offsetof(struct mgr_desktop, tenant_id),
	offsetof(struct mgr_quota, tenant_id),
	offsetof(struct mgr_task_spec, tenant),
	"tenant %s has desktops: delete them first",
	"tenant %s has quotas: delete them first",
	"tenant %s is named by tasks %s: delete them or change their tenant first",
};
static void *tenant_plan(const void *old, const void *spec, struct mgr_err *e)
{
	return mgr_net_plan_locked(old ? &((const struct mgr_tenant *)old)->spec : NULL, spec, e);
}
static void tenant_deleted(void *o)
{
	mgr_events_end_tenant(((const struct mgr_tenant *)o)->id);
}

static const struct api_kind tenants = {
	API_ARRAY_FIELDS(tenant, MGR_TENANT),
	.tenants_read = true,
	.visible = tenant_visible,
	.check = tenant_check,
	.derive = tenant_derive,
	.used = &tenant_used,
	.deleted = tenant_deleted,
	.plan = tenant_plan,
	.serialize = true,
};

void api_tenants(struct api_ctx *c)
{
	api_crud(c, &tenants);
}
