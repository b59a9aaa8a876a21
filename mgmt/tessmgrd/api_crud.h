/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The generic list/get/add/update/delete of the provider's named objects (api_crud.c), and
 * the table each kind describes itself with (api_sites.c, api_hosts.c, api_tenants.c,
 * api_routers.c, api_models.c, api_tasks.c).
 */
#ifndef TESS_MGR_API_CRUD_H
#define TESS_MGR_API_CRUD_H

#include <stddef.h>

#include "api.h"
#include "store.h"

/*
 * What keeps a tenant or a model: the desktops and the quotas that name it by its id (at
 * desktop_at in a struct mgr_desktop, quota_at in a struct mgr_quota), and the error for
 * each (a format of the object's name); the workflow tasks that name it by its name (at
 * task_at in a struct mgr_task_spec: they match by name when a job runs, so they would
 * never run, or later take a new object of the name), tasks a format of its name and theirs.
 */
struct api_used {
	size_t desktop_at, quota_at, task_at;
	const char *desktops, *quotas, *tasks;
};

/* One kind of named object. Every object starts with its id and every spec with its name. */
struct api_kind {
	const char *what;
	const struct cfg_node *schema;
	size_t spec_size;
	size_t obj_size;
	size_t spec_at;  /* where the spec is in an object */
	size_t tessd_at; /* where the object's tessd address is (hosts, routers); 0: none */
	enum mgr_kind id_kind;
	bool tenants_read; /* tenant admins may read (their own tenant; every model) */
	/* The object as the API shows it; NULL: its spec and its id. */
	json_t *(*json)(const void *obj);
	/* What a tenant admin may read; NULL: nothing. */
	bool (*visible)(const struct api_ctx *c, const void *obj);
	/* Cross references of a new spec (old: the object it replaces, or NULL); NULL: none. */
	bool (*check)(const void *spec, const void *old, struct mgr_err *e);
	int (*put)(const void *obj); /* its row in the store */
	void *(*at)(uint32_t i);     /* the i-th object, NULL past the last */
	/*
	 * Kinds kept as an array of objects in mgr (API_ARRAY_OPS): a zeroed new slot at its
	 * end (NULL with e: nothing changed) and its count. A new or changed spec is followed
	 * by derive (NULL: nothing derived); a delete that used or del_check refuses changes
	 * nothing (both also asked before a planned delete), deleted says it is gone (from the
	 * store, still in the array), and ordered keeps the array in id order (otherwise the
	 * last object takes the place of the deleted one).
	 */
	void *(*grow)(struct mgr_err *e);
	uint32_t *(*count)(void);
	void (*derive)(void *obj);
	const struct api_used *used;
	bool (*del_check)(const void *obj, struct mgr_err *e);
	void (*deleted)(void *obj);
	bool ordered;
	/*
	 * Hosts, an array of pointers to objects that hold more (their desktops' slices and
	 * queue): their own add and delete, and what follows a stored update under mgr.lock.
	 */
	int (*add)(void *spec, uint32_t *id, struct mgr_err *e);
	int (*del)(void *obj, struct mgr_err *e);
	void (*changed)(void *obj);
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
	bool serialize;
	/* Routers, tasks: what is asked of a new spec before mgr.lock (a router's own tessd, a
	 * task's program in the file system). */
	int (*remote_check)(const void *spec, struct mgr_err *e);
	/* After an update is stored, outside mgr.lock: what follows from it (models: the
	 * running desktops' cputune). */
	void (*updated)(const char *name);
};

/* Answers a request on /v1/<kind>s[/<name>]. */
void api_crud(struct api_ctx *c, const struct api_kind *k);

/* A new object in obj (zeroed): its id and spec (arrays and all), derived, and its row and
 * next_ids stored in one commit; or -EIO with e (the caller drops obj). */
int api_obj_init(const struct api_kind *k, void *obj, void *spec, uint32_t *id, struct mgr_err *e);
/* Its row deleted from the store; or -EIO with e. */
int api_obj_unstore(const struct api_kind *k, const void *obj, struct mgr_err *e);
/* A tessd address no host nor router has any more: its ssh tunnel, if any, is stopped. */
void api_forget_tessd_locked(const char *addr);
/* Whether the site a spec names (at path in it) exists; false with a 400 in e. */
bool api_site_named(const char *name, const char *path, struct mgr_err *e);
/* Whether a desktop names id at desktop_at (tenant_id, model_id). */
bool api_desktops_name(size_t desktop_at, uint32_t id);
/* arr (n elements of size) with room for one more, zeroed at n: or NULL with e (arr stays). */
void *api_grow(void *arr, uint32_t n, size_t size, struct mgr_err *e);

/*
 * What each kind's table needs and the generic code assumes, by the kind's prefix (site:
 * struct mgr_site, its spec, mgr_site_schema, mgr_store_put_site): written once, typed for
 * each kind, as state.c's BY_NAME. API_KIND_OPS: its put and the layout asserts;
 * API_ARRAY_OPS adds the at, grow and count of a kind kept as an array of objects in
 * mgr.arr, counted by mgr.n.
 */
#define API_KIND_OPS(pfx)                                                                    \
	_Static_assert(offsetof(struct mgr_##pfx##_spec, name) == 0,                         \
		       "a spec starts with its name");                                       \
	_Static_assert(offsetof(struct mgr_##pfx, id) == 0, "an object starts with its id"); \
	static int pfx##_put(const void *o)                                                  \
	{                                                                                    \
		return mgr_store_put_##pfx(o);                                               \
	}
#define API_ARRAY_OPS(pfx, arr, n)                                             \
	API_KIND_OPS(pfx)                                                      \
	static void *pfx##_at(uint32_t i)                                      \
	{                                                                      \
		return i < mgr.n ? &mgr.arr[i] : NULL;                         \
	}                                                                      \
	static void *pfx##_grow(struct mgr_err *e)                             \
	{                                                                      \
		struct mgr_##pfx *a = api_grow(mgr.arr, mgr.n, sizeof(*a), e); \
		if (a == NULL)                                                 \
			return NULL;                                           \
		mgr.arr = a;                                                   \
		return &a[mgr.n];                                              \
	}                                                                      \
	static uint32_t *pfx##_count(void)                                     \
	{                                                                      \
		return &mgr.n;                                                 \
	}
/* The fields of a kind's table that follow from its prefix (kind: its enum mgr_kind). */
#define API_KIND_FIELDS(pfx, kind)                                                                 \
	.what = #pfx, .schema = &mgr_##pfx##_schema, .spec_size = sizeof(struct mgr_##pfx##_spec), \
	.obj_size = sizeof(struct mgr_##pfx), .spec_at = offsetof(struct mgr_##pfx, spec),         \
	.id_kind = kind, .put = pfx##_put, .at = pfx##_at
#define API_ARRAY_FIELDS(pfx, kind) \
	API_KIND_FIELDS(pfx, kind), .grow = pfx##_grow, .count = pfx##_count

#endif
