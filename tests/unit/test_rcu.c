/* SPDX-License-Identifier: BSD-3-Clause */
/* The RCU helper: frees wait for every online reader, and never come early under load. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>

#include "rcu.h"
#include "unit_eal.h"

#define ALIVE 0xA11FEu
#define DEAD  0xDEADu

struct obj {
	volatile unsigned magic;
};

static unsigned freed;

static void count_free(void *arg)
{
	(*(unsigned *)arg)++;
}

static void poison_free(void *arg)
{
	struct obj *o = arg;

	o->magic = DEAD;
	free(o);
	freed++;
}

static int eal_setup(void **state)
{
	(void)state;
	return unit_eal_init("rcu", 64, NULL);
}

static int eal_teardown(void **state)
{
	(void)state;
	return unit_eal_cleanup();
}

static void test_waits_for_every_reader(void **state)
{
	unsigned n = 0;

	(void)state;
	assert_int_equal(dp_rcu_init(2), 0);
	dp_rcu_online(0);
	dp_rcu_online(1);
	dp_rcu_defer(count_free, &n);
	assert_int_equal(dp_rcu_pending(), 1);
	assert_int_equal(dp_rcu_reclaim(), 0);
	dp_rcu_quiescent(0);
	assert_int_equal(dp_rcu_reclaim(), 0);
	assert_int_equal(n, 0);
	dp_rcu_quiescent(1);
	assert_int_equal(dp_rcu_reclaim(), 1);
	assert_int_equal(n, 1);
	assert_int_equal(dp_rcu_pending(), 0);

	/* An offline reader holds nothing and delays nothing. */
	dp_rcu_offline(1);
	dp_rcu_defer(count_free, &n);
	dp_rcu_quiescent(0);
	assert_int_equal(dp_rcu_reclaim(), 1);
	assert_int_equal(n, 2);

	/* Something deferred after the last quiescent state waits for the next one. */
	dp_rcu_defer(count_free, &n);
	assert_int_equal(dp_rcu_reclaim(), 0);
	dp_rcu_offline(0);
	dp_rcu_fini();
	assert_int_equal(n, 3); /* fini runs what is left once readers are gone */
}

static struct obj *shared;
static volatile bool stop;
static volatile unsigned bad_reads;
static volatile unsigned long reads;

static void *reader(void *arg)
{
	(void)arg;
	dp_rcu_online(0);
	while (!stop) {
		struct obj *o = __atomic_load_n(&shared, __ATOMIC_ACQUIRE);
		for (int i = 0; i < 16; i++)
			if (o->magic != ALIVE)
				bad_reads++;
		reads++;
		dp_rcu_quiescent(0);
	}
	dp_rcu_offline(0);
	return NULL;
}

static struct obj *new_obj(void)
{
	struct obj *o = malloc(sizeof(*o));

	assert_non_null(o);
	o->magic = ALIVE;
	return o;
}

/* Many more replacements than the defer queue holds, with a reader racing. */
static void test_no_early_free_under_load(void **state)
{
	const unsigned n = 20000;
	pthread_t t;

	(void)state;
	assert_int_equal(dp_rcu_init(1), 0);
	freed = 0;
	stop = false;
	shared = new_obj();
	reads = 0;
	assert_int_equal(pthread_create(&t, NULL, reader, NULL), 0);
	while (reads == 0) /* the reader is online and reading */
		usleep(100);
	for (unsigned i = 0; i < n; i++) {
		struct obj *old = __atomic_exchange_n(&shared, new_obj(), __ATOMIC_ACQ_REL);
		dp_rcu_defer(poison_free, old);
		if (i % 1000 == 0)
			dp_rcu_reclaim();
	}
	stop = true;
	pthread_join(t, NULL);
	dp_rcu_fini();
	assert_int_equal(bad_reads, 0);
	assert_int_equal(freed, n);
	assert_true(reads > 1);
	free(shared);
}

static volatile int phase;

static void *slow_reader(void *arg)
{
	(void)arg;
	dp_rcu_online(0);
	phase = 1; /* inside a read section */
	usleep(100 * 1000);
	phase = 2;
	dp_rcu_quiescent(0);
	while (phase != 3)
		usleep(1000);
	dp_rcu_offline(0);
	return NULL;
}

static void test_synchronize_waits(void **state)
{
	pthread_t t;

	(void)state;
	assert_int_equal(dp_rcu_init(1), 0);
	phase = 0;
	assert_int_equal(pthread_create(&t, NULL, slow_reader, NULL), 0);
	while (phase != 1)
		usleep(1000);
	dp_rcu_synchronize();
	assert_int_equal(phase, 2);
	phase = 3;
	pthread_join(t, NULL);
	dp_rcu_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_waits_for_every_reader),
		cmocka_unit_test(test_no_early_free_under_load),
		cmocka_unit_test(test_synchronize_waits),
	};
	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
