/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Usage history's downsampling and retention (usage_hist.h), one bucket at a
 * time. A bucket's sums are read first into a temporary table of the
 * sampler's own connection (the temp database: no lock on the store), then
 * one short write transaction adds them to the coarser step and deletes the
 * bucket's rows. The store's other writers (the API's, which wait under
 * mgr.lock) wait for one bucket's write at most, never for a pass's whole
 * compaction: after a restart, or a lowered raw_days, that is many buckets.
 * Only the sampler writes these tables, and rate periods start at their PUT
 * (never in the past of a cutoff): what is read is what is written.
 */
#include <errno.h>
#include <stdio.h>

#include "usage_hist.h"

/* A table's columns and how its rows sum and add up. */
struct table {
	const char *name, *cols, *sums, *group, *upsert;
};

/* clang-format off */
static const struct table tables[] = {
	{ "usage",
	  "step, t, tenant_id, desktop_id, secs, vcpu_s, mem_mib_s, run_s, cpu_ns, cpu_unknown_s",
	  "tenant_id, desktop_id, SUM(secs), SUM(vcpu_s), SUM(mem_mib_s), SUM(run_s), "
	  "SUM(cpu_ns), SUM(cpu_unknown_s)",
	  "tenant_id, desktop_id", USAGE_ADD_SQL },
	/* The tenants' network rows (usage_net.h). */
	{ "usage_net", "step, t, tenant_id, bytes_in, bytes_out",
	  "tenant_id, SUM(bytes_in), SUM(bytes_out)", "tenant_id",
	  "ON CONFLICT (step, t, tenant_id) DO UPDATE SET bytes_in = bytes_in + "
	  "excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out" },
	/* The tenants' allocation rows (usage_alloc.h). */
	{ "usage_alloc", "step, t, tenant_id, secs, vcpu_s, mem_mib_s, pcpu_s",
	  "tenant_id, SUM(secs), SUM(vcpu_s), SUM(mem_mib_s), SUM(pcpu_s)", "tenant_id",
	  "ON CONFLICT (step, t, tenant_id) DO UPDATE SET secs = secs + excluded.secs, "
	  "vcpu_s = vcpu_s + excluded.vcpu_s, mem_mib_s = mem_mib_s + excluded.mem_mib_s, "
	  "pcpu_s = pcpu_s + excluded.pcpu_s" },
};
/* clang-format on */

/* Runs sql with integer parameters p[0..n): the rows it changed, or -EIO. */
static int64_t run(sqlite3 *db, const char *sql, const int64_t *p, int n)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(st, i + 1, p[i]);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_changes64(db) : -EIO;
}

/* The start of the oldest row of step before before: 0, or 1 if none, or -EIO. */
static int oldest(sqlite3 *db, const struct table *tb, int step, int64_t before, int64_t *t)
{
	char sql[128];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT MIN(t) FROM main.%s WHERE step = ?1 AND t < ?2",
		 tb->name);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, step);
	sqlite3_bind_int64(st, 2, before);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*t = sqlite3_column_int64(st, 0);
	else
		rc = rc == SQLITE_ROW ? 1 : -EIO;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc;
}

/*
 * The rows of step - 1 in [b, e) summed into buckets of step (of length len) in the stage, read
 * without the write lock: each row's bucket is its start, or the start of the row's rate period
 * if that is later (a period that began inside the bucket: rows are priced at the rates in
 * force when they start, rate_hist.h, so a chargeback's answer is the same before and after).
 */
static int stage(sqlite3 *db, const struct table *tb, int step, int64_t len, int64_t b, int64_t e)
{
	char sql[1024];
	const int64_t p[] = { step, b, e, len };

	snprintf(sql, sizeof(sql), "DELETE FROM temp.stage_%s", tb->name);
	if (run(db, sql, NULL, 0) < 0)
		return -EIO;
	if ((size_t)snprintf(sql, sizeof(sql),
			     "INSERT INTO temp.stage_%s (%s) SELECT ?1, MAX(t - t %% ?4, "
			     "  IFNULL((SELECT MAX(p.start_t) FROM rate_periods p "
			     "  WHERE p.start_t <= t), 0)), %s FROM main.%s "
			     "WHERE step = ?1 - 1 AND t >= ?2 AND t < ?3 GROUP BY 2, %s",
			     tb->name, tb->cols, tb->sums, tb->name, tb->group) >= sizeof(sql))
		return -EIO;
	return run(db, sql, p, 4) < 0 ? -EIO : 0;
}

/* The stage added to step's buckets and the rows of step - 1 in [b, e) deleted, in one write
 * transaction: the rows deleted, or -EIO (rolled back). */
static int64_t move(sqlite3 *db, const struct table *tb, int step, int64_t b, int64_t e)
{
	char sql[1024];
	const int64_t p[] = { step - 1, b, e };
	int64_t n = -EIO;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	/* WHERE true: the upsert's ON is not taken for a join's. */
	if ((size_t)snprintf(sql, sizeof(sql),
			     "INSERT INTO main.%s (%s) SELECT %s FROM temp.stage_%s WHERE true %s",
			     tb->name, tb->cols, tb->cols, tb->name, tb->upsert) < sizeof(sql) &&
	    run(db, sql, NULL, 0) >= 0) {
		snprintf(sql, sizeof(sql),
			 "DELETE FROM main.%s WHERE step = ?1 AND t >= ?2 AND t < ?3", tb->name);
		n = run(db, sql, p, 3);
	}
	if (usage_tx_end(db, n < 0 ? -EIO : 0, "a downsampled bucket") < 0)
		return -EIO;
	return n;
}

/* Rows of step - 1 before cutoff (a bucket boundary) summed into step's buckets, a bucket at a
 * time; their count added to *moved. */
static int downsample(sqlite3 *db, const struct table *tb, int step, int64_t cutoff, int64_t *moved,
		      struct usage_compacted *out)
{
	int64_t len = usage_step_len((enum usage_step)step), t, n;
	int rc;

	while ((rc = oldest(db, tb, step - 1, cutoff, &t)) == 0) {
		int64_t b = usage_bucket(t, (enum usage_step)step);
		if (stage(db, tb, step, len, b, b + len) < 0 ||
		    (n = move(db, tb, step, b, b + len)) < 0)
			return -EIO;
		out->writes++;
		*moved += n;
		if (n == 0)
			return -EIO; /* the oldest row would be found again for ever */
	}
	return rc < 0 ? -EIO : 0;
}

/* Daily rows before cutoff deleted, a day per write transaction. */
static int expire(sqlite3 *db, const struct table *tb, int64_t cutoff, struct usage_compacted *out)
{
	char sql[128];
	int64_t t, n;
	int rc;

	snprintf(sql, sizeof(sql), "DELETE FROM main.%s WHERE step = ?1 AND t >= ?2 AND t < ?3",
		 tb->name);
	while ((rc = oldest(db, tb, USAGE_DAY, cutoff, &t)) == 0) {
		int64_t b = usage_bucket(t, USAGE_DAY), e = b + usage_step_len(USAGE_DAY);
		const int64_t p[] = { USAGE_DAY, b, e < cutoff ? e : cutoff };
		if ((n = run(db, sql, p, 3)) <= 0)
			return -EIO; /* autocommit: a write transaction of its own */
		out->writes++;
		out->day_deleted += n;
	}
	return rc < 0 ? -EIO : 0;
}

int usage_compact(sqlite3 *db, int64_t now, const struct mgr_usage_cfg *c,
		  struct usage_compacted *out)
{
	struct usage_cutoffs k = usage_cutoffs(now, c);
	char sql[256];

	*out = (struct usage_compacted){ 0 };
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		const struct table *tb = &tables[i];
		/* The stage: the table's columns, no key (a bucket's sums, one row each). */
		snprintf(sql, sizeof(sql),
			 "CREATE TEMP TABLE IF NOT EXISTS stage_%s AS SELECT %s FROM main.%s "
			 "WHERE 0",
			 tb->name, tb->cols, tb->name);
		/* Hours to days first: this pass's new hours are younger than hourly_days. */
		if (run(db, sql, NULL, 0) < 0 ||
		    downsample(db, tb, USAGE_DAY, k.hour_before, &out->hour_to_day, out) < 0 ||
		    downsample(db, tb, USAGE_HOUR, k.raw_before, &out->raw_to_hour, out) < 0 ||
		    expire(db, tb, k.day_before, out) < 0)
			return -EIO;
	}
	return 0;
}
