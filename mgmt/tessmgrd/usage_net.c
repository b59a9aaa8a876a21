/* SPDX-License-Identifier: BSD-3-Clause */
#include "usage_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mgr.h"
#include "network_priv.h"
#include "tlog.h"
#include "usage_hist.h"
#include "vswitch.h"

int usage_net_delta(const struct usage_net_ctr *last, const struct usage_net_ctr *now, uint64_t *in,
		    uint64_t *out)
{
	bool restarted = now->pid != last->pid || now->uptime < last->uptime;

	/* One lower counter is a reset of both (stats.reset zeroes every counter): the
	 * other may have grown past its last value since. */
	if (restarted || now->in < last->in || now->out < last->out) {
		*in = now->in;
		*out = now->out;
		return 1;
	}
	*in = now->in - last->in;
	*out = now->out - last->out;
	return 0;
}

int usage_net_proc(const json_t *status, int64_t *pid, int64_t *uptime)
{
	const json_t *p = json_object_get(status, "pid"),
		     *u = json_object_get(status, "uptime_sec");

	if (!json_is_integer(p) || !json_is_integer(u) || json_integer_value(u) < 0)
		return -1;
	*pid = json_integer_value(p);
	*uptime = json_integer_value(u);
	return 0;
}

bool usage_net_same(const json_t *before, const json_t *after)
{
	int64_t p0, u0, p1, u1;

	return usage_net_proc(before, &p0, &u0) == 0 && usage_net_proc(after, &p1, &u1) == 0 &&
	       p0 == p1 && u1 >= u0;
}

/* The counters last seen of (router, tenant): 1, 0 when none, -EIO. */
static int last_get(sqlite3_stmt *st, const struct usage_net_look *l, struct usage_net_ctr *c)
{
	int rc;

	sqlite3_bind_text(st, 1, l->router, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, l->tenant_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*c = (struct usage_net_ctr){ .pid = sqlite3_column_int64(st, 0),
					     .uptime = sqlite3_column_int64(st, 1),
					     .in = (uint64_t)sqlite3_column_int64(st, 2),
					     .out = (uint64_t)sqlite3_column_int64(st, 3) };
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

/* Whether the store has any row of router (its tenant 0 marker at least): 1, 0, -EIO. */
static int router_known(sqlite3_stmt *st, const char *router)
{
	int rc;

	sqlite3_bind_text(st, 1, router, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

static int put_last(sqlite3_stmt *put, const char *router, int64_t tenant_id,
		    const struct usage_net_ctr *c)
{
	int rc;

	sqlite3_bind_text(put, 1, router, -1, SQLITE_STATIC);
	sqlite3_bind_int64(put, 2, tenant_id);
	sqlite3_bind_int64(put, 3, c->pid);
	sqlite3_bind_int64(put, 4, c->uptime);
	sqlite3_bind_int64(put, 5, (int64_t)c->in);
	sqlite3_bind_int64(put, 6, (int64_t)c->out);
	rc = sqlite3_step(put);
	sqlite3_reset(put);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Adds in, out to tenant_id's raw row at t. */
static int add_row(sqlite3_stmt *row, int64_t t, int64_t tenant_id, uint64_t in, uint64_t out)
{
	int rc;

	sqlite3_bind_int64(row, 1, t);
	sqlite3_bind_int64(row, 2, tenant_id);
	sqlite3_bind_int64(row, 3, (int64_t)in);
	sqlite3_bind_int64(row, 4, (int64_t)out);
	rc = sqlite3_step(row);
	sqlite3_reset(row);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int usage_net_write(sqlite3 *db, const char *const *routers, uint32_t n_routers,
		    const struct usage_net_look *ls, uint32_t n, int64_t t,
		    struct usage_net_written *w)
{
	sqlite3_stmt *get = NULL, *known = NULL, *del = NULL, *put = NULL, *row = NULL,
		     *name = NULL;
	const struct usage_net_ctr zero = { 0 };
	int rc = -EIO;

	*w = (struct usage_net_written){ 0 };
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_prepare_v2(db,
			       "SELECT pid, uptime, bytes_in, bytes_out FROM usage_net_last "
			       "WHERE router = ? AND tenant_id = ?",
			       -1, &get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT 1 FROM usage_net_last WHERE router = ? LIMIT 1", -1,
			       &known, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM usage_net_last WHERE router = ?", -1, &del, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO usage_net_last (router, tenant_id, pid, "
			       "uptime, bytes_in, bytes_out) VALUES (?, ?, ?, ?, ?, ?)",
			       -1, &put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO usage_net (step, t, tenant_id, bytes_in, bytes_out) "
			       "VALUES (0, ?, ?, ?, ?) ON CONFLICT (step, t, tenant_id) DO UPDATE "
			       "SET bytes_in = bytes_in + excluded.bytes_in, "
			       "  bytes_out = bytes_out + excluded.bytes_out",
			       -1, &row, NULL) != SQLITE_OK)
		goto out;
	/* The bytes, all read against the rows as they were before this pass. */
	for (uint32_t i = 0; i < n; i++) {
		const struct usage_net_look *l = &ls[i];
		struct usage_net_ctr last;
		uint64_t in = 0, out = 0;
		int had = last_get(get, l, &last), k = had ? 1 : router_known(known, l->router);

		if (had < 0 || k < 0)
			goto out;
		if (had)
			w->resets += (uint32_t)usage_net_delta(&last, &l->ctr, &in, &out);
		else if (k) { /* a new pair on a known router: its group made since, from 0 */
			in = l->ctr.in;
			out = l->ctr.out;
		}
		if (usage_tenant_name_put(db, &name, l->tenant_id, l->tenant) < 0)
			goto out;
		if (in == 0 && out == 0)
			continue;
		if (add_row(row, t, l->tenant_id, in, out) < 0)
			goto out;
		w->rows++;
	}
	/* The routers' rows: this answer's pairs alone, and the marker. */
	for (uint32_t i = 0; i < n_routers; i++) {
		sqlite3_bind_text(del, 1, routers[i], -1, SQLITE_STATIC);
		if (sqlite3_step(del) != SQLITE_DONE)
			goto out;
		sqlite3_reset(del);
		if (put_last(put, routers[i], 0, &zero) < 0)
			goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		if (put_last(put, ls[i].router, ls[i].tenant_id, &ls[i].ctr) < 0)
			goto out;
	rc = 0;
out:
	rc = usage_tx_end(db, rc, "the network bytes");
	sqlite3_finalize(get);
	sqlite3_finalize(known);
	sqlite3_finalize(del);
	sqlite3_finalize(put);
	sqlite3_finalize(row);
	sqlite3_finalize(name);
	return rc;
}

/*
 * The routers that serve some tenant and those tenants, copied under
 * mgr.lock: a router's looks are looks[first .. first + n), each with its
 * tenant's group name at the same index of groups.
 */
struct net_router {
	char name[MGR_NAME_LEN], tessd[MGR_URI_LEN];
	uint32_t first, n;
};
struct net_copy {
	struct net_router *rs;
	uint32_t n_rs;
	struct usage_net_look *looks;
	char (*groups)[MGR_NAME_LEN];
};

static void copy_free(struct net_copy *c)
{
	free(c->rs);
	free(c->looks);
	free(c->groups);
}

/* 0, or -ENOMEM (nothing copied). */
static int copy_locked(struct net_copy *c)
{
	uint32_t pairs = 0, k = 0;

	*c = (struct net_copy){ 0 };
	for (uint32_t i = 0; i < mgr.n_routers; i++)
		for (uint32_t j = 0; j < mgr.n_tenants; j++)
			pairs += net_serves(&mgr.tenants[j].spec, mgr.routers[i].spec.name);
	c->rs = calloc(mgr.n_routers + 1, sizeof(*c->rs));
	c->looks = calloc(pairs + 1, sizeof(*c->looks));
	c->groups = calloc(pairs + 1, sizeof(*c->groups));
	if (c->rs == NULL || c->looks == NULL || c->groups == NULL) {
		copy_free(c);
		*c = (struct net_copy){ 0 };
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < mgr.n_routers; i++) {
		const struct mgr_router *r = &mgr.routers[i];
		struct net_router *x = &c->rs[c->n_rs];

		snprintf(x->name, sizeof(x->name), "%s", r->spec.name);
		snprintf(x->tessd, sizeof(x->tessd), "%s", r->spec.tessd);
		x->first = k;
		for (uint32_t j = 0; j < mgr.n_tenants; j++) {
			const struct mgr_tenant *t = &mgr.tenants[j];
			if (!net_serves(&t->spec, r->spec.name))
				continue;
			snprintf(c->looks[k].router, MGR_NAME_LEN, "%s", r->spec.name);
			snprintf(c->looks[k].tenant, MGR_NAME_LEN, "%s", t->spec.name);
			c->looks[k].tenant_id = t->id;
			snprintf(c->groups[k], MGR_NAME_LEN, "%s", t->spec.vlan_name);
			k++;
		}
		x->n = k - x->first;
		c->n_rs += x->n > 0; /* a router that serves none is not asked */
	}
	return 0;
}

static bool json_u64(const json_t *o, const char *key, uint64_t *v)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return false;
	*v = (uint64_t)json_integer_value(j);
	return true;
}

/*
 * Asks r's tessd its process (status), its tenants' counters, then its
 * process again: a restart in between (another pid, a lower uptime) would
 * give another process's counters, so that router is left out of this pass
 * (unanswered), as one whose status lacks pid or uptime. Fills r's looks
 * with the tenants found there, moved to the front of r's range: how many,
 * or -1 when unanswered.
 */
static int router_ask(const struct net_router *r, struct usage_net_look *looks,
		      char (*groups)[MGR_NAME_LEN])
{
	json_t *before = NULL, *st = NULL, *after = NULL, *tenants;
	char err[256];
	int64_t pid, up;
	uint32_t found = 0;
	int rc = -1;

	if (mgr_tessd_call(r->tessd, "status", NULL, &before, err, sizeof(err)) < 0 ||
	    mgr_tessd_call(r->tessd, "stats.tenants", json_object(), &st, err, sizeof(err)) < 0 ||
	    mgr_tessd_call(r->tessd, "status", NULL, &after, err, sizeof(err)) < 0) {
		tlog(LOG_WARNING, NULL, "usage history: router %s: %s", r->name, err);
		goto out;
	}
	if (!usage_net_same(before, after) || usage_net_proc(before, &pid, &up) < 0) {
		tlog(LOG_WARNING, NULL,
		     "usage history: router %s: its tessd restarted while asked, or its status "
		     "has no pid or uptime_sec: left out of this pass",
		     r->name);
		goto out;
	}
	tenants = json_object_get(st, "tenants");
	for (uint32_t i = r->first; i < r->first + r->n; i++) {
		const json_t *g = json_object_get(
			json_object_get(json_object_get(tenants, looks[i].tenant), "groups"),
			groups[i]);
		struct usage_net_look l = looks[i];
		/* A tenant whose group is not there (yet): not in the answer. */
		if (!json_u64(g, "tx_bytes", &l.ctr.in) || !json_u64(g, "rx_bytes", &l.ctr.out))
			continue;
		l.ctr.pid = pid;
		l.ctr.uptime = up;
		looks[r->first + found++] = l;
	}
	rc = (int)found;
out:
	json_decref(before);
	json_decref(st);
	json_decref(after);
	return rc;
}

void usage_net_sample(sqlite3 *db, int64_t t)
{
	struct usage_net_written w;
	struct net_copy c;
	const char **answered;
	uint32_t n = 0, n_answered = 0;
	int rc;

	pthread_mutex_lock(&mgr.lock);
	rc = copy_locked(&c);
	pthread_mutex_unlock(&mgr.lock);
	if (rc < 0)
		return;
	answered = calloc(c.n_rs + 1, sizeof(*answered));
	if (answered == NULL) {
		copy_free(&c);
		return;
	}
	for (uint32_t i = 0; i < c.n_rs; i++) {
		int found = router_ask(&c.rs[i], c.looks, c.groups);
		if (found < 0) {
			mgr_count(usage_net_unanswered, 1);
			continue;
		}
		answered[n_answered++] = c.rs[i].name;
		/* The answered ones together at the front (n <= first: no overlap ahead). */
		memmove(c.looks + n, c.looks + c.rs[i].first, (size_t)found * sizeof(*c.looks));
		n += (uint32_t)found;
	}
	if (n_answered && usage_net_write(db, answered, n_answered, c.looks, n, t, &w) == 0 &&
	    w.resets) {
		mgr_count(usage_net_resets, w.resets);
		tlog(LOG_INFO, NULL,
		     "usage history: %u tenant counters restarted on their tessds (counted "
		     "from zero)",
		     w.resets);
	}
	free(answered);
	copy_free(&c);
}

int usage_net_sums(sqlite3 *db, int64_t from, int64_t to, int64_t tenant_id,
		   struct usage_net_sum **out, uint32_t *n)
{
	sqlite3_stmt *st;
	struct usage_net_sum *a = NULL, *grown;
	int rc;

	*out = NULL;
	*n = 0;
	if (usage_tenant_sums_prepare(db, "usage_net", "SUM(u.bytes_in), SUM(u.bytes_out)", from,
				      to, tenant_id, &st) < 0)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		grown = realloc(a, (*n + 1) * sizeof(*a));
		if (grown == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		a = grown;
		a[*n] = (struct usage_net_sum){
			.tenant_id = sqlite3_column_int64(st, 0),
			.period = sqlite3_column_int64(st, 1),
			.bytes_in = (uint64_t)sqlite3_column_int64(st, 3),
			.bytes_out = (uint64_t)sqlite3_column_int64(st, 4),
		};
		snprintf(a[*n].tenant, sizeof(a[*n].tenant), "%s",
			 (const char *)sqlite3_column_text(st, 2));
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(a);
		*n = 0;
		return -EIO;
	}
	*out = a;
	return 0;
}
