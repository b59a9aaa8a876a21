/* SPDX-License-Identifier: BSD-3-Clause */
/* The control thread's kick (kick.h): one eventfd write per wake-up, none lost. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kick.h"

/* The eventfd's counter, without taking the kick (the flag stays). */
static uint64_t fd_count(struct dp_kick *k)
{
	uint64_t n = 0;

	if (read(k->fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	assert_int_equal(write(k->fd, &n, sizeof(n)), sizeof(n)); /* put it back */
	return n;
}

/* The first kick writes; later ones do not until the control side clears; then again. */
static void writes_once_per_take(void **state)
{
	struct dp_kick k;

	(void)state;
	assert_int_equal(dp_kick_init(&k), 0);
	assert_int_equal(dp_kick_take(&k), 0); /* nothing yet: EAGAIN, not a block */
	dp_kick(&k);
	assert_int_equal(fd_count(&k), 1);
	for (int i = 0; i < 100; i++)
		dp_kick(&k);
	assert_int_equal(fd_count(&k), 1);
	assert_int_equal(k.writes, 1);
	assert_int_equal(dp_kick_take(&k), 1);
	assert_int_equal(fd_count(&k), 0);
	dp_kick(&k);
	dp_kick(&k);
	assert_int_equal(dp_kick_take(&k), 1);
	assert_int_equal(k.writes, 2);
	assert_int_equal(k.kicks, 3);
	dp_kick_fini(&k);
}

/* The tick's clear alone (a failed write left the flag set) lets the next kick write. */
static void clear_rearms(void **state)
{
	struct dp_kick k;

	(void)state;
	assert_int_equal(dp_kick_init(&k), 0);
	__atomic_store_n(&k.pending, 1, __ATOMIC_RELAXED); /* as after a failed write */
	dp_kick(&k);
	assert_int_equal(fd_count(&k), 0);
	dp_kick_clear(&k);
	dp_kick(&k);
	assert_int_equal(fd_count(&k), 1);
	dp_kick_fini(&k);
}

#define HANDOVERS 200000

static struct dp_kick race_kick;
static uint64_t handed; /* a ring's tail, in small */

static void *producer(void *arg)
{
	(void)arg;
	for (uint64_t i = 0; i < HANDOVERS; i++) {
		__atomic_store_n(&handed, i + 1, __ATOMIC_RELEASE);
		dp_kick(&race_kick);
	}
	return NULL;
}

/*
 * A worker hands over and kicks while the control side takes and drains:
 * every handover is seen after some wake-up, with no tick to fall back on
 * (a lost wake-up times the poll out), and at most one write per take.
 */
static void no_lost_wakeup(void **state)
{
	pthread_t t;
	uint64_t seen = 0;

	(void)state;
	assert_int_equal(dp_kick_init(&race_kick), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, NULL), 0);
	while (seen < HANDOVERS) {
		struct pollfd p = { .fd = race_kick.fd, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 5000), 1);
		dp_kick_take(&race_kick);
		seen = __atomic_load_n(&handed, __ATOMIC_ACQUIRE); /* the drain */
	}
	pthread_join(t, NULL);
	assert_true(race_kick.writes <= race_kick.kicks + 1); /* one write per clear */
	dp_kick_fini(&race_kick);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writes_once_per_take),
		cmocka_unit_test(clear_rearms),
		cmocka_unit_test(no_lost_wakeup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
