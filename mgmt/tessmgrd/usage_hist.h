/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Usage history (issue 16 C): every usage.sample_sec a pass writes one raw
 * row per desktop (table usage, store.c) for the interval since the last
 * pass: vCPU-seconds and MiB-seconds reserved (every placed desktop holds
 * its model's reservation), seconds running, and CPU time used where libvirt
 * reports it. The same pass, in the same transaction, sums raw rows older
 * than raw_days into hourly rows, hourly rows older than hourly_days into
 * daily rows, and deletes daily rows older than daily_days. Rows start at
 * t (UTC); a sample belongs to the hour and day it starts in. The state lock
 * is held only to copy the desktops, never across libvirt or SQLite; the
 * pass writes through a connection of its own (WAL), as queries read.
 */
#ifndef TESS_MGR_USAGE_HIST_H
#define TESS_MGR_USAGE_HIST_H

#include <sqlite3.h>
#include <stdint.h>

#include "mgr_config.h"

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

/* Rows a compaction moved or deleted. */
struct usage_compacted {
	int64_t raw_to_hour, hour_to_day, day_deleted;
};
/*
 * Downsampling and retention at time now on db, inside the caller's
 * transaction: -EIO on an SQLite error (the caller rolls back).
 */
int usage_compact(sqlite3 *db, int64_t now, const struct mgr_usage_cfg *c,
		  struct usage_compacted *out);

int mgr_usage_hist_start(void);
void mgr_usage_hist_stop(void);
/* One pass (the ticker runs it every usage.sample_sec). */
void mgr_usage_hist_sample(void);

#endif
