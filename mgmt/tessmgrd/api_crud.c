/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The generic list/get/add/update/delete of the provider's named objects (api_crud.h): each
 * kind's file gives its checks and what follows a change in a struct api_kind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_crud.h"
#include "network.h"
#include "tessd_addr.h"
#include "tunnel.h"

static const char *spec_name(const void *spec)
{
	return spec;
}

static uint32_t obj_id(const void *obj)
{
	return *(const uint32_t *)obj;
}

static json_t *obj_json(const struct api_kind *k, const void *obj)
{
	if (k->json)
		return k->json(obj);
	json_t *j = cfg_encode(k->schema, (const char *)obj + k->spec_at);
	json_object_set_new(j, "id", json_integer(obj_id(obj)));
	return j;
}

static void busy(struct mgr_err *e, const char *what, const char *name)
{
	mgr_err_set(e, 409, "",
		    "a health check of %s %s is in flight (its libvirt does not answer): nothing "
		    "changed, try again later",
		    what, name);
}

/* Stores and swaps in a new spec for an object (the old one freed), or says why not. */
static int store_swap(const struct cfg_node *schema, void *obj_spec, void *spec,
		      int (*put)(const void *obj), const void *obj, struct mgr_err *e)
{
	size_t size = schema->obj.size;
	char *old = malloc(size);

	if (old == NULL) {
		mgr_err_set(e, 500, "", "out of memory");
		return -ENOMEM;
	}
	memcpy(old, obj_spec, size);
	memcpy(obj_spec, spec, size);
	if (put(obj) < 0) {
		memcpy(obj_spec, old, size);
		free(old);
		mgr_err_set(e, 500, "", "cannot write the store");
		return -EIO;
	}
	cfg_free(schema, old);
	free(old);
	return 0;
}

/* An added object's row and next_ids in one commit (review 1.9): apart, a crash or a failed
 * second write left the row with next_ids still at its id, and the next add reused it. */
static int store_add(int (*put)(const void *), const void *obj, struct mgr_err *e)
{
	if (mgr_store_begin() < 0 || put(obj) < 0 ||
	    mgr_store_next_ids(mgr.next_id, MGR_KINDS) < 0 || mgr_store_commit() < 0) {
		mgr_store_rollback();
		mgr_err_set(e, 500, "", "cannot write the store");
		return -EIO;
	}
	return 0;
}

static int store_del(enum mgr_kind kind, uint32_t id, struct mgr_err *e)
{
	if (mgr_store_del_object(kind, id) < 0) {
		mgr_err_set(e, 500, "", "cannot write the store");
		return -EIO;
	}
	return 0;
}

/* arr (n elements of size) with room for one more, zeroed at n: or NULL with e (arr stays). */
void *api_grow(void *arr, uint32_t n, size_t size, struct mgr_err *e)
{
	char *a = realloc(arr, (n + 1) * size);

	if (a == NULL) {
		mgr_err_set(e, 500, "", "out of memory");
		return NULL;
	}
	memset(a + n * size, 0, size);
	return a;
}

int api_obj_unstore(const struct api_kind *k, const void *obj, struct mgr_err *e)
{
	return store_del(k->id_kind, obj_id(obj), e);
}

int api_obj_init(const struct api_kind *k, void *obj, void *spec, uint32_t *id, struct mgr_err *e)
{
	*id = *(uint32_t *)obj = mgr_next_id_locked(k->id_kind);
	memcpy((char *)obj + k->spec_at, spec, k->spec_size);
	if (k->derive)
		k->derive(obj);
	return store_add(k->put, obj, e);
}

void api_forget_tessd_locked(const char *addr)
{
	char key[MGR_TESSD_KEY_LEN];

	mgr_tessd_key_of(addr, key);
	if (key[0] == '\0')
		return;
	/* Its tunnel is the tessd's, whichever way one writes it (tunnel.h). */
	for (uint32_t i = 0; i < mgr.n_hosts; i++)
		if (strcmp(mgr.hosts[i]->tessd_key, key) == 0)
			return;
	for (uint32_t i = 0; i < mgr.n_routers; i++)
		if (strcmp(mgr.routers[i].tessd_key, key) == 0)
			return;
	mgr_tunnel_forget(addr);
}

static const char *tessd_of(const struct api_kind *k, const void *obj)
{
	return k->tessd_at ? (const char *)obj + k->tessd_at : "";
}

/* By name, linear as state.c's lookups. */
static void *find(const struct api_kind *k, const char *name)
{
	void *obj;

	for (uint32_t i = 0; (obj = k->at(i)) != NULL; i++)
		if (strcmp(spec_name((const char *)obj + k->spec_at), name) == 0)
			return obj;
	return NULL;
}

static bool visible(const struct api_ctx *c, const struct api_kind *k, const void *obj)
{
	return k->visible && k->visible(c, obj);
}

static bool checked(const struct api_kind *k, const void *spec, const void *old, struct mgr_err *e)
{
	return k->check == NULL || k->check(spec, old, e);
}

static uint32_t id_at(const void *obj, size_t at)
{
	return *(const uint32_t *)((const char *)obj + at);
}

bool api_site_named(const char *name, const char *path, struct mgr_err *e)
{
	if (mgr_site_by_name(&mgr, name) != NULL)
		return true;
	mgr_err_set(e, 400, path, "no site named '%s'", name);
	return false;
}

bool api_desktops_name(size_t desktop_at, uint32_t id)
{
	for (uint32_t i = 0; i < mgr.n_desktops; i++)
		if (id_at(mgr.desktops[i], desktop_at) == id)
			return true;
	return false;
}

/* No workflow task names it (u->tasks NULL: tasks do not name the kind); else a 409 naming
 * them (as many as the message holds). */
static bool tasks_unnamed(const struct api_used *u, const char *name, struct mgr_err *e)
{
	char list[320] = "";
	size_t used = 0;
	uint32_t n = 0;

	for (uint32_t i = 0; u && u->tasks && i < mgr.n_tasks; i++) {
		const struct mgr_task_spec *t = &mgr.tasks[i].spec;
		if (strcmp((const char *)t + u->task_at, name) != 0)
			continue;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 n ? ", " : "", t->name);
		n++;
	}
	if (n)
		mgr_err_set(e, 409, "", u->tasks, name, list);
	return n == 0;
}

static bool unused(const struct api_kind *k, const void *obj, struct mgr_err *e)
{
	const struct api_used *u = k->used;
	const char *why = NULL;

	if (u && api_desktops_name(u->desktop_at, obj_id(obj)))
		why = u->desktops;
	for (uint32_t i = 0; u && why == NULL && i < mgr.n_quotas; i++)
		if (id_at(&mgr.quotas[i], u->quota_at) == obj_id(obj))
			why = u->quotas;
	if (why)
		mgr_err_set(e, 409, "", why, spec_name((const char *)obj + k->spec_at));
	return why == NULL && tasks_unnamed(u, spec_name((const char *)obj + k->spec_at), e);
}

static bool del_checked(const struct api_kind *k, const void *obj, struct mgr_err *e)
{
	return unused(k, obj, e) && (k->del_check == NULL || k->del_check(obj, e));
}

/* A new object of spec at the end of its kind's array (hosts: their own add). */
static int obj_add(const struct api_kind *k, void *spec, uint32_t *id, struct mgr_err *e)
{
	void *obj;

	if (k->add)
		return k->add(spec, id, e);
	obj = k->grow(e);
	if (obj == NULL)
		return -ENOMEM;
	if (api_obj_init(k, obj, spec, id, e) < 0)
		return -EIO; /* crud undoes a planned change */
	(*k->count())++;
	if (k->tessd_at)
		mgr_tunnel_adopt(tessd_of(k, obj));
	return 0;
}

/* A new spec stored and swapped in; its tessd's tunnel follows a changed address. */
static int obj_update(const struct api_kind *k, void *obj, void *spec, struct mgr_err *e)
{
	char was[MGR_URI_LEN];
	int rc;

	snprintf(was, sizeof(was), "%s", tessd_of(k, obj));
	rc = store_swap(k->schema, (char *)obj + k->spec_at, spec, k->put, obj, e);
	if (rc < 0)
		return rc; /* crud undoes a planned change */
	if (k->derive)
		k->derive(obj);
	if (k->changed)
		k->changed(obj);
	if (strcmp(was, tessd_of(k, obj)) != 0) {
		mgr_tunnel_adopt(tessd_of(k, obj));
		api_forget_tessd_locked(was);
	}
	return 0;
}

/* Removes it unless in use (del_check); hosts: their own delete. */
static int obj_del(const struct api_kind *k, void *obj, struct mgr_err *e)
{
	char was[MGR_URI_LEN];
	uint32_t *n;
	char *last;

	if (k->del)
		return k->del(obj, e);
	if (!del_checked(k, obj, e))
		return -EBUSY;
	if (api_obj_unstore(k, obj, e) < 0)
		return -EIO; /* crud puts a planned change back */
	if (k->deleted)
		k->deleted(obj);
	snprintf(was, sizeof(was), "%s", tessd_of(k, obj));
	cfg_free(k->schema, (char *)obj + k->spec_at);
	n = k->count();
	last = k->at(*n - 1);
	if (k->ordered)
		memmove(obj, (char *)obj + k->obj_size, (size_t)(last - (char *)obj));
	else
		memmove(obj, last, k->obj_size);
	(*n)--;
	api_forget_tessd_locked(was);
	return 0;
}

static void not_found(const struct api_kind *k, const char *name, struct mgr_err *e)
{
	mgr_err_set(e, 404, "", "no %s named '%s'", k->what, name);
}

/* Runs plan on the tessds without mgr.lock (held on entry and on return); changes with a
 * plan are serialized with each other (mgr_net_serialize). */
static bool plan_run_unlocked(void *plan, struct mgr_err *e)
{
	bool ok;

	pthread_mutex_unlock(&mgr.lock);
	ok = mgr_net_plan_run(plan, e) == 0;
	pthread_mutex_lock(&mgr.lock);
	return ok;
}

/* Releases mgr.lock, then undoes a plan that ran if its store failed, and frees it. */
static void unlock_plan_end(void *plan, bool undo)
{
	pthread_mutex_unlock(&mgr.lock);
	if (undo)
		mgr_net_plan_undo(plan);
	mgr_net_plan_free(plan);
}

static void spec_drop(const struct api_kind *k, void *spec)
{
	cfg_free(k->schema, spec);
	free(spec);
}

/* The spec of a POST (the target is its name) or a PUT, decoded and asked of remote_check
 * before mgr.lock; NULL: answered. */
static void *spec_in(struct api_ctx *c, const struct api_kind *k)
{
	struct mgr_err e = { 0 };
	void *spec = calloc(1, k->spec_size);

	if (spec == NULL || !api_decode(c, k->schema, spec)) {
		free(spec);
		return NULL;
	}
	if (c->n_seg == 1)
		snprintf(c->target, sizeof(c->target), "%s %s", k->what, spec_name(spec));
	if (k->remote_check && k->remote_check(spec, &e) < 0) {
		spec_drop(k, spec);
		api_error(c, &e);
		return NULL;
	}
	return spec;
}

/* A delete with a plan: checked, the tessds programmed without mgr.lock, then the store. */
static void crud_del_planned(struct api_ctx *c, const struct api_kind *k)
{
	struct mgr_err e = { 0 };
	void *plan = NULL, *obj;
	bool undo = false;

	snprintf(c->target, sizeof(c->target), "%s %s", k->what, c->seg[1]);
	pthread_mutex_lock(&mgr.lock);
	obj = find(k, c->seg[1]);
	if (obj == NULL)
		not_found(k, c->seg[1], &e);
	else if (del_checked(k, obj, &e) && (plan = k->plan(obj, NULL, &e)) != NULL &&
		 plan_run_unlocked(plan, &e)) {
		obj = find(k, c->seg[1]);
		if (obj && obj_del(k, obj, &e) == 0)
			api_ok(c, 200, json_pack("{s:s}", "deleted", c->seg[1]));
		else
			undo = true;
		if (obj == NULL)
			not_found(k, c->seg[1], &e);
	}
	unlock_plan_end(plan, undo);
	if (e.status)
		api_error(c, &e);
}

static void crud_list(struct api_ctx *c, const struct api_kind *k)
{
	json_t *a = json_array();
	void *obj;

	pthread_mutex_lock(&mgr.lock);
	for (uint32_t i = 0; (obj = k->at(i)) != NULL; i++)
		if (c->provider || visible(c, k, obj))
			json_array_append_new(a, obj_json(k, obj));
	pthread_mutex_unlock(&mgr.lock);
	api_ok(c, 200, a);
}

static void crud_add(struct api_ctx *c, const struct api_kind *k)
{
	struct mgr_err e = { 0 };
	void *spec = spec_in(c, k), *plan = NULL, *obj;
	bool ok = false, undo = false;
	uint32_t id = 0;

	if (spec == NULL)
		return;
	pthread_mutex_lock(&mgr.lock);
	if (find(k, spec_name(spec)))
		mgr_err_set(&e, 409, "/name", "%s '%s' exists", k->what, spec_name(spec));
	else if (checked(k, spec, NULL, &e) &&
		 (k->plan == NULL || (plan = k->plan(NULL, spec, &e)) != NULL))
		ok = plan == NULL || plan_run_unlocked(plan, &e);
	/* Checked again, as an update is: a host may have come meanwhile (hosts have no plan). */
	if (ok && plan && (find(k, spec_name(spec)) || !checked(k, spec, NULL, &e))) {
		if (e.status == 0)
			mgr_err_set(&e, 409, "/name", "%s '%s' exists", k->what, spec_name(spec));
		ok = false;
		undo = true;
	}
	if (ok && obj_add(k, spec, &id, &e) == 0)
		e.status = 0;
	else if (ok)
		undo = true;
	unlock_plan_end(plan, undo);
	if (e.status) {
		spec_drop(k, spec);
		api_error(c, &e);
		return;
	}
	free(spec); /* its arrays belong to the object now */
	if (k->lock) {
		/* NULL: its first check (connecting it) hangs; it stays down meanwhile. */
		struct connect_lock *lk = k->lock(id);
		if (lk)
			k->unlock(id, lk, true);
	}
	pthread_mutex_lock(&mgr.lock);
	obj = find(k, c->target + strlen(k->what) + 1);
	api_ok(c, 201, obj ? obj_json(k, obj) : NULL);
	pthread_mutex_unlock(&mgr.lock);
}

/* A PUT: true once the new spec is in (crud_one answers with the object), false answered. */
static bool crud_update(struct api_ctx *c, const struct api_kind *k)
{
	struct mgr_err e = { 0 };
	struct connect_lock *lk = NULL;
	void *spec = spec_in(c, k), *plan = NULL, *obj;
	bool done = false, undo = false;
	uint32_t id = 0;

	if (spec == NULL)
		return false;
	if (k->lock) {
		/* Before anything changes: a refusal leaves the object as it was. */
		pthread_mutex_lock(&mgr.lock);
		obj = find(k, c->seg[1]);
		id = obj ? obj_id(obj) : 0;
		pthread_mutex_unlock(&mgr.lock);
		if (id && (lk = k->lock(id)) == NULL) {
			busy(&e, k->what, c->seg[1]);
			spec_drop(k, spec);
			api_error(c, &e);
			return false;
		}
	}
	pthread_mutex_lock(&mgr.lock);
	obj = find(k, c->seg[1]);
	if (obj == NULL)
		not_found(k, c->seg[1], &e);
	else if (strcmp(spec_name(spec), c->seg[1]) != 0)
		mgr_err_set(&e, 400, "/name", "the name cannot change (%s in the path)", c->seg[1]);
	else if (checked(k, spec, obj, &e) &&
		 (k->plan == NULL || (plan = k->plan(obj, spec, &e)) != NULL)) {
		bool ok = plan == NULL || plan_run_unlocked(plan, &e);
		if (plan) {
			/* Checked again: a desktop may have come meanwhile. */
			obj = find(k, c->seg[1]);
			if (ok && (obj == NULL || !checked(k, spec, obj, &e))) {
				if (obj == NULL)
					not_found(k, c->seg[1], &e);
				ok = false;
				undo = true;
			}
		}
		if (ok && obj_update(k, obj, spec, &e) == 0)
			done = true;
		else if (ok)
			undo = true;
	}
	unlock_plan_end(plan, undo);
	if (lk)
		k->unlock(id, lk, done);
	if (!done) {
		spec_drop(k, spec);
		api_error(c, &e);
		return false;
	}
	free(spec);
	if (k->updated)
		k->updated(c->seg[1]);
	return true;
}

/* GET, DELETE or the answer to a PUT of /<kind>s/<name>. */
static void crud_one(struct api_ctx *c, const struct api_kind *k)
{
	const char *m = c->r->method;
	struct mgr_err e = { 0 };
	void *obj;

	pthread_mutex_lock(&mgr.lock);
	obj = find(k, c->seg[1]);
	if (obj == NULL || (!c->provider && !visible(c, k, obj)))
		not_found(k, c->seg[1], &e);
	else if (strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0)
		api_ok(c, 200, obj_json(k, obj));
	else if (strcmp(m, "DELETE") == 0 && obj_del(k, obj, &e) == 0)
		api_ok(c, 200, json_pack("{s:s}", "deleted", c->seg[1]));
	else if (strcmp(m, "DELETE") != 0)
		mgr_err_set(&e, 405, "", "%s is not allowed on %s", m, c->r->path);
	pthread_mutex_unlock(&mgr.lock);
	if (e.status)
		api_error(c, &e);
}

static void crud_body(struct api_ctx *c, const struct api_kind *k)
{
	const char *m = c->r->method;

	if (!c->provider && !(k->tenants_read && strcmp(m, "GET") == 0))
		http_error(c->out, 403, "", "only provider admins manage %ss", k->what);
	else if (c->n_seg == 1 && strcmp(m, "GET") == 0)
		crud_list(c, k);
	else if (c->n_seg == 1 && strcmp(m, "POST") == 0)
		crud_add(c, k);
	else if (c->n_seg != 2)
		http_error(c->out, 404, "", "no such resource: %s", c->r->path);
	else {
		snprintf(c->target, sizeof(c->target), "%s %s", k->what, c->seg[1]);
		if (strcmp(m, "PUT") != 0 || crud_update(c, k))
			crud_one(c, k);
	}
}

void api_crud(struct api_ctx *c, const struct api_kind *k)
{
	bool ser = k->serialize && c->provider && strcmp(c->r->method, "GET") != 0;

	if (ser)
		mgr_net_serialize(true);
	if (k->plan && c->provider && c->n_seg == 2 && strcmp(c->r->method, "DELETE") == 0)
		crud_del_planned(c, k);
	else
		crud_body(c, k);
	if (ser)
		mgr_net_serialize(false);
}
