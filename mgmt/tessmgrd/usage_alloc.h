/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tenants' allocations in the usage history (issue 16 C, allocation mode):
 * each usage pass writes a row per tenant (table usage_alloc) for the
 * interval since the previous pass: the vCPUs and MiB its quotas allocate
 * to it (max_cpus, max_memory_mb, every model's summed) and the physical
 * CPUs its partitions hold on hosts (its slices' CPUs: whole cores on a
 * shared host, every CPU of a host it has alone), each for the seconds it
 * had each of its sizes: from its `since` at the size it has, and before
 * that at the sizes it was owed for (usage_alloc_resized_locked) as it
 * changed, grew, shrank or went. Downsampled and kept as the desktops' rows.
 */
#ifndef TESS_MGR_USAGE_ALLOC_H
#define TESS_MGR_USAGE_ALLOC_H

#include <sqlite3.h>
#include <stdint.h>

#include "model.h"
#include "spec.h"

/* A tenant's allocation over a pass's interval [from, now), as it copies it under the lock. */
struct usage_alloc {
	uint32_t tenant_id;
	char tenant[MGR_NAME_LEN];
	uint64_t vcpu_s, mem_mib_s, pcpu_s;
};

/* What a tenant holds at once: a quota's vCPUs and MiB, or a partition's physical CPUs. */
struct usage_held {
	uint64_t vcpus, mem_mib, pcpus;
};

/* What a quota of spec s holds. */
static inline struct usage_held usage_quota_held(const struct mgr_quota_spec *s)
{
	return (struct usage_held){ .vcpus = s->max_cpus, .mem_mib = s->max_memory_mb };
}

/*
 * tenant_id held h from since to end (wall seconds) and no longer does (mgr.lock held):
 * counted by the passes that cover that time. At most 65,536 wait; past that one is lost
 * (logged).
 */
void usage_alloc_owe_locked(uint32_t tenant_id, struct usage_held h, int64_t since, int64_t end);
/* A quota or partition of tenant_id held had from *since and changes or goes now
 * (mgr.lock held): owed, and its new size counts from now (*since). */
void usage_alloc_resized_locked(uint32_t tenant_id, struct usage_held had, int64_t *since);

/*
 * Every tenant's allocation for the interval [from, now) (mgr.lock held): a malloc()ed
 * array of *n, NULL when out of memory. Tenants with nothing allocated are left out;
 * a deleted tenant's owed quotas and partitions have a row.
 */
struct usage_alloc *usage_alloc_copy_locked(uint32_t *n, int64_t now, int64_t from);
/* Once a pass counted its interval, up to now (its rows written, or lost): what is owed up
 * to now is settled; the rest waits for the next pass. */
void usage_alloc_settle(int64_t now);
/* Drops what is owed (at stop). */
void usage_alloc_forget(void);

/*
 * The rows of the interval [from, now) on db and the tenants' names
 * (usage_tenants), in one transaction: 0, or -EIO (rolled back).
 */
int usage_alloc_write(sqlite3 *db, const struct usage_alloc *a, uint32_t n, int64_t now,
		      int64_t from);

/* A tenant's allocation over a time and a rate period (chargeback). */
struct usage_alloc_sum {
	int64_t tenant_id, period; /* the start of the rate period its rows start in; -1: none */
	char tenant[MGR_NAME_LEN];
	int64_t secs, vcpu_s, mem_mib_s, pcpu_s;
};
/*
 * The tenants' rows of every step starting in [from, to) on db (tenant_id 0:
 * every tenant), per tenant and rate period, by tenant and period: 0 with a
 * malloc()ed *out, or -EIO.
 */
int usage_alloc_sums(sqlite3 *db, int64_t from, int64_t to, int64_t tenant_id,
		     struct usage_alloc_sum **out, uint32_t *n);

#endif
