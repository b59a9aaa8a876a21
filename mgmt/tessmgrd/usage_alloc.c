/* SPDX-License-Identifier: BSD-3-Clause */
#include "usage_alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgr.h"
#include "usage_hist.h"

static int cmp_id(const void *a, const void *b)
{
	const struct usage_alloc *x = a, *y = b;
	return x->tenant_id < y->tenant_id ? -1 : x->tenant_id > y->tenant_id;
}

static struct usage_alloc *find(struct usage_alloc *a, uint32_t n, uint32_t tenant_id)
{
	struct usage_alloc key = { .tenant_id = tenant_id };

	return bsearch(&key, a, n, sizeof(*a), cmp_id);
}

struct usage_alloc *usage_alloc_copy_locked(uint32_t *n)
{
	struct usage_alloc *a = calloc(mgr.n_tenants + 1, sizeof(*a));
	uint32_t k = 0;

	*n = 0;
	if (a == NULL)
		return NULL;
	for (uint32_t i = 0; i < mgr.n_tenants; i++) {
		a[i].tenant_id = mgr.tenants[i].id;
		snprintf(a[i].tenant, sizeof(a[i].tenant), "%s", mgr.tenants[i].spec.name);
	}
	/* By id: quotas and slices find their tenant in log time. */
	qsort(a, mgr.n_tenants, sizeof(*a), cmp_id);
	for (uint32_t i = 0; i < mgr.n_quotas; i++) {
		struct usage_alloc *x = find(a, mgr.n_tenants, mgr.quotas[i].tenant_id);
		if (x) {
			x->vcpus += mgr.quotas[i].spec.max_cpus;
			x->mem_mib += mgr.quotas[i].spec.max_memory_mb;
		}
	}
	for (uint32_t i = 0; i < mgr.n_hosts; i++)
		for (uint32_t s = 0; s < mgr.hosts[i]->n_slices; s++) {
			const struct mgr_slice *sl = &mgr.hosts[i]->slices[s];
			struct usage_alloc *x = find(a, mgr.n_tenants, sl->tenant_id);
			if (x)
				x->pcpus += mgr_cpuset_count(&sl->cpus);
		}
	for (uint32_t i = 0; i < mgr.n_tenants; i++)
		if (a[i].vcpus || a[i].mem_mib || a[i].pcpus)
			a[k++] = a[i];
	*n = k;
	return a;
}

int usage_alloc_write(sqlite3 *db, const struct usage_alloc *a, uint32_t n, int64_t now,
		      int64_t from)
{
	sqlite3_stmt *row = NULL, *name = NULL;
	int64_t secs = now - from;
	int rc = -EIO;

	if (n == 0 || secs <= 0)
		return 0;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_prepare_v2(db,
			       /* Adding, as the desktops' rows: after the wall clock stepped
				* back, an interval can start where an earlier one did. */
			       "INSERT INTO usage_alloc (step, t, tenant_id, secs, vcpu_s, "
			       "  mem_mib_s, pcpu_s) VALUES (0, ?, ?, ?, ?, ?, ?) "
			       "ON CONFLICT (step, t, tenant_id) DO UPDATE SET "
			       "  secs = secs + excluded.secs, vcpu_s = vcpu_s + excluded.vcpu_s, "
			       "  mem_mib_s = mem_mib_s + excluded.mem_mib_s, "
			       "  pcpu_s = pcpu_s + excluded.pcpu_s",
			       -1, &row, NULL) != SQLITE_OK)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		sqlite3_bind_int64(row, 1, from);
		sqlite3_bind_int64(row, 2, a[i].tenant_id);
		sqlite3_bind_int64(row, 3, secs);
		sqlite3_bind_int64(row, 4, (int64_t)a[i].vcpus * secs);
		sqlite3_bind_int64(row, 5, (int64_t)a[i].mem_mib * secs);
		sqlite3_bind_int64(row, 6, (int64_t)a[i].pcpus * secs);
		if (sqlite3_step(row) != SQLITE_DONE ||
		    usage_tenant_name_put(db, &name, a[i].tenant_id, a[i].tenant) < 0)
			goto out;
		sqlite3_reset(row);
	}
	rc = 0;
out:
	rc = usage_tx_end(db, rc, "the tenants' allocations");
	sqlite3_finalize(row);
	sqlite3_finalize(name);
	return rc;
}

int usage_alloc_sums(sqlite3 *db, int64_t from, int64_t to, int64_t tenant_id,
		     struct usage_alloc_sum **out, uint32_t *n)
{
	struct usage_alloc_sum *s = NULL, *grown;
	sqlite3_stmt *st;
	uint32_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (usage_tenant_sums_prepare(db, "usage_alloc",
				      "SUM(u.secs), SUM(u.vcpu_s), SUM(u.mem_mib_s), SUM(u.pcpu_s)",
				      from, to, tenant_id, &st) < 0)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((grown = realloc(s, (k + 1) * sizeof(*s))) == NULL)
			break;
		s = grown;
		s[k] = (struct usage_alloc_sum){ .tenant_id = sqlite3_column_int64(st, 0),
						 .period = sqlite3_column_int64(st, 1),
						 .secs = sqlite3_column_int64(st, 3),
						 .vcpu_s = sqlite3_column_int64(st, 4),
						 .mem_mib_s = sqlite3_column_int64(st, 5),
						 .pcpu_s = sqlite3_column_int64(st, 6) };
		snprintf(s[k].tenant, sizeof(s[k].tenant), "%s",
			 (const char *)sqlite3_column_text(st, 2));
		k++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(s);
		return -EIO;
	}
	*out = s;
	*n = k;
	return 0;
}
