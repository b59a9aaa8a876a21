/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The roaming desktop's API (seed 004): a client's connect request moves
 * its desktop to the site nearest the user when it is not there already;
 * operators migrate desktops to named hosts; base images are listed and
 * pushed; sites are listed by distance from a location.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "images.h"
#include "jobs.h"
#include "roam.h"
#include "store.h"
#include "tessd_config.h"
#include "tlog.h"

static bool is(const struct api_ctx *c, const char *method)
{
	return strcmp(c->r->method, method) == 0;
}

/* ---- request bodies ---- */

struct connect_req {
	char from[128];
};
static const struct cfg_field connect_fields[] = {
	CFG_FIELD(struct connect_req, from, "from",
		  (&(const struct cfg_node){ .type = CFG_STRING, .str = { 1, 127 } }), true, NULL),
	{ 0 },
};
static const struct cfg_node connect_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = connect_fields, .size = sizeof(struct connect_req) },
};

struct migrate_req {
	char host[MGR_NAME_LEN];
	bool live;
};
static const struct cfg_field migrate_fields[] = {
	CFG_FIELD(struct migrate_req, host, "host", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct migrate_req, live, "live", (&(const struct cfg_node){ .type = CFG_BOOL }),
		  false, "false"),
	{ 0 },
};
static const struct cfg_node migrate_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = migrate_fields, .size = sizeof(struct migrate_req) },
};

struct push_req {
	char site[MGR_NAME_LEN];
	char file[PATH_MAX];
};
static const struct cfg_field push_fields[] = {
	CFG_FIELD(struct push_req, site, "site", &tessd_name_schema, true, NULL),
	/* Relative to the import directory, or absolute under it (checked by the push). */
	CFG_FIELD(struct push_req, file, "file",
		  (&(const struct cfg_node){ .type = CFG_STRING, .str = { 1, PATH_MAX - 1 } }),
		  true, NULL),
	{ 0 },
};
static const struct cfg_node push_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = push_fields, .size = sizeof(struct push_req) },
};

/* ---- moving a desktop ---- */

/*
 * Reserves room for d on one of site's hosts (other than its own) and
 * queues its migration there; NULL with why (a host's reason) if none.
 */
static struct mgr_job *queue_move_locked(struct mgr_desktop *d, const struct mgr_host *only,
					 uint32_t site_id, bool live, bool start, const char **why,
					 struct mgr_err *e)
{
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, d->tenant_id);
	const struct mgr_model *m = mgr_model_get(&mgr, d->model_id);
	struct mgr_tenant there;
	struct mgr_host *h = NULL;
	struct mgr_job *j;

	*why = "has no host";
	if (t == NULL || m == NULL)
		return NULL;
	/* The tenant as if its data center were the target site: the same rules apply there. */
	there = *t;
	there.site_id = site_id;
	for (uint32_t i = 0; i < mgr.n_hosts && h == NULL; i++) {
		struct mgr_host *c = mgr.hosts[i];
		if (c->site_id != site_id || c->id == d->host_id || (only && c != only))
			continue;
		if (mgr_reserve_host_locked(c, &there, m, why))
			h = c;
	}
	if (h == NULL)
		return NULL;
	/* The job and the desktop's new state together: no second move can be asked now. */
	uint8_t was = d->state;
	bool began = mgr_store_begin() == 0; /* review 1.5: atomic, or not at all */
	d->state = MGR_DESK_MIGRATING;
	j = began && mgr_store_put_desktop(d) == 0 ? mgr_job_queue_locked(MGR_JOB_MIGRATE, d, e)
						   : NULL;
	if (j) {
		j->target_host_id = h->id;
		j->live = live;
		j->start = start;
	}
	if (j == NULL || mgr_store_put_job(j) < 0 || mgr_store_commit() < 0) {
		mgr_store_rollback();
		if (j)
			mgr_job_cancel_locked(j, d);
		d->state = was;
		mgr_release_host_locked(h, d->tenant_id, m);
		mgr_sync_cpus_locked(h);
		if (!e->status)
			mgr_err_set(e, 500, "", "cannot write the store");
		return NULL;
	}
	return j;
}

static bool movable(const struct mgr_desktop *d, struct mgr_err *e)
{
	if (d->state == MGR_DESK_RUNNING || d->state == MGR_DESK_STOPPED)
		return true;
	mgr_err_set(e, 409, "", "desktop %s is %s: it cannot move now", d->name,
		    mgr_desktop_state_names[d->state]);
	return false;
}

/* Where the desktop is, for the answer: site and host names. */
static json_t *where_locked(const struct mgr_desktop *d)
{
	const struct mgr_host *h = mgr_host_get(&mgr, d->host_id);
	const struct mgr_site *s = h ? mgr_site_get(&mgr, h->site_id) : NULL;

	return json_pack("{s:I, s:s, s:s, s:s, s:s}", "desktop_id", (json_int_t)d->id, "desktop",
			 d->name, "site", s ? s->spec.name : "?", "host", h ? h->spec.name : "?",
			 "state", mgr_desktop_state_names[d->state]);
}

static void answer(struct api_ctx *c, uint32_t desktop_id, bool moved, const char *reason,
		   json_t *extra)
{
	const struct mgr_desktop *d;
	json_t *o;

	pthread_mutex_lock(&mgr.lock);
	d = mgr_desktop_get(&mgr, desktop_id);
	o = d ? where_locked(d) : json_object();
	pthread_mutex_unlock(&mgr.lock);
	json_object_set_new(o, "moved", json_boolean(moved));
	if (reason)
		json_object_set_new(o, "reason", json_string(reason));
	if (extra)
		json_object_update(o, extra);
	json_decref(extra);
	api_ok(c, 200, o);
}

/* A move whose after_move task failed, for the tenant: the task's name (a tenant's view of the
 * job has it, not its program's words) and the job to ask the provider about. */
static void task_failed(const struct mgr_job *done, char *buf, size_t len)
{
	const char *name = "?";
	const struct mgr_job *j;
	size_t i;
	json_t *t;

	pthread_mutex_lock(&mgr.lock);
	j = mgr_job_get(&mgr, done->id);
	/* The one that failed it is the last not ok (none runs after it). */
	json_array_foreach (j ? j->tasks : NULL, i, t)
		if (!json_is_true(json_object_get(t, "ok")) &&
		    json_is_string(json_object_get(t, "name")))
			name = json_string_value(json_object_get(t, "name"));
	snprintf(buf, len,
		 "moved, but task %s after the move failed: ask the provider about job %u", name,
		 done->id);
	pthread_mutex_unlock(&mgr.lock);
}

/*
 * POST /desktops/ID/connect {"from": "LAT,LON" | "IP" | "SITE"}: the
 * desktop comes to the nearest site that can run it (cold migration, the
 * request waiting), and the answer says where to connect.
 */
void api_desktop_connect(struct api_ctx *c, uint32_t id)
{
	struct connect_req req;
	struct mgr_location loc;
	struct mgr_err e = { 0 };
	struct mgr_desktop *d;
	char err[512], image[MGR_NAME_LEN] = "", version[65] = "";
	uint32_t *order = NULL, n = 0, here = 0, from_site = 0;
	double lat = 0, lon = 0;
	int client_site = -1;
	json_t *reasons = json_object();
	struct mgr_job done;
	uint32_t job_id = 0;
	int rc;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0); /* what the user waits, from request to answer */
	if (!api_decode(c, &connect_schema, &req)) {
		json_decref(reasons);
		return;
	}
	if (mgr_location_parse(req.from, &loc, err, sizeof(err)) < 0) {
		mgr_err_set(&e, 400, "/from", "%s", err);
		goto fail;
	}
	pthread_mutex_lock(&mgr.lock);
	d = mgr_desktop_get(&mgr, id);
	if (d == NULL || d->tenant_id != c->tenant_id) {
		mgr_err_set(&e, 404, "", "no desktop %u", id);
	} else if (mgr_location_resolve(&loc, mgr.sites, mgr.n_sites, &lat, &lon, &client_site, err,
					sizeof(err)) < 0) {
		mgr_err_set(&e, 400, "/from", "%s", err);
	} else if (movable(d, &e)) {
		const struct mgr_host *h = mgr_host_get(&mgr, d->host_id);
		const struct mgr_model *m = mgr_model_get(&mgr, d->model_id);
		from_site = h ? h->site_id : 0;
		snprintf(image, sizeof(image), "%s", m ? m->spec.base_image : "");
		snprintf(version, sizeof(version), "%s", d->base_version);
		for (uint32_t i = 0; i < mgr.n_sites; i++)
			if (mgr.sites[i].id == from_site)
				here = i;
		order = calloc(mgr.n_sites + 1, sizeof(*order));
		if (order == NULL) {
			mgr_err_set(&e, 500, "", "out of memory");
		} else if (mgr_same_location(mgr.sites, mgr.n_sites, here, client_site, lat, lon,
					     mgr_conf.roaming.same_km)) {
			n = 0; /* nothing to do */
		} else {
			/* The sites nearer than its own, nearest first. */
			mgr_sites_by_distance(mgr.sites, mgr.n_sites, lat, lon, order);
			while (n < mgr.n_sites && order[n] != here)
				n++;
			for (uint32_t i = 0; i < n; i++)
				order[i] = mgr.sites[order[i]].id;
		}
	}
	pthread_mutex_unlock(&mgr.lock);
	if (e.status)
		goto fail;
	if (!version[0] && n) {
		free(order);
		json_decref(reasons);
		answer(c, id, false, "the desktop's base version is not known yet", NULL);
		return;
	}
	for (uint32_t i = 0; i < n && !job_id; i++) {
		struct mgr_image copy;
		const char *why = NULL;
		char name[MGR_NAME_LEN] = "?";
		/* The same base version there? (Hashing a new file takes no lock.) */
		rc = mgr_image_copy_at(order[i], image, version, false, &copy, err, sizeof(err));
		pthread_mutex_lock(&mgr.lock);
		const struct mgr_site *s = mgr_site_get(&mgr, order[i]);
		if (s)
			snprintf(name, sizeof(name), "%s", s->spec.name);
		d = mgr_desktop_get(&mgr, id);
		if (rc < 0) {
			/* err names the provider's storage paths: the log has it (below, out
			 * of the lock), the tenant a fixed text. */
			json_object_set_new(
				reasons, name,
				json_string(rc == -ENOENT
						    ? "has no copy of the desktop's base version"
						    : "its base image could not be checked there"));
		} else if (d == NULL || !movable(d, &e)) {
			/* changed meanwhile: answered below */
		} else {
			struct mgr_job *j =
				queue_move_locked(d, NULL, order[i], false, true, &why, &e);
			if (j)
				job_id = j->id;
			else if (!e.status)
				json_object_set_new(reasons, name,
						    json_string(why ? why : "no room"));
		}
		pthread_mutex_unlock(&mgr.lock);
		if (rc < 0 && rc != -ENOENT)
			tlog(LOG_WARNING, TLOG_F(.desktop = id),
			     "connect of desktop %u: site %s: %s", id, name, err);
		if (e.status)
			goto fail;
	}
	free(order);
	order = NULL;
	if (n == 0) {
		json_decref(reasons);
		answer(c, id, false, "the client is at the desktop's location", NULL);
		return;
	}
	if (!job_id) {
		answer(c, id, false,
		       "no site nearer than the desktop's own can run it (see sites for why)",
		       json_pack("{s:o}", "sites", reasons));
		return;
	}
	json_decref(reasons);
	snprintf(c->target, sizeof(c->target), "desktop %u (job %u)", id, job_id);
	/* The user's connect request waits for the move. */
	rc = mgr_job_wait(job_id, mgr_conf.roaming.connect_wait_sec, &done);
	if (rc < 0) {
		/* Still moving, or finished so long ago that its record is gone. */
		api_ok(c, 202,
		       json_pack("{s:I, s:s}", "job", (json_int_t)job_id, "reason",
				 rc == -ETIMEDOUT   ? "the desktop is still moving: follow the job"
				 : rc == -ESHUTDOWN ? "tessmgrd is stopping: follow the job"
						    : "the move has ended: ask again"));
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_mutex_lock(&mgr.lock);
	const struct mgr_site *fs = mgr_site_get(&mgr, from_site);
	json_t *extra = json_pack(
		"{s:I, s:s, s:I}", "job", (json_int_t)job_id, "from_site", fs ? fs->spec.name : "?",
		"move_ms",
		(json_int_t)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	pthread_mutex_unlock(&mgr.lock);
	if (done.state == MGR_JOB_SUCCEEDED) {
		answer(c, id, true, NULL, extra);
	} else if (done.step >= MGR_STEP_TASKS) {
		/* The move committed and an after_move task failed after it: the desktop is at
		 * its new site (answered so), the task's failure told with it. */
		char why[160];
		task_failed(&done, why, sizeof(why));
		tlog(LOG_WARNING, TLOG_F(.job = job_id, .desktop = id),
		     "connect of desktop %u: moved, then failed: %s", id, done.error);
		json_object_set_new(extra, "task_error", json_string(why));
		answer(c, id, true, NULL, extra);
	} else {
		/* The job's error names the provider's hosts and storage (libvirt's text, paths):
		 * the tenant gets it in general terms, the log the whole of it. */
		char why[128];
		mgr_job_tenant_error(&done, why, sizeof(why));
		tlog(LOG_WARNING, TLOG_F(.job = job_id, .desktop = id),
		     "connect of desktop %u: move failed: %s", id, done.error);
		answer(c, id, false, why[0] ? why : "the move failed", extra);
	}
	return;
fail:
	free(order);
	json_decref(reasons);
	api_error(c, &e);
}

/* POST /desktops/ID/migrate {"host", "live"}: operators move a desktop to a named host. */
void api_desktop_migrate(struct api_ctx *c, uint32_t id)
{
	struct migrate_req req;
	struct mgr_err e = { 0 };
	struct mgr_desktop *d;
	struct mgr_host *h;
	const char *why = NULL;

	if (!c->provider) {
		http_error(c->out, 403, "", "only provider admins migrate desktops to named hosts");
		return;
	}
	if (!api_decode(c, &migrate_schema, &req))
		return;
	pthread_mutex_lock(&mgr.lock);
	d = mgr_desktop_get(&mgr, id);
	h = mgr_host_by_name(&mgr, req.host);
	if (d == NULL) {
		mgr_err_set(&e, 404, "", "no desktop %u", id);
	} else if (h == NULL) {
		mgr_err_set(&e, 400, "/host", "no host %s", req.host);
	} else if (h->id == d->host_id) {
		mgr_err_set(&e, 409, "/host", "desktop %u is on %s already", id, req.host);
	} else if (req.live && d->state != MGR_DESK_RUNNING) {
		mgr_err_set(&e, 409, "/live", "a live migration needs a running desktop");
	} else if (movable(d, &e)) {
		struct mgr_job *j = queue_move_locked(d, h, h->site_id, req.live, false, &why, &e);
		if (j) {
			const struct mgr_tenant *t = mgr_tenant_get(&mgr, d->tenant_id);
			snprintf(c->audit_tenant, sizeof(c->audit_tenant), "%s",
				 t ? t->spec.name : "");
			api_ok(c, 202, json_pack("{s:o}", "job", mgr_job_view(j, c->provider)));
		} else if (!e.status) {
			mgr_err_set(&e, 409, "/host", "host %s cannot take desktop %u: it %s",
				    req.host, id, why ? why : "has no room");
		}
	}
	pthread_mutex_unlock(&mgr.lock);
	if (e.status)
		api_error(c, &e);
}

/* ---- base images ---- */

void api_images(struct api_ctx *c)
{
	struct push_req req;
	struct mgr_err e = { 0 };
	const struct mgr_site *s;
	uint32_t site_id = 0;
	json_t *out;

	if (!c->provider) {
		http_error(c->out, 403, "", "only provider admins manage base images");
		return;
	}
	if (is(c, "GET") && c->n_seg <= 2) {
		pthread_mutex_lock(&mgr.lock);
		out = mgr_images_json_locked(c->n_seg == 2 ? c->seg[1] : NULL);
		pthread_mutex_unlock(&mgr.lock);
		if (c->n_seg == 2 && json_array_size(out) == 0) {
			json_decref(out);
			http_error(c->out, 404, "", "no base image %s", c->seg[1]);
			return;
		}
		api_ok(c, 200, c->n_seg == 2 ? json_incref(json_array_get(out, 0)) : out);
		if (c->n_seg == 2)
			json_decref(out);
		return;
	}
	if (!(c->n_seg == 3 && strcmp(c->seg[2], "push") == 0)) {
		http_error(c->out, c->n_seg == 3 ? 404 : 405, "", "%s %s is not served",
			   c->r->method, c->r->path);
		return;
	}
	if (!is(c, "POST")) {
		http_error(c->out, 405, "", "%s %s is not served", c->r->method, c->r->path);
		return;
	}
	if (strlen(c->seg[1]) >= MGR_NAME_LEN ||
	    strspn(c->seg[1], CFG_NAME_CHARSET) != strlen(c->seg[1]) ||
	    cfg_name_is_dots(c->seg[1])) {
		http_error(c->out, 400, "", "'%s' is not an image name", c->seg[1]);
		return;
	}
	if (!api_decode(c, &push_schema, &req))
		return;
	snprintf(c->target, sizeof(c->target), "image %s", c->seg[1]);
	pthread_mutex_lock(&mgr.lock);
	s = mgr_site_by_name(&mgr, req.site);
	if (s)
		site_id = s->id;
	pthread_mutex_unlock(&mgr.lock);
	if (site_id == 0) {
		mgr_err_set(&e, 400, "/site", "no site %s", req.site);
		api_error(c, &e);
		return;
	}
	out = mgr_image_push(c->seg[1], site_id, req.file, &e);
	if (out == NULL)
		api_error(c, &e);
	else
		api_ok(c, 200, out);
}

/* GET /sites?from=LOCATION: the sites with their distance from it, nearest first. */
void api_sites_from(struct api_ctx *c, const char *from)
{
	struct mgr_location loc;
	struct mgr_err e = { 0 };
	char err[256];
	double lat, lon;
	int site;
	uint32_t *order;
	json_t *a;

	if (mgr_location_parse(from, &loc, err, sizeof(err)) < 0) {
		mgr_err_set(&e, 400, "/from", "%s", err);
		api_error(c, &e);
		return;
	}
	pthread_mutex_lock(&mgr.lock);
	if (mgr_location_resolve(&loc, mgr.sites, mgr.n_sites, &lat, &lon, &site, err,
				 sizeof(err)) < 0) {
		pthread_mutex_unlock(&mgr.lock);
		mgr_err_set(&e, 400, "/from", "%s", err);
		api_error(c, &e);
		return;
	}
	order = calloc(mgr.n_sites + 1, sizeof(*order));
	a = json_array();
	if (order)
		mgr_sites_by_distance(mgr.sites, mgr.n_sites, lat, lon, order);
	for (uint32_t i = 0; order && i < mgr.n_sites; i++) {
		const struct mgr_site *s = &mgr.sites[order[i]];
		json_t *o = cfg_encode(&mgr_site_schema, &s->spec);
		json_object_set_new(
			o, "distance_km",
			json_real(mgr_distance_km(lat, lon, s->spec.latitude, s->spec.longitude)));
		json_array_append_new(a, o);
	}
	pthread_mutex_unlock(&mgr.lock);
	free(order);
	api_ok(c, 200, a);
}
