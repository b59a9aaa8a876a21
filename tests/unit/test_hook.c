/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Burst hooks of several modules (hook.h): each runs only on the objects its
 * module marked, in rank order, on what the ones before kept; the masks of
 * what they dropped come back in the caller's positions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "hook.h"

#define MAX_SEEN 64

/* What a test hook saw: its calls (in order, across hooks) and the packets of each call. */
static const char *calls[8];
static unsigned n_calls;
static uintptr_t seen[2][MAX_SEEN];
static uint16_t n_seen[2];

/* Packets are tokens here (never dereferenced): 1..n as pointers. */
static struct rte_mbuf *tok(uintptr_t i)
{
	return (struct rte_mbuf *)i;
}

/* Drops the packets whose token is even. */
static uint32_t hook_even(struct dp_worker *w, const struct dp_snapshot *s, unsigned kind,
			  unsigned dir, uint16_t id, uint16_t port, struct rte_mbuf **pkts,
			  uint16_t n, uint64_t now)
{
	uint32_t gone = 0;

	(void)w, (void)s, (void)kind, (void)dir, (void)id, (void)port, (void)now;
	calls[n_calls++] = "even";
	for (uint16_t i = 0; i < n; i++) {
		seen[0][n_seen[0]++] = (uintptr_t)pkts[i];
		if ((uintptr_t)pkts[i] % 2 == 0)
			gone |= UINT32_C(1) << i;
	}
	return gone;
}

/* Drops its first packet. */
static uint32_t hook_first(struct dp_worker *w, const struct dp_snapshot *s, unsigned kind,
			   unsigned dir, uint16_t id, uint16_t port, struct rte_mbuf **pkts,
			   uint16_t n, uint64_t now)
{
	(void)w, (void)s, (void)kind, (void)dir, (void)id, (void)port, (void)now;
	calls[n_calls++] = "first";
	for (uint16_t i = 0; i < n; i++)
		seen[1][n_seen[1]++] = (uintptr_t)pkts[i];
	return n ? 1 : 0;
}

/* Registered in this order; ranks make "even" (10) run before "first" (900). */
static struct dp_hook h_first = { .name = "first", .rank = 900, .fn = hook_first };
static struct dp_hook h_even = { .name = "even", .rank = 10, .fn = hook_even };
DP_HOOK_REGISTER(h_first)
DP_HOOK_REGISTER(h_even)

static void reset_seen(void)
{
	n_calls = 0;
	n_seen[0] = n_seen[1] = 0;
}

static void in_rank_order_on_what_is_kept(void **state)
{
	struct dp_snapshot *s = calloc(1, sizeof(*s));
	struct rte_mbuf *pkts[6];
	uint32_t gone;

	(void)state;
	assert_non_null(s);
	for (uintptr_t i = 0; i < 6; i++)
		pkts[i] = tok(i + 1);
	dp_hook_mark(s, &h_first, DP_HOOK_GROUP, DP_HOOK_IN, 100);
	dp_hook_mark(s, &h_even, DP_HOOK_GROUP, DP_HOOK_IN, 100);
	dp_hook_mark(s, &h_first, DP_HOOK_GROUP, DP_HOOK_IN, 200);
	assert_true(dp_hook_any(s, DP_HOOK_GROUP, DP_HOOK_IN));
	assert_false(dp_hook_any(s, DP_HOOK_GROUP, DP_HOOK_OUT));
	assert_true(dp_hook_on(s, DP_HOOK_GROUP, DP_HOOK_IN, 200));

	/* Both: "even" drops 2, 4, 6; "first" sees 1, 3, 5 and drops 1. */
	reset_seen();
	gone = dp_hook_run(NULL, s, DP_HOOK_GROUP, DP_HOOK_IN, 100, 0, pkts, 6, 0);
	assert_int_equal(gone, 0x2b); /* positions 0 (1), 1 (2), 3 (4), 5 (6) */
	assert_int_equal(n_calls, 2);
	assert_string_equal(calls[0], "even");
	assert_string_equal(calls[1], "first");
	assert_int_equal(n_seen[0], 6);
	assert_int_equal(n_seen[1], 3);
	assert_int_equal(seen[1][0], 1);
	assert_int_equal(seen[1][1], 3);
	assert_int_equal(seen[1][2], 5);

	/* Only "first" on 200: all six, its first dropped. */
	reset_seen();
	gone = dp_hook_run(NULL, s, DP_HOOK_GROUP, DP_HOOK_IN, 200, 0, pkts, 6, 0);
	assert_int_equal(gone, 1);
	assert_int_equal(n_calls, 1);
	assert_string_equal(calls[0], "first");

	/* Nothing on 300, nor on 100 the other way: no call. */
	reset_seen();
	assert_int_equal(dp_hook_run(NULL, s, DP_HOOK_GROUP, DP_HOOK_IN, 300, 0, pkts, 6, 0), 0);
	assert_int_equal(dp_hook_run(NULL, s, DP_HOOK_GROUP, DP_HOOK_OUT, 100, 0, pkts, 6, 0), 0);
	assert_int_equal(n_calls, 0);

	/* Runs of objects: 100, 100, 200, 200 -> "even" on the first run only. */
	uint16_t ids[4] = { 100, 100, 200, 200 };
	reset_seen();
	gone = dp_hook_runs(NULL, s, DP_HOOK_GROUP, DP_HOOK_IN, ids, 0, pkts, 4, 0);
	/* run 1 (1, 2): even drops 2, first drops 1; run 2 (3, 4): first drops 3. */
	assert_int_equal(gone, 0x7);
	free(s);
}

/* All of a burst dropped by the first: the next one is not called. */
static void none_left_no_call(void **state)
{
	struct dp_snapshot *s = calloc(1, sizeof(*s));
	struct rte_mbuf *pkts[2] = { tok(2), tok(4) };

	(void)state;
	assert_non_null(s);
	dp_hook_mark(s, &h_first, DP_HOOK_PORT, DP_HOOK_OUT, 7);
	dp_hook_mark(s, &h_even, DP_HOOK_PORT, DP_HOOK_OUT, 7);
	reset_seen();
	assert_int_equal(dp_hook_run(NULL, s, DP_HOOK_PORT, DP_HOOK_OUT, 7, 7, pkts, 2, 0), 3);
	assert_int_equal(n_calls, 1);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_rank_order_on_what_is_kept),
		cmocka_unit_test(none_left_no_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
