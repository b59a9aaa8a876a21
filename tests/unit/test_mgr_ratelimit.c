/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's failed-login counters (ratelimit.h): the limit within a window,
 * the eviction rule (a key still counting failures is never pushed out; a
 * new key with no room is refused), and SipHash-2-4 against its reference.
 * A table of MGR_RL_WAYS slots puts every key in the same slots, so the
 * tests need no crafted collisions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

#define WIN 60

static void test_siphash_vectors(void **state)
{
	uint8_t key[16], msg[15];
	uint64_t k0 = 0, k1 = 0;

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	for (int i = 7; i >= 0; i--) {
		k0 = (k0 << 8) | key[i];
		k1 = (k1 << 8) | key[8 + i];
	}
	/* The reference implementation's vectors (siphash/vectors.h). */
	assert_true(mgr_siphash(k0, k1, msg, 0) == 0x726fdb47dd0e0e31ull);
	assert_true(mgr_siphash(k0, k1, msg, 8) == 0x93f5f5799a932462ull);
	assert_true(mgr_siphash(k0, k1, msg, 15) == 0xa129ca6149be45e5ull);
}

static void test_limit_and_window(void **state)
{
	struct mgr_rl t;

	(void)state;
	assert_int_equal(mgr_rl_init(&t, 2048), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mgr_rl_take(&t, "u:acme/alice", 1000 + i, WIN, 3), 0);
	}
	/* Attempts count when taken: the 4th is refused, however many are in flight. */
	assert_int_equal(mgr_rl_take(&t, "u:acme/alice", 1010, WIN, 3), WIN - 10);
	assert_int_equal(mgr_rl_take(&t, "u:acme/alice", 1010, WIN, 3), WIN - 10);
	assert_int_equal(mgr_rl_take(&t, "u:acme/bob", 1010, WIN, 3), 0);
	/* An undone attempt (a success) frees its place; the window's end forgives. */
	mgr_rl_undo(&t, "u:acme/alice", 1011, WIN);
	assert_int_equal(mgr_rl_take(&t, "u:acme/alice", 1011, WIN, 3), 0);
	assert_int_equal(mgr_rl_take(&t, "u:acme/alice", 1011, WIN, 3), WIN - 11);
	assert_int_equal(mgr_rl_take(&t, "u:acme/alice", 1000 + WIN, WIN, 3), 0);
	/* A clear (a user's success) forgives its failures. */
	assert_int_equal(mgr_rl_take(&t, "u:acme/bob", 1012, WIN, 3), 0);
	mgr_rl_clear(&t, "u:acme/bob", 1012, WIN);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mgr_rl_take(&t, "u:acme/bob", 1012, WIN, 3), 0);
	mgr_rl_fini(&t);
}

static void test_live_key_never_evicted(void **state)
{
	struct mgr_rl t;
	char key[32];

	(void)state;
	assert_int_equal(mgr_rl_init(&t, MGR_RL_WAYS), 0);
	/* The victim's count is at its limit ... */
	for (int i = 0; i < 3; i++)
		assert_int_equal(mgr_rl_take(&t, "u:acme/victim", 1000, WIN, 3), 0);
	/* ... and fake names fill every other slot with live counts. */
	for (int i = 0; i < MGR_RL_WAYS - 1; i++) {
		snprintf(key, sizeof(key), "u:acme/fake%d", i);
		assert_int_equal(mgr_rl_take(&t, key, 1001 + i, WIN, 3), 0);
	}
	/* A new key finds no room: refused, and the victim's count stays. */
	assert_int_equal(mgr_rl_take(&t, "u:acme/more", 1010, WIN, 3), WIN);
	assert_int_equal(mgr_rl_take(&t, "u:acme/victim", 1010, WIN, 3), WIN - 10);
	/* A slot whose key has no failures left is free to take. */
	mgr_rl_clear(&t, "u:acme/fake3", 1011, WIN);
	assert_int_equal(mgr_rl_take(&t, "u:acme/more", 1011, WIN, 3), 0);
	assert_int_equal(mgr_rl_take(&t, "u:acme/victim", 1011, WIN, 3), WIN - 11);
	/* Once the victim's window is over its slot may go. */
	assert_int_equal(mgr_rl_take(&t, "u:acme/later", 1000 + WIN, WIN, 3), 0);
	mgr_rl_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_limit_and_window),
		cmocka_unit_test(test_live_key_never_evicted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
