/* SPDX-License-Identifier: BSD-3-Clause */
#include "usage_hist.h"
#include "usage_net.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mgr.h"
#include "usage_alloc.h"
#include "ticker.h"
#include "virt.h"
#include "tlog.h"

const char *const usage_step_names[USAGE_STEPS] = { "raw", "hour", "day" };

static struct mgr_ticker ticker;
static sqlite3 *wdb; /* the sampler's connection (its thread only) */

int64_t usage_step_len(enum usage_step step)
{
	return step == USAGE_DAY ? 86400 : step == USAGE_HOUR ? 3600 : 1;
}

int64_t usage_bucket(int64_t t, enum usage_step step)
{
	return t - t % usage_step_len(step);
}

struct usage_cutoffs usage_cutoffs(int64_t now, const struct mgr_usage_cfg *c)
{
	return (struct usage_cutoffs){
		.raw_before = usage_bucket(now - (int64_t)c->raw_days * 86400, USAGE_HOUR),
		.hour_before = usage_bucket(now - (int64_t)c->hourly_days * 86400, USAGE_DAY),
		.day_before = usage_bucket(now - (int64_t)c->daily_days * 86400, USAGE_DAY),
	};
}

int usage_tx_end(sqlite3 *db, int rc, const char *what)
{
	if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	tlog(LOG_ERR, NULL, "usage history: cannot write %s: %s", what, sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

/* What the previous pass saw of a desktop (sorted by id); the sampler's thread only. */
struct prev {
	uint32_t id;
	bool running, cpu_ok;
	uint64_t cpu_ns;
};
static struct prev *prevs;
static uint32_t n_prevs;
static int64_t last_mono_ns; /* CLOCK_MONOTONIC the previous pass counted to (or the start) */

static const struct prev *prev_find(uint32_t id)
{
	uint32_t lo = 0, hi = n_prevs;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (prevs[mid].id == id)
			return &prevs[mid];
		if (prevs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * CPU time used over the interval, or -1 if unknown: the domain ran at the
 * last pass and its counter then is known (a lower counter now: it restarted
 * in the interval, all of it is new), or it was not running then (or did not
 * exist) and all of its counter is new. A desktop this process has not seen
 * before, older than the previous pass, has no baseline.
 */
static int64_t cpu_used(const struct usage_desk *c, const struct prev *p, int64_t from_pass)
{
	if (!c->running)
		return p && p->running ? -1 : 0;
	if (!c->cpu_ok)
		return -1;
	if (p == NULL)
		return c->created >= from_pass ? (int64_t)c->cpu_ns : -1;
	if (!p->running)
		return (int64_t)c->cpu_ns;
	if (!p->cpu_ok)
		return -1;
	return (int64_t)(c->cpu_ns >= p->cpu_ns ? c->cpu_ns - p->cpu_ns : c->cpu_ns);
}

static int cmp_cur(const void *a, const void *b)
{
	const struct usage_desk *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A pass's row of a desktop, worked out before the write transaction. */
struct pass_row {
	int64_t t, secs, cpu; /* cpu < 0: unknown */
	const struct usage_desk *c;
};

/* In the key's order (t, tenant, desktop): the write transaction appends along the b-tree. */
static int cmp_row(const void *a, const void *b)
{
	const struct pass_row *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->c->tenant_id != y->c->tenant_id)
		return x->c->tenant_id < y->c->tenant_id ? -1 : 1;
	return x->c->id < y->c->id ? -1 : x->c->id > y->c->id;
}

/* The rows of cs's desktops (those with something to count) into rows: how many. */
static uint32_t pass_rows(const struct usage_desk *cs, uint32_t n, int64_t now, int64_t from_pass,
			  struct pass_row *rows)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct usage_desk *c = &cs[i];
		/* Reserved from the later of the previous pass and its creation, to now or
		 * when it went. */
		int64_t from = c->created > from_pass ? c->created : from_pass;
		int64_t secs = (c->gone ? c->gone : now) - from;

		if (secs <= 0)
			continue; /* made after this pass read the clock */
		rows[k++] = (struct pass_row){ .t = from,
					       .secs = secs,
					       .cpu = cpu_used(c, prev_find(c->id), from_pass),
					       .c = c };
	}
	qsort(rows, k, sizeof(*rows), cmp_row);
	return k;
}

static int put_row(sqlite3_stmt *row, const struct pass_row *r)
{
	sqlite3_bind_int64(row, 1, r->t);
	sqlite3_bind_int64(row, 2, r->c->tenant_id);
	sqlite3_bind_int64(row, 3, r->c->id);
	sqlite3_bind_int64(row, 4, r->secs);
	sqlite3_bind_int64(row, 5, (int64_t)r->c->vcpus * r->secs);
	sqlite3_bind_int64(row, 6, (int64_t)r->c->mem_mib * r->secs);
	sqlite3_bind_int64(row, 7, r->c->running ? r->secs : 0);
	if (r->cpu < 0)
		sqlite3_bind_null(row, 8);
	else
		sqlite3_bind_int64(row, 8, r->cpu);
	sqlite3_bind_int64(row, 9, r->cpu < 0 ? r->secs : 0);
	if (sqlite3_step(row) != SQLITE_DONE)
		return -EIO;
	sqlite3_reset(row);
	return 0;
}

static int put_names(sqlite3_stmt *name, const struct usage_desk *c)
{
	sqlite3_bind_int64(name, 1, c->id);
	sqlite3_bind_int64(name, 2, c->tenant_id);
	sqlite3_bind_text(name, 3, c->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(name, 4, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(name, 5, c->model, -1, SQLITE_STATIC);
	if (sqlite3_step(name) != SQLITE_DONE)
		return -EIO;
	sqlite3_reset(name);
	return 0;
}

/*
 * Everything is worked out and prepared before the write transaction, which holds the store's
 * write lock (the API's writers wait for it under mgr.lock) for the inserts only; compaction
 * follows, a bucket per transaction.
 */
int usage_write_pass(sqlite3 *db, const struct usage_desk *cs, uint32_t n, int64_t now,
		     int64_t from_pass, const struct mgr_usage_cfg *cfg)
{
	sqlite3_stmt *row = NULL, *name = NULL;
	struct pass_row *rows = calloc(n + 1, sizeof(*rows));
	struct usage_compacted done;
	uint32_t k;
	int rc = -EIO;

	if (rows == NULL)
		return -ENOMEM;
	k = pass_rows(cs, n, now, from_pass, rows);
	if (sqlite3_prepare_v2(db,
			       /* Adding: after the wall clock stepped back, an interval
				* can start where an earlier one did. */
			       "INSERT INTO usage (step, t, tenant_id, desktop_id, "
			       "secs, vcpu_s, mem_mib_s, run_s, cpu_ns, cpu_unknown_s) "
			       "VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?, ?) " USAGE_ADD_SQL,
			       -1, &row, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO usage_desktops (desktop_id, tenant_id, "
			       "tenant, name, model) VALUES (?, ?, ?, ?, ?)",
			       -1, &name, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	/* Names first, even with nothing to count yet: a desktop goes into prevs, and the next
	 * pass writes names only for desktops not in prevs. */
	for (uint32_t i = 0; i < n; i++)
		if (prev_find(cs[i].id) == NULL && put_names(name, &cs[i]) < 0)
			goto out;
	for (uint32_t i = 0; i < k; i++)
		if (put_row(row, &rows[i]) < 0)
			goto out;
	rc = 0;
out:
	/* Not in a transaction (prepare or BEGIN failed): the ROLLBACK fails, harmless. */
	rc = usage_tx_end(db, rc, "a pass");
	sqlite3_finalize(row);
	sqlite3_finalize(name);
	free(rows);
	if (rc < 0)
		return rc;
	if (usage_compact(db, now, cfg, &done) < 0)
		tlog(LOG_ERR, NULL, "usage history: cannot downsample: %s (the next pass will)",
		     sqlite3_errmsg(db));
	if (done.raw_to_hour || done.hour_to_day || done.day_deleted)
		tlog(LOG_INFO, NULL,
		     "usage history: %lld raw rows summed into hours, %lld hourly into days, "
		     "%lld daily deleted (%lld write transactions)",
		     (long long)done.raw_to_hour, (long long)done.hour_to_day,
		     (long long)done.day_deleted, (long long)done.writes);
	return 0;
}

void usage_remember(const struct usage_desk *cs, uint32_t n)
{
	struct prev *np = calloc(n + 1, sizeof(*np));
	uint32_t k = 0;

	if (np == NULL)
		return; /* the old baseline stays: CPU time of this interval counted again */
	for (uint32_t i = 0; i < n; i++)
		if (!cs[i].gone)
			np[k++] = (struct prev){ .id = cs[i].id,
						 .running = cs[i].running,
						 .cpu_ok = cs[i].cpu_ok,
						 .cpu_ns = cs[i].cpu_ns };
	free(prevs);
	prevs = np;
	n_prevs = k;
}

/*
 * Desktops gone since the last pass (usage_desktop_gone_locked), under mgr.lock: a pass takes
 * them with the desktops and drops them once its rows are written. At most MAX_GONE wait (a
 * store that cannot be written for long): more are counted in gone_dropped and logged.
 */
#define MAX_GONE 65536
struct gone {
	struct usage_desk c;
	int64_t mono_ns; /* when it went, on the pass's clock */
};
static struct gone *gones;
static uint32_t n_gones;
static uint64_t gone_dropped;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A desktop's names and reservation into c, under mgr.lock: false if its model or tenant is
 * gone (nothing to count). */
static bool desk_copy_locked(const struct mgr_desktop *d, struct usage_desk *c)
{
	const struct mgr_model *m = mgr_model_get(&mgr, d->model_id);
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, d->tenant_id);

	if (m == NULL || t == NULL)
		return false;
	*c = (struct usage_desk){ .id = d->id,
				  .tenant_id = d->tenant_id,
				  .host_id = d->host_id,
				  .vcpus = m->spec.vcpus,
				  .mem_mib = m->spec.memory_mb,
				  .created = (int64_t)d->created,
				  .running = d->state == MGR_DESK_RUNNING && d->uuid[0] };
	snprintf(c->uuid, sizeof(c->uuid), "%s", d->uuid);
	snprintf(c->tenant, sizeof(c->tenant), "%s", t->spec.name);
	snprintf(c->name, sizeof(c->name), "%s", d->name);
	snprintf(c->model, sizeof(c->model), "%s", m->spec.name);
	return true;
}

void usage_desktop_gone_locked(const struct mgr_desktop *d, const struct usage_end *end)
{
	struct gone *g;

	if (n_gones >= MAX_GONE || (g = realloc(gones, (n_gones + 1) * sizeof(*gones))) == NULL) {
		if (gone_dropped++ % 1024 == 0)
			tlog(LOG_ERR, TLOG_F(.desktop = d->id),
			     "usage history: the last interval of desktop %u is lost (%llu so "
			     "far): "
			     "too many desktops gone since the last pass written",
			     d->id, (unsigned long long)gone_dropped);
		return;
	}
	gones = g;
	if (!desk_copy_locked(d, &g[n_gones].c))
		return;
	g[n_gones].c.running = end && end->running;
	g[n_gones].c.cpu_ok = end && end->cpu_ok;
	g[n_gones].c.cpu_ns = end ? end->cpu_ns : 0;
	g[n_gones].mono_ns = mono_ns();
	n_gones++;
}

void usage_forget(void)
{
	free(prevs);
	prevs = NULL;
	n_prevs = 0;
}

/* The gone desktops a pass takes (the first n_gones, under mgr.lock) into cs at n: each ends
 * when it went, placed on the pass's interval [from_pass, now) by the monotonic clock. */
static uint32_t gones_take_locked(struct usage_desk *cs, uint32_t n, int64_t mono, int64_t now,
				  int64_t from_pass)
{
	for (uint32_t i = 0; i < n_gones; i++) {
		int64_t ago = (mono - gones[i].mono_ns) / 1000000000;
		int64_t at = now - (ago > 0 ? ago : 0);
		cs[n + i] = gones[i].c;
		cs[n + i].gone = at > from_pass ? at : from_pass;
	}
	return n_gones;
}

/* Once a pass's rows are written: the first n gone desktops (those it took) are forgotten. */
static void gones_drop(uint32_t n)
{
	if (n == 0)
		return; /* gones may still be NULL: memmove must not see it */
	pthread_mutex_lock(&mgr.lock);
	memmove(gones, gones + n, (n_gones - n) * sizeof(*gones));
	n_gones -= n;
	pthread_mutex_unlock(&mgr.lock);
}

struct usage_span usage_pass_span(int64_t last_mono, int64_t mono, int64_t wall)
{
	int64_t elapsed = mono > last_mono ? (mono - last_mono) / 1000000000 : 0;
	int64_t end = last_mono + elapsed * 1000000000;
	/* The wall clock's time at end: a second boundary of it is the same for every pass. */
	int64_t to = (wall - (mono - end)) / 1000000000;

	return (struct usage_span){ .mono_end = end, .from = to - elapsed, .to = to };
}

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void mgr_usage_hist_sample(void)
{
	/*
	 * The interval is as long as the monotonic clock says, whatever the wall
	 * clock did meanwhile (an NTP step): the wall clock only places it (t),
	 * and no desktop counts more than its length.
	 */
	int64_t mono = mono_ns();
	struct usage_span sp = usage_pass_span(last_mono_ns, mono, wall_ns());
	int64_t now = sp.to, from_pass = sp.from;
	struct usage_desk *cs;
	struct usage_alloc *allocs;
	uint32_t n = 0, n_allocs = 0, n_gone = 0;

	if (now <= from_pass)
		return;
	pthread_mutex_lock(&mgr.lock);
	cs = calloc(mgr.n_desktops + n_gones + 1, sizeof(*cs));
	for (uint32_t i = 0; cs && i < mgr.n_desktops; i++)
		if (desk_copy_locked(mgr.desktops[i], &cs[n]))
			n++;
	if (cs)
		n_gone = gones_take_locked(cs, n, sp.mono_end, now, from_pass);
	allocs = usage_alloc_copy_locked(&n_allocs, now, from_pass);
	pthread_mutex_unlock(&mgr.lock);
	if (cs == NULL || allocs == NULL) {
		free(cs);
		free(allocs);
		return;
	}
	/* libvirt without the lock (the gone ones were read when they went). */
	for (uint32_t i = 0; i < n; i++)
		if (cs[i].running)
			cs[i].cpu_ok =
				mgr_virt_cpu_time(cs[i].host_id, cs[i].uuid, &cs[i].cpu_ns) == 0;
	n += n_gone;
	qsort(cs, n, sizeof(*cs), cmp_cur);
	/* The routers' tessds, without the lock too; written before the desktops' pass,
	 * whose compaction then takes these rows as well. */
	usage_net_sample(wdb, from_pass);
	if (usage_write_pass(wdb, cs, n, now, from_pass, &mgr_conf.usage) < 0) {
		free(cs);
		free(allocs);
		return; /* the next pass covers this interval too */
	}
	/*
	 * The tenants' allocations of the same interval, once it is counted for the
	 * desktops (the next pass starts after it): if they cannot be written, the
	 * interval's allocations are lost (logged), never counted twice.
	 */
	usage_alloc_write(wdb, allocs, n_allocs, now, from_pass);
	free(allocs);
	usage_alloc_settle(now);
	gones_drop(n_gone);
	usage_remember(cs, n);
	last_mono_ns = sp.mono_end; /* the rest of a second counts next time */
	free(cs);
}

int mgr_usage_hist_start(void)
{
	if (sqlite3_open_v2(mgr_conf.store, &wdb, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		tlog(LOG_ERR, NULL, "usage history: cannot open the store %s: %s", mgr_conf.store,
		     wdb ? sqlite3_errmsg(wdb) : "out of memory");
		sqlite3_close(wdb);
		wdb = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(wdb, 5000);
	last_mono_ns = mono_ns();
	return mgr_ticker_start(&ticker, &mgr_conf.usage.sample_sec, mgr_usage_hist_sample);
}

void mgr_usage_hist_stop(void)
{
	mgr_ticker_stop(&ticker);
	sqlite3_close(wdb);
	wdb = NULL;
	usage_forget();
	usage_alloc_forget();
	pthread_mutex_lock(&mgr.lock);
	free(gones);
	gones = NULL;
	n_gones = 0;
	pthread_mutex_unlock(&mgr.lock);
}

int usage_tenant_sums_prepare(sqlite3 *db, const char *table, const char *sums, int64_t from,
			      int64_t to, int64_t tenant_id, sqlite3_stmt **st)
{
	char sql[768];

	if ((size_t)snprintf(sql, sizeof(sql),
			     "SELECT u.tenant_id, IFNULL(p.start_t, -1), IFNULL(n.tenant, '?'), %s "
			     "FROM %s u LEFT JOIN usage_tenants n ON n.tenant_id = u.tenant_id "
			     /* By the rate period each row starts in (rate_hist.h). */
			     "LEFT JOIN rate_periods p ON u.t >= p.start_t "
			     "  AND (p.end_t IS NULL OR u.t < p.end_t) "
			     "WHERE u.step IN (0, 1, 2) AND u.t >= ?1 AND u.t < ?2 "
			     "  AND (?3 = 0 OR u.tenant_id = ?3) "
			     "GROUP BY u.tenant_id, p.start_t ORDER BY u.tenant_id, p.start_t",
			     sums, table) >= sizeof(sql) ||
	    sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(*st, 1, from);
	sqlite3_bind_int64(*st, 2, to);
	sqlite3_bind_int64(*st, 3, tenant_id);
	return 0;
}

int usage_tenant_name_put(sqlite3 *db, sqlite3_stmt **st, int64_t id, const char *name)
{
	int rc;

	if (*st == NULL &&
	    sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO usage_tenants (tenant_id, tenant) "
			       "VALUES (?, ?)",
			       -1, st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(*st, 1, id);
	sqlite3_bind_text(*st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(*st);
	sqlite3_reset(*st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}
