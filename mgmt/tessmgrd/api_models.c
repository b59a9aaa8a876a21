/* SPDX-License-Identifier: BSD-3-Clause */
/* /v1/models: the desktop models, managed by provider admins, read by every tenant admin. */
#include <stdlib.h>
#include <string.h>

#include "api_crud.h"

API_ARRAY_OPS(model, models, n_models)

static bool any_visible(const struct api_ctx *c, const void *obj)
{
	(void)c;
	(void)obj;
	return true;
}
static bool model_check(const void *spec, const void *old, struct mgr_err *e)
{
	const struct mgr_model_spec *m = spec;
	const struct mgr_model *o = old;

	if (o && api_desktops_name(offsetof(struct mgr_desktop, model_id), o->id) &&
	    (m->vcpus != o->spec.vcpus || m->memory_mb != o->spec.memory_mb ||
	     strcmp(m->base_image, o->spec.base_image))) {
		mgr_err_set(e, 409, "",
			    "model %s has desktops: its vCPUs, memory and base image "
			    "stay (make a new model)",
			    o->spec.name);
		return false;
	}
	return true;
}
static const struct api_used model_used = {
	offsetof(struct mgr_desktop, model_id),
	offsetof(struct mgr_quota, model_id),
	offsetof(struct mgr_task_spec, model),
	"model %s has desktops",
	"model %s is in quotas: delete them first",
	"model %s is named by tasks %s: delete them or change their model first",
};
/* A model's cpu_shares may change under running desktops: every host with one of its
 * desktops is re-pinned, which sets the new shares live (those already applied are skipped). */
static void model_updated(const char *name)
{
	uint32_t *hosts, n = 0;

	pthread_mutex_lock(&mgr.lock);
	const struct mgr_model *m = mgr_model_by_name(&mgr, name);
	hosts = calloc(mgr.n_desktops + 1, sizeof(*hosts));
	for (uint32_t i = 0; m && hosts && i < mgr.n_desktops; i++) {
		uint32_t h = mgr.desktops[i]->host_id, k;
		if (mgr.desktops[i]->model_id != m->id || h == 0)
			continue;
		for (k = 0; k < n && hosts[k] != h; k++)
			;
		if (k == n)
			hosts[n++] = h;
	}
	pthread_mutex_unlock(&mgr.lock);
	for (uint32_t i = 0; i < n; i++)
		mgr_repin_host(hosts[i]);
	free(hosts);
}
static const struct api_kind models = {
	API_ARRAY_FIELDS(model, MGR_MODEL),
	.tenants_read = true,
	.visible = any_visible,
	.check = model_check,
	.used = &model_used,
	.updated = model_updated,
};

void api_models(struct api_ctx *c)
{
	api_crud(c, &models);
}
