/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's HTTP API: routing, bearer tokens, roles and the audit log.
 * Provider admins manage sites, hosts, tenants, models and quotas and see
 * capacity and usage, never inside a tenant's desktops (403); tenant
 * admins manage their own tenant's desktops and see their own tenant,
 * quotas, usage, jobs and audit, and get 404 for anything of another.
 */
#ifndef TESS_MGR_API_H
#define TESS_MGR_API_H

#include "http.h"
#include "mgr.h"

struct mgr_session;

struct api_ctx {
	const struct http_req *r;
	struct http_resp *out;
	const struct mgr_token *who;
	const struct mgr_session *session; /* a cookie-authenticated request's, else NULL */
	bool provider;
	bool user;           /* role user: an end user (users.h) */
	uint64_t tokens_gen; /* the token file's generation who was looked up in */
	uint32_t tenant_id;  /* a tenant admin's tenant (0 if it does not exist) */
	const char *seg[8];  /* path segments after /v1 */
	unsigned n_seg;
	char target[160]; /* what the request acts on, for the audit log */
	char audit_tenant[MGR_NAME_LEN];
};

/* Token file (re)load: 0, or -errno (the old tokens stay); ends the sessions of tokens it
 * drops or changes. */
int api_load_tokens(const char *path);
void api_free_tokens(void);
/* The token file's generation, bumped by each reload. */
uint64_t api_tokens_gen(void);
void api_handle(const struct http_req *r, struct http_resp *out);
/* At the headers: 404 outside /v1/, 401 without a known token or session, 403 for a session's
 * mutating request without its CSRF token (audited as api_handle does). */
void api_precheck(const struct http_req *r, struct http_resp *out);

/* For handlers. */
void api_error(struct api_ctx *c, struct mgr_err *e);
void api_ok(struct api_ctx *c, unsigned status, json_t *body);
/* Decodes the body through schema into dst; false with a 400 answered. */
bool api_decode(struct api_ctx *c, const struct cfg_node *schema, void *dst);

/* Handlers (api_sites.c, api_hosts.c, ... over api_crud.c; api_desktops.c): the route table
 * calls them. */
void api_sites(struct api_ctx *c);
void api_hosts(struct api_ctx *c);
void api_tenants(struct api_ctx *c);
void api_routers(struct api_ctx *c);
void api_models(struct api_ctx *c);
/* /tasks: workflow tasks (tasks.h), provider admins only. */
void api_tasks(struct api_ctx *c);
void api_quotas(struct api_ctx *c);
/* /users and PUT /desktops/ID/users (api_users.c). */
void api_users(struct api_ctx *c);
void api_desktop_users(struct api_ctx *c);
void api_desktops(struct api_ctx *c);
void api_jobs(struct api_ctx *c);
void api_usage(struct api_ctx *c);
/* GET /v1/usage/history (api_usage_hist.c). */
void api_usage_history(struct api_ctx *c);
/* GET/PUT /v1/rates, GET /v1/rates/history (rates_api.c), GET /v1/chargeback (chargeback.c). */
void api_rates(struct api_ctx *c);
void api_chargeback(struct api_ctx *c);
void api_audit(struct api_ctx *c);
void api_stats(struct api_ctx *c);
/* POST /v1/login (no auth), GET /v1/session, POST /v1/logout (login.c). */
void api_login(struct api_ctx *c);
void api_session(struct api_ctx *c);
void api_logout(struct api_ctx *c);
/* Whether bearer is a known token: true with *who and the token file's generation *gen. */
bool api_who_is(const char *bearer, struct mgr_token *who, uint64_t *gen);
/* Audits a login: c->who whom it logged in, NULL if it failed. */
void api_audit_login(struct api_ctx *c);
/* The "login" object of GET /v1/stats. */
json_t *api_login_stats(void);
/* GET/PUT /v1/log (provider admins, api_log.c): the log's level and output at run time. */
void api_log(struct api_ctx *c);
/* GET /metrics (provider admins, metrics.c): the state and counters in Prometheus' text format. */
void api_metrics(struct api_ctx *c);
/* Writes the summary row of unauthenticated requests once its interval is over (or now). */
void api_audit_flush(bool force);
void api_reconcile(struct api_ctx *c);
/* The roaming desktop and base images (api_roam.c). */
void api_desktop_connect(struct api_ctx *c, uint32_t id);
void api_desktop_migrate(struct api_ctx *c, uint32_t id);
void api_images(struct api_ctx *c);
void api_sites_from(struct api_ctx *c, const char *from);
/* POST /v1/desktops/ID/console (a ticket) and GET /v1/console/TICKET (the WebSocket):
 * console.c. */
void api_desktop_console(struct api_ctx *c, uint32_t id);
void api_console(struct api_ctx *c);

#endif
