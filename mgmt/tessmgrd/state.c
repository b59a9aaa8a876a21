/* SPDX-License-Identifier: BSD-3-Clause */
#include "state.h"

#include <string.h>

const char *const mgr_desktop_state_names[MGR_DESK_STATES] = {
	[MGR_DESK_CREATING] = "creating",   [MGR_DESK_STOPPED] = "stopped",
	[MGR_DESK_RUNNING] = "running",     [MGR_DESK_DELETING] = "deleting",
	[MGR_DESK_MIGRATING] = "migrating",
};

const char *const mgr_job_kind_names[MGR_JOB_KINDS] = {
	[MGR_JOB_CREATE] = "create", [MGR_JOB_DELETE] = "delete", [MGR_JOB_START] = "start",
	[MGR_JOB_STOP] = "stop",     [MGR_JOB_REBOOT] = "reboot", [MGR_JOB_MIGRATE] = "migrate",
};

const char *const mgr_job_state_names[4] = { "queued", "running", "succeeded", "failed" };

/* Lookups by name, and by id of the small sets: linear. */
#define BY_ID(fn, type, arr, n)                          \
	type *fn(const struct mgr_state *s, uint32_t id) \
	{                                                \
		for (uint32_t i = 0; i < s->n; i++)      \
			if (s->arr[i].id == id)          \
				return &s->arr[i];       \
		return NULL;                             \
	}
/* Hosts, desktops and jobs (tens of thousands) are kept in id order: binary search. */
#define BY_ID_SORTED(fn, type, arr, n)                                        \
	type *fn(const struct mgr_state *s, uint32_t id)                      \
	{                                                                     \
		uint32_t lo = 0, hi = s->n;                                   \
		while (lo < hi) {                                             \
			uint32_t mid = lo + (hi - lo) / 2;                    \
			if (s->arr[mid]->id < id)                             \
				lo = mid + 1;                                 \
			else                                                  \
				hi = mid;                                     \
		}                                                             \
		return lo < s->n && s->arr[lo]->id == id ? s->arr[lo] : NULL; \
	}
#define BY_NAME(fn, type, arr, n, deref)                                    \
	type *fn(const struct mgr_state *s, const char *name)               \
	{                                                                   \
		for (uint32_t i = 0; i < s->n; i++)                         \
			if (strcmp(deref(s->arr, i)->spec.name, name) == 0) \
				return deref(s->arr, i);                    \
		return NULL;                                                \
	}
#define AT(a, i)  (&(a)[i])
#define PTR(a, i) ((a)[i])

BY_ID(mgr_site_get, struct mgr_site, sites, n_sites)
BY_NAME(mgr_site_by_name, struct mgr_site, sites, n_sites, AT)
BY_ID_SORTED(mgr_host_get, struct mgr_host, hosts, n_hosts)
BY_NAME(mgr_host_by_name, struct mgr_host, hosts, n_hosts, PTR)
BY_ID(mgr_tenant_get, struct mgr_tenant, tenants, n_tenants)
BY_NAME(mgr_tenant_by_name, struct mgr_tenant, tenants, n_tenants, AT)
BY_ID(mgr_router_get, struct mgr_router, routers, n_routers)
BY_NAME(mgr_router_by_name, struct mgr_router, routers, n_routers, AT)
BY_ID(mgr_model_get, struct mgr_model, models, n_models)
BY_NAME(mgr_model_by_name, struct mgr_model, models, n_models, AT)
BY_NAME(mgr_task_by_name, struct mgr_task, tasks, n_tasks, AT)
BY_ID_SORTED(mgr_desktop_get, struct mgr_desktop, desktops, n_desktops)
BY_ID_SORTED(mgr_job_get, struct mgr_job, jobs, n_jobs)

struct mgr_quota *mgr_quota_get(const struct mgr_state *s, uint32_t tenant_id, uint32_t model_id)
{
	for (uint32_t i = 0; i < s->n_quotas; i++)
		if (s->quotas[i].tenant_id == tenant_id && s->quotas[i].model_id == model_id)
			return &s->quotas[i];
	return NULL;
}
