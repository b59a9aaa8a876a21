/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /v1/users (provider admins: any tenant's; tenant admins: their own, 404 for
 * another's) and PUT /v1/desktops/ID/users, the users a desktop is assigned
 * to. Passwords are hashed before mgr.lock is taken (Argon2id takes tens of
 * milliseconds), and never appear in an answer, the audit log or the log.
 */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_schema.h"
#include "users.h"

#define DISPLAY_MAX    128
#define ASSIGN_MAX     1000 /* users in one assignment */
#define USER_NAME_HINT "1 to 63 of A-Z a-z 0-9 _ . -"

static bool is(const struct api_ctx *c, const char *method)
{
	return strcmp(c->r->method, method) == 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n < MGR_NAME_LEN && strspn(s, CFG_NAME_CHARSET) == n && s[0] != '.';
}

/* A string member of the body (NULL if absent); false with 400 if not a string. */
static bool member(struct api_ctx *c, const char *key, const char **out)
{
	json_t *v = json_object_get(c->r->body, key);

	*out = NULL;
	if (v && !json_is_string(v)) {
		http_error(c->out, 400, key, "a string");
		return false;
	}
	*out = v ? json_string_value(v) : NULL;
	return true;
}

struct user_body {
	const char *name, *tenant, *password, *display_name;
};

/* The body of POST (create) or PUT: false with 400 answered. */
static bool user_body(struct api_ctx *c, bool create, struct user_body *b)
{
	const char *key;
	json_t *v;

	memset(b, 0, sizeof(*b));
	json_object_foreach (c->r->body, key, v) {
		if (strcmp(key, "password") && strcmp(key, "display_name") &&
		    (!create || (strcmp(key, "name") && strcmp(key, "tenant")))) {
			http_error(c->out, 400, "", "unknown member '%.64s' (%s)", key,
				   create ? "name, tenant, password, display_name"
					  : "password, display_name");
			return false;
		}
	}
	if (!member(c, "name", &b->name) || !member(c, "tenant", &b->tenant) ||
	    !member(c, "password", &b->password) || !member(c, "display_name", &b->display_name))
		return false;
	if (create && (b->name == NULL || !name_ok(b->name))) {
		http_error(c->out, 400, "name", "a user's name: " USER_NAME_HINT);
		return false;
	}
	if (create && b->password == NULL) {
		http_error(c->out, 400, "password", "a password is needed");
		return false;
	}
	if (!create && !b->password && !b->display_name) {
		http_error(c->out, 400, "", "nothing to change: password or display_name");
		return false;
	}
	if (b->password &&
	    (strlen(b->password) < MGR_PASSWORD_MIN || strlen(b->password) > MGR_PASSWORD_MAX)) {
		http_error(c->out, 400, "password", "a password has %d to %d bytes",
			   MGR_PASSWORD_MIN, MGR_PASSWORD_MAX);
		return false;
	}
	if (b->display_name && strlen(b->display_name) > DISPLAY_MAX) {
		http_error(c->out, 400, "display_name", "at most %d bytes", DISPLAY_MAX);
		return false;
	}
	/* Shown on terminals (tessctl user list): no control characters. */
	for (const char *p = b->display_name; p && *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			http_error(c->out, 400, "display_name", "no control characters");
			return false;
		}
	}
	return true;
}

/* The hash of b's password, if it has one: false with 503/500 answered. */
static bool hash_of(struct api_ctx *c, const struct user_body *b, char hash[MGR_USER_HASH_LEN])
{
	int rc;

	hash[0] = '\0';
	if (b->password == NULL)
		return true;
	rc = mgr_users_hash(b->password, hash);
	if (rc == -EBUSY) {
		c->out->retry_after = 1;
		http_error(c->out, 503, "", "too many password hashes at once: try again");
	} else if (rc < 0) {
		http_error(c->out, 500, "", "cannot hash the password");
	}
	return rc == 0;
}

static void user_create(struct api_ctx *c)
{
	struct user_body b;
	struct mgr_user u = { 0 };
	struct mgr_err e = { 0 };
	char hash[MGR_USER_HASH_LEN];

	if (!user_body(c, true, &b))
		return;
	snprintf(c->target, sizeof(c->target), "user %.63s/%.63s", b.tenant ? b.tenant : "",
		 b.name);
	if (c->provider && b.tenant == NULL) {
		http_error(c->out, 400, "tenant", "a provider names the user's tenant");
		return;
	}
	if (!hash_of(c, &b, hash))
		return;
	snprintf(u.name, sizeof(u.name), "%s", b.name);
	snprintf(u.display_name, sizeof(u.display_name), "%s", b.display_name ?: "");
	pthread_mutex_lock(&mgr.lock);
	const struct mgr_tenant *t =
		b.tenant ? mgr_tenant_by_name(&mgr, b.tenant) : mgr_tenant_get(&mgr, c->tenant_id);
	if (t == NULL || (!c->provider && t->id != c->tenant_id)) {
		/* A tenant admin naming another tenant: as if it did not exist. */
		mgr_err_set(&e, c->provider ? 400 : 404, c->provider ? "/tenant" : "",
			    "no tenant %.63s", b.tenant);
		goto out;
	}
	snprintf(c->target, sizeof(c->target), "user %s/%s", t->spec.name, u.name);
	snprintf(c->audit_tenant, sizeof(c->audit_tenant), "%s", t->spec.name);
	u.tenant_id = t->id;
	if (mgr_users_count_locked(t->id) >= mgr_conf.users.max_per_tenant) {
		mgr_err_set(&e, 409, "", "tenant %s has users.max_per_tenant (%u) users",
			    t->spec.name, mgr_conf.users.max_per_tenant);
		goto out;
	}
	int rc = mgr_user_add_locked(&u, hash);
	if (rc == -EEXIST)
		mgr_err_set(&e, 409, "/name", "user %s exists in tenant %s", u.name, t->spec.name);
	else if (rc < 0)
		mgr_err_set(&e, 500, "", "cannot write the store");
	else
		api_ok(c, 201, mgr_user_json_locked(&u));
out:
	pthread_mutex_unlock(&mgr.lock);
	explicit_bzero(hash, sizeof(hash));
	if (e.status)
		api_error(c, &e);
}

/* GET, PUT, DELETE /users/ID. */
static void user_one(struct api_ctx *c)
{
	struct mgr_err e = { 0 };
	struct user_body b = { 0 };
	struct mgr_user u;
	char hash[MGR_USER_HASH_LEN] = "", *end;
	uint32_t id = (uint32_t)strtoul(c->seg[1], &end, 10);
	bool ended = false;

	snprintf(c->target, sizeof(c->target), "user %.64s", c->seg[1]);
	if (!is(c, "GET") && !is(c, "PUT") && !is(c, "DELETE")) {
		http_error(c->out, 405, "", "%s is not allowed on %s", c->r->method, c->r->path);
		return;
	}
	/* The password is hashed before the lock (PUT); who may is checked under it. */
	if (is(c, "PUT") && (!user_body(c, false, &b) || !hash_of(c, &b, hash)))
		return;
	pthread_mutex_lock(&mgr.lock);
	if (*end || mgr_user_get_locked(id, &u) < 0 ||
	    (!c->provider && u.tenant_id != c->tenant_id)) {
		mgr_err_set(&e, 404, "", "no user %.64s", c->seg[1]);
		goto out;
	}
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, u.tenant_id);
	snprintf(c->target, sizeof(c->target), "user %s/%s", t ? t->spec.name : "", u.name);
	snprintf(c->audit_tenant, sizeof(c->audit_tenant), "%s", t ? t->spec.name : "");
	if (is(c, "GET")) {
		api_ok(c, 200, mgr_user_json_locked(&u));
	} else if (is(c, "PUT")) {
		if (mgr_user_update_locked(id, b.display_name, hash[0] ? hash : NULL) < 0 ||
		    mgr_user_get_locked(id, &u) < 0) {
			mgr_err_set(&e, 500, "", "cannot write the store");
			goto out;
		}
		ended = hash[0] != '\0'; /* a new password: its sessions end */
		api_ok(c, 200, mgr_user_json_locked(&u));
	} else {
		json_t *view = mgr_user_json_locked(&u);
		if (mgr_user_del_locked(id) < 0) {
			json_decref(view);
			mgr_err_set(&e, 500, "", "cannot write the store");
			goto out;
		}
		ended = true;
		api_ok(c, 200, view);
	}
out:
	pthread_mutex_unlock(&mgr.lock);
	explicit_bzero(hash, sizeof(hash));
	if (ended)
		mgr_user_end_sessions(id);
	if (e.status)
		api_error(c, &e);
}

void api_users(struct api_ctx *c)
{
	if (c->user) {
		http_error(c->out, 403, "", "users do not manage users");
		return;
	}
	if (c->n_seg == 1 && is(c, "GET")) {
		const char *tenant = http_query(c->r, "tenant");
		uint32_t tid = c->tenant_id;
		pthread_mutex_lock(&mgr.lock);
		if (c->provider && tenant) {
			const struct mgr_tenant *t = mgr_tenant_by_name(&mgr, tenant);
			tid = t ? t->id : UINT32_MAX; /* none: an empty list */
		}
		api_ok(c, 200, mgr_users_json_locked(tid));
		pthread_mutex_unlock(&mgr.lock);
	} else if (c->n_seg == 1 && is(c, "POST")) {
		user_create(c);
	} else if (c->n_seg == 2) {
		user_one(c);
	} else if (c->n_seg == 1) {
		http_error(c->out, 405, "", "%s is not allowed on %s", c->r->method, c->r->path);
	} else {
		http_error(c->out, 404, "", "no such resource: %s", c->r->path);
	}
}

/* The user ids of body's "users" in tenant tid: false with 400 answered (under mgr.lock). */
static bool assign_ids(struct api_ctx *c, uint32_t tid, uint32_t *ids, uint32_t *n,
		       struct mgr_err *e)
{
	json_t *a = json_object_get(c->r->body, "users"), *v;
	const char *key;
	size_t i;

	json_object_foreach (c->r->body, key, v) {
		if (strcmp(key, "users") != 0) {
			mgr_err_set(e, 400, "", "unknown member '%.64s' (users)", key);
			return false;
		}
	}
	if (!json_is_array(a) || json_array_size(a) > ASSIGN_MAX) {
		mgr_err_set(e, 400, "/users", "an array of at most %d user names", ASSIGN_MAX);
		return false;
	}
	*n = 0;
	json_array_foreach (a, i, v) {
		struct mgr_user u;
		const char *name = json_string_value(v);
		if (name == NULL || mgr_user_by_name_locked(tid, name, &u) < 0) {
			mgr_err_set(e, 400, "", "/users/%zu: no such user in the desktop's tenant",
				    i);
			return false;
		}
		ids[(*n)++] = u.id;
	}
	return true;
}

void api_desktop_users(struct api_ctx *c)
{
	struct mgr_err e = { 0 };
	uint32_t *ids = NULL, n = 0;
	char *end;
	uint32_t id = (uint32_t)strtoul(c->seg[1], &end, 10);

	snprintf(c->target, sizeof(c->target), "desktop %.64s", c->seg[1]);
	if (c->user) {
		http_error(c->out, 403, "", "users do not assign desktops");
		return;
	}
	if (!is(c, "PUT")) {
		http_error(c->out, 405, "", "%s is not allowed on %s", c->r->method, c->r->path);
		return;
	}
	ids = calloc(ASSIGN_MAX, sizeof(*ids));
	if (ids == NULL) {
		http_error(c->out, 503, "", "out of memory");
		return;
	}
	pthread_mutex_lock(&mgr.lock);
	const struct mgr_desktop *d = *end ? NULL : mgr_desktop_get(&mgr, id);
	if (d == NULL || (!c->provider && d->tenant_id != c->tenant_id)) {
		mgr_err_set(&e, 404, "", "no desktop %.64s", c->seg[1]);
	} else if (assign_ids(c, d->tenant_id, ids, &n, &e)) {
		const struct mgr_tenant *t = mgr_tenant_get(&mgr, d->tenant_id);
		snprintf(c->audit_tenant, sizeof(c->audit_tenant), "%s", t ? t->spec.name : "");
		if (mgr_desktop_assign_locked(d->id, ids, n) < 0)
			mgr_err_set(&e, 500, "", "cannot write the store");
		else
			api_ok(c, 200,
			       json_pack("{s:i, s:o}", "desktop", (int)d->id, "users",
					 mgr_desktop_users_locked(d->id)));
	}
	pthread_mutex_unlock(&mgr.lock);
	free(ids);
	if (e.status)
		api_error(c, &e);
}
