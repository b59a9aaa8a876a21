/* SPDX-License-Identifier: BSD-3-Clause */
#include "usage_alloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mgr.h"
#include "tlog.h"
#include "usage_hist.h"

/* A former size of a quota or partition, with when it had it (usage_alloc_owe_locked). */
struct owed {
	uint32_t tenant_id;
	char tenant[MGR_NAME_LEN]; /* its tenant may be gone by the pass; "": unknown */
	struct usage_held held;
	int64_t since, end;
};
#define MAX_OWED 65536

static struct owed *owed; /* mgr.lock */
static uint32_t n_owed, max_owed;
static uint64_t owed_lost;

/* Room for one more (doubling: an owe is under mgr.lock): false when out of it. */
static bool owed_room(void)
{
	uint32_t max = max_owed ? 2 * max_owed : 64;
	struct owed *o;

	if (n_owed < max_owed)
		return true;
	if (n_owed >= MAX_OWED || (o = realloc(owed, max * sizeof(*owed))) == NULL)
		return false;
	owed = o;
	max_owed = max;
	return true;
}

void usage_alloc_owe_locked(uint32_t tenant_id, struct usage_held h, int64_t since, int64_t end)
{
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, tenant_id);
	struct owed *o;

	if ((h.vcpus == 0 && h.mem_mib == 0 && h.pcpus == 0) || since >= end)
		return;
	if (!owed_room()) {
		if (owed_lost++ % 1024 == 0)
			tlog(LOG_ERR, NULL,
			     "usage history: a former size of a quota or partition of tenant %u "
			     "is lost (%llu so far): too many changed since the last pass",
			     tenant_id, (unsigned long long)owed_lost);
		return;
	}
	o = &owed[n_owed++];
	*o = (struct owed){ .tenant_id = tenant_id, .held = h, .since = since, .end = end };
	snprintf(o->tenant, sizeof(o->tenant), "%s", t ? t->spec.name : "");
}

void usage_alloc_resized_locked(uint32_t tenant_id, struct usage_held had, int64_t *since)
{
	int64_t now = time(NULL);

	usage_alloc_owe_locked(tenant_id, had, *since, now);
	*since = now;
}

void usage_alloc_settle(int64_t now)
{
	uint32_t k = 0;

	pthread_mutex_lock(&mgr.lock);
	/* Each is counted up to now: by the pass if it took it, as its live quota or slice if
	 * it came after the copy. Not again if the wall clock steps back. */
	for (uint32_t i = 0; i < n_owed; i++) {
		if (owed[i].end <= now)
			continue;
		owed[k] = owed[i];
		if (owed[k].since < now)
			owed[k].since = now;
		k++;
	}
	n_owed = k;
	pthread_mutex_unlock(&mgr.lock);
}

void usage_alloc_forget(void)
{
	pthread_mutex_lock(&mgr.lock);
	free(owed);
	owed = NULL;
	n_owed = max_owed = 0;
	pthread_mutex_unlock(&mgr.lock);
}

/* The seconds of [since, end) in [from, now). */
static uint64_t held_s(int64_t since, int64_t end, int64_t now, int64_t from)
{
	int64_t a = since > from ? since : from, b = end < now ? end : now;

	return a < b ? (uint64_t)(b - a) : 0;
}

static void add_held(struct usage_alloc *x, const struct usage_held *h, uint64_t secs)
{
	x->vcpu_s += h->vcpus * secs;
	x->mem_mib_s += h->mem_mib * secs;
	x->pcpu_s += h->pcpus * secs;
}

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

/* The row of tenant_id among the n tenants sorted by id, or the deleted ones after them
 * (k in all, one added if new). */
static struct usage_alloc *row_of(struct usage_alloc *a, uint32_t n, uint32_t *k,
				  const struct owed *o)
{
	struct usage_alloc *x = find(a, n, o->tenant_id);

	for (uint32_t i = n; x == NULL && i < *k; i++)
		if (a[i].tenant_id == o->tenant_id)
			x = &a[i];
	if (x == NULL) {
		x = &a[(*k)++];
		x->tenant_id = o->tenant_id;
		snprintf(x->tenant, sizeof(x->tenant), "%s", o->tenant);
	}
	return x;
}

struct usage_alloc *usage_alloc_copy_locked(uint32_t *n, int64_t now, int64_t from)
{
	struct usage_alloc *a = calloc(mgr.n_tenants + n_owed + 1, sizeof(*a));
	uint32_t k = 0, all = mgr.n_tenants;

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
		const struct mgr_quota *q = &mgr.quotas[i];
		struct usage_alloc *x = find(a, mgr.n_tenants, q->tenant_id);
		struct usage_held h = usage_quota_held(&q->spec);
		if (x)
			add_held(x, &h, held_s(q->since, now, now, from));
	}
	for (uint32_t i = 0; i < mgr.n_hosts; i++)
		for (uint32_t s = 0; s < mgr.hosts[i]->n_slices; s++) {
			const struct mgr_slice *sl = &mgr.hosts[i]->slices[s];
			struct usage_alloc *x = find(a, mgr.n_tenants, sl->tenant_id);
			if (x)
				add_held(x,
					 &(struct usage_held){
						 .pcpus = mgr_cpuset_count(&sl->cpus) },
					 held_s(sl->since, now, now, from));
		}
	for (uint32_t i = 0; i < n_owed; i++)
		add_held(row_of(a, mgr.n_tenants, &all, &owed[i]), &owed[i].held,
			 held_s(owed[i].since, owed[i].end, now, from));
	for (uint32_t i = 0; i < all; i++)
		if (a[i].vcpu_s || a[i].mem_mib_s || a[i].pcpu_s)
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
		sqlite3_bind_int64(row, 4, (int64_t)a[i].vcpu_s);
		sqlite3_bind_int64(row, 5, (int64_t)a[i].mem_mib_s);
		sqlite3_bind_int64(row, 6, (int64_t)a[i].pcpu_s);
		if (sqlite3_step(row) != SQLITE_DONE ||
		    (a[i].tenant[0] && /* not an unknown one's name over a known one */
		     usage_tenant_name_put(db, &name, a[i].tenant_id, a[i].tenant) < 0))
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
