/* SPDX-License-Identifier: BSD-3-Clause */
/* Quotas (and the FIG. 4 host search), desktops, jobs, usage, audit and reconciliation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "capacity.h"
#include "images.h"
#include "jobs.h"
#include "network.h"
#include "store.h"
#include "usage_active.h"
#include "usage_alloc.h"
#include "users.h"
#include "virt.h"
#include "tlog.h"

static const char *jstr_or(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static bool is(const struct api_ctx *c, const char *method)
{
	return strcmp(c->r->method, method) == 0;
}

static void forbidden(struct api_ctx *c, const char *what)
{
	http_error(c->out, 403, "", "%s", what);
}

/* ---- quotas ---- */

/* The quota of the path's /quotas/<tenant>/<model>, visible to c; NULL with e set. */
static struct mgr_quota *quota_at(struct api_ctx *c, struct mgr_err *e)
{
	const struct mgr_tenant *t = mgr_tenant_by_name(&mgr, c->seg[1]);
	const struct mgr_model *m = mgr_model_by_name(&mgr, c->seg[2]);
	struct mgr_quota *q = t && m ? mgr_quota_get(&mgr, t->id, m->id) : NULL;

	if (q == NULL || (!c->provider && q->tenant_id != c->tenant_id)) {
		mgr_err_set(e, 404, "", "no quota of tenant '%s' for model '%s'", c->seg[1],
			    c->seg[2]);
		return NULL;
	}
	return q;
}

static bool quota_refs(const struct mgr_quota_spec *s, uint32_t *tid, uint32_t *mid,
		       struct mgr_err *e)
{
	const struct mgr_tenant *t = mgr_tenant_by_name(&mgr, s->tenant);
	const struct mgr_model *m = mgr_model_by_name(&mgr, s->model);

	if (t == NULL)
		mgr_err_set(e, 400, "/tenant", "no tenant named '%s'", s->tenant);
	else if (m == NULL)
		mgr_err_set(e, 400, "/model", "no model named '%s'", s->model);
	*tid = t ? t->id : 0;
	*mid = m ? m->id : 0;
	return t && m;
}

/* POST /quotas/<t>/<m>/hosts: seed 000 FIG. 4, and the hosts found associated with the quota. */
static void quota_search(struct api_ctx *c, struct mgr_quota *q, struct mgr_err *e)
{
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, q->tenant_id);
	const struct mgr_model *m = mgr_model_get(&mgr, q->model_id);
	struct mgr_avail *out = calloc(mgr.n_hosts + 1, sizeof(*out));
	uint32_t covered, *ids;
	size_t n;
	json_t *a;

	if (out == NULL || t == NULL || m == NULL) {
		free(out);
		mgr_err_set(e, 500, "", "out of memory");
		return;
	}
	n = mgr_available_hosts(mgr.hosts, mgr.n_hosts, t, m, q, out, mgr.n_hosts, &covered);
	ids = calloc(n + 1, sizeof(*ids));
	if (ids == NULL) {
		free(out);
		mgr_err_set(e, 500, "", "out of memory");
		return;
	}
	a = json_array();
	for (size_t i = 0; i < n; i++) {
		ids[i] = out[i].host_id;
		json_array_append_new(a, json_pack("{s:s, s:i}", "host",
						   mgr_host_get(&mgr, out[i].host_id)->spec.name,
						   "desktops", (int)out[i].desktops));
	}
	free(q->host_ids);
	q->host_ids = ids;
	q->n_hosts = (uint32_t)n;
	/* Memory has the association; the store gets it with the quota's next write. */
	if (mgr_store_put_quota(q) < 0)
		tlog(LOG_ERR, NULL, "cannot store the hosts of a quota");
	free(out);
	api_ok(c, 200,
	       json_pack("{s:o, s:i, s:i}", "hosts", a, "covered", (int)covered, "wanted",
			 (int)mgr_quota_room(q, m)));
}

void api_quotas(struct api_ctx *c)
{
	struct mgr_err e = { 0 };
	struct mgr_quota_spec spec;
	uint32_t tid, mid;

	if (!c->provider && !is(c, "GET")) {
		forbidden(c, "only provider admins manage quotas");
		return;
	}
	if (c->n_seg == 1 && is(c, "GET")) {
		json_t *a = json_array();
		pthread_mutex_lock(&mgr.lock);
		for (uint32_t i = 0; i < mgr.n_quotas; i++)
			if (c->provider || mgr.quotas[i].tenant_id == c->tenant_id)
				json_array_append_new(a, mgr_quota_json_locked(&mgr.quotas[i]));
		pthread_mutex_unlock(&mgr.lock);
		api_ok(c, 200, a);
		return;
	}
	if (c->n_seg == 1 && is(c, "POST")) {
		if (!api_decode(c, &mgr_quota_schema, &spec))
			return;
		snprintf(c->target, sizeof(c->target), "quota %s/%s", spec.tenant, spec.model);
		snprintf(c->audit_tenant, sizeof(c->audit_tenant), "%s", spec.tenant);
		pthread_mutex_lock(&mgr.lock);
		if (quota_refs(&spec, &tid, &mid, &e)) {
			struct mgr_quota *a;
			if (mgr_quota_get(&mgr, tid, mid))
				mgr_err_set(&e, 409, "", "tenant %s has a quota for model %s",
					    spec.tenant, spec.model);
			else if ((a = realloc(mgr.quotas, (mgr.n_quotas + 1) * sizeof(*a))) == NULL)
				mgr_err_set(&e, 500, "", "out of memory");
			else {
				mgr.quotas = a;
				a[mgr.n_quotas] = (struct mgr_quota){ .tenant_id = tid,
								      .model_id = mid,
								      .spec = spec,
								      .since = time(NULL) };
				if (mgr_store_put_quota(&a[mgr.n_quotas]) < 0)
					mgr_err_set(&e, 500, "", "cannot write the store");
				else
					api_ok(c, 201, mgr_quota_json_locked(&a[mgr.n_quotas++]));
			}
		}
		pthread_mutex_unlock(&mgr.lock);
		if (e.status)
			api_error(c, &e);
		return;
	}
	if (c->n_seg < 3 || c->n_seg > 4 || (c->n_seg == 4 && strcmp(c->seg[3], "hosts") != 0)) {
		http_error(c->out, 404, "", "no such resource: %s", c->r->path);
		return;
	}
	snprintf(c->target, sizeof(c->target), "quota %s/%s", c->seg[1], c->seg[2]);
	snprintf(c->audit_tenant, sizeof(c->audit_tenant), "%s", c->seg[1]);
	if (is(c, "PUT") && !api_decode(c, &mgr_quota_schema, &spec))
		return;
	pthread_mutex_lock(&mgr.lock);
	struct mgr_quota *q = quota_at(c, &e);
	if (q == NULL) {
	} else if (c->n_seg == 4 && is(c, "POST")) {
		quota_search(c, q, &e);
	} else if (c->n_seg == 4 && is(c, "GET")) {
		json_t *o = mgr_quota_json_locked(q);
		api_ok(c, 200, json_pack("{s:O}", "hosts", json_object_get(o, "hosts")));
		json_decref(o);
	} else if (c->n_seg == 4) {
		mgr_err_set(&e, 405, "", "%s is not allowed on %s", c->r->method, c->r->path);
	} else if (is(c, "GET")) {
		api_ok(c, 200, mgr_quota_json_locked(q));
	} else if (is(c, "PUT")) {
		if (strcmp(spec.tenant, c->seg[1]) || strcmp(spec.model, c->seg[2])) {
			mgr_err_set(&e, 400, "/tenant", "tenant and model are the path's: %s/%s",
				    c->seg[1], c->seg[2]);
		} else {
			struct mgr_quota_spec old = q->spec;
			q->spec = spec;
			if (mgr_store_put_quota(q) < 0) {
				q->spec = old;
				mgr_err_set(&e, 500, "", "cannot write the store");
			} else {
				/* A lower quota than what is used: nothing more is placed, nothing
				 * goes. */
				if (old.max_cpus != spec.max_cpus ||
				    old.max_memory_mb != spec.max_memory_mb)
					usage_alloc_resized_locked(
						q->tenant_id, usage_quota_held(&old), &q->since);
				api_ok(c, 200, mgr_quota_json_locked(q));
			}
		}
	} else if (is(c, "DELETE")) {
		if (q->cpus_used || q->memory_used_mb) {
			mgr_err_set(&e, 409, "", "tenant %s has %s desktops: delete them first",
				    c->seg[1], c->seg[2]);
		} else if (mgr_store_del_quota(q->tenant_id, q->model_id) < 0) {
			mgr_err_set(&e, 500, "", "cannot write the store");
		} else {
			usage_alloc_resized_locked(q->tenant_id, usage_quota_held(&q->spec),
						   &q->since);
			free(q->host_ids);
			*q = mgr.quotas[--mgr.n_quotas];
			api_ok(c, 200,
			       json_pack("{s:s, s:s}", "tenant", c->seg[1], "model", c->seg[2]));
		}
	} else {
		mgr_err_set(&e, 405, "", "%s is not allowed on %s", c->r->method, c->r->path);
	}
	pthread_mutex_unlock(&mgr.lock);
	if (e.status)
		api_error(c, &e);
}

/* ---- desktops ---- */

struct desktop_req {
	char name[MGR_NAME_LEN];
	char model[MGR_NAME_LEN];
};

static const struct cfg_field desktop_req_fields[] = {
	CFG_FIELD(struct desktop_req, name, "name",
		  (&(const struct cfg_node){
			  .type = CFG_STRING,
			  .str = { .min_len = 1, .max_len = 40, .charset = CFG_NAME_CHARSET } }),
		  true, NULL),
	CFG_FIELD(struct desktop_req, model, "model",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .min_len = 1,
						      .max_len = MGR_NAME_LEN - 1,
						      .charset = CFG_NAME_CHARSET } }),
		  true, NULL),
	{ 0 },
};
static const struct cfg_node desktop_req_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = desktop_req_fields, .size = sizeof(struct desktop_req) },
};

static json_t *desktop_view_locked(const struct mgr_desktop *d)
{
	json_t *o = mgr_desktop_json(d);
	const struct mgr_host *h = mgr_host_get(&mgr, d->host_id);
	const struct mgr_model *m = mgr_model_get(&mgr, d->model_id);
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, d->tenant_id);

	json_object_set_new(o, "host", json_string(h ? h->spec.name : ""));
	json_object_set_new(o, "model", json_string(m ? m->spec.name : ""));
	json_object_set_new(o, "tenant", json_string(t ? t->spec.name : ""));
	json_object_set_new(o, "throttled", json_boolean(d->quota_us != 0));
	json_object_set_new(o, "links", mgr_links_json_locked(d, m ? m->spec.base_image : ""));
	json_object_set_new(o, "users", mgr_desktop_users_locked(d->id));
	return o;
}

static void desktop_create(struct api_ctx *c)
{
	struct desktop_req req;
	struct mgr_err e = { 0 };
	struct mgr_desktop *d;
	struct mgr_host *h;
	struct mgr_job *j;

	if (!api_decode(c, &desktop_req_schema, &req))
		return;
	snprintf(c->target, sizeof(c->target), "desktop %s", req.name);
	pthread_mutex_lock(&mgr.lock);
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, c->tenant_id);
	const struct mgr_model *m = mgr_model_by_name(&mgr, req.model);
	const struct mgr_site *site;
	if (t == NULL) {
		mgr_err_set(&e, 404, "", "tenant %s does not exist", c->who->tenant);
		goto out;
	}
	if (m == NULL) {
		mgr_err_set(&e, 400, "/model", "no model named '%s'", req.model);
		goto out;
	}
	for (uint32_t i = 0; i < mgr.n_desktops; i++)
		if (mgr.desktops[i]->tenant_id == t->id &&
		    strcmp(mgr.desktops[i]->name, req.name) == 0) {
			mgr_err_set(&e, 409, "/name", "desktop %s exists", req.name);
			goto out;
		}
	/* Quota and host at once, under the lock: concurrent requests cannot both fit. */
	h = mgr_place_locked(t, m, &e);
	if (h == NULL)
		goto out;
	d = calloc(1, sizeof(*d));
	site = mgr_site_get(&mgr, h->site_id);
	if (d == NULL || site == NULL || mgr_add_desktop_locked(d) < 0) {
		free(d);
		mgr_release_locked(h, t->id, m);
		mgr_err_set(&e, 500, "", "out of memory");
		goto out;
	}
	d->id = mgr_next_id_locked(MGR_DESKTOP);
	snprintf(d->name, sizeof(d->name), "%s", req.name);
	snprintf(d->domain, sizeof(d->domain), "%s+%s", t->spec.name, req.name);
	d->tenant_id = t->id;
	d->model_id = m->id;
	d->host_id = h->id;
	d->state = MGR_DESK_CREATING;
	d->created = time(NULL);
	snprintf(d->port, sizeof(d->port), "desk%u", d->id);
	if (mgr_desktop_paths(site->spec.storage, t->spec.name, req.name, d->id, h->spec.vhost_dir,
			      d->overlay, d->vhost_socket) < 0) {
		mgr_remove_desktop_locked(d->id);
		mgr_release_locked(h, t->id, m);
		mgr_err_set(&e, 409, "", "the paths of site %s or host %s are too long",
			    site->spec.name, h->spec.name);
		goto out;
	}
	if (mgr_new_mac_locked(d->mac, d->id) < 0)
		mgr_err_set(&e, 503, "", "no free MAC address found for desktop %u", d->id);
	else
		d->address = mgr_net_new_address_locked(t, &e); /* d is not counted: no address */
	if (e.status) {
		mgr_remove_desktop_locked(d->id);
		mgr_release_locked(h, t->id, m);
		goto out;
	}
	d->cpus = mgr_host_slice(h, t->id)->cpus;
	/* Review 1.5: no transaction, no job (its writes would not be atomic). The tenant's other
	 * desktops there follow its partition, in the same transaction. */
	j = NULL;
	if (mgr_store_begin() == 0) {
		mgr_sync_cpus_locked(h);
		if (mgr_store_put_desktop(d) == 0)
			j = mgr_job_queue_locked(MGR_JOB_CREATE, d, &e);
	}
	if (j == NULL || mgr_store_commit() < 0) {
		mgr_store_rollback();
		if (j)
			mgr_job_cancel_locked(j, d);
		mgr_remove_desktop_locked(d->id);
		mgr_release_locked(h, t->id, m);
		/* The other desktops back to the partition without this one (review 1.15); d is
		 * gone first so that the sync does not store it. */
		mgr_sync_cpus_locked(h);
		if (!e.status)
			mgr_err_set(&e, 500, "", "cannot write the store");
		goto out;
	}
	api_ok(c, 202,
	       json_pack("{s:o, s:o}", "desktop", desktop_view_locked(d), "job",
			 mgr_job_view(j, c->provider)));
out:
	pthread_mutex_unlock(&mgr.lock);
	if (e.status)
		api_error(c, &e);
}

/* POST /desktops/<id>/<action> and DELETE /desktops/<id>: a job. */
static void desktop_job(struct api_ctx *c, struct mgr_desktop *d, uint8_t kind, struct mgr_err *e)
{
	static const uint8_t allowed[MGR_JOB_KINDS][MGR_DESK_STATES] = {
		[MGR_JOB_DELETE] = { [MGR_DESK_STOPPED] = 1, [MGR_DESK_RUNNING] = 1 },
		[MGR_JOB_START] = { [MGR_DESK_STOPPED] = 1, [MGR_DESK_RUNNING] = 1 },
		[MGR_JOB_STOP] = { [MGR_DESK_STOPPED] = 1, [MGR_DESK_RUNNING] = 1 },
		[MGR_JOB_REBOOT] = { [MGR_DESK_RUNNING] = 1 },
	};
	uint8_t was = d->state;
	struct mgr_job *j;
	bool began;

	if (!allowed[kind][d->state]) {
		mgr_err_set(e, 409, "", "desktop %s is %s: cannot %s it now", d->name,
			    mgr_desktop_state_names[d->state], mgr_job_kind_names[kind]);
		return;
	}
	/* The job and the desktop's new state are stored together, or neither. */
	began = mgr_store_begin() == 0;
	if (kind == MGR_JOB_DELETE)
		d->state = MGR_DESK_DELETING;
	j = began && (d->state == was || mgr_store_put_desktop(d) == 0)
		    ? mgr_job_queue_locked(kind, d, e)
		    : NULL;
	if (j == NULL || mgr_store_commit() < 0) {
		mgr_store_rollback();
		if (j)
			mgr_job_cancel_locked(j, d);
		d->state = was;
		if (!e->status)
			mgr_err_set(e, 500, "", "cannot write the store");
		return;
	}
	api_ok(c, 202,
	       json_pack("{s:o, s:o}", "desktop", desktop_view_locked(d), "job",
			 mgr_job_view(j, c->provider)));
}

void api_desktops(struct api_ctx *c)
{
	struct mgr_err e = { 0 };
	struct mgr_desktop *d = NULL;
	uint32_t id = 0;
	char *end;

	if (c->n_seg == 3 && strcmp(c->seg[2], "users") == 0) {
		api_desktop_users(c); /* tenant and provider admins */
		return;
	}
	/* Routes that providers reach too: migrate (operators: provider admins only) and a
	 * console (whoever sees the desktop). */
	if (c->n_seg == 3 && is(c, "POST") &&
	    (strcmp(c->seg[2], "migrate") == 0 || strcmp(c->seg[2], "console") == 0)) {
		id = (uint32_t)strtoul(c->seg[1], &end, 10);
		snprintf(c->target, sizeof(c->target), "desktop %s", c->seg[1]);
		if (*end)
			http_error(c->out, 404, "", "no desktop %s", c->seg[1]);
		else if (c->seg[2][0] == 'm')
			api_desktop_migrate(c, id);
		else
			api_desktop_console(c, id);
		return;
	}
	if (c->provider) {
		forbidden(c, "provider admins do not see inside tenants' desktops");
		return;
	}
	if (c->n_seg == 1 && is(c, "GET")) {
		json_t *a = json_array();
		pthread_mutex_lock(&mgr.lock);
		for (uint32_t i = 0; i < mgr.n_desktops; i++)
			if (mgr.desktops[i]->tenant_id == c->tenant_id &&
			    (!c->user ||
			     mgr_user_assigned_locked(c->who->user_id, mgr.desktops[i]->id)))
				json_array_append_new(a, desktop_view_locked(mgr.desktops[i]));
		pthread_mutex_unlock(&mgr.lock);
		api_ok(c, 200, a);
		return;
	}
	if (c->n_seg == 1 && is(c, "POST")) {
		if (c->user)
			forbidden(c, "users do not create desktops");
		else
			desktop_create(c);
		return;
	}
	if (c->n_seg < 2 || c->n_seg > 3) {
		http_error(c->out, 404, "", "no such resource: %s", c->r->path);
		return;
	}
	id = (uint32_t)strtoul(c->seg[1], &end, 10);
	snprintf(c->target, sizeof(c->target), "desktop %s", c->seg[1]);
	pthread_mutex_lock(&mgr.lock);
	d = *end ? NULL : mgr_desktop_get(&mgr, id);
	/* A user's desktops are those assigned to it: another's is not confirmed (404). */
	if (d == NULL || d->tenant_id != c->tenant_id ||
	    (c->user && !mgr_user_assigned_locked(c->who->user_id, d->id))) {
		mgr_err_set(&e, 404, "", "no desktop %s", c->seg[1]);
	} else if (c->user && c->n_seg == 2 && !is(c, "GET")) {
		mgr_err_set(&e, 403, "", "users do not %s desktops",
			    is(c, "DELETE") ? "delete" : "change");
	} else if (c->n_seg == 2 && is(c, "GET")) {
		struct mgr_desktop copy = *d;
		json_t *o = desktop_view_locked(d), *lv;
		pthread_mutex_unlock(&mgr.lock);
		/* What libvirt says of it: pinning, cputune, state. */
		lv = copy.uuid[0] ? mgr_virt_domain_info(copy.host_id, copy.uuid) : NULL;
		json_object_set_new(o, "libvirt", lv ? lv : json_null());
		api_ok(c, 200, o);
		return;
	} else if (c->n_seg == 2 && is(c, "DELETE")) {
		desktop_job(c, d, MGR_JOB_DELETE, &e);
	} else if (c->n_seg == 3 && is(c, "POST") && strcmp(c->seg[2], "connect") == 0) {
		pthread_mutex_unlock(&mgr.lock);
		api_desktop_connect(c, id); /* it waits for the move: without the lock */
		return;
	} else if (c->n_seg == 3 && is(c, "POST")) {
		uint8_t kind = strcmp(c->seg[2], "start") == 0    ? MGR_JOB_START
			       : strcmp(c->seg[2], "stop") == 0   ? MGR_JOB_STOP
			       : strcmp(c->seg[2], "reboot") == 0 ? MGR_JOB_REBOOT
								  : MGR_JOB_KINDS;
		if (kind == MGR_JOB_KINDS)
			mgr_err_set(&e, 404, "", "no action '%s' (start, stop, reboot, connect)",
				    c->seg[2]);
		else
			desktop_job(c, d, kind, &e);
	} else {
		mgr_err_set(&e, 405, "", "%s is not allowed on %s", c->r->method, c->r->path);
	}
	pthread_mutex_unlock(&mgr.lock);
	if (e.status)
		api_error(c, &e);
}

/* ---- jobs, usage, audit ---- */

void api_jobs(struct api_ctx *c)
{
	json_t *a;

	if (!is(c, "GET") || c->n_seg > 2) {
		http_error(c->out, is(c, "GET") ? 404 : 405, "", "%s %s is not served",
			   c->r->method, c->r->path);
		return;
	}
	if (c->user && c->n_seg == 1) {
		forbidden(c, "users read the jobs of their desktops one by one");
		return;
	}
	pthread_mutex_lock(&mgr.lock);
	if (c->n_seg == 2) {
		const struct mgr_job *j = mgr_job_get(&mgr, (uint32_t)strtoul(c->seg[1], NULL, 10));
		if (j && (c->provider || j->tenant_id == c->tenant_id) &&
		    (!c->user || mgr_user_assigned_locked(c->who->user_id, j->desktop_id)))
			api_ok(c, 200, mgr_job_view(j, c->provider));
		else
			http_error(c->out, 404, "", "no job %s", c->seg[1]);
		pthread_mutex_unlock(&mgr.lock);
		return;
	}
	a = json_array();
	for (uint32_t i = 0; i < mgr.n_jobs; i++)
		if (c->provider || mgr.jobs[i]->tenant_id == c->tenant_id)
			json_array_append_new(a, mgr_job_list_view(mgr.jobs[i], c->provider));
	pthread_mutex_unlock(&mgr.lock);
	api_ok(c, 200, a);
}

/*
 * GET /usage: what is allocated (reservations, against quota and capacity)
 * and what runs: libvirt's active domains per host, counted per tenant by
 * the VLAN label of their NIC (Tessera's metadata), as last listed for any
 * caller (usage_active.h).
 */
void api_usage(struct api_ctx *c)
{
	json_t *active, *u, *t;
	time_t listed;
	size_t i;

	if (c->n_seg == 2 && strcmp(c->seg[1], "history") == 0) {
		api_usage_history(c);
		return;
	}
	if (!is(c, "GET") || c->n_seg != 1) {
		http_error(c->out, 405, "", "%s %s is not served", c->r->method, c->r->path);
		return;
	}
	/* Also refused in api_handle; here because tenant 0 is the provider's view. */
	if (!c->provider && c->tenant_id == 0) {
		forbidden(c, "this token's tenant does not exist");
		return;
	}
	active = mgr_usage_active(&listed);
	pthread_mutex_lock(&mgr.lock);
	u = mgr_usage_locked(c->provider ? 0 : c->tenant_id);
	json_array_foreach (json_object_get(u, "tenants"), i, t) {
		const struct mgr_tenant *tn = mgr_tenant_by_name(&mgr, jstr_or(t, "tenant"));
		json_t *a = tn ? json_object_get(active, tn->spec.vlan_name) : NULL;
		/* A copy: the listing is shared with other calls' threads. */
		json_object_set_new(
			t, "active",
			a ? json_deep_copy(a)
			  : json_pack("{s:i, s:i, s:i}", "domains", 0, "vcpus", 0, "memory_mb", 0));
	}
	pthread_mutex_unlock(&mgr.lock);
	json_decref(active);
	json_object_set_new(u, "active_listed_at", json_integer((json_int_t)listed));
	api_ok(c, 200, u);
}

/*
 * GET /audit: limit and since are checked (400, counted), never taken as
 * whatever strtoul makes of them; the query runs without mgr.lock.
 */
void api_audit(struct api_ctx *c)
{
	const char *tenant = http_query(c->r, "tenant"), *action = http_query(c->r, "action");
	const char *since = http_query(c->r, "since"), *limit = http_query(c->r, "limit");
	int64_t max = mgr_conf.audit.max_limit, n = max < 1000 ? max : 1000, from = 0;
	json_t *a;

	if (!is(c, "GET") || c->n_seg != 1) {
		http_error(c->out, 405, "", "the audit log is append-only");
		return;
	}
	if (limit && !http_query_int(limit, 1, max, &n)) {
		mgr_count(audit_queries_refused, 1);
		http_error(c->out, 400, "limit",
			   "limit: a number from 1 to at most %lld (audit.max_limit)",
			   (long long)max);
		return;
	}
	if (since && !http_query_int(since, 0, INT64_MAX, &from)) {
		mgr_count(audit_queries_refused, 1);
		http_error(c->out, 400, "since", "since: a time in seconds since the epoch");
		return;
	}
	if (!c->provider)
		tenant = c->who->tenant; /* a tenant admin sees its own tenant's entries */
	api_audit_flush(false);
	a = mgr_store_audit_query(tenant, action, from, (unsigned)n);
	if (a == NULL)
		http_error(c->out, 500, "", "cannot read the audit log");
	else
		api_ok(c, 200, a);
}

/*
 * GET /reconcile: every host's libvirt domains against the store. Domains
 * libvirt has that the store does not, and desktops whose domain libvirt
 * lacks, are reported; nothing is deleted.
 */
void api_reconcile(struct api_ctx *c)
{
	json_t *hosts = json_array();
	uint32_t *ids, n;

	if (strcmp(c->r->method, "GET") != 0 && strcmp(c->r->method, "POST") != 0) {
		http_error(c->out, 405, "", "%s is not allowed on %s", c->r->method, c->r->path);
		json_decref(hosts);
		return;
	}
	if (!c->provider) {
		forbidden(c, "only provider admins reconcile hosts");
		json_decref(hosts);
		return;
	}
	pthread_mutex_lock(&mgr.lock);
	n = mgr.n_hosts;
	ids = calloc(n + 1, sizeof(*ids));
	for (uint32_t i = 0; ids && i < n; i++)
		ids[i] = mgr.hosts[i]->id;
	pthread_mutex_unlock(&mgr.lock);
	for (uint32_t i = 0; ids && i < n; i++) {
		char err[512];
		json_t *doms = mgr_virt_list(ids[i], err, sizeof(err)), *unknown = json_array(),
		       *missing = json_array(), *v;
		size_t k;
		pthread_mutex_lock(&mgr.lock);
		const struct mgr_host *h = mgr_host_get(&mgr, ids[i]);
		json_array_foreach (doms, k, v) {
			const char *uuid = json_string_value(json_object_get(v, "uuid"));
			bool known = false;
			for (uint32_t x = 0; x < mgr.n_desktops && !known; x++)
				known = strcmp(mgr.desktops[x]->uuid, uuid) == 0;
			if (!known)
				json_array_append(unknown, v);
		}
		for (uint32_t x = 0; doms && x < mgr.n_desktops; x++) {
			const struct mgr_desktop *d = mgr.desktops[x];
			bool there = false;
			if (d->host_id != ids[i] || d->state == MGR_DESK_CREATING ||
			    d->state == MGR_DESK_MIGRATING)
				continue;
			json_array_foreach (doms, k, v)
				there |= strcmp(json_string_value(json_object_get(v, "uuid")),
						d->uuid) == 0;
			if (!there)
				json_array_append_new(missing, json_pack("{s:I, s:s}", "desktop_id",
									 (json_int_t)d->id, "uuid",
									 d->uuid));
		}
		json_array_append_new(hosts,
				      json_pack("{s:s, s:b, s:s?, s:o, s:o}", "host",
						h ? h->spec.name : "?", "reachable", doms != NULL,
						"error", doms ? NULL : err, "not_in_store", unknown,
						"missing_in_libvirt", missing));
		pthread_mutex_unlock(&mgr.lock);
		json_decref(doms);
	}
	free(ids);
	/* The tessds: PE routers' tenant networks, hosts' groups and desktop ports
	 * (network_reconcile.c); POST repairs what differs. */
	bool repair = strcmp(c->r->method, "POST") == 0;
	if (repair)
		mgr_net_serialize(true);
	json_t *tessds = mgr_net_reconcile(repair); /* takes mgr.lock only to copy, check */
	if (repair)
		mgr_net_serialize(false);
	api_ok(c, 200, json_pack("{s:o, s:o}", "hosts", hosts, "tessds", tessds));
}
