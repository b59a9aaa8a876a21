/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lock-free table under the FDB and the neighbours (lf_table.h): chains
 * that share a bucket, exact capacity, reuse only after a grace period, and
 * a reader racing the writer never finding a wrong or half-made element.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lf_table.h"
#include "rcu.h"
#include "unit_assert.h"
#include "unit_eal.h"

struct item {
	uint64_t key; /* the key it was inserted under: a reader checks it */
	uint64_t filled;
};

#define FILLED 0xf111edf111edULL

static int eal_setup(void **state)
{
	(void)state;
	return unit_eal_init("lf_table", 64, NULL);
}

static int eal_teardown(void **state)
{
	(void)state;
	return unit_eal_cleanup();
}

/*
 * One table, not on a test's stack: a test that fails leaves releases
 * deferred, which the teardown runs.
 */
static struct lf_table tab;

/* Each test its own RCU, so that one failing (reader still online) fails alone. */
static int rcu_setup(void **state)
{
	(void)state;
	return dp_rcu_init(1);
}

static int rcu_teardown(void **state)
{
	(void)state;
	dp_rcu_offline(0); /* if a failed test left it online */
	dp_rcu_fini();
	return 0;
}

static struct item *put(struct lf_table *t, uint64_t key)
{
	struct item *e = lf_reserve(t);

	if (e == NULL)
		return NULL;
	e->key = key;
	e->filled = FILLED;
	return lf_insert(t, key, e) == 0 ? e : NULL;
}

/* n keys (from *next on) that all hash to bucket b. */
static void same_bucket(const struct lf_table *t, uint32_t b, uint64_t *keys, unsigned n,
			uint64_t *next)
{
	for (unsigned i = 0; i < n; (*next)++)
		if (lf_bucket(t, *next) == b)
			keys[i++] = *next;
}

static void test_chains_share_a_bucket(void **state)
{
	uint64_t k[6], next = 1, other;
	struct item *e[6];
	void *out[8];

	(void)state;
	assert_int_equal(lf_init(&tab, "t1", 64, sizeof(struct item), 0), 0);
	same_bucket(&tab, 5, k, 6, &next);
	for (other = next; lf_bucket(&tab, other) == 5; other++)
		;
	for (unsigned i = 0; i < 6; i++)
		assert_non_null(e[i] = put(&tab, k[i]));
	assert_non_null(put(&tab, other));
	for (unsigned i = 0; i < 6; i++)
		assert_ptr_equal(lf_find(&tab, k[i]), e[i]);

	/* The head (last in), one in the middle and the tail (first in) go. */
	lf_remove(&tab, k[5], e[5]);
	lf_remove(&tab, k[2], e[2]);
	lf_remove(&tab, k[0], e[0]);
	assert_int_equal(tab.n_live, 4);
	for (unsigned i = 0; i < 6; i++)
		assert_ptr_equal(lf_find(&tab, k[i]), (i == 0 || i == 2 || i == 5) ? NULL : e[i]);
	/* Walks stop after the 7 elements ever used: the live ones are below. */
	assert_int_equal(tab.span, 7);
	for (unsigned i = 0; i < 6; i++)
		assert_true((uint8_t *)e[i] < (uint8_t *)lf_elt(&tab, tab.span));

	/* Bulk and one by one agree, absent keys included. */
	uint64_t keys[8] = { k[0], k[1], k[2], k[3], k[4], k[5], other, next + 1000 };
	lf_find_bulk(&tab, keys, 8, out);
	for (unsigned i = 0; i < 8; i++)
		assert_ptr_equal(out[i], lf_find(&tab, keys[i]));
	assert_null(out[7]);

	/* A duplicate is refused and changes nothing. */
	struct item *d = lf_reserve(&tab);
	assert_non_null(d);
	assert_int_equal(lf_insert(&tab, k[1], d), -EEXIST);
	assert_int_equal(tab.n_live, 4);
	assert_ptr_equal(lf_find(&tab, k[1]), e[1]);
	/* An element that lf_reserve did not give is refused. */
	assert_int_equal(lf_insert(&tab, k[0], e[3]), -EINVAL);
	assert_null(lf_find(&tab, k[0]));
	/* Removing an element under the wrong key leaves the table as it was. */
	lf_remove(&tab, other, e[1]);
	assert_int_equal(tab.n_live, 4);
	assert_ptr_equal(lf_find(&tab, k[1]), e[1]);
	lf_fini(&tab);
}

/*
 * Keys that share a bucket in one table are spread in the next: the
 * multiplier is each table's own, so chains cannot be aimed at.
 */
static void test_buckets_are_not_predictable(void **state)
{
	uint64_t k[8], next = 1;
	uint32_t b0, spread = 0;

	(void)state;
	assert_int_equal(lf_init(&tab, "t5", 64, sizeof(struct item), 0), 0);
	same_bucket(&tab, 0, k, 8, &next);
	lf_fini(&tab);
	assert_int_equal(lf_init(&tab, "t6", 64, sizeof(struct item), 0), 0);
	b0 = lf_bucket(&tab, k[0]);
	for (unsigned i = 1; i < 8; i++)
		spread += lf_bucket(&tab, k[i]) != b0;
	assert_true(spread > 0);
	/* Sequential keys (MACs of one vendor, one VLAN) spread over the buckets too. */
	uint32_t used[64] = { 0 }, n_used = 0;
	for (uint64_t m = 0; m < 64; m++)
		n_used += used[lf_bucket(&tab, (UINT64_C(100) << 48) | 0x5254000000 | m)]++ == 0;
	assert_true(n_used >= 24); /* at random: 40 on average, below 24 about never */
	lf_fini(&tab);
}

/* A reader standing on an element when it is removed still reaches the rest of its chain. */
static void test_removed_element_keeps_its_link(void **state)
{
	uint64_t k[3], next = 1;
	struct item *e[3];
	uint32_t at;

	(void)state;
	dp_rcu_online(0);
	assert_int_equal(lf_init(&tab, "t2", 16, sizeof(struct item), 0), 0);
	same_bucket(&tab, 3, k, 3, &next);
	for (unsigned i = 0; i < 3; i++)
		assert_non_null(e[i] = put(&tab, k[i]));
	at = tab.bucket[3]; /* k[2]'s, then k[1]'s, then k[0]'s */
	at = lf_hdr(&tab, at)->next;
	assert_ptr_equal(lf_elt(&tab, at), e[1]);
	lf_remove(&tab, k[1], e[1]);
	assert_null(lf_find(&tab, k[1]));
	assert_ptr_equal(lf_chain_find(&tab, at, k[0]), e[0]);
	/* Not reused while the reader may hold it. */
	assert_int_equal(dp_rcu_reclaim(), 0);
	assert_int_equal(tab.n_free, 16 - 3);
	dp_rcu_quiescent(0);
	assert_int_equal(dp_rcu_reclaim(), 1);
	assert_int_equal(tab.n_free, 16 - 2);
	dp_rcu_offline(0);
	lf_fini(&tab);
}

/* cap elements fit, never one more; a removed one is free again after the grace period. */
static void test_capacity_is_exact(void **state)
{
	const uint32_t cap = 1000; /* 1024 buckets */
	struct item *last = NULL;

	(void)state;
	dp_rcu_online(0);
	assert_int_equal(lf_init(&tab, "t3", cap, sizeof(struct item), 0), 0);
	for (uint64_t i = 0; i < cap; i++)
		assert_non_null(last = put(&tab, i * 0x9e3779b97f4a7c15ULL));
	assert_int_equal(tab.n_live, cap);
	assert_null(lf_reserve(&tab));
	for (uint64_t i = 0; i < cap; i++) {
		struct item *e = lf_find(&tab, i * 0x9e3779b97f4a7c15ULL);
		assert_non_null(e);
		assert_int_equal(e->key, i * 0x9e3779b97f4a7c15ULL);
	}
	lf_remove(&tab, last->key, last);
	assert_null(lf_reserve(&tab));
	dp_rcu_quiescent(0);
	dp_rcu_reclaim();
	assert_non_null(put(&tab, 42));
	assert_int_equal(tab.n_live, cap);
	assert_int_equal(tab.span, cap);
	dp_rcu_offline(0);
	lf_fini(&tab);
	assert_int_equal(lf_init(&tab, "t4", 0, sizeof(struct item), 0), -EINVAL);
}

/*
 * The writer inserts and removes keys that share buckets with keys that
 * stay, as fast as it can, while a reader looks all of them up (bulk and
 * one by one): the staying keys are always found, and whatever is found
 * is filled and is the element of the key asked for.
 */
#define STAY  64
#define CHURN 64

static uint64_t stay_key[STAY], churn_key[CHURN];
static volatile bool stop;
static volatile unsigned long lookups, missing, wrong;

/* What a reader holds must stay what it found until its next quiescent state. */
static void check(void *const *out, const uint64_t *keys, unsigned n, bool all_there)
{
	for (unsigned i = 0; i < n; i++) {
		const struct item *e = out[i];
		if (e == NULL)
			missing += all_there;
		else if (e->key != keys[i] || e->filled != FILLED)
			wrong++;
	}
}

static void *reader(void *arg)
{
	void *stay[LF_BULK_MAX], *churn[LF_BULK_MAX], *one[CHURN];

	(void)arg;
	dp_rcu_online(0);
	while (!stop) {
		lf_find_bulk(&tab, churn_key, CHURN, churn);
		for (unsigned i = 0; i < CHURN; i++)
			one[i] = lf_find(&tab, churn_key[i]);
		lf_find_bulk(&tab, stay_key, STAY, stay);
		/* Checked after all the lookups: the writer has had time to remove and reuse. */
		check(churn, churn_key, CHURN, false);
		check(one, churn_key, CHURN, false);
		check(stay, stay_key, STAY, true);
		lookups++;
		dp_rcu_quiescent(0);
	}
	dp_rcu_offline(0);
	return NULL;
}

static void test_reader_races_writer(void **state)
{
	struct item *live[CHURN] = { 0 };
	uint64_t next = 1;
	pthread_t th;

	(void)state;
	/* 128 buckets for 96 elements: each of 16 buckets holds 4 staying and 4 churning keys. */
	assert_int_equal(lf_init(&tab, "race", 96, sizeof(struct item), 0), 0);
	for (uint32_t b = 0; b < 16; b++) {
		same_bucket(&tab, b * 8, &stay_key[b * 4], 4, &next);
		same_bucket(&tab, b * 8, &churn_key[b * 4], 4, &next);
	}
	for (unsigned i = 0; i < STAY; i++)
		assert_non_null(put(&tab, stay_key[i]));
	stop = false;
	lookups = missing = wrong = 0;
	assert_int_equal(pthread_create(&th, NULL, reader, NULL), 0);
	while (lookups == 0)
		usleep(100);
	for (unsigned round = 0; round < 1000000; round++) {
		unsigned i = (round * 7) % CHURN;

		if (live[i]) {
			lf_remove(&tab, churn_key[i], live[i]);
			live[i] = NULL;
		} else {
			live[i] = put(&tab, churn_key[i]); /* NULL while all wait for reuse */
		}
		if (round % 64 == 0)
			dp_rcu_reclaim();
	}
	stop = true;
	pthread_join(th, NULL);
	assert_int_equal(missing, 0);
	assert_int_equal(wrong, 0);
	assert_true(lookups > 0);
	lf_fini(&tab);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chains_share_a_bucket, rcu_setup,
						rcu_teardown),
		cmocka_unit_test_setup_teardown(test_buckets_are_not_predictable, rcu_setup,
						rcu_teardown),
		cmocka_unit_test_setup_teardown(test_removed_element_keeps_its_link, rcu_setup,
						rcu_teardown),
		cmocka_unit_test_setup_teardown(test_capacity_is_exact, rcu_setup, rcu_teardown),
		cmocka_unit_test_setup_teardown(test_reader_races_writer, rcu_setup, rcu_teardown),
	};
	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
