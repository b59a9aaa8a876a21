/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's store: SQLite in WAL mode. Objects are kept as the JSON their
 * schema encodes; desktops and jobs as JSON of their own; the audit log is
 * a table of its own, append-only but for its retention job. Every function
 * but mgr_store_audit_query is called with the state lock held, and shares
 * one connection; audit queries read through a second one (WAL), without it.
 */
#ifndef TESS_MGR_STORE_H
#define TESS_MGR_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "state.h"

struct mgr_audit {
	int64_t time;
	const char *principal, *role, *tenant, *action, *target, *result;
};

int mgr_store_open(const char *path, char *err, size_t len);
/* The connection, for the tables of a part of its own (users.c), under mgr.lock. */
struct sqlite3 *mgr_store_db(void);
/* A statement of it with its parameters bound (a format of 't' text, 'i' int64), or NULL. */
struct sqlite3_stmt *mgr_store_prep(const char *sql, const char *fmt, ...);
void mgr_store_close(void);
/* Loads every object into s (empty); -errno with err filled on a bad store. */
int mgr_store_load(struct mgr_state *s, char *err, size_t len);

/* A transaction around several writes; begin/commit nest as one. */
int mgr_store_begin(void);
int mgr_store_commit(void);
void mgr_store_rollback(void);

int mgr_store_put_site(const struct mgr_site *x);
int mgr_store_put_host(const struct mgr_host *x);
int mgr_store_put_tenant(const struct mgr_tenant *x);
int mgr_store_put_model(const struct mgr_model *x);
int mgr_store_put_router(const struct mgr_router *x);
int mgr_store_put_task(const struct mgr_task *x);
int mgr_store_del_object(enum mgr_kind kind, uint32_t id);
int mgr_store_put_quota(const struct mgr_quota *q);
int mgr_store_del_quota(uint32_t tenant_id, uint32_t model_id);
int mgr_store_put_desktop(const struct mgr_desktop *d);
int mgr_store_del_desktop(uint32_t id);
int mgr_store_put_job(const struct mgr_job *j);
int mgr_store_del_job(uint32_t id);
int mgr_store_put_image(const struct mgr_image *x);
int mgr_store_del_image(const struct mgr_image *x);
int mgr_store_next_ids(const uint32_t *next, unsigned n);
/*
 * The rates' history: rates (JSON) in force from at on, ending the open period
 * there; *start is the new period's (at; at equal to the open period's start
 * replaces it): 0, -EIO, or -EAGAIN if at is before the latest period's start
 * (*start: that start). The open period's rates (malloc()ed), NULL if none.
 */
int mgr_store_rates_put(int64_t at, const char *rates, int64_t *start);
char *mgr_store_rates_get(void);

/* Writes an audit row (bytes not UTF-8 as \\xNN), then prunes (audit.max_rows, max_age_days). */
int mgr_store_audit(const struct mgr_audit *a);
/*
 * Audit entries, newest first, filtered by tenant/action when not NULL, at most limit;
 * without mgr.lock (a connection of its own).
 */
json_t *mgr_store_audit_query(const char *tenant, const char *action, int64_t since,
			      unsigned limit);

/* Encodings shared with the API. */
json_t *mgr_desktop_json(const struct mgr_desktop *d);
json_t *mgr_job_json(const struct mgr_job *j);
/*
 * A failed job's error as a tenant reads it: general terms and the job's id, which the
 * provider finds in tessmgrd's log with the full text (libvirt's own words and host URIs,
 * the provider's infrastructure). "" for a job without one.
 */
void mgr_job_tenant_error(const struct mgr_job *j, char *buf, size_t len);
/* mgr_job_json for the API: a tenant's (!provider) with mgr_job_tenant_error's text, and its
 * tasks' results without their exit codes, output and errors. */
json_t *mgr_job_view(const struct mgr_job *j, bool provider);
/* mgr_job_view for GET /v1/jobs: its tasks' results without their output (GET /v1/jobs/ID has
 * it), so that a list of jobs.history jobs stays small and quick to make under the lock. */
json_t *mgr_job_list_view(const struct mgr_job *j, bool provider);
json_t *mgr_image_json(const struct mgr_image *x);

#endif
