/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tenants' network bytes in the usage history (usage_net.h): the delta of a
 * tessd's counters (growth, a lower counter, a restarted process), and their
 * writing on a real SQLite store: the first look a baseline, the counters
 * last seen kept in the store (a reopened store bills only what is new),
 * two routers of a tenant added into one row, and the rows downsampled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "unit_store.h"
#include "usage_hist.h"
#include "usage_net.h"

#define HOUR 3600
#define NOW  1796305215LL /* 2026-12-03 13:40:15 UTC */

static void test_delta(void **state)
{
	const struct usage_net_ctr last = {
		.pid = 10, .started = 1000, .seen = 4000, .in = 500, .out = 700
	};
	struct usage_net_ctr now = last;
	uint64_t in, out;

	(void)state;
	/* Growth: the differences. */
	now.in = 1500;
	now.out = 750;
	assert_int_equal(usage_net_delta(&last, &now, &in, &out), 0);
	assert_int_equal(in, 1000);
	assert_int_equal(out, 50);
	/* The start read a second off (the uptime's rounding): the same process. */
	now.started = 1002;
	assert_int_equal(usage_net_delta(&last, &now, &in, &out), 0);
	assert_int_equal(in, 1000);
	/* One counter lower (stats.reset, or the group made again): both are new, whole. */
	now = last;
	now.in = 100;
	now.out = 900;
	assert_int_equal(usage_net_delta(&last, &now, &in, &out), 1);
	assert_int_equal(in, 100);
	assert_int_equal(out, 900);
	/* A restarted tessd whose counters already passed the old ones: no huge, no negative. */
	now = (struct usage_net_ctr){ .pid = 11, .started = 1000, .in = 600, .out = 800 };
	assert_int_equal(usage_net_delta(&last, &now, &in, &out), 1);
	assert_int_equal(in, 600);
	assert_int_equal(out, 800);
	now.pid = 10;
	now.started = 3999; /* the same pid again, started after the last read (less 2 s) */
	assert_int_equal(usage_net_delta(&last, &now, &in, &out), 1);
	assert_int_equal(in, 600);
	/* The clock stepped 1000 s (less than the uptime then): the same process. */
	now.started = 2000;
	assert_int_equal(usage_net_delta(&last, &now, &in, &out), 0);
	assert_int_equal(in, 100);
	assert_int_equal(out, 100);
	/* Nothing moved. */
	assert_int_equal(usage_net_delta(&last, &last, &in, &out), 0);
	assert_int_equal(in + out, 0);
}

static struct usage_net_look look(const char *router, uint32_t tenant, int64_t pid, uint64_t in,
				  uint64_t out)
{
	struct usage_net_look l = {
		.tenant_id = tenant,
		.ctr = { .pid = pid, .started = 1000, .seen = 5000, .in = in, .out = out }
	};

	snprintf(l.router, sizeof(l.router), "%s", router);
	snprintf(l.tenant, sizeof(l.tenant), "t%u", tenant);
	return l;
}

/* The row (step, t, tenant): bytes in and out; false if none. */
static bool row(int step, int64_t t, uint32_t tenant, int64_t *in, int64_t *out)
{
	sqlite3_stmt *st;
	bool found;

	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT bytes_in, bytes_out FROM usage_net WHERE "
					    "step = ? AND t = ? AND tenant_id = ?",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int(st, 1, step);
	sqlite3_bind_int64(st, 2, t);
	sqlite3_bind_int(st, 3, (int)tenant);
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		*in = sqlite3_column_int64(st, 0);
		*out = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return found;
}

static void write1(const struct usage_net_look *ls, uint32_t n, int64_t t,
		   struct usage_net_written *w)
{
	assert_int_equal(usage_net_write(db, ls, n, t, w), 0);
}

static void test_baseline_deltas_and_resets_in_the_store(void **state)
{
	struct usage_net_written w;
	int64_t in, out;

	(void)state;
	/* First look: a baseline, nothing billed (bytes counted before are not this interval's). */
	struct usage_net_look a[] = { look("pe1", 1, 10, 5000, 7000), look("pe1", 2, 10, 9, 9) };
	write1(a, 2, NOW - 600, &w);
	assert_int_equal(w.rows, 0);
	assert_false(row(0, NOW - 600, 1, &in, &out));
	/* Growth on tenant 1 only: its row, none for tenant 2. */
	a[0].ctr.in = 6000;
	a[0].ctr.out = 7300;
	write1(a, 2, NOW - 300, &w);
	assert_int_equal(w.rows, 1);
	assert_true(row(0, NOW - 300, 1, &in, &out));
	assert_int_equal(in, 1000);
	assert_int_equal(out, 300);
	assert_false(row(0, NOW - 300, 2, &in, &out));
	/* The store reopened (tessmgrd restarted): the counters last seen come from it. */
	sqlite3_close(db);
	assert_int_equal(sqlite3_open(store_path, &db), SQLITE_OK);
	a[0].ctr.in = 6100;
	write1(a, 1, NOW, &w);
	assert_true(row(0, NOW, 1, &in, &out));
	assert_int_equal(in, 100);
	assert_int_equal(out, 0);
	/* The tessd restarted: its counters since then, whole; a second router of the same
	 * tenant adds into the same row (its first look a baseline). */
	struct usage_net_look b[] = { look("pe1", 1, 11, 40, 60), look("pe2", 1, 20, 1, 1) };
	write1(b, 2, NOW + 300, &w);
	assert_int_equal(w.resets, 1);
	assert_true(row(0, NOW + 300, 1, &in, &out));
	assert_int_equal(in, 40);
	assert_int_equal(out, 60);
	b[0].ctr.in = 50;
	b[1].ctr.in = 201;
	b[1].ctr.out = 2;
	write1(b, 2, NOW + 600, &w);
	assert_int_equal(w.resets, 0);
	assert_true(row(0, NOW + 600, 1, &in, &out));
	assert_int_equal(in, 10 + 200);
	assert_int_equal(out, 1);
	/* A second write of an interval (the desktops' pass failed, the next one starts at the
	 * same time) adds to its row. */
	b[0].ctr.in = 55;
	write1(b, 1, NOW + 600, &w);
	assert_true(row(0, NOW + 600, 1, &in, &out));
	assert_int_equal(in, 215);
	/* Names for the history and chargeback, and the sums over a time. */
	struct usage_net_sum *sums;
	uint32_t n;
	assert_int_equal(usage_net_sums(db, NOW - 600, NOW + 601, 0, &sums, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(sums[0].tenant, "t1");
	assert_int_equal(sums[0].bytes_in, 1000 + 100 + 40 + 215);
	assert_int_equal(sums[0].bytes_out, 300 + 60 + 1);
	free(sums);
	assert_int_equal(usage_net_sums(db, NOW - 600, NOW + 601, 2, &sums, &n), 0);
	assert_int_equal(n, 0);
	free(sums);
}

static void test_network_rows_are_downsampled(void **state)
{
	const struct mgr_usage_cfg cfg = {
		.sample_sec = 300, .raw_days = 7, .hourly_days = 90, .daily_days = 1825
	};
	int64_t h = NOW - NOW % HOUR - 10 * 86400, in, out;
	struct usage_compacted done;
	struct usage_net_written w;
	struct usage_net_look l = look("pe1", 3, 1, 0, 0);

	(void)state;
	write1(&l, 1, h, &w);
	l.ctr.in = 100;
	l.ctr.out = 10;
	write1(&l, 1, h + 300, &w);
	l.ctr.in = 250;
	l.ctr.out = 30;
	write1(&l, 1, h + 600, &w);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(usage_compact(db, NOW, &cfg, &done), 0);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(done.raw_to_hour, 2);
	assert_false(row(0, h + 300, 3, &in, &out));
	assert_true(row(1, h, 3, &in, &out));
	assert_int_equal(in, 250);
	assert_int_equal(out, 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta),
		cmocka_unit_test_setup_teardown(test_baseline_deltas_and_resets_in_the_store,
						store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_network_rows_are_downsampled, store_setup,
						store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
