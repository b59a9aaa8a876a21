/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * POST /v1/login, GET /v1/session, POST /v1/logout: a bearer token or a
 * user's password exchanged for a session cookie (session.h), and the limits
 * on failed logins: per client address and per user, so many in a window,
 * then 429 with Retry-After until the window ends. The failures are kept in
 * two fixed tables (ratelimit.h) that never drop a live count: when one is
 * full where a new key would go, that key is refused (fail closed).
 */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ratelimit.h"
#include "session.h"
#include "users.h"

#define RL_SLOTS 2048 /* per table */

/* Addresses and users apart: a flood of one cannot crowd out the other's counts. */
static struct mgr_rl rl_addr, rl_user;
static pthread_once_t rl_once = PTHREAD_ONCE_INIT;
static int rl_err;
static uint64_t n_ok, n_failed, n_limited; /* atomic */

static void rl_init(void)
{
	rl_err = mgr_rl_init(&rl_addr, RL_SLOTS);
	if (rl_err == 0)
		rl_err = mgr_rl_init(&rl_user, RL_SLOTS);
}

json_t *api_login_stats(void)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "succeeded",
			 (json_int_t)__atomic_load_n(&n_ok, __ATOMIC_RELAXED), "failed",
			 (json_int_t)__atomic_load_n(&n_failed, __ATOMIC_RELAXED), "rate_limited",
			 (json_int_t)__atomic_load_n(&n_limited, __ATOMIC_RELAXED), "sessions",
			 (json_int_t)mgr_sessions_count(mgr_mono_sec()));
}

static json_t *session_json(const struct mgr_session *s)
{
	bool user = s->user_id != 0;

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "principal", s->who.principal,
			 "role", s->who.role, "tenant", s->who.tenant, "user",
			 user ? s->who.principal : "", "csrf", s->csrf, "idle_sec",
			 (json_int_t)mgr_conf.http.session_idle_sec, "expires",
			 (json_int_t)s->expires);
}

static bool method_is(struct api_ctx *c, const char *method)
{
	if (c->n_seg == 1 && strcmp(c->r->method, method) == 0)
		return true;
	http_error(c->out, c->n_seg == 1 ? 405 : 404, "", "%s %s is not served", c->r->method,
		   c->r->path);
	return false;
}

/* A string member of the body, or NULL; false (400 answered) if it is there but not one. */
static bool body_str(struct api_ctx *c, const char *key, const char **out)
{
	json_t *v = json_object_get(c->r->body, key);

	*out = NULL;
	if (v == NULL)
		return true;
	if (!json_is_string(v)) {
		http_error(c->out, 400, key, "/%s: a string", key);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* The body's credentials: a token, or a tenant, user and password; false with 400 answered. */
static bool login_body(struct api_ctx *c, const char **token, const char **tenant,
		       const char **user, const char **password)
{
	const char *key;
	json_t *v;

	if (c->r->body == NULL) {
		http_error(c->out, 400, "",
			   "a body {\"token\"} or {\"tenant\", \"user\", "
			   "\"password\"} is needed");
		return false;
	}
	json_object_foreach (c->r->body, key, v) {
		if (strcmp(key, "token") && strcmp(key, "tenant") && strcmp(key, "user") &&
		    strcmp(key, "password")) {
			http_error(c->out, 400, "",
				   "unknown member '%.64s' (token, tenant, user, "
				   "password)",
				   key);
			return false;
		}
	}
	if (!body_str(c, "token", token) || !body_str(c, "tenant", tenant) ||
	    !body_str(c, "user", user) || !body_str(c, "password", password))
		return false;
	if (*token ? *tenant || *user || *password : !*tenant || !*user || !*password) {
		http_error(c->out, 400, "",
			   "either a token, or a tenant, a user and a password, is needed");
		return false;
	}
	return true;
}

/* Takes back the attempt counted for akey and ukey ("": none): it was not a failure. */
static void rl_undo(const char *akey, const char *ukey, uint64_t now)
{
	uint32_t win = mgr_conf.http.login_window_sec;

	mgr_rl_undo(&rl_addr, akey, now, win);
	if (ukey[0])
		mgr_rl_undo(&rl_user, ukey, now, win);
}

/* The attempt stays counted (it was, before the check). */
static void login_failed(struct api_ctx *c)
{
	__atomic_add_fetch(&n_failed, 1, __ATOMIC_RELAXED);
	/* One answer whatever was wrong: it tells nothing of which part was. */
	http_error(c->out, 401, "", "login failed");
	c->who = NULL;
	api_audit_login(c);
}

void api_login(struct api_ctx *c)
{
	const char *token, *tenant, *user, *password;
	char akey[64], ukey[2 * MGR_NAME_LEN + 8] = "", cookie[MGR_SESSION_LEN];
	uint64_t now = mgr_mono_sec(), gen = 0;
	struct mgr_token who;
	struct mgr_session s;
	uint32_t wait, uwait = 0, win = mgr_conf.http.login_window_sec;
	bool ok;
	int rc;

	if (!method_is(c, "POST"))
		return;
	if (http_cross_site(c->r)) {
		http_error(c->out, 403, "", "a login from another site's page is refused");
		return;
	}
	if (!login_body(c, &token, &tenant, &user, &password))
		return;
	snprintf(akey, sizeof(akey), "a:%s", c->r->client);
	if (!token) {
		snprintf(ukey, sizeof(ukey), "u:%.63s/%.63s", tenant, user);
		snprintf(c->target, sizeof(c->target), "user %.63s/%.63s", tenant, user);
		snprintf(c->audit_tenant, sizeof(c->audit_tenant), "%s", tenant);
	} else {
		snprintf(c->target, sizeof(c->target), "token");
	}
	/*
	 * Refused before any check: a guesser gets no answer, and costs no Argon2
	 * run. The attempt is counted now, not after the check (~0.1 s of Argon2),
	 * so logins in flight at once cannot all pass the limit; a success or a
	 * refusal that checked nothing takes it back.
	 */
	pthread_once(&rl_once, rl_init);
	if (rl_err) {
		http_error(c->out, 503, "", "cannot count failed logins: %s", strerror(-rl_err));
		return;
	}
	wait = mgr_rl_take(&rl_addr, akey, now, win, mgr_conf.http.login_failures_per_address);
	if (wait == 0 && ukey[0]) {
		uwait = mgr_rl_take(&rl_user, ukey, now, win,
				    mgr_conf.http.login_failures_per_user);
		if (uwait)
			mgr_rl_undo(&rl_addr, akey, now, win);
	}
	if (wait || uwait) {
		__atomic_add_fetch(&n_limited, 1, __ATOMIC_RELAXED);
		c->out->retry_after = wait > uwait ? wait : uwait;
		http_error(c->out, 429, "", "too many failed logins: try again in %u s",
			   c->out->retry_after);
		return; /* counted, not audited one by one (a flood must not fill the store) */
	}
	memset(&who, 0, sizeof(who));
	if (token) {
		ok = api_who_is(token, &who, &gen);
	} else {
		rc = mgr_users_login(tenant, user, password, &who);
		if (rc == -EBUSY) {
			rl_undo(akey, ukey, now);
			c->out->retry_after = 1;
			http_error(c->out, 503, "", "too many logins at once: try again");
			return;
		}
		ok = rc == 0;
	}
	if (!ok) {
		login_failed(c);
		return;
	}
	rc = mgr_session_new(&who, who.user_id, now, cookie, &s);
	/* A reload that dropped the token between its check and the new session missed it. */
	if (rc == 0 && token && api_tokens_gen() != gen) {
		mgr_session_end(cookie);
		login_failed(c);
		return;
	}
	if (rc < 0) {
		rl_undo(akey, ukey, now);
		http_error(c->out, 503, "", "%s",
			   rc == -ENOSPC ? "too many sessions (http.max_sessions): try again later"
					 : "cannot make a session");
		c->out->retry_after = rc == -ENOSPC ? 60 : 0;
		explicit_bzero(&who, sizeof(who));
		return;
	}
	mgr_rl_undo(&rl_addr, akey, now, win);
	if (ukey[0])
		mgr_rl_clear(&rl_user, ukey, now, win);
	__atomic_add_fetch(&n_ok, 1, __ATOMIC_RELAXED);
	if (asprintf(&c->out->set_cookie, "tess_session=%s; Path=/; HttpOnly; SameSite=Strict%s",
		     cookie, c->r->https ? "; Secure" : "") < 0)
		c->out->set_cookie = NULL;
	if (c->out->set_cookie == NULL) {
		mgr_session_end(cookie);
		http_error(c->out, 503, "", "out of memory");
	} else {
		api_ok(c, 200, session_json(&s));
	}
	explicit_bzero(cookie, sizeof(cookie));
	c->who = &who;
	api_audit_login(c);
	c->who = NULL;
	explicit_bzero(&s, sizeof(s));
	explicit_bzero(&who, sizeof(who));
}

void api_session(struct api_ctx *c)
{
	if (!method_is(c, "GET"))
		return;
	if (c->session == NULL)
		http_error(c->out, 401, "", "no session: this request has a bearer token");
	else
		api_ok(c, 200, session_json(c->session));
}

void api_logout(struct api_ctx *c)
{
	if (!method_is(c, "POST"))
		return;
	if (c->session == NULL) {
		http_error(c->out, 401, "", "no session: this request has a bearer token");
		return;
	}
	mgr_session_end(c->r->cookie);
	if (asprintf(&c->out->set_cookie,
		     "tess_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
		     c->r->https ? "; Secure" : "") < 0)
		c->out->set_cookie = NULL;
	api_ok(c, 204, NULL);
}
