/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Usage history's downsampling (usage_hist.h) on a real SQLite store: the
 * buckets and cutoffs, raw rows summed into whole hours, hours into days,
 * sums added to a bucket summed before, unknown CPU time kept unknown only
 * when no row knew it, and daily rows deleted past daily_days.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "mgr.h"
#include "unit_store.h"
#include "usage_alloc.h"
#include "usage_hist.h"

#define DAY  86400
#define HOUR 3600
/* 2026-12-03 13:40:15 UTC */
#define NOW 1796305215LL

static const struct mgr_usage_cfg cfg = {
	.sample_sec = 300, .raw_days = 7, .hourly_days = 90, .daily_days = 1825, .max_rows = 10
};

/* A row: cpu < 0 is NULL (unknown, for all its seconds, as a pass writes it). */
static void put(int step, int64_t t, int desk, int64_t secs, int64_t cpu)
{
	char sql[320];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO usage (step, t, tenant_id, desktop_id, secs, vcpu_s, mem_mib_s, "
		 "run_s, cpu_ns, cpu_unknown_s) VALUES (%d, %lld, 1, %d, %lld, %lld, %lld, %lld, "
		 "%s%lld, %lld)",
		 step, (long long)t, desk, (long long)secs, (long long)(2 * secs),
		 (long long)(4096 * secs), (long long)(secs / 2), cpu < 0 ? "NULL+" : "",
		 (long long)(cpu < 0 ? 0 : cpu), (long long)(cpu < 0 ? secs : 0));
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* The row (step, t, desk): secs, vcpu_s, mem_mib_s, run_s, cpu_ns (-1: NULL), cpu_unknown_s;
 * false if none. */
static bool get(int step, int64_t t, int desk, int64_t v[6])
{
	sqlite3_stmt *st;
	bool found;

	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT secs, vcpu_s, mem_mib_s, run_s, cpu_ns, "
					    "cpu_unknown_s FROM usage WHERE step = ? AND t = ? "
					    "AND desktop_id = ?",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int(st, 1, step);
	sqlite3_bind_int64(st, 2, t);
	sqlite3_bind_int(st, 3, desk);
	found = sqlite3_step(st) == SQLITE_ROW;
	for (int i = 0; found && i < 6; i++)
		v[i] = sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
	sqlite3_finalize(st);
	return found;
}

/* The one integer sql (with one ? for arg) answers. */
static int64_t one_int(const char *sql, int arg)
{
	sqlite3_stmt *st;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int(st, 1, arg);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int64_t count(int step)
{
	return one_int("SELECT COUNT(*) FROM usage WHERE step = ?", step);
}

/* The seconds of unknown CPU time of the row (step, t, desk); -1 if there is none. */
static int64_t unknown_s(int step, int64_t t, int desk)
{
	int64_t v[6];

	return get(step, t, desk, v) ? v[5] : -1;
}

/* What a row must hold (secs, vcpu_s, mem_mib_s, run_s, cpu_ns; -1: NULL): ANY is not checked. */
#define ANY INT64_MIN

/* The row (step, t, desk) is there and holds want. */
static void expect(int step, int64_t t, int desk, const int64_t want[5])
{
	int64_t v[6];

	assert_true(get(step, t, desk, v));
	for (int i = 0; i < 5; i++)
		if (want[i] != ANY)
			assert_int_equal(v[i], want[i]);
}

static void compact(int64_t now, struct usage_compacted *done)
{
	assert_int_equal(usage_compact(db, now, &cfg, done), 0);
}

static void test_buckets_and_cutoffs(void **state)
{
	struct usage_cutoffs k = usage_cutoffs(NOW, &cfg);

	(void)state;
	assert_int_equal(usage_step_len(USAGE_RAW), 1);
	assert_int_equal(usage_bucket(NOW, USAGE_RAW), NOW);
	assert_int_equal(usage_bucket(NOW, USAGE_HOUR), NOW - (40 * 60 + 15));
	assert_int_equal(usage_bucket(NOW, USAGE_DAY), NOW - (13 * HOUR + 40 * 60 + 15));
	assert_int_equal(usage_bucket(NOW - NOW % HOUR, USAGE_HOUR), NOW - NOW % HOUR);
	/* Raw: 7 days back, down to the hour; hours: 90 days, down to the day; days: 1825. */
	assert_int_equal(k.raw_before, NOW - 7 * DAY - (40 * 60 + 15));
	assert_int_equal(k.hour_before, NOW - 90 * DAY - (13 * HOUR + 40 * 60 + 15));
	assert_int_equal(k.day_before, NOW - 1825LL * DAY - (13 * HOUR + 40 * 60 + 15));
	assert_int_equal(k.raw_before % HOUR, 0);
	assert_int_equal(k.hour_before % DAY, 0);
}

static void test_raw_rows_sum_into_whole_hours(void **state)
{
	struct usage_cutoffs k = usage_cutoffs(NOW, &cfg);
	int64_t h = k.raw_before - 2 * HOUR;
	struct usage_compacted done;

	(void)state;
	/* Twelve 300 s samples in hour h, one of unknown CPU time; one in the next hour. */
	for (int i = 0; i < 12; i++)
		put(USAGE_RAW, h + i * 300, 1, 300, i == 5 ? -1 : 1000);
	put(USAGE_RAW, h + HOUR + 10, 1, 300, 7);
	/* The hour at the cutoff stays raw, whole: none of it is older than raw_before. */
	put(USAGE_RAW, k.raw_before, 1, 300, 5);
	put(USAGE_RAW, NOW - 300, 1, 300, 5);
	/* Unknown CPU time only: unknown in the sum. */
	put(USAGE_RAW, h, 2, 300, -1);
	compact(NOW, &done);
	assert_int_equal(done.raw_to_hour, 14);
	assert_int_equal(done.hour_to_day, 0);
	/* The unknown sample counts as nothing, and the hour says 300 s of it are unknown: a
	 * partial sum, not a whole one. */
	expect(USAGE_HOUR, h, 1, (int64_t[5]){ 3600, 7200, 4096LL * 3600, 1800, 11000 });
	assert_int_equal(unknown_s(USAGE_HOUR, h, 1), 300);
	expect(USAGE_HOUR, h + HOUR, 1, (int64_t[5]){ 300, ANY, ANY, ANY, 7 });
	assert_int_equal(unknown_s(USAGE_HOUR, h + HOUR, 1), 0);
	expect(USAGE_HOUR, h, 2, (int64_t[5]){ ANY, ANY, ANY, ANY, -1 });
	assert_int_equal(unknown_s(USAGE_HOUR, h, 2), 300);
	assert_int_equal(count(USAGE_RAW), 2);
	assert_int_equal(count(USAGE_HOUR), 3);

	/* A late raw row of an hour summed before adds to it (its unknown seconds too). */
	put(USAGE_RAW, h + 3000 + 1, 1, 100, 3);
	put(USAGE_RAW, h + 3000 + 2, 1, 50, -1);
	compact(NOW, &done);
	assert_int_equal(done.raw_to_hour, 2);
	expect(USAGE_HOUR, h, 1, (int64_t[5]){ 3750, ANY, ANY, ANY, 11003 });
	assert_int_equal(unknown_s(USAGE_HOUR, h, 1), 350);

	/* An hour later the cutoff moves one hour: that hour's rows are summed. */
	compact(NOW + HOUR, &done);
	assert_int_equal(done.raw_to_hour, 1);
	expect(USAGE_HOUR, k.raw_before, 1, (int64_t[5]){ 300, ANY, ANY, ANY, ANY });
	assert_int_equal(count(USAGE_RAW), 1);
}

/*
 * A rate period starting inside an hour (or a day) splits its bucket there:
 * the rows after the change stay priced at their rates once compacted.
 */
static void test_buckets_split_at_a_rate_change(void **state)
{
	struct usage_cutoffs k = usage_cutoffs(NOW, &cfg);
	int64_t h = k.raw_before - 2 * HOUR, change = h + 1800;
	char sql[160];
	struct usage_compacted done;

	(void)state;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO rate_periods VALUES (0, %lld, '{}'), (%lld, NULL, '{}')",
		 (long long)change, (long long)change);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < 12; i++)
		put(USAGE_RAW, h + i * 300, 1, 300, 1);
	compact(NOW, &done);
	assert_int_equal(done.raw_to_hour, 12);
	expect(USAGE_HOUR, h, 1, (int64_t[5]){ 1800, ANY, ANY, ANY, 6 });
	expect(USAGE_HOUR, change, 1, (int64_t[5]){ 1800, ANY, ANY, ANY, 6 });
	assert_int_equal(count(USAGE_HOUR), 2);
	/* 90 days on, into days: the day splits at the change too. */
	compact(NOW + 91 * DAY, &done);
	expect(USAGE_DAY, h - h % DAY, 1, (int64_t[5]){ 1800, ANY, ANY, ANY, 6 });
	expect(USAGE_DAY, change, 1, (int64_t[5]){ 1800, ANY, ANY, ANY, 6 });
}

static void test_hours_into_days_and_retention(void **state)
{
	struct usage_cutoffs k = usage_cutoffs(NOW, &cfg);
	int64_t d = k.hour_before - 3 * DAY, v[6];
	struct usage_compacted done;

	(void)state;
	for (int i = 0; i < 24; i++)
		put(USAGE_HOUR, d + i * HOUR, 1, HOUR, i);
	put(USAGE_HOUR, k.hour_before, 1, HOUR, 1); /* the day at the cutoff stays hourly */
	put(USAGE_DAY, k.day_before - DAY, 1, DAY, 1);
	put(USAGE_DAY, k.day_before, 1, DAY, 1);
	compact(NOW, &done);
	assert_int_equal(done.hour_to_day, 24);
	assert_int_equal(done.day_deleted, 1);
	expect(USAGE_DAY, d, 1, (int64_t[5]){ DAY, 2 * DAY, ANY, DAY / 2, 23 * 24 / 2 });
	assert_int_equal(unknown_s(USAGE_DAY, d, 1), 0);
	assert_false(get(USAGE_DAY, k.day_before - DAY, 1, v));
	assert_true(get(USAGE_DAY, k.day_before, 1, v));
	assert_true(get(USAGE_HOUR, k.hour_before, 1, v));
	assert_int_equal(count(USAGE_HOUR), 1);
	assert_int_equal(count(USAGE_DAY), 2);
	/* Nothing more to do: a second pass changes nothing. */
	compact(NOW, &done);
	assert_int_equal(done.raw_to_hour + done.hour_to_day + done.day_deleted, 0);
}

/* Desktop 7 of tenant 3 ("acme"/"d7", model "std"), created at created. */
static struct usage_desk desk(int64_t created)
{
	struct usage_desk d = {
		.id = 7, .tenant_id = 3, .vcpus = 2, .mem_mib = 1024, .created = created
	};

	snprintf(d.tenant, sizeof(d.tenant), "acme");
	snprintf(d.name, sizeof(d.name), "d7");
	snprintf(d.model, sizeof(d.model), "std");
	return d;
}

static int64_t names_of(int desk_id)
{
	return one_int("SELECT COUNT(*) FROM usage_desktops WHERE desktop_id = ? AND tenant = "
		       "'acme' AND name = 'd7'",
		       desk_id);
}

/* A pass over d from since to now, then remembered as tessmgrd's sampler does. */
static void pass(struct usage_desk *d, int64_t now, int64_t since)
{
	assert_int_equal(usage_write_pass(db, d, 1, now, since, &cfg), 0);
	usage_remember(d, 1);
}

/*
 * A desktop made after a pass read the clock (created > now): nothing to
 * count in that pass, but the pass remembers it, and the next one writes
 * names only for desktops it does not remember: its names go in at once.
 */
static void test_desktop_made_during_a_pass_gets_its_names(void **state)
{
	struct usage_desk d = desk(NOW + 1);
	int64_t v[6];

	(void)state;
	usage_forget();
	pass(&d, NOW, NOW - 300);
	assert_false(get(0, NOW + 1, 7, v));
	pass(&d, NOW + 300, NOW);
	expect(0, NOW + 1, 7, (int64_t[5]){ 299, ANY, ANY, ANY, ANY });
	assert_int_equal(names_of(7), 1);
	usage_forget();
}

/*
 * The wall clock stepped back: a pass's interval starts where an earlier
 * one's did. Its row adds to that one's (INSERT OR REPLACE dropped it).
 */
static void test_an_interval_starting_again_adds(void **state)
{
	struct usage_desk d = desk(NOW - DAY);

	(void)state;
	usage_forget();
	pass(&d, NOW, NOW - 300);
	pass(&d, NOW - 100, NOW - 300);
	expect(0, NOW - 300, 7, (int64_t[5]){ 500, 2 * 500, 1024 * 500, ANY, ANY });
	assert_int_equal(count(0), 1);
	usage_forget();
}

/*
 * A running desktop whose CPU time libvirt did not give in a pass: its row's CPU time is
 * unknown and says for how long; a later pass that reads it knows its interval whole; a
 * row that adds to it keeps the unknown seconds.
 */
static void test_unknown_cpu_time_is_said(void **state)
{
	struct usage_desk d = desk(NOW - DAY);

	(void)state;
	usage_forget();
	d.running = true;
	d.cpu_ok = true;
	d.cpu_ns = 1000;
	pass(&d, NOW - 600, NOW - 900); /* no baseline: unknown */
	assert_int_equal(unknown_s(0, NOW - 900, 7), 300);
	d.cpu_ok = false;
	pass(&d, NOW - 300, NOW - 600); /* not read */
	expect(0, NOW - 600, 7, (int64_t[5]){ 300, ANY, ANY, 300, -1 });
	assert_int_equal(unknown_s(0, NOW - 600, 7), 300);
	d.cpu_ok = true;
	d.cpu_ns = 5000;
	pass(&d, NOW, NOW - 300); /* its baseline was not read either */
	assert_int_equal(unknown_s(0, NOW - 300, 7), 300);
	d.cpu_ns = 9000;
	pass(&d, NOW + 300, NOW);
	expect(0, NOW, 7, (int64_t[5]){ 300, ANY, ANY, 300, 4000 });
	assert_int_equal(unknown_s(0, NOW, 7), 0);
	/* The wall clock stepped back: an unknown interval adds to a known one. */
	d.cpu_ok = false;
	pass(&d, NOW + 100, NOW);
	expect(0, NOW, 7, (int64_t[5]){ 400, ANY, ANY, ANY, 4000 });
	assert_int_equal(unknown_s(0, NOW, 7), 100);
	usage_forget();
}

/* A store made before cpu_unknown_s: the column is added, a row of unknown CPU time unknown for
 * all its seconds. */
/*
 * Passes a second apart, each late by another fraction of a second (a loaded
 * machine, ASan): their intervals meet, whatever the two clocks' offset;
 * they count every whole second the monotonic clock saw, none ahead of the
 * wall clock; a wall clock step moves the next interval by the step only.
 * (Placed by the wall clock at the pass's own time, a late pass left a
 * second out between intervals, or counted one twice.)
 */
static void test_late_passes_give_meeting_intervals(void **state)
{
	const int64_t S = 1000000000;
	int64_t mono0 = 5 * S + 123456789, off = 1796375000 * S + 654321987;

	(void)state;
	srand(7);
	for (int offs = 0; offs < 20; offs++, off += S / 20 + 7777) {
		int64_t last = mono0, to = -1, total = 0, step = 0, jump = 0, mono = mono0;
		for (int k = 1; k <= 200; k++) {
			mono = mono0 + k * S + (int64_t)(rand() % 950) * 1000000;
			if (k == 100) {
				step = 100 * S; /* the wall clock steps 100 s ahead */
				jump = 100;
			}
			int64_t wall = mono + off + step;
			struct usage_span sp = usage_pass_span(last, mono, wall);

			assert_true(sp.to <= wall / S);
			assert_true(sp.to >= sp.from);
			if (sp.to == sp.from)
				continue; /* no whole second: the next pass counts it */
			if (to >= 0)
				assert_int_equal(sp.from, to + jump);
			jump = 0;
			total += sp.to - sp.from;
			to = sp.to;
			last = sp.mono_end;
		}
		assert_int_equal(total, (last - mono0) / S);
		assert_true(mono - last < S);
	}
}

static void test_old_store_gets_unknown_seconds(void **state)
{
	char dir[] = UNIT_STORE_DIR, path[sizeof(dir) + 16], err[256];
	sqlite3 *old;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.db", dir);
	assert_int_equal(sqlite3_open(path, &old), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(
			old,
			"CREATE TABLE usage (step INTEGER NOT NULL, t INTEGER NOT NULL,"
			"  tenant_id INTEGER NOT NULL, desktop_id INTEGER NOT NULL,"
			"  secs INTEGER NOT NULL, vcpu_s INTEGER NOT NULL, mem_mib_s INTEGER "
			"  NOT NULL, run_s INTEGER NOT NULL, cpu_ns INTEGER, PRIMARY KEY (step, "
			"  t, tenant_id, desktop_id)) WITHOUT ROWID;"
			"INSERT INTO usage VALUES (0, 100, 1, 7, 300, 0, 0, 0, NULL),"
			"  (0, 400, 1, 7, 300, 0, 0, 0, 12)",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(old);
	assert_int_equal(mgr_store_open(path, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(unknown_s(0, 100, 7), 300);
	assert_int_equal(unknown_s(0, 400, 7), 0);
	sqlite3_close(db);
	mgr_store_close();
	unit_store_remove(path, dir);
}

/*
 * A desktop gone (deleted) between two passes: the pass after counts it from the previous
 * pass, or its creation, up to when it went, with its names; it is not remembered.
 */
static void test_a_gone_desktop_counts_to_its_end(void **state)
{
	struct usage_desk d = desk(NOW - DAY), e = desk(NOW + 50);

	(void)state;
	usage_forget();
	d.running = true;
	pass(&d, NOW, NOW - 300);
	d.gone = NOW + 100;
	d.cpu_ok = true;
	d.cpu_ns = 777;
	pass(&d, NOW + 300, NOW);
	expect(0, NOW, 7, (int64_t[5]){ 100, 200, 1024 * 100, 100, -1 });
	/* Made and gone between two passes: all of its life, its CPU time whole. */
	e.id = 8;
	e.running = e.cpu_ok = true;
	e.cpu_ns = 555;
	e.gone = NOW + 250;
	pass(&e, NOW + 300, NOW);
	expect(0, NOW + 50, 8, (int64_t[5]){ 200, 400, 1024 * 200, 200, 555 });
	assert_int_equal(one_int("SELECT COUNT(*) FROM usage_desktops WHERE desktop_id = ?", 8), 1);
	/* Not remembered: a desktop 8 seen after is new (its names written again). */
	assert_int_equal(sqlite3_exec(db, "DELETE FROM usage_desktops", NULL, NULL, NULL),
			 SQLITE_OK);
	e.gone = 0;
	pass(&e, NOW + 600, NOW + 300);
	assert_int_equal(one_int("SELECT COUNT(*) FROM usage_desktops WHERE desktop_id = ?", 8), 1);
	usage_forget();
}

/* Physical CPUs a partition holds. */
#define P(n) ((struct usage_held){ .pcpus = (n) })

/* What a test owed, and the state it pointed mgr at (its own stack), forgotten. */
static void alloc_forget(void)
{
	usage_alloc_forget();
	mgr.tenants = NULL;
	mgr.n_tenants = 0;
	mgr.hosts = NULL;
	mgr.n_hosts = 0;
	mgr.quotas = NULL;
	mgr.n_quotas = 0;
}

/*
 * A partition counts for the time it had each size: from its making (as a desktop from its
 * `created`: one made after the pass read the clock, between its interval's end and
 * mgr.lock, is not billed for it), and what it had before it grew, shrank or went, owed to
 * the passes that cover that time, each second once.
 */
static void test_a_partition_is_billed_for_each_size_it_had(void **state)
{
	struct mgr_tenant t[3] = { { .id = 1 }, { .id = 2 }, { .id = 3 } };
	struct mgr_slice sl[3] = { { .tenant_id = 1, .since = NOW - DAY },
				   { .tenant_id = 2, .since = NOW - 100 },
				   { .tenant_id = 3, .since = NOW } };
	struct mgr_host h = { .id = 1, .n_slices = 3, .slices = sl }, *hosts[1] = { &h };
	struct usage_alloc *a;
	uint32_t n;

	(void)state;
	for (unsigned c = 0; c < 2; c++) /* two CPUs each */
		for (int i = 0; i < 3; i++)
			mgr_cpuset_add(&sl[i].cpus, 2 * (unsigned)i + c);
	mgr.tenants = t;
	mgr.n_tenants = 3;
	mgr.hosts = hosts;
	mgr.n_hosts = 1;
	snprintf(t[0].spec.name, sizeof(t[0].spec.name), "acme");
	a = usage_alloc_copy_locked(&n, NOW, NOW - 300);
	assert_non_null(a);
	/* Tenant 3's partition came at the interval's end: no row. */
	assert_int_equal(n, 2);
	assert_int_equal(a[0].tenant_id, 1);
	assert_int_equal(a[0].pcpu_s, 2 * 300);
	assert_int_equal(a[1].tenant_id, 2);
	assert_int_equal(a[1].pcpu_s, 2 * 100);
	free(a);
	/*
	 * Tenant 1's partition had 6 CPUs until NOW - 100, then 2 until NOW + 20, when it went
	 * (after the pass read the clock, before its copy): 6 x 200 + 2 x 100 now, 2 x 20 at
	 * the next pass. A tenant 9, deleted since, had 4 CPUs from NOW - 50 to NOW - 10: billed
	 * (its name is the store's).
	 */
	usage_alloc_owe_locked(1, P(6), NOW - DAY, NOW - 100);
	usage_alloc_owe_locked(9, P(4), NOW - 50, NOW - 10);
	usage_alloc_owe_locked(1, P(2), NOW - 100, NOW + 20);
	sl[0] = sl[--h.n_slices];
	a = usage_alloc_copy_locked(&n, NOW, NOW - 300);
	assert_non_null(a);
	assert_int_equal(n, 3);
	assert_int_equal(a[0].tenant_id, 1);
	assert_int_equal(a[0].pcpu_s, 6 * 200 + 2 * 100);
	assert_int_equal(a[1].pcpu_s, 2 * 100);
	assert_int_equal(a[2].tenant_id, 9);
	assert_string_equal(a[2].tenant, ""); /* not known: its name is the store's */
	assert_int_equal(a[2].pcpu_s, 4 * 40);
	free(a);
	/* Tenant 2's grew to 4 CPUs at NOW + 5, after the copy: its 2 until then are owed. */
	usage_alloc_owe_locked(2, P(2), NOW - 100, NOW + 5);
	sl[1].since = NOW + 5;
	mgr_cpuset_add(&sl[1].cpus, 6);
	mgr_cpuset_add(&sl[1].cpus, 7);
	usage_alloc_settle(NOW);
	/* The next pass, from 50 s before NOW (the wall clock stepped back): nothing owed is
	 * counted twice. */
	a = usage_alloc_copy_locked(&n, NOW + 300, NOW - 50);
	assert_non_null(a);
	assert_int_equal(n, 3);
	assert_int_equal(a[0].tenant_id, 1);
	assert_int_equal(a[0].pcpu_s, 2 * 20);
	assert_int_equal(a[1].pcpu_s, 2 * 5 + 4 * 295);
	assert_int_equal(a[2].tenant_id, 3);
	assert_int_equal(a[2].pcpu_s, 2 * 300); /* made at NOW: whole now */
	free(a);
	usage_alloc_settle(NOW + 300);
	a = usage_alloc_copy_locked(&n, NOW + 600, NOW + 300);
	assert_non_null(a);
	assert_int_equal(n, 2); /* tenant 1's settled: only the live ones */
	assert_int_equal(a[0].tenant_id, 2);
	free(a);
	alloc_forget();
}

/*
 * A quota counts for the time it had each size too: one raised is billed at its old size
 * up to the change, at the new one from it; one made after a pass read the clock, not by
 * that pass.
 */
static void test_a_quota_is_billed_for_each_size_it_had(void **state)
{
	struct mgr_tenant t = { .id = 1 };
	struct mgr_quota q = { .tenant_id = 1, .spec = { .max_cpus = 8, .max_memory_mb = 1024 } };
	struct mgr_quota_spec had = q.spec;
	struct usage_alloc *a;
	int64_t t0 = time(NULL), at;
	uint32_t n;

	(void)state;
	usage_alloc_forget();
	mgr.tenants = &t;
	mgr.n_tenants = 1;
	mgr.quotas = &q;
	mgr.n_quotas = 1;
	q.since = t0 + 5; /* made after the pass below read the clock */
	a = usage_alloc_copy_locked(&n, t0 + 5, t0 - 295);
	assert_int_equal(n, 0);
	free(a);
	q.since = t0 - 100;
	q.spec.max_cpus = 16;
	usage_alloc_resized_locked(q.tenant_id, usage_quota_held(&had), &q.since);
	at = q.since; /* the change's second */
	assert_true(at >= t0);
	a = usage_alloc_copy_locked(&n, at + 60, t0 - 300);
	assert_non_null(a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].vcpu_s, 8 * (at - t0 + 100) + 16 * 60);
	assert_int_equal(a[0].mem_mib_s, 1024 * (at - t0 + 100 + 60));
	assert_int_equal(a[0].pcpu_s, 0);
	free(a);
	alloc_forget();
}

/* The test connection's write transactions: VM steps (counted by the thousand) and time while
 * it holds the store's write lock, the longest of them, and all its steps. */
static struct {
	int64_t steps, max_steps, all_steps;
	double start, max_ms;
	bool in;
} holds;

static double ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int on_progress(void *arg)
{
	(void)arg;
	holds.all_steps += 1000;
	if (sqlite3_txn_state(db, "main") == SQLITE_TXN_WRITE) {
		if (!holds.in) {
			holds.in = true;
			holds.start = ms_now();
			holds.steps = 0;
		}
		holds.steps += 1000;
	}
	return 0;
}

static void hold_end(void)
{
	if (holds.in) {
		double ms = ms_now() - holds.start;
		holds.max_ms = ms > holds.max_ms ? ms : holds.max_ms;
		holds.max_steps = holds.steps > holds.max_steps ? holds.steps : holds.max_steps;
	}
	holds.in = false;
}

static int on_commit(void *arg)
{
	(void)arg;
	hold_end();
	return 0;
}

static void on_rollback(void *arg)
{
	(void)arg;
	hold_end();
}

/* Another writer of the store, as the API's (one small transaction at a time): the longest it
 * waited, until told to stop. */
static volatile bool writer_stop;
static double writer_max_ms;

static void *writer(void *arg)
{
	sqlite3 *w;
	int64_t i = 0;

	(void)arg;
	if (sqlite3_open(store_path, &w) != SQLITE_OK)
		return NULL;
	sqlite3_busy_timeout(w, 60000);
	while (!writer_stop) {
		char sql[128];
		double t0 = ms_now(), ms;
		snprintf(sql, sizeof(sql),
			 "INSERT OR REPLACE INTO meta (key, value) VALUES ('bench', '%lld')",
			 (long long)i++);
		if (sqlite3_exec(w, sql, NULL, NULL, NULL) != SQLITE_OK)
			break;
		ms = ms_now() - t0;
		writer_max_ms = ms > writer_max_ms ? ms : writer_max_ms;
		usleep(1000);
	}
	sqlite3_close(w);
	return NULL;
}

#define DESKS 10000

/*
 * Review: a pass held the store's write lock for all of its work (its rows and the downsampling
 * of every old bucket), and the API's writers wait for it under mgr.lock. A pass of 10,000
 * desktops with two hours of raw rows to sum: no write transaction does more than a third of
 * the pass's work (VM steps, deterministic); the times are printed (README, the commit).
 */
static void test_a_pass_holds_the_write_lock_briefly(void **state)
{
	struct usage_cutoffs k = usage_cutoffs(NOW, &cfg);
	struct usage_desk *cs = calloc(DESKS, sizeof(*cs));
	sqlite3_stmt *st;
	pthread_t th;
	double t0, all;

	(void)state;
	assert_non_null(cs);
	usage_forget();
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "INSERT INTO usage (step, t, tenant_id, desktop_id, "
					    "secs, vcpu_s, mem_mib_s, run_s, cpu_ns) VALUES (0, ?, "
					    "?, ?, 300, 600, 1228800, 300, 1000)",
					    -1, &st, NULL),
			 SQLITE_OK);
	for (int64_t t = k.raw_before - 2 * HOUR; t < k.raw_before; t += 300)
		for (int d = 0; d < DESKS; d++) {
			sqlite3_bind_int64(st, 1, t);
			sqlite3_bind_int(st, 2, 1 + d / 100);
			sqlite3_bind_int(st, 3, d + 1);
			assert_int_equal(sqlite3_step(st), SQLITE_DONE);
			sqlite3_reset(st);
		}
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	for (int d = 0; d < DESKS; d++) {
		cs[d] = desk(NOW - DAY);
		cs[d].id = (uint32_t)d + 1;
		cs[d].tenant_id = 1 + (uint32_t)d / 100;
		cs[d].running = cs[d].cpu_ok = true;
	}
	sqlite3_busy_timeout(db, 60000); /* as the sampler's connection, which waits its turn */
	holds.max_steps = holds.all_steps = 0;
	holds.max_ms = 0;
	sqlite3_progress_handler(db, 1000, on_progress, NULL);
	sqlite3_commit_hook(db, on_commit, NULL);
	sqlite3_rollback_hook(db, on_rollback, NULL);
	writer_stop = false;
	assert_int_equal(pthread_create(&th, NULL, writer, NULL), 0);
	usleep(20000);
	t0 = ms_now();
	assert_int_equal(usage_write_pass(db, cs, DESKS, NOW, NOW - 300, &cfg), 0);
	all = ms_now() - t0;
	writer_stop = true;
	pthread_join(th, NULL);
	sqlite3_progress_handler(db, 0, NULL, NULL);
	sqlite3_commit_hook(db, NULL, NULL);
	sqlite3_rollback_hook(db, NULL, NULL);
	fprintf(stderr,
		"a pass of %d desktops, %d raw rows to downsample: %.0f ms; the longest write "
		"transaction %.0f ms, %lld of its %lld VM steps; another writer waited %.0f ms "
		"at most\n",
		DESKS, 24 * DESKS, all, holds.max_ms, (long long)holds.max_steps,
		(long long)holds.all_steps, writer_max_ms);
	assert_int_equal(count(USAGE_RAW), DESKS);
	assert_int_equal(count(USAGE_HOUR), 2 * DESKS);
	assert_true(holds.max_steps * 3 < holds.all_steps);
	usage_forget();
	free(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_and_cutoffs),
		cmocka_unit_test_setup_teardown(test_raw_rows_sum_into_whole_hours, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_hours_into_days_and_retention, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_buckets_split_at_a_rate_change, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_desktop_made_during_a_pass_gets_its_names,
						store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_cpu_time_is_said, store_setup,
						store_teardown),
		cmocka_unit_test(test_old_store_gets_unknown_seconds),
		cmocka_unit_test(test_late_passes_give_meeting_intervals),
		cmocka_unit_test(test_a_partition_is_billed_for_each_size_it_had),
		cmocka_unit_test(test_a_quota_is_billed_for_each_size_it_had),
		cmocka_unit_test_setup_teardown(test_a_gone_desktop_counts_to_its_end, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_a_pass_holds_the_write_lock_briefly,
						store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_an_interval_starting_again_adds, store_setup,
						store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
