/* SPDX-License-Identifier: BSD-3-Clause */
/* The provider's objects over HTTP: sites, hosts, tenants, desktop models. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "events.h"
#include "capacity.h"
#include "network.h"
#include "store.h"
#include "tessd_addr.h"
#include "tunnel.h"
#include "virt.h"

/* One kind of named object, for the generic list/get/add/update/delete below. */
struct kind {
	const char *what;
	const struct cfg_node *schema;
	size_t spec_size;
	bool tenants_read; /* tenant admins may read (their own tenant; every model) */
	void *(*find)(const char *name);
	/* The object as the API shows it; NULL: its spec (at spec_at in it) and its id. */
	json_t *(*json)(const void *obj);
	size_t spec_at;
	bool (*visible)(const struct api_ctx *c, const void *obj);
	/* Cross references of a new spec (old: the object it replaces, or NULL). */
	bool (*check)(const void *spec, const void *old, struct mgr_err *e);
	/* Makes a new object of spec (stored); its id. */
	int (*add)(void *spec, uint32_t *id, struct mgr_err *e);
	int (*update)(void *obj, void *spec, struct mgr_err *e);
	/* Removes it unless in use. */
	int (*del)(void *obj, struct mgr_err *e);
	void *(*at)(uint32_t i);
	uint32_t (*n)(void);
	/*
	 * Hosts: the connect lock taken before an update (outside mgr.lock, waited for a
	 * bounded time: NULL if a health check of the host is in flight and hangs), and the
	 * reconnect after add/update under it, which releases it.
	 */
	struct connect_lock *(*lock)(uint32_t id);
	void (*unlock)(uint32_t id, struct connect_lock *lk, bool connect);
	/*
	 * Tenants: the tessds' part of a change (network_plan.c), planned under mgr.lock once the
	 * checks pass (del_check for a delete), run without it, then the store; a store that
	 * fails undoes it. serialize: changes of the kind hold mgr_net_serialize throughout
	 * (routers too: their checks read the tenants' networks).
	 */
	void *(*plan)(const void *old, const void *spec, struct mgr_err *e);
	bool (*del_check)(const void *obj, struct mgr_err *e);
	bool serialize;
	/* Routers: what the object's own tessd says of a new spec, asked before mgr.lock. */
	int (*remote_check)(const void *spec, struct mgr_err *e);
	/* After an update is stored, outside mgr.lock: what follows from it (models: the
	 * running desktops' cputune). */
	void (*updated)(const char *name);
};

/* Every object starts with its id and every spec with its name. */
_Static_assert(offsetof(struct mgr_site_spec, name) == 0, "a spec starts with its name");
_Static_assert(offsetof(struct mgr_host_spec, name) == 0, "a spec starts with its name");
_Static_assert(offsetof(struct mgr_tenant_spec, name) == 0, "a spec starts with its name");
_Static_assert(offsetof(struct mgr_router_spec, name) == 0, "a spec starts with its name");
_Static_assert(offsetof(struct mgr_model_spec, name) == 0, "a spec starts with its name");
_Static_assert(offsetof(struct mgr_task_spec, name) == 0, "a spec starts with its name");
_Static_assert(offsetof(struct mgr_site, id) == 0 && offsetof(struct mgr_host, id) == 0 &&
		       offsetof(struct mgr_tenant, id) == 0 &&
		       offsetof(struct mgr_router, id) == 0 &&
		       offsetof(struct mgr_model, id) == 0 && offsetof(struct mgr_task, id) == 0,
	       "an object starts with its id");

static const char *spec_name(const void *spec)
{
	return spec;
}

static uint32_t obj_id(const void *obj)
{
	return *(const uint32_t *)obj;
}

static json_t *obj_json(const struct kind *k, const void *obj)
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

/* A delete with a plan: checked, the tessds programmed without mgr.lock, then the store. */
static void crud_del_planned(struct api_ctx *c, const struct kind *k)
{
	struct mgr_err e = { 0 };
	void *plan = NULL, *obj;
	bool undo = false;

	snprintf(c->target, sizeof(c->target), "%s %s", k->what, c->seg[1]);
	pthread_mutex_lock(&mgr.lock);
	obj = k->find(c->seg[1]);
	if (obj == NULL)
		mgr_err_set(&e, 404, "", "no %s named '%s'", k->what, c->seg[1]);
	else if (k->del_check(obj, &e) && (plan = k->plan(obj, NULL, &e)) != NULL) {
		pthread_mutex_unlock(&mgr.lock);
		int rc = mgr_net_plan_run(plan, &e);
		pthread_mutex_lock(&mgr.lock);
		obj = k->find(c->seg[1]);
		if (rc == 0 && obj && k->del(obj, &e) == 0)
			api_ok(c, 200, json_pack("{s:s}", "deleted", c->seg[1]));
		else if (rc == 0)
			undo = true;
		if (rc == 0 && obj == NULL)
			mgr_err_set(&e, 404, "", "no %s named '%s'", k->what, c->seg[1]);
	}
	pthread_mutex_unlock(&mgr.lock);
	if (undo)
		mgr_net_plan_undo(plan);
	mgr_net_plan_free(plan);
	if (e.status)
		api_error(c, &e);
}

static void crud_body(struct api_ctx *c, const struct kind *k);

static void crud(struct api_ctx *c, const struct kind *k)
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

static void crud_body(struct api_ctx *c, const struct kind *k)
{
	const char *m = c->r->method;
	struct mgr_err e = { 0 };
	uint32_t id = 0;

	if (!c->provider && !(k->tenants_read && strcmp(m, "GET") == 0)) {
		http_error(c->out, 403, "", "only provider admins manage %ss", k->what);
		return;
	}
	if (c->n_seg == 1 && strcmp(m, "GET") == 0) {
		json_t *a = json_array();
		pthread_mutex_lock(&mgr.lock);
		for (uint32_t i = 0; i < k->n(); i++)
			if (c->provider || k->visible(c, k->at(i)))
				json_array_append_new(a, obj_json(k, k->at(i)));
		pthread_mutex_unlock(&mgr.lock);
		api_ok(c, 200, a);
		return;
	}
	if (c->n_seg == 1 && strcmp(m, "POST") == 0) {
		void *spec = calloc(1, k->spec_size);
		if (spec == NULL || !api_decode(c, k->schema, spec)) {
			free(spec);
			return;
		}
		void *plan = NULL;
		bool ok = false, undo = false;
		snprintf(c->target, sizeof(c->target), "%s %s", k->what, spec_name(spec));
		if (k->remote_check && k->remote_check(spec, &e) < 0) {
			cfg_free(k->schema, spec);
			free(spec);
			api_error(c, &e);
			return;
		}
		pthread_mutex_lock(&mgr.lock);
		if (k->find(spec_name(spec)))
			mgr_err_set(&e, 409, "/name", "%s '%s' exists", k->what, spec_name(spec));
		else if (k->check(spec, NULL, &e) &&
			 (k->plan == NULL || (plan = k->plan(NULL, spec, &e)) != NULL))
			ok = true;
		if (ok && plan) {
			/* The tessds without the lock; serialized with every other such change. */
			pthread_mutex_unlock(&mgr.lock);
			ok = mgr_net_plan_run(plan, &e) == 0;
			pthread_mutex_lock(&mgr.lock);
		}
		if (ok && k->add(spec, &id, &e) == 0)
			e.status = 0;
		else if (ok)
			undo = true;
		pthread_mutex_unlock(&mgr.lock);
		if (undo)
			mgr_net_plan_undo(plan);
		mgr_net_plan_free(plan);
		if (e.status) {
			cfg_free(k->schema, spec);
			free(spec);
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
		void *obj = k->find(c->target + strlen(k->what) + 1);
		api_ok(c, 201, obj ? obj_json(k, obj) : NULL);
		pthread_mutex_unlock(&mgr.lock);
		return;
	}
	if (c->n_seg != 2) {
		http_error(c->out, 404, "", "no such resource: %s", c->r->path);
		return;
	}
	snprintf(c->target, sizeof(c->target), "%s %s", k->what, c->seg[1]);
	if (strcmp(m, "PUT") == 0) {
		void *spec = calloc(1, k->spec_size);
		struct connect_lock *lk = NULL;
		if (spec == NULL || !api_decode(c, k->schema, spec)) {
			free(spec);
			return;
		}
		if (k->remote_check && k->remote_check(spec, &e) < 0) {
			cfg_free(k->schema, spec);
			free(spec);
			api_error(c, &e);
			return;
		}
		if (k->lock) {
			/* Before anything changes: a refusal leaves the object as it was. */
			pthread_mutex_lock(&mgr.lock);
			void *o = k->find(c->seg[1]);
			id = o ? obj_id(o) : 0;
			pthread_mutex_unlock(&mgr.lock);
			if (id && (lk = k->lock(id)) == NULL) {
				busy(&e, k->what, c->seg[1]);
				cfg_free(k->schema, spec);
				free(spec);
				api_error(c, &e);
				return;
			}
		}
		uint32_t locked_id = id;
		void *plan = NULL;
		bool undo = false;
		id = 0;
		pthread_mutex_lock(&mgr.lock);
		void *obj = k->find(c->seg[1]);
		if (obj == NULL)
			mgr_err_set(&e, 404, "", "no %s named '%s'", k->what, c->seg[1]);
		else if (strcmp(spec_name(spec), c->seg[1]) != 0)
			mgr_err_set(&e, 400, "/name", "the name cannot change (%s in the path)",
				    c->seg[1]);
		else if (k->check(spec, obj, &e) &&
			 (k->plan == NULL || (plan = k->plan(obj, spec, &e)) != NULL)) {
			bool ok = true;
			if (plan) {
				pthread_mutex_unlock(&mgr.lock);
				ok = mgr_net_plan_run(plan, &e) == 0;
				pthread_mutex_lock(&mgr.lock);
				/* Checked again: a desktop may have come meanwhile. */
				obj = k->find(c->seg[1]);
				if (ok && (obj == NULL || !k->check(spec, obj, &e))) {
					if (obj == NULL)
						mgr_err_set(&e, 404, "", "no %s named '%s'",
							    k->what, c->seg[1]);
					ok = false;
					undo = true;
				}
			}
			if (ok && k->update(obj, spec, &e) == 0)
				id = 1;
			else if (ok)
				undo = true;
		}
		pthread_mutex_unlock(&mgr.lock);
		if (undo)
			mgr_net_plan_undo(plan);
		mgr_net_plan_free(plan);
		if (id == 0) {
			if (lk)
				k->unlock(locked_id, lk, false);
			cfg_free(k->schema, spec);
			free(spec);
			api_error(c, &e);
			return;
		}
		free(spec);
		if (lk)
			k->unlock(locked_id, lk, true);
		if (k->updated)
			k->updated(c->seg[1]);
	}
	pthread_mutex_lock(&mgr.lock);
	void *obj = k->find(c->seg[1]);
	if (obj == NULL || (!c->provider && !k->visible(c, obj)))
		mgr_err_set(&e, 404, "", "no %s named '%s'", k->what, c->seg[1]);
	else if (strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0)
		api_ok(c, 200, obj_json(k, obj));
	else if (strcmp(m, "DELETE") == 0 && k->del(obj, &e) == 0)
		api_ok(c, 200, json_pack("{s:s}", "deleted", c->seg[1]));
	else if (strcmp(m, "DELETE") != 0)
		mgr_err_set(&e, 405, "", "%s is not allowed on %s", m, c->r->path);
	pthread_mutex_unlock(&mgr.lock);
	if (e.status)
		api_error(c, &e);
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
static void *grow(void *arr, uint32_t n, size_t size, struct mgr_err *e)
{
	char *a = realloc(arr, (n + 1) * size);

	if (a == NULL) {
		mgr_err_set(e, 500, "", "out of memory");
		return NULL;
	}
	memset(a + n * size, 0, size);
	return a;
}

static bool any_visible(const struct api_ctx *c, const void *obj)
{
	(void)c;
	(void)obj;
	return true;
}

static bool never_visible(const struct api_ctx *c, const void *obj)
{
	(void)c;
	(void)obj;
	return false;
}

/* ---- sites ---- */

static void *site_find(const char *name)
{
	return mgr_site_by_name(&mgr, name);
}
static bool site_check(const void *spec, const void *old, struct mgr_err *e)
{
	(void)spec;
	(void)old;
	(void)e;
	return true;
}
static int site_put(const void *o)
{
	return mgr_store_put_site(o);
}
static int site_add(void *spec, uint32_t *id, struct mgr_err *e)
{
	struct mgr_site *a = grow(mgr.sites, mgr.n_sites, sizeof(*a), e), *s;

	if (a == NULL)
		return -ENOMEM;
	mgr.sites = a;
	s = &a[mgr.n_sites];
	s->id = *id = mgr_next_id_locked(MGR_SITE);
	memcpy(&s->spec, spec, sizeof(s->spec));
	mgr_site_derive_locked(s);
	if (store_add(site_put, s, e) < 0)
		return -EIO;
	mgr.n_sites++;
	return 0;
}
static int site_update(void *obj, void *spec, struct mgr_err *e)
{
	struct mgr_site *s = obj;
	int rc = store_swap(&mgr_site_schema, &s->spec, spec, site_put, s, e);

	if (rc == 0)
		mgr_site_derive_locked(s);
	return rc;
}
static int site_del(void *obj, struct mgr_err *e)
{
	struct mgr_site *s = obj;

	for (uint32_t i = 0; i < mgr.n_hosts; i++)
		if (mgr.hosts[i]->site_id == s->id) {
			mgr_err_set(e, 409, "", "site %s has host %s: remove it first",
				    s->spec.name, mgr.hosts[i]->spec.name);
			return -EBUSY;
		}
	for (uint32_t i = 0; i < mgr.n_routers; i++)
		if (strcmp(mgr.routers[i].spec.site, s->spec.name) == 0) {
			mgr_err_set(e, 409, "", "site %s has router %s: remove it first",
				    s->spec.name, mgr.routers[i].spec.name);
			return -EBUSY;
		}
	for (uint32_t i = 0; i < mgr.n_tenants; i++)
		if (mgr.tenants[i].site_id == s->id) {
			mgr_err_set(e, 409, "", "site %s is the data center of tenant %s",
				    s->spec.name, mgr.tenants[i].spec.name);
			return -EBUSY;
		}
	if (store_del(MGR_SITE, s->id, e) < 0)
		return -EIO;
	cfg_free(&mgr_site_schema, &s->spec);
	*s = mgr.sites[--mgr.n_sites];
	return 0;
}
static void *site_at(uint32_t i)
{
	return &mgr.sites[i];
}
static uint32_t site_n(void)
{
	return mgr.n_sites;
}

/* ---- hosts ---- */

static void *host_find(const char *name)
{
	return mgr_host_by_name(&mgr, name);
}
static json_t *host_json(const void *o)
{
	return mgr_host_json_locked(o);
}
static bool host_check(const void *spec, const void *old, struct mgr_err *e)
{
	const struct mgr_host_spec *h = spec;
	const struct mgr_host *o = old;

	if (mgr_site_by_name(&mgr, h->site) == NULL) {
		mgr_err_set(e, 400, "/site", "no site named '%s'", h->site);
		return false;
	}
	/* The reservation against the topology where it is known: a test host's shape, or the
	 * one a connected host has (a new URI's is checked once connected: down with why). */
	struct mgr_topo *rt = malloc(sizeof(*rt));
	bool known = false;
	const char *rwhy = NULL;
	if (rt == NULL) {
		mgr_err_set(e, 500, "", "out of memory");
		return false;
	}
	if (h->test_host.sockets)
		known = mgr_topo_shape(rt, h->test_host.sockets, h->test_host.cores,
				       h->test_host.threads) == 0;
	else if (o && o->topo.ncpus && strcmp(o->spec.uri, h->uri) == 0)
		known = (*rt = o->topo, true);
	if (known && mgr_check_reserved(h, rt, &rwhy) < 0) {
		mgr_err_set(e, 400, "/reserved_cpus", "'%s' %s (the host has %u CPUs in %u cores)",
			    h->reserved_cpus, rwhy, rt->ncpus, rt->ncores);
		free(rt);
		return false;
	}
	free(rt);
	if (o && h->max_ports && h->max_ports < o->ports_used) {
		mgr_err_set(e, 409, "/max_ports",
			    "host %s has %u desktops, each a port of its tessd", o->spec.name,
			    o->ports_used);
		return false;
	}
	if (o == NULL)
		return true;
	/* What desktops have there stays possible. */
	if (o->n_slices && strcmp(o->spec.site, h->site) != 0) {
		mgr_err_set(e, 409, "/site", "host %s has desktops: its site cannot change",
			    o->spec.name);
		return false;
	}
	/* Their ports are on that tessd, their sockets in that directory: not moved along. */
	if (o->ports_used && !mgr_tessd_addr_same(o->spec.tessd, h->tessd)) {
		mgr_err_set(e, 409, "/tessd",
			    "host %s has %u desktops, each a port of its tessd: its tessd cannot "
			    "change",
			    o->spec.name, o->ports_used);
		return false;
	}
	if (o->ports_used && strcmp(o->spec.vhost_dir, h->vhost_dir) != 0) {
		mgr_err_set(e, 409, "/vhost_dir",
			    "host %s has %u desktops, their vhost sockets in %s: it cannot change",
			    o->spec.name, o->ports_used, o->spec.vhost_dir);
		return false;
	}
	if (!h->shared && o->n_slices > 1) {
		mgr_err_set(e, 409, "/shared", "host %s serves %u tenants: it must stay shared",
			    o->spec.name, o->n_slices);
		return false;
	}
	for (uint32_t i = 0; i < o->n_slices; i++) {
		const struct mgr_tenant *t = mgr_tenant_get(&mgr, o->slices[i].tenant_id);
		bool reach = false;
		for (uint32_t k = 0; t && k < h->n_vlans; k++)
			reach |= h->vlans[k] == t->spec.vlan;
		if (t && !reach) {
			mgr_err_set(e, 409, "/vlans",
				    "tenant %s has desktops on %s: VLAN %u must stay reachable",
				    t->spec.name, o->spec.name, t->spec.vlan);
			return false;
		}
	}
	/* Checked against the new shape where the spec gives it (a test host; review 1.15): the
	 * old topology let a smaller shape through. A new URI's is known only once connected,
	 * where mgr_host_connect makes the same check. */
	struct mgr_topo topo = o->topo;
	uint64_t memory_mb = o->memory_mb;
	const char *why = NULL;
	if (h->test_host.sockets) {
		const struct mgr_test_host_spec *s = &h->test_host;
		memory_mb = s->memory_mb;
		if (mgr_topo_shape(&topo, s->sockets, s->cores, s->threads) < 0) {
			mgr_err_set(e, 400, "/test_host", "not a CPU topology tessmgrd can use");
			return false;
		}
	}
	if (mgr_host_fits(o, &topo, memory_mb, h, &why) < 0) {
		mgr_err_set(e, 409, "", "host %s has %u vCPUs and %llu MiB allocated: %s",
			    o->spec.name, o->vcpus_used, (unsigned long long)o->mem_used_mb, why);
		return false;
	}
	return true;
}
static int host_put(const void *o)
{
	return mgr_store_put_host(o);
}
static int host_add(void *spec, uint32_t *id, struct mgr_err *e)
{
	struct mgr_host **a = realloc(mgr.hosts, (mgr.n_hosts + 1) * sizeof(*a));
	struct mgr_host *h = calloc(1, sizeof(*h));

	if (a)
		mgr.hosts = a;
	if (a == NULL || h == NULL) {
		free(h);
		mgr_err_set(e, 500, "", "out of memory");
		return -ENOMEM;
	}
	h->id = *id = mgr_next_id_locked(MGR_HOST);
	memcpy(&h->spec, spec, sizeof(h->spec));
	mgr_host_derive_locked(h);
	snprintf(h->down_reason, sizeof(h->down_reason), "not connected yet");
	if (store_add(host_put, h, e) < 0) {
		free(h);
		return -EIO;
	}
	mgr.hosts[mgr.n_hosts++] = h;
	mgr_tunnel_adopt(h->spec.tessd);
	return 0;
}
/* A tessd address no host nor router has any more: its ssh tunnel, if any, is stopped. */
static void forget_tessd_locked(const char *addr)
{
	if (addr[0] == '\0')
		return;
	for (uint32_t i = 0; i < mgr.n_hosts; i++)
		if (strcmp(mgr.hosts[i]->spec.tessd, addr) == 0)
			return;
	for (uint32_t i = 0; i < mgr.n_routers; i++)
		if (strcmp(mgr.routers[i].spec.tessd, addr) == 0)
			return;
	mgr_tunnel_forget(addr);
}

static int host_update(void *obj, void *spec, struct mgr_err *e)
{
	struct mgr_host *h = obj;
	char was[MGR_URI_LEN];
	int rc;

	snprintf(was, sizeof(was), "%s", h->spec.tessd);
	rc = store_swap(&mgr_host_schema, &h->spec, spec, host_put, h, e);
	if (rc == 0) {
		mgr_host_derive_locked(h);
		mgr_partition(h);
		/* Partitions moved off newly reserved CPUs: the reconnect after a PUT re-pins. */
		if (mgr_sync_cpus_locked(h))
			h->repin_wanted = true;
		if (strcmp(was, h->spec.tessd) != 0) {
			mgr_tunnel_adopt(h->spec.tessd);
			forget_tessd_locked(was);
		}
	}
	return rc;
}
static int host_del(void *obj, struct mgr_err *e)
{
	struct mgr_host *h = obj;

	if (h->n_slices || h->vcpus_used || h->n_queued || h->n_parked || h->jobs_running) {
		mgr_err_set(e, 409, "", "host %s has desktops or jobs: delete or move them first",
			    h->spec.name);
		return -EBUSY;
	}
	if (store_del(MGR_HOST, h->id, e) < 0)
		return -EIO;
	mgr_virt_close(h->id);
	for (uint32_t i = 0; i < mgr.n_quotas; i++) {
		/* Forget it in the quotas' host lists. */
		struct mgr_quota *q = &mgr.quotas[i];
		for (uint32_t k = 0; k < q->n_hosts; k++)
			if (q->host_ids[k] == h->id)
				q->host_ids[k--] = q->host_ids[--q->n_hosts];
	}
	for (uint32_t i = 0; i < mgr.n_hosts; i++)
		if (mgr.hosts[i] == h)
			memmove(&mgr.hosts[i], &mgr.hosts[i + 1],
				(--mgr.n_hosts - i) * sizeof(*mgr.hosts));
	forget_tessd_locked(h->spec.tessd);
	cfg_free(&mgr_host_schema, &h->spec);
	free(h->slices);
	free(h->queue);
	free(h);
	return 0;
}
static void *host_at(uint32_t i)
{
	return mgr.hosts[i];
}
static uint32_t host_n(void)
{
	return mgr.n_hosts;
}

/* ---- tenants ---- */

static void *tenant_find(const char *name)
{
	return mgr_tenant_by_name(&mgr, name);
}
static bool tenant_visible(const struct api_ctx *c, const void *o)
{
	return ((const struct mgr_tenant *)o)->id == c->tenant_id;
}
static bool tenant_has_desktops(uint32_t id)
{
	for (uint32_t i = 0; i < mgr.n_desktops; i++)
		if (mgr.desktops[i]->tenant_id == id)
			return true;
	return false;
}
static bool tenant_check(const void *spec, const void *old, struct mgr_err *e)
{
	const struct mgr_tenant_spec *t = spec;
	const struct mgr_tenant *o = old;

	if (mgr_site_by_name(&mgr, t->datacenter) == NULL) {
		mgr_err_set(e, 400, "/datacenter", "no site named '%s'", t->datacenter);
		return false;
	}
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
	if (o && tenant_has_desktops(o->id) &&
	    (o->spec.vlan != t->vlan || strcmp(o->spec.datacenter, t->datacenter) ||
	     strcmp(o->spec.vlan_name, t->vlan_name))) {
		mgr_err_set(e, 409, "", "tenant %s has desktops: its VLAN and data center stay",
			    o->spec.name);
		return false;
	}
	return mgr_net_check_locked(t, e);
}
static int tenant_put(const void *o)
{
	return mgr_store_put_tenant(o);
}
static int tenant_add(void *spec, uint32_t *id, struct mgr_err *e)
{
	struct mgr_tenant *a = grow(mgr.tenants, mgr.n_tenants, sizeof(*a), e), *t;

	if (a == NULL)
		return -ENOMEM;
	mgr.tenants = a;
	t = &a[mgr.n_tenants];
	memcpy(&t->spec, spec, sizeof(t->spec));
	t->id = *id = mgr_next_id_locked(MGR_TENANT);
	mgr_tenant_derive_locked(t);
	if (store_add(tenant_put, t, e) < 0)
		return -EIO; /* crud undoes its network */
	mgr.n_tenants++;
	return 0;
}
static int tenant_update(void *obj, void *spec, struct mgr_err *e)
{
	struct mgr_tenant *t = obj;
	int rc = store_swap(&mgr_tenant_schema, &t->spec, spec, tenant_put, t, e);

	if (rc == 0)
		mgr_tenant_derive_locked(t);
	return rc; /* failed: crud undoes the network's change */
}
static bool tenant_del_check(const void *obj, struct mgr_err *e)
{
	const struct mgr_tenant *t = obj;

	if (tenant_has_desktops(t->id)) {
		mgr_err_set(e, 409, "", "tenant %s has desktops: delete them first", t->spec.name);
		return false;
	}
	for (uint32_t i = 0; i < mgr.n_quotas; i++)
		if (mgr.quotas[i].tenant_id == t->id) {
			mgr_err_set(e, 409, "", "tenant %s has quotas: delete them first",
				    t->spec.name);
			return false;
		}
	return true;
}
static void *tenant_plan(const void *old, const void *spec, struct mgr_err *e)
{
	return mgr_net_plan_locked(old ? &((const struct mgr_tenant *)old)->spec : NULL, spec, e);
}
static int tenant_del(void *obj, struct mgr_err *e)
{
	struct mgr_tenant *t = obj;

	if (!tenant_del_check(t, e))
		return -EBUSY;
	if (store_del(MGR_TENANT, t->id, e) < 0)
		return -EIO; /* crud puts its network back */
	mgr_events_end_tenant(t->id);
	cfg_free(&mgr_tenant_schema, &t->spec);
	*t = mgr.tenants[--mgr.n_tenants];
	return 0;
}
static void *tenant_at(uint32_t i)
{
	return &mgr.tenants[i];
}
static uint32_t tenant_n(void)
{
	return mgr.n_tenants;
}

/* ---- provider-edge routers ---- */

static void *router_find(const char *name)
{
	return mgr_router_by_name(&mgr, name);
}
static bool router_check(const void *spec, const void *old, struct mgr_err *e)
{
	const struct mgr_router_spec *r = spec;
	const struct mgr_router *o = old;
	const char *user = o ? mgr_net_router_user_locked(o->spec.name) : NULL;
	char path[32];

	if (mgr_site_by_name(&mgr, r->site) == NULL) {
		mgr_err_set(e, 400, "/site", "no site named '%s'", r->site);
		return false;
	}
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
	if (user &&
	    (strcmp(o->spec.tessd, r->tessd) || strcmp(o->spec.internet_vrf, r->internet_vrf))) {
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
static int router_put(const void *o)
{
	return mgr_store_put_router(o);
}
static int router_add(void *spec, uint32_t *id, struct mgr_err *e)
{
	struct mgr_router *a = grow(mgr.routers, mgr.n_routers, sizeof(*a), e), *r;

	if (a == NULL)
		return -ENOMEM;
	mgr.routers = a;
	r = &a[mgr.n_routers];
	r->id = *id = mgr_next_id_locked(MGR_ROUTER);
	memcpy(&r->spec, spec, sizeof(r->spec));
	if (store_add(router_put, r, e) < 0)
		return -EIO;
	mgr.n_routers++;
	mgr_tunnel_adopt(r->spec.tessd);
	return 0;
}
static int router_update(void *obj, void *spec, struct mgr_err *e)
{
	struct mgr_router *r = obj;
	char was[MGR_URI_LEN];
	int rc;

	snprintf(was, sizeof(was), "%s", r->spec.tessd);
	rc = store_swap(&mgr_router_schema, &r->spec, spec, router_put, r, e);
	if (rc == 0 && strcmp(was, r->spec.tessd) != 0) {
		mgr_tunnel_adopt(r->spec.tessd);
		forget_tessd_locked(was);
	}
	return rc;
}
static int router_del(void *obj, struct mgr_err *e)
{
	struct mgr_router *r = obj;
	const char *user = mgr_net_router_user_locked(r->spec.name);

	if (user) {
		mgr_err_set(e, 409, "", "router %s serves tenant %s", r->spec.name, user);
		return -EBUSY;
	}
	if (store_del(MGR_ROUTER, r->id, e) < 0)
		return -EIO;
	char was[MGR_URI_LEN];
	snprintf(was, sizeof(was), "%s", r->spec.tessd);
	cfg_free(&mgr_router_schema, &r->spec);
	*r = mgr.routers[--mgr.n_routers];
	forget_tessd_locked(was);
	return 0;
}
static void *router_at(uint32_t i)
{
	return &mgr.routers[i];
}
static uint32_t router_n(void)
{
	return mgr.n_routers;
}

/* ---- models ---- */

static void *model_find(const char *name)
{
	return mgr_model_by_name(&mgr, name);
}
static bool model_in_use(uint32_t id)
{
	for (uint32_t i = 0; i < mgr.n_desktops; i++)
		if (mgr.desktops[i]->model_id == id)
			return true;
	return false;
}
static bool model_check(const void *spec, const void *old, struct mgr_err *e)
{
	const struct mgr_model_spec *m = spec;
	const struct mgr_model *o = old;

	if (o && model_in_use(o->id) &&
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
static int model_put(const void *o)
{
	return mgr_store_put_model(o);
}
static int model_add(void *spec, uint32_t *id, struct mgr_err *e)
{
	struct mgr_model *a = grow(mgr.models, mgr.n_models, sizeof(*a), e), *m;

	if (a == NULL)
		return -ENOMEM;
	mgr.models = a;
	m = &a[mgr.n_models];
	m->id = *id = mgr_next_id_locked(MGR_MODEL);
	memcpy(&m->spec, spec, sizeof(m->spec));
	if (store_add(model_put, m, e) < 0)
		return -EIO;
	mgr.n_models++;
	return 0;
}
static int model_update(void *obj, void *spec, struct mgr_err *e)
{
	struct mgr_model *m = obj;

	return store_swap(&mgr_model_schema, &m->spec, spec, model_put, m, e);
}
static int model_del(void *obj, struct mgr_err *e)
{
	struct mgr_model *m = obj;

	if (model_in_use(m->id)) {
		mgr_err_set(e, 409, "", "model %s has desktops", m->spec.name);
		return -EBUSY;
	}
	for (uint32_t i = 0; i < mgr.n_quotas; i++)
		if (mgr.quotas[i].model_id == m->id) {
			mgr_err_set(e, 409, "", "model %s is in quotas: delete them first",
				    m->spec.name);
			return -EBUSY;
		}
	if (store_del(MGR_MODEL, m->id, e) < 0)
		return -EIO;
	*m = mgr.models[--mgr.n_models];
	return 0;
}
/* A model's cpu_shares may change under running desktops: every host with one of its
 * desktops is re-pinned, which sets the new shares live (those already applied are skipped). */
static void model_updated(const char *name)
{
	uint32_t *hosts, n = 0;

	pthread_mutex_lock(&mgr.lock);
	const struct mgr_model *m = model_find(name);
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
static void *model_at(uint32_t i)
{
	return &mgr.models[i];
}
static uint32_t model_n(void)
{
	return mgr.n_models;
}

/* ---- workflow tasks (tasks.h) ---- */

static void *task_find(const char *name)
{
	return mgr_task_by_name(&mgr, name);
}
/* Its model and tenant exist (they are matched by name when a job runs): a typo shows now, not
 * as a failed job (its program: task_remote_check). */
static bool task_check(const void *spec, const void *old, struct mgr_err *e)
{
	const struct mgr_task_spec *t = spec;

	(void)old;
	if (t->model[0] && mgr_model_by_name(&mgr, t->model) == NULL) {
		mgr_err_set(e, 400, "/model", "no model named '%s'", t->model);
		return false;
	}
	if (t->tenant[0] && mgr_tenant_by_name(&mgr, t->tenant) == NULL) {
		mgr_err_set(e, 400, "/tenant", "no tenant named '%s'", t->tenant);
		return false;
	}
	return true;
}
/* Only root or tessmgrd's user may change it (it runs as tessmgrd's user). */
static bool safe_owner(const struct stat *st)
{
	return (st->st_uid == 0 || st->st_uid == geteuid()) && !(st->st_mode & (S_IWGRP | S_IWOTH));
}
/* Its program is an executable file that only root or tessmgrd's user can change, nor its
 * directory (symlinks followed, checked when the task is defined): asked before mgr.lock,
 * as the file system may be slow. */
static int task_remote_check(const void *spec, struct mgr_err *e)
{
	const struct mgr_task_spec *t = spec;
	char real[PATH_MAX], *slash;
	struct stat st, dir;

	if (stat(t->program, &st) < 0 || !S_ISREG(st.st_mode) || access(t->program, X_OK) < 0 ||
	    realpath(t->program, real) == NULL) {
		mgr_err_set(e, 400, "/program", "'%s' is not an executable file", t->program);
		return -EINVAL;
	}
	slash = strrchr(real, '/');
	if (slash)
		slash[slash == real ? 1 : 0] = '\0';
	if (!safe_owner(&st) || stat(real, &dir) < 0 || !safe_owner(&dir)) {
		mgr_err_set(e, 400, "/program",
			    "'%s' or its directory may be changed by others than root and "
			    "tessmgrd's user (owner, or group or world writable)",
			    t->program);
		return -EPERM;
	}
	return 0;
}
static int task_put(const void *o)
{
	return mgr_store_put_task(o);
}
static int task_add(void *spec, uint32_t *id, struct mgr_err *e)
{
	struct mgr_task *a = grow(mgr.tasks, mgr.n_tasks, sizeof(*a), e), *t;

	if (a == NULL)
		return -ENOMEM;
	mgr.tasks = a;
	t = &a[mgr.n_tasks];
	t->id = *id = mgr_next_id_locked(MGR_TASK);
	memcpy(&t->spec, spec, sizeof(t->spec));
	if (store_add(task_put, t, e) < 0)
		return -EIO;
	mgr.n_tasks++;
	return 0;
}
static int task_update(void *obj, void *spec, struct mgr_err *e)
{
	struct mgr_task *t = obj;

	return store_swap(&mgr_task_schema, &t->spec, spec, task_put, t, e);
}
static int task_del(void *obj, struct mgr_err *e)
{
	struct mgr_task *t = obj;
	uint32_t i = (uint32_t)(t - mgr.tasks);

	if (store_del(MGR_TASK, t->id, e) < 0)
		return -EIO;
	cfg_free(&mgr_task_schema, &t->spec);
	/* Kept in id order: tasks run in the order they were defined. */
	memmove(&mgr.tasks[i], &mgr.tasks[i + 1], (--mgr.n_tasks - i) * sizeof(*mgr.tasks));
	return 0;
}
static void *task_at(uint32_t i)
{
	return &mgr.tasks[i];
}
static uint32_t task_n(void)
{
	return mgr.n_tasks;
}

static const struct kind sites = {
	"site",
	&mgr_site_schema,
	sizeof(struct mgr_site_spec),
	false,
	site_find,
	NULL,
	offsetof(struct mgr_site, spec),
	never_visible,
	site_check,
	site_add,
	site_update,
	site_del,
	site_at,
	site_n,
};
static const struct kind hosts = {
	"host",
	&mgr_host_schema,
	sizeof(struct mgr_host_spec),
	false,
	host_find,
	host_json,
	0,
	never_visible,
	host_check,
	host_add,
	host_update,
	host_del,
	host_at,
	host_n,
	mgr_host_connect_begin,
	mgr_host_connect_end,
};
static const struct kind tenants = {
	"tenant",
	&mgr_tenant_schema,
	sizeof(struct mgr_tenant_spec),
	true,
	tenant_find,
	NULL,
	offsetof(struct mgr_tenant, spec),
	tenant_visible,
	tenant_check,
	tenant_add,
	tenant_update,
	tenant_del,
	tenant_at,
	tenant_n,
	NULL,
	NULL,
	tenant_plan,
	tenant_del_check,
	true,
};
static const struct kind models = {
	"model",
	&mgr_model_schema,
	sizeof(struct mgr_model_spec),
	true,
	model_find,
	NULL,
	offsetof(struct mgr_model, spec),
	any_visible,
	model_check,
	model_add,
	model_update,
	model_del,
	model_at,
	model_n,
	NULL,
	NULL,
	NULL,
	NULL,
	false,
	NULL,
	model_updated,
};
static const struct kind routers = {
	"router",
	&mgr_router_schema,
	sizeof(struct mgr_router_spec),
	false,
	router_find,
	NULL,
	offsetof(struct mgr_router, spec),
	never_visible,
	router_check,
	router_add,
	router_update,
	router_del,
	router_at,
	router_n,
	NULL,
	NULL,
	NULL,
	NULL,
	true,
	router_remote_check,
};

static const struct kind tasks = {
	"task",
	&mgr_task_schema,
	sizeof(struct mgr_task_spec),
	false,
	task_find,
	NULL,
	offsetof(struct mgr_task, spec),
	never_visible,
	task_check,
	task_add,
	task_update,
	task_del,
	task_at,
	task_n,
	NULL,
	NULL,
	NULL,
	NULL,
	false,
	task_remote_check,
};

void api_tasks(struct api_ctx *c)
{
	crud(c, &tasks);
}

void api_routers(struct api_ctx *c)
{
	crud(c, &routers);
}

void api_sites(struct api_ctx *c)
{
	const char *from = http_query(c->r, "from");

	if (from && c->provider && c->n_seg == 1 && strcmp(c->r->method, "GET") == 0)
		api_sites_from(c, from);
	else
		crud(c, &sites);
}

void api_hosts(struct api_ctx *c)
{
	crud(c, &hosts);
}

void api_tenants(struct api_ctx *c)
{
	crud(c, &tenants);
}

void api_models(struct api_ctx *c)
{
	crud(c, &models);
}
