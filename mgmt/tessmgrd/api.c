/* SPDX-License-Identifier: BSD-3-Clause */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "image.h"
#include "network.h"
#include "portal.h"
#include "session.h"
#include "store.h"
#include "tessd_events.h"
#include "tls.h"
#include "token.h"
#include "tlog.h"
#include "users.h"

static pthread_rwlock_t tokens_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct mgr_tokens tokens;
/* Bumped by each reload, under tokens_lock: a principal kept from before is looked up again. */
static uint64_t tokens_gen;

/* How a request says who it is: a bearer token, else a session cookie. */
enum ident_kind {
	ID_NONE,
	ID_BEARER,
	ID_BEARER_UNKNOWN,
	ID_SESSION,
	ID_SESSION_UNKNOWN,
	ID_SESSION_EXPIRED,
};

/* What precheck found at a request's headers, for its handler (api_handle). */
struct ident {
	enum ident_kind kind;
	struct mgr_token who;
	struct mgr_session s;
	uint64_t gen;
};

/* Whether a session's token is still in the token file as it was (under tokens_lock). */
static bool token_dropped(const struct mgr_session *s, void *arg)
{
	const struct mgr_tokens *t = arg;

	if (s->user_id)
		return false;
	for (uint32_t i = 0; i < t->n_tokens; i++) {
		const struct mgr_token *k = &t->tokens[i];
		if (mgr_token_equal(k->digest, s->who.digest) &&
		    strcmp(k->principal, s->who.principal) == 0 &&
		    strcmp(k->role, s->who.role) == 0 && strcmp(k->tenant, s->who.tenant) == 0)
			return false;
	}
	return true;
}

int api_load_tokens(const char *path)
{
	struct mgr_tokens t = { 0 };
	bool has_clear = false;
	char why[256];
	int rc = mgr_load_json(path, &mgr_tokens_schema, &t);

	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < t.n_tokens; i++) {
		struct mgr_token *k = &t.tokens[i];
		if (k->token[0]) {
			char hex[MGR_TOKEN_HEX];
			/* The old form: still read, so that an upgrade locks nobody out. */
			mgr_token_digest(k->token, k->digest);
			mgr_token_hex(k->digest, hex);
			tlog(LOG_WARNING, NULL,
			     "%s: /tokens/%u/token: a clear token; store "
			     "\"sha256\": \"%s\" in its place",
			     path, i, hex);
			explicit_bzero(k->token, sizeof(k->token));
			has_clear = true;
		} else if (mgr_token_unhex(k->sha256, k->digest) < 0) {
			tlog(LOG_ERR, NULL, "%s: /tokens/%u/sha256: not 64 hex digits", path, i);
			cfg_free(&mgr_tokens_schema, &t);
			return -EINVAL;
		}
	}
	for (uint32_t i = 0; i < t.n_tokens; i++) {
		for (uint32_t k = 0; k < i; k++) {
			if (memcmp(t.tokens[i].digest, t.tokens[k].digest, MGR_TOKEN_DIGEST) == 0) {
				tlog(LOG_ERR, NULL, "%s: /tokens/%u: the same as /tokens/%u", path,
				     i, k);
				cfg_free(&mgr_tokens_schema, &t);
				return -EINVAL;
			}
		}
	}
	rc = mgr_token_file_check(path, has_clear, why, sizeof(why));
	if (rc != 0)
		tlog(rc < 0 ? LOG_ERR : LOG_WARNING, NULL, "%s: %s%s", path,
		     rc < 0 ? "refused: " : "", why);
	if (rc < 0) {
		cfg_free(&mgr_tokens_schema, &t);
		return rc;
	}
	pthread_rwlock_wrlock(&tokens_lock);
	cfg_free(&mgr_tokens_schema, &tokens);
	tokens = t;
	tokens_gen++;
	/* A session lives as long as the token it was opened with, unchanged. */
	unsigned ended = mgr_session_drop_if(token_dropped, &tokens);
	pthread_rwlock_unlock(&tokens_lock);
	if (ended)
		tlog(LOG_NOTICE, NULL, "%s: %u session(s) of tokens dropped or changed ended", path,
		     ended);
	return 0;
}

void api_free_tokens(void)
{
	cfg_free(&mgr_tokens_schema, &tokens);
	memset(&tokens, 0, sizeof(tokens));
}

/*
 * The bearer's digest against every token's, each comparison over the same
 * 32 bytes and none cut short: the time says neither which token nor how
 * much of one matched, nor the length of any (review 1.12).
 */
static bool who_is_gen(const char *bearer, struct mgr_token *out, uint64_t *gen)
{
	uint8_t d[MGR_TOKEN_DIGEST];
	bool found = false;

	if (bearer == NULL)
		return false;
	mgr_count(token_lookups, 1);
	mgr_token_digest(bearer, d);
	pthread_rwlock_rdlock(&tokens_lock);
	*gen = tokens_gen;
	for (uint32_t i = 0; i < tokens.n_tokens; i++) {
		if (mgr_token_equal(tokens.tokens[i].digest, d)) {
			*out = tokens.tokens[i];
			found = true;
		}
	}
	pthread_rwlock_unlock(&tokens_lock);
	return found;
}

/* Whether the token table is still the one of generation gen (no reload since). */
static bool tokens_current(uint64_t gen)
{
	return api_tokens_gen() == gen;
}

uint64_t api_tokens_gen(void)
{
	uint64_t gen;

	pthread_rwlock_rdlock(&tokens_lock);
	gen = tokens_gen;
	pthread_rwlock_unlock(&tokens_lock);
	return gen;
}

void api_error(struct api_ctx *c, struct mgr_err *e)
{
	http_error(c->out, e->status, e->path, "%s", e->msg);
	if (e->detail) {
		json_object_set_new(json_object_get(c->out->body, "error"), "detail", e->detail);
		e->detail = NULL;
	}
}

void api_ok(struct api_ctx *c, unsigned status, json_t *body)
{
	json_decref(c->out->body);
	c->out->status = status;
	c->out->body = body ? body : json_object();
}

bool api_decode(struct api_ctx *c, const struct cfg_node *schema, void *dst)
{
	struct cfg_errs errs;
	json_t *empty = NULL;
	int rc;

	cfg_errs_init(&errs);
	rc = cfg_decode(schema, c->r->body ? c->r->body : (empty = json_object()), dst, "", &errs);
	json_decref(empty);
	if (rc == 0)
		return true;
	http_error(c->out, 400, errs.n ? errs.e[0].path : "", "%s",
		   errs.n ? errs.e[0].msg : "invalid request");
	return false;
}

struct route {
	const char *first; /* first path segment after /v1 */
	void (*fn)(struct api_ctx *c);
};

/* Two routes a line, whatever their count. */
/* clang-format off */
static const struct route routes[] = {
	{ "sites", api_sites },         { "hosts", api_hosts },
	{ "tenants", api_tenants },     { "routers", api_routers },
	{ "models", api_models },       { "quotas", api_quotas },
	{ "desktops", api_desktops },   { "jobs", api_jobs },
	{ "usage", api_usage },         { "audit", api_audit },
	{ "reconcile", api_reconcile }, { "images", api_images },
	{ "stats", api_stats },         { "log", api_log },
	{ "events", api_events },       { "rates", api_rates },
	{ "chargeback", api_chargeback }, { "tasks", api_tasks },
	{ "session", api_session },     { "logout", api_logout },
	{ "users", api_users },         { "console", api_console },
	{ NULL, NULL },
};
/* clang-format on */

/* GET /stats (provider admins): the HTTP front end's counters, and what the API's limits
 * refused, dropped or summarised. */
void api_stats(struct api_ctx *c)
{
	struct http_stats s;

	if (c->n_seg != 1) {
		http_error(c->out, 404, "", "no such resource: %s", c->r->path);
		return;
	}
	if (strcmp(c->r->method, "GET") != 0) {
		http_error(c->out, 405, "", "%s is not allowed on %s", c->r->method, c->r->path);
		return;
	}
	if (!c->provider) {
		http_error(c->out, 403, "", "only provider admins read the counters");
		return;
	}
	http_get_stats(&s);
	unsigned streams;
	uint64_t ev_dropped;
	mgr_events_counts(&streams, &ev_dropped);
	uint32_t tessds;
	uint64_t relayed, unreadable;
	mgr_tessd_events_counts(&tessds, &relayed, &unreadable);
#define K(field) (json_int_t) __atomic_load_n(&mgr_counters.field, __ATOMIC_RELAXED)
	api_ok(c, 200,
	       json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, "
			 "s:I}, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, "
			 "s:I}, "
			 "s:{s:I, s:I, s:I, s:I}, s:{s:I}, s:{s:I, s:I, s:I, s:I}}",
			 "http", "requests", (json_int_t)s.requests, "unauthenticated",
			 (json_int_t)s.unauthenticated, "body_too_large",
			 (json_int_t)s.body_too_large, "json_too_deep", (json_int_t)s.json_too_deep,
			 "connections_refused", (json_int_t)s.connections_refused, "timed_out",
			 (json_int_t)s.timed_out, "tls_failed", (json_int_t)s.tls_failed,
			 "tls_pairs", (json_int_t)mgr_tls_pairs(), "active", (json_int_t)s.active,
			 "token_lookups", K(token_lookups), "audit", "unauthenticated",
			 K(audit_unauthenticated), "summaries", K(audit_summaries),
			 "queries_refused", K(audit_queries_refused), "pruned", K(audit_pruned),
			 "jobs", "duplicate_refused", K(jobs_duplicate_refused), "tenant_refused",
			 K(jobs_tenant_refused), "qemu_img_timeouts",
			 (json_int_t)mgr_image_timeouts(), "events", "streams", (json_int_t)streams,
			 "dropped", (json_int_t)ev_dropped, "tessds_subscribed", (json_int_t)tessds,
			 "tessd_relayed", (json_int_t)relayed, "tessd_unreadable",
			 (json_int_t)unreadable, "network", "fdb_forgets", K(net_fdb_forgets),
			 "fdb_forget_failed", K(net_fdb_forget_failed), "fdb_forgets_pending",
			 (json_int_t)mgr_net_forgets_pending(), "reservations_pending",
			 (json_int_t)mgr_net_reservations_pending(), "placement", "placed",
			 K(place_ok), "no_quota", K(place_no_quota), "quota_full",
			 K(place_quota_full), "no_host", K(place_no_host), "log", "dropped",
			 (json_int_t)tlog_dropped(), "usage", "router_unanswered",
			 K(usage_net_unanswered), "counter_resets", K(usage_net_resets),
			 "active_listings", K(usage_active_listings), "active_shared",
			 K(usage_active_shared)));
	json_object_set_new(c->out->body, "login", api_login_stats());
#undef K
}

/* Splits /v1/a/b/c into segments (in buf). */
static bool split(const char *path, char *buf, size_t len, struct api_ctx *c)
{
	char *save = NULL;

	if (strncmp(path, "/v1/", 4) != 0 || strlen(path) >= len)
		return false;
	snprintf(buf, len, "%s", path + 4);
	for (char *s = strtok_r(buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (c->n_seg == sizeof(c->seg) / sizeof(c->seg[0]))
			return false;
		c->seg[c->n_seg++] = s;
	}
	return c->n_seg > 0;
}

static bool mutating(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/*
 * Requests without a known token are not audited one by one: a client that
 * needs no token must not grow the store nor take mgr.lock per request
 * (review 1.6). They are counted here, and each audit.unauth_interval_sec
 * that saw some becomes one summary row, written by the first request or
 * audit query after its end (or at shutdown).
 */
static pthread_mutex_t unauth_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	time_t start; /* of the interval being counted; 0: none */
	uint64_t no_token, unknown_token;
} unauth;

/* The summary of the interval counted, if it is over (or force); call without mgr.lock. */
void api_audit_flush(bool force)
{
	uint64_t none, unknown;
	time_t start, now = time(NULL);
	char target[64], result[128];

	pthread_mutex_lock(&unauth_lock);
	start = unauth.start;
	none = unauth.no_token;
	unknown = unauth.unknown_token;
	if (start == 0 || (!force && now - start < (time_t)mgr_conf.audit.unauth_interval_sec)) {
		pthread_mutex_unlock(&unauth_lock);
		return;
	}
	memset(&unauth, 0, sizeof(unauth));
	pthread_mutex_unlock(&unauth_lock);
	snprintf(target, sizeof(target), "%llu requests", (unsigned long long)(none + unknown));
	snprintf(result, sizeof(result), "401 no token: %llu, unknown token: %llu",
		 (unsigned long long)none, (unsigned long long)unknown);
	pthread_mutex_lock(&mgr.lock);
	mgr_store_audit(&(struct mgr_audit){ .time = start,
					     .principal = "-",
					     .role = "-",
					     .tenant = "",
					     .action = "unauthenticated",
					     .target = target,
					     .result = result });
	pthread_mutex_unlock(&mgr.lock);
	mgr_count(audit_summaries, 1);
}

static void audit_unauth(const struct http_req *r)
{
	pthread_mutex_lock(&unauth_lock);
	if (unauth.start == 0)
		unauth.start = time(NULL);
	if (r->bearer)
		unauth.unknown_token++;
	else
		unauth.no_token++;
	pthread_mutex_unlock(&unauth_lock);
	mgr_count(audit_unauthenticated, 1);
	api_audit_flush(false);
}

static void audit(const struct api_ctx *c, const struct mgr_token *who)
{
	char result[400], action[96];
	json_t *err = json_object_get(c->out->body, "error");
	struct mgr_audit a = {
		.time = time(NULL),
		.principal = who ? who->principal : "-",
		.role = who ? who->role : "-",
		.tenant = c->audit_tenant[0] ? c->audit_tenant : (who ? who->tenant : ""),
		.action = action,
		.target = c->target[0] ? c->target : c->r->path,
		.result = result,
	};

	snprintf(action, sizeof(action), "%s %s", c->r->method, c->n_seg ? c->seg[0] : c->r->path);
	if (err)
		snprintf(result, sizeof(result), "%u %s", c->out->status,
			 json_string_value(json_object_get(err, "message")) ?: "");
	else
		snprintf(result, sizeof(result), "%u ok", c->out->status);
	api_audit_flush(false);
	pthread_mutex_lock(&mgr.lock);
	if (mgr_store_audit(&a) < 0)
		tlog(LOG_ERR, NULL, "cannot write the audit log");
	pthread_mutex_unlock(&mgr.lock);
}

/* The routes a user (role user) reaches; their handlers narrow them further. */
static bool user_route(const char *first)
{
	static const char *const allowed[] = { "desktops", "jobs",    "session",
					       "logout",   "console", NULL };

	for (const char *const *a = allowed; first && *a; a++)
		if (strcmp(first, *a) == 0)
			return true;
	return false;
}

/* A session's own routes: a session whose tenant is gone may still read and end itself. */
static bool session_route(const char *first)
{
	return first && (strcmp(first, "session") == 0 || strcmp(first, "logout") == 0);
}

/* Who the request is: its bearer, else its session cookie (its idle time restarts). */
static void identify(const struct http_req *r, struct ident *id)
{
	int rc;

	memset(id, 0, sizeof(*id));
	if (r->bearer) {
		id->kind =
			who_is_gen(r->bearer, &id->who, &id->gen) ? ID_BEARER : ID_BEARER_UNKNOWN;
		return;
	}
	if (r->cookie == NULL)
		return;
	id->gen = api_tokens_gen();
	rc = mgr_session_get(r->cookie, mgr_mono_sec(), &id->s);
	id->kind = rc == 0            ? ID_SESSION
		   : rc == -ETIMEDOUT ? ID_SESSION_EXPIRED
				      : ID_SESSION_UNKNOWN;
	if (rc == 0)
		id->who = id->s.who;
}

bool api_who_is(const char *bearer, struct mgr_token *who, uint64_t *gen)
{
	return who_is_gen(bearer, who, gen);
}

static const char *const unauth_msg[] = {
	[ID_NONE] = "an Authorization: Bearer token or a session is needed",
	[ID_BEARER_UNKNOWN] = "the bearer token is not known",
	[ID_SESSION_UNKNOWN] =
		"the session is not known (logged out, ended, or tessmgrd restarted)",
	[ID_SESSION_EXPIRED] = "session expired",
};

/* The request of id (looked up once per request), answered and audited. */
static void handle(const struct http_req *r, struct http_resp *out, const struct ident *id)
{
	struct api_ctx c = { .r = r, .out = out, .tokens_gen = id->gen };
	const struct mgr_token *who =
		id->kind == ID_BEARER || id->kind == ID_SESSION ? &id->who : NULL;
	char buf[1024];

	bool metrics = strcmp(r->path, "/metrics") == 0; /* Prometheus' default path */

	if (!metrics && !split(r->path, buf, sizeof(buf), &c)) {
		http_error(out, 404, "", "no such resource: %s (the API is under /v1/)", r->path);
	} else if (!metrics && c.n_seg == 1 && strcmp(c.seg[0], "login") == 0) {
		api_login(&c); /* credentials in its body: audited there */
		return;
	} else if (who == NULL) {
		http_error(out, 401, "", "%s", unauth_msg[id->kind]);
	} else if (id->kind == ID_SESSION && mutating(r->method) &&
		   !mgr_session_csrf_ok(&id->s, r->csrf)) {
		/* A browser sends the cookie with any site's form; only our page knows the token.
		 */
		http_error(out, 403, "", "CSRF token missing or wrong");
	} else {
		const struct route *rt = routes;
		c.who = who;
		c.session = id->kind == ID_SESSION ? &id->s : NULL;
		c.provider = strcmp(who->role, "provider") == 0;
		c.user = strcmp(who->role, "user") == 0;
		bool gone = false;
		if (!c.provider) {
			pthread_mutex_lock(&mgr.lock);
			const struct mgr_tenant *t = mgr_tenant_by_name(&mgr, who->tenant);
			c.tenant_id = t ? t->id : 0;
			/* Deleted (or its tenant), or a new password, since its login. */
			gone = c.user && !mgr_user_current_locked(who->user_id, who->user_gen);
			pthread_mutex_unlock(&mgr.lock);
		}
		while (!metrics && rt->first && strcmp(rt->first, c.seg[0]) != 0)
			rt++;
		/*
		 * Handlers read tenant_id 0 as "no tenant filter" (usage gives the
		 * provider's view): a tenant token whose tenant is missing (not created
		 * yet, deleted) must reach none of them. Users reach only the routes
		 * that serve them, whose handlers narrow them to their desktops.
		 */
		if (gone) {
			mgr_user_end_sessions(who->user_id);
			http_error(out, 401, "",
				   "session ended: the user was deleted or its password changed");
			who = NULL;
		} else if (c.user && (metrics || !user_route(rt->first)))
			http_error(out, 403, "", "users see and use their own desktops only");
		else if (metrics)
			api_metrics(&c);
		else if (!c.provider && c.tenant_id == 0 && !session_route(rt->first))
			http_error(out, 403, "", "tenant %s of this token does not exist",
				   who->tenant);
		else if (rt->first == NULL)
			http_error(out, 404, "", "no such resource: %s", r->path);
		else
			rt->fn(&c);
	}
	if (out->status == 0)
		http_error(out, 405, "", "%s is not allowed on %s", r->method, r->path);
	if (who == NULL)
		audit_unauth(r); /* GETs too: they cost a lookup each all the same */
	else if (mutating(r->method))
		audit(&c, who);
}

void api_audit_login(struct api_ctx *c)
{
	audit(c, c->who);
}

void api_precheck(const struct http_req *r, struct http_resp *out)
{
	struct api_ctx c = { .r = r, .out = out };
	struct ident *id;
	char buf[1024];

	/* The portal's static files need no token: answered whole at the headers. */
	if (mgr_portal_serve(r, out))
		return;
	id = malloc(sizeof(*id));
	if (id == NULL) {
		http_error(out, 503, "", "out of memory");
		return;
	}
	identify(r, id);
	/* Refused by handle whatever the body: let it answer (and audit) now. A login's
	 * credentials are in its body. */
	if (!split(r->path, buf, sizeof(buf), &c) ||
	    ((id->kind != ID_BEARER && id->kind != ID_SESSION) &&
	     !(c.n_seg == 1 && strcmp(c.seg[0], "login") == 0)) ||
	    (id->kind == ID_SESSION && mutating(r->method) &&
	     !mgr_session_csrf_ok(&id->s, r->csrf))) {
		handle(r, out, id);
		explicit_bzero(id, sizeof(*id));
		free(id);
		return;
	}
	/* Kept for the handler at the end of the body (api_handle): not looked up again
	 * unless the tokens were reloaded meanwhile (SIGHUP: it may have been revoked). */
	if (r->auth) {
		if (*r->auth)
			explicit_bzero(*r->auth, sizeof(*id)); /* a session's CSRF token */
		free(*r->auth);
		*r->auth = id;
	} else {
		explicit_bzero(id, sizeof(*id));
		free(id);
	}
}

void api_handle(const struct http_req *r, struct http_resp *out)
{
	struct ident id;

	if (mgr_portal_serve(r, out))
		return;
	if (r->auth && *r->auth) {
		const struct ident *k = *r->auth;
		if (k->kind == ID_BEARER && tokens_current(k->gen)) {
			handle(r, out, k);
			return;
		}
		/* Freed with the request (http.c, which knows not its size): wiped now. */
		explicit_bzero(*r->auth, sizeof(struct ident));
	}
	/* No precheck (in-process, the fuzzer's), it could not keep what it found, the
	 * tokens were reloaded since, or a session (it may have ended while the body came). */
	identify(r, &id);
	handle(r, out, &id);
	explicit_bzero(&id, sizeof(id));
}
