/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Usage history (issue 16 C): every usage.sample_sec a pass writes one raw
 * row per desktop (table usage, store.c) for the interval since the last
 * pass: vCPU-seconds and MiB-seconds reserved (every placed desktop holds
 * its model's reservation), seconds running, and CPU time used where libvirt
 * reports it (cpu_unknown_s: the seconds whose CPU time it lacks, summed with
 * the rows, so that a sum with unknown parts says it is partial). The same pass, in the same
 * transaction, sums raw rows older than raw_days into hourly rows, hourly rows older than
 * hourly_days into daily rows, and deletes daily rows older than daily_days. Rows start at t (UTC);
 * a sample belongs to the hour and day it starts in (the tenants' network rows, usage_net.h, and
 * allocation rows, usage_alloc.h, alike). The state lock is held only to copy the desktops, never
 * across libvirt or SQLite; the pass writes through a connection of its own (WAL), as queries read.
 */
#ifndef TESS_MGR_USAGE_HIST_H
#define TESS_MGR_USAGE_HIST_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "mgr_config.h"
#include "spec.h"

enum usage_step { USAGE_RAW, USAGE_HOUR, USAGE_DAY, USAGE_STEPS };

/* "raw", "hour", "day" (indexes of enum usage_step). */
extern const char *const usage_step_names[USAGE_STEPS];

/* The length of a step's buckets in seconds (raw: 1, no bucketing). */
int64_t usage_step_len(enum usage_step step);
/* The start of the step's bucket that holds t (UTC; t >= 0). */
int64_t usage_bucket(int64_t t, enum usage_step step);

/*
 * A pass's limits at time now: raw rows starting before raw_before become
 * hourly rows, hourly rows before hour_before daily rows, daily rows before
 * day_before are deleted. Each is a bucket boundary of the step its rows go
 * to, so that a bucket is summed once, whole.
 */
struct usage_cutoffs {
	int64_t raw_before, hour_before, day_before;
};
struct usage_cutoffs usage_cutoffs(int64_t now, const struct mgr_usage_cfg *c);

/* Rows a compaction moved or deleted (of the tables usage, usage_net and usage_alloc). */
struct usage_compacted {
	int64_t raw_to_hour, hour_to_day, day_deleted;
	int64_t writes; /* write transactions it took (one per bucket) */
};
/*
 * Downsampling and retention at time now on db (usage_compact.c), one bucket
 * at a time: each bucket's sums are read without the store's write lock, then
 * added and its rows deleted in a short write transaction of its own (db must
 * not be in a transaction). 0, or -EIO on an SQLite error (the buckets done
 * stay done; the rest is done by the next pass).
 */
int usage_compact(sqlite3 *db, int64_t now, const struct mgr_usage_cfg *c,
		  struct usage_compacted *out);

/* Adds a usage row to the one of its key written before (NULL CPU time: unknown in both; the
 * seconds of unknown CPU time add up, so a sum with unknown parts says so). */
#define USAGE_ADD_SQL                                                                    \
	"ON CONFLICT (step, t, tenant_id, desktop_id) DO UPDATE SET "                    \
	"  secs = secs + excluded.secs, vcpu_s = vcpu_s + excluded.vcpu_s, "             \
	"  mem_mib_s = mem_mib_s + excluded.mem_mib_s, run_s = run_s + excluded.run_s, " \
	"  cpu_ns = CASE WHEN cpu_ns IS NULL AND excluded.cpu_ns IS NULL THEN NULL "     \
	"    ELSE IFNULL(cpu_ns, 0) + IFNULL(excluded.cpu_ns, 0) END, "                  \
	"  cpu_unknown_s = cpu_unknown_s + excluded.cpu_unknown_s"
/*
 * Ends a write transaction on db: commits when rc is 0, else (or if the
 * commit fails) logs that "what" cannot be written and rolls back: 0 or -EIO.
 */
int usage_tx_end(sqlite3 *db, int rc, const char *what);

/* A desktop as a pass copies it under the lock. */
struct usage_desk {
	uint32_t id, tenant_id, host_id;
	uint64_t vcpus, mem_mib;
	int64_t created;
	int64_t gone; /* 0: it is there; else it went then (deleted): its last row ends there */
	bool running, cpu_ok;
	uint64_t cpu_ns;
	char uuid[37];
	char tenant[MGR_NAME_LEN], name[MGR_NAME_LEN], model[MGR_NAME_LEN];
};
/* A pass's interval: whole seconds [from, to) on the wall clock, ending at mono_end. */
struct usage_span {
	int64_t mono_end; /* CLOCK_MONOTONIC ns the interval counts to: the next one starts there */
	int64_t from, to;
};

/*
 * The interval of a pass made at mono (CLOCK_MONOTONIC ns) and wall (CLOCK_REALTIME ns, read
 * together) after the previous one counted to last_mono: as many whole seconds as the
 * monotonic clock says, placed by the wall clock's time at its end (mono_end), not at the
 * pass's, so that passes running late by different amounts still give intervals that meet
 * (each from is the previous to); only a wall clock step moves them apart. to <= the wall
 * clock's second. from == to: no whole second yet.
 */
struct usage_span usage_pass_span(int64_t last_mono, int64_t mono, int64_t wall);

/*
 * A pass's rows on db for the interval [from_pass, now) of the desktops cs
 * (sorted by id; one gone counts up to its gone), names for those the previous
 * pass did not see, and the compaction, in one transaction: 0, or -EIO (rolled
 * back).
 */
int usage_write_pass(sqlite3 *db, const struct usage_desk *cs, uint32_t n, int64_t now,
		     int64_t from_pass, const struct mgr_usage_cfg *cfg);
struct mgr_desktop;

/* How a desktop was when it went: its domain running, and its CPU time then if read. */
struct usage_end {
	bool running, cpu_ok;
	uint64_t cpu_ns;
};
/*
 * Desktop d goes (under mgr.lock, before it is removed; end NULL: it did not run): the next
 * pass, which will not see it, counts its interval since the last pass up to now, so that its
 * last reservation and running time are not lost. Kept in memory: a stop of tessmgrd before that
 * pass loses it, as it loses every desktop's time since the last pass.
 */
void usage_desktop_gone_locked(const struct mgr_desktop *d, const struct usage_end *end);

/* After a written pass: its desktops are the next pass's previous ones. */
void usage_remember(const struct usage_desk *cs, uint32_t n);
/* No previous pass. */
void usage_forget(void);

/* A tenant's id by name: a live tenant's, else the latest one of the history's in db; 0. */
int64_t usage_tenant_id_of(sqlite3 *db, const char *name);
/*
 * Keeps tenant id's name for the history (usage_tenants) through *st,
 * prepared on db at the first call (the caller finalizes it): 0, or -EIO.
 */
int usage_tenant_name_put(sqlite3 *db, sqlite3_stmt **st, int64_t id, const char *name);
/*
 * A tenant table's rows (usage_net, usage_alloc: alias u) summed per tenant
 * and rate period over [from, to) of every step (tenant_id 0: all tenants),
 * prepared on db: columns tenant_id, the period's start (-1 before the
 * first), the tenant's name ('?' unknown), then sums (SQL, e.g.
 * "SUM(u.secs)"); by tenant id, then period. 0, or -EIO.
 */
int usage_tenant_sums_prepare(sqlite3 *db, const char *table, const char *sums, int64_t from,
			      int64_t to, int64_t tenant_id, sqlite3_stmt **st);

int mgr_usage_hist_start(void);
void mgr_usage_hist_stop(void);
/* One pass (the ticker runs it every usage.sample_sec). */
void mgr_usage_hist_sample(void);

#endif
