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
#include <jansson.h>
#include <sqlite3.h>

#include "unit_store.h"
#include "usage_hist.h"
#include "usage_net.h"

#define HOUR 3600
#define NOW  1796305215LL /* 2026-12-03 13:40:15 UTC */

static void test_delta(void **state)
{
	const struct usage_net_ctr last = { .pid = 10, .uptime = 3000, .in = 500, .out = 700 };
	struct usage_net_ctr now = last;
	uint64_t in, out;

	(void)state;
	/* Growth: the differences. */
	now.in = 1500;
	now.out = 750;
	now.uptime = 3300;
	assert_int_equal(usage_net_delta(&last, &now, &in, &out), 0);
	assert_int_equal(in, 1000);
	assert_int_equal(out, 50);
	/* The same uptime (two reads within a second): the same process. */
	now.uptime = 3000;
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
	now = (struct usage_net_ctr){ .pid = 11, .uptime = 5000, .in = 600, .out = 800 };
	assert_int_equal(usage_net_delta(&last, &now, &in, &out), 1);
	assert_int_equal(in, 600);
	assert_int_equal(out, 800);
	/* The same pid again (a container's pid 1) with a lower uptime: restarted. */
	now.pid = 10;
	now.uptime = 2999;
	assert_int_equal(usage_net_delta(&last, &now, &in, &out), 1);
	assert_int_equal(in, 600);
	/* Nothing moved. */
	assert_int_equal(usage_net_delta(&last, &last, &in, &out), 0);
	assert_int_equal(in + out, 0);
}

static void test_status_before_and_after(void **state)
{
	json_t *a = json_pack("{s:i, s:i}", "pid", 10, "uptime_sec", 300);
	json_t *b = json_pack("{s:i, s:i}", "pid", 10, "uptime_sec", 301);
	json_t *other = json_pack("{s:i, s:i}", "pid", 11, "uptime_sec", 0);
	json_t *again = json_pack("{s:i, s:i}", "pid", 10, "uptime_sec", 0);
	json_t *no_up = json_pack("{s:i}", "pid", 10);
	json_t *no_pid = json_pack("{s:s, s:i}", "pid", "10", "uptime_sec", 300);
	int64_t pid = 0, up = 0;

	(void)state;
	assert_int_equal(usage_net_proc(a, &pid, &up), 0);
	assert_int_equal(pid, 10);
	assert_int_equal(up, 300);
	assert_true(usage_net_same(a, a));
	assert_true(usage_net_same(a, b));
	/* A restart between the two: another pid, or the same one started again. */
	assert_false(usage_net_same(a, other));
	assert_false(usage_net_same(a, again));
	/* No integer pid or uptime: not a process to bill by. */
	assert_int_equal(usage_net_proc(no_up, &pid, &up), -1);
	assert_int_equal(usage_net_proc(no_pid, &pid, &up), -1);
	assert_false(usage_net_same(no_up, no_up));
	assert_false(usage_net_same(no_pid, no_pid));
	assert_false(usage_net_same(NULL, NULL));
	json_decref(a);
	json_decref(b);
	json_decref(other);
	json_decref(again);
	json_decref(no_up);
	json_decref(no_pid);
}

static struct usage_net_look look(const char *router, uint32_t tenant, int64_t pid, uint64_t in,
				  uint64_t out)
{
	struct usage_net_look l = { .tenant_id = tenant,
				    .ctr = { .pid = pid, .uptime = 1000, .in = in, .out = out } };

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

/* A pass where the routers named answered with the looks ls. */
static void write_answered(const char *const *routers, uint32_t n_routers,
			   const struct usage_net_look *ls, uint32_t n, int64_t t,
			   struct usage_net_written *w)
{
	assert_int_equal(usage_net_write(db, routers, n_routers, ls, n, t, w), 0);
}

/* A pass where the routers of ls answered. */
static void write1(const struct usage_net_look *ls, uint32_t n, int64_t t,
		   struct usage_net_written *w)
{
	const char *routers[8];
	uint32_t nr = 0, j;

	for (uint32_t i = 0; i < n; i++) {
		for (j = 0; j < nr && strcmp(routers[j], ls[i].router) != 0; j++)
			;
		if (j == nr && nr < 8)
			routers[nr++] = ls[i].router;
	}
	write_answered(routers, nr, ls, n, t, w);
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

static void test_new_and_gone_pairs(void **state)
{
	const char *pe1[] = { "pe1" };
	struct usage_net_written w;
	int64_t in, out;

	(void)state;
	/* A router first seen: a baseline (what it counted before is not this interval's). */
	struct usage_net_look a[] = { look("pe1", 1, 10, 100, 100), look("pe1", 2, 10, 30, 40) };
	write1(a, 1, NOW - 900, &w);
	assert_int_equal(w.rows, 0);
	/* A tenant new on that known router: its group was just made, at 0, so all of it is
	 * this interval's. */
	a[0].ctr.in = 150;
	write1(a, 2, NOW - 600, &w);
	assert_int_equal(w.rows, 2);
	assert_int_equal(w.resets, 0);
	assert_true(row(0, NOW - 600, 1, &in, &out));
	assert_int_equal(in, 50);
	assert_int_equal(out, 0);
	assert_true(row(0, NOW - 600, 2, &in, &out));
	assert_int_equal(in, 30);
	assert_int_equal(out, 40);
	/* Tenant 1's group gone from the answer, then made again: counted whole from its new
	 * 0, not against its old last seen (150 < 500 is no reset to see). */
	write1(&a[1], 1, NOW - 300, &w);
	assert_int_equal(w.rows, 0);
	a[0].ctr.in = 500;
	a[0].ctr.out = 600;
	write1(a, 1, NOW, &w);
	assert_true(row(0, NOW, 1, &in, &out));
	assert_int_equal(in, 500);
	assert_int_equal(out, 600);
	/* An answer with none of its tenants (a restarted PE not given them yet) keeps the
	 * router known: the tenant back later is counted whole. */
	write_answered(pe1, 1, NULL, 0, NOW + 300, &w);
	struct usage_net_look b = look("pe1", 2, 11, 7, 9);
	write1(&b, 1, NOW + 600, &w);
	assert_true(row(0, NOW + 600, 2, &in, &out));
	assert_int_equal(in, 7);
	assert_int_equal(out, 9);
}

static void test_old_last_seen_table_is_dropped(void **state)
{
	char err[256];
	struct usage_net_written w;
	struct usage_net_look l = look("pe1", 1, 10, 5000, 5000);
	int64_t in, out;

	(void)state;
	/* The first layout (a wall-clock start and read time): its rows cannot be compared to
	 * an uptime, so the store opens without them and the next pass is a baseline. */
	assert_int_equal(
		sqlite3_exec(db,
			     "DROP TABLE usage_net_last; CREATE TABLE usage_net_last ("
			     "router TEXT NOT NULL, tenant_id INTEGER NOT NULL, pid INTEGER "
			     "NOT NULL, started INTEGER NOT NULL, seen INTEGER NOT NULL, "
			     "bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, PRIMARY "
			     "KEY (router, tenant_id)); INSERT INTO usage_net_last VALUES "
			     "('pe1', 1, 10, 1796300000, 1796305000, 10, 10)",
			     NULL, NULL, NULL),
		SQLITE_OK);
	mgr_store_close();
	assert_int_equal(mgr_store_open(store_path, err, sizeof(err)), 0);
	write1(&l, 1, NOW, &w);
	assert_int_equal(w.rows, 0);
	assert_false(row(0, NOW, 1, &in, &out));
	l.ctr.in = 5100;
	write1(&l, 1, NOW + 300, &w);
	assert_true(row(0, NOW + 300, 1, &in, &out));
	assert_int_equal(in, 100);
	assert_int_equal(out, 0);
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
	/* Outside a transaction: the compaction takes one write transaction per bucket. */
	assert_int_equal(usage_compact(db, NOW, &cfg, &done), 0);
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
		cmocka_unit_test(test_status_before_and_after),
		cmocka_unit_test_setup_teardown(test_baseline_deltas_and_resets_in_the_store,
						store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_new_and_gone_pairs, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_old_last_seen_table_is_dropped, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_network_rows_are_downsampled, store_setup,
						store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
