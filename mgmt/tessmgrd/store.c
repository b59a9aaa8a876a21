/* SPDX-License-Identifier: BSD-3-Clause */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <sqlite3.h>
#include <time.h>

#include "http.h"
#include "mgr.h"
#include "tessd_config.h"

static sqlite3 *db;
static unsigned depth; /* nested begin/commit */
/*
 * Audit queries read through a connection of their own, under a lock of their
 * own: in WAL mode they see the last commit without holding mgr.lock, so a
 * long query holds up other audit queries only (review 1.6).
 */
static sqlite3 *rdb;
static pthread_mutex_t rdb_lock = PTHREAD_MUTEX_INITIALIZER;

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS objects (kind INTEGER NOT NULL, id INTEGER NOT NULL, "
	"  name TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id));"
	"CREATE TABLE IF NOT EXISTS quotas (tenant_id INTEGER NOT NULL, model_id INTEGER NOT NULL,"
	"  body TEXT NOT NULL, host_ids TEXT NOT NULL, PRIMARY KEY (tenant_id, model_id));"
	"CREATE TABLE IF NOT EXISTS desktops (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS images (name TEXT NOT NULL, site_id INTEGER NOT NULL,"
	"  version TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (name, site_id, version));"
	"CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  time INTEGER NOT NULL, principal TEXT NOT NULL, role TEXT NOT NULL,"
	"  tenant TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,"
	"  result TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS audit_tenant ON audit (tenant, id);"
	"CREATE INDEX IF NOT EXISTS audit_action ON audit (action, id);"
	/*
	 * Usage history (usage_hist.h): a row per desktop and interval starting at t
	 * (step 0 raw samples, 1 hours, 2 days); cpu_ns NULL where unknown, and
	 * cpu_unknown_s the seconds of the row whose CPU time cpu_ns lacks (a sum of
	 * samples some of which were unknown is partial, not whole). Keyed by step and
	 * time first: downsampling and time-range queries are range scans.
	 * usage_desktops keeps the names of desktops deleted since.
	 */
	"CREATE TABLE IF NOT EXISTS usage (step INTEGER NOT NULL, t INTEGER NOT NULL,"
	"  tenant_id INTEGER NOT NULL, desktop_id INTEGER NOT NULL, secs INTEGER NOT NULL,"
	"  vcpu_s INTEGER NOT NULL, mem_mib_s INTEGER NOT NULL, run_s INTEGER NOT NULL,"
	"  cpu_ns INTEGER, cpu_unknown_s INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (step, t, tenant_id, desktop_id)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS usage_desktops (desktop_id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL, tenant TEXT NOT NULL, name TEXT NOT NULL,"
	"  model TEXT NOT NULL);"
	/*
	 * Network bytes per tenant and interval (usage_net.h), steps as usage's;
	 * the counters last seen per PE router and tenant (a restarted tessmgrd
	 * bills only what came since), and the tenants' names.
	 */
	"CREATE TABLE IF NOT EXISTS usage_net (step INTEGER NOT NULL, t INTEGER NOT NULL,"
	"  tenant_id INTEGER NOT NULL, bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL,"
	"  PRIMARY KEY (step, t, tenant_id)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS usage_net_last (router TEXT NOT NULL,"
	"  tenant_id INTEGER NOT NULL, pid INTEGER NOT NULL, uptime INTEGER NOT NULL,"
	"  bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL,"
	"  PRIMARY KEY (router, tenant_id));"
	"CREATE TABLE IF NOT EXISTS usage_tenants (tenant_id INTEGER PRIMARY KEY,"
	"  tenant TEXT NOT NULL);"
	/* Tenants' allocations per interval (usage_alloc.h), steps as usage's. */
	"CREATE TABLE IF NOT EXISTS usage_alloc (step INTEGER NOT NULL, t INTEGER NOT NULL,"
	"  tenant_id INTEGER NOT NULL, secs INTEGER NOT NULL, vcpu_s INTEGER NOT NULL,"
	"  mem_mib_s INTEGER NOT NULL, pcpu_s INTEGER NOT NULL,"
	"  PRIMARY KEY (step, t, tenant_id)) WITHOUT ROWID;"
	/*
	 * The rates' history (rates_api.c): each PUT /v1/rates ends the open period
	 * (end_t NULL) and starts one. Rates a store kept in meta before there was a
	 * history are in force since the epoch.
	 */
	"CREATE TABLE IF NOT EXISTS rate_periods (start_t INTEGER PRIMARY KEY, end_t INTEGER,"
	"  rates TEXT NOT NULL);"
	"INSERT INTO rate_periods (start_t, end_t, rates) SELECT 0, NULL, value FROM meta "
	"  WHERE key = 'rates' AND NOT EXISTS (SELECT 1 FROM rate_periods);"
	/*
	 * The audit log is append-only: the database refuses anything else, but
	 * for the retention job, which deletes the oldest rows up to a mark in meta.
	 * The mark only grows and each move of it is itself an "audit prune" row
	 * (same transaction): a gap above the mark, or a mark without its prune
	 * row, shows tampering.
	 */
	"INSERT INTO meta (key, value) SELECT 'audit_pruned_through', '0' "
	"  WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'audit_pruned_through');"
	"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"DROP TRIGGER IF EXISTS audit_no_delete;" /* before 1.6: no delete at all */
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
	"  WHEN OLD.id > COALESCE((SELECT CAST(value AS INTEGER) FROM meta "
	"    WHERE key = 'audit_pruned_through'), 0) "
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS audit_mark_no_lower BEFORE UPDATE ON meta "
	"  WHEN OLD.key = 'audit_pruned_through' AND (NEW.key != OLD.key OR "
	"    CAST(NEW.value AS INTEGER) < CAST(OLD.value AS INTEGER)) "
	"  BEGIN SELECT RAISE(ABORT, 'the audit prune mark only grows'); END;"
	"CREATE TRIGGER IF NOT EXISTS audit_mark_no_delete BEFORE DELETE ON meta "
	"  WHEN OLD.key = 'audit_pruned_through' "
	"  BEGIN SELECT RAISE(ABORT, 'the audit prune mark only grows'); END;"
	"CREATE TRIGGER IF NOT EXISTS audit_mark_no_replace BEFORE INSERT ON meta "
	"  WHEN NEW.key = 'audit_pruned_through' AND "
	"    EXISTS (SELECT 1 FROM meta WHERE key = 'audit_pruned_through') "
	"  BEGIN SELECT RAISE(ABORT, 'the audit prune mark only grows'); END;";

/*
 * usage_net_last as first made (a start and a read time, wall clock, where
 * the tessd's uptime is now): dropped, so each router's next pass is a
 * baseline. 0, or -EIO.
 */
static int drop_old_net_last(sqlite3 *d)
{
	if (sqlite3_exec(d, "SELECT uptime FROM usage_net_last LIMIT 0", NULL, NULL, NULL) ==
	    SQLITE_OK)
		return 0;
	return sqlite3_exec(d, "DROP TABLE IF EXISTS usage_net_last", NULL, NULL, NULL) == SQLITE_OK
		       ? 0
		       : -EIO;
}

/*
 * A usage table made before cpu_unknown_s: the column added, a sample of unknown CPU time
 * unknown for all its seconds (a coarser row summed before cannot tell, and stays as it was).
 * 0, or -EIO.
 */
static int add_cpu_unknown(sqlite3 *d)
{
	if (sqlite3_exec(d, "SELECT cpu_unknown_s FROM usage LIMIT 0", NULL, NULL, NULL) ==
	    SQLITE_OK)
		return 0;
	if (sqlite3_exec(d,
			 "BEGIN IMMEDIATE; ALTER TABLE usage ADD COLUMN cpu_unknown_s INTEGER "
			 "  NOT NULL DEFAULT 0; "
			 "UPDATE usage SET cpu_unknown_s = secs WHERE cpu_ns IS NULL; COMMIT",
			 NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	sqlite3_exec(d, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

int mgr_store_open(const char *path, char *err, size_t len)
{
	char *msg = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, len, "cannot open the store %s: %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	/* WAL: readers never block the writer; NORMAL: durable across crashes of tessmgrd. */
	if (sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
			 "PRAGMA foreign_keys=ON;",
			 NULL, NULL, &msg) != SQLITE_OK ||
	    drop_old_net_last(db) < 0 ||
	    sqlite3_exec(db, schema_sql, NULL, NULL, &msg) != SQLITE_OK ||
	    add_cpu_unknown(db) < 0) {
		snprintf(err, len, "store %s: %s", path, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		mgr_store_close();
		return -EIO;
	}
	if (sqlite3_open_v2(path, &rdb, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, len, "cannot open the store %s for reading: %s", path,
			 rdb ? sqlite3_errmsg(rdb) : "out of memory");
		mgr_store_close();
		return -EIO;
	}
	sqlite3_busy_timeout(rdb, 5000);
	return 0;
}

struct sqlite3 *mgr_store_db(void)
{
	return db;
}

void mgr_store_close(void)
{
	sqlite3_close(rdb);
	rdb = NULL;
	sqlite3_close(db);
	db = NULL;
	depth = 0;
}

static int exec(const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

int mgr_store_begin(void)
{
	if (depth++)
		return 0;
	return exec("BEGIN IMMEDIATE");
}

int mgr_store_commit(void)
{
	if (depth == 0 || --depth)
		return 0;
	return exec("COMMIT");
}

void mgr_store_rollback(void)
{
	if (depth) {
		depth = 0;
		exec("ROLLBACK");
	}
}

static sqlite3_stmt *vprep(const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
					  SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
	}
	return st;
}

sqlite3_stmt *mgr_store_prep(const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	st = vprep(sql, fmt, ap);
	va_end(ap);
	return st;
}

/* Runs sql with text/int parameters given as a format of 't' and 'i'. */
static int run(const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	st = vprep(sql, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return -EIO;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int put_json(const char *sql, const char *fmt, int64_t a, int64_t b, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	json_decref(body);
	if (text == NULL)
		return -ENOMEM;
	rc = fmt[1] == 't' ? run(sql, fmt, a, text) : run(sql, fmt, a, b, text);
	free(text);
	return rc;
}

static int put_object(enum mgr_kind kind, uint32_t id, const char *name,
		      const struct cfg_node *schema, const void *spec)
{
	json_t *body = cfg_encode(schema, spec);
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	json_decref(body);
	if (text == NULL)
		return -ENOMEM;
	rc = run("INSERT OR REPLACE INTO objects (kind, id, name, body) VALUES (?, ?, ?, ?)",
		 "iitt", (int64_t)kind, (int64_t)id, name, text);
	free(text);
	return rc;
}

int mgr_store_put_site(const struct mgr_site *x)
{
	return put_object(MGR_SITE, x->id, x->spec.name, &mgr_site_schema, &x->spec);
}

int mgr_store_put_host(const struct mgr_host *x)
{
	return put_object(MGR_HOST, x->id, x->spec.name, &mgr_host_schema, &x->spec);
}

int mgr_store_put_tenant(const struct mgr_tenant *x)
{
	return put_object(MGR_TENANT, x->id, x->spec.name, &mgr_tenant_schema, &x->spec);
}

int mgr_store_put_model(const struct mgr_model *x)
{
	return put_object(MGR_MODEL, x->id, x->spec.name, &mgr_model_schema, &x->spec);
}

int mgr_store_put_task(const struct mgr_task *x)
{
	return put_object(MGR_TASK, x->id, x->spec.name, &mgr_task_schema, &x->spec);
}

int mgr_store_put_router(const struct mgr_router *x)
{
	return put_object(MGR_ROUTER, x->id, x->spec.name, &mgr_router_schema, &x->spec);
}

int mgr_store_del_object(enum mgr_kind kind, uint32_t id)
{
	return run("DELETE FROM objects WHERE kind = ? AND id = ?", "ii", (int64_t)kind,
		   (int64_t)id);
}

int mgr_store_put_quota(const struct mgr_quota *q)
{
	json_t *ids = json_array();
	char *text, *hosts;
	int rc;

	for (uint32_t i = 0; i < q->n_hosts; i++)
		json_array_append_new(ids, json_integer(q->host_ids[i]));
	hosts = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	ids = cfg_encode(&mgr_quota_schema, &q->spec);
	text = json_dumps(ids, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(ids);
	rc = text && hosts ? run("INSERT OR REPLACE INTO quotas (tenant_id, model_id, body, "
				 "host_ids) VALUES (?, ?, ?, ?)",
				 "iitt", (int64_t)q->tenant_id, (int64_t)q->model_id, text, hosts)
			   : -ENOMEM;
	free(text);
	free(hosts);
	return rc;
}

int mgr_store_del_quota(uint32_t tenant_id, uint32_t model_id)
{
	return run("DELETE FROM quotas WHERE tenant_id = ? AND model_id = ?", "ii",
		   (int64_t)tenant_id, (int64_t)model_id);
}

json_t *mgr_desktop_json(const struct mgr_desktop *d)
{
	char cpus[MGR_CPUSET_STRLEN];
	json_t *links, *o;

	/* Never store a cut list (review 1.3): the load would pin to other CPUs or refuse. */
	if (mgr_cpuset_format(&d->cpus, cpus, sizeof(cpus)) < 0)
		return NULL;
	links = json_array();
	for (uint8_t i = 0; i < d->n_links; i++)
		json_array_append_new(links, json_integer(d->link_sites[i]));
	o = json_pack("{s:I, s:s, s:I, s:I, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I}",
		      "id", (json_int_t)d->id, "name", d->name, "tenant_id",
		      (json_int_t)d->tenant_id, "model_id", (json_int_t)d->model_id, "host_id",
		      (json_int_t)d->host_id, "state", mgr_desktop_state_names[d->state],
		      "quota_us", (json_int_t)d->quota_us, "overlay", d->overlay, "port", d->port,
		      "vhost_socket", d->vhost_socket, "mac", d->mac, "uuid", d->uuid, "cpus", cpus,
		      "created", (json_int_t)d->created);
	if (o == NULL) {
		json_decref(links);
		return NULL;
	}
	if (d->domain[0])
		json_object_set_new(o, "domain", json_string(d->domain));
	char ip[16] = "";
	if (d->address)
		cfg_fmt_ip4(d->address, ip, sizeof(ip));
	json_object_set_new(o, "address", json_string(ip));
	json_object_set_new(o, "base", json_string(d->base));
	json_object_set_new(o, "base_version", json_string(d->base_version));
	json_object_set_new(o, "link_sites", links);
	return o;
}

static void copy_str(char *dst, size_t len, json_t *o, const char *key)
{
	snprintf(dst, len, "%s", json_string_value(json_object_get(o, key)) ?: "");
}

/* The loaders call this only with d checked (a && d && body): gcc 12's analyzer loses that
 * check once -O2 has merged the three tests, and reports d as possibly NULL. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-possible-null-argument"
static int desktop_from_json(json_t *o, struct mgr_desktop *d)
{
	const char *state = json_string_value(json_object_get(o, "state"));

	memset(d, 0, sizeof(*d));
	d->id = (uint32_t)json_integer_value(json_object_get(o, "id"));
	d->tenant_id = (uint32_t)json_integer_value(json_object_get(o, "tenant_id"));
	d->model_id = (uint32_t)json_integer_value(json_object_get(o, "model_id"));
	d->host_id = (uint32_t)json_integer_value(json_object_get(o, "host_id"));
	d->created = (time_t)json_integer_value(json_object_get(o, "created"));
	d->quota_us = (uint32_t)json_integer_value(json_object_get(o, "quota_us"));
	copy_str(d->name, sizeof(d->name), o, "name");
	copy_str(d->domain, sizeof(d->domain), o, "domain");
	copy_str(d->overlay, sizeof(d->overlay), o, "overlay");
	copy_str(d->port, sizeof(d->port), o, "port");
	copy_str(d->vhost_socket, sizeof(d->vhost_socket), o, "vhost_socket");
	copy_str(d->mac, sizeof(d->mac), o, "mac");
	copy_str(d->uuid, sizeof(d->uuid), o, "uuid");
	copy_str(d->base, sizeof(d->base), o, "base");
	copy_str(d->base_version, sizeof(d->base_version), o, "base_version");
	json_t *links = json_object_get(o, "link_sites"), *v;
	size_t i;
	json_array_foreach (links, i, v)
		if (d->n_links < MGR_MAX_LINKS)
			d->link_sites[d->n_links++] = (uint32_t)json_integer_value(v);
	for (uint8_t k = 0; state && k < MGR_DESK_STATES; k++)
		if (strcmp(state, mgr_desktop_state_names[k]) == 0)
			d->state = k;
	/* Desktops stored before addresses were given have none. A stored one was checked by its
	 * create job (a create that did not finish is undone). */
	const char *ip = json_string_value(json_object_get(o, "address"));
	if (ip && ip[0] && cfg_parse_ip4(ip, &d->address) < 0)
		return -EINVAL;
	d->address_checked = true;
	return d->id && mgr_cpuset_parse(json_string_value(json_object_get(o, "cpus")) ?: "",
					 MGR_MAX_CPUS, &d->cpus) == 0
		       ? 0
		       : -EINVAL;
}
#pragma GCC diagnostic pop

int mgr_store_put_desktop(const struct mgr_desktop *d)
{
	return put_json("INSERT OR REPLACE INTO desktops (id, body) VALUES (?, ?)", "it", d->id, 0,
			mgr_desktop_json(d));
}

int mgr_store_del_desktop(uint32_t id)
{
	return run("DELETE FROM desktops WHERE id = ?", "i", (int64_t)id);
}

int mgr_store_del_job(uint32_t id)
{
	return run("DELETE FROM jobs WHERE id = ?", "i", (int64_t)id);
}

/* The tasks' results without their output (the jobs list's: small, whatever they printed). */
static json_t *tasks_brief(const json_t *tasks)
{
	json_t *a = json_array(), *t;
	size_t i;

	json_array_foreach (tasks, i, t) {
		json_t *c = json_object();
		const char *k;
		json_t *v;
		json_object_foreach ((json_t *)t, k, v)
			if (strcmp(k, "output") != 0)
				json_object_set(c, k, v);
		json_array_append_new(a, c);
	}
	return a;
}

static json_t *job_json(const struct mgr_job *j, bool output)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:I, s:I, s:I, s:I}", "id",
			      (json_int_t)j->id, "kind", mgr_job_kind_names[j->kind], "state",
			      mgr_job_state_names[j->state], "priority",
			      j->priority ? "heavy" : "light", "desktop_id",
			      (json_int_t)j->desktop_id, "host_id", (json_int_t)j->host_id,
			      "tenant_id", (json_int_t)j->tenant_id, "error", j->error, "created",
			      (json_int_t)j->created, "started", (json_int_t)j->started, "finished",
			      (json_int_t)j->finished, "timeout_sec", (json_int_t)j->timeout_sec);

	if (o)
		json_object_set_new(
			o, "tasks",
			j->tasks ? (output ? json_deep_copy(j->tasks) : tasks_brief(j->tasks))
				 : json_array());
	if (o && j->step)
		json_object_set_new(o, "step", json_integer(j->step));
	if (o && j->kind == MGR_JOB_MIGRATE) {
		json_object_set_new(o, "target_host_id", json_integer(j->target_host_id));
		json_object_set_new(o, "live", json_boolean(j->live));
		json_object_set_new(o, "start", json_boolean(j->start));
		if (j->leftover_host_id) {
			json_object_set_new(o, "leftover_host_id",
					    json_integer(j->leftover_host_id));
			json_object_set_new(o, "leftover_uuid", json_string(j->leftover_uuid));
		}
	}
	return o;
}

json_t *mgr_job_json(const struct mgr_job *j)
{
	return job_json(j, true);
}

static uint8_t name_index(const char *s, const char *const *names, uint8_t n)
{
	for (uint8_t i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return 0;
}

/* load_job() checks j first (a == NULL || j == NULL || body == NULL); gcc 12's analyzer
 * loses the check once -O2 has merged the three tests. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-possible-null-argument"
static void job_from_json(json_t *o, struct mgr_job *j)
{
	memset(j, 0, sizeof(*j));
	j->id = (uint32_t)json_integer_value(json_object_get(o, "id"));
	j->kind = name_index(json_string_value(json_object_get(o, "kind")), mgr_job_kind_names,
			     MGR_JOB_KINDS);
	j->state =
		name_index(json_string_value(json_object_get(o, "state")), mgr_job_state_names, 4);
	j->priority = strcmp(json_string_value(json_object_get(o, "priority")) ?: "", "heavy") == 0;
	j->desktop_id = (uint32_t)json_integer_value(json_object_get(o, "desktop_id"));
	j->host_id = (uint32_t)json_integer_value(json_object_get(o, "host_id"));
	j->tenant_id = (uint32_t)json_integer_value(json_object_get(o, "tenant_id"));
	copy_str(j->error, sizeof(j->error), o, "error");
	j->created = (time_t)json_integer_value(json_object_get(o, "created"));
	j->started = (time_t)json_integer_value(json_object_get(o, "started"));
	j->finished = (time_t)json_integer_value(json_object_get(o, "finished"));
	j->timeout_sec = (uint32_t)json_integer_value(json_object_get(o, "timeout_sec"));
	j->target_host_id = (uint32_t)json_integer_value(json_object_get(o, "target_host_id"));
	j->live = json_is_true(json_object_get(o, "live"));
	j->start = json_is_true(json_object_get(o, "start"));
	j->step = (uint8_t)json_integer_value(json_object_get(o, "step"));
	j->leftover_host_id = (uint32_t)json_integer_value(json_object_get(o, "leftover_host_id"));
	copy_str(j->leftover_uuid, sizeof(j->leftover_uuid), o, "leftover_uuid");
	json_t *tasks = json_object_get(o, "tasks");
	j->tasks = json_is_array(tasks) && json_array_size(tasks) ? json_incref(tasks) : NULL;
}
#pragma GCC diagnostic pop

int mgr_store_put_job(const struct mgr_job *j)
{
	return put_json("INSERT OR REPLACE INTO jobs (id, body) VALUES (?, ?)", "it", j->id, 0,
			mgr_job_json(j));
}

void mgr_job_tenant_error(const struct mgr_job *j, char *buf, size_t len)
{
	if (j->error[0])
		snprintf(buf, len, "the %s failed: ask the provider about job %u",
			 mgr_job_kind_names[j->kind], j->id);
	else
		snprintf(buf, len, "%s", "");
}

static json_t *view(const struct mgr_job *j, bool provider, bool output)
{
	json_t *o = job_json(j, output);
	char why[128];

	if (o)
		json_object_del(o, "step"); /* the recovery's, not the API's */
	if (o && !provider) {
		/* The provider's clean-up, on the provider's machines. */
		json_object_del(o, "leftover_host_id");
		json_object_del(o, "leftover_uuid");
		mgr_job_tenant_error(j, why, sizeof(why));
		json_object_set_new(o, "error", json_string(why));
		/* The provider's programs speak of the provider's machines: a tenant sees which
		 * tasks ran and whether they were ok, not their exit codes or output. */
		json_t *t;
		size_t i;
		json_array_foreach (json_object_get(o, "tasks"), i, t) {
			json_object_del(t, "rc");
			json_object_del(t, "output");
			json_object_del(t, "error");
		}
	}
	return o;
}

json_t *mgr_job_view(const struct mgr_job *j, bool provider)
{
	return view(j, provider, true);
}

json_t *mgr_job_list_view(const struct mgr_job *j, bool provider)
{
	return view(j, provider, false);
}

json_t *mgr_image_json(const struct mgr_image *x)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I}", "name", x->name, "version",
			 x->version, "site_id", (json_int_t)x->site_id, "path", x->path, "size",
			 (json_int_t)x->size, "mtime", (json_int_t)x->mtime, "published",
			 (json_int_t)x->published);
}

int mgr_store_put_image(const struct mgr_image *x)
{
	json_t *body = mgr_image_json(x);
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	json_decref(body);
	rc = text ? run("INSERT OR REPLACE INTO images (name, site_id, version, body) "
			"VALUES (?, ?, ?, ?)",
			"titt", x->name, (int64_t)x->site_id, x->version, text)
		  : -ENOMEM;
	free(text);
	return rc;
}

int mgr_store_del_image(const struct mgr_image *x)
{
	return run("DELETE FROM images WHERE name = ? AND site_id = ? AND version = ?", "tit",
		   x->name, (int64_t)x->site_id, x->version);
}

int mgr_store_next_ids(const uint32_t *next, unsigned n)
{
	json_t *a = json_array();
	char *text;
	int rc;

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, json_integer(next[i]));
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	rc = text ? run("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_ids', ?)", "t",
			text)
		  : -ENOMEM;
	free(text);
	return rc;
}

static int64_t one_int(const char *sql, int64_t arg, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t v = dflt;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_bind_parameter_count(st))
		sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int mgr_store_rates_put(int64_t at, const char *rates, int64_t *start)
{
	/* A second PUT in the same second replaces the open period. One before its
	 * start (the wall clock stepped back) is refused: starting the period later
	 * would price the rows until then at the old rates, and starting it earlier
	 * would reprice rows already written. */
	int64_t latest = one_int("SELECT MAX(start_t) FROM rate_periods", 0, 0);

	if (at < latest) {
		*start = latest;
		return -EAGAIN;
	}
	*start = at;
	if (mgr_store_begin() < 0)
		return -EIO;
	if (run("UPDATE rate_periods SET end_t = ? WHERE end_t IS NULL AND start_t < ?", "ii",
		*start, *start) < 0 ||
	    run("INSERT OR REPLACE INTO rate_periods (start_t, end_t, rates) VALUES (?, NULL, ?)",
		"it", *start, rates) < 0 ||
	    mgr_store_commit() < 0) {
		mgr_store_rollback();
		return -EIO;
	}
	return 0;
}

char *mgr_store_rates_get(void)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(db, "SELECT rates FROM rate_periods WHERE end_t IS NULL", -1, &st,
			       NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static int insert_audit(const struct mgr_audit *a)
{
	char f[6][1024];
	const char *in[6] = { a->principal, a->role,   a->tenant ? a->tenant : "",
			      a->action,    a->target, a->result };

	for (int i = 0; i < 6; i++)
		http_utf8_escape(in[i], f[i], sizeof(f[i]));
	return run("INSERT INTO audit (time, principal, role, tenant, action, target, result) "
		   "VALUES (?, ?, ?, ?, ?, ?, ?)",
		   "itttttt", a->time, f[0], f[1], f[2], f[3], f[4], f[5]);
}

/*
 * The retention job, after each write: beyond audit.max_rows it prunes down
 * to nine tenths of it (one prune per tenth, not one per write), and rows
 * older than audit.max_age_days, oldest first, at most 10000 rows a time
 * (the lock is held). Ids only grow, so "the oldest" is a prefix of ids.
 */
static void audit_retain(int64_t now)
{
	int64_t mark = one_int("SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
			       "'audit_pruned_through'",
			       0, 0);
	int64_t last = one_int("SELECT max(id) FROM audit", 0, 0), cut = mark;
	const char *why = "";
	char target[64], result[128];

	if (last - mark > (int64_t)mgr_conf.audit.max_rows) {
		cut = last - (int64_t)mgr_conf.audit.max_rows * 9 / 10;
		why = "over audit.max_rows";
	}
	if (mgr_conf.audit.max_age_days) {
		/* The first row young enough: everything before it goes. */
		int64_t young =
			one_int("SELECT id FROM audit WHERE id > (SELECT CAST(value AS "
				"INTEGER) FROM meta WHERE key = 'audit_pruned_through') "
				"AND time >= ?1 ORDER BY id LIMIT 1",
				now - (int64_t)mgr_conf.audit.max_age_days * 86400, last + 1);
		if (young - 1 > cut) {
			cut = young - 1;
			why = "older than audit.max_age_days";
		}
	}
	if (cut > mark + 10000)
		cut = mark + 10000;
	if (cut <= mark)
		return;
	snprintf(target, sizeof(target), "ids through %lld", (long long)cut);
	if (mgr_store_begin() < 0 ||
	    run("UPDATE meta SET value = ? WHERE key = 'audit_pruned_through'", "i", cut) < 0 ||
	    run("DELETE FROM audit WHERE id <= ?", "i", cut) < 0) {
		mgr_store_rollback();
		return;
	}
	int64_t n = sqlite3_changes(db);
	snprintf(result, sizeof(result), "%lld rows pruned, %s", (long long)n, why);
	if (insert_audit(&(struct mgr_audit){ .time = now,
					      .principal = "tessmgrd",
					      .role = "-",
					      .tenant = "",
					      .action = "audit prune",
					      .target = target,
					      .result = result }) < 0 ||
	    mgr_store_commit() < 0) {
		mgr_store_rollback();
		return;
	}
	mgr_count(audit_pruned, (uint64_t)n);
}

int mgr_store_audit(const struct mgr_audit *a)
{
	int rc = insert_audit(a);

	if (rc == 0 && depth == 0)
		audit_retain(a->time);
	return rc;
}

/* A text column, its bytes that are not UTF-8 escaped (rows stored before escaping). */
static json_t *text_col(sqlite3_stmt *st, int i)
{
	char buf[1024];

	http_utf8_escape((const char *)sqlite3_column_text(st, i) ?: "", buf, sizeof(buf));
	return json_string(buf);
}

json_t *mgr_store_audit_query(const char *tenant, const char *action, int64_t since, unsigned limit)
{
	/* One statement per filter, so that SQLite takes the index of the filter given. */
	static const char *const sql[4] = {
		"SELECT id, time, principal, role, tenant, action, target, result FROM audit "
		"WHERE time >= ?3 ORDER BY id DESC LIMIT ?4",
		"SELECT id, time, principal, role, tenant, action, target, result FROM audit "
		"WHERE tenant = ?1 AND time >= ?3 ORDER BY id DESC LIMIT ?4",
		"SELECT id, time, principal, role, tenant, action, target, result FROM audit "
		"WHERE action = ?2 AND time >= ?3 ORDER BY id DESC LIMIT ?4",
		"SELECT id, time, principal, role, tenant, action, target, result FROM audit "
		"WHERE tenant = ?1 AND action = ?2 AND time >= ?3 ORDER BY id DESC LIMIT ?4",
	};
	static const char *const keys[8] = { "id",     "time",   "principal", "role",
					     "tenant", "action", "target",    "result" };
	sqlite3_stmt *st;
	json_t *out = json_array();
	int rc;

	pthread_mutex_lock(&rdb_lock);
	if (sqlite3_prepare_v2(rdb, sql[(tenant != NULL) + 2 * (action != NULL)], -1, &st, NULL) !=
	    SQLITE_OK) {
		pthread_mutex_unlock(&rdb_lock);
		json_decref(out);
		return NULL;
	}
	if (tenant)
		sqlite3_bind_text(st, 1, tenant, -1, SQLITE_TRANSIENT);
	if (action)
		sqlite3_bind_text(st, 2, action, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, since);
	sqlite3_bind_int64(st, 4, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < 8; i++)
			json_object_set_new(o, keys[i],
					    i < 2 ? json_integer(sqlite3_column_int64(st, i))
						  : text_col(st, i));
		json_array_append_new(out, o);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&rdb_lock);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* ---- loading ---- */

/*
 * The loaders grow arrays of s with realloc() and store heap pointers at
 * s->x[s->n_x]. gcc 12's analyzer drops such pointers when a later write
 * goes to a symbolic index (memset(&a[s->n_sites], ...), the next row) and
 * loses null checks that -O2 merged (a == NULL || h == NULL): it reports
 * leaks and NULL dereferences that are not there (all of it is freed at
 * shutdown, by mgr_fini()). Its two real finds here are fixed.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#pragma GCC diagnostic ignored "-Wanalyzer-possible-null-dereference"
/* Calls fn(kind, id, body) for every row of a two- or three-column query. */
static int each_row(const char *sql, int (*fn)(sqlite3_stmt *st, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
		rc = fn(st, arg);
	sqlite3_finalize(st);
	return rc;
}

struct load_ctx {
	struct mgr_state *s;
	char *err;
	size_t len;
};

static json_t *column_json(sqlite3_stmt *st, int col)
{
	return json_loads((const char *)sqlite3_column_text(st, col), 0, NULL);
}

static void *grow(void *arr, uint32_t n, size_t size)
{
	return realloc(arr, (n + 1) * size);
}

static int load_object(sqlite3_stmt *st, void *arg)
{
	struct load_ctx *c = arg;
	struct mgr_state *s = c->s;
	enum mgr_kind kind = (enum mgr_kind)sqlite3_column_int(st, 0);
	uint32_t id = (uint32_t)sqlite3_column_int64(st, 1);
	json_t *body = column_json(st, 2);
	struct cfg_errs errs;
	int rc = -EINVAL;

	cfg_errs_init(&errs);
	if (body == NULL)
		goto bad;
	switch (kind) {
	case MGR_SITE: {
		struct mgr_site *a = grow(s->sites, s->n_sites, sizeof(*a));
		if (a == NULL)
			break;
		s->sites = a;
		memset(&a[s->n_sites], 0, sizeof(*a));
		a[s->n_sites].id = id;
		rc = cfg_decode(&mgr_site_schema, body, &a[s->n_sites].spec, "", &errs);
		s->n_sites += rc == 0;
		break;
	}
	case MGR_HOST: {
		struct mgr_host **a = grow(s->hosts, s->n_hosts, sizeof(*a));
		struct mgr_host *h = calloc(1, sizeof(*h));
		if (a)
			s->hosts = a; /* moved by realloc: the old pointer is freed */
		if (a == NULL || h == NULL) {
			free(h);
			break;
		}
		h->id = id;
		/* Stores before ssh:// addresses named the key tessd_socket (a path): renamed
		 * here, and in the row at the host's next write. */
		json_t *old = json_object_get(body, "tessd_socket");
		if (old && !json_object_get(body, "tessd")) {
			json_object_set(body, "tessd", old);
			json_object_del(body, "tessd_socket");
		}
		rc = cfg_decode(&mgr_host_schema, body, &h->spec, "", &errs);
		if (rc == 0)
			a[s->n_hosts++] = h;
		else
			free(h);
		break;
	}
	case MGR_TENANT: {
		struct mgr_tenant *a = grow(s->tenants, s->n_tenants, sizeof(*a));
		if (a == NULL)
			break;
		s->tenants = a;
		memset(&a[s->n_tenants], 0, sizeof(*a));
		a[s->n_tenants].id = id;
		rc = cfg_decode(&mgr_tenant_schema, body, &a[s->n_tenants].spec, "", &errs);
		s->n_tenants += rc == 0;
		break;
	}
	case MGR_MODEL: {
		struct mgr_model *a = grow(s->models, s->n_models, sizeof(*a));
		if (a == NULL)
			break;
		s->models = a;
		memset(&a[s->n_models], 0, sizeof(*a));
		a[s->n_models].id = id;
		rc = cfg_decode(&mgr_model_schema, body, &a[s->n_models].spec, "", &errs);
		s->n_models += rc == 0;
		break;
	}
	case MGR_ROUTER: {
		struct mgr_router *a = grow(s->routers, s->n_routers, sizeof(*a));
		if (a == NULL)
			break;
		s->routers = a;
		memset(&a[s->n_routers], 0, sizeof(*a));
		a[s->n_routers].id = id;
		/* Routers stored before ssh:// addresses named it tessd_socket, as hosts did. */
		json_t *was = json_object_get(body, "tessd_socket");
		if (was && !json_object_get(body, "tessd")) {
			json_object_set(body, "tessd", was);
			json_object_del(body, "tessd_socket");
		}
		/* Routers stored before several trunks had one, trunk_port: the list of it. */
		json_t *one = json_object_get(body, "trunk_port");
		if (one && !json_object_get(body, "trunk_ports")) {
			json_object_set_new(body, "trunk_ports", json_pack("[O]", one));
			json_object_del(body, "trunk_port");
		}
		rc = cfg_decode(&mgr_router_schema, body, &a[s->n_routers].spec, "", &errs);
		s->n_routers += rc == 0;
		break;
	}
	case MGR_TASK: {
		struct mgr_task *a = grow(s->tasks, s->n_tasks, sizeof(*a));
		if (a == NULL)
			break;
		s->tasks = a;
		memset(&a[s->n_tasks], 0, sizeof(*a));
		a[s->n_tasks].id = id;
		rc = cfg_decode(&mgr_task_schema, body, &a[s->n_tasks].spec, "", &errs);
		s->n_tasks += rc == 0;
		break;
	}
	default:
		break;
	}
	json_decref(body);
	if (rc == 0)
		return 0;
bad:
	snprintf(c->err, c->len, "store: object %d/%u is damaged%s%s", (int)kind, id,
		 errs.n ? ": " : "", errs.n ? errs.e[0].msg : "");
	return -EINVAL;
}

static int load_quota(sqlite3_stmt *st, void *arg)
{
	struct load_ctx *c = arg;
	struct mgr_state *s = c->s;
	struct mgr_quota *a = grow(s->quotas, s->n_quotas, sizeof(*a)), *q;
	json_t *body = column_json(st, 2), *ids = column_json(st, 3), *v;
	struct cfg_errs errs;
	size_t i;

	cfg_errs_init(&errs);
	if (a == NULL) {
		json_decref(body);
		json_decref(ids);
		return -ENOMEM;
	}
	s->quotas = a;
	q = &a[s->n_quotas];
	memset(q, 0, sizeof(*q));
	q->tenant_id = (uint32_t)sqlite3_column_int64(st, 0);
	q->model_id = (uint32_t)sqlite3_column_int64(st, 1);
	if (body == NULL || cfg_decode(&mgr_quota_schema, body, &q->spec, "", &errs) < 0 ||
	    !json_is_array(ids)) {
		cfg_free(&mgr_quota_schema, &q->spec); /* decoded, but its host list is not */
		json_decref(body);
		json_decref(ids);
		snprintf(c->err, c->len, "store: quota %u/%u is damaged", q->tenant_id,
			 q->model_id);
		return -EINVAL;
	}
	q->host_ids = calloc(json_array_size(ids) + 1, sizeof(*q->host_ids));
	if (q->host_ids == NULL) {
		cfg_free(&mgr_quota_schema, &q->spec);
		json_decref(body);
		json_decref(ids);
		snprintf(c->err, c->len, "store: out of memory loading quota %u/%u", q->tenant_id,
			 q->model_id);
		return -ENOMEM;
	}
	json_array_foreach (ids, i, v)
		q->host_ids[q->n_hosts++] = (uint32_t)json_integer_value(v);
	json_decref(body);
	json_decref(ids);
	s->n_quotas++;
	return 0;
}

static int load_desktop(sqlite3_stmt *st, void *arg)
{
	struct load_ctx *c = arg;
	struct mgr_state *s = c->s;
	struct mgr_desktop **a = grow(s->desktops, s->n_desktops, sizeof(*a));
	struct mgr_desktop *d = calloc(1, sizeof(*d));
	json_t *body = column_json(st, 1);
	int rc = a && d && body ? desktop_from_json(body, d) : -ENOMEM;

	json_decref(body);
	if (a)
		s->desktops = a;
	if (rc < 0) {
		free(d);
		snprintf(c->err, c->len, "store: desktop %lld is damaged",
			 (long long)sqlite3_column_int64(st, 0));
		return rc;
	}
	a[s->n_desktops++] = d;
	return 0;
}

static int load_job(sqlite3_stmt *st, void *arg)
{
	struct load_ctx *c = arg;
	struct mgr_state *s = c->s;
	struct mgr_job **a = grow(s->jobs, s->n_jobs, sizeof(*a));
	struct mgr_job *j = calloc(1, sizeof(*j));
	json_t *body = column_json(st, 1);

	if (a)
		s->jobs = a;
	if (a == NULL || j == NULL || body == NULL) {
		free(j);
		json_decref(body);
		snprintf(c->err, c->len, "store: job %lld is damaged",
			 (long long)sqlite3_column_int64(st, 0));
		return -EINVAL;
	}
	job_from_json(body, j);
	json_decref(body);
	a[s->n_jobs++] = j;
	return 0;
}

static int load_image(sqlite3_stmt *st, void *arg)
{
	struct load_ctx *c = arg;
	struct mgr_state *s = c->s;
	struct mgr_image *a = grow(s->images, s->n_images, sizeof(*a)), *x;
	json_t *o = column_json(st, 0);

	if (a)
		s->images = a;
	if (a == NULL || o == NULL) {
		json_decref(o);
		snprintf(c->err, c->len, "store: an image copy is damaged");
		return -EINVAL;
	}
	x = &a[s->n_images];
	memset(x, 0, sizeof(*x));
	copy_str(x->name, sizeof(x->name), o, "name");
	copy_str(x->version, sizeof(x->version), o, "version");
	copy_str(x->path, sizeof(x->path), o, "path");
	x->site_id = (uint32_t)json_integer_value(json_object_get(o, "site_id"));
	x->size = json_integer_value(json_object_get(o, "size"));
	x->mtime = json_integer_value(json_object_get(o, "mtime"));
	x->published = json_integer_value(json_object_get(o, "published"));
	json_decref(o);
	s->n_images++;
	return 0;
}

static int load_meta(sqlite3_stmt *st, void *arg)
{
	struct load_ctx *c = arg;
	json_t *a = column_json(st, 1), *v;
	size_t i;

	json_array_foreach (a, i, v)
		if (i < sizeof(c->s->next_id) / sizeof(c->s->next_id[0]))
			c->s->next_id[i] = (uint32_t)json_integer_value(v);
	json_decref(a);
	return 0;
}

#pragma GCC diagnostic pop

static void raise_id(struct mgr_state *s, enum mgr_kind k, uint32_t id)
{
	if (id >= s->next_id[k])
		s->next_id[k] = id + 1;
}

/* next_ids can be behind the rows (lost, set back, or a store written before the adds were
 * one commit): the next add would reuse an id and overwrite that row (review 1.9). */
static void reconcile_next_ids(struct mgr_state *s)
{
	for (uint32_t i = 0; i < s->n_sites; i++)
		raise_id(s, MGR_SITE, s->sites[i].id);
	for (uint32_t i = 0; i < s->n_hosts; i++)
		raise_id(s, MGR_HOST, s->hosts[i]->id);
	for (uint32_t i = 0; i < s->n_tenants; i++)
		raise_id(s, MGR_TENANT, s->tenants[i].id);
	for (uint32_t i = 0; i < s->n_models; i++)
		raise_id(s, MGR_MODEL, s->models[i].id);
	for (uint32_t i = 0; i < s->n_routers; i++)
		raise_id(s, MGR_ROUTER, s->routers[i].id);
	for (uint32_t i = 0; i < s->n_tasks; i++)
		raise_id(s, MGR_TASK, s->tasks[i].id);
	for (uint32_t i = 0; i < s->n_desktops; i++)
		raise_id(s, MGR_DESKTOP, s->desktops[i]->id);
	for (uint32_t i = 0; i < s->n_jobs; i++)
		raise_id(s, MGR_JOB, s->jobs[i]->id);
}

int mgr_store_load(struct mgr_state *s, char *err, size_t len)
{
	struct load_ctx c = { s, err, len };
	int rc;

	snprintf(err, len, "store: cannot read: %s", sqlite3_errmsg(db));
	rc = each_row("SELECT kind, id, body FROM objects ORDER BY kind, id", load_object, &c);
	if (rc == 0)
		rc = each_row("SELECT tenant_id, model_id, body, host_ids FROM quotas", load_quota,
			      &c);
	if (rc == 0)
		rc = each_row("SELECT id, body FROM desktops ORDER BY id", load_desktop, &c);
	if (rc == 0)
		rc = each_row("SELECT id, body FROM jobs ORDER BY id", load_job, &c);
	if (rc == 0)
		rc = each_row("SELECT body FROM images ORDER BY name, site_id, version", load_image,
			      &c);
	if (rc == 0)
		rc = each_row("SELECT key, value FROM meta WHERE key = 'next_ids'", load_meta, &c);
	if (rc == 0)
		reconcile_next_ids(s);
	return rc;
}
