/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel binding's map of best routes per prefix (open addressing with
 * backward-shift deletion) against a plain array, through growth and
 * deletions that shift probe chains, 0.0.0.0/0 included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel_int.h"

#define KEYS 20000

static void test_map_against_reference(void **state)
{
	static uint64_t keys[KEYS];
	static bool present[KEYS];
	struct kroutes m = { 0 };
	uint64_t rng = 42;
	uint32_t n = 0;

	(void)state;
	/* Prefixes that collide a lot: few distinct addresses, every length. */
	for (uint32_t i = 0; i < KEYS; i++)
		keys[i] = KERN_KEY((i % 997) << 8, (uint8_t)(i % 33));
	for (uint32_t i = 1; i < KEYS; i++)
		for (uint32_t j = 0; j < i && keys[i]; j++)
			if (keys[j] == keys[i])
				keys[i] = 0; /* duplicates out */
	for (int round = 0; round < 200000; round++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t i = (uint32_t)(rng >> 33) % KEYS;
		if (keys[i] == 0)
			continue;
		if ((rng >> 20) % 3) {
			struct kroute *e = kern_map_get(&m, keys[i]);
			assert_non_null(e);
			assert_int_equal(e->key, keys[i]);
			if (!present[i]) {
				e->ifindex = (int)i;                 /* a value to find again */
				e->alt = calloc(1, sizeof(*e->alt)); /* freed with it */
				e->n_alt = 1;
				n++;
			}
			present[i] = true;
		} else if (present[i]) {
			kern_map_del(&m, kern_map_find(&m, keys[i]));
			present[i] = false;
			n--;
		}
		if (round % 20000 == 0) {
			assert_int_equal(m.n, n);
			for (uint32_t k = 0; k < KEYS; k++) {
				struct kroute *e = keys[k] ? kern_map_find(&m, keys[k]) : NULL;
				assert_int_equal(e != NULL, keys[k] && present[k]);
				if (e)
					assert_int_equal(e->ifindex, k);
			}
		}
	}
	/* The default route's key is not the free slot's. */
	assert_true(KERN_KEY(0, 0) != 0);
	assert_non_null(kern_map_get(&m, KERN_KEY(0, 0)));
	assert_non_null(kern_map_find(&m, KERN_KEY(0, 0)));
	kern_map_free(&m);
	assert_null(kern_map_find(&m, KERN_KEY(0, 0)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
