/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one pseudo-random source of the C tests and benchmarks: xorshift64
 * (Marsaglia), fixed seeds, so that a failing run replays with the same data.
 * Each file has its own state; the including file may pick its seed by
 * defining TEST_RAND_SEED first.
 */
#ifndef TESS_TEST_RAND_H
#define TESS_TEST_RAND_H

#include <stdint.h>

#ifndef TEST_RAND_SEED
#define TEST_RAND_SEED 0x9e3779b97f4a7c15ull
#endif

static uint64_t test_rand_state = TEST_RAND_SEED;

/* 32 pseudo-random bits: the middle of the state (its low bits are the weakest). */
static inline uint32_t rnd(void)
{
	test_rand_state ^= test_rand_state << 13;
	test_rand_state ^= test_rand_state >> 7;
	test_rand_state ^= test_rand_state << 17;
	return (uint32_t)(test_rand_state >> 16);
}

#endif
